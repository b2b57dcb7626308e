package asana_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/throughline/throughline/connectors/asana"
	"github.com/throughline/throughline/connectors/asana/asanatest"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/metrics"
	"github.com/throughline/throughline/warehouse"
	"github.com/throughline/throughline/warehouse/warehousetest"
)

const whSource = "asana"

// whCounts are the rows a sync of the fake leaves in the warehouse.
type whCounts struct {
	Items, StatusChanges, Worklogs, Milestones, DistinctItems int
}

func countWarehouse(t *testing.T, db *warehouse.DB) whCounts {
	t.Helper()
	var c whCounts
	for _, q := range []struct {
		sql string
		dst *int
	}{
		{"SELECT count(*) FROM work_items", &c.Items},
		{"SELECT count(DISTINCT item_id) FROM work_items", &c.DistinctItems},
		{"SELECT count(*) FROM status_changes", &c.StatusChanges},
		{"SELECT count(*) FROM worklogs", &c.Worklogs},
		{"SELECT count(*) FROM milestones", &c.Milestones},
	} {
		if err := db.QueryRow(q.sql).Scan(q.dst); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	var dup int
	if err := db.QueryRow(`SELECT count(*) FROM (SELECT item_id, seq FROM status_changes GROUP BY ALL HAVING count(*) > 1)`).Scan(&dup); err != nil {
		t.Fatal(err)
	}
	if dup > 0 {
		t.Errorf("%d (item_id, seq) pairs of status_changes occur more than once", dup)
	}
	return c
}

// cleanSync is what a sync of the fake leaves in an empty warehouse: every
// listed task (the milestone, MilestoneGID, is one of them) plus the
// subtasks; 265 transitions (as TestSyncLandsEverything counts them); time
// entries on tasks 0, 10, …, 100: 11 tasks × 2.
var cleanSync = whCounts{
	Items: asanatest.NumTasks + asanatest.NumSubtasks, DistinctItems: asanatest.NumTasks + asanatest.NumSubtasks,
	StatusChanges: 265, Worklogs: 22, Milestones: 1,
}

func openWarehouse(t *testing.T) *warehouse.DB {
	t.Helper()
	db := warehousetest.Open(t, "UTC")
	if err := db.RegisterSource(t.Context(), whSource, "asana", asana.DefaultBaseURL); err != nil {
		t.Fatal(err)
	}
	return db
}

func syncWarehouse(t *testing.T, db *warehouse.DB, st ingest.Store, srv *asanatest.Server) (ingest.Run, error) {
	t.Helper()
	return ingest.Sync(t.Context(), st, db, whSource, newConnector(t, srv, asana.Options{}), ingest.SyncOptions{})
}

// asanaParams maps the fake's sections: To Do → todo, In Progress and Review
// → started (Review waits), Done (the section) and Completed (the status the
// connector makes up for completed tasks) → done.
func asanaParams() metrics.Params {
	return metrics.Params{
		Now: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), Location: time.UTC, WindowDays: 365,
		Todo:    []string{asana.StatusNoSection},
		Started: []string{"In Progress", "Review"},
		Wait:    []string{"Review"},
		Done:    []string{"Done", asana.StatusCompleted},
	}
}

type asanaFlow struct {
	Started, Finished string
	Cycle, FlowDays   sql.NullInt64
	Reopens           int
	Skipped           bool
}

func nullInt(v int64) sql.NullInt64 { return sql.NullInt64{Int64: v, Valid: true} }

func fmtNullTime(t sql.NullTime) string {
	if !t.Valid {
		return ""
	}
	return t.Time.UTC().Format(time.RFC3339)
}

// Hand-computed item_flow rows. The fake's base time is 2026-01-05T09:00Z;
// task i is created at base + i h; "d" is 24 h.
var wantFlow = map[string]asanaFlow{
	// Task 0 (reopened), created 01-05 09:00: moved To Do → In Progress at
	// +1d (01-06 09:00, S), complete at +2d, incomplete at +3d (back to In
	// Progress: a reopen, S kept), complete at +4d (01-09 09:00, F).
	// cycle = 01-09 09:00 − 01-06 09:00 = 3 × 86400 = 259200 s;
	// flow days = 9 − 6 + 1 = 4; reopens = 1.
	asanatest.ReopenedGID: {Started: "2026-01-06T09:00:00Z", Finished: "2026-01-09T09:00:00Z",
		Cycle: nullInt(259200), FlowDays: nullInt(4), Reopens: 1},
	// Task 4 (i%4 == 0), created 01-05 13:00: In Progress at +1d (01-06
	// 13:00, S), Review at +2d, Done section at +3d (01-08 13:00, F: the
	// first entry into done), marked complete at +3d+1m (done → done, no new
	// F). cycle = 2 × 86400 = 172800 s; flow days = 8 − 6 + 1 = 3.
	"1300000000000004": {Started: "2026-01-06T13:00:00Z", Finished: "2026-01-08T13:00:00Z",
		Cycle: nullInt(172800), FlowDays: nullInt(3)},
	// Task 3 (i%4 == 3), created 01-05 12:00: comment at +1h (ignored), In
	// Progress at +1d (01-06 12:00, S), due date change at +2d (ignored);
	// still open: no F, so no cycle or flow days.
	"1300000000000003": {Started: "2026-01-06T12:00:00Z"},
	// Subtask 0 of task 5, created base + 5h + 1h = 01-05 15:00 in To Do,
	// marked complete 1d later (01-06 15:00, F) without ever starting:
	// skipped start, no cycle.
	"1300000000000500": {Finished: "2026-01-06T15:00:00Z", Skipped: true},
}

