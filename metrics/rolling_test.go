package metrics_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/metrics"
	"github.com/throughline/throughline/warehouse/warehousetest"
)

// TestRollingWeekAllocationAcrossMonday: one person (40 h a week) with 40 h
// of work without a due date (spread over the next 10 working days: 4 h a
// day) and 8 h overdue (all on today). The rolling week asks the same every
// day: (5 × 4 + 8) / (5 × 8) = 0.7. Week 0 divides the whole week's
// capacity into what is left of it, so it falls through the week and jumps
// back on Monday: the alert that flapped.
func TestRollingWeekAllocationAcrossMonday(t *testing.T) {
	ctx := context.Background()
	db := warehousetest.Open(t, "")
	est := func(h int64) *int64 { s := h * 3600; return &s }
	b := ingest.Batch{
		People: []ingest.Person{{ExternalID: "ann@example.com", Email: "ann@example.com"}},
		Items: []ingest.Item{
			{Key: "SPREAD", Project: "WEB", Type: "Story", Status: "To Do", Assignee: "ann@example.com", CreatedAt: at("2026-03-01T09:00:00Z"), EstimateSeconds: est(40)},
			{Key: "LATE", Project: "WEB", Type: "Story", Status: "To Do", Assignee: "ann@example.com", CreatedAt: at("2026-03-01T09:00:00Z"), EstimateSeconds: est(8), DueDate: d("2026-03-02")},
		},
		Transitions: []ingest.Transition{
			{ItemKey: "SPREAD", At: at("2026-03-01T09:00:00Z"), To: "To Do"},
			{ItemKey: "LATE", At: at("2026-03-01T09:00:00Z"), To: "To Do"},
		},
	}
	if err := db.Commit(ctx, "t", b); err != nil {
		t.Fatal(err)
	}
	type ratios struct{ Rolling, Week0 float64 }
	got := map[string]ratios{}
	for _, day := range []string{"2026-03-18", "2026-03-19", "2026-03-20", "2026-03-21", "2026-03-23", "2026-03-24"} {
		p := flowParams()
		p.Location, p.Now = time.UTC, at(day+"T12:00:00Z")
		p.Teams = []metrics.Team{{Name: "web", Members: []string{"ann@example.com"}, HoursPerWeek: 40, SLEDays: 10}}
		if _, err := metrics.Compute(ctx, db.DB, p); err != nil {
			t.Fatal(err)
		}
		snap, err := metrics.LoadSnapshot(ctx, db.DB, p.Now)
		if err != nil {
			t.Fatal(err)
		}
		r := ratios{Rolling: snap.Rolling["web"]}
		for _, c := range snap.Capacity {
			if c.Team == "web" && c.WeekOffset == 0 {
				r.Week0 = c.Ratio
			}
		}
		got[p.Now.Weekday().String()[:3]+" "+day[5:]] = r
	}
	// Week 0: Wed 3 days × 4 h + 8, Thu 2, Fri 1, Sat none left (only the
	// overdue 8 h), Mon 5 days again, Tue 4.
	want := map[string]ratios{
		"Wed 03-18": {0.7, 0.5}, "Thu 03-19": {0.7, 0.4}, "Fri 03-20": {0.7, 0.3},
		"Sat 03-21": {0.7, 0.2}, "Mon 03-23": {0.7, 0.7}, "Tue 03-24": {0.7, 0.6},
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 })); diff != "" {
		t.Errorf("rolling-week and week-0 allocation (-want +got):\n%s", diff)
	}
	// Each day's ratio is kept: the history the backfill writes.
	days := queryMap(t, db, `SELECT strftime(day, '%m-%d'), CAST(round(allocation_ratio * 10) AS BIGINT) FROM allocation_daily WHERE team = 'web'`)
	if diff := cmp.Diff(map[string]int64{"03-18": 7, "03-19": 7, "03-20": 7, "03-21": 7, "03-23": 7, "03-24": 7}, days); diff != "" {
		t.Errorf("allocation_daily × 10 (-want +got):\n%s", diff)
	}
}
