package forecast

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// monday is a Monday; history in these tests starts on it.
var monday = date(2025, time.January, 6)

// on is the date n days after monday.
func on(n int) time.Time { return monday.AddDate(0, 0, n) }

func TestBacktestConstantThroughput(t *testing.T) {
	// One item a day, every day from monday, all of it milestone work. A
	// (due day 30) has 10 items created on day 13 (a Sunday), finished on
	// days 14..23; B (due day 40) has 6 items created on day 13 too, finished
	// on days 24..29 once A is done. Checkpoints are the Mondays 14, 21 and
	// 28. Portfolio: at day 14 A has 10 open, B 6 behind them: A is due on
	// day 23 and B on day 29, exactly: every date hits, no error. Alone, B
	// would be forecast 10 days early at day 14 (and 3 at day 21).
	const days = 40
	h := History{First: monday, Completions: repeat(1, days), MilestoneCompletions: repeat(1, days)}
	ms := func(id string, created, firstDone, n, due int) PastMilestone {
		m := PastMilestone{ID: id, Name: id, Start: on(created), Finished: on(firstDone + n - 1), Scored: true,
			Due: []DueFrom{{Due: on(due)}}}
		for k := range n {
			m.Items = append(m.Items, PastItem{Created: on(created), Finished: on(firstDone + k)})
		}
		return m
	}
	h.Milestones = []PastMilestone{ms("B", 13, 24, 6, 40), ms("A", 13, 14, 10, 30)}
	cp := func(id string, c, remaining, ahead, actual, p85 int, hit bool) Checkpoint {
		return Checkpoint{Milestone: id, Date: on(c), Remaining: remaining, Ahead: ahead, Share: 1, Known: true,
			P50: on(p85), P85: on(p85), P95: on(p85), Actual: on(actual), HitP50: hit, HitP85: hit, HitP95: hit, ErrorDays: actual - p85}
	}
	tests := []struct {
		name string
		o    BacktestOptions
		want []Checkpoint
	}{
		{"portfolio", BacktestOptions{Window: 10, Trials: 200}, []Checkpoint{
			cp("A", 14, 10, 0, 23, 23, true), cp("B", 14, 6, 10, 29, 29, true),
			cp("A", 21, 3, 0, 23, 23, true), cp("B", 21, 6, 3, 29, 29, true),
			cp("B", 28, 2, 0, 29, 29, true),
		}},
		{"independent", BacktestOptions{Independent: true, Window: 10, Trials: 200}, []Checkpoint{
			cp("B", 14, 6, 0, 29, 19, false), cp("A", 14, 10, 0, 23, 23, true),
			cp("B", 21, 6, 0, 29, 26, false), cp("A", 21, 3, 0, 23, 23, true),
			cp("B", 28, 2, 0, 29, 29, true),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Backtest(h, tt.o)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Backtest (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("summary", func(t *testing.T) {
		got := Summarize(Backtest(h, BacktestOptions{Independent: true, Window: 10, Trials: 200}))
		// Errors 10, 0, 3, 0, 0: MAE = bias = 13/5; B missed twice.
		want := Accuracy{Milestones: 2, Checkpoints: 5, HitP50: 3.0 / 5, HitP85: 3.0 / 5, HitP95: 3.0 / 5, MAE: 13.0 / 5, Bias: 13.0 / 5}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Summarize (-want +got):\n%s", diff)
		}
	})
}

func TestBacktestScopeAndQueueAtCheckpoint(t *testing.T) {
	// Two a day, share from the window: of the 20 completions in the 10
	// days before day 14, 5 were milestone work: s = 1/4.
	comps, msComps := repeat(2, 30), make([]int, 30)
	for d := 4; d < 9; d++ {
		msComps[d] = 1
	}
	h := History{First: monday, Completions: comps, MilestoneCompletions: msComps, Milestones: []PastMilestone{
		// Its life starts on day 8 (its start date; items were filed before).
		{ID: "m1", Name: "M1", Start: on(8), Finished: on(20), Scored: true, Items: []PastItem{
			{Created: on(2), Finished: on(12)},  // finished before day 14: not open
			{Created: on(2), Finished: on(14)},  // finished on day 14: open at 14
			{Created: on(13), Finished: on(20)}, // created before 14: open
			{Created: on(14), Finished: on(15)}, // created on 14: not yet at 14
		}, Due: []DueFrom{{Due: on(50)}, {From: on(10), Due: on(25)}}},
		// Open now, not scored; due 20, moved to 30 on day 14: at the
		// checkpoint of day 14 it is still due 20, before M1 (due 25 since
		// day 10, first 50): first in the queue.
		{ID: "m2", Name: "M2", Start: on(1), Items: []PastItem{{Created: on(1)}, {Created: on(3)}},
			Due: []DueFrom{{Due: on(20)}, {From: on(14), Due: on(30)}}},
		// No due date: last.
		{ID: "m3", Name: "M3", Start: on(1), Items: []PastItem{{Created: on(1)}}},
	}}
	got := Backtest(h, BacktestOptions{Window: 10, Trials: 1000, Seed: 4})
	if len(got) != 1 {
		t.Fatalf("Backtest gave %d checkpoints, want 1 (day 14; M1 finished on day 20): %+v", len(got), got)
	}
	c := got[0]
	if c.Date != on(14) || c.Remaining != 2 || c.Ahead != 2 || c.Share != 0.25 || c.Actual != on(20) || !c.Known {
		t.Errorf("checkpoint = %+v, want day 14, 2 open, 2 ahead (M2), share 0.25, actual day 20", c)
	}
	// The same as the portfolio forecast of that queue (M2 2, M1 2, M3 1).
	want := Portfolio(PortfolioInput{Samples: repeat(2, 10), Share: 0.25, Start: on(14), Trials: 1000, Seed: 4,
		Milestones: []Milestone{{Remaining: 2}, {Remaining: 2}, {Remaining: 1}}})[1]
	if c.P50 != want.P50 || c.P85 != want.P85 || c.P95 != want.P95 {
		t.Errorf("checkpoint dates %v %v %v, want the portfolio's %v %v %v", c.P50, c.P85, c.P95, want.P50, want.P85, want.P95)
	}
}

func TestBacktestUnknownWithoutThroughput(t *testing.T) {
	// Nothing finished in the 10 days before day 14: unknown, not scored.
	comps := make([]int, 30)
	comps[20] = 1
	h := History{First: monday, Completions: comps, Milestones: []PastMilestone{{ID: "m", Name: "M", Start: on(10),
		Finished: on(20), Scored: true, Items: []PastItem{{Created: on(10), Finished: on(20)}}}}}
	got := Backtest(h, BacktestOptions{Window: 10, Trials: 100})
	want := []Checkpoint{{Milestone: "m", Date: on(14), Remaining: 1, Share: 1, Actual: on(20)}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Backtest (-want +got):\n%s", diff)
	}
	if a := Summarize(got); a != (Accuracy{Milestones: 1, Checkpoints: 1, Unknown: 1}) {
		t.Errorf("Summarize = %+v, want 1 milestone, 1 unknown checkpoint, no rates", a)
	}
	// The data begins on day 5: the window before day 14 (days 4..13)
	// reaches before it: unknown, even with completions in it.
	comps[10] = 1
	h.Since = on(5)
	if got := Backtest(h, BacktestOptions{Window: 10, Trials: 100}); len(got) != 1 || got[0].Known {
		t.Errorf("Backtest with the window before the data = %+v, want one unknown checkpoint", got)
	}
	h.Since = on(4)
	if got := Backtest(h, BacktestOptions{Window: 10, Trials: 100}); len(got) != 1 || !got[0].Known {
		t.Errorf("Backtest with the window within the data = %+v, want one known checkpoint", got)
	}
}

// finishCDF returns F(n) = P(finish day <= n) for n = 0..maxN of r items
// when each day's throughput is drawn from pmf, independently: the mass of
// "r or more done" after n days (a convolution, independent of the code
// under test).
func finishCDF(pmf []float64, r, maxN int) []float64 {
	dist := make([]float64, r+1) // items done, r absorbing
	dist[0] = 1
	out := make([]float64, maxN+1)
	for n := 1; n <= maxN; n++ {
		next := make([]float64, r+1)
		next[r] = dist[r]
		for k := 0; k < r; k++ {
			for v, p := range pmf {
				next[min(k+v, r)] += dist[k] * p
			}
		}
		dist = next
		out[n] = dist[r]
	}
	return out
}

// generated is a project whose milestones come one at a time: each opens
// with r items created on a Sunday and takes the daily throughput until
// done; the next opens on the Sunday after. The throughput of day d is
// drawn uniformly from rate(d). Milestones opening on or after scoreFrom
// are scored.
func generated(seed uint64, days, r, scoreFrom int, rate func(d int) []int) History {
	rng := rand.New(rand.NewPCG(seed, 7))
	h := History{First: monday, Completions: make([]int, days)}
	var cur *PastMilestone
	left := 0
	for d := range days {
		vals := rate(d)
		v := vals[rng.IntN(len(vals))]
		h.Completions[d] = v
		if cur == nil && d%7 == 6 && d+30 < days { // a Sunday: open the next
			id := fmt.Sprintf("%d-%d", seed, d)
			h.Milestones = append(h.Milestones, PastMilestone{ID: id, Name: id, Start: on(d), Scored: d >= scoreFrom})
			cur = &h.Milestones[len(h.Milestones)-1]
			for range r {
				cur.Items = append(cur.Items, PastItem{Created: on(d)})
			}
			left = r
			continue // created at the end of the day: nothing of today's goes to it
		}
		for ; cur != nil && v > 0 && left > 0; v-- {
			cur.Items[r-left].Finished = on(d)
			left--
		}
		if cur != nil && left == 0 {
			cur.Finished = on(d)
			cur = nil
		}
	}
	if cur != nil {
		cur.Scored = false
	}
	h.MilestoneCompletions = h.Completions // all of it is milestone work: s = 1
	return h
}

func TestBacktestCalibratedOnStationaryThroughput(t *testing.T) {
	// Daily throughput uniform on {0,…,4}, known and constant over years.
	// A forecast's P85 date then holds the actual finish with probability
	// F(P85) computed from the true distribution; the hit rate over many
	// checkpoints is the mean of those (nearest-rank whole days put it a
	// little above 0.85), within sampling error. Checkpoints of one
	// milestone are not independent: the tolerance treats each milestone's
	// checkpoints as one draw of up to their number (a conservative bound).
	pmf := []float64{0.2, 0.2, 0.2, 0.2, 0.2}
	const r = 8
	h := generated(1, 8000, r, 400, func(int) []int { return []int{0, 1, 2, 3, 4} })
	cps := Backtest(h, BacktestOptions{Window: 365, Trials: 4000, Seed: 9})
	cdfs := map[int][]float64{}
	per := map[string]int{}
	var expect50, expect85, expect95 float64
	n := 0
	for _, c := range cps {
		if !c.Known {
			t.Fatalf("checkpoint %v unknown", c.Date)
		}
		f, ok := cdfs[c.Remaining]
		if !ok {
			f = finishCDF(pmf, c.Remaining, 200)
			cdfs[c.Remaining] = f
		}
		at := func(p time.Time) float64 { return f[int(p.Sub(c.Date).Hours()/24)+1] }
		expect50 += at(c.P50)
		expect85 += at(c.P85)
		expect95 += at(c.P95)
		per[c.Milestone]++
		n++
	}
	expect50, expect85, expect95 = expect50/float64(n), expect85/float64(n), expect95/float64(n)
	var sq float64
	for _, k := range per {
		sq += float64(k * k)
	}
	got := Summarize(cps)
	t.Logf("%d checkpoints of %d milestones: hit rates P50 %.3f (expected %.3f), P85 %.3f (expected %.3f), P95 %.3f (expected %.3f); MAE %.2f days, bias %+.2f",
		n, len(per), got.HitP50, expect50, got.HitP85, expect85, got.HitP95, expect95, got.MAE, got.Bias)
	for _, x := range []struct {
		name      string
		hit, want float64
	}{{"P50", got.HitP50, expect50}, {"P85", got.HitP85, expect85}, {"P95", got.HitP95, expect95}} {
		tol := 4 * math.Sqrt(sq*x.want*(1-x.want)) / float64(n)
		if math.Abs(x.hit-x.want) > tol {
			t.Errorf("%s hit rate %.4f, want %.4f ± %.4f", x.name, x.hit, x.want, tol)
		}
	}
	// And the expectations themselves are the definition's, up to whole days.
	for _, x := range []struct {
		name     string
		got, def float64
	}{{"P50", expect50, 0.50}, {"P85", expect85, 0.85}, {"P95", expect95, 0.95}} {
		if x.got < x.def-0.01 || x.got > x.def+0.1 {
			t.Errorf("expected %s hit rate %.4f, want within [%.2f, %.2f]", x.name, x.got, x.def-0.01, x.def+0.1)
		}
	}
	if got.Milestones != len(per) || got.Checkpoints != n || got.Unknown != 0 {
		t.Errorf("Summarize counts %+v, want %d milestones, %d checkpoints", got, len(per), n)
	}
}

func TestBacktestStepChangeShowsOptimism(t *testing.T) {
	// Throughput halves (uniform {0..4} → {0..2}) on day 1000 in ten
	// projects; milestones (20 items) in the 90 days after it are forecast
	// from windows still full of the old pace: their P85 dates are missed far
	// more often than 15 %, and the P85 error is positive (late). The
	// backtest reports it; it does not hide it.
	rate := func(d int) []int {
		if d < 1000 {
			return []int{0, 1, 2, 3, 4}
		}
		return []int{0, 1, 2}
	}
	var after, before []Checkpoint
	for p := range uint64(10) {
		after = append(after, Backtest(generated(p, 1120, 20, 1000, rate), BacktestOptions{Window: 90, Trials: 2000, Seed: 9})...)
		before = append(before, Backtest(generated(p, 1000, 20, 400, rate), BacktestOptions{Window: 90, Trials: 2000, Seed: 9})...)
	}
	got, calm := Summarize(after), Summarize(before)
	t.Logf("after the step: %d checkpoints of %d milestones, hit rates P50 %.2f P85 %.2f P95 %.2f, MAE %.1f days, bias %+.1f",
		got.Checkpoints, got.Milestones, got.HitP50, got.HitP85, got.HitP95, got.MAE, got.Bias)
	t.Logf("before it: %d checkpoints of %d milestones, hit rates P50 %.2f P85 %.2f P95 %.2f, MAE %.1f days, bias %+.1f",
		calm.Checkpoints, calm.Milestones, calm.HitP50, calm.HitP85, calm.HitP95, calm.MAE, calm.Bias)
	if got.Checkpoints < 50 || got.HitP85 > 0.6 || got.HitP85 > calm.HitP85-0.25 || got.Bias <= 0 {
		t.Errorf("after a step down: %+v; want at least 50 checkpoints, a P85 hit rate far below 0.85 (<= 0.6, and 0.25 below the %.2f before the step), a positive bias (late)", got, calm.HitP85)
	}
	// Before the step the same projects are calibrated (binomial 4 sd of
	// 0.85 on that many checkpoints, times 2 for their clustering).
	if tol := 8 * math.Sqrt(0.85*0.15/float64(calm.Checkpoints)); calm.HitP85 < 0.85-tol {
		t.Errorf("before the step: P85 hit rate %.3f, want at least %.3f", calm.HitP85, 0.85-tol)
	}
}

func TestBacktestDeterministic(t *testing.T) {
	h := generated(3, 600, 8, 200, func(int) []int { return []int{0, 1, 3} })
	h.MilestoneCompletions = make([]int, len(h.Completions))
	for d, v := range h.Completions {
		h.MilestoneCompletions[d] = v / 2 // s about 1/2: the thinned draws too
	}
	for _, ind := range []bool{false, true} {
		o := BacktestOptions{Independent: ind, Window: 60, Trials: 3000, Seed: 5}
		first := Backtest(h, o)
		func() {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
			for _, procs := range []int{1, 3, 8} {
				runtime.GOMAXPROCS(procs)
				if diff := cmp.Diff(first, Backtest(h, o)); diff != "" {
					t.Errorf("independent %v, GOMAXPROCS=%d: Backtest differs (-first +got):\n%s", ind, procs, diff)
				}
			}
		}()
	}
}

// history returns a year of generated history for 50 projects of 4
// milestones each completed in the year (200 scored, 2 to 8 weeks long),
// the backtest benchmark's input.
func history() []History {
	var out []History
	for p := range 50 {
		rng := rand.New(rand.NewPCG(uint64(p), 1))
		mean := 1 + 4*rng.Float64()
		vals := []int{0, int(2 * mean)} // mean throughput `mean`
		days := 365 + 90
		h := generated(uint64(p), days, int(mean*7*float64(2+rng.IntN(7))), 90, func(int) []int { return vals })
		// Keep 4 milestones completed in the last year, scored.
		var keep []PastMilestone
		for _, m := range h.Milestones {
			if m.Scored && !m.Finished.IsZero() && len(keep) < 4 {
				keep = append(keep, m)
			}
		}
		h.Milestones = keep
		out = append(out, h)
	}
	return out
}

// BenchmarkBacktestYear200Milestones backtests a year of 200 completed
// milestones (50 projects, 10,000 trials a forecast) in the portfolio model;
// the independent model is its baseline.
func BenchmarkBacktestYear200Milestones(b *testing.B) {
	hs := history()
	for _, ind := range []bool{false, true} {
		name := "portfolio"
		if ind {
			name = "independent"
		}
		b.Run(name, func(b *testing.B) {
			cps := 0
			for b.Loop() {
				cps = 0
				for _, h := range hs {
					cps += len(Backtest(h, BacktestOptions{Independent: ind, Trials: 10000, Seed: 1}))
				}
			}
			b.ReportMetric(float64(cps), "checkpoints")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*cps), "ns/checkpoint")
		})
	}
}