func TestWarehouseSyncAndFlow(t *testing.T) {
	srv := asanatest.New(t)
	db := openWarehouse(t)
	r, err := syncWarehouse(t, db, db, srv)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	if r.Batches != 3 {
		t.Errorf("sync committed %d batches, want 3 (one per page of tasks, then the reconciliation)", r.Batches)
	}
	if diff := cmp.Diff(cleanSync, countWarehouse(t, db)); diff != "" {
		t.Errorf("rows after a sync (-want +got):\n%s", diff)
	}

	if _, err := metrics.Compute(t.Context(), db.DB, asanaParams()); err != nil {
		t.Fatal(err)
	}
	got := map[string]asanaFlow{}
	for key := range wantFlow {
		var s, f sql.NullTime
		var r asanaFlow
		err := db.QueryRow(`SELECT started_at, finished_at, cycle_seconds, flow_days, reopen_count, skipped_start
			FROM item_flow WHERE key = ?`, key).Scan(&s, &f, &r.Cycle, &r.FlowDays, &r.Reopens, &r.Skipped)
		if err != nil {
			t.Fatalf("item_flow of %s: %v", key, err)
		}
		r.Started, r.Finished = fmtNullTime(s), fmtNullTime(f)
		got[key] = r
	}
	if diff := cmp.Diff(wantFlow, got); diff != "" {
		t.Errorf("item_flow (-want +got):\n%s", diff)
	}
	var flowRows int
	if err := db.QueryRow("SELECT count(*) FROM item_flow").Scan(&flowRows); err != nil {
		t.Fatal(err)
	}
	if flowRows != cleanSync.Items {
		t.Errorf("item_flow has %d rows, want %d", flowRows, cleanSync.Items)
	}
}

// recordingStore records the cursors it committed.
type recordingStore struct {
	ingest.Store
	committed []ingest.Cursor
}

func (s *recordingStore) Commit(ctx context.Context, source string, b ingest.Batch) error {
	if err := s.Store.Commit(ctx, source, b); err != nil {
		return err
	}
	s.committed = append(s.committed, b.Cursor)
	return nil
}

func TestWarehouseSyncResumesAfterServerFault(t *testing.T) {
	srv := asanatest.New(t)
	db := openWarehouse(t)

	// The second page of tasks answers 500 through every retry.
	srv.FailPagesAfterFirst("/tasks")
	st := &recordingStore{Store: db}
	r, err := syncWarehouse(t, db, st, srv)
	if err == nil {
		t.Fatal("sync with a failing second page succeeded")
	}
	if r.Status != "failed" || r.Batches != 1 || len(st.committed) != 1 {
		t.Fatalf("failed run: status %q, %d batches, %d committed; want failed after 1", r.Status, r.Batches, len(st.committed))
	}
	// The first page: tasks 0–99, plus task 5's subtasks; time entries on
	// tasks 0, 10, …, 90; no milestone (task 104 is on page 2).
	firstPage := whCounts{Items: 100 + asanatest.NumSubtasks, DistinctItems: 100 + asanatest.NumSubtasks, Worklogs: 20}
	got := countWarehouse(t, db)
	got.StatusChanges = 0 // not derived by hand here
	if diff := cmp.Diff(firstPage, got); diff != "" {
		t.Errorf("rows after the failed sync (-want +got):\n%s", diff)
	}
	var onPage2 int
	if err := db.QueryRow("SELECT count(*) FROM work_items WHERE key IN (?, ?)", "1300000000000100", asanatest.MilestoneGID).Scan(&onPage2); err != nil {
		t.Fatal(err)
	}
	if onPage2 != 0 {
		t.Errorf("%d items of the second page stored by the failed sync", onPage2)
	}
	cur, err := db.Cursor(t.Context(), whSource)
	if err != nil {
		t.Fatal(err)
	}
	if cur != st.committed[0] {
		t.Errorf("stored cursor = %s, want the first batch's %s", cur, st.committed[0])
	}

	srv.ClearFailPages()
	r, err = syncWarehouse(t, db, db, srv)
	if err != nil {
		t.Fatalf("resumed sync: %v", err)
	}
	if r.Cursor == cur {
		t.Errorf("resumed sync left the cursor at %s", cur)
	}
	if diff := cmp.Diff(cleanSync, countWarehouse(t, db)); diff != "" {
		t.Errorf("rows after the resumed sync (-clean +resumed):\n%s", diff)
	}

	// An incremental sync from the stored cursor reads the events (none)
	// and adds nothing.
	before := len(srv.Requests())
	if _, err := syncWarehouse(t, db, db, srv); err != nil {
		t.Fatalf("incremental sync: %v", err)
	}
	if diff := cmp.Diff(cleanSync, countWarehouse(t, db)); diff != "" {
		t.Errorf("rows after an incremental sync (-clean +incremental):\n%s", diff)
	}
	for _, q := range srv.Requests()[before:] {
		if q.Path != "/events" || len(q.Query["sync"]) != 1 {
			t.Errorf("the incremental sync requested %s %v, want only /events with the stored sync token", q.Path, q.Query)
		}
	}
}
