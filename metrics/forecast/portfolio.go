package forecast

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Milestone is one milestone of a portfolio forecast.
type Milestone struct {
	// Remaining is the number of items left; 0 means already done, a
	// negative number gives an unknown result.
	Remaining int
	// Due is the calendar date it is due; the zero time when it has none.
	Due time.Time
	// NotBefore, when set after Start, is the first calendar date on which
	// items count toward this milestone (the planner's new work, started
	// later). On earlier days the milestone takes nothing: items go to the
	// milestones before it, and what they cannot take is not carried over,
	// nor is anything given to the milestones after it.
	NotBefore time.Time
}

// PortfolioInput is the input of a portfolio forecast: the open milestones
// of one project, drawing on the same throughput.
type PortfolioInput struct {
	// Samples is the project's daily throughput over the trailing window,
	// zero days included (as Input.Samples).
	Samples []int
	// Share is s, the share of completions that went to milestone work:
	// each item of a day's draw counts toward the milestones with
	// probability s. 0 (the zero value) means 1, no thinning; a value
	// outside [0, 1] gives unknown results.
	Share float64
	// Milestones in queue order: the counted items of a day go to the first
	// unfinished milestone, leftovers to the next, and so on. The caller
	// orders them (metrics.md: due date, then name).
	Milestones []Milestone
	// Start, Trials, Seed and MaxDays are as in Input.
	Start   time.Time
	Trials  int
	Seed    uint64
	MaxDays int
}

// Share is s of metrics.md, the probability that a completed item counts
// toward the milestones: of the completions of a window (all), the share
// that belonged to some milestone (milestone); 1 when none did.
func Share(all, milestone int) float64 {
	if all <= 0 || milestone <= 0 {
		return 1
	}
	return float64(min(milestone, all)) / float64(all)
}

// Portfolio runs a portfolio "when" forecast (metrics.md "Portfolio
// forecast"): each trial draws one day's throughput d at a time from
// in.Samples, counts each of the d items with probability in.Share (a
// binomial draw), and gives the counted items to the milestones in queue
// order, until every milestone is done or the horizon is reached. The
// result of each milestone (same order as in.Milestones) is read from its
// finish day in each trial, as When's.
//
// With one milestone and Share 1 the trials are exactly When's: the same
// draws from the same streams.
func Portfolio(in PortfolioInput) []Result {
	trials, maxDays := limits(in.Trials, in.MaxDays)
	start := civil(in.Start)

	out := make([]Result, len(in.Milestones))
	var queue []int // indexes into in.Milestones of those with items left
	for i, m := range in.Milestones {
		switch {
		case m.Remaining == 0:
			out[i] = done(start, m.Due, trials)
		case m.Remaining > 0:
			queue = append(queue, i)
		}
	}
	if len(queue) == 0 {
		return out
	}
	s, ok := prepare(in.Samples)
	share := in.Share
	if share == 0 {
		share = 1
	}
	if !ok || !(share > 0 && share <= 1) {
		return out // the queued milestones stay unknown
	}

	// Cumulative remaining: queue entry k is done when the counted total
	// reaches cum[k]. nb[k] is the first day number it may take items.
	cum := make([]int, len(queue))
	nb := make([]int32, len(queue))
	total := 0
	for k, i := range queue {
		m := in.Milestones[i]
		total += m.Remaining
		cum[k] = total
		if !m.NotBefore.IsZero() {
			d := dayNumber(civil(m.NotBefore)) - dayNumber(start) + 1
			nb[k] = int32(min(max(d, 0), int64(maxDays)+1))
		}
	}
	var thin *thinTable
	if share < 1 {
		thin = newThinTable(s, share)
	}
	days := make([][]int32, len(queue))
	for k := range days {
		days[k] = make([]int32, trials)
	}
	runChunks(trials, func(chunk, lo, hi int) {
		src := source(in.Seed, chunk)
		simulatePortfolio(days, lo, hi, &src, s, thin, cum, nb, int32(maxDays))
	})
	for k, i := range queue {
		out[i] = summarize(days[k], start, in.Milestones[i].Due, maxDays)
	}
	return out
}

