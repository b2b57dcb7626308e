// Package plan is the assignment planner: for new project work of N items
// (or H hours) due on a date, per candidate team, when it would finish if
// queued after the team's open milestone scope (the portfolio model on the
// team's project-work throughput), the chance of meeting the date, and what
// it does to the team's allocation week by week. `throughline plan`,
// POST /api/v1/plan and the planner page answer with Plan.
//
// The inputs are read once after each compute (Load); Plan is pure and
// seeded: the same inputs and request give the same answer.
package plan

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/throughline/throughline/metrics"
	"github.com/throughline/throughline/metrics/forecast"
)

// Weeks is how many weeks of allocation the planner shows: this one and 7 more.
const Weeks = 8

// Limits of a request.
const (
	MaxItems = 100_000
	MaxHours = 1_000_000
)

// Inputs are what the planner knows of every team, from the last compute.
type Inputs struct {
	Today      time.Time // midnight UTC of today in the configured zone
	WindowDays int
	Trials     int
	Seed       uint64
	Teams      []Team // configured teams, by name
}

// Team is one candidate team.
type Team struct {
	Name string
	// Projects are the projects the team works on: configured for it, or
	// with project work it finished in the window.
	Projects []string
	// Samples are its completed project-work items per day over the window,
	// oldest first, zero days included.
	Samples []int
	// Share is s of its project work: the share of those completions that
	// belonged to a milestone (1 when none did).
	Share float64
	// Queue is its open milestone scope in queue order
	// (forecast.QueueKey): the project-work items of open milestones it
	// carries.
	Queue []Queued
	// HoursPerItem is the median of the hours logged on each of its
	// finished project-work items of the window that has worklogs
	// (HourItems of them); 0 when none has.
	HoursPerItem float64
	HourItems    int
	// Weeks are its capacity and planned load, this week (offset 0) and the
	// next 7 (planner_weeks).
	Weeks []Week
}

// Queued is a milestone's open items that a team carries.
type Queued struct {
	Milestone, Project string
	Due                time.Time // zero: none
	Remaining          int
	id                 string // the milestone's id, last in the queue order
}

// key is the milestone's place in the queue.
func (q Queued) key() forecast.QueueKey {
	return forecast.QueueKey{Due: q.Due, Name: q.Milestone, ID: q.id}
}

// Week is a team's capacity and planned load of a week.
type Week struct {
	Start             time.Time
	Capacity, Planned float64 // hours
}

// Request is a question to the planner (the JSON body of POST
// /api/v1/plan). Exactly one of Items and Hours is set.
type Request struct {
	Items   int     `json:"items,omitempty"`
	Hours   float64 `json:"hours,omitempty"`
	Team    string  `json:"team,omitempty"`    // only this team
	Project string  `json:"project,omitempty"` // only the teams working on this project
	Start   Date    `json:"start,omitzero"`    // first day of the work; default tomorrow
	Due     Date    `json:"due,omitzero"`      // the date to meet, for the on-time probability
}

// Date is a calendar date, YYYY-MM-DD in JSON.
type Date struct{ time.Time }

// ParseDate reads YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return Date{}, fmt.Errorf("%q: want a date like 2026-04-30", s)
	}
	return Date{t}, nil
}

func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.Format(time.DateOnly)
}

// MarshalJSON writes "YYYY-MM-DD".
func (d Date) MarshalJSON() ([]byte, error) { return []byte(`"` + d.String() + `"`), nil }

// UnmarshalJSON reads "YYYY-MM-DD" (or "" / null: no date).
func (d *Date) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Answer is the planner's answer: the candidate teams, best first.
type Answer struct {
	Request Request `json:"request"`
	// Start is the first day the new work can take items.
	Start  Date         `json:"start"`
	Teams  []TeamAnswer `json:"teams"`
	Trials int          `json:"trials"`
	Seed   uint64       `json:"seed"`
	// Notes say what the answer assumed (and what it could not tell).
	Notes []string `json:"notes,omitempty"`
}

// TeamAnswer is one team's answer.
type TeamAnswer struct {
	Rank int    `json:"rank"`
	Team string `json:"team"`
	// Items and Hours are the new work; either was asked, the other
	// converted with HoursPerItem (nil when it could not be).
	Items        *int     `json:"items"`
	Hours        *float64 `json:"hours"`
	HoursPerItem *float64 `json:"hours_per_item"`
	// Known is false when the team gets no forecast; Reason says why.
	Known  bool   `json:"known"`
	Reason string `json:"reason,omitempty"`
	// P50 and P85 are the forecast finish dates of the new work (nil when
	// unknown or beyond the horizon); OnTime the share of trials done by
	// the due date (nil without a due date).
	P50    *Date    `json:"p50"`
	P85    *Date    `json:"p85"`
	OnTime *float64 `json:"on_time_probability"`
	// AheadItems is the open milestone scope queued before the new work;
	// Share the team's s; Throughput its project-work items per day over
	// the window.
	AheadItems int     `json:"ahead_items"`
	Share      float64 `json:"milestone_share"`
	Throughput float64 `json:"throughput_per_day"`
	// Weeks is the allocation with the new work spread evenly over the
	// working days from Start to its P50 date.
	Weeks []WeekAnswer `json:"weeks"`
	// PeakAllocation is the highest allocation of Weeks (nil without
	// capacity); PeakBand its band; OverAllocated when it is above 1.
	PeakAllocation *float64 `json:"peak_allocation"`
	PeakBand       string   `json:"peak_band,omitempty"`
	OverAllocated  bool     `json:"over_allocated"`
}

