package metrics_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/metrics"
	"github.com/throughline/throughline/warehouse"
	"github.com/throughline/throughline/warehouse/warehousetest"
)

// counterHistories: four items done on 03-03 … 03-06.
var counterHistories = []hist{
	{key: "A", created: "2026-03-01T09:00:00Z", steps: [][2]string{{"2026-03-02T09:00:00Z", "In Progress"}, {"2026-03-03T09:00:00Z", "Done"}}},
	{key: "B", created: "2026-03-01T09:00:00Z", steps: [][2]string{{"2026-03-02T09:00:00Z", "In Progress"}, {"2026-03-04T09:00:00Z", "Done"}}},
	{key: "C", created: "2026-03-01T09:00:00Z", steps: [][2]string{{"2026-03-02T09:00:00Z", "In Progress"}, {"2026-03-05T09:00:00Z", "Done"}}},
	{key: "D", created: "2026-03-01T09:00:00Z", steps: [][2]string{{"2026-03-02T09:00:00Z", "In Progress"}, {"2026-03-06T09:00:00Z", "Done"}}},
}

func counterParams(now string) metrics.Params {
	p := flowParams()
	p.Location, p.Now = time.UTC, at(now)
	p.Teams = append(p.Teams, metrics.Team{Name: "mobile", HoursPerWeek: 40})
	return p
}

func commitHistories(t *testing.T, db *warehouse.DB, hs []hist, edit func(*ingest.Item)) {
	t.Helper()
	var b ingest.Batch
	for _, h := range hs {
		it, ts := h.records()
		if edit != nil {
			edit(&it)
		}
		b.Items = append(b.Items, it)
		b.Transitions = append(b.Transitions, ts...)
	}
	b.People = []ingest.Person{{ExternalID: "ann@example.com", Email: "ann@example.com"}}
	if err := db.Commit(context.Background(), "t", b); err != nil {
		t.Fatal(err)
	}
}

// counterValues are the exposed counters and histogram count per series.
func counterValues(t *testing.T, db *warehouse.DB, now time.Time) map[string]float64 {
	t.Helper()
	snap, err := metrics.LoadSnapshot(context.Background(), db.DB, now)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, c := range snap.Counters {
		k := c.Team + "/" + c.Project + "/" + c.WorkClass + "/" + c.ItemType + " "
		out[k+"created"], out[k+"started"], out[k+"completed"] = c.Created, c.Started, c.Completed
		out[k+"reopened"], out[k+"discarded"] = c.Reopened, c.Discarded
	}
	for _, h := range snap.Histograms {
		out[h.Team+"/"+h.WorkClass+" cycle count"] = float64(h.Count)
		out[h.Team+"/"+h.WorkClass+" cycle sum"] = h.Sum
	}
	return out
}

