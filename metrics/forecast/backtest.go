package forecast

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"time"
)

// History is one project's past, the input of a backtest. Dates are
// calendar dates (only year, month and day are used).
type History struct {
	// First is the date of Completions[0] and MilestoneCompletions[0].
	First time.Time
	// Completions are the project's completed, not discarded items per day
	// (by the day of their finish) from First on, zero days included. Days
	// before First count as days without completions, as in the live
	// forecast.
	Completions []int
	// MilestoneCompletions are those of Completions that belonged to a
	// milestone (the numerator of the share s); nil: none did.
	MilestoneCompletions []int
	// Milestones are every milestone of the project with items: those
	// scored and those only competing for the throughput.
	Milestones []PastMilestone
	// Since is the first day the data covers (the project's first item's
	// creation): a checkpoint whose window starts before it is not scored
	// (unknown), since its window would count days before the data as days
	// without completions. Zero: no limit.
	Since time.Time
}

// PastMilestone is a milestone as the backtest sees it.
type PastMilestone struct {
	ID, Name string
	// Start is the first day of its life: its start date, else the creation
	// day of its first item.
	Start time.Time
	// Finished is the day its last item finished (the actual date scored);
	// zero while it is not done.
	Finished time.Time
	// Scored marks the milestones whose forecasts are judged (completed in
	// the backtest period); the others only take their place in the queue.
	Scored bool
	// Items are its scope.
	Items []PastItem
	// Due is its due-date history, oldest first: the date in effect from
	// each entry's From (the first entry's From may be zero: always).
	Due []DueFrom
}

// PastItem is one scope item: the day it was created and the day it
// finished (completed or discarded; zero: open now). It is open at a
// checkpoint C when Created < C and it had not finished before C.
type PastItem struct{ Created, Finished time.Time }

// DueFrom is a due date (zero: none) in effect from a day on.
type DueFrom struct{ From, Due time.Time }

// BacktestOptions say how to re-run the forecasts.
type BacktestOptions struct {
	// Independent re-runs each milestone alone with the whole throughput
	// (When); else the open milestones of each checkpoint are forecast
	// together (Portfolio).
	Independent bool
	// Window is the number of days before a checkpoint sampled (default 90).
	Window int
	// Trials, Seed and MaxDays are as in Input.
	Trials  int
	Seed    uint64
	MaxDays int
}

// Checkpoint is one re-run forecast of a scored milestone and how it fared.
type Checkpoint struct {
	Milestone string // PastMilestone.ID
	// Date is the checkpoint: a Monday; only completions before it are
	// used, and it is the first simulated day.
	Date time.Time
	// Remaining is its scope open at the checkpoint; Ahead the open items of
	// the milestones before it in the queue (portfolio model).
	Remaining, Ahead int
	// Share is s at the checkpoint (1 for the independent model).
	Share float64
	// Known is false when the window before the checkpoint has no
	// completion, or starts before History.Since: no forecast, not scored.
	Known         bool
	P50, P85, P95 time.Time // zero when unknown or beyond the horizon
	Actual        time.Time // the milestone's finish
	// HitP50, HitP85, HitP95: Actual on or before that date.
	HitP50, HitP85, HitP95 bool
	// ErrorDays is Actual − P85 in days (positive: later than the P85
	// date); a P85 beyond the horizon counts as its last day.
	ErrorDays int
}

