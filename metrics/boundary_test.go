package metrics_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/metrics"
	"github.com/throughline/throughline/warehouse"
	"github.com/throughline/throughline/warehouse/warehousetest"
)

// The rules of metrics.md at their boundaries, with expected values worked
// out by hand from the definitions (not from the code under test). Each case
// here is a mutation of the rule that an earlier suite let through (see
// internal/mutate/mutations.yaml).
//
// Today is Wednesday 2026-03-18 (UTC); the first simulated day of a forecast
// is 03-19; the window is 10 days (03-09..03-18).
var bNow = at("2026-03-18T12:00:00Z")

func boundaryComputed(t *testing.T) *warehouse.DB {
	t.Helper()
	type item struct {
		key, project, milestone, resolution string
		steps                               [][2]string // {time, to status}
	}
	var items []item
	// WEB finishes one item a day over the whole window: every trial draws 1
	// a day, so a milestone with n items left finishes on day n (03-18 + n).
	for i := range 10 {
		day := d("2026-03-09").AddDate(0, 0, i)
		items = append(items, item{key: fmt.Sprintf("WEB-F%d", i), project: "WEB", steps: [][2]string{
			{day.Add(9 * time.Hour).Format(time.RFC3339), "In Progress"}, {day.Add(15 * time.Hour).Format(time.RFC3339), "Done"}}})
	}
	// APP finishes 2 items on 7 of the 10 days (0 on 3): a trial with 2 items
	// left is done on day 1 with probability 0.7 and by day 2 with 0.91, so
	// P50 = 03-19 and P85 = 03-20.
	for i := range 10 {
		if i%10 >= 7 {
			continue
		}
		day := d("2026-03-09").AddDate(0, 0, i)
		for j := range 2 {
			items = append(items, item{key: fmt.Sprintf("APP-F%d-%d", i, j), project: "APP", steps: [][2]string{
				{day.Add(9 * time.Hour).Format(time.RFC3339), "In Progress"}, {day.Add(15 * time.Hour).Format(time.RFC3339), "Done"}}})
		}
	}
	items = append(items,
		// A false start then done: In Progress → To Do clears S, so Done comes
		// with no start: a skipped start, no cycle time.
		item{key: "FS-DONE", project: "OPS", steps: [][2]string{
			{"2026-03-02T09:00:00Z", "In Progress"}, {"2026-03-03T09:00:00Z", "To Do"}, {"2026-03-04T09:00:00Z", "Done"}}},
		// A false start left in To Do: not started, not WIP, not aging.
		item{key: "FS-OPEN", project: "OPS", steps: [][2]string{
			{"2026-03-02T09:00:00Z", "In Progress"}, {"2026-03-03T09:00:00Z", "To Do"}}},
		// Aging against the SLE of 3 days: age = today − date(S) + 1.
		// AGE-3 started 03-16: age 3, not past the SLE (age > SLE is the rule).
		item{key: "AGE-3", project: "OPS", steps: [][2]string{{"2026-03-16T09:00:00Z", "In Progress"}}},
		// AGE-4 started 03-15: age 4, past it.
		item{key: "AGE-4", project: "OPS", steps: [][2]string{{"2026-03-15T23:00:00Z", "In Progress"}}},
		// Started today: age 1, and WIP at the end of today.
		item{key: "WIP-TODAY", project: "OPS", steps: [][2]string{{"2026-03-18T09:00:00Z", "In Progress"}}},
		// Discarded straight from To Do: discarded, not a skipped start.
		item{key: "DISC-NOSTART", project: "OPS", resolution: "Won't Do", steps: [][2]string{{"2026-03-10T09:00:00Z", "Done"}}},
		// The cycle-time window is the 10 days 03-09..03-18: finished 03-08
		// is out, 03-09 is in.
		item{key: "WIN-OUT", project: "OPS", steps: [][2]string{{"2026-03-07T09:00:00Z", "In Progress"}, {"2026-03-08T15:00:00Z", "Done"}}},
		item{key: "WIN-IN", project: "OPS", steps: [][2]string{{"2026-03-08T09:00:00Z", "In Progress"}, {"2026-03-09T10:00:00Z", "Done"}}},
		// A history whose clock runs backwards: started 03-06, done 03-05 (F
		// before S): a negative duration, listed in data_quality and left out
		// of the cycle-time statistics.
		item{key: "NEG", project: "OPS", steps: [][2]string{{"2026-03-06T09:00:00Z", "In Progress"}, {"2026-03-05T09:00:00Z", "Done"}}},
		// Milestones (no start, never done): 1 item left in WEB finishes 03-19.
		item{key: "DT-1", project: "WEB", milestone: "DUE-TODAY"},
		item{key: "DY-1", project: "WEB", milestone: "DUE-YESTERDAY"},
		item{key: "P85-1", project: "WEB", milestone: "DUE-AT-P85"},
		item{key: "P85-2", project: "WEB", milestone: "DUE-AT-P85"},
		item{key: "P85B-1", project: "WEB", milestone: "DUE-BEFORE-P85"},
		item{key: "P85B-2", project: "WEB", milestone: "DUE-BEFORE-P85"},
		item{key: "P50-1", project: "APP", milestone: "DUE-AT-P50"},
		item{key: "P50-2", project: "APP", milestone: "DUE-AT-P50"},
		item{key: "P50B-1", project: "APP", milestone: "DUE-BEFORE-P50"},
		item{key: "P50B-2", project: "APP", milestone: "DUE-BEFORE-P50"},
	)
	var b ingest.Batch
	created := "2026-03-01T08:00:00Z"
	for _, it := range items {
		in := ingest.Item{Key: it.key, Project: it.project, Type: "Story", Milestone: it.milestone, Resolution: it.resolution,
			CreatedAt: at(created), Status: "To Do"}
		ts := []ingest.Transition{{ItemKey: it.key, At: at(created), To: "To Do"}}
		prev := "To Do"
		for _, s := range it.steps {
			ts = append(ts, ingest.Transition{ItemKey: it.key, At: at(s[0]), From: prev, To: s[1]})
			prev = s[1]
		}
		in.Status = prev
		b.Items = append(b.Items, in)
		b.Transitions = append(b.Transitions, ts...)
	}
	b.Milestones = []ingest.Milestone{
		{Name: "DUE-TODAY", Project: "WEB", DueDate: d("2026-03-18")},
		{Name: "DUE-YESTERDAY", Project: "WEB", DueDate: d("2026-03-17")},
		{Name: "DUE-AT-P85", Project: "WEB", DueDate: d("2026-03-20")},
		{Name: "DUE-BEFORE-P85", Project: "WEB", DueDate: d("2026-03-19")},
		{Name: "DUE-AT-P50", Project: "APP", DueDate: d("2026-03-19")},
		{Name: "DUE-BEFORE-P50", Project: "APP", DueDate: d("2026-03-18")},
	}
	db := warehousetest.Open(t, "UTC")
	ctx := context.Background()
	if err := db.Commit(ctx, "t", b); err != nil {
		t.Fatal(err)
	}
	p := metrics.Params{
		Now: bNow, Location: time.UTC, WindowDays: 10, Trials: 10000, Seed: 3, ForecastMode: metrics.ModeIndependent, // the status boundaries per milestone
		Teams:   []metrics.Team{{Name: "ops", SLEDays: 3, Projects: []string{"OPS"}}, {Name: "web", Projects: []string{"WEB", "APP"}}},
		Started: []string{"In Progress"}, Done: []string{"Done"}, Todo: []string{"To Do"},
		DiscardedResolutions: []string{"Won't Do"},
	}
	if _, err := metrics.Compute(ctx, db.DB, p); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestFalseStartClearsTheStart(t *testing.T) {
	db := boundaryComputed(t)
	got := queryMap(t, db, `SELECT key || ' started=' || coalesce(strftime(started_at, '%m-%d'), '-') || ' stage=' || stage
		|| ' skipped=' || skipped_start || ' cycle=' || coalesce(CAST(cycle_seconds AS VARCHAR), '-') || ' completed=' || completed, 1
		FROM item_flow WHERE key LIKE 'FS-%'`)
	want := map[string]int64{
		"FS-DONE started=- stage=done skipped=true cycle=- completed=true":   1,
		"FS-OPEN started=- stage=todo skipped=false cycle=- completed=false": 1,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("item_flow after a false start (-want +got):\n%s", d)
	}
	if n := queryMap(t, db, `SELECT 'skipped', count(*) FROM data_quality WHERE "check" = 'skipped_start' AND example_keys LIKE '%FS-DONE%'`); n["skipped"] != 1 {
		t.Errorf("FS-DONE is not listed as a skipped start in data_quality")
	}
	if n := queryMap(t, db, `SELECT 'aging', count(*) FROM aging_wip WHERE key LIKE 'FS-%'`); n["aging"] != 0 {
		t.Errorf("a false start left in To Do is aging WIP")
	}
}

func TestAgingPastSLEIsStrictlyGreater(t *testing.T) {
	db := boundaryComputed(t)
	got := queryMap(t, db, `SELECT key || ' over=' || over_sle || ' sle=' || sle_days, age_days FROM aging_wip WHERE team = 'ops'`)
	want := map[string]int64{"AGE-3 over=false sle=3": 3, "AGE-4 over=true sle=3": 4, "WIP-TODAY over=false sle=3": 1}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("aging_wip at the SLE boundary (-want +got):\n%s", d)
	}
}

