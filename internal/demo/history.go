package demo

import (
	"math"
	"math/rand/v2"
	"time"
)

// item is one generated work item.
type item struct {
	proj    *project
	typ     string
	title   string
	created time.Time
	fate    fate
	work    float64 // hours of working time the item needs once started

	changes    []change // kept (≤ now), in time order
	status     string
	resolution string
	resolved   time.Time // the final transition into Done, when done
	started    time.Time // first start, zero if never started (≤ now)
	windows    []window  // periods worked on (≤ now)

	assignee  *person // nil: unassigned (or the leaver, see leaver)
	leaver    bool
	milestone *milestone
	parent    *item
	children  []*item
	due       time.Time
	points    float64
	estimate  float64
	team      string // explicit override
	workClass string // explicit override
	migration bool

	key string
}

func (it *item) done() bool { return it.status == statusDone }

func (it *item) discarded() bool {
	return it.done() && (it.resolution == resWontDo || it.resolution == resDuplicate)
}

type change struct {
	at       time.Time
	from, to string
	res      string // resolution, for transitions into Done
}

// window is a period of work on an item; weight is how much of a person's
// day it attracts (review needs less of the assignee than development).
type window struct {
	from, to time.Time
	weight   float64
}

// fate is the overall shape of an item's history.
type fate int

const (
	fateNormal         fate = iota
	fateBacklog             // never started, still To Do
	fateDiscardBacklog      // To Do → Done with Won't Do / Duplicate
	fateSkipped             // To Do → Done (resolution Done): a skipped start
	fateDiscardStarted      // started, then abandoned as Won't Do
	fateStalled             // started, then stuck for months
)

// profile holds the distributions of one kind of work.
type profile struct {
	backlogMed, backlogSig float64 // wait in To Do before the start, hours
	workMed, workSig       float64 // working time once started, hours
	review                 float64 // probability of an In Review stage
	h24                    bool    // runs on the calendar clock (incidents)

	backlog, discardBacklog, skipped, discardStarted, stalled    float64 // fates
	falseStart, blocked, backwards, reopenStarted, reopenBacklog float64

	blockedMed float64
}

func profileFor(p *project, typ string) profile {
	pr := profile{
		backlogMed: 40, backlogSig: 1.3, workSig: 0.85, review: 0.9,
		backlog: 0.05, discardBacklog: 0.045, skipped: 0.025, discardStarted: 0.015, stalled: 0.065,
		falseStart: 0.05, blocked: 0.11, backwards: 0.16, reopenStarted: 0.035, reopenBacklog: 0.025,
		blockedMed: 20,
	}
	switch typ {
	case typeStory:
		pr.workMed = 30
	case typeTask:
		pr.workMed, pr.workSig, pr.review = 18, 0.8, 0.75
	case typeBug:
		pr.workMed, pr.workSig, pr.backlogMed = 11, 1.0, 18
	case typeInc:
		pr = profile{
			backlogMed: 0.25, backlogSig: 1.0, workMed: 2.5, workSig: 1.1, h24: true,
			backlog: 0.004, discardBacklog: 0.05, skipped: 0.04, discardStarted: 0.005, stalled: 0.015,
			falseStart: 0.035, blocked: 0.05, reopenStarted: 0.045, reopenBacklog: 0.012,
			blockedMed: 3,
		}
	case typeRequest:
		pr = profile{
			backlogMed: 2.5, backlogSig: 1.2, workMed: 5, workSig: 1.0, review: 0.15,
			backlog: 0.02, discardBacklog: 0.06, skipped: 0.08, discardStarted: 0.01, stalled: 0.03,
			falseStart: 0.035, blocked: 0.13, backwards: 0.2, reopenStarted: 0.03, reopenBacklog: 0.015,
			blockedMed: 16,
		}
	}
	pr.workMed *= p.speed
	return pr
}

func logNormal(r *rand.Rand, median, sigma float64) float64 {
	return median * math.Exp(sigma*r.NormFloat64())
}

func uniform(r *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }

