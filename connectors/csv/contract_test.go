package csv_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/throughline/throughline/connectors/csv"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/ingest/ingesttest"
)

// fixtureBatchItems makes the fixture folder span several batches.
const fixtureBatchItems = 10

// fixtureBase is the creation time of item P-0 (there is none: P-1 is an hour later).
var fixtureBase = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

func rfc(t time.Time) string { return t.Format(time.RFC3339) }

// fixtureItem is the items.csv row of item P-i (Q-i from 17 on). Items cycle
// through four shapes by i%4:
//
//	0: resolved, no status_changes rows (2 synthesized transitions)
//	1: In Progress, one status_changes row (2 transitions)
//	2: To Do, nothing else (1 transition)
//	3: Done, two status_changes rows (3 transitions)
func fixtureItem(i int) string {
	project := "P"
	if i > 16 {
		project = "Q"
	}
	created := fixtureBase.Add(time.Duration(i) * time.Hour)
	typ := []string{"Story", "Bug"}[i%2]
	assignee := []string{"ann@example.com", "bob@example.com", ""}[i%3]
	var status, resolved, resolution, due, points, estimate, milestone, parent, team, class string
	switch i % 4 {
	case 0:
		status, resolved, resolution = "Done", rfc(created.Add(72*time.Hour)), "Done"
	case 1:
		status = "In Progress"
	case 2:
		status = "To Do"
	case 3:
		status, resolved, resolution = "Done", rfc(created.Add(48*time.Hour)), "Done"
	}
	if i%5 == 0 {
		due, points, estimate = "2026-02-20", "3", "6.5"
	}
	if project == "P" && i%2 == 0 {
		milestone = "M1"
	}
	if i > 1 && i%6 == 1 {
		parent = "P-1"
	}
	if i == 6 {
		team = "alpha"
	}
	if i == 7 {
		class = "operational"
	}
	return strings.Join([]string{fmt.Sprintf("%s-%d", project, i), project, fmt.Sprintf("Item %d", i), typ, status, assignee,
		rfc(created), resolved, resolution, due, points, estimate, milestone, parent, team, class}, ",")
}

// fixtureChanges are the status_changes.csv rows of item i (see fixtureItem).
func fixtureChanges(key string, i int) []string {
	created := fixtureBase.Add(time.Duration(i) * time.Hour)
	switch i % 4 {
	case 1:
		return []string{key + "," + rfc(created.Add(24*time.Hour)) + ",To Do,In Progress"}
	case 3:
		// File order need not be time order.
		return []string{
			key + "," + rfc(created.Add(48*time.Hour)) + ",In Progress,Done",
			key + "," + rfc(created.Add(24*time.Hour)) + ",To Do,In Progress",
		}
	}
	return nil
}

func fixtureKey(i int) string {
	if i > 16 {
		return fmt.Sprintf("Q-%d", i)
	}
	return fmt.Sprintf("P-%d", i)
}

// fixtureFiles is a throughline-layout folder of 24 items (P-1..P-16,
// Q-17..Q-24), one row with a bad created_at, one duplicate key (P-3 again,
// later row wins), and status changes, worklogs, people and milestones,
// with one orphan status change and one orphan worklog.
//
// It holds 4 problems, 48 transitions and 6 worklogs.
func fixtureFiles() map[string]string {
	items := []string{"key,project,title,type,status,assignee,created_at,resolved_at,resolution,due_date,story_points,estimate_hours,milestone,parent,team,work_class"}
	changes := []string{"key,changed_at,from_status,to_status"}
	for i := 1; i <= 24; i++ {
		items = append(items, fixtureItem(i))
		changes = append(changes, fixtureChanges(fixtureKey(i), i)...)
		switch i {
		case 4:
			items = append(items, "P-X,P,Broken row,Story,To Do,,yesterday,,,,,,,,,")
		case 7:
			items = append(items, strings.Replace(fixtureItem(3), "Item 3", "Item 3 (edited)", 1))
		}
	}
	changes = append(changes, "Z-99,"+rfc(fixtureBase)+",To Do,Done")
	worklogs := []string{
		"key,person,started_at,hours",
		"P-1,ann@example.com,2026-01-06T10:00:00Z,2",
		"P-1,bob@example.com,2026-01-06T13:00:00Z,1.5",
		"P-1,ann@example.com,2026-01-06T10:00:00Z,2", // same again: a second worklog
		"P-5,bob@example.com,2026-01-07T09:00:00Z,4",
		"P-13,ann@example.com,2026-01-08T09:30:00Z,0.5",
		"Q-21,carl@example.com,2026-01-09T09:00:00Z,8",
		"Z-1,ann@example.com,2026-01-09T09:00:00Z,1",
	}
	people := []string{
		"person,email,team,hours_per_week",
		"ann@example.com,ann@example.com,alpha,40",
		"bob@example.com,,beta,32",
		"carl@example.com,,alpha,",
	}
	milestones := []string{
		"name,project,start_date,due_date,baseline_due_date,completed_at",
		"M1,P,2026-01-01,2026-03-01,2026-02-15,",
		"M2,Q,2026-01-15,2026-04-01,,2026-03-20T12:00:00Z",
	}
	join := func(rows []string) string { return strings.Join(rows, "\n") + "\n" }
	return map[string]string{
		"items.csv":          join(items),
		"status_changes.csv": join(changes),
		"worklogs.csv":       join(worklogs),
		"people.csv":         join(people),
		"milestones.csv":     join(milestones),
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func newFolderConnector(t *testing.T, dir string) *csv.Connector {
	t.Helper()
	c, err := csv.New(csv.Config{Layout: csv.LayoutThroughline, Path: dir, BatchItems: fixtureBatchItems},
		csv.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("new connector: %v", err)
	}
	return c
}

func TestContract(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, fixtureFiles())

	// The fixture must span enough batches to exercise resuming.
	batches := 0
	if err := newFolderConnector(t, dir).Sync(t.Context(), "", func(context.Context, ingest.Batch) error {
		batches++
		return nil
	}); err != nil {
		t.Fatalf("sync fixture: %v", err)
	}
	if batches < 3 {
		t.Fatalf("fixture gives %d batches, want at least 3", batches)
	}

	ingesttest.TestConnector(t, func(t *testing.T) ingest.Connector {
		return newFolderConnector(t, dir)
	})
}