// simulatePortfolio fills days[k][lo:hi] with the finish day of queue
// entry k in trials lo..hi-1. A day costs half a 64-bit draw: without
// thinning (thin nil) it picks the day's sample, as simulateWhen does; with
// thinning it draws the day's counted items from their distribution. The
// two halves are written out, as in simulateWhen: a helper for them (a
// method or a loop over the halves) made the loop several times slower.
func simulatePortfolio(days [][]int32, lo, hi int, src *rand.PCG, s []int, thin *thinTable, cum []int, nb []int32, maxDays int32) {
	n := uint64(len(s))
	thresh := -uint32(n) % uint32(n)
	q := len(cum)
	for t := lo; t < hi; t++ {
		total, day, next := 0, int32(0), 0
		// target and gate are the first unfinished entry's cum and nb: a day
		// that reaches neither needs no settling (the common case).
		target, gate := cum[0], nb[0]
		for next < q && day < maxDays {
			x := src.Uint64()
			day++
			if thin != nil {
				total += thin.draw(uint32(x))
			} else {
				m := (x & math.MaxUint32) * n
				if uint32(m) < thresh {
					m = redraw(src, n, thresh)
				}
				total += s[m>>32]
			}
			if total >= target || gate > day {
				total, next = settle(days, t, day, total, next, cum, nb)
				if next < q {
					target, gate = cum[next], nb[next]
				}
			}
			if next >= q || day >= maxDays {
				break
			}
			day++
			if thin != nil {
				total += thin.draw(uint32(x >> 32))
			} else {
				m := (x >> 32) * n
				if uint32(m) < thresh {
					m = redraw(src, n, thresh)
				}
				total += s[m>>32]
			}
			if total >= target || gate > day {
				total, next = settle(days, t, day, total, next, cum, nb)
				if next < q {
					target, gate = cum[next], nb[next]
				}
			}
		}
		for ; next < q; next++ {
			days[next][t] = maxDays + 1 // beyond the horizon
		}
	}
}

// settle records the queue entries the counted total finished on day, from
// next on, and returns the total and the first unfinished entry. An entry
// that may not take items yet stops the queue for the day: the total drops
// back to what the entries before it needed.
func settle(days [][]int32, t int, day int32, total, next int, cum []int, nb []int32) (int, int) {
	for next < len(cum) {
		if nb[next] > day {
			if next > 0 {
				return cum[next-1], next
			}
			return 0, next
		}
		if total < cum[next] {
			break
		}
		days[next][t] = day
		next++
	}
	return total, next
}

// thinTable draws a day's counted items: a sample drawn uniformly from the
// window, each of its items kept with probability share. Their
// distribution is the mixture over the samples of Binomial(sample, share);
// a draw is one 32-bit uniform through Walker's alias table (Vose's
// construction): its product with the number of values picks a column
// (high bits) and a coin (low bits) that keeps the column's value or gives
// its alias. Every value's probability is exact to within (values)·2^-32.
type thinTable struct {
	n     uint64
	prob  []uint32 // keep the column's value when the coin is below it
	alias []int32
}