// hist builds one item's history on a clock.
type hist struct {
	r      *rand.Rand
	cal    *calendar
	h24    bool
	t      time.Time
	status string
	ev     []change
	wins   []window
	winAt  time.Time
	winW   float64 // 0: no window open
}

// wait advances the clock by hours of working time (calendar time for 24/7 work).
func (h *hist) wait(hours float64) {
	sec := max(int64(math.Round(hours*3600)), 60)
	if h.h24 {
		h.t = h.t.Add(time.Duration(sec) * time.Second)
		return
	}
	h.t = h.cal.addWork(h.t, sec)
}

// waitDays advances the clock by calendar days, landing in working hours.
func (h *hist) waitDays(days float64) {
	h.t = h.t.Add(time.Duration(days * float64(day))).Truncate(time.Second)
	h.wait(uniform(h.r, 0.05, 1.5))
}

func (h *hist) move(to, res string) {
	if n := len(h.ev); n > 0 && h.t.Sub(h.ev[n-1].at) < time.Minute {
		h.t = h.ev[n-1].at.Add(time.Minute + time.Duration(h.r.IntN(600))*time.Second)
	}
	h.closeWindow()
	h.ev = append(h.ev, change{at: h.t, from: h.status, to: to, res: res})
	h.status = to
	switch to {
	case statusInProgress:
		h.openWindow(1)
	case statusInReview:
		h.openWindow(0.3)
	}
}

func (h *hist) openWindow(w float64) { h.winAt, h.winW = h.t, w }

func (h *hist) closeWindow() {
	if h.winW > 0 && h.t.After(h.winAt) {
		h.wins = append(h.wins, window{from: h.winAt, to: h.t, weight: h.winW})
	}
	h.winW = 0
}

// history generates the item's status changes according to its fate and
// keeps what happened up to now.
func (g *gen) history(it *item, pr profile) {
	r := g.r
	h := &hist{r: r, cal: g.cal, h24: pr.h24, t: it.created, status: statusToDo}
	it.work = logNormal(r, pr.workMed, pr.workSig)
	if it.fate == fateNormal && !it.migration {
		// Board hygiene slipped as the organisation grew: recent work
		// stalls more often than last year's.
		age := float64(g.cal.now.Sub(it.created)) / float64(historyDays*day)
		stalled := pr.stalled * (0.4 + 1.4*(1-age))
		x := r.Float64()
		for _, f := range []struct {
			p float64
			f fate
		}{{pr.backlog, fateBacklog}, {pr.discardBacklog, fateDiscardBacklog}, {pr.skipped, fateSkipped},
			{pr.discardStarted, fateDiscardStarted}, {stalled, fateStalled}} {
			if x < f.p {
				it.fate = f.f
				break
			}
			x -= f.p
		}
	}
	discardRes := func() string {
		if r.Float64() < 0.4 || it.proj.key == "HELP" && r.Float64() < 0.5 {
			return resDuplicate
		}
		return resWontDo
	}
	review := r.Float64() < pr.review
	total := it.work
	rev := 0.0
	if review {
		rev = total * uniform(r, 0.25, 0.5)
	}
	prog := total - rev

	switch it.fate {
	case fateBacklog:
	case fateDiscardBacklog:
		h.wait(logNormal(r, pr.backlogMed*3, 1.1))
		h.move(statusDone, discardRes())
	case fateSkipped:
		h.wait(logNormal(r, pr.backlogMed, pr.backlogSig))
		h.move(statusDone, resDone)
	default:
		h.wait(logNormal(r, pr.backlogMed, pr.backlogSig))
		if r.Float64() < pr.falseStart {
			h.move(statusInProgress, "")
			h.wait(uniform(r, 0.5, 12))
			h.move(statusToDo, "")
			h.wait(logNormal(r, pr.backlogMed, 1.0))
		}
		h.move(statusInProgress, "")
		if it.fate == fateDiscardStarted {
			h.wait(prog * uniform(r, 0.2, 0.8))
			if r.Float64() < 0.4 {
				h.move(statusBlocked, "")
				h.wait(logNormal(r, pr.blockedMed*2, 0.8))
			}
			h.move(statusDone, resWontDo)
			break
		}
		h.progress(prog, r.Float64() < pr.blocked, pr)
		if it.fate == fateStalled && h.stall(prog) {
			break // abandoned during the stall
		}
		if review {
			h.review(prog, rev, r.Float64() < pr.backwards)
		}
		h.move(statusDone, resDone)
		switch x := r.Float64(); {
		case x < pr.reopenStarted:
			h.wait(logNormal(r, 27, 1.0))
			h.move(statusInProgress, "")
			h.wait(total * uniform(r, 0.1, 0.4))
			if review {
				h.review(prog, rev*0.5, false)
			}
			h.move(statusDone, resDone)
		case x < pr.reopenStarted+pr.reopenBacklog:
			h.wait(logNormal(r, 54, 1.0))
			h.move(statusToDo, "")
			h.wait(logNormal(r, pr.backlogMed, 1.0))
			h.move(statusInProgress, "")
			h.wait(total * uniform(r, 0.2, 0.6))
			if review {
				h.review(prog, rev*0.5, false)
			}
			h.move(statusDone, resDone)
		}
	}
	h.closeWindow()
	g.keep(it, h)
}

