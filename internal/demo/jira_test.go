package demo

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// With JiraProjects, those projects leave the CSV folder for the Jira site:
// every item, status change and worklog is in exactly one of them.
func TestGenerateSplitsJiraProjects(t *testing.T) {
	now := time.Date(2026, 11, 20, 14, 30, 0, 0, time.UTC)
	all, err := Generate(t.TempDir(), Options{Now: now, Seed: 42, Items: 600})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sum, err := Generate(dir, Options{Now: now, Seed: 42, Items: 600, JiraProjects: []string{"PAY", "APP"}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Items != all.Items || sum.StatusChanges != all.StatusChanges || sum.Worklogs != all.Worklogs {
		t.Errorf("totals changed by the split: %+v vs %+v", sum, all)
	}
	d := sum.Jira
	if d == nil || len(d.Issues) != sum.JiraCounts.Items || sum.CSV.Items+sum.JiraCounts.Items != all.Items {
		t.Fatalf("jira issues: %+v", sum)
	}
	var changes, worklogs int
	for _, is := range d.Issues {
		if !strings.HasPrefix(is.Key, "PAY-") && !strings.HasPrefix(is.Key, "APP-") {
			t.Errorf("issue %s outside PAY and APP", is.Key)
		}
		changes += len(is.Histories)
		worklogs += len(is.Worklogs)
		for _, w := range is.Worklogs {
			if a, _ := w.Object["author"].(map[string]any); a["emailAddress"] == "" || a["accountId"] == "" {
				t.Errorf("%s: worklog author without email or account id", is.Key)
			}
		}
	}
	if changes != sum.JiraCounts.StatusChanges || worklogs != sum.JiraCounts.Worklogs {
		t.Errorf("jira histories %d, worklogs %d; counts %+v", changes, worklogs, sum.JiraCounts)
	}
	if len(d.Versions["PAY"])+len(d.Versions["APP"]) != sum.JiraCounts.Milestones {
		t.Errorf("versions %d, milestones %d", len(d.Versions["PAY"])+len(d.Versions["APP"]), sum.JiraCounts.Milestones)
	}
	for name, n := range map[string]int{"items.csv": sum.CSV.Items, "status_changes.csv": sum.CSV.StatusChanges,
		"worklogs.csv": sum.CSV.Worklogs, "milestones.csv": sum.CSV.Milestones} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows)-1 != n {
			t.Errorf("%s: %d rows, want %d", name, len(rows)-1, n)
		}
		for _, r := range rows[1:] {
			if strings.HasPrefix(r[0], "PAY") || strings.HasPrefix(r[0], "APP") || name == "milestones.csv" && (r[1] == "PAY" || r[1] == "APP") {
				t.Errorf("%s still holds %v", name, r)
				break
			}
		}
	}
	if _, err := Generate(t.TempDir(), Options{Now: now, Seed: 42, Items: 600, JiraProjects: []string{"WEB"}}); err == nil {
		t.Error("WEB (hotfix work_class overrides) accepted for Jira")
	}
}
