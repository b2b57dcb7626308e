package warehouse_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/throughline/throughline/warehouse/warehousetest"
)

func TestRecordJobRun(t *testing.T) {
	db := warehousetest.Open(t, "Europe/Berlin")
	ctx, cancel := context.WithCancel(context.Background())
	t0 := time.Date(2026, 3, 11, 12, 0, 0, 0, time.UTC)
	if err := db.RecordJobRun(ctx, "compute", t0, t0.Add(2*time.Second), nil); err != nil {
		t.Fatal(err)
	}
	cancel() // a canceled run is recorded too
	if err := db.RecordJobRun(ctx, "compute", t0.Add(time.Minute), t0.Add(61*time.Second), errors.New("compute: context canceled")); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT job, epoch(started_at), epoch(finished_at), status, coalesce(error, '') FROM job_runs ORDER BY started_at`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type run struct {
		Job              string
		Started, Ended   float64
		Status, ErrorMsg string
	}
	var got []run
	for rows.Next() {
		var r run
		if err := rows.Scan(&r.Job, &r.Started, &r.Ended, &r.Status, &r.ErrorMsg); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	u := float64(t0.Unix())
	want := []run{{"compute", u, u + 2, "ok", ""}, {"compute", u + 60, u + 61, "failed", "compute: context canceled"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