// progress works prog hours in In Progress, with one or two Blocked periods.
func (h *hist) progress(prog float64, blocked bool, pr profile) {
	if !blocked {
		h.wait(prog)
		return
	}
	n := 1
	if h.r.Float64() < 0.25 {
		n = 2
	}
	for range n {
		part := prog * uniform(h.r, 0.2, 0.6)
		h.wait(part)
		prog -= part
		h.move(statusBlocked, "")
		h.wait(logNormal(h.r, pr.blockedMed, 0.9))
		h.move(statusInProgress, "")
	}
	h.wait(prog)
}

// review goes to In Review, optionally back to In Progress for rework.
func (h *hist) review(prog, rev float64, backwards bool) {
	h.move(statusInReview, "")
	h.wait(rev + logNormal(h.r, 6, 1.0)) // work plus waiting for a reviewer
	if backwards {
		h.move(statusInProgress, "")
		h.wait(prog * uniform(h.r, 0.1, 0.3))
		h.move(statusInReview, "")
		h.wait(rev * uniform(h.r, 0.3, 0.6))
	}
}

// stall leaves the item untouched for weeks or months, in In Progress,
// Blocked or In Review. It reports whether the item was abandoned.
func (h *hist) stall(prog float64) bool {
	r := h.r
	h.wait(prog * 0.2)
	state := pick(r, []weighted{{statusBlocked, 45}, {statusInProgress, 20}, {statusInReview, 35}})
	if state != statusInProgress {
		h.move(state, "")
	}
	h.closeWindow()
	h.waitDays(logNormal(r, 100, 0.8))
	if r.Float64() < 0.5 {
		h.move(statusDone, resWontDo) // a backlog clean-up closes it
		return true
	}
	if state != statusInProgress {
		h.move(statusInProgress, "")
	} else {
		h.openWindow(1)
	}
	h.wait(prog * 0.2)
	return false
}

// keep stores the part of the history that happened by now.
func (g *gen) keep(it *item, h *hist) {
	now := g.cal.now
	it.status = statusToDo
	for _, c := range h.ev {
		if c.at.After(now) {
			break
		}
		it.changes = append(it.changes, c)
		it.status = c.to
		if it.started.IsZero() && (c.to == statusInProgress || c.to == statusInReview || c.to == statusBlocked) {
			it.started = c.at
		}
	}
	if n := len(it.changes); n > 0 && it.status == statusDone {
		it.resolution = it.changes[n-1].res
		it.resolved = it.changes[n-1].at
	}
	wins := h.wins
	if h.winW > 0 {
		wins = append(wins, window{from: h.winAt, to: now, weight: h.winW})
	}
	for _, w := range wins {
		if !w.from.Before(now) {
			continue
		}
		w.to = minTime(w.to, now)
		it.windows = append(it.windows, w)
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
