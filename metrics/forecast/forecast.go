// Package forecast runs the Monte Carlo delivery forecasts: "when" will the
// remaining items of a milestone be done (alone, When, or with the other
// open milestones of its project, Portfolio), "how many" items will be done
// within a number of days, and how good such forecasts were on history
// (Backtest). It is pure computation: the caller reads the daily throughput
// window from the warehouse and stores the results.
//
// Every simulation is seeded and reproducible: the same input and seed give
// the same result on every machine, whatever GOMAXPROCS is. Trials are run in
// fixed-size chunks; each chunk draws from its own PCG stream derived from the
// seed and the chunk number, so the answer never depends on goroutine
// scheduling. Changing the algorithm (the chunk size, the stream derivation,
// the way a day is drawn) changes answers for recorded seeds; such a change
// must bump [Version].
package forecast

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Version identifies the simulation algorithm. It changes whenever the same
// input and seed would give a different answer, so that a stored forecast can
// be reproduced only by the version that made it.
//
// History: 1, When and HowMany. 2, the portfolio model (Portfolio,
// HowManyQueued; the default of the compute from then on): When and HowMany
// give the same answers as in version 1, and Portfolio with one milestone
// and no thinning gives When's.
const Version = 2

// Defaults applied when the corresponding Input field is zero (or negative).
const (
	DefaultTrials  = 10000
	DefaultMaxDays = 3650
)

const (
	// chunkSize is the number of trials drawn from one PCG stream. Part of
	// the algorithm: changing it changes the answer for a given seed.
	chunkSize = 1024
	// streamKey is the fixed second PCG seed word, mixed with the chunk
	// number ("throughl" in ASCII).
	streamKey = 0x7468726f7567686c
	// maxHistogram bounds the counting sort's day histogram; a larger
	// horizon falls back to a comparison sort.
	maxHistogram = 1 << 20
)

// Input is the input of a "when" forecast.
type Input struct {
	// Samples is the daily throughput of the trailing window, zero days
	// included, one value per day. Negative values count as zero.
	Samples []int
	// Remaining is the number of items left.
	Remaining int
	// Start is the calendar date of the first simulated day (midnight UTC;
	// only its year, month and day are used).
	Start time.Time
	// Due is the calendar date the milestone is due; the zero time when it
	// has none.
	Due time.Time
	// Trials is the number of simulated trials; DefaultTrials when <= 0.
	Trials int
	// Seed seeds the simulation; record it with the forecast.
	Seed uint64
	// MaxDays is the horizon; DefaultMaxDays when <= 0. A trial not done
	// within MaxDays days counts as not done: its completion is "beyond".
	MaxDays int
}

// Result is the outcome of a "when" forecast.
type Result struct {
	// Known is false when the forecast is "unknown": Samples is empty or has
	// no completion at all, or Remaining is negative. An unknown result has
	// zero dates, a zero on-time probability and no Days.
	Known bool
	// P50, P70, P85 and P95 are the nearest-rank percentiles (rank
	// ceil(p·n) of n trials) of the trials' completion dates; the zero time
	// when that percentile is beyond the horizon.
	P50, P70, P85, P95 time.Time
	// OnTimeProbability is the share of trials done on or before Due (trials
	// beyond the horizon are never on time); 0 when Due is zero.
	OnTimeProbability float64
	// Days are the sorted completion day numbers of all trials: 1 is Start,
	// MaxDays+1 is beyond the horizon, 0 means already done (Remaining 0).
	// Stored with the forecast for [Calibration].
	Days []int32
}

// When runs a Monte Carlo "when" forecast. Each trial draws one day's
// throughput at a time, uniformly from in.Samples, until the total reaches
// in.Remaining; its completion day is the number of days drawn, and its date
// is Start + (day−1) days.
//
// When in.Remaining is 0 the milestone is already done: the result is known
// whatever the samples, every percentile is the day before Start, every
// entry of Days is 0, and the on-time probability is 1 if Due is on or after
// the day before Start (0 if Due is zero or earlier).
func When(in Input) Result {
	trials, maxDays := limits(in.Trials, in.MaxDays)
	start := civil(in.Start)

	if in.Remaining == 0 {
		return done(start, in.Due, trials)
	}
	s, ok := prepare(in.Samples)
	if !ok || in.Remaining < 0 {
		return Result{}
	}

	days := make([]int32, trials)
	runChunks(trials, func(chunk, lo, hi int) {
		src := source(in.Seed, chunk)
		simulateWhen(days[lo:hi], &src, s, in.Remaining, int32(maxDays))
	})
	return summarize(days, start, in.Due, maxDays)
}

