package csv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/throughline/throughline/ingest"
)

// exportTestZone is the exporting user's zone in the hand-written tests.
var exportTestZone = time.FixedZone("UTC+2", 2*3600)

// exportAt is a wall-clock time "2006-01-02 15:04" in exportTestZone.
func exportAt(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, exportTestZone)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// exportDay is a calendar date at midnight UTC.
func exportDay(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse("2006-01-02", s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func exportF64(f float64) *float64 { return &f }
func exportI64(n int64) *int64     { return &n }

// exportPick keeps only the named fields of b, so a case states exactly
// what it checks.
func exportPick(t testing.TB, b ingest.Batch, fields []string) ingest.Batch {
	t.Helper()
	var out ingest.Batch
	for _, f := range fields {
		switch f {
		case "Projects":
			out.Projects = b.Projects
		case "Items":
			out.Items = b.Items
		case "Transitions":
			out.Transitions = b.Transitions
		case "People":
			out.People = b.People
		case "Worklogs":
			out.Worklogs = b.Worklogs
		case "Milestones":
			out.Milestones = b.Milestones
		case "Problems":
			out.Problems = b.Problems
		case "Raw":
			out.Raw = b.Raw
		default:
			t.Fatalf("unknown batch field %q", f)
		}
	}
	return out
}

var exportAllFields = []string{"Projects", "Items", "Transitions", "People", "Worklogs", "Milestones", "Problems", "Raw"}

// checkExportBatch asserts what must hold for any input: every Problem is
// located, every item has a key and a creation time, keys are unique, and
// each item's history starts with its creation and never goes back in time.
func checkExportBatch(t *testing.T, b ingest.Batch) {
	t.Helper()
	for _, p := range b.Problems {
		if p.File == "" || p.Line <= 0 {
			t.Errorf("problem without file or line: %+v", p)
		}
	}
	keys := map[string]bool{}
	for _, it := range b.Items {
		if it.Key == "" || it.CreatedAt.IsZero() {
			t.Errorf("item without key or creation time: %+v", it)
		}
		if keys[it.Key] {
			t.Errorf("duplicate item key %q", it.Key)
		}
		keys[it.Key] = true
	}
	hist := map[string][]ingest.Transition{}
	for _, tr := range b.Transitions {
		if !keys[tr.ItemKey] {
			t.Errorf("transition of unknown item: %+v", tr)
		}
		hist[tr.ItemKey] = append(hist[tr.ItemKey], tr)
	}
	for _, it := range b.Items {
		h := hist[it.Key]
		if len(h) == 0 {
			t.Errorf("item %q has no history", it.Key)
			continue
		}
		if h[0].From != "" {
			t.Errorf("item %q history starts with %+v, want a creation (From empty)", it.Key, h[0])
		}
		for i := 1; i < len(h); i++ {
			if h[i].At.Before(h[i-1].At) {
				t.Errorf("item %q history goes back in time: %v then %v", it.Key, h[i-1].At, h[i].At)
			}
		}
	}
	ids := map[string]bool{}
	for _, w := range b.Worklogs {
		if !keys[w.ItemKey] {
			t.Errorf("worklog of unknown item: %+v", w)
		}
		if ids[w.ID] {
			t.Errorf("duplicate worklog id %q", w.ID)
		}
		ids[w.ID] = true
	}
	if len(b.Raw) != len(b.Items) {
		t.Errorf("%d raw payloads for %d items", len(b.Raw), len(b.Items))
	}
	for _, r := range b.Raw {
		if !json.Valid(r.Payload) {
			t.Errorf("raw payload of %q is not JSON", r.ExternalID)
		}
	}
}

func TestJiraExportCloudAllFields(t *testing.T) {
	const file = "testdata/jira-export/cloud-all-fields.csv"
	edt := time.FixedZone("EDT", -4*3600)
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, edt)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := parseJiraExport(file, f, parseOptions{Location: edt})
	if err != nil {
		t.Fatal(err)
	}
	checkExportBatch(t, b)

	const (
		eric      = "5db9d8eb4ff1890d31036b89"
		saicharan = "5fe07a7dd3649601392ba191"
		sai       = "712020:b0892835-64bc-4809-afd1-cc09a3ffc20e"
	)
	// Every status and category, checked by hand against the file.
	type state struct{ Status, Category string }
	wantStates := map[string]state{
		"TES-25": {"To Do", "new"}, "TES-24": {"In Progress", "indeterminate"},
		"TES-23": {"To Do", "new"}, "TES-22": {"To Do", "new"}, "TES-21": {"To Do", "new"},
		"TES-20": {"To Do", "new"}, "TES-19": {"Done", "done"}, "TES-18": {"To Do", "new"},
		"TES-17": {"To Do", "new"}, "TES-16": {"To Do", "new"},
		"TES-15": {"In Progress", "indeterminate"}, "TES-14": {"To Do", "new"},
		"TES-13": {"Done", "done"}, "TES-12": {"Done", "done"}, "TES-11": {"Done", "done"},
		"TES-10": {"Done", "done"}, "TES-9": {"Done", "done"}, "TES-8": {"Done", "done"},
		"TES-7": {"In Progress", "indeterminate"}, "TES-6": {"Done", "done"},
		"TES-5": {"Done", "done"}, "TES-4": {"Done", "done"},
	}
	gotStates := map[string]state{}
	byKey := map[string]ingest.Item{}
	for _, it := range b.Items {
		gotStates[it.Key] = state{it.Status, it.StatusCategory}
		byKey[it.Key] = it
		if it.StoryPoints != nil || it.EstimateSeconds != nil {
			t.Errorf("%s: story points or estimate set, the file has none", it.Key)
		}
		if it.Project != "TES" {
			t.Errorf("%s: project %q, want TES", it.Key, it.Project)
		}
	}
	if len(b.Items) != 22 {
		t.Errorf("got %d items, want 22", len(b.Items))
	}
	if diff := cmp.Diff(wantStates, gotStates); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}

	wantItems := []ingest.Item{
		{
			Key: "TES-25", ExternalID: "10814", Project: "TES",
			Title: "Enable Selinium scripts to also test Pega apps/iframes/etc",
			Type:  "Task", Status: "To Do", StatusCategory: "new",
			CreatedAt: at("2025-09-22 09:26"), UpdatedAt: at("2025-09-22 09:26"),
		},
		{
			Key: "TES-24", ExternalID: "10813", Project: "TES",
			Title: "Bug Fixing: problem in production", Type: "Task",
			Status: "In Progress", StatusCategory: "indeterminate", Assignee: saicharan,
			CreatedAt: at("2025-09-22 09:09"), UpdatedAt: at("2025-09-22 09:09"),
		},
		{
			Key: "TES-23", ExternalID: "10780", Project: "TES",
			Title: `Need to discuss "Login" steps in the "test plan/selinum" even if not included in User Story`,
			Type:  "Task", Status: "To Do", StatusCategory: "new",
			CreatedAt: at("2025-09-19 09:22"), UpdatedAt: at("2025-09-19 09:22"),
		},
		{
			Key: "TES-19", ExternalID: "10678", Project: "TES",
			Title: "Create a Network Architecture diagram for TAG", Type: "Task",
			Status: "Done", StatusCategory: "done", Resolution: "Done", Assignee: saicharan,
			CreatedAt: at("2025-09-03 09:21"), UpdatedAt: at("2025-09-12 09:05"), ResolvedAt: at("2025-09-12 09:05"),
		},
		{
			Key: "TES-13", ExternalID: "10635", Project: "TES",
			Title: "Generate error logs in case of any system failure", Type: "Story",
			Status: "Done", StatusCategory: "done", Resolution: "Done", Assignee: saicharan,
			CreatedAt: at("2025-08-28 13:49"), UpdatedAt: at("2025-09-19 09:03"), ResolvedAt: at("2025-09-19 09:03"),
			DueDate: exportDay(t, "2025-09-18"),
		},
		{
			Key: "TES-11", ExternalID: "10577", Project: "TES",
			Title: "Change name of application to TestAutoGen", Type: "Story",
			Status: "Done", StatusCategory: "done", Resolution: "Done",
			CreatedAt: at("2025-08-20 12:39"), UpdatedAt: at("2025-08-22 09:09"), ResolvedAt: at("2025-08-22 09:09"),
		},
		{
			Key: "TES-7", ExternalID: "10573", Project: "TES",
			Title: "Dockerize the final package for customer install", Type: "Story",
			Status: "In Progress", StatusCategory: "indeterminate", Assignee: saicharan,
			CreatedAt: at("2025-08-20 12:38"), UpdatedAt: at("2025-09-15 09:05"),
			DueDate: exportDay(t, "2025-09-17"),
		},
		{
			Key: "TES-4", ExternalID: "10570", Project: "TES",
			Title: "Change Cancel to Done", Type: "Story",
			Status: "Done", StatusCategory: "done", Resolution: "Done", Assignee: saicharan,
			CreatedAt: at("2025-08-20 12:37"), UpdatedAt: at("2025-08-22 09:15"), ResolvedAt: at("2025-08-22 09:05"),
		},
	}
	for _, want := range wantItems {
		if diff := cmp.Diff(want, byKey[want.Key]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", want.Key, diff)
		}
	}

	hist := map[string][]ingest.Transition{}
	for _, tr := range b.Transitions {
		hist[tr.ItemKey] = append(hist[tr.ItemKey], tr)
	}
	if len(b.Transitions) != 22+13 { // a creation each, plus one change for 10 done and 3 in progress
		t.Errorf("got %d transitions, want 35", len(b.Transitions))
	}
	wantHist := map[string][]ingest.Transition{
		"TES-25": {
			{ItemKey: "TES-25", At: at("2025-09-22 09:26"), To: "To Do", ToCategory: "new", Author: eric},
		},
		"TES-7": {
			{ItemKey: "TES-7", At: at("2025-08-20 12:38"), To: "To Do", ToCategory: "new", Author: eric},
			{ItemKey: "TES-7", At: at("2025-09-08 09:13"), From: "To Do", FromCategory: "new", To: "In Progress", ToCategory: "indeterminate"},
		},
		"TES-19": {
			{ItemKey: "TES-19", At: at("2025-09-03 09:21"), To: "To Do", ToCategory: "new", Author: sai},
			{ItemKey: "TES-19", At: at("2025-09-12 09:05"), From: "To Do", FromCategory: "new", To: "Done", ToCategory: "done"},
		},
		// Resolved (09:05) is before Updated and Status Category Changed is
		// the same: the change lands at Resolved.
		"TES-4": {
			{ItemKey: "TES-4", At: at("2025-08-20 12:37"), To: "To Do", ToCategory: "new", Author: eric},
			{ItemKey: "TES-4", At: at("2025-08-22 09:05"), From: "To Do", FromCategory: "new", To: "Done", ToCategory: "done"},
		},
	}
	for k, want := range wantHist {
		if diff := cmp.Diff(want, hist[k]); diff != "" {
			t.Errorf("%s history (-want +got):\n%s", k, diff)
		}
	}

	rest := ingest.Batch{Projects: b.Projects, People: b.People, Worklogs: b.Worklogs, Milestones: b.Milestones, Problems: b.Problems}
	wantRest := ingest.Batch{
		Projects: []ingest.Project{{Key: "TES", Name: "TestAutoGen"}},
		People: []ingest.Person{
			{ExternalID: eric, DisplayName: "Eric Medlock"},
			{ExternalID: saicharan, DisplayName: "Saicharan Basireddy"},
			{ExternalID: sai, DisplayName: "Sai Sontineni"},
		},
	}
	if diff := cmp.Diff(wantRest, rest, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("projects, people, worklogs, milestones, problems (-want +got):\n%s", diff)
	}

	if len(b.Raw) != 22 || b.Raw[0].Entity != "jira-export-row" || b.Raw[0].ExternalID != "TES-25" {
		t.Fatalf("raw: got %d payloads, first %q/%q", len(b.Raw), b.Raw[0].Entity, b.Raw[0].ExternalID)
	}
	var raw map[string]any
	if err := json.Unmarshal(b.Raw[0].Payload, &raw); err != nil {
		t.Fatal(err)
	}
	wantRaw := map[string]any{
		"Sprint":      "TES Sprint 1",
		"Watchers":    []any{"Eric Medlock"},
		"Watchers Id": []any{eric},
		"Comment":     []any{},
		"Created":     "22/Sep/25 9:26 AM",
	}
	for k, want := range wantRaw {
		if diff := cmp.Diff(want, raw[k]); diff != "" {
			t.Errorf("raw %q (-want +got):\n%s", k, diff)
		}
	}
	if len(raw) != 50 { // 56 columns, of which Watchers×3, Watchers Id×3, Comment×3 are grouped
		t.Errorf("raw payload has %d keys, want 50", len(raw))
	}
}