// WIP is the items whose stage at the end of the day is started: an item
// started today counts today. ops: AGE-4 from 03-15, AGE-3 from 03-16,
// WIP-TODAY from 03-18 (the false starts and NEG, done before it started,
// are not in progress at the end of any of these days).
func TestWIPCountsItemsStartedToday(t *testing.T) {
	db := boundaryComputed(t)
	got := queryMap(t, db, `SELECT strftime(day, '%m-%d'), sum(items) FROM wip_daily
		WHERE team = 'ops' AND day BETWEEN DATE '2026-03-14' AND DATE '2026-03-18' GROUP BY day`)
	want := map[string]int64{"03-14": 0, "03-15": 1, "03-16": 2, "03-17": 2, "03-18": 3}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ops wip_daily (-want +got):\n%s", d)
	}
}

func TestMilestoneStatusBoundaries(t *testing.T) {
	db := boundaryComputed(t)
	got := queryMap(t, db, `SELECT name || ' ' || status || ' p50=' || coalesce(strftime(p50_date, '%m-%d'), '-')
		|| ' p85=' || coalesce(strftime(p85_date, '%m-%d'), '-'), remaining FROM milestone_status`)
	want := map[string]int64{
		// Due today is not overdue ("due date before today"): its forecast says 03-19.
		"DUE-TODAY off_track p50=03-19 p85=03-19":   1,
		"DUE-YESTERDAY overdue p50=03-19 p85=03-19": 1,
		// due ≥ P85: on track; due one day before P85 (= P50): at risk would need
		// P50 ≤ due, so it is off track.
		"DUE-AT-P85 on_track p50=03-20 p85=03-20":      2,
		"DUE-BEFORE-P85 off_track p50=03-20 p85=03-20": 2,
		// P50 ≤ due < P85: at risk; due < P50: off track.
		"DUE-AT-P50 at_risk p50=03-19 p85=03-20":       2,
		"DUE-BEFORE-P50 off_track p50=03-19 p85=03-20": 2,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("milestone_status at the boundaries (-want +got):\n%s", d)
	}
}