// limits returns the trials and horizon of a run: the defaults for values
// <= 0, the horizon capped for 32-bit day numbers.
func limits(trials, maxDays int) (int, int) {
	if trials <= 0 {
		trials = DefaultTrials
	}
	if maxDays <= 0 {
		maxDays = DefaultMaxDays
	}
	return trials, min(maxDays, math.MaxInt32-1)
}

// summarize sorts the completion days of the trials (all in [1, maxDays+1])
// and reads the percentile dates and the on-time probability from them.
func summarize(days []int32, start, due time.Time, maxDays int) Result {
	sortDays(days, maxDays)
	trials := len(days)
	beyond := int32(maxDays + 1)
	date := func(p int) time.Time {
		d := days[rank(p, trials)-1]
		if d >= beyond {
			return time.Time{}
		}
		return start.AddDate(0, 0, int(d)-1)
	}
	r := Result{Known: true, P50: date(50), P70: date(70), P85: date(85), P95: date(95), Days: days}
	if !due.IsZero() {
		// Day number of Due; trials beyond the horizon are never on time.
		dueDay := dayNumber(civil(due)) - dayNumber(start) + 1
		limit := min(dueDay, int64(maxDays))
		if limit >= 1 {
			r.OnTimeProbability = float64(countAtMost(days, int32(limit))) / float64(trials)
		}
	}
	return r
}

// done is the result of a milestone with nothing left: known, every
// percentile the day before start, every trial on day 0, on time when due
// is on or after that day.
func done(start, due time.Time, trials int) Result {
	d := start.AddDate(0, 0, -1)
	r := Result{Known: true, P50: d, P70: d, P85: d, P95: d, Days: make([]int32, trials)}
	if !due.IsZero() && !civil(due).Before(d) {
		r.OnTimeProbability = 1
	}
	return r
}

// HowMany answers "how many items will be done within days days at the
// given confidence": the nearest-rank (1−confidence) percentile of the
// simulated totals of days draws from samples. confidence is a fraction in
// [0, 1] (0.85 for 85%); trials is DefaultTrials when <= 0.
//
// The bool is false, and the count 0, when the answer is unknown: samples is
// empty or has no completion at all, days is negative, or confidence is
// outside [0, 1].
func HowMany(samples []int, days, trials int, seed uint64, confidence float64) (int, bool) {
	s, ok := prepare(samples)
	if !ok || days < 0 || !(confidence >= 0 && confidence <= 1) {
		return 0, false
	}
	if trials <= 0 {
		trials = DefaultTrials
	}
	totals := make([]int, trials)
	runChunks(trials, func(chunk, lo, hi int) {
		src := source(seed, chunk)
		simulateHowMany(totals[lo:hi], &src, s, days)
	})
	slices.Sort(totals)
	// The small epsilon keeps ceil from rounding up float noise such as
	// (1−0.85)·10000 = 1500.0000000000002.
	k := int(math.Ceil((1-confidence)*float64(trials) - 1e-9))
	k = min(max(k, 1), trials)
	return totals[k-1], true
}

// Calibration returns the percentile of an actual completion day in a stored
// forecast: the share of trials whose completion day (sortedDays, as in
// Result.Days) is on or before actualDay, in [0, 1]. It is 0 when sortedDays
// is empty. Trials beyond the stored horizon (day MaxDays+1) count as on or
// before any actualDay > MaxDays.
func Calibration(sortedDays []int32, actualDay int) float64 {
	if len(sortedDays) == 0 {
		return 0
	}
	if actualDay > math.MaxInt32 {
		return 1
	}
	if actualDay < math.MinInt32 {
		return 0
	}
	return float64(countAtMost(sortedDays, int32(actualDay))) / float64(len(sortedDays))
}

// prepare copies samples with negative values clamped to zero. It reports
// false when there is no completion to draw (no samples, or all zero), or too
// many samples for the 32-bit index draw.
func prepare(samples []int) ([]int, bool) {
	if len(samples) == 0 || uint64(len(samples)) > math.MaxUint32 {
		return nil, false
	}
	s := make([]int, len(samples))
	some := false
	for i, v := range samples {
		if v > 0 {
			s[i] = v
			some = true
		}
	}
	return s, some
}

