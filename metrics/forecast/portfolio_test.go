package forecast

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// constantResult is the result of a milestone finishing on day n in every
// trial, due on day due (0: none).
func constantResult(n, due, trials int) Result {
	r := Result{Known: true, P50: day(n), P70: day(n), P85: day(n), P95: day(n), Days: slices.Repeat([]int32{int32(n)}, trials)}
	if due > 0 && due >= n {
		r.OnTimeProbability = 1
	}
	return r
}

func TestPortfolioConstantThroughputInSequence(t *testing.T) {
	// Constant throughput c a day, no thinning: milestone k of the queue is
	// done on the first day the total c·n reaches the remaining items of
	// milestones 1..k: day ceil((R1+…+Rk)/c). The second finishes exactly
	// when both scopes are done.
	tests := []struct {
		c         int
		remaining []int
		want      []int // finish days
	}{
		{c: 1, remaining: []int{3, 5}, want: []int{3, 8}},
		{c: 2, remaining: []int{3, 5}, want: []int{2, 4}},
		{c: 2, remaining: []int{4, 4}, want: []int{2, 4}},
		{c: 3, remaining: []int{1, 1, 1}, want: []int{1, 1, 1}},
		{c: 3, remaining: []int{10, 1, 7}, want: []int{4, 4, 6}},
		{c: 5, remaining: []int{2, 0, 9}, want: []int{1, 0, 3}}, // an empty milestone is done already
		{c: 1, remaining: []int{99}, want: []int{99}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("c=%d/%v", tt.c, tt.remaining), func(t *testing.T) {
			in := PortfolioInput{Samples: repeat(tt.c, 30), Start: start, Trials: 1500, Seed: 11}
			for i, r := range tt.remaining {
				// Due the day the milestone finishes for even positions, the
				// day before for odd ones: on time 1 and 0.
				due := tt.want[i] - i%2
				in.Milestones = append(in.Milestones, Milestone{Remaining: r, Due: day(due)})
			}
			got := Portfolio(in)
			var want []Result
			for i, n := range tt.want {
				if n == 0 {
					want = append(want, done(start, day(n-i%2), in.Trials))
					continue
				}
				want = append(want, constantResult(n, n-i%2, in.Trials))
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Portfolio mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPortfolioOneMilestoneIsWhen(t *testing.T) {
	// Independent mode stays When; a portfolio of one milestone without
	// thinning draws the very same trials.
	for _, tt := range []Input{
		{Samples: []int{0, 1, 0, 4, 2, 0, 0, 3}, Remaining: 60, Due: day(40), Trials: 5000, Seed: 99},
		{Samples: []int{0, 0, 1}, Remaining: 7, Due: day(10), Trials: 3001, Seed: 5},
		{Samples: []int{0, 1}, Remaining: 60, Due: day(200), Trials: 2000, MaxDays: 100, Seed: 3},
		{Samples: repeat(2, 9), Remaining: 0, Due: day(1), Trials: 100},
	} {
		t.Run(fmt.Sprintf("%v/r=%d", tt.Samples, tt.Remaining), func(t *testing.T) {
			tt.Start = start
			want := When(tt)
			for _, share := range []float64{0, 1} {
				got := Portfolio(PortfolioInput{Samples: tt.Samples, Share: share, Start: start, Trials: tt.Trials, Seed: tt.Seed,
					MaxDays: tt.MaxDays, Milestones: []Milestone{{Remaining: tt.Remaining, Due: tt.Due}}})
				if diff := cmp.Diff([]Result{want}, got); diff != "" {
					t.Errorf("share %v: Portfolio differs from When (-when +portfolio):\n%s", share, diff)
				}
			}
		})
	}
}

func TestPortfolioThinningExpectation(t *testing.T) {
	// One item a day, each counted with probability s = 0.5: the finish day
	// of r items is negative binomial, E[D] = r/s = 2r exactly, variance
	// r(1−s)/s² = 2r. The queue's second milestone finishes with the sum.
	const trials = 40000
	got := Portfolio(PortfolioInput{Samples: repeat(1, 20), Share: 0.5, Start: start, Trials: trials, Seed: 8,
		Milestones: []Milestone{{Remaining: 6}, {Remaining: 14}}})
	for i, r := range []int{6, 20} {
		var sum float64
		for _, d := range got[i].Days {
			sum += float64(d)
		}
		mean, want := sum/trials, 2*float64(r)
		if se := math.Sqrt(2 * float64(r) / trials); math.Abs(mean-want) > 4*se {
			t.Errorf("milestone %d (r=%d): mean finish day %.4f, want %v ± %.4f", i, r, mean, want, 4*se)
		}
	}
	// The thinning draw itself: the probability of each value over all 2^32
	// uniforms, counted exactly from the alias table, is the mixture's: a
	// day of [2] thinned at 1/2 is Binomial(2, 1/2), 1/4, 1/2, 1/4; a day of
	// [1, 3] is ½·Bin(1, ½) + ½·Bin(3, ½): 5/16, 7/16, 3/16, 1/16; a day of
	// [0, 5, 9] at 0.3 is the mixture of three binomials.
	mix := func(samples []int, s float64) []float64 {
		most := slices.Max(samples)
		out := make([]float64, most+1)
		for _, v := range samples {
			for k := 0; k <= v; k++ {
				c := 1.0
				for j := range k {
					c = c * float64(v-j) / float64(j+1)
				}
				out[k] += c * math.Pow(s, float64(k)) * math.Pow(1-s, float64(v-k)) / float64(len(samples))
			}
		}
		return out
	}
	for _, tt := range []struct {
		samples []int
		share   float64
		want    []float64
	}{
		{[]int{2}, 0.5, []float64{0.25, 0.5, 0.25}},
		{[]int{1, 3}, 0.5, []float64{5.0 / 16, 7.0 / 16, 3.0 / 16, 1.0 / 16}},
		{[]int{0, 5, 9}, 0.3, mix([]int{0, 5, 9}, 0.3)},
	} {
		tab := newThinTable(tt.samples, tt.share)
		got := make([]float64, len(tt.want))
		n := uint64(len(tab.prob))
		for k := range n {
			lo := (k<<32 + n - 1) / n     // first u of column k
			hi := ((k+1)<<32 + n - 1) / n // first u of the next
			keep := min((k<<32+uint64(tab.prob[k])+n-1)/n, hi) - lo
			got[k] += float64(keep) / (1 << 32)
			got[tab.alias[k]] += float64(hi-lo-keep) / (1 << 32)
		}
		if diff := cmp.Diff(tt.want, got, cmpopts.EquateApprox(0, float64(n)/(1<<32)+1e-12)); diff != "" {
			t.Errorf("%v thinned at %v: P(value) over every uniform (-want +got):\n%s", tt.samples, tt.share, diff)
		}
	}
}

func TestPortfolioThinningBinomial(t *testing.T) {
	// One item a day counted with probability 1/2: the queue's k-th
	// milestone is done on day D with P(D <= n) = P(Binomial(n, 1/2) >= R1+…+Rk),
	// as TestWhenTwoValued checks the single model.
	const trials = 100000
	got := Portfolio(PortfolioInput{Samples: []int{1}, Share: 0.5, Start: start, Trials: trials, Seed: 42,
		Milestones: []Milestone{{Remaining: 5}, {Remaining: 10}}})
	for i, tt := range []struct {
		k      int
		checkN []int
	}{{5, []int{5, 8, 10, 13, 18}}, {15, []int{20, 25, 30, 35, 40, 45}}} {
		for _, n := range tt.checkN {
			want := binomAtLeast(n, tt.k)
			sim := Calibration(got[i].Days, n)
			if tol := 4 * math.Sqrt(want*(1-want)/trials); math.Abs(sim-want) > tol {
				t.Errorf("milestone %d: P(D <= %d) = %.5f, want %.5f ± %.5f", i, n, sim, want, tol)
			}
		}
	}
	// Two a day at s = 1/2 is Binomial(2, 1/2) a day: P(D <= n) =
	// P(Binomial(2n, 1/2) >= r).
	two := Portfolio(PortfolioInput{Samples: []int{2, 2}, Share: 0.5, Start: start, Trials: trials, Seed: 43,
		Milestones: []Milestone{{Remaining: 9}}})
	for _, n := range []int{5, 8, 9, 10, 12, 15} {
		want := binomAtLeast(2*n, 9)
		if sim, tol := Calibration(two[0].Days, n), 4*math.Sqrt(want*(1-want)/trials); math.Abs(sim-want) > tol {
			t.Errorf("two a day: P(D <= %d) = %.5f, want %.5f ± %.5f", n, sim, want, tol)
		}
	}
}

func TestPortfolioNotBefore(t *testing.T) {
	// Two a day. The open milestone (3 items) is done on day 2; the new work
	// (4 items) may start on day 5: days 3 and 4 go elsewhere, and it is done
	// on day 6. Starting on day 2 it takes the leftover of day 2: day 4.
	tests := []struct {
		notBefore time.Time
		want      int
	}{{day(5), 6}, {day(2), 4}, {start, 4}, {day(-3), 4}, {day(9), 10}}
	for _, tt := range tests {
		t.Run(day(tt.want).Format(time.DateOnly), func(t *testing.T) {
			got := Portfolio(PortfolioInput{Samples: []int{2}, Start: start, Trials: 100, Seed: 1,
				Milestones: []Milestone{{Remaining: 3}, {Remaining: 4, NotBefore: tt.notBefore}}})
			want := []Result{constantResult(2, 0, 100), constantResult(tt.want, 0, 100)}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Portfolio mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPortfolioUnknown(t *testing.T) {
	doneRes := done(start, time.Time{}, 10)
	tests := []struct {
		name string
		in   PortfolioInput
		want []Result
	}{
		{"no completions", PortfolioInput{Samples: []int{0, 0}, Milestones: []Milestone{{Remaining: 3}, {Remaining: 0}}},
			[]Result{{}, doneRes}},
		{"share above 1", PortfolioInput{Samples: []int{1}, Share: 1.5, Milestones: []Milestone{{Remaining: 3}}}, []Result{{}}},
		{"share negative", PortfolioInput{Samples: []int{1}, Share: -0.5, Milestones: []Milestone{{Remaining: 3}}}, []Result{{}}},
		{"share NaN", PortfolioInput{Samples: []int{1}, Share: math.NaN(), Milestones: []Milestone{{Remaining: 3}}}, []Result{{}}},
		{"negative remaining", PortfolioInput{Samples: []int{1}, Milestones: []Milestone{{Remaining: -1}, {Remaining: 2}}},
			[]Result{{}, constantResult(2, 0, 10)}},
		{"none", PortfolioInput{Samples: []int{1}}, []Result{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Start, tt.in.Trials = start, 10
			if diff := cmp.Diff(tt.want, Portfolio(tt.in), cmp.Comparer(func(a, b []Result) bool {
				return cmp.Equal(a, b) || len(a) == 0 && len(b) == 0
			})); diff != "" {
				t.Errorf("Portfolio mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPortfolioHorizon(t *testing.T) {
	// The first milestone needs more than the horizon: both are beyond.
	got := Portfolio(PortfolioInput{Samples: []int{0, 0, 1}, Start: start, Trials: 50, MaxDays: 30,
		Milestones: []Milestone{{Remaining: 100}, {Remaining: 1}}})
	want := []Result{{Known: true, Days: slices.Repeat([]int32{31}, 50)}, {Known: true, Days: slices.Repeat([]int32{31}, 50)}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Portfolio mismatch (-want +got):\n%s", diff)
	}
}

func TestPortfolioDeterministic(t *testing.T) {
	in := PortfolioInput{Samples: []int{0, 1, 0, 4, 2, 0, 0, 3, 7}, Share: 0.62, Start: start, Trials: 5000, Seed: 99,
		Milestones: []Milestone{{Remaining: 12, Due: day(9)}, {Remaining: 30, Due: day(30)}, {Remaining: 4, NotBefore: day(20)}}}
	first := Portfolio(in)
	firstN, _ := HowManyQueued(in.Samples, 0.62, 10, 25, 30, 5000, 99, 0.85)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 3, 8} {
		runtime.GOMAXPROCS(procs)
		if diff := cmp.Diff(first, Portfolio(in)); diff != "" {
			t.Errorf("GOMAXPROCS=%d: Portfolio differs (-first +got):\n%s", procs, diff)
		}
		if n, _ := HowManyQueued(in.Samples, 0.62, 10, 25, 30, 5000, 99, 0.85); n != firstN {
			t.Errorf("GOMAXPROCS=%d: HowManyQueued = %d, first run gave %d", procs, n, firstN)
		}
	}
	in.Seed = 100
	if other := Portfolio(in); cmp.Equal(first[1].Days, other[1].Days) {
		t.Errorf("seeds 99 and 100 gave identical trials")
	}
}

func TestHowManyQueued(t *testing.T) {
	tests := []struct {
		name                   string
		samples                []int
		share                  float64
		ahead, remaining, days int
		want                   int
	}{
		{"ahead takes the first", []int{2}, 1, 5, 10, 4, 3},
		{"capped at remaining", []int{2}, 1, 5, 10, 10, 10},
		{"nothing yet", []int{2}, 1, 5, 10, 2, 0},
		{"no days", []int{2}, 1, 0, 10, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, conf := range []float64{0.5, 0.85, 0.95} {
				got, ok := HowManyQueued(tt.samples, tt.share, tt.ahead, tt.remaining, tt.days, 200, 1, conf)
				if !ok || got != tt.want {
					t.Errorf("confidence %v: HowManyQueued = %d, %v, want %d, true", conf, got, ok, tt.want)
				}
			}
		})
	}
	// Without thinning, queue or cap it is HowMany, draw for draw.
	s := []int{0, 1, 0, 4, 2, 0, 0, 3}
	for _, conf := range []float64{0.5, 0.85, 0.95} {
		want, _ := HowMany(s, 30, 3000, 4, conf)
		if got, ok := HowManyQueued(s, 1, 0, math.MaxInt, 30, 3000, 4, conf); !ok || got != want {
			t.Errorf("confidence %v: HowManyQueued = %d, %v, HowMany %d", conf, got, ok, want)
		}
	}
	// Thinned, one a day at s = 1/2: the total is Binomial(d, 1/2); at 85 %
	// its 15th percentile (see TestHowManyBinomial for the choice of d).
	for _, d := range []int{10, 20, 30, 45} {
		want := 0
		for 1-binomAtLeast(d, want+1) < 0.15 {
			want++
		}
		if got, ok := HowManyQueued([]int{1}, 0.5, 0, d, d, 100000, 5, 0.85); !ok || got != want {
			t.Errorf("days=%d: HowManyQueued thinned = %d, %v, want %d", d, got, ok, want)
		}
	}
	for _, bad := range []struct {
		share                 float64
		ahead, remaining, day int
	}{{2, 0, 1, 1}, {0.5, -1, 1, 1}, {0.5, 0, -1, 1}, {0.5, 0, 1, -1}} {
		if n, ok := HowManyQueued([]int{1}, bad.share, bad.ahead, bad.remaining, bad.day, 10, 1, 0.5); ok || n != 0 {
			t.Errorf("HowManyQueued(%+v) = %d, %v, want 0, false", bad, n, ok)
		}
	}
}

// portfolios returns n open milestones as 50 projects of n/50 each: a
// 90-day window of Poisson daily throughput with mean 0.5..5, 5..200 items
// each, share 0.6..1, due 60 days out.
func portfolios(n int) []PortfolioInput {
	ins := milestones(n) // the same throughput and remaining items as the When benchmark
	var out []PortfolioInput
	for p := 0; p < n; p += n / 50 {
		in := PortfolioInput{Samples: ins[p].Samples, Share: 0.6 + 0.4*float64(p%5)/4, Start: start, Trials: 10000, Seed: uint64(p)}
		for _, m := range ins[p : p+n/50] {
			in.Milestones = append(in.Milestones, Milestone{Remaining: m.Remaining, Due: m.Due})
		}
		out = append(out, in)
	}
	return out
}

// BenchmarkPortfolio200Milestones forecasts 200 open milestones (50
// projects of 4) in the portfolio model. Baselines in the same run: the
// same 200 milestones one by one (When, the independent model), and When
// on each project's total remaining with its samples: as many simulated
// days as the portfolio without thinning, so the ratio to it is the cost
// of the thinning (1/s more days, a table draw a day) and the queue.
func BenchmarkPortfolio200Milestones(b *testing.B) {
	ins := portfolios(200)
	b.Run("portfolio", func(b *testing.B) {
		for b.Loop() {
			for _, in := range ins {
				Portfolio(in)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*200), "ns/milestone")
	})
	b.Run("independent", func(b *testing.B) {
		ms := milestones(200)
		for b.Loop() {
			for _, in := range ms {
				When(in)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*200), "ns/milestone")
	})
	b.Run("totals-baseline", func(b *testing.B) {
		for b.Loop() {
			for _, in := range ins {
				total := 0
				for _, m := range in.Milestones {
					total += m.Remaining
				}
				When(Input{Samples: in.Samples, Remaining: total, Start: in.Start, Trials: in.Trials, Seed: in.Seed})
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*200), "ns/milestone")
	})
}
