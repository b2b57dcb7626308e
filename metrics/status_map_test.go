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