// Backtest re-runs the forecasts of the scored milestones of h as of every
// Monday during their lives (after Start, up to and including Finished),
// each using only the completions before that Monday and the scope open at
// it (metrics.md "Backtest"). A checkpoint whose window starts before
// h.Since is listed unknown. In the portfolio model all milestones of h
// with items open at the checkpoint are forecast together, in the order of
// their due dates as known before it (none last), then name. Checkpoints
// come in date order, then queue order.
func Backtest(h History, o BacktestOptions) []Checkpoint {
	window := o.Window
	if window <= 0 {
		window = 90
	}
	_, maxDays := limits(o.Trials, o.MaxDays)
	first := dayNumber(civil(h.First))
	prefix := func(v []int) []int {
		p := make([]int, len(v)+1)
		for i, x := range v {
			p[i+1] = p[i] + max(x, 0)
		}
		return p
	}
	all, ms := prefix(h.Completions), prefix(h.MilestoneCompletions)
	// sum over days [a, b) of a prefix-summed series starting at first.
	sum := func(p []int, a, b int64) int {
		a, b = min(max(a-first, 0), int64(len(p)-1)), min(max(b-first, 0), int64(len(p)-1))
		return p[b] - p[a]
	}

	type past struct {
		m              *PastMilestone
		start, finish  int64 // day numbers; finish 0 when open
		created, ended []int64
		due            []DueFrom
	}
	ps := make([]past, len(h.Milestones))
	checkpoints := map[int64][]int{} // checkpoint day → scored milestones live then
	for i := range h.Milestones {
		m := &h.Milestones[i]
		p := past{m: m, due: m.Due}
		for _, it := range m.Items {
			p.created = append(p.created, dayNumber(civil(it.Created)))
			end := int64(math.MaxInt64)
			if !it.Finished.IsZero() {
				end = dayNumber(civil(it.Finished))
			}
			p.ended = append(p.ended, end)
		}
		if !m.Finished.IsZero() {
			p.finish = dayNumber(civil(m.Finished))
		}
		p.start = dayNumber(civil(m.Start))
		ps[i] = p
		if !m.Scored || m.Finished.IsZero() {
			continue
		}
		for c := nextMonday(p.start + 1); c <= p.finish; c += 7 {
			checkpoints[c] = append(checkpoints[c], i)
		}
	}
	open := func(p *past, c int64) int {
		n := 0
		for k, cr := range p.created {
			if cr < c && p.ended[k] >= c {
				n++
			}
		}
		return n
	}
	dueAt := func(p *past, c int64) time.Time {
		var due time.Time
		for _, d := range p.due {
			if d.From.IsZero() || dayNumber(civil(d.From)) < c {
				due = d.Due
			}
		}
		return due
	}

	since := int64(math.MinInt64)
	if !h.Since.IsZero() {
		since = dayNumber(civil(h.Since))
	}
	var out []Checkpoint
	for _, c := range slices.Sorted(maps.Keys(checkpoints)) {
		samples := make([]int, window)
		for k := range samples {
			samples[k] = sum(all, c-int64(window)+int64(k), c-int64(window)+int64(k)+1)
		}
		share := Share(sum(all, c-int64(window), c), sum(ms, c-int64(window), c))
		date := time.Unix(c*86400, 0).UTC()
		scored := func(i, remaining, ahead int, r Result) Checkpoint {
			p := &ps[i]
			cp := Checkpoint{Milestone: p.m.ID, Date: date, Remaining: remaining, Ahead: ahead, Share: share,
				Known: r.Known, P50: r.P50, P85: r.P85, P95: r.P95, Actual: time.Unix(p.finish*86400, 0).UTC()}
			if !r.Known {
				return cp
			}
			hit := func(t time.Time) bool { return !t.IsZero() && dayNumber(t) >= p.finish }
			cp.HitP50, cp.HitP85, cp.HitP95 = hit(r.P50), hit(r.P85), hit(r.P95)
			p85 := c + int64(maxDays) - 1 // the horizon's last day
			if !r.P85.IsZero() {
				p85 = dayNumber(r.P85)
			}
			cp.ErrorDays = int(p.finish - p85)
			return cp
		}
		if c-int64(window) < since {
			// The window reaches before the data: not scored.
			for _, i := range checkpoints[c] {
				if rem := open(&ps[i], c); rem > 0 {
					out = append(out, scored(i, rem, 0, Result{}))
				}
			}
			continue
		}
		if o.Independent {
			for _, i := range checkpoints[c] {
				rem := open(&ps[i], c)
				if rem == 0 {
					continue
				}
				r := When(Input{Samples: samples, Remaining: rem, Start: date, Trials: o.Trials, Seed: o.Seed, MaxDays: maxDays})
				out = append(out, scored(i, rem, 0, r))
			}
			continue
		}
		type queued struct {
			i, remaining int
			due          time.Time
		}
		var q []queued
		for i := range ps {
			if rem := open(&ps[i], c); rem > 0 {
				q = append(q, queued{i, rem, dueAt(&ps[i], c)})
			}
		}
		slices.SortFunc(q, func(a, b queued) int {
			return QueueKey{a.due, ps[a.i].m.Name, ps[a.i].m.ID}.Compare(QueueKey{b.due, ps[b.i].m.Name, ps[b.i].m.ID})
		})
		in := PortfolioInput{Samples: samples, Share: share, Start: date, Trials: o.Trials, Seed: o.Seed, MaxDays: maxDays}
		for _, x := range q {
			in.Milestones = append(in.Milestones, Milestone{Remaining: x.remaining, Due: x.due})
		}
		res := Portfolio(in)
		ahead := 0
		for k, x := range q {
			if slices.Contains(checkpoints[c], x.i) {
				out = append(out, scored(x.i, x.remaining, ahead, res[k]))
			}
			ahead += x.remaining
		}
	}
	return out
}

