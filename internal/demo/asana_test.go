package demo

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// With AsanaProject, HELP leaves the CSV folder for the Asana project: one
// task per item, one section move per status change (completions and
// reopens add a marked_complete/marked_incomplete story next to the move,
// which the connector folds into one transition), one time entry per
// worklog with the same minutes.
func TestGenerateSplitsAsanaProject(t *testing.T) {
	now := time.Date(2026, 11, 20, 14, 30, 0, 0, time.UTC)
	all, err := Generate(t.TempDir(), Options{Now: now, Seed: 42, Items: 600})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sum, err := Generate(dir, Options{Now: now, Seed: 42, Items: 600, JiraProjects: []string{"PAY", "APP"}, AsanaProject: "HELP"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Items != all.Items || sum.StatusChanges != all.StatusChanges || sum.Worklogs != all.Worklogs {
		t.Errorf("totals changed by the split: %+v vs %+v", sum, all)
	}
	if sum.CSV.Items+sum.JiraCounts.Items+sum.AsanaCounts.Items != all.CSV.Items ||
		sum.CSV.StatusChanges+sum.JiraCounts.StatusChanges+sum.AsanaCounts.StatusChanges != all.CSV.StatusChanges ||
		sum.CSV.Worklogs+sum.JiraCounts.Worklogs+sum.AsanaCounts.Worklogs != all.CSV.Worklogs || sum.AsanaCounts.Milestones != 0 {
		t.Errorf("split %+v does not add up to the CSV-only %+v", sum, all.CSV)
	}
	p := sum.Asana
	if p == nil || p.GID != AsanaProjectGID || len(p.Tasks) != sum.AsanaCounts.Items || len(p.Sections) != len(asanaSections) {
		t.Fatalf("asana project: %+v", sum.AsanaCounts)
	}
	var moves, completes, reopens, entries, discarded int
	minutes := map[string]int64{}
	for _, task := range p.Tasks {
		gid := task["gid"].(string)
		for _, st := range p.Stories[gid] {
			switch st["resource_subtype"] {
			case "section_changed":
				moves++
			case "marked_complete":
				completes++
			case "marked_incomplete":
				reopens++
			default:
				t.Errorf("%s: story %v", gid, st["resource_subtype"])
			}
		}
		for _, e := range p.Entries[gid] {
			entries++
			minutes[e["created_by"].(map[string]any)["email"].(string)] += e["duration_minutes"].(int64)
		}
		m := task["memberships"].([]map[string]any)[0]
		section := m["section"].(map[string]any)["name"]
		switch {
		case task["completed"] == true && section != statusDone, task["completed"] == false && section == statusDone:
			t.Errorf("%s: completed %v in section %v", gid, task["completed"], section)
		case section == resWontDo || section == resDuplicate:
			discarded++
		}
		if _, ok := task["modified_at"].(string); !ok {
			t.Errorf("%s: no modified_at", gid)
		}
	}
	if moves != sum.AsanaCounts.StatusChanges || entries != sum.AsanaCounts.Worklogs || completes == 0 || reopens == 0 || discarded == 0 {
		t.Errorf("moves %d, entries %d (counts %+v); completes %d, reopens %d, discarded %d", moves, entries, sum.AsanaCounts, completes, reopens, discarded)
	}
	// The minutes are the hours HELP's worklogs held in the CSV-only folder.
	want := map[string]int64{}
	g := build(Options{Now: now, Seed: 42, Items: 600})
	for _, w := range g.worklogs {
		if w.it.proj.key == "HELP" {
			want[w.person.email] += int64(math.Round(w.hours * 60))
		}
	}
	for email, m := range want {
		if minutes[email] != m {
			t.Errorf("%s: %d minutes in Asana, %d in the worklogs", email, minutes[email], m)
		}
	}
	// HELP is gone from the CSV folder.
	f, err := os.Open(filepath.Join(dir, "items.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows[1:] {
		if r[1] == "HELP" {
			t.Fatalf("items.csv still holds %v", r)
		}
	}
	for _, bad := range []Options{{AsanaProject: "OPS"}, {AsanaProject: "WEB"}, {AsanaProject: "NOPE"},
		{AsanaProject: "HELP", JiraProjects: []string{"HELP"}}} {
		bad.Now, bad.Seed, bad.Items = now, 42, 600
		if _, err := Generate(t.TempDir(), bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
