package warehouse_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/warehouse/warehousetest"
)

// The store applies the worklog duration rule to every connector's
// worklogs: any positive duration up to 31 days is stored (a weekly
// timesheet row, a Jira "1w"), others are listed in ingest_problems (and
// counted for the run log), and a corrected worklog clears its problem.
func TestStoreWorklogRule(t *testing.T) {
	ctx := context.Background()
	db := warehousetest.Open(t, "")
	item := ingest.Item{Key: "A-1", Project: "A", CreatedAt: tm("2026-03-01T09:00:00Z"), Status: "To Do"}
	wl := func(id string, secs int64) ingest.Worklog {
		return ingest.Worklog{ID: id, ItemKey: "A-1", Person: "ann", StartedAt: tm("2026-03-02T09:00:00Z"), Seconds: secs}
	}
	const month = 31 * 24 * 3600
	commit := func(wantProblems int, ws ...ingest.Worklog) {
		t.Helper()
		n, err := db.CommitCounted(ctx, "jira", ingest.Batch{Items: []ingest.Item{item}, Worklogs: ws})
		if err != nil {
			t.Fatal(err)
		}
		if n != wantProblems {
			t.Errorf("commit of %d worklogs: %d problems counted, want %d", len(ws), n, wantProblems)
		}
	}
	stored := func() map[string]int64 {
		t.Helper()
		rows, err := db.Query("SELECT worklog_id, seconds FROM worklogs")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]int64{}
		for rows.Next() {
			var k string
			var n int64
			if err := rows.Scan(&k, &n); err != nil {
				t.Fatal(err)
			}
			out[k] = n
		}
		return out
	}
	problems := func() []string {
		t.Helper()
		rows, err := db.Query("SELECT file || ':' || item_key || ':' || action || ':' || reason FROM ingest_problems ORDER BY ALL")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		return out
	}
	commit(3, wl("w1", 25*3600), wl("w2", month), wl("w3", month+1), wl("w4", 0), wl("w5", -60))
	if d := cmp.Diff(map[string]int64{"jira:w1": 25 * 3600, "jira:w2": month}, stored()); d != "" {
		t.Errorf("stored worklogs (-want +got):\n%s", d)
	}
	want := []string{
		"worklogs:w3:rejected:worklog of A-1: 2678401 seconds: want more than 0 and at most 744 hours (31 days); worklog dropped",
		"worklogs:w4:rejected:worklog of A-1: 0 seconds: want more than 0 and at most 744 hours (31 days); worklog dropped",
		"worklogs:w5:rejected:worklog of A-1: -60 seconds: want more than 0 and at most 744 hours (31 days); worklog dropped",
	}
	if d := cmp.Diff(want, problems()); d != "" {
		t.Errorf("problems (-want +got):\n%s", d)
	}
	// Synced again: no duplicate problem; w3 fixed at the source: stored, its problem gone.
	commit(1, wl("w3", 3600), wl("w4", 0))
	if d := cmp.Diff(want[1:2], problems()[:1]); d != "" || len(problems()) != 2 {
		t.Errorf("problems after the re-sync: %q; want w4 once and w5", problems())
	}
	if got := stored()["jira:w3"]; got != 3600 {
		t.Errorf("w3 after its fix: %d seconds stored, want 3600", got)
	}
}

// oneBatch is a connector that emits one batch.
type oneBatch ingest.Batch

func (c oneBatch) Sync(ctx context.Context, _ ingest.Cursor, emit func(context.Context, ingest.Batch) error) error {
	return emit(ctx, ingest.Batch(c))
}

// A sync's run counts the problems stored with its batches: the
// connector's and the worklogs the store rejected.
func TestSyncCountsStoredProblems(t *testing.T) {
	ctx := context.Background()
	db := warehousetest.Open(t, "")
	b := ingest.Batch{
		Items: []ingest.Item{{Key: "A-1", Project: "A", CreatedAt: tm("2026-03-01T09:00:00Z"), Status: "To Do"}},
		Worklogs: []ingest.Worklog{
			{ID: "w1", ItemKey: "A-1", Person: "ann", StartedAt: tm("2026-03-02T09:00:00Z"), Seconds: 3600},
			{ID: "w2", ItemKey: "A-1", Person: "ann", StartedAt: tm("2026-03-02T09:00:00Z"), Seconds: 0},
		},
		Problems: []ingest.Problem{{Key: "A-1", Column: "fields.duedate", Reason: "not a date; ignored"}},
		Cursor:   ingest.Cursor("c1"),
	}
	r, err := ingest.Sync(ctx, db, db, "jira", oneBatch(b), ingest.SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var stored, logged int
	if err := db.QueryRow("SELECT count(*) FROM ingest_problems").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT problems FROM sync_runs WHERE run_id = ?", r.ID).Scan(&logged); err != nil {
		t.Fatal(err)
	}
	if r.Problems != 2 || stored != 2 || logged != 2 {
		t.Errorf("problems: run %d, stored %d, sync_runs %d; want 2 each (the connector's and the rejected worklog)", r.Problems, stored, logged)
	}
}