func newThinTable(s []int, share float64) *thinTable {
	counts := map[int]int{}
	most := 0
	for _, v := range s {
		counts[v]++
		most = max(most, v)
	}
	pmf := make([]float64, most+1)
	for v, c := range counts {
		w := float64(c) / float64(len(s))
		for k, p := range binomialPMF(v, share) {
			pmf[k] += w * p
		}
	}
	n := len(pmf)
	t := &thinTable{n: uint64(n), prob: make([]uint32, n), alias: make([]int32, n)}
	scaled := make([]float64, n)
	var small, large []int
	for k, p := range pmf {
		scaled[k] = p * float64(n)
		if scaled[k] < 1 {
			small = append(small, k)
		} else {
			large = append(large, k)
		}
	}
	for len(small) > 0 && len(large) > 0 {
		l, g := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		t.prob[l] = uint32(math.Round(scaled[l] * (1 << 32)))
		t.alias[l] = int32(g)
		scaled[g] -= 1 - scaled[l]
		if scaled[g] < 1 {
			large = large[:len(large)-1]
			small = append(small, g)
		}
	}
	// What is left has probability 1 (up to rounding): always itself.
	for _, k := range append(small, large...) {
		t.prob[k] = math.MaxUint32
		t.alias[k] = int32(k)
	}
	return t
}

// draw returns the counted items for the uniform u. (Written so that the
// compiler selects without a branch: the coin is a coin flip to the CPU.)
func (t *thinTable) draw(u uint32) int {
	m := uint64(u) * t.n
	k := m >> 32
	v := uint64(t.alias[k])
	if uint32(m) < t.prob[k] {
		v = k
	}
	return int(v)
}

// binomialPMF is P(X = k) for k = 0..n of X ~ Binomial(n, p), from the log
// of each term (no underflow for large n).
func binomialPMF(n int, p float64) []float64 {
	out := make([]float64, n+1)
	if p == 1 {
		out[n] = 1
		return out
	}
	lgN, _ := math.Lgamma(float64(n + 1))
	lp, lq := math.Log(p), math.Log1p(-p)
	for k := range n + 1 {
		lgK, _ := math.Lgamma(float64(k + 1))
		lgNK, _ := math.Lgamma(float64(n - k + 1))
		out[k] = math.Exp(lgN - lgK - lgNK + float64(k)*lp + float64(n-k)*lq)
	}
	return out
}

// HowManyQueued answers "how many items of a milestone will be done within
// days days at the given confidence" in the portfolio model: of the
// project's thinned totals over days draws, what is left after the ahead
// items of the milestones before it, capped at its remaining items; the
// nearest-rank (1−confidence) percentile of those. share is as in
// PortfolioInput. With share 1, ahead 0 and remaining at least any total,
// it equals HowMany.
//
// The bool is false, and the count 0, when the answer is unknown (as
// HowMany, or share outside [0, 1], or ahead or remaining negative).
func HowManyQueued(samples []int, share float64, ahead, remaining, days, trials int, seed uint64, confidence float64) (int, bool) {
	s, ok := prepare(samples)
	if share == 0 {
		share = 1
	}
	if !ok || days < 0 || ahead < 0 || remaining < 0 || !(confidence >= 0 && confidence <= 1) || !(share > 0 && share <= 1) {
		return 0, false
	}
	if trials <= 0 {
		trials = DefaultTrials
	}
	totals := make([]int, trials)
	var thin *thinTable
	if share < 1 {
		thin = newThinTable(s, share)
	}
	runChunks(trials, func(chunk, lo, hi int) {
		src := source(seed, chunk)
		if thin == nil {
			simulateHowMany(totals[lo:hi], &src, s, days)
		} else {
			simulateHowManyThinned(totals[lo:hi], &src, thin, days)
		}
	})
	for i, v := range totals {
		totals[i] = min(max(v-ahead, 0), remaining)
	}
	slices.Sort(totals)
	k := int(math.Ceil((1-confidence)*float64(trials) - 1e-9))
	k = min(max(k, 1), trials)
	return totals[k-1], true
}

// simulateHowManyThinned fills totals with the sum of days thinned draws
// per trial (two a 64-bit draw, as simulatePortfolio).
func simulateHowManyThinned(totals []int, src *rand.PCG, thin *thinTable, days int) {
	for i := range totals {
		total := 0
		for d := 0; d < days; d += 2 {
			x := src.Uint64()
			total += thin.draw(uint32(x))
			if d+1 < days {
				total += thin.draw(uint32(x >> 32))
			}
		}
		totals[i] = total
	}
}
