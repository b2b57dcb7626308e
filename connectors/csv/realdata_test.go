package csv_test

import (
	"context"
	stdcsv "encoding/csv"
	"math"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/throughline/throughline/connectors/csv"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/metrics"
	"github.com/throughline/throughline/warehouse/warehousetest"
)

// TestRealAgileDataset imports 4,123 real Jira tasks (another tool's export,
// mapped with columns) and checks the cycle-time percentiles against values
// computed here from the file's own cycle_time_days column.
func TestRealAgileDataset(t *testing.T) {
	const path = "testdata/agile-project-dataset"
	f, err := os.Open(path + "/jira.csv")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := stdcsv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	var flowDays []int // cycle_time_days + 1 (inclusive calendar days) of the valid rows
	var bad int
	var last time.Time
	for _, r := range recs[1:] {
		d, _ := strconv.Atoi(r[5])
		if d < 0 {
			bad++
			continue
		}
		flowDays = append(flowDays, d+1)
		if fin, _ := time.Parse("2006-01-02", r[4]); fin.After(last) {
			last = fin
		}
	}
	slices.Sort(flowDays)
	rank := func(p float64) int64 { return int64(flowDays[int(math.Ceil(p*float64(len(flowDays))))-1]) }

	db := warehousetest.Open(t, "UTC")
	ctx := context.Background()
	c, err := csv.New(csv.Config{Layout: "throughline", Path: path + "/jira.csv", Columns: map[string]string{
		"key": "id", "project": "project", "title": "task", "created_at": "created_date",
		"resolved_at": "finished_date", "started_at": "created_date",
	}}, csv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	run, err := ingest.Sync(ctx, db, db, "agile", c, ingest.SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if run.Problems != bad {
		t.Errorf("problems = %d, want %d (rows finishing before creation)", run.Problems, bad)
	}
	_, err = metrics.Compute(ctx, db.DB, metrics.Params{Now: last.Add(12 * time.Hour), WindowDays: 3650})
	if err != nil {
		t.Fatal(err)
	}
	var items, p50, p70, p85, p95 int64
	err = db.QueryRow(`SELECT items, p50_days, p70_days, p85_days, p95_days FROM cycle_time_stats WHERE team = '*' AND work_class = '*'`).
		Scan(&items, &p50, &p70, &p85, &p95)
	if err != nil {
		t.Fatal(err)
	}
	got := []int64{items, p50, p70, p85, p95}
	want := []int64{int64(len(flowDays)), rank(0.5), rank(0.7), rank(0.85), rank(0.95)}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("items, P50, P70, P85, P95 (-want +got):\n%s", d)
	}
	var neg int
	db.QueryRow(`SELECT items FROM data_quality WHERE "check" = 'negative_duration'`).Scan(&neg)
	if neg != bad {
		t.Errorf("negative_duration = %d, want %d", neg, bad)
	}
	var total int
	db.QueryRow(`SELECT count(*) FROM work_items`).Scan(&total)
	if total != len(recs)-1 {
		t.Errorf("work_items = %d, want every row (%d), the bad ones kept and flagged", total, len(recs)-1)
	}
}