// TestCountersOnlyCount discards, deletes, moves and re-completes items
// between computes: no counter goes down, each counts the events that
// happened, and the completions counted equal the change in throughput_daily.
func TestCountersOnlyCount(t *testing.T) {
	ctx := context.Background()
	db := warehousetest.Open(t, "")
	commitHistories(t, db, counterHistories, nil)
	if _, err := metrics.Compute(ctx, db.DB, counterParams("2026-03-10T12:00:00Z")); err != nil {
		t.Fatal(err)
	}
	before := counterValues(t, db, at("2026-03-10T12:00:00Z"))
	const web = "web/WEB/project/Story "
	day := 86400.0
	// Cycle times 1, 2, 3 and 4 days.
	want := map[string]float64{web + "created": 4, web + "started": 4, web + "completed": 4, web + "reopened": 0, web + "discarded": 0,
		"web/project cycle count": 4, "web/project cycle sum": 10 * day}
	if diff := cmp.Diff(want, before); diff != "" {
		t.Fatalf("first compute (-want +got):\n%s", diff)
	}

	// A discarded, B deleted, C moved to mobile, D reopened and done again
	// on 03-11, E created and done on 03-11.
	hs := append([]hist{}, counterHistories...)
	hs[3].steps = append(hs[3].steps, [2]string{"2026-03-11T09:00:00Z", "In Progress"}, [2]string{"2026-03-11T15:00:00Z", "Done"})
	hs = append(hs, hist{key: "E", created: "2026-03-11T08:00:00Z", steps: [][2]string{{"2026-03-11T09:00:00Z", "In Progress"}, {"2026-03-11T10:00:00Z", "Done"}}})
	commitHistories(t, db, hs, func(it *ingest.Item) {
		switch it.Key {
		case "A":
			it.Resolution = "Won't Do"
		case "B":
			it.Deleted = true
		case "C":
			it.Team = "mobile"
		}
	})
	for _, now := range []string{"2026-03-11T18:00:00Z", "2026-03-11T18:15:00Z"} {
		if _, err := metrics.Compute(ctx, db.DB, counterParams(now)); err != nil {
			t.Fatal(err)
		}
		after := counterValues(t, db, at(now))
		for k, v := range before {
			if after[k] < v {
				t.Errorf("%s: %s went down from %v to %v", now, k, v, after[k])
			}
		}
		// E: created, started, completed (1 h); D: reopened, completed again
		// (9 days 6 h after its start, kept across the reopen); A: discarded
		// (its completion stays counted); B's and C's counts stay with web.
		want := map[string]float64{web + "created": 5, web + "started": 5, web + "completed": 6, web + "reopened": 1, web + "discarded": 1,
			"web/project cycle count": 6, "web/project cycle sum": 10*day + 9*day + 6*3600 + 3600}
		if diff := cmp.Diff(want, after); diff != "" {
			t.Errorf("%s: counters after discard, delete, move and re-completion (-want +got):\n%s", now, diff)
		}
	}
	// The two completions counted are throughput_daily's for 03-11; the
	// days A…D finished on lost them (discard, delete, move, re-completion).
	got := queryMap(t, db, `SELECT team || ' ' || strftime(day, '%m-%d'), items FROM throughput_daily WHERE items > 0`)
	if diff := cmp.Diff(map[string]int64{"web 03-11": 2, "mobile 03-05": 1}, got); diff != "" {
		t.Errorf("throughput_daily (-want +got):\n%s", diff)
	}
	// The ledger keeps what was counted when, with the labels then.
	ledger := queryMap(t, db, `SELECT event || ' ' || strftime(counted_at, '%m-%d'), count(*) FROM counter_events GROUP BY ALL`)
	wantLedger := map[string]int64{"created 03-10": 4, "started 03-10": 4, "completed 03-10": 4,
		"created 03-11": 1, "started 03-11": 1, "completed 03-11": 2, "reopened 03-11": 1, "discarded 03-11": 1}
	if diff := cmp.Diff(wantLedger, ledger); diff != "" {
		t.Errorf("counter_events (-want +got):\n%s", diff)
	}
}

// A discarded item seen for the first time counts as discarded, never as
// completed; un-discarding it counts its completion once.
func TestCountersDiscardedFirstSeen(t *testing.T) {
	ctx := context.Background()
	db := warehousetest.Open(t, "")
	commitHistories(t, db, counterHistories[:1], func(it *ingest.Item) { it.Resolution = "Won't Do" })
	if _, err := metrics.Compute(ctx, db.DB, counterParams("2026-03-10T12:00:00Z")); err != nil {
		t.Fatal(err)
	}
	const web = "web/WEB/project/Story "
	got := counterValues(t, db, at("2026-03-10T12:00:00Z"))
	if got[web+"completed"] != 0 || got[web+"discarded"] != 1 {
		t.Errorf("discarded on first sight: completed %v discarded %v, want 0 and 1", got[web+"completed"], got[web+"discarded"])
	}
	commitHistories(t, db, counterHistories[:1], nil)
	for _, now := range []string{"2026-03-11T12:00:00Z", "2026-03-12T12:00:00Z"} {
		if _, err := metrics.Compute(ctx, db.DB, counterParams(now)); err != nil {
			t.Fatal(err)
		}
		got = counterValues(t, db, at(now))
		if got[web+"completed"] != 1 || got[web+"discarded"] != 1 {
			t.Errorf("%s, resolution cleared: completed %v discarded %v, want 1 and 1", now, got[web+"completed"], got[web+"discarded"])
		}
	}
}