func TestDiscardedWindowAndNegativeDuration(t *testing.T) {
	db := boundaryComputed(t)
	got := queryMap(t, db, `SELECT key || ' discarded=' || discarded || ' skipped=' || skipped_start
		|| ' cycle=' || coalesce(CAST(cycle_seconds AS VARCHAR), '-'), 1 FROM item_flow WHERE key IN ('DISC-NOSTART', 'NEG', 'WIN-IN', 'WIN-OUT')`)
	want := map[string]int64{
		"DISC-NOSTART discarded=true skipped=false cycle=-":  1,
		"NEG discarded=false skipped=false cycle=-86400":     1,
		"WIN-IN discarded=false skipped=false cycle=90000":   1,
		"WIN-OUT discarded=false skipped=false cycle=108000": 1,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("item_flow (-want +got):\n%s", d)
	}
	// ops' window holds WIN-IN only: WIN-OUT finished the day before it
	// opens, NEG has a negative cycle time, the others have no start.
	stats := queryMap(t, db, `SELECT 'items', items FROM cycle_time_stats WHERE team = 'ops' AND work_class = '*'`)
	if stats["items"] != 1 {
		t.Errorf("ops window items %d; want 1 (WIN-IN)", stats["items"])
	}
	dq := queryMap(t, db, `SELECT "check" || ' ' || example_keys, items FROM data_quality WHERE "check" IN ('negative_duration', 'skipped_start')`)
	wantDQ := map[string]int64{"negative_duration NEG": 1, "skipped_start FS-DONE": 1}
	if d := cmp.Diff(wantDQ, dq); d != "" {
		t.Errorf("data_quality (-want +got):\n%s", d)
	}
}
