package ui

import (
	"fmt"

	"github.com/throughline/throughline/dashboards"
)

// alerts lists what the generated alert rules would fire on now: the
// planning alerts whose conditions hold on the compute's snapshot
// (dashboards.PlanningFiring, the Go form of the rules, checked against a
// real Prometheus), then sources whose last sync failed. Prometheus waits
// for a rule's `for:` first (over-allocated 6h, WIP over limit and aging 1d
// by default); this list shows the condition as it holds at the last compute.
func alerts(m *Model, firing []dashboards.Firing) []Alert {
	var out []Alert
	for _, f := range firing {
		a := Alert{Name: f.Alert, Subject: f.Team, Link: teamLink(f.Team, "")}
		switch f.Alert {
		case "ThroughlineTeamOverallocated":
			a.Link = "/capacity"
			a.Detail = fmt.Sprintf("planned load over the next 5 working days is %s of capacity (threshold %s)", pct(f.Value), pct(f.Threshold))
		case "ThroughlineTeamOverLogged":
			a.Link = "/capacity"
			a.Detail = fmt.Sprintf("logged %s of capacity last week (threshold %s)", pct(f.Value), pct(f.Threshold))
		case "ThroughlineWipOverLimit":
			a.Detail = fmt.Sprintf("%.0f items in progress, limit %.0f", f.Value, f.WIPLimits)
		case "ThroughlineWorkAgingPastSLE":
			a.Subject = f.Team + " · " + f.WorkClass
			a.Link = teamLink(f.Team, f.WorkClass) + "#aging"
			a.Detail = fmt.Sprintf("%s of the open %s items are older than the SLE (threshold %s)", pct(f.Value), f.WorkClass, pct(f.Threshold))
		default: // milestone alerts
			a.Subject = f.Project + " · " + f.Milestone
			a.Link = "/milestones"
			ms := m.milestoneByName(f.Project, f.Milestone)
			if ms != nil {
				a.Link = milestoneLink(ms.ID)
			}
			switch f.Alert {
			case "ThroughlineMilestoneOverdue":
				a.Detail = fmt.Sprintf("%.0f items still open", f.Remaining)
				if ms != nil {
					a.Detail = fmt.Sprintf("due %s, %.0f items still open", ms.Due.Format("2 Jan 2006"), f.Remaining)
				}
			case "ThroughlineMilestoneAtRisk":
				a.Detail = fmt.Sprintf("%s of forecast trials finish by the due date (threshold %s); status %s",
					pct(f.Value), pct(f.Threshold), statusLabel(f.Status))
			case "ThroughlineMilestoneStalled":
				a.Detail = fmt.Sprintf("no forecast: the project finished nothing in the window; %.0f items open", f.Remaining)
			}
		}
		out = append(out, a)
	}
	for _, s := range m.Sources {
		if s.Last.Status == "failed" || s.Last.Status == "died" {
			out = append(out, Alert{Name: "ThroughlineSyncFailing", Subject: s.Name, Link: "/quality#syncs",
				Detail: "the last sync " + s.Last.Status + ": " + s.Last.Error})
		}
	}
	return out
}

// milestoneByName finds a milestone by project key and name.
func (m *Model) milestoneByName(project, name string) *Milestone {
	for _, ms := range m.Milestones {
		if ms.Project == project && ms.Name == name {
			return ms
		}
	}
	return nil
}

// WIPTotal is the team's current WIP over all work classes.
func (t *Team) WIPTotal() int {
	n := 0
	for _, v := range t.WIP {
		n += v
	}
	return n
}

func pct(v float64) string { return fmt.Sprintf("%.0f%%", v*100) }
