package demo

import (
	"math"
	"slices"
	"time"
)

type worklog struct {
	it     *item
	person *person
	at     time.Time
	hours  float64
}

// logWork writes each person's day: on every working day they are not away,
// they log a share of their capacity on the items they were working on,
// spread over at most three items, in entries of 0.5–6 hours. The
// over-logged team logs well above capacity in the last weeks.
func (g *gen) logWork() {
	r, c := g.r, g.cal
	for _, it := range g.items {
		if it.assignee == nil || it.leaver {
			continue
		}
		for _, w := range it.windows {
			it.assignee.wins = append(it.assignee.wins, personWindow{it: it, window: w})
		}
	}
	type cand struct {
		pw     personWindow
		lo, hi time.Time
	}
	type entry struct {
		it *item
		p  *person
		at int64
	}
	seen := map[entry]bool{}
	for _, p := range g.people {
		slices.SortStableFunc(p.wins, func(a, b personWindow) int { return a.from.Compare(b.from) })
		for d := c.first; !d.After(c.today); d = d.AddDate(0, 0, 1) {
			if !c.workday(d) {
				continue
			}
			avail := p.dailyHours() - p.off[d]
			if avail < 1 {
				continue
			}
			lo, hi := d.Add((workStart-1)*time.Hour), minTime(d.Add((workEnd+1)*time.Hour), c.now)
			if !hi.After(lo) {
				break
			}
			var cands []cand
			for _, pw := range p.wins {
				if !pw.from.Before(hi) {
					break
				}
				a, b := maxTime(pw.from, lo), minTime(pw.to, hi)
				if b.Sub(a) >= time.Minute {
					cands = append(cands, cand{pw, a, b})
				}
			}
			if len(cands) == 0 {
				continue
			}
			load := p.logLoad()
			u := load[0] + (load[1]-load[0])*r.Float64()
			if p.team != nil && p.team.name == overLoggedTeam && c.today.Sub(d) < overLogDays*day {
				u = 1.25 + 0.25*r.Float64()
			}
			target := avail * u
			// Items about to finish get their hours first.
			slices.SortStableFunc(cands, func(a, b cand) int { return a.pw.to.Compare(b.pw.to) })
			k := min(len(cands), 1+r.IntN(3))
			ws := make([]float64, k)
			var sum float64
			for i := range k {
				ws[i] = cands[i].pw.weight * uniform(r, 0.5, 1.5)
				sum += ws[i]
			}
			for i, cd := range cands[:k] {
				h := target * ws[i] / sum
				parts := int(math.Ceil(h / 6))
				for range parts {
					hours := max(math.Round(h/float64(parts)*4)/4, 0.5)
					at := cd.lo.Add(time.Duration(r.Int64N(int64(cd.hi.Sub(cd.lo))))).Truncate(time.Minute)
					if at.Before(cd.lo) {
						at = cd.lo
					}
					id := entry{cd.pw.it, p, at.Unix()}
					if seen[id] {
						continue
					}
					seen[id] = true
					g.worklogs = append(g.worklogs, worklog{it: cd.pw.it, person: p, at: at, hours: hours})
				}
			}
		}
	}
}

// logLoad is the share of capacity a person logs on a normal day.
func (p *person) logLoad() [2]float64 {
	if p.team == nil {
		return [2]float64{0.7, 0.95}
	}
	return p.team.logLoad
}