// QueueKey places a milestone in its project's portfolio queue.
type QueueKey struct {
	Due      time.Time // zero: none
	Name, ID string
}

// Compare orders a queue (metrics.md): by due date, those without one
// last, then name, then id.
func (a QueueKey) Compare(b QueueKey) int {
	var due int
	switch {
	case a.Due.IsZero() && b.Due.IsZero():
	case a.Due.IsZero():
		due = 1
	case b.Due.IsZero():
		due = -1
	default:
		due = a.Due.Compare(b.Due)
	}
	return cmp.Or(due, cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
}

// nextMonday is the first Monday on or after day number d (1970-01-05, day
// 4, was a Monday).
func nextMonday(d int64) int64 {
	off := ((d-4)%7 + 7) % 7
	if off == 0 {
		return d
	}
	return d + 7 - off
}

// Accuracy summarises checkpoints: the hit rates of the P50, P85 and P95
// dates and the error of the P85 date, over the known checkpoints.
type Accuracy struct {
	Milestones  int // scored milestones with at least one checkpoint
	Checkpoints int // every checkpoint, unknown ones included
	Unknown     int // checkpoints without a forecast (no completion in the window)
	// HitP50, HitP85, HitP95: share of known checkpoints whose actual finish
	// fell on or before that date (well calibrated: about 0.50, 0.85, 0.95).
	HitP50, HitP85, HitP95 float64
	// MAE is the mean absolute P85 error in days; Bias its mean (positive:
	// finished after the P85 date, the forecasts were optimistic).
	MAE, Bias float64
}

// Summarize computes the accuracy of checkpoints; with no known checkpoint
// the rates and errors are 0 (Checkpoints − Unknown = 0 tells).
func Summarize(cs []Checkpoint) Accuracy {
	var a Accuracy
	seen := map[string]bool{}
	var h50, h85, h95, abs, sum int
	for _, c := range cs {
		a.Checkpoints++
		seen[c.Milestone] = true
		if !c.Known {
			a.Unknown++
			continue
		}
		h50 += b2i(c.HitP50)
		h85 += b2i(c.HitP85)
		h95 += b2i(c.HitP95)
		abs += max(c.ErrorDays, -c.ErrorDays)
		sum += c.ErrorDays
	}
	a.Milestones = len(seen)
	if n := float64(a.Checkpoints - a.Unknown); n > 0 {
		a.HitP50, a.HitP85, a.HitP95 = float64(h50)/n, float64(h85)/n, float64(h95)/n
		a.MAE, a.Bias = float64(abs)/n, float64(sum)/n
	}
	return a
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