func TestJiraExport(t *testing.T) {
	at := func(s string) time.Time { return exportAt(t, s) }
	const f = "f.csv"
	tests := []struct {
		name   string
		in     string
		fields []string // the batch fields compared
		want   ingest.Batch
	}{
		{
			name: "BOM and CRLF",
			in: "\ufeffIssue key,Summary,Created,Status,Status Category\r\n" +
				"AB-1,First,22/Sep/25 9:26 AM,To Do,To Do\r\n" +
				"AB-2,Second,23/Sep/25 10:00 PM,Review,In Progress\r\n",
			fields: exportAllFields[:7],
			want: ingest.Batch{
				Projects: []ingest.Project{{Key: "AB"}},
				Items: []ingest.Item{
					{Key: "AB-1", Project: "AB", Title: "First", Status: "To Do", StatusCategory: "new", CreatedAt: at("2025-09-22 09:26")},
					{Key: "AB-2", Project: "AB", Title: "Second", Status: "Review", StatusCategory: "indeterminate", CreatedAt: at("2025-09-23 22:00")},
				},
				Transitions: []ingest.Transition{
					{ItemKey: "AB-1", At: at("2025-09-22 09:26"), To: "To Do", ToCategory: "new"},
					{ItemKey: "AB-2", At: at("2025-09-23 22:00"), To: "To Do", ToCategory: "new"},
					{ItemKey: "AB-2", At: at("2025-09-23 22:00"), From: "To Do", FromCategory: "new", To: "Review", ToCategory: "indeterminate", Approx: ingest.ApproxCreated},
				},
			},
		},
		{
			name: "multi-line cell keeps physical line numbers",
			in: "Issue key,Summary,Created,Updated\n" +
				"AB-1,\"line one\r\nline two\n\"\"quoted\"\"\",22/Sep/25 9:26 AM,22/Sep/25 9:30 AM\n" +
				"AB-2,plain,22/Sep/25 9:27 AM,yesterday\n",
			fields: []string{"Items", "Problems"},
			want: ingest.Batch{
				Items: []ingest.Item{
					{Key: "AB-1", Project: "AB", Title: "line one\nline two\n\"quoted\"", CreatedAt: at("2025-09-22 09:26"), UpdatedAt: at("2025-09-22 09:30")},
					{Key: "AB-2", Project: "AB", Title: "plain", CreatedAt: at("2025-09-22 09:27")},
				},
				Problems: []ingest.Problem{
					{File: f, Line: 5, Column: "Updated", Key: "AB-2", Reason: `bad date "yesterday": want dd/MMM/yy h:mm a; value dropped`, Action: ingest.ProblemRepaired},
				},
			},
		},
		{
			name: "repeated columns",
			in: "Issue key,Created,Fix versions,Fix versions,Custom field (Story Points),Custom field (Story point estimate),Sprint,Sprint,Original estimate\n" +
				"AB-1,22/Sep/25 9:26 AM,,v2,,3.5,S1,S2,7200\n" +
				"AB-2,22/Sep/25 9:26 AM,v1,v2,2.0,8,,,\n" +
				"CD-3,22/Sep/25 9:26 AM,v1,v1,,,,,1.5h\n",
			fields: []string{"Items", "Milestones", "Problems"},
			want: ingest.Batch{
				Items: []ingest.Item{
					{Key: "AB-1", Project: "AB", Milestone: "v2", CreatedAt: at("2025-09-22 09:26"), StoryPoints: exportF64(3.5), EstimateSeconds: exportI64(7200)},
					{Key: "AB-2", Project: "AB", Milestone: "v1", CreatedAt: at("2025-09-22 09:26"), StoryPoints: exportF64(2)},
					{Key: "CD-3", Project: "CD", Milestone: "v1", CreatedAt: at("2025-09-22 09:26")},
				},
				Milestones: []ingest.Milestone{{Name: "v2", Project: "AB"}, {Name: "v1", Project: "AB"}, {Name: "v1", Project: "CD"}},
				Problems: []ingest.Problem{
					{File: f, Line: 4, Column: "Original estimate", Key: "CD-3", Reason: `bad estimate "1.5h": want whole seconds; value dropped`, Action: ingest.ProblemRepaired},
				},
			},
		},
		{
			name: "Data Center spelling and parent id",
			in: "Issue Type,Issue key,Issue id,Parent id,Summary,Status,Created,Due Date,Fix Version/s\n" +
				"Story,ABC-1,100,,Parent story,Open,30/Jul/18 23:33,31/Jul/18 12:00 AM,1.0\n" +
				"Sub-task,ABC-2,101,100,Child,Open,31/Jul/18 08:05,,\n" +
				"Sub-task,ABC-3,102,999,Orphan,Open,31/Jul/18 08:06,,\n",
			fields: []string{"Items", "Milestones", "Problems"},
			want: ingest.Batch{
				Items: []ingest.Item{
					{Key: "ABC-1", ExternalID: "100", Project: "ABC", Title: "Parent story", Type: "Story", Status: "Open", StatusCategory: "new", Milestone: "1.0", CreatedAt: at("2018-07-30 23:33"), DueDate: exportDay(t, "2018-07-31")},
					{Key: "ABC-2", ExternalID: "101", Project: "ABC", Title: "Child", Type: "Sub-task", Status: "Open", StatusCategory: "new", Parent: "ABC-1", CreatedAt: at("2018-07-31 08:05")},
					{Key: "ABC-3", ExternalID: "102", Project: "ABC", Title: "Orphan", Type: "Sub-task", Status: "Open", StatusCategory: "new", CreatedAt: at("2018-07-31 08:06")},
				},
				Milestones: []ingest.Milestone{{Name: "1.0", Project: "ABC"}},
			},
		},
		{
			name: "Cloud parent columns",
			in: "Issue key,Issue id,Created,Parent,Parent key\n" +
				"AB-1,10,01/Sep/25 9:00 AM,,\n" +
				"AB-2,11,01/Sep/25 9:00 AM,10,\n" +
				"AB-3,12,01/Sep/25 9:00 AM,10,AB-9\n" +
				"AB-4,13,01/Sep/25 9:00 AM,13,\n",
			fields: []string{"Items", "Problems"},
			want: ingest.Batch{
				Items: []ingest.Item{
					{Key: "AB-1", ExternalID: "10", Project: "AB", CreatedAt: at("2025-09-01 09:00")},
					{Key: "AB-2", ExternalID: "11", Project: "AB", Parent: "AB-1", CreatedAt: at("2025-09-01 09:00")},
					{Key: "AB-3", ExternalID: "12", Project: "AB", Parent: "AB-9", CreatedAt: at("2025-09-01 09:00")},
					{Key: "AB-4", ExternalID: "13", Project: "AB", CreatedAt: at("2025-09-01 09:00")},
				},
				Problems: []ingest.Problem{
					{File: f, Line: 5, Column: "Parent", Key: "AB-4", Reason: "issue is its own parent; parent dropped", Action: ingest.ProblemRepaired},
				},
			},
		},
		{
			name: "wrong field count",
			in: "Issue key,Summary,Created,Status\n" +
				"AB-1,short,22/Sep/25 9:26 AM\n" +
				"AB-2,long,22/Sep/25 9:26 AM,Open,extra\n" +
				"AB-3\n",
			fields: []string{"Items", "Problems"},
			want: ingest.Batch{
				Items: []ingest.Item{
					{Key: "AB-1", Project: "AB", Title: "short", CreatedAt: at("2025-09-22 09:26")},
					{Key: "AB-2", Project: "AB", Title: "long", Status: "Open", StatusCategory: "new", CreatedAt: at("2025-09-22 09:26")},
				},
				Problems: []ingest.Problem{
					{File: f, Line: 2, Key: "AB-1", Reason: "row has 3 fields, the header has 4; read by position", Action: ingest.ProblemNote},
					{File: f, Line: 3, Key: "AB-2", Reason: "row has 5 fields, the header has 4; read by position", Action: ingest.ProblemNote},
					{File: f, Line: 4, Key: "AB-3", Reason: "row has 1 fields, the header has 4; read by position", Action: ingest.ProblemNote},
					{File: f, Line: 4, Column: "Created", Key: "AB-3", Reason: "missing created date; row dropped", Action: ingest.ProblemRejected},
				},
			},
		},
		{
			name: "bad dates",
			in: "Issue key,Created,Updated,Resolved,Due date,Status Category Changed\n" +
				"AB-1,31/Feb/25 9:00 AM,,,,\n" +
				"AB-2,22/Foo/25 9:00 AM,,,,\n" +
				"AB-3,22/Sep/25 13:00 PM,,,,\n" +
				"AB-4,22/Sep/25 9:00 AM,22/Sep/25 25:00,2025/09/22,22/9/2025,22/Sep/25 9\n" +
				",22/Sep/25 9:00 AM,,,,\n",
			fields: []string{"Items", "Problems"},
			want: ingest.Batch{
				Items: []ingest.Item{
					{Key: "AB-4", Project: "AB", CreatedAt: at("2025-09-22 09:00")},
				},
				Problems: []ingest.Problem{
					{File: f, Line: 2, Column: "Created", Key: "AB-1", Reason: `bad date "31/Feb/25 9:00 AM": no such date 31 February 2025; row dropped`, Action: ingest.ProblemRejected},
					{File: f, Line: 3, Column: "Created", Key: "AB-2", Reason: `bad date "22/Foo/25 9:00 AM": unknown month "Foo"; row dropped`, Action: ingest.ProblemRejected},
					{File: f, Line: 4, Column: "Created", Key: "AB-3", Reason: `bad date "22/Sep/25 13:00 PM": bad hour 13 for PM; row dropped`, Action: ingest.ProblemRejected},
					{File: f, Line: 5, Column: "Updated", Key: "AB-4", Reason: `bad date "22/Sep/25 25:00": bad hour 25; value dropped`, Action: ingest.ProblemRepaired},
					{File: f, Line: 5, Column: "Resolved", Key: "AB-4", Reason: `bad date "2025/09/22": bad day "2025"; value dropped`, Action: ingest.ProblemRepaired},
					{File: f, Line: 5, Column: "Status Category Changed", Key: "AB-4", Reason: `bad date "22/Sep/25 9": bad time of day, want h:mm or h:mm AM; value dropped`, Action: ingest.ProblemRepaired},
					{File: f, Line: 5, Column: "Due date", Key: "AB-4", Reason: `bad date "22/9/2025": unknown month "9"; value dropped`, Action: ingest.ProblemRepaired},
					{File: f, Line: 6, Column: "Issue key", Reason: "missing issue key; row dropped", Action: ingest.ProblemRejected},
				},
			},
		},
		{
			name: "duplicate keys",
			in: "Issue key,Summary,Created,Updated\n" +
				"AB-1,new,22/Sep/25 9:00 AM,24/Sep/25 9:00 AM\n" +
				"AB-1,old,22/Sep/25 9:00 AM,23/Sep/25 9:00 AM\n" +
				"AB-2,first,22/Sep/25 9:00 AM,\n" +
				"AB-2,second,22/Sep/25 9:00 AM,\n",
			fields: []string{"Items", "Problems"},
			want: ingest.Batch{
				Items: []ingest.Item{
					{Key: "AB-1", Project: "AB", Title: "new", CreatedAt: at("2025-09-22 09:00"), UpdatedAt: at("2025-09-24 09:00")},
					{Key: "AB-2", Project: "AB", Title: "second", CreatedAt: at("2025-09-22 09:00")},
				},
				Problems: []ingest.Problem{
					{File: f, Line: 3, Column: "Issue key", Key: "AB-1", Reason: "duplicate key, kept the row updated at 2025-09-24T09:00:00+02:00 (line 2)", Action: ingest.ProblemRejected},
					{File: f, Line: 4, Column: "Issue key", Key: "AB-2", Reason: "duplicate key, kept the later row (line 5)", Action: ingest.ProblemRejected},
				},
			},
		},
		{
			name:   "header only",
			in:     "Issue key,Summary,Created\r\n",
			fields: exportAllFields,
		},
		{
			name: "Spanish months, 24-hour and four-digit years",
			in: "Issue key,Created,Resolved,Status,Status Category\n" +
				"AB-1,10/nov/25 4:51 PM,,Abierta,Por hacer\n" +
				"AB-2,30/Jul/18 23:33,,Open,To Do\n" +
				"AB-3,05/ene/2026 09:00,03/DIC/26 7:05 a. m.,Hecho,Listo\n" +
				"AB-4,1/Sept/25 12:00 AM,,Open,to do\n" +
				"AB-5,1/abr./25 12:30 PM,,Open,TO DO\n",
			fields: []string{"Items", "Transitions", "Problems"},
			want: ingest.Batch{
				Items: []ingest.Item{
					{Key: "AB-1", Project: "AB", Status: "Abierta", StatusCategory: "new", CreatedAt: at("2025-11-10 16:51")},
					{Key: "AB-2", Project: "AB", Status: "Open", StatusCategory: "new", CreatedAt: at("2018-07-30 23:33")},
					{Key: "AB-3", Project: "AB", Status: "Hecho", StatusCategory: "done", CreatedAt: at("2026-01-05 09:00"), ResolvedAt: at("2026-12-03 07:05")},
					{Key: "AB-4", Project: "AB", Status: "Open", StatusCategory: "new", CreatedAt: at("2025-09-01 00:00")},
					{Key: "AB-5", Project: "AB", Status: "Open", StatusCategory: "new", CreatedAt: at("2025-04-01 12:30")},
				},
				Transitions: []ingest.Transition{
					{ItemKey: "AB-1", At: at("2025-11-10 16:51"), To: "Abierta", ToCategory: "new"},
					{ItemKey: "AB-2", At: at("2018-07-30 23:33"), To: "Open", ToCategory: "new"},
					{ItemKey: "AB-3", At: at("2026-01-05 09:00"), To: "To Do", ToCategory: "new"},
					{ItemKey: "AB-3", At: at("2026-12-03 07:05"), From: "To Do", FromCategory: "new", To: "Hecho", ToCategory: "done"},
					{ItemKey: "AB-4", At: at("2025-09-01 00:00"), To: "Open", ToCategory: "new"},
					{ItemKey: "AB-5", At: at("2025-04-01 12:30"), To: "Open", ToCategory: "new"},
				},
			},
		},
		{
			name: "Spanish headers",
			in: "Resumen,Clave de incidencia,ID de la incidencia,Tipo de Incidencia,Estado,Creada,Actualizada,Resuelta,Fecha de vencimiento,Campo personalizado (Story Points),Categoría de estado,Categoría de estado cambiada\n" +
				"Hola,FB-1,200,Tarea,En curso,10/nov/25 4:51 PM,11/nov/25 9:00 AM,,20/nov/25 12:00 AM,\"1,5\",En curso,11/nov/25 8:00 AM\n",
			fields: []string{"Items", "Transitions", "Problems"},
			want: ingest.Batch{
				Items: []ingest.Item{{
					Key: "FB-1", ExternalID: "200", Project: "FB", Title: "Hola", Type: "Tarea",
					Status: "En curso", StatusCategory: "indeterminate",
					CreatedAt: at("2025-11-10 16:51"), UpdatedAt: at("2025-11-11 09:00"),
					DueDate: exportDay(t, "2025-11-20"), StoryPoints: exportF64(1.5),
				}},
				Transitions: []ingest.Transition{
					{ItemKey: "FB-1", At: at("2025-11-10 16:51"), To: "To Do", ToCategory: "new"},
					{ItemKey: "FB-1", At: at("2025-11-11 08:00"), From: "To Do", FromCategory: "new", To: "En curso", ToCategory: "indeterminate"},
				},
			},
		},
		{
			name: "Log Work cells",
			in: "Issue key,Created,Log Work,Log Work,Log Work,Log Work,Log Work,Log Work\n" +
				"AB-1,22/Sep/25 9:00 AM," +
				"\"Fixed it; then; tested;22/Sep/25 10:00 AM;712020:abc;3600\"," +
				";22/Sep/25 1:00 PM;ug:4e18;1800," +
				";22/Sep/25 1:00 PM;ug:4e18;900," +
				"no separators," +
				";22/Sep/25 2:00 PM;ug:4e18;-5," +
				"\"multi\nline;comment;31/Sep/25 2:00 PM;ug:4e18;60\"\n",
			fields: []string{"People", "Worklogs", "Problems"},
			want: ingest.Batch{
				People: []ingest.Person{{ExternalID: "712020:abc"}, {ExternalID: "ug:4e18"}},
				Worklogs: []ingest.Worklog{
					{ID: "AB-1#2025-09-22T08:00:00Z#712020:abc#0", ItemKey: "AB-1", Person: "712020:abc", StartedAt: at("2025-09-22 10:00"), Seconds: 3600},
					{ID: "AB-1#2025-09-22T11:00:00Z#ug:4e18#0", ItemKey: "AB-1", Person: "ug:4e18", StartedAt: at("2025-09-22 13:00"), Seconds: 1800},
					{ID: "AB-1#2025-09-22T11:00:00Z#ug:4e18#1", ItemKey: "AB-1", Person: "ug:4e18", StartedAt: at("2025-09-22 13:00"), Seconds: 900},
				},
				Problems: []ingest.Problem{
					{File: f, Line: 2, Column: "Log Work", Key: "AB-1", Reason: `log work "no separators" is not comment;started;author;seconds; worklog dropped`, Action: ingest.ProblemRejected},
					{File: f, Line: 2, Column: "Log Work", Key: "AB-1", Reason: `log work: bad seconds "-5"; worklog dropped`, Action: ingest.ProblemRejected},
					{File: f, Line: 2, Column: "Log Work", Key: "AB-1", Reason: `log work: bad date "31/Sep/25 2:00 PM": no such date 31 September 2025; worklog dropped`, Action: ingest.ProblemRejected},
				},
			},
		},
		{
			name: "status history synthesis",
			in: "Issue key,Created,Updated,Resolved,Status,Status Category,Status Category Changed\n" +
				"AB-1,01/Sep/25 9:00 AM,,,Doing,In Progress,\n" +
				"AB-2,01/Sep/25 9:00 AM,05/Sep/25 9:00 AM,,Closed,Done,\n" +
				"AB-3,01/Sep/25 9:00 AM,,,Closed,Done,03/Sep/25 9:00 AM\n" +
				"AB-4,01/Sep/25 9:00 AM,,31/Aug/25 9:00 AM,Closed,Done,\n" +
				"AB-5,01/Sep/25 9:00 AM,,,Weird,Mañana,\n",
			fields: []string{"Transitions", "Problems"},
			want: ingest.Batch{
				Transitions: []ingest.Transition{
					{ItemKey: "AB-1", At: at("2025-09-01 09:00"), To: "To Do", ToCategory: "new"},
					// No Status Category Changed: the start is approximated by Created.
					{ItemKey: "AB-1", At: at("2025-09-01 09:00"), From: "To Do", FromCategory: "new", To: "Doing", ToCategory: "indeterminate", Approx: ingest.ApproxCreated},
					{ItemKey: "AB-2", At: at("2025-09-01 09:00"), To: "To Do", ToCategory: "new"},
					// Neither Resolved nor Status Category Changed: finished at Updated, approximately.
					{ItemKey: "AB-2", At: at("2025-09-05 09:00"), From: "To Do", FromCategory: "new", To: "Closed", ToCategory: "done", Approx: ingest.ApproxUpdated},
					{ItemKey: "AB-3", At: at("2025-09-01 09:00"), To: "To Do", ToCategory: "new"},
					{ItemKey: "AB-3", At: at("2025-09-03 09:00"), From: "To Do", FromCategory: "new", To: "Closed", ToCategory: "done"},
					{ItemKey: "AB-4", At: at("2025-09-01 09:00"), To: "To Do", ToCategory: "new"},
					{ItemKey: "AB-4", At: at("2025-09-01 09:00"), From: "To Do", FromCategory: "new", To: "Closed", ToCategory: "done"},
					// An unknown category: into the status at the best date the row has (here Created).
					{ItemKey: "AB-5", At: at("2025-09-01 09:00"), To: "To Do", ToCategory: "new"},
					{ItemKey: "AB-5", At: at("2025-09-01 09:00"), From: "To Do", FromCategory: "new", To: "Weird", Approx: ingest.ApproxCreated},
				},
				Problems: []ingest.Problem{
					{File: f, Line: 5, Column: "Resolved", Key: "AB-4", Reason: "date is before Created; status change placed at Created", Action: ingest.ProblemRepaired},
					{File: f, Line: 6, Column: "Status Category", Key: "AB-5", Reason: `unknown status category "Mañana"; category dropped`, Action: ingest.ProblemRepaired},
				},
			},
		},
		{
			name: "no Status Category column: resolved means done",
			in: "Issue key,Created,Resolved,Status\n" +
				"AB-1,01/Sep/25 9:00 AM,02/Sep/25 9:00 AM,Closed\n" +
				"AB-2,01/Sep/25 9:00 AM,,Open\n",
			fields: []string{"Items", "Transitions"},
			want: ingest.Batch{
				Items: []ingest.Item{
					{Key: "AB-1", Project: "AB", Status: "Closed", StatusCategory: "done", CreatedAt: at("2025-09-01 09:00"), ResolvedAt: at("2025-09-02 09:00")},
					// A well-known status name gives the category.
					{Key: "AB-2", Project: "AB", Status: "Open", StatusCategory: "new", CreatedAt: at("2025-09-01 09:00")},
				},
				Transitions: []ingest.Transition{
					{ItemKey: "AB-1", At: at("2025-09-01 09:00"), To: "To Do", ToCategory: "new"},
					{ItemKey: "AB-1", At: at("2025-09-02 09:00"), From: "To Do", FromCategory: "new", To: "Closed", ToCategory: "done"},
					{ItemKey: "AB-2", At: at("2025-09-01 09:00"), To: "Open", ToCategory: "new"},
				},
			},
		},
		{
			name: "people",
			in: "Issue key,Created,Assignee,Assignee Id,Reporter,Reporter Id,Creator,Creator Id\n" +
				"AB-1,01/Sep/25 9:00 AM,Ann,id-ann,Bob,id-bob,Bob,id-bob\n" +
				"AB-2,01/Sep/25 9:00 AM,Carl,,,id-dan,,\n",
			fields: []string{"People", "Transitions"},
			want: ingest.Batch{
				People: []ingest.Person{
					{ExternalID: "id-ann", DisplayName: "Ann"},
					{ExternalID: "id-bob", DisplayName: "Bob"},
					{ExternalID: "Carl", DisplayName: "Carl"},
					{ExternalID: "id-dan"},
				},
				Transitions: []ingest.Transition{
					{ItemKey: "AB-1", At: at("2025-09-01 09:00"), Author: "id-bob"},
					{ItemKey: "AB-2", At: at("2025-09-01 09:00"), Author: "id-dan"},
				},
			},
		},
		{
			name: "invalid CSV in one row",
			in: "Issue key,Summary,Created\n" +
				"AB-1,bad \"quote,22/Sep/25 9:00 AM\n" +
				"AB-2,fine,22/Sep/25 9:00 AM\n",
			fields: []string{"Items", "Problems"},
			want: ingest.Batch{
				Items: []ingest.Item{{Key: "AB-2", Project: "AB", Title: "fine", CreatedAt: at("2025-09-22 09:00")}},
				Problems: []ingest.Problem{
					{File: f, Line: 2, Reason: `not valid CSV (line 2, byte 10): bare " in non-quoted-field`, Action: ingest.ProblemRejected},
				},
			},
		},
		{
			name: "blank rows are skipped",
			in: "Issue key,Created\n" +
				",\n" +
				"\n" +
				" , \n" +
				"AB-1,22/Sep/25 9:00 AM\n",
			fields: []string{"Items", "Problems"},
			want: ingest.Batch{
				Items: []ingest.Item{{Key: "AB-1", Project: "AB", CreatedAt: at("2025-09-22 09:00")}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := parseJiraExport(f, strings.NewReader(tc.in), parseOptions{Location: exportTestZone})
			if err != nil {
				t.Fatal(err)
			}
			checkExportBatch(t, b)
			if diff := cmp.Diff(tc.want, exportPick(t, b, tc.fields), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("batch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestJiraExportRaw(t *testing.T) {
	in := "Issue key,Created,Fix versions,Fix versions,Custom field (Story Points),Sprint,Sprint,Due date,Due Date\n" +
		"AB-1,22/Sep/25 9:26 AM,,v2,,S1,S2,,\n" +
		"AB-2,22/Sep/25 9:26 AM,,,,,,,,surplus\n"
	b, err := parseJiraExport("f.csv", strings.NewReader(in), parseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	for _, r := range b.Raw {
		if r.Entity != "jira-export-row" {
			t.Errorf("entity %q", r.Entity)
		}
		var m map[string]any
		if err := json.Unmarshal(r.Payload, &m); err != nil {
			t.Fatal(err)
		}
		m["(id)"] = r.ExternalID
		got = append(got, m)
	}
	want := []map[string]any{
		{
			"(id)": "AB-1", "Issue key": "AB-1", "Created": "22/Sep/25 9:26 AM",
			"Fix versions": []any{"v2"}, "Custom field (Story Points)": "", "Sprint": []any{"S1", "S2"},
			"Due date": []any{},
		},
		{
			"(id)": "AB-2", "Issue key": "AB-2", "Created": "22/Sep/25 9:26 AM",
			"Fix versions": []any{}, "Custom field (Story Points)": "", "Sprint": []any{},
			"Due date": []any{}, "(extra)": []any{"surplus"},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("raw (-want +got):\n%s", diff)
	}
}

func TestJiraExportErrors(t *testing.T) {
	boom := errors.New("disk on fire")
	tests := []struct {
		name    string
		in      io.Reader
		want    []string // substrings of the error
		wantErr error    // matched with errors.Is, if set
	}{
		{name: "empty file", in: strings.NewReader(""), want: []string{"f.csv", "empty file"}},
		{name: "only a BOM", in: strings.NewReader("\ufeff"), want: []string{"f.csv", "empty file"}},
		{name: "only blank lines", in: strings.NewReader("\r\n\n,,\n"), want: []string{"f.csv", "empty file"}},
		{name: "missing Created", in: strings.NewReader("Issue key,Summary\nAB-1,x\n"), want: []string{"f.csv", `lacks required column(s) "Created"`}},
		{name: "missing both", in: strings.NewReader("Summary,Status\n"), want: []string{"f.csv", `"Issue key", "Created"`}},
		{name: "not CSV: JSON", in: strings.NewReader(`{"issues": [{"key": "AB-1"}]}`), want: []string{"f.csv", "not valid CSV", "is this a Jira CSV export?"}},
		{name: "not CSV: broken header", in: strings.NewReader("\"Issue key,Created\n"), want: []string{"f.csv", "header row", "not valid CSV"}},
		{name: "read error at once", in: iotest.ErrReader(boom), want: []string{"f.csv"}, wantErr: boom},
		{
			name:    "read error mid-file",
			in:      io.MultiReader(strings.NewReader("Issue key,Created\nAB-1,22/Sep/25 9:00 AM\nAB-2,"), iotest.ErrReader(boom)),
			want:    []string{"f.csv"},
			wantErr: boom,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseJiraExport("f.csv", tc.in, parseOptions{})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v is not %v", err, tc.wantErr)
			}
		})
	}
}

func TestJiraExportHugeCell(t *testing.T) {
	desc := strings.Repeat("0123456789abcde\n", 10<<20/16) // 10 MiB, many lines
	in := "Issue key,Created,Description\r\n" +
		"AB-1,22/Sep/25 9:00 AM,\"" + desc + "\"\r\n" +
		"AB-2,22/Sep/25 9:00 AM,x,surplus\r\n"
	b, err := parseJiraExport("f.csv", strings.NewReader(in), parseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Items) != 2 {
		t.Fatalf("got %d items, want 2", len(b.Items))
	}
	want := []ingest.Problem{{File: "f.csv", Line: 3 + strings.Count(desc, "\n"), Key: "AB-2", Reason: "row has 4 fields, the header has 3; read by position", Action: ingest.ProblemNote}}
	if diff := cmp.Diff(want, b.Problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	var raw struct{ Description string }
	if err := json.Unmarshal(b.Raw[0].Payload, &raw); err != nil {
		t.Fatal(err)
	}
	if raw.Description != desc {
		t.Errorf("raw description has %d bytes, want %d", len(raw.Description), len(desc))
	}
}

func TestParseJiraTime(t *testing.T) {
	tests := []struct {
		in      string
		want    string // RFC 3339 in exportTestZone, or "error"
		wantDay string // parseJiraDate, or "error"
	}{
		{"22/Sep/25 9:26 AM", "2025-09-22T09:26:00+02:00", "2025-09-22"},
		{"22/sep/25 9:26 am", "2025-09-22T09:26:00+02:00", "2025-09-22"},
		{"01/Jan/26 12:00 AM", "2026-01-01T00:00:00+02:00", "2026-01-01"},
		{"01/Jan/26 12:05 PM", "2026-01-01T12:05:00+02:00", "2026-01-01"},
		{"30/Jul/18 23:33", "2018-07-30T23:33:00+02:00", "2018-07-30"},
		{"30/Jul/2018 23:33:59", "2018-07-30T23:33:59+02:00", "2018-07-30"},
		{"30/Jul/99 1:00 PM", "1999-07-30T13:00:00+02:00", "1999-07-30"},
		{"10/nov/25 4:51\u202fPM", "2025-11-10T16:51:00+02:00", "2025-11-10"},
		{"10/nov./25 4:51 p. m.", "2025-11-10T16:51:00+02:00", "2025-11-10"},
		{"10/Dic/25 16:51", "2025-12-10T16:51:00+02:00", "2025-12-10"},
		{"10/August/25 16:51", "2025-08-10T16:51:00+02:00", "2025-08-10"},
		{"29/Feb/24 1:00 AM", "2024-02-29T01:00:00+02:00", "2024-02-29"},
		{"18/Sep/25", "2025-09-18T00:00:00+02:00", "2025-09-18"},
		{"2025-09-22 09:26", "2025-09-22T09:26:00+02:00", "2025-09-22"},
		{"2025-09-22T09:26:00.000-0400", "2025-09-22T15:26:00+02:00", "2025-09-22"},
		{"2025-09-22T23:26:00Z", "2025-09-23T01:26:00+02:00", "2025-09-22"},
		{"29/Feb/25 1:00 AM", "error", "error"},
		{"0/Jan/25 1:00 AM", "error", "error"},
		{"10/Foo/25 1:00 AM", "error", "error"},
		{"10/Jan/125 1:00 AM", "error", "error"},
		{"10/Jan/0001 1:00 AM", "error", "error"},
		{"10/Jan/25 0:00 AM", "error", "2025-01-10"},
		{"10/Jan/25 9:5 AM", "error", "2025-01-10"},
		{"10/Jan/25 9:60", "error", "2025-01-10"},
		{"10/Jan/25 -1:00", "error", "2025-01-10"},
		{"0001-01-01T00:00:00Z", "error", "error"},
		{"", "error", "error"},
		{"22-Sep-25", "error", "error"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got := "error"
			if v, err := parseJiraTime(tc.in, exportTestZone); err == nil {
				got = v.In(exportTestZone).Format(time.RFC3339)
			}
			gotDay := "error"
			if v, err := parseJiraDate(tc.in); err == nil {
				gotDay = v.Format("2006-01-02")
				if v.Location() != time.UTC || v.Hour() != 0 {
					t.Errorf("parseJiraDate(%q) = %v, want midnight UTC", tc.in, v)
				}
			}
			if got != tc.want || gotDay != tc.wantDay {
				t.Errorf("parse %q = %s, %s; want %s, %s", tc.in, got, gotDay, tc.want, tc.wantDay)
			}
		})
	}
}

// jiraFuzzSeeds are hostile inputs the fuzzer starts from.
var jiraFuzzSeeds = []string{
	"",
	"\ufeffIssue key,Summary,Created,Status,Status Category\r\nAB-1,First,22/Sep/25 9:26 AM,To Do,To Do\r\n",
	"Issue key,Summary,Created,Updated\nAB-1,\"line one\r\nline two\",22/Sep/25 9:26 AM,22/Sep/25 9:30 AM\nAB-2,x,22/Sep/25 9:27 AM,bad\n",
	"Issue key,Created,Updated,Resolved,Status,Status Category,Status Category Changed\nAB-1,01/Sep/25 9:00 AM,,31/Aug/25 9:00 AM,Closed,Done,\nAB-1,01/Sep/25 9:00 AM,05/Sep/25 9:00 AM,,Doing,In Progress,01/Jan/20 1:00 AM\n",
	"Issue key,Issue id,Created,Parent,Parent key,Log Work,Log Work\nAB-1,10,01/Sep/25 9:00 AM,10,,;01/Sep/25 9:00 AM;u;60,x;y;01/Sep/25 9:00 AM;u;60\n",
	"Issue key,Created,Fix versions,Fix versions\nAB-1,01/Sep/25 9:00 AM,v1,v1\nAB-2\n,,,,,\n",
	"Issue key,Summary,Created\nAB-1,bad \"quote,22/Sep/25 9:00 AM\nAB-2,\"unterminated,22/Sep/25 9:00 AM\n",
}

func FuzzJiraExport(f *testing.F) {
	for _, s := range jiraFuzzSeeds {
		f.Add(s)
	}
	// The real export's header and first rows (not all of it: the fuzzer
	// minimizes every new interesting input, which is slow for big ones).
	if b, err := os.ReadFile("testdata/jira-export/cloud-all-fields.csv"); err == nil {
		lines := strings.SplitAfter(string(b), "\n")
		f.Add(strings.Join(lines[:min(len(lines), 4)], ""))
	}
	f.Fuzz(func(t *testing.T, in string) {
		b, err := parseJiraExport("fuzz.csv", strings.NewReader(in), parseOptions{Location: exportTestZone})
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.csv") {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		checkExportBatch(t, b)
	})
}

// A wide header over many short rows once made every row cost the header's
// width (quadratic: minutes for a few hundred kilobytes). Each row must cost
// in proportion to its own cells.
// Likewise many subtasks of an ambiguous parent name.
func TestJiraAsanaExportWideHeaderManyShortRows(t *testing.T) {
	const cols, rows = 100_000, 20_000
	jira := "Issue key,Created" + strings.Repeat(",Log Work", cols) + "\n" +
		strings.Repeat("AB-1,22/Sep/25 9:00 AM\n", rows)
	var asana strings.Builder
	asana.WriteString("Task ID,Created At,Name,Parent task" + strings.Repeat(",Estimated time", cols) + "\n")
	for i := range rows / 2 {
		fmt.Fprintf(&asana, "%d,2025-09-01,Dup\nc%d,2025-09-01,Child,Dup\n", i, i)
	}
	tests := []struct {
		name  string
		parse func(string, io.Reader, parseOptions) (ingest.Batch, error)
		in    string
		items int
	}{
		{"jira", parseJiraExport, jira, 1},
		{"asana", parseAsanaExport, asana.String(), rows},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			b, err := tc.parse("f.csv", strings.NewReader(tc.in), parseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Items) != tc.items {
				t.Errorf("got %d items, want %d", len(b.Items), tc.items)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %v: per-row cost grows with the header", d)
			}
		})
	}
}

// columns names headers the reader does not know, for exports too; a
// start column gives a done issue a cycle time.
func TestJiraExportColumns(t *testing.T) {
	in := "Ticket,Opened,Start,State,Status Category,Resolved\n" +
		"AB-1,01/Sep/25 9:00 AM,02/Sep/25 9:00 AM,Done,Done,04/Sep/25 9:00 AM\n"
	at := func(s string) time.Time { return exportAt(t, s) }
	b, err := parseJiraExport("f.csv", strings.NewReader(in), parseOptions{Location: exportTestZone,
		Columns: map[string]string{"key": "Ticket", "created_at": "opened", "started_at": "Start", "status": "State"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []ingest.Transition{
		{ItemKey: "AB-1", At: at("2025-09-01 09:00"), To: "To Do", ToCategory: "new"},
		{ItemKey: "AB-1", At: at("2025-09-02 09:00"), From: "To Do", FromCategory: "new", To: "In Progress", ToCategory: "indeterminate"},
		{ItemKey: "AB-1", At: at("2025-09-04 09:00"), From: "In Progress", FromCategory: "indeterminate", To: "Done", ToCategory: "done"},
	}
	if d := cmp.Diff(want, b.Transitions); d != "" {
		t.Errorf("transitions (-want +got):\n%s", d)
	}
	_, err = parseJiraExport("f.csv", strings.NewReader(in), parseOptions{Columns: map[string]string{"key": "Nope"}})
	if err == nil || !strings.Contains(err.Error(), `columns: key is mapped to "Nope", which the header lacks`) {
		t.Errorf("a mapped header the file lacks: %v", err)
	}
}

// A column whose times carry an offset that is not the zone zone-less
// times are read in gets one note per file and column.
func TestJiraExportZoneDisagreement(t *testing.T) {
	in := "Issue key,Created,Updated\n" +
		"AB-1,01/Sep/25 9:00 AM,2025-09-02T10:00:00.000-0500\n" +
		"AB-2,01/Sep/25 9:00 AM,2025-09-03T10:00:00.000-0500\n" +
		"AB-3,01/Sep/25 9:00 AM,2025-09-03T10:00:00.000+0200\n"
	b, err := parseJiraExport("f.csv", strings.NewReader(in), parseOptions{Location: exportTestZone})
	if err != nil {
		t.Fatal(err)
	}
	want := []ingest.Problem{{File: "f.csv", Line: 2, Column: "Updated", Key: "AB-1", Action: ingest.ProblemNote,
		Reason: "this column's times carry the offset -05:00, but zone-less times are read in UTC+2 (+02:00 then): if the export was made in another zone, set the source's timezone"}}
	if d := cmp.Diff(want, b.Problems); d != "" {
		t.Errorf("problems (-want +got):\n%s", d)
	}
}

// Several export files of one source are one batch: a key in two files
// keeps the row updated last, and a parent is found in another file.
func TestJiraExportFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(dir+"/a.csv", []byte("Issue key,Issue id,Created,Updated,Status,Parent\n"+
		"AB-1,100,01/Sep/25 9:00 AM,05/Sep/25 9:00 AM,Done,\n"+
		"AB-2,101,01/Sep/25 9:00 AM,02/Sep/25 9:00 AM,To Do,\n"), 0o644)
	os.WriteFile(dir+"/b.csv", []byte("Issue key,Issue id,Created,Updated,Status,Parent\n"+
		"AB-2,101,01/Sep/25 9:00 AM,03/Sep/25 9:00 AM,In Progress,\n"+
		"AB-1,100,01/Sep/25 9:00 AM,04/Sep/25 9:00 AM,In Progress,\n"+
		"AB-3,102,01/Sep/25 9:00 AM,04/Sep/25 9:00 AM,To Do,100\n"), 0o644)
	c, err := New(Config{Layout: LayoutJiraExport, Path: dir, Location: exportTestZone}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var batches []ingest.Batch
	if err := c.Sync(context.Background(), "", func(_ context.Context, b ingest.Batch) error {
		batches = append(batches, b)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(batches) != 1 || !batches[0].Snapshot {
		t.Fatalf("%d batches (snapshot %v), want one snapshot", len(batches), len(batches) > 0 && batches[0].Snapshot)
	}
	var got []string
	for _, it := range batches[0].Items {
		got = append(got, it.Key+":"+it.Status+":"+it.Parent)
	}
	if d := cmp.Diff([]string{"AB-1:Done:", "AB-2:In Progress:", "AB-3:To Do:AB-1"}, got); d != "" {
		t.Errorf("items (-want +got):\n%s", d)
	}
	var probs []string
	for _, p := range batches[0].Problems {
		probs = append(probs, fmt.Sprintf("%s:%d:%s:%s", p.File, p.Line, p.Action, p.Reason))
	}
	want := []string{
		"a.csv:3:rejected:duplicate key, kept the row updated at 2025-09-03T09:00:00+02:00 (b.csv line 2)",
		"b.csv:3:rejected:duplicate key, kept the row updated at 2025-09-05T09:00:00+02:00 (a.csv line 2)",
	}
	if d := cmp.Diff(want, probs); d != "" {
		t.Errorf("problems (-want +got):\n%s", d)
	}
}

// Invalid UTF-8 (a file saved in another encoding) is replaced, said, and
// stored: the warehouse stores text. (Found by FuzzImportThenCompute: a key
// with invalid bytes made the whole sync fail.)
func TestExportInvalidUTF8(t *testing.T) {
	in := "Issue key,Created,Summary\nAB-1,01/Sep/25 9:00 AM,Caf\xe9\nA\xc7B-2,01/Sep/25 9:00 AM,ok\n"
	b, err := parseJiraExport("f.csv", strings.NewReader(in), parseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range b.Items {
		got = append(got, it.Key+":"+it.Project+":"+it.Title)
	}
	if d := cmp.Diff([]string{"AB-1:AB:Caf\uFFFD", "A\uFFFDB-2:A\uFFFDB:ok"}, got); d != "" {
		t.Errorf("items (-want +got):\n%s", d)
	}
	want := []ingest.Problem{
		{File: "f.csv", Line: 2, Reason: "invalid UTF-8 bytes replaced by U+FFFD (is the file UTF-8?)", Action: ingest.ProblemRepaired},
		{File: "f.csv", Line: 3, Reason: "invalid UTF-8 bytes replaced by U+FFFD (is the file UTF-8?)", Action: ingest.ProblemRepaired},
	}
	if d := cmp.Diff(want, b.Problems); d != "" {
		t.Errorf("problems (-want +got):\n%s", d)
	}
}
