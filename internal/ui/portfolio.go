package ui

import (
	"net/http"
	"time"

	"github.com/throughline/throughline/metrics"
)

// teamSummary is one team's line on the portfolio.
type teamSummary struct {
	Name, Link     string
	Weeks          []time.Time // the complete weeks shown
	Counts         []int       // items per week (all classes)
	LastWeek       int
	Avg            float64 // per week over the weeks shown
	Recent, Before float64 // averages of the last 8 weeks and the 8 before
	HasTrend       bool
	Slope          float64 // least-squares items per week, per week
	Cycle          CycleStat
	WIP, WIPLimit  int
	Allocation     float64
	HasAllocation  bool
	Band           string
	Available      float64
	HasAvailable   bool
	OverSLE        int
}

// summarize builds a team's portfolio line; class "" is every class.
func summarize(m *Model, t *Team) teamSummary {
	s := teamSummary{Name: t.Name, Link: teamLink(t.Name, ""), Cycle: t.Cycle["*"], WIP: t.WIPTotal(), WIPLimit: t.WIPLimit,
		Allocation: t.Allocation, HasAllocation: t.HasAllocation, Available: t.Available, HasAvailable: t.HasAvailable, OverSLE: t.OverSLE}
	s.Weeks, s.Counts = weeklyTotals(m, t, "")
	n := len(s.Counts)
	if n > 0 {
		s.LastWeek = s.Counts[n-1]
		sum := 0
		for _, c := range s.Counts {
			sum += c
		}
		s.Avg = float64(sum) / float64(n)
		s.Slope = slope(s.Counts)
	}
	if n >= 16 {
		s.Recent, s.Before = mean(s.Counts[n-8:]), mean(s.Counts[n-16:n-8])
		s.HasTrend = true
	}
	if t.HasAllocation {
		s.Band = band(t.Allocation)
	}
	return s
}

// weeklyTotals are the team's items per complete week (zero weeks
// included), of one work class or all ("").
func weeklyTotals(m *Model, t *Team, class string) ([]time.Time, []int) {
	first := weekStart(m.Today).AddDate(0, 0, -7*ThroughputWeeks)
	weeks := make([]time.Time, ThroughputWeeks)
	counts := make([]int, ThroughputWeeks)
	for i := range weeks {
		weeks[i] = first.AddDate(0, 0, 7*i)
	}
	for _, w := range t.Weekly {
		if class != "" && w.WorkClass != class {
			continue
		}
		i := int(w.Week.Sub(first).Hours() / (24 * 7))
		if i >= 0 && i < len(counts) {
			counts[i] += w.Items
		}
	}
	return weeks, counts
}

// slope is the least-squares slope of ys against 0, 1, 2, ...
func slope(ys []int) float64 {
	n := float64(len(ys))
	if n < 2 {
		return 0
	}
	var sx, sy, sxy, sxx float64
	for i, y := range ys {
		x := float64(i)
		sx += x
		sy += float64(y)
		sxy += x * float64(y)
		sxx += x * x
	}
	return (n*sxy - sx*sy) / (n*sxx - sx*sx)
}

func mean(ys []int) float64 {
	if len(ys) == 0 {
		return 0
	}
	s := 0
	for _, y := range ys {
		s += y
	}
	return float64(s) / float64(len(ys))
}

// band names an allocation ratio (metrics.md, Capacity).
func band(r float64) string { return metrics.Band(r) }

type portfolioData struct {
	Teams      []teamSummary
	Milestones []*Milestone
	Alerts     []Alert
	Open       int // open milestones before the project filter
	// Accuracy is the backtest per project (the project filter applies)
	// and over all, in the configured model, with the other model's P85
	// hit rate beside it.
	Accuracy []accuracyRow
	Since    time.Time
}

// accuracyRow is a project's backtest in the configured model.
type accuracyRow struct {
	Accuracy
	Other *Accuracy // the other model, when it scored anything
}