// WeekAnswer is a team's week with the new work.
type WeekAnswer struct {
	Offset     int      `json:"week_offset"`
	Start      Date     `json:"week_start"`
	Capacity   float64  `json:"capacity_hours"`
	Planned    float64  `json:"planned_hours"`
	New        float64  `json:"new_hours"`
	Allocation *float64 `json:"allocation_ratio"`
	Band       string   `json:"band,omitempty"`
}

// RequestError is a request the planner cannot answer as asked.
type RequestError struct{ Msg string }

func (e *RequestError) Error() string { return e.Msg }

func badRequest(format string, args ...any) error {
	return &RequestError{Msg: fmt.Sprintf(format, args...)}
}

// Plan answers a request. The error is a *RequestError for a request it
// cannot answer (matched with errors.As).
func (in *Inputs) Plan(req Request) (*Answer, error) {
	if in == nil {
		return nil, errors.New("the planner has no data yet: no compute has finished")
	}
	switch {
	case req.Items < 0 || req.Hours < 0 || math.IsNaN(req.Hours):
		return nil, badRequest("items and hours must be positive")
	case (req.Items > 0) == (req.Hours > 0):
		return nil, badRequest("give the new work as items or as hours (one of them)")
	case req.Items > MaxItems:
		return nil, badRequest("items %d: at most %d", req.Items, MaxItems)
	case req.Hours > MaxHours:
		return nil, badRequest("hours %v: at most %d", req.Hours, MaxHours)
	}
	tomorrow := in.Today.AddDate(0, 0, 1)
	a := &Answer{Request: req, Start: Date{tomorrow}, Trials: in.Trials, Seed: in.Seed}
	if !req.Start.IsZero() {
		if req.Start.Before(tomorrow) {
			a.Notes = append(a.Notes, fmt.Sprintf("start %s is before tomorrow: the forecast starts tomorrow, %s (today's work is in the data)",
				req.Start, Date{tomorrow}))
		} else {
			a.Start = Date{civil(req.Start.Time)}
		}
	}
	if !req.Due.IsZero() && req.Due.Before(a.Start.Time) {
		return nil, badRequest("due %s is before the start %s", req.Due, a.Start)
	}
	var teams []Team
	for _, t := range in.Teams {
		if (req.Team == "" || t.Name == req.Team) && (req.Project == "" || slices.Contains(t.Projects, req.Project)) {
			teams = append(teams, t)
		}
	}
	if len(teams) == 0 {
		var names []string
		for _, t := range in.Teams {
			names = append(names, t.Name)
		}
		switch {
		case len(in.Teams) == 0:
			return nil, badRequest("no team is configured (teams: in the config)")
		case req.Project != "" && req.Team != "":
			return nil, badRequest("team %q does not work on project %q (or is not a configured team: %s)", req.Team, req.Project, strings.Join(names, ", "))
		case req.Project != "":
			return nil, badRequest("no team works on project %q (configured for it, or finished project work in it in the last %d days)", req.Project, in.WindowDays)
		default:
			return nil, badRequest("no team %q (configured teams: %s)", req.Team, strings.Join(names, ", "))
		}
	}
	for _, t := range teams {
		a.Teams = append(a.Teams, in.team(t, req, a.Start.Time))
	}
	rank(a.Teams, !req.Due.IsZero())
	if req.Hours > 0 {
		a.Notes = append(a.Notes, "hours are converted to items by each team's median hours per finished project item of the last "+
			fmt.Sprint(in.WindowDays)+" days (from worklogs)")
	} else {
		a.Notes = append(a.Notes, "the new work's hours (for the allocation) are its items times each team's median hours per finished project item of the last "+
			fmt.Sprint(in.WindowDays)+" days (from worklogs)")
	}
	a.Notes = append(a.Notes, "the new work is queued after each team's open milestone scope and spread evenly over the working days from the start to its P50 date")
	return a, nil
}

