package jiratest

import (
	"encoding/csv"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// statusItems counts the status history items of each issue of board 8,
// read straight from the raw CSV.
func rawStatusItems(t *testing.T) map[string]int {
	t.Helper()
	f, err := os.Open(filepath.Join(DevLakeDir, "_raw_jira_api_issues.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range rows[1:] {
		if r[1] != `{"ConnectionId":2,"BoardId":8}` {
			continue
		}
		var is struct {
			Key       string
			Changelog struct {
				Histories []struct{ Items []struct{ Field string } }
			}
		}
		if err := json.Unmarshal([]byte(r[2]), &is); err != nil {
			t.Fatal(err)
		}
		for _, h := range is.Changelog.Histories {
			for _, it := range h.Items {
				if it.Field == "status" {
					out[is.Key]++
				}
			}
		}
	}
	return out
}

func TestLoadDevLake(t *testing.T) {
	d, err := LoadDevLake(DevLakeDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Issues) != 30 || d.Issues[0].Key != "EE-1" || d.Issues[29].Key != "EE-37" {
		t.Fatalf("%d issues", len(d.Issues))
	}
	want := rawStatusItems(t)
	total := 0
	for _, is := range d.Issues {
		n := 0
		var prev time.Time
		for _, h := range is.Histories {
			at, ok := parseTime(h["created"])
			if !ok || at.Before(prev) {
				t.Errorf("%s: histories not oldest first at %v", is.Key, h["created"])
			}
			prev = at
			for _, it := range list(h["items"]) {
				if it.(Object)["field"] == "status" {
					n++
				}
			}
		}
		if n != want[is.Key] {
			t.Errorf("%s: %d status items, CSV has %d", is.Key, n, want[is.Key])
		}
		total += n
	}
	if total != 165 {
		t.Errorf("%d status items, want 165", total)
	}
	if len(d.Statuses) != 53 || len(d.StatusCategories) != 4 || len(d.Fields) != 2 || len(d.Projects) != 1 || len(d.Boards) != 1 || len(d.Boards[0].Sprints) != 30 {
		t.Errorf("statuses %d, categories %d, fields %d, projects %d, boards %d", len(d.Statuses), len(d.StatusCategories), len(d.Fields), len(d.Projects), len(d.Boards))
	}
	wls := 0
	for _, is := range d.Issues {
		wls += len(is.Worklogs)
	}
	if wls != 6 { // the CSV's other 24 worklogs belong to issues outside board 8
		t.Errorf("%d worklogs, want 6", wls)
	}

	lead, err := DevLakeLeadMinutes(DevLakeDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(lead) != 30 || lead["EE-1"] != 10458 || lead["EE-17"] != 58020 {
		t.Errorf("lead minutes: %d entries, EE-1 %d", len(lead), lead["EE-1"])
	}

	s := NewTest(t, d, Options{})
	r := get(t, s.URL+"/rest/api/3/search/jql?maxResults=100&fields=resolutiondate,created&expand=changelog&jql="+url.QueryEscape("project = EE"))
	issues := list(r.obj(t)["issues"])
	if len(issues) != 30 {
		t.Fatalf("search: %d issues", len(issues))
	}
	cl := issues[0].(Object)["changelog"].(Object)
	if num(cl["total"]) != 25 || len(list(cl["histories"])) != 25 {
		t.Errorf("EE-1 changelog total %v", cl["total"])
	}
	r = get(t, s.URL+"/rest/api/3/issue/EE-23/worklog")
	if num(r.obj(t)["total"]) == 0 {
		t.Errorf("EE-23 worklogs %s", r.raw)
	}
}

func TestGenerate(t *testing.T) {
	o := GenOptions{Issues: 3000, Boards: true, Seed: 42}
	a, b := Generate(o), Generate(o)
	for i := range a.Issues {
		if !reflect.DeepEqual(a.Issues[i].Fields, b.Issues[i].Fields) || !reflect.DeepEqual(a.Issues[i].Histories, b.Issues[i].Histories) {
			t.Fatalf("issue %d differs between runs", i)
		}
	}
	if c := Generate(GenOptions{Issues: 3000, Seed: 43}); reflect.DeepEqual(c.Issues[5].Histories, a.Issues[5].Histories) {
		t.Error("different seeds, same data")
	}

	statusChanges, long, subtasks, epicsDue, dueChanges := 0, 0, 0, 0, 0
	cats := map[string]int{}
	for _, is := range a.Issues {
		for _, h := range is.Histories {
			for _, it := range list(h["items"]) {
				switch it.(Object)["field"] {
				case "status":
					statusChanges++
				case "duedate":
					dueChanges++
				}
			}
		}
		if len(is.Histories) > 40 {
			long++
		}
		f := is.Fields
		st := f["status"].(Object)
		cat := str(st["statusCategory"].(Object)["key"])
		cats[cat]++
		if (cat == "done") != (f["resolution"] != nil) || (cat == "done") != (f["resolutiondate"] != nil) {
			t.Errorf("%s: status %v, resolution %v", is.Key, st["name"], f["resolution"])
		}
		typ := f["issuetype"].(Object)
		switch typ["hierarchyLevel"] {
		case -1:
			subtasks++
			if f["parent"] == nil {
				t.Errorf("%s: subtask without parent", is.Key)
			}
		case 1:
			if f["duedate"] != nil {
				epicsDue++
			}
		}
		if a, isObj := f["assignee"].(Object); isObj && a["emailAddress"] == nil {
			t.Errorf("%s: assignee without email", is.Key)
		}
		genNow := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		for _, w := range is.Worklogs {
			if w.Updated.After(genNow) || w.Object["issueId"] != is.ID {
				t.Errorf("%s: worklog %v updated %v after Now", is.Key, w.Object["id"], w.Updated)
			}
		}
		up, _ := parseTime(f["updated"])
		if up.After(genNow) {
			t.Errorf("%s: updated %v after Now", is.Key, f["updated"])
		}
		if len(is.Histories) > 0 {
			last, _ := parseTime(is.Histories[len(is.Histories)-1]["created"])
			if up.Before(last) {
				t.Errorf("%s: updated %v before last history %v", is.Key, f["updated"], last)
			}
		}
	}
	avg := float64(statusChanges) / float64(len(a.Issues))
	if avg < 9.5 || avg > 10.5 {
		t.Errorf("average status changes %.2f, want ≈10", avg)
	}
	if long < 20 || subtasks == 0 || epicsDue == 0 || dueChanges == 0 || cats["new"] == 0 || cats["indeterminate"] == 0 || cats["done"] == 0 {
		t.Errorf("long %d, subtasks %d, epics with due date %d, due changes %d, categories %v", long, subtasks, epicsDue, dueChanges, cats)
	}
	if avg := avgChanges(Generate(GenOptions{Issues: 2000, ChangesPerIssue: 4, Seed: 1})); avg < 3.7 || avg > 4.3 {
		t.Errorf("ChangesPerIssue 4: average %.2f", avg)
	}
}

func avgChanges(d *Dataset) float64 {
	n := 0
	for _, is := range d.Issues {
		for _, h := range is.Histories {
			for _, it := range list(h["items"]) {
				if it.(Object)["field"] == "status" {
					n++
				}
			}
		}
	}
	return float64(n) / float64(len(d.Issues))
}

func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		Generate(GenOptions{Issues: 50000, Boards: true, Seed: 1})
	}
}

func BenchmarkSearchPage(b *testing.B) {
	s := New(Generate(GenOptions{Issues: 5000, Boards: true, Seed: 1}), Options{})
	defer s.Close()
	u := s.URL + "/rest/api/3/search/jql?maxResults=100&fields=*all&expand=changelog&jql=" + url.QueryEscape("project = WEB")
	for b.Loop() {
		req, _ := newReq(u)
		resp, err := httpClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
}