func buildPortfolio(m *Model, r *http.Request) (*page, int) {
	p := &page{}
	q := r.URL.Query()
	p.Filters = filters{Project: pick(q.Get("project"), m.Projects), Team: pick(q.Get("team"), teamNames(m)),
		Projects: m.Projects, Teams: teamNames(m)}
	d := &portfolioData{}
	teams := p.addTable("teams", "Teams", "team", "throughput last week", "throughput per week (26 weeks)", "last 8 weeks per week",
		"8 weeks before per week", "P50 days", "P85 days", "SLE days", "SLE attainment", "WIP", "WIP limit", "allocation this week",
		"band", "project hours available next 4 weeks")
	weekly := p.addTable("throughput", "Throughput per week", "team", "week", "items")
	var sparks []map[string]any
	for _, t := range m.Teams {
		if p.Filters.Team != "" && t.Name != p.Filters.Team {
			continue
		}
		s := summarize(m, t)
		d.Teams = append(d.Teams, s)
		teams.add(s.Name, itoa(s.LastWeek), fmtFloat(s.Avg, 1), fmtFloat(s.Recent, 1), fmtFloat(s.Before, 1), itoa(s.Cycle.P50),
			itoa(s.Cycle.P85), itoa(s.Cycle.SLE), fmtFloat(s.Cycle.Attainment, 3), itoa(s.WIP), limitText(s.WIPLimit),
			optFloat(s.Allocation, s.HasAllocation, 3), s.Band, optFloat(s.Available, s.HasAvailable, 0))
		points := make([]map[string]any, len(s.Weeks))
		for i, w := range s.Weeks {
			weekly.add(s.Name, day(w), itoa(s.Counts[i]))
			points[i] = map[string]any{"week": day(w), "items": s.Counts[i]}
		}
		sparks = append(sparks, map[string]any{"team": s.Name, "points": points})
	}
	p.chart("throughput", sparks)
	ms := p.addTable("milestones", "Open milestones", "project", "milestone", "status", "due", "baseline due", "P50", "P85",
		"on-time probability", "slip days (P85 − due)", "due moved since baseline (days)", "remaining", "scope")
	var ranges []map[string]any
	for _, x := range m.Milestones {
		if x.Status == "done" {
			continue
		}
		d.Open++
		if p.Filters.Project != "" && x.Project != p.Filters.Project {
			continue
		}
		d.Milestones = append(d.Milestones, x)
		ms.add(x.Project, x.Name, x.Status, day(x.Due), day(x.Baseline), day(x.P50), day(x.P85), optFloat(x.OnTime, x.HasOnTime, 3),
			optInt(x.SlipDays, x.HasSlip), optInt(x.BaselineVariance, x.HasVariance), itoa(x.Remaining), itoa(x.Scope))
		if !x.P50.IsZero() || !x.Due.IsZero() {
			ranges = append(ranges, map[string]any{"label": x.Project + " · " + x.Name, "status": x.Status, "due": day(x.Due),
				"p50": day(x.P50), "p85": day(x.P85), "p95": day(x.P95), "link": milestoneLink(x.ID)})
		}
	}
	p.chart("milestones", map[string]any{"today": day(m.Today), "rows": ranges})
	acc := p.addTable("accuracy", "Forecast accuracy (backtest)", "project", "model", "milestones", "checkpoints scored",
		"P50 hit rate", "P85 hit rate", "P95 hit rate", "mean P85 error days", "P85 bias days", "other model", "other model P85 hit rate")
	for _, a := range m.Backtest {
		if a.Model != m.ForecastMode || a.Known == 0 || (p.Filters.Project != "" && a.Project != p.Filters.Project && a.Project != "*") {
			continue
		}
		row := accuracyRow{Accuracy: a}
		other, otherHit := "", ""
		for i, o := range m.Backtest {
			if o.Project == a.Project && o.Model != a.Model && o.Known > 0 {
				row.Other = &m.Backtest[i]
				other, otherHit = o.Model, fmtFloat(o.HitP85, 3)
			}
		}
		d.Accuracy = append(d.Accuracy, row)
		d.Since = a.Since
		acc.add(a.Project, a.Model, itoa(a.Milestones), itoa(a.Known), fmtFloat(a.HitP50, 3), fmtFloat(a.HitP85, 3), fmtFloat(a.HitP95, 3),
			fmtFloat(a.MAEDays, 1), fmtFloat(a.BiasDays, 1), other, otherHit)
	}
	al := p.addTable("alerts", "Alert conditions now", "alert", "subject", "detail")
	for _, a := range m.Alerts {
		al.add(a.Name, a.Subject, a.Detail)
	}
	d.Alerts = m.Alerts
	p.Data = d
	return p, http.StatusOK
}

func limitText(l int) string {
	if l <= 0 {
		return ""
	}
	return itoa(l)
}

func optFloat(v float64, ok bool, prec int) string {
	if !ok {
		return ""
	}
	return fmtFloat(v, prec)
}

func optInt(v int, ok bool) string {
	if !ok {
		return ""
	}
	return itoa(v)
}
