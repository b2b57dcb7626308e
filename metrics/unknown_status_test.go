package metrics_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/metrics"
	"github.com/throughline/throughline/warehouse/warehousetest"
)

// A source that gives no status (a history item with a null end, a blank
// export cell) must not stop the compute: the store writes the status
// ingest.UnknownStatus, compute maps it to todo, and data_quality names the
// items. The other items are computed as usual.
func TestUnknownStatusNeverStopsCompute(t *testing.T) {
	ctx := context.Background()
	db := warehousetest.Open(t, "Europe/Berlin")
	var b ingest.Batch
	for _, h := range flowHistories {
		it, ts := h.records()
		b.Items = append(b.Items, it)
		b.Transitions = append(b.Transitions, ts...)
	}
	b.People = []ingest.Person{{ExternalID: "ann@example.com", Email: "ann@example.com"}}
	// NULLTO: In Progress → (null) → Done; BLANK: created with no status;
	// NULLFROM: a history item whose "from" is null in the middle.
	b.Items = append(b.Items,
		ingest.Item{Key: "NULLTO", Project: "WEB", Type: "Story", CreatedAt: at("2026-03-01T09:00:00Z"), Status: "Done"},
		ingest.Item{Key: "BLANK", Project: "WEB", Type: "Story", CreatedAt: at("2026-03-01T09:00:00Z")},
		ingest.Item{Key: "NULLFROM", Project: "WEB", Type: "Story", CreatedAt: at("2026-03-01T09:00:00Z"), Status: "Done"},
	)
	b.Transitions = append(b.Transitions,
		ingest.Transition{ItemKey: "NULLTO", At: at("2026-03-01T09:00:00Z"), To: "To Do"},
		ingest.Transition{ItemKey: "NULLTO", At: at("2026-03-02T09:00:00Z"), From: "To Do", To: "In Progress"},
		ingest.Transition{ItemKey: "NULLTO", At: at("2026-03-03T09:00:00Z"), From: "In Progress", To: ""},
		ingest.Transition{ItemKey: "NULLTO", At: at("2026-03-04T09:00:00Z"), From: "", To: "Done"},
		ingest.Transition{ItemKey: "BLANK", At: at("2026-03-01T09:00:00Z")},
		ingest.Transition{ItemKey: "NULLFROM", At: at("2026-03-01T09:00:00Z"), To: "To Do"},
		ingest.Transition{ItemKey: "NULLFROM", At: at("2026-03-02T09:00:00Z"), From: "", To: "Done"},
	)
	if err := db.Commit(ctx, "t", b); err != nil {
		t.Fatal(err)
	}
	if _, err := metrics.Compute(ctx, db.DB, flowParams()); err != nil {
		t.Fatalf("compute with unknown statuses: %v", err)
	}
	var stored int
	if err := db.QueryRow(`SELECT count(*) FROM status_changes WHERE to_status IS NULL OR (seq > 0 AND from_status IS NULL)`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != 0 {
		t.Errorf("%d status changes stored with a NULL status; want (unknown)", stored)
	}
	var stage, mappedBy string
	if err := db.QueryRow(`SELECT stage, mapped_by FROM status_map WHERE status = '(unknown)'`).Scan(&stage, &mappedBy); err != nil {
		t.Fatal(err)
	}
	if stage != "todo" || mappedBy != "unknown" {
		t.Errorf("(unknown) maps to %s by %s; want todo by unknown", stage, mappedBy)
	}
	var n int
	var keys string
	if err := db.QueryRow(`SELECT items, example_keys FROM data_quality WHERE "check" = 'unknown_status'`).Scan(&n, &keys); err != nil {
		t.Fatal(err)
	}
	if n != 3 || keys != "BLANK,NULLFROM,NULLTO" {
		t.Errorf("unknown_status: %d items %q; want 3 BLANK,NULLFROM,NULLTO", n, keys)
	}
	// NULLTO: started 03-02, back to todo at the unknown status (a false
	// start: S cleared), then Done with no start: a skipped start finished 03-04.
	got := queryMap(t, db, `SELECT key || ':' || stage || ':' || coalesce(strftime(finished_at, '%m-%d'), '-') || ':' || skipped_start,
		1 FROM item_flow WHERE key IN ('NULLTO', 'BLANK', 'NULLFROM')`)
	want := map[string]int64{"NULLTO:done:03-04:true": 1, "BLANK:todo:-:false": 1, "NULLFROM:done:03-02:true": 1}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("item_flow of the unknown-status items (-want +got):\n%s", d)
	}
	// The other items are unaffected: NORMAL as in TestItemFlowRules.
	var cycle int64
	if err := db.QueryRow(`SELECT cycle_seconds FROM item_flow WHERE key = 'NORMAL'`).Scan(&cycle); err != nil {
		t.Fatal(err)
	}
	if cycle != 2*86400+5*3600 {
		t.Errorf("NORMAL cycle_seconds %d; want %d", cycle, 2*86400+5*3600)
	}
}

// Every compute is recorded in job_runs, a failed one too (after its
// rollback), so `throughline check` can tell that the metrics are stale.
func TestComputeRecordsItsRuns(t *testing.T) {
	ctx := context.Background()
	db := warehousetest.Open(t, "")
	if _, err := metrics.Compute(ctx, db.DB, flowParams()); err != nil {
		t.Fatal(err)
	}
	p := flowParams()
	p.ExplainDir = t.TempDir() + "/missing/dir" // profiles cannot be written: the run fails
	_, failErr := metrics.Compute(ctx, db.DB, p)
	if failErr == nil {
		t.Fatal("compute with an unwritable ExplainDir succeeded")
	}
	rows, err := db.Query(`SELECT status, coalesce(error, '') FROM job_runs WHERE job = 'compute' ORDER BY started_at`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got [][2]string
	for rows.Next() {
		var r [2]string
		if err := rows.Scan(&r[0], &r[1]); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	want := [][2]string{{"ok", ""}, {"failed", failErr.Error()}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("job_runs (-want +got):\n%s", d)
	}
	h, err := db.Health(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if f := h.Failed(); len(f) != 1 || f[0] != "the last compute failed: "+failErr.Error() {
		t.Errorf("Health.Failed() = %q; want the failed compute", f)
	}
}
