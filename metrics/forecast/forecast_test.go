package forecast

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// start is the first simulated day of most tests.
var start = date(2025, time.March, 3)

func date(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// day returns start + (n−1) days: the date of day number n.
func day(n int) time.Time { return start.AddDate(0, 0, n-1) }

// dayOf is the inverse of day.
func dayOf(t time.Time) int { return int(t.Sub(start)/(24*time.Hour)) + 1 }

func repeat(v, n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// binomAtLeast returns P(Binomial(n, 1/2) >= k), exactly up to float rounding.
func binomAtLeast(n, k int) float64 {
	pmf := math.Pow(0.5, float64(n)) // P(X = 0)
	p := 0.0
	for j := 0; j <= n; j++ {
		if j >= k {
			p += pmf
		}
		pmf *= float64(n-j) / float64(j+1)
	}
	return min(p, 1)
}

func TestWhenConstantThroughput(t *testing.T) {
	type tc struct {
		name       string
		c, r       int
		due        int // day number of Due relative to the completion day: -1, 0, +1
		wantOnTime float64
	}
	var tests []tc
	for _, c := range []int{1, 2, 3, 5} {
		for _, r := range []int{1, 2, 5, 7, 10, 99} {
			for _, d := range []struct {
				off  int
				want float64
			}{{-1, 0}, {0, 1}, {1, 1}} {
				tests = append(tests, tc{fmt.Sprintf("c=%d/r=%d/due%+d", c, r, d.off), c, r, d.off, d.want})
			}
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doneDay := (tt.r + tt.c - 1) / tt.c
			in := Input{
				Samples:   repeat(tt.c, 30),
				Remaining: tt.r,
				Start:     start,
				Due:       day(doneDay + tt.due),
				Trials:    2000,
				Seed:      7,
			}
			got := When(in)
			want := Result{
				Known: true,
				P50:   day(doneDay), P70: day(doneDay), P85: day(doneDay), P95: day(doneDay),
				OnTimeProbability: tt.wantOnTime,
				Days:              slices.Repeat([]int32{int32(doneDay)}, in.Trials),
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("When(c=%d, r=%d) mismatch (-want +got):\n%s", tt.c, tt.r, diff)
			}
		})
	}
}

func TestWhenTwoValued(t *testing.T) {
	// Samples [0, 2]: each day completes 2 items with probability 1/2, so the
	// completion day D is the day of the k-th "2", k = ceil(r/2), and
	// P(D <= n) = P(Binomial(n, 1/2) >= k).
	const trials = 100000
	tests := []struct {
		r      int
		checkN []int
	}{
		{r: 10, checkN: []int{5, 7, 8, 9, 10, 12, 15, 20}},
		{r: 9, checkN: []int{5, 8, 10, 13, 18}},
		{r: 30, checkN: []int{15, 25, 30, 35, 40, 45}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("r=%d", tt.r), func(t *testing.T) {
			k := (tt.r + 1) / 2
			got := When(Input{Samples: []int{0, 2}, Remaining: tt.r, Start: start, Trials: trials, Seed: 42})
			if !got.Known {
				t.Fatalf("When: Known false, want true")
			}
			for _, n := range tt.checkN {
				want := binomAtLeast(n, k)
				sim := Calibration(got.Days, n) // share of trials with D <= n
				// The simulated share is a mean of `trials` Bernoulli(want)
				// draws: standard error sqrt(p(1−p)/trials). Four of them
				// leave a false-failure chance of ~6e-5 per check.
				tol := 4 * math.Sqrt(want*(1-want)/trials)
				if math.Abs(sim-want) > tol {
					t.Errorf("P(D <= %d) = %.5f, want %.5f ± %.5f", n, sim, want, tol)
				}
			}
			for _, p := range []struct {
				q    float64
				date time.Time
			}{{0.50, got.P50}, {0.70, got.P70}, {0.85, got.P85}, {0.95, got.P95}} {
				exact := k // smallest n with P(D <= n) >= q
				for binomAtLeast(exact, k) < p.q {
					exact++
				}
				if g := dayOf(p.date); g < exact-1 || g > exact+1 {
					t.Errorf("P%.0f day = %d, want %d ± 1", p.q*100, g, exact)
				}
			}
		})
	}
}

func TestWhenUnknown(t *testing.T) {
	tests := []struct {
		name string
		in   Input
	}{
		{"all zero", Input{Samples: []int{0, 0, 0}, Remaining: 5}},
		{"negative and zero", Input{Samples: []int{0, -2}, Remaining: 5}},
		{"empty", Input{Samples: []int{}, Remaining: 5}},
		{"nil", Input{Remaining: 5}},
		{"negative remaining", Input{Samples: []int{1, 2}, Remaining: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Start, tt.in.Due = start, day(100)
			if diff := cmp.Diff(Result{}, When(tt.in)); diff != "" {
				t.Errorf("When mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWhenRemainingZero(t *testing.T) {
	done := day(0) // the day before Start
	tests := []struct {
		name    string
		samples []int
		due     time.Time
		want    float64
	}{
		{"no due", []int{1, 2}, time.Time{}, 0},
		{"due day before start", []int{1, 2}, done, 1},
		{"due on start", []int{1, 2}, start, 1},
		{"due two days before start", []int{1, 2}, day(-1), 0},
		{"no samples", nil, start, 1},
		{"zero samples", []int{0, 0}, start, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := When(Input{Samples: tt.samples, Remaining: 0, Start: start, Due: tt.due, Trials: 10})
			want := Result{
				Known: true,
				P50:   done, P70: done, P85: done, P95: done,
				OnTimeProbability: tt.want,
				Days:              make([]int32, 10),
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("When mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWhenHorizon(t *testing.T) {
	t.Run("never done", func(t *testing.T) {
		got := When(Input{Samples: []int{0, 0, 0, 1}, Remaining: 10000, Start: start, Due: day(50), Trials: 500, MaxDays: 100})
		want := Result{Known: true, Days: slices.Repeat([]int32{101}, 500)}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("When mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("due past horizon", func(t *testing.T) {
		// P(done within 100 days) = P(Binomial(100, 1/2) >= 60) ≈ 0.028:
		// most trials are beyond, and those never count as on time.
		got := When(Input{Samples: []int{0, 1}, Remaining: 60, Start: start, Due: day(1000), Trials: 20000, MaxDays: 100, Seed: 3})
		within := Calibration(got.Days, 100)
		if got.OnTimeProbability != within {
			t.Errorf("OnTimeProbability = %v, want share done within the horizon %v", got.OnTimeProbability, within)
		}
		if want := binomAtLeast(100, 60); math.Abs(within-want) > 4*math.Sqrt(want*(1-want)/20000) {
			t.Errorf("share done within horizon = %v, want ≈ %v", within, want)
		}
		if !got.P50.IsZero() || !got.P95.IsZero() {
			t.Errorf("P50, P95 = %v, %v, want zero (beyond)", got.P50, got.P95)
		}
	})
}

func TestWhenInvariants(t *testing.T) {
	tests := []struct {
		name string
		in   Input
	}{
		{"default trials", Input{Samples: []int{0, 1, 3, 0, 2}, Remaining: 40, Seed: 1}},
		{"odd trials", Input{Samples: []int{0, 1, 3, 0, 2}, Remaining: 40, Trials: 3001, Seed: 1}},
		{"one trial", Input{Samples: []int{0, 1, 3, 0, 2}, Remaining: 40, Trials: 1, Seed: 1}},
		{"small horizon", Input{Samples: []int{0, 1}, Remaining: 20, Trials: 5000, MaxDays: 40, Seed: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Start = start
			got := When(tt.in)
			n, maxDays := tt.in.Trials, tt.in.MaxDays
			if n == 0 {
				n = DefaultTrials
			}
			if maxDays == 0 {
				maxDays = DefaultMaxDays
			}
			if len(got.Days) != n {
				t.Fatalf("len(Days) = %d, want %d", len(got.Days), n)
			}
			if !slices.IsSorted(got.Days) || got.Days[0] < 1 || int(got.Days[n-1]) > maxDays+1 {
				t.Errorf("Days not sorted within [1, %d]: first %d, last %d", maxDays+1, got.Days[0], got.Days[n-1])
			}
			ps := []time.Time{got.P50, got.P70, got.P85, got.P95}
			for i := 1; i < len(ps); i++ {
				if !ps[i].IsZero() && ps[i].Before(ps[i-1]) {
					t.Errorf("percentiles out of order: %v", ps)
				}
			}
		})
	}
}

func TestWhenDeterministic(t *testing.T) {
	in := Input{Samples: []int{0, 1, 0, 4, 2, 0, 0, 3}, Remaining: 60, Start: start, Due: day(50), Trials: 5000, Seed: 99}
	first := When(in)
	if diff := cmp.Diff(first, When(in)); diff != "" {
		t.Errorf("When not reproducible (-first +second):\n%s", diff)
	}
	firstN, _ := HowMany(in.Samples, 30, 5000, 99, 0.85)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 3, 8} {
		runtime.GOMAXPROCS(procs)
		if diff := cmp.Diff(first, When(in)); diff != "" {
			t.Errorf("GOMAXPROCS=%d: When differs (-first +got):\n%s", procs, diff)
		}
		if n, _ := HowMany(in.Samples, 30, 5000, 99, 0.85); n != firstN {
			t.Errorf("GOMAXPROCS=%d: HowMany = %d, first run gave %d", procs, n, firstN)
		}
	}
	in.Seed = 100
	if other := When(in); cmp.Equal(first.Days, other.Days) {
		t.Errorf("seeds 99 and 100 gave identical trials")
	}
}

func TestHowManyConstant(t *testing.T) {
	for _, c := range []int{1, 2, 7} {
		for _, days := range []int{0, 1, 10, 31} {
			for _, conf := range []float64{0, 0.5, 0.85, 0.95, 1} {
				t.Run(fmt.Sprintf("c=%d/days=%d/conf=%v", c, days, conf), func(t *testing.T) {
					got, ok := HowMany(repeat(c, 14), days, 500, 1, conf)
					if !ok || got != c*days {
						t.Errorf("HowMany = %d, %v, want %d, true", got, ok, c*days)
					}
				})
			}
		}
	}
}

func TestHowManyBinomial(t *testing.T) {
	// Samples [0, 1]: the total over d days is Binomial(d, 1/2). At 85%
	// confidence the answer is its 15th percentile: the smallest k with
	// P(X <= k) >= 0.15.
	const trials = 100000
	for _, d := range []int{10, 20, 30, 45} {
		t.Run(fmt.Sprintf("days=%d", d), func(t *testing.T) {
			want := 0
			for 1-binomAtLeast(d, want+1) < 0.15 {
				want++
			}
			// The nearest-rank answer can only differ from the exact quantile
			// when a CDF value lies within sampling error of 0.15; make sure
			// the test case is not one of those.
			sigma := math.Sqrt(0.15 * 0.85 / trials)
			for k := 0; k <= d; k++ {
				if cdf := 1 - binomAtLeast(d, k+1); math.Abs(cdf-0.15) < 6*sigma {
					t.Fatalf("bad test case: P(X <= %d) = %v too close to 0.15", k, cdf)
				}
			}
			got, ok := HowMany([]int{0, 1}, d, trials, 5, 0.85)
			if !ok || got != want {
				t.Errorf("HowMany(days=%d, 85%%) = %d, %v, want %d, true", d, got, ok, want)
			}
		})
	}
}

func TestHowManyUnknown(t *testing.T) {
	tests := []struct {
		name    string
		samples []int
		days    int
		conf    float64
	}{
		{"empty", nil, 10, 0.85},
		{"all zero", []int{0, 0}, 10, 0.85},
		{"negative days", []int{1}, -1, 0.85},
		{"confidence above 1", []int{1}, 10, 85},
		{"confidence below 0", []int{1}, 10, -0.1},
		{"confidence NaN", []int{1}, 10, math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, ok := HowMany(tt.samples, tt.days, 100, 1, tt.conf); ok || got != 0 {
				t.Errorf("HowMany = %d, %v, want 0, false", got, ok)
			}
		})
	}
}

func TestCalibration(t *testing.T) {
	days := []int32{1, 2, 2, 3, 5, 101}
	tests := []struct {
		days   []int32
		actual int
		want   float64
	}{
		{days, -5, 0},
		{days, 0, 0},
		{days, 1, 1.0 / 6},
		{days, 2, 3.0 / 6},
		{days, 4, 4.0 / 6},
		{days, 5, 5.0 / 6},
		{days, 100, 5.0 / 6},
		{days, 101, 1},
		{days, math.MaxInt64, 1},
		{[]int32{0, 0}, 0, 1},
		{nil, 3, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v/%d", tt.days, tt.actual), func(t *testing.T) {
			if got := Calibration(tt.days, tt.actual); got != tt.want {
				t.Errorf("Calibration = %v, want %v", got, tt.want)
			}
		})
	}
}

// milestones returns n "when" inputs: Remaining 5..200, a 90-day window of
// Poisson daily throughput with mean 0.5..5, 10,000 trials each.
func milestones(n int) []Input {
	r := rand.New(rand.NewPCG(1, 2))
	ins := make([]Input, n)
	for i := range ins {
		mean := 0.5 + 4.5*r.Float64()
		samples := make([]int, 90)
		for d := range samples {
			// Knuth's Poisson sampler.
			l, k, p := math.Exp(-mean), 0, r.Float64()
			for p > l {
				k++
				p *= r.Float64()
			}
			samples[d] = k
		}
		ins[i] = Input{
			Samples:   samples,
			Remaining: 5 + r.IntN(196),
			Start:     start,
			Due:       day(60),
			Trials:    10000,
			Seed:      uint64(i),
		}
	}
	return ins
}

func BenchmarkWhen200Milestones(b *testing.B) {
	ins := milestones(200)
	for b.Loop() {
		for _, in := range ins {
			When(in)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ins)), "ns/milestone")
}
