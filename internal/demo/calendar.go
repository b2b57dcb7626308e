package demo

import (
	"math/rand/v2"
	"slices"
	"time"
)

// Working hours, in UTC (09:00–18:00 in Berlin in winter, 10:00–19:00 in
// summer; close enough for sample data, and day boundaries agree in both zones).
const (
	workStart = 8
	workEnd   = 17
)

const day = 24 * time.Hour

// calendar knows working days: weekdays that are not German public holidays.
type calendar struct {
	now      time.Time // whole seconds, UTC
	today    time.Time // midnight of now
	first    time.Time // midnight of the first day of history
	holidays map[time.Time]bool
}

func newCalendar(now time.Time) *calendar {
	today := midnight(now)
	c := &calendar{now: now, today: today, first: today.AddDate(0, 0, -(historyDays - 1)), holidays: map[time.Time]bool{}}
	for y := c.first.Year() - 1; y <= today.Year()+1; y++ {
		for _, h := range publicHolidays(y) {
			c.holidays[h] = true
		}
	}
	return c
}

func midnight(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// publicHolidays are the nationwide German holidays of year y.
func publicHolidays(y int) []time.Time {
	e := easter(y)
	date := func(m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	return []time.Time{
		date(time.January, 1), e.AddDate(0, 0, -2), e.AddDate(0, 0, 1), date(time.May, 1),
		e.AddDate(0, 0, 39), e.AddDate(0, 0, 50), date(time.October, 3), date(time.December, 25), date(time.December, 26),
	}
}

// easter is Easter Sunday of year y (anonymous Gregorian algorithm).
func easter(y int) time.Time {
	a := y % 19
	b, c := y/100, y%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	dd := (h+l-7*m+114)%31 + 1
	return time.Date(y, time.Month(month), dd, 0, 0, 0, 0, time.UTC)
}

func weekend(d time.Time) bool { return d.Weekday() == time.Saturday || d.Weekday() == time.Sunday }

func (c *calendar) workday(d time.Time) bool { return !weekend(d) && !c.holidays[midnight(d)] }

// nextWorking returns t if it lies in working hours, else the start of the
// next working period.
func (c *calendar) nextWorking(t time.Time) time.Time {
	for range 30 {
		d := midnight(t)
		start, end := d.Add(workStart*time.Hour), d.Add(workEnd*time.Hour)
		if c.workday(d) {
			if t.Before(start) {
				return start
			}
			if t.Before(end) {
				return t
			}
		}
		t = d.Add(day)
	}
	return t
}

// addWork advances t by sec seconds of working time.
func (c *calendar) addWork(t time.Time, sec int64) time.Time {
	t = c.nextWorking(t)
	limit := c.now.Add(3 * 365 * day) // far beyond anything kept
	for t.Before(limit) {
		end := midnight(t).Add(workEnd * time.Hour)
		left := int64(end.Sub(t) / time.Second)
		if sec < left {
			return t.Add(time.Duration(sec) * time.Second)
		}
		sec -= left
		t = c.nextWorking(end)
	}
	return t
}

// timeOff plans holidays, half days and vacations for every team member,
// from the start of history to six weeks after today.
func (g *gen) timeOff(r *rand.Rand) {
	c := g.cal
	last := c.today.AddDate(0, 0, 42)
	var holidays []time.Time
	for h := range c.holidays {
		if !h.Before(c.first) && !h.After(last) && !weekend(h) {
			holidays = append(holidays, h)
		}
	}
	slices.SortFunc(holidays, time.Time.Compare)
	for _, p := range g.people {
		p.off = map[time.Time]float64{}
		if p.team == nil {
			continue // the contractor's absences are not tracked
		}
		full := p.dailyHours()
		for _, h := range holidays {
			p.off[h] = full
		}
		// Christmas Eve and New Year's Eve are half days.
		for y := c.first.Year(); y <= last.Year(); y++ {
			for _, d := range []time.Time{time.Date(y, 12, 24, 0, 0, 0, 0, time.UTC), time.Date(y, 12, 31, 0, 0, 0, 0, time.UTC)} {
				if !d.Before(c.first) && !d.After(last) && !weekend(d) {
					p.off[d] = full / 2
				}
			}
		}
		// Vacations: 1–3 blocks of 3–10 working days; some people also
		// take a single half day now and then.
		span := int(last.Sub(c.first) / day)
		if r.Float64() < 0.8 {
			for range 1 + r.IntN(3) {
				d := c.first.AddDate(0, 0, r.IntN(span))
				for n := 3 + r.IntN(8); n > 0 && !d.After(last); d = d.AddDate(0, 0, 1) {
					if c.workday(d) {
						p.off[d] = full
						n--
					}
				}
			}
		}
		for range r.IntN(3) {
			d := c.first.AddDate(0, 0, r.IntN(span))
			if c.workday(d) && p.off[d] == 0 {
				p.off[d] = 4
			}
		}
	}
}
