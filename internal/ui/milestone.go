package ui

import (
	"net/http"
	"time"

	"github.com/throughline/throughline/metrics/forecast"
)

// statuses are the milestone statuses, worst first, for the filter.
var statuses = []string{"overdue", "off_track", "at_risk", "unknown", "no_due_date", "on_track", "done"}

func buildMilestones(m *Model, r *http.Request) (*page, int) {
	q := r.URL.Query()
	p := &page{}
	p.Filters = filters{Project: pick(q.Get("project"), m.Projects), Status: pick(q.Get("status"), statuses), Projects: m.Projects}
	t := p.addTable("milestones", "Milestones", "project", "milestone", "status", "due", "baseline due", "P50", "P85",
		"on-time probability", "slip days (P85 − due)", "due moved since baseline (days)", "delivery slip days", "remaining", "scope")
	var list []*Milestone
	for _, x := range m.Milestones {
		if (p.Filters.Project != "" && x.Project != p.Filters.Project) || (p.Filters.Status != "" && x.Status != p.Filters.Status) {
			continue
		}
		list = append(list, x)
		t.add(x.Project, x.Name, x.Status, day(x.Due), day(x.Baseline), day(x.P50), day(x.P85), optFloat(x.OnTime, x.HasOnTime, 3),
			optInt(x.SlipDays, x.HasSlip), optInt(x.BaselineVariance, x.HasVariance), optInt(x.DeliverySlip, x.HasDeliverySlip),
			itoa(x.Remaining), itoa(x.Scope))
	}
	p.Data = list
	return p, http.StatusOK
}

type milestoneData struct {
	M        *Milestone
	Beyond   int // percentiles beyond the forecast horizon
	HasDist  bool
	Selector []*Milestone
	// Accuracy is the backtest of the milestone's project in the
	// configured model, Other in the other model; nil without a scored
	// checkpoint.
	Accuracy, Other *Accuracy
}

func buildMilestone(m *Model, r *http.Request) (*page, int) {
	id := r.URL.Query().Get("id")
	p := &page{}
	ms := m.Milestone(id)
	if ms == nil {
		p.Title = "No such milestone"
		p.Data = &milestoneData{}
		return p, http.StatusNotFound
	}
	p.Filters = filters{ID: id}
	p.Title = ms.Project + " · " + ms.Name
	d := &milestoneData{M: ms, Accuracy: m.Accuracy(ms.Project)}
	for i, a := range m.Backtest {
		if a.Project == ms.Project && a.Model != m.ForecastMode && a.Known > 0 {
			d.Other = &m.Backtest[i]
		}
	}
	if d.Accuracy != nil && d.Accuracy.Known == 0 {
		d.Accuracy = nil
	}
	// The distribution of finish dates from the stored percentiles: each of
	// the 100 percentiles stands for 1 % of the trials.
	dist := p.addTable("distribution", "Forecast finish dates", "date", "share of trials", "cumulative share")
	type bin struct {
		date  time.Time
		share float64
	}
	var bins []bin
	for _, dayNo := range ms.Percentiles {
		if dayNo <= 0 {
			continue
		}
		date := ms.ForecastStart.AddDate(0, 0, dayNo-1)
		if dayNo > forecast.DefaultMaxDays { // beyond the horizon the compute used
			d.Beyond++
			continue
		}
		if n := len(bins); n > 0 && bins[n-1].date.Equal(date) {
			bins[n-1].share += 0.01
		} else {
			bins = append(bins, bin{date, 0.01})
		}
	}
	var points []map[string]any
	cum := 0.0
	for _, b := range bins {
		cum += b.share
		dist.add(day(b.date), fmtFloat(b.share, 2), fmtFloat(cum, 2))
		points = append(points, map[string]any{"d": day(b.date), "share": b.share})
	}
	d.HasDist = len(points) > 0
	p.chart("distribution", map[string]any{"points": points, "due": day(ms.Due), "p50": day(ms.P50), "p85": day(ms.P85), "p95": day(ms.P95)})
	bu := p.addTable("burnup", "Scope and completed items per week", "week ending", "scope", "completed", "remaining")
	var burn []map[string]any
	burnUp := ms.BurnUp
	// Start at the last week before the first item: the weeks before it are empty.
	for len(burnUp) > 1 && burnUp[1].Scope == 0 {
		burnUp = burnUp[1:]
	}
	for _, w := range burnUp {
		end := w.Week.AddDate(0, 0, 6)
		bu.add(day(end), itoa(w.Scope), itoa(w.Completed), itoa(w.Scope-w.Completed))
		burn = append(burn, map[string]any{"week": day(end), "series": "scope", "items": w.Scope},
			map[string]any{"week": day(end), "series": "completed", "items": w.Completed})
	}
	p.chart("burnup", map[string]any{"points": burn, "due": day(ms.Due)})
	dh := p.addTable("due", "Due-date history", "observed", "old due date", "new due date", "origin")
	var steps []map[string]any
	for _, c := range ms.DueHistory {
		dh.add(c.At.In(m.Location).Format("2006-01-02 15:04"), day(c.Old), day(c.New), c.Origin)
		at := day(c.At.In(m.Location))
		steps = append(steps, map[string]any{"at": at, "due": day(c.Old)}, map[string]any{"at": at, "due": day(c.New)})
	}
	if len(ms.DueHistory) < 2 {
		steps = nil // one move is clearer in the table
	} else {
		steps = append(steps, map[string]any{"at": day(m.Today), "due": day(ms.Due)})
	}
	p.chart("due", map[string]any{"points": steps, "baseline": day(ms.Baseline), "due": day(ms.Due), "today": day(m.Today)})
	for _, x := range m.Milestones {
		if x.Status != "done" || x.ID == ms.ID {
			d.Selector = append(d.Selector, x)
		}
	}
	p.Data = d
	return p, http.StatusOK
}