// simulateWhen fills days with one completion day per trial.
func simulateWhen(days []int32, src *rand.PCG, s []int, remaining int, maxDays int32) {
	n := uint64(len(s))
	thresh := -uint32(n) % uint32(n) // 2^32 mod n: Lemire rejection bound
	for i := range days {
		total, day := 0, int32(0)
		for {
			// Two 32-bit draws from each 64-bit output; both are exact
			// uniform indices by Lemire's multiply-and-reject.
			x := src.Uint64()
			m := (x & math.MaxUint32) * n
			if uint32(m) < thresh {
				m = redraw(src, n, thresh)
			}
			day++
			total += s[m>>32]
			if total >= remaining || day >= maxDays {
				break
			}
			m = (x >> 32) * n
			if uint32(m) < thresh {
				m = redraw(src, n, thresh)
			}
			day++
			total += s[m>>32]
			if total >= remaining || day >= maxDays {
				break
			}
		}
		if total < remaining {
			day = maxDays + 1
		}
		days[i] = day
	}
}

// simulateHowMany fills totals with the sum of days draws per trial.
func simulateHowMany(totals []int, src *rand.PCG, s []int, days int) {
	n := uint64(len(s))
	thresh := -uint32(n) % uint32(n)
	for i := range totals {
		total := 0
		for d := 0; d < days; d += 2 {
			x := src.Uint64()
			m := (x & math.MaxUint32) * n
			if uint32(m) < thresh {
				m = redraw(src, n, thresh)
			}
			total += s[m>>32]
			if d+1 == days {
				break
			}
			m = (x >> 32) * n
			if uint32(m) < thresh {
				m = redraw(src, n, thresh)
			}
			total += s[m>>32]
		}
		totals[i] = total
	}
}

// redraw draws fresh 32-bit values until one passes the Lemire rejection
// test, and returns its product with n (the index is the high 32 bits).
func redraw(src *rand.PCG, n uint64, thresh uint32) uint64 {
	for {
		m := (src.Uint64() & math.MaxUint32) * n
		if uint32(m) >= thresh {
			return m
		}
	}
}

// source returns the PCG stream of one chunk of trials (as a value, so that
// each goroutine keeps its generator state on its own stack).
func source(seed uint64, chunk int) rand.PCG {
	return *rand.NewPCG(seed, splitmix64(streamKey+uint64(chunk)*0x9e3779b97f4a7c15))
}

// splitmix64 is the SplitMix64 finaliser, used to spread chunk numbers over
// the PCG seed space.
func splitmix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// runChunks calls fn for every chunk of chunkSize trials (the last one may be
// shorter), spread over up to GOMAXPROCS goroutines. fn must only write to
// its own [lo, hi) range.
func runChunks(trials int, fn func(chunk, lo, hi int)) {
	chunks := (trials + chunkSize - 1) / chunkSize
	do := func(c int) { fn(c, c*chunkSize, min((c+1)*chunkSize, trials)) }
	workers := min(runtime.GOMAXPROCS(0), chunks)
	if workers <= 1 {
		for c := range chunks {
			do(c)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				c := int(next.Add(1) - 1)
				if c >= chunks {
					return
				}
				do(c)
			}
		})
	}
	wg.Wait()
}

// sortDays sorts completion days in place, all in [1, maxDays+1]: a counting
// sort when the histogram is small enough, else a comparison sort.
func sortDays(days []int32, maxDays int) {
	if maxDays+2 > max(maxHistogram, 4*len(days)) {
		slices.Sort(days)
		return
	}
	counts := make([]int32, maxDays+2)
	for _, d := range days {
		counts[d]++
	}
	i := 0
	for d, c := range counts {
		for range c {
			days[i] = int32(d)
			i++
		}
	}
}

// rank is the 1-based nearest rank ceil(p/100·n) of percentile p of n values.
func rank(p, n int) int {
	return max((p*n+99)/100, 1)
}

// countAtMost returns the number of values <= x in sorted.
func countAtMost(sorted []int32, x int32) int {
	i, _ := slices.BinarySearchFunc(sorted, x, func(v, x int32) int {
		if v <= x {
			return -1
		}
		return 1
	})
	return i
}

// civil returns t's calendar date (in t's location) as midnight UTC.
func civil(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// dayNumber returns the number of days from 1970-01-01 to the midnight-UTC
// date t (negative before it), without time.Duration's ±292-year limit.
func dayNumber(t time.Time) int64 {
	s := t.Unix()
	d := s / 86400
	if s%86400 < 0 {
		d--
	}
	return d
}
