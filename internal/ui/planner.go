package ui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/throughline/throughline/metrics/plan"
)

// planForm is the planner form's values, as asked (to fill the form again).
type planForm struct {
	Items, Hours, Team, Project, Start, Due string
}

type planData struct {
	Form       planForm
	Asked      bool // the form was submitted
	Error      string
	Answer     *plan.Answer
	Teams      []string
	Projects   []string
	DefaultDue string // six weeks from today, the placeholder
}

// buildPlan is the planner page: a GET form (the answer is a pure function
// of the model and the address, so the page is cached like the others and
// a link reproduces it; nothing changes on the server, so there is nothing
// to forge) and, when asked, the answer of the planner.
func buildPlan(m *Model, r *http.Request) (*page, int) {
	q := r.URL.Query()
	p := &page{}
	d := &planData{Teams: teamNames(m), Projects: m.Projects, DefaultDue: day(m.Today.AddDate(0, 0, 42))}
	for i, t := range d.Teams {
		if t == "unassigned" {
			d.Teams = append(d.Teams[:i:i], d.Teams[i+1:]...)
			break
		}
	}
	f := planForm{Items: q.Get("items"), Hours: q.Get("hours"), Team: pick(q.Get("team"), d.Teams), Project: pick(q.Get("project"), m.Projects),
		Start: q.Get("start"), Due: q.Get("due")}
	d.Form = f
	p.Data = d
	if f.Items == "" && f.Hours == "" && f.Due == "" && f.Start == "" {
		d.Form.Items = "40" // a starting point
		return p, http.StatusOK
	}
	d.Asked = true
	v := url.Values{}
	for k, x := range map[string]string{"items": f.Items, "hours": f.Hours, "team": f.Team, "project": f.Project, "start": f.Start, "due": f.Due} {
		if x != "" {
			v.Set(k, x)
		}
	}
	p.CSVQuery = "?" + v.Encode()
	req, err := planRequest(f)
	if err == nil {
		d.Answer, err = m.Plan.Plan(req)
	}
	if err != nil {
		var re *plan.RequestError
		if errors.As(err, &re) {
			d.Error = re.Msg
			return p, http.StatusBadRequest
		}
		d.Error = err.Error()
		return p, http.StatusServiceUnavailable
	}
	rank := p.addTable("plan", "Candidate teams", "rank", "team", "items", "hours", "items queued before", "P50", "P85",
		"on-time probability", "peak allocation", "peak band", "over-allocated", "note")
	weeks := p.addTable("weeks", "Allocation per week with the new work", "team", "week start", "capacity hours", "planned hours",
		"new work hours", "allocation", "band")
	for _, t := range d.Answer.Teams {
		rank.add(itoa(t.Rank), t.Team, optIntPtr(t.Items), optFloatPtr(t.Hours, 1), itoa(t.AheadItems), optDate(t.P50), optDate(t.P85),
			optFloatPtr(t.OnTime, 3), optFloatPtr(t.PeakAllocation, 3), t.PeakBand, strconv.FormatBool(t.OverAllocated), t.Reason)
		for _, w := range t.Weeks {
			weeks.add(t.Team, w.Start.String(), fmtFloat(w.Capacity, 1), fmtFloat(w.Planned, 1), fmtFloat(w.New, 1),
				optFloatPtr(w.Allocation, 3), w.Band)
		}
	}
	return p, http.StatusOK
}

// planRequest reads the form.
func planRequest(f planForm) (plan.Request, error) {
	var req plan.Request
	if s := strings.TrimSpace(f.Items); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return req, &plan.RequestError{Msg: fmt.Sprintf("items %q: want a whole number of items above 0", f.Items)}
		}
		req.Items = n
	}
	if s := strings.TrimSpace(f.Hours); s != "" {
		h, err := strconv.ParseFloat(s, 64)
		if err != nil || !(h > 0) {
			return req, &plan.RequestError{Msg: fmt.Sprintf("hours %q: want a number of hours above 0", f.Hours)}
		}
		req.Hours = h
	}
	req.Team, req.Project = f.Team, f.Project
	for _, x := range []struct {
		name, v string
		to      *plan.Date
	}{{"start", f.Start, &req.Start}, {"due", f.Due, &req.Due}} {
		if strings.TrimSpace(x.v) == "" {
			continue
		}
		v, err := plan.ParseDate(x.v)
		if err != nil {
			return req, &plan.RequestError{Msg: x.name + " " + err.Error()}
		}
		*x.to = v
	}
	return req, nil
}

func optIntPtr(v *int) string {
	if v == nil {
		return ""
	}
	return itoa(*v)
}

func optFloatPtr(v *float64, prec int) string {
	if v == nil {
		return ""
	}
	return fmtFloat(*v, prec)
}

func optDate(d *plan.Date) string {
	if d == nil {
		return ""
	}
	return d.String()
}