// TestCompletionCycleSeconds: a completion's cycle time in the ledger runs
// from the start in effect (the last todo -> started after the last reset),
// none when work went back to the backlog and was finished from there;
// moves within a stage change nothing.
func TestCompletionCycleSeconds(t *testing.T) {
	ctx := context.Background()
	db := warehousetest.Open(t, "")
	day := int64(86400)
	tests := []struct {
		h    hist
		want []any // cycle_seconds of each completion, in order (nil: none)
	}{
		{hist{key: "PLAIN", created: "2026-03-01T09:00:00Z", steps: [][2]string{{"2026-03-02T09:00:00Z", "In Progress"}, {"2026-03-05T09:00:00Z", "Done"}}},
			[]any{3 * day}},
		{hist{key: "RESET-DONE", created: "2026-03-01T09:00:00Z", steps: [][2]string{
			{"2026-03-02T09:00:00Z", "In Progress"}, {"2026-03-03T09:00:00Z", "To Do"}, {"2026-03-05T09:00:00Z", "Done"}}},
			[]any{nil}},
		{hist{key: "RESTART", created: "2026-03-01T09:00:00Z", steps: [][2]string{
			{"2026-03-02T09:00:00Z", "In Progress"}, {"2026-03-03T09:00:00Z", "To Do"}, {"2026-03-04T09:00:00Z", "In Progress"},
			{"2026-03-05T09:00:00Z", "In Review"}, {"2026-03-06T09:00:00Z", "Done"}}},
			[]any{2 * day}},
		{hist{key: "WITHIN-STAGE", created: "2026-03-01T09:00:00Z", steps: [][2]string{
			{"2026-03-02T09:00:00Z", "In Progress"}, {"2026-03-03T09:00:00Z", "In Review"}, {"2026-03-04T09:00:00Z", "In Progress"},
			{"2026-03-05T09:00:00Z", "Done"}}},
			[]any{3 * day}},
		{hist{key: "REOPEN-TWICE", created: "2026-03-01T09:00:00Z", steps: [][2]string{
			{"2026-03-02T09:00:00Z", "In Progress"}, {"2026-03-03T09:00:00Z", "Done"}, {"2026-03-04T09:00:00Z", "In Progress"},
			{"2026-03-07T09:00:00Z", "Done"}, {"2026-03-08T09:00:00Z", "To Do"}, {"2026-03-09T09:00:00Z", "Done"}}},
			// Reopened into progress: the first start still holds; reset to
			// the backlog: no start in effect.
			[]any{1 * day, 5 * day, nil}},
	}
	var hs []hist
	for _, tt := range tests {
		hs = append(hs, tt.h)
	}
	commitHistories(t, db, hs, nil)
	if _, err := metrics.Compute(ctx, db.DB, counterParams("2026-03-10T12:00:00Z")); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.h.key, func(t *testing.T) {
			rows, err := db.Query(`SELECT cycle_seconds FROM counter_events WHERE item_id = ? AND event = 'completed' ORDER BY happened_at`, "t:"+tt.h.key)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var got []any
			for rows.Next() {
				var v *int64
				if err := rows.Scan(&v); err != nil {
					t.Fatal(err)
				}
				if v == nil {
					got = append(got, nil)
				} else {
					got = append(got, *v)
				}
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("cycle_seconds of the completions (-want +got):\n%s", d)
			}
		})
	}
}
