package metrics_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/metrics"
	"github.com/throughline/throughline/warehouse/warehousetest"
)

// Whether an item is finished is a fact about that item: one item whose
// "Doing" came with the category done (an Asana task completed in that
// column, a Jira issue reopened with its Resolved kept) does not make the
// other "Doing" items done, nor does config see a vote: status_map holds
// one row per (status, category) seen.
func TestStageIsTheItemsOwn(t *testing.T) {
	ctx := context.Background()
	db := warehousetest.Open(t, "")
	created := at("2026-03-01T09:00:00Z")
	b := ingest.Batch{
		Items: []ingest.Item{
			{Key: "DONE", Project: "P", CreatedAt: created, Status: "Doing", StatusCategory: "done"},
			{Key: "OPEN1", Project: "P", CreatedAt: created, Status: "Doing"},
			{Key: "OPEN2", Project: "P", CreatedAt: created, Status: "Doing"},
			{Key: "STARTED", Project: "P", CreatedAt: created, Status: "Doing", StatusCategory: "indeterminate"},
		},
		Transitions: []ingest.Transition{
			{ItemKey: "DONE", At: created, To: "To Do", ToCategory: "new"},
			{ItemKey: "DONE", At: at("2026-03-03T09:00:00Z"), From: "To Do", FromCategory: "new", To: "Doing", ToCategory: "done"},
			{ItemKey: "OPEN1", At: created, To: "Doing"},
			{ItemKey: "OPEN2", At: created, To: "Doing"},
			{ItemKey: "STARTED", At: created, To: "To Do", ToCategory: "new"},
			{ItemKey: "STARTED", At: at("2026-03-02T09:00:00Z"), From: "To Do", FromCategory: "new", To: "Doing", ToCategory: "indeterminate"},
		},
	}
	if err := db.Commit(ctx, "s", b); err != nil {
		t.Fatal(err)
	}
	if _, err := metrics.Compute(ctx, db.DB, metrics.Params{Now: at("2026-03-20T12:00:00Z")}); err != nil {
		t.Fatal(err)
	}
	got := queryMap(t, db, `SELECT key || ':' || stage || ':' || completed, 1 FROM item_flow`)
	want := map[string]int64{"DONE:done:true": 1, "OPEN1:todo:false": 1, "OPEN2:todo:false": 1, "STARTED:started:false": 1}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("item_flow (-want +got):\n%s", d)
	}
	m := queryMap(t, db, `SELECT status || '/' || coalesce(category, '-') || ':' || stage || ':' || mapped_by, 1 FROM status_map WHERE status = 'Doing'`)
	if d := cmp.Diff(map[string]int64{"Doing/done:done:category": 1, "Doing/-:todo:unmapped": 1, "Doing/indeterminate:started:category": 1}, m); d != "" {
		t.Errorf("status_map (-want +got):\n%s", d)
	}
}

// The stage columns of status_changes follow the map, in every source and
// after a config change: a full compute writes them by kind of change, an
// incremental one for the items it recomputes.
func TestStatusChangeStagesFollowTheMap(t *testing.T) {
	ctx := context.Background()
	db := warehousetest.Open(t, "")
	created := at("2026-03-01T09:00:00Z")
	for _, src := range []string{"jira", "csv:team"} {
		b := ingest.Batch{
			Items: []ingest.Item{
				{Key: "A", Project: "P", CreatedAt: created, Status: "Doing"},
				{Key: "B", Project: "P", CreatedAt: created, Status: "Closed", StatusCategory: "done"},
			},
			Transitions: []ingest.Transition{
				{ItemKey: "A", At: created, To: "Open"},
				{ItemKey: "A", At: at("2026-03-02T09:00:00Z"), From: "Open", To: "Doing"},
				{ItemKey: "B", At: created, To: "Open"},
				{ItemKey: "B", At: at("2026-03-03T09:00:00Z"), From: "Open", To: "Closed", ToCategory: "done"},
			},
		}
		if err := db.Commit(ctx, src, b); err != nil {
			t.Fatal(err)
		}
	}
	stages := func() map[string]int64 {
		return queryMap(t, db, `SELECT item_id || '#' || seq || ' ' || coalesce(from_stage, '-') || '>' || coalesce(to_stage, '-'), 1 FROM status_changes`)
	}
	both := func(rows ...string) map[string]int64 {
		m := map[string]int64{}
		for _, src := range []string{"jira", "csv:team"} {
			for _, r := range rows {
				m[src+":"+r] = 1
			}
		}
		return m
	}
	p := metrics.Params{Now: at("2026-03-20T12:00:00Z")}
	if _, err := metrics.Compute(ctx, db.DB, p); err != nil {
		t.Fatal(err)
	}
	// Unmapped statuses without a category are todo.
	want := both("A#0 ->todo", "A#1 todo>todo", "B#0 ->todo", "B#1 todo>done")
	if d := cmp.Diff(want, stages()); d != "" {
		t.Fatalf("first compute (-want +got):\n%s", d)
	}
	// A config change: every item recomputed, the rows of both sources rewritten.
	p.Started = []string{"Doing"}
	p.Todo = []string{"Open"}
	if res, err := metrics.Compute(ctx, db.DB, p); err != nil || !res.Full {
		t.Fatalf("compute after the config change: full %v, %v", res.Full, err)
	}
	want = both("A#0 ->todo", "A#1 todo>started", "B#0 ->todo", "B#1 todo>done")
	if d := cmp.Diff(want, stages()); d != "" {
		t.Fatalf("after the config change (-want +got):\n%s", d)
	}
	// An incremental compute writes the stages of the changes a sync added.
	if err := db.Commit(ctx, "jira", ingest.Batch{
		Items: []ingest.Item{{Key: "A", Project: "P", CreatedAt: created, Status: "Closed", StatusCategory: "done"}},
		Transitions: []ingest.Transition{
			{ItemKey: "A", At: created, To: "Open"},
			{ItemKey: "A", At: at("2026-03-02T09:00:00Z"), From: "Open", To: "Doing"},
			{ItemKey: "A", At: at("2026-03-04T09:00:00Z"), From: "Doing", To: "Closed", ToCategory: "done"},
		},
	}); err != nil {
		t.Fatal(err)
	}
	if res, err := metrics.Compute(ctx, db.DB, p); err != nil || res.Full {
		t.Fatalf("compute after the sync: full %v (%s), %v", res.Full, res.Reason, err)
	}
	want["jira:A#2 started>done"] = 1
	if d := cmp.Diff(want, stages()); d != "" {
		t.Fatalf("after the incremental compute (-want +got):\n%s", d)
	}
}