// team answers for one team.
func (in *Inputs) team(t Team, req Request, start time.Time) TeamAnswer {
	ta := TeamAnswer{Team: t.Name, Share: t.Share}
	total := 0
	for _, v := range t.Samples {
		total += v
	}
	if len(t.Samples) > 0 {
		ta.Throughput = float64(total) / float64(len(t.Samples))
	}
	for _, q := range t.Queue {
		ta.AheadItems += q.Remaining
	}
	if t.HourItems > 0 {
		h := t.HoursPerItem
		ta.HoursPerItem = &h
	}
	items, hours := req.Items, req.Hours
	switch {
	case req.Hours > 0 && t.HourItems > 0:
		items = max(int(math.Ceil(hours/t.HoursPerItem-1e-9)), 1)
	case req.Hours > 0:
		items = 0
		ta.Reason = fmt.Sprintf("no worklogs on the project items %s finished in the last %d days: hours cannot be converted to items", t.Name, in.WindowDays)
	case t.HourItems > 0:
		hours = float64(items) * t.HoursPerItem
	default:
		hours = -1 // unknown: the allocation leaves the new work out
	}
	if items > 0 {
		ta.Items = &items
	}
	if hours >= 0 {
		ta.Hours = &hours
	}
	if items > 0 && total == 0 {
		ta.Reason = fmt.Sprintf("%s finished no project work in the last %d days: a date would be a guess", t.Name, in.WindowDays)
	}
	var res forecast.Result
	if ta.Reason == "" {
		pin := forecast.PortfolioInput{Samples: t.Samples, Share: t.Share, Start: in.Today.AddDate(0, 0, 1), Trials: in.Trials, Seed: in.Seed}
		for _, q := range t.Queue {
			pin.Milestones = append(pin.Milestones, forecast.Milestone{Remaining: q.Remaining, Due: q.Due})
		}
		pin.Milestones = append(pin.Milestones, forecast.Milestone{Remaining: items, Due: req.Due.Time, NotBefore: start})
		res = forecast.Portfolio(pin)[len(pin.Milestones)-1]
		ta.Known = res.Known
		if !res.P50.IsZero() {
			ta.P50 = &Date{res.P50}
		}
		if !res.P85.IsZero() {
			ta.P85 = &Date{res.P85}
		}
		if !req.Due.IsZero() && res.Known {
			p := res.OnTimeProbability
			ta.OnTime = &p
		}
	}
	// Allocation: the new work's hours over the working days from start to
	// its P50 date (beyond the horizon: not spread).
	var spread map[int]float64
	if ta.Hours != nil && ta.P50 != nil {
		spread = spreadHours(*ta.Hours, start, ta.P50.Time, in.Today)
	}
	for k, w := range t.Weeks {
		wa := WeekAnswer{Offset: k, Start: Date{w.Start}, Capacity: w.Capacity, Planned: w.Planned, New: spread[k]}
		if w.Capacity > 0 {
			r := (w.Planned + wa.New) / w.Capacity
			wa.Allocation, wa.Band = &r, metrics.Band(r)
			if ta.PeakAllocation == nil || r > *ta.PeakAllocation {
				ta.PeakAllocation = &r
			}
		}
		ta.Weeks = append(ta.Weeks, wa)
	}
	if ta.PeakAllocation != nil {
		ta.PeakBand = metrics.Band(*ta.PeakAllocation)
		ta.OverAllocated = ta.PeakBand == metrics.BandOver
	}
	return ta
}

// spreadHours spreads hours evenly over the working days (Monday to Friday)
// from start to end, both included (all on start when there is none), and
// sums them by week offset from today's ISO week.
func spreadHours(hours float64, start, end, today time.Time) map[int]float64 {
	var days []time.Time
	for d := start; !d.After(end); d = d.AddDate(0, 0, 1) {
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			days = append(days, d)
		}
	}
	if len(days) == 0 {
		days = []time.Time{start}
	}
	week0 := weekStart(today)
	out := map[int]float64{}
	for _, d := range days {
		out[int(weekStart(d).Sub(week0).Hours()/(24*7))] += hours / float64(len(days))
	}
	return out
}

// rank orders the answers, best first: known forecasts first; with a due
// date by on-time probability (highest first), then peak allocation
// (lowest first) — except among teams that cannot make the date at all
// (0 %), which go by how soon they would finish (P85) first; without a due
// date by P85 date (earliest first), then peak allocation; then name.
func rank(ts []TeamAnswer, due bool) {
	peak := func(t TeamAnswer) float64 {
		if t.PeakAllocation == nil {
			return math.Inf(1)
		}
		return *t.PeakAllocation
	}
	p85 := func(t TeamAnswer) time.Time {
		if t.P85 == nil {
			return time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		return t.P85.Time
	}
	slices.SortStableFunc(ts, func(a, b TeamAnswer) int {
		if c := cmp.Compare(b2i(b.Known), b2i(a.Known)); c != 0 {
			return c
		}
		if due && a.OnTime != nil && b.OnTime != nil {
			if c := cmp.Compare(*b.OnTime, *a.OnTime); c != 0 {
				return c
			}
			if *a.OnTime == 0 {
				return cmp.Or(p85(a).Compare(p85(b)), cmp.Compare(peak(a), peak(b)), strings.Compare(a.Team, b.Team))
			}
			return cmp.Or(cmp.Compare(peak(a), peak(b)), p85(a).Compare(p85(b)), strings.Compare(a.Team, b.Team))
		}
		return cmp.Or(p85(a).Compare(p85(b)), cmp.Compare(peak(a), peak(b)), strings.Compare(a.Team, b.Team))
	})
	for i := range ts {
		ts[i].Rank = i + 1
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// civil is t's calendar date as midnight UTC.
func civil(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// weekStart is the Monday of t's ISO week.
func weekStart(t time.Time) time.Time {
	return t.AddDate(0, 0, -((int(t.Weekday()) + 6) % 7))
}
