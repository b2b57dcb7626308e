package ui

import (
	"fmt"
	"slices"
)

// alerts lists what the generated alert rules (dashboards.Alerts) would fire
// on now, from the same figures the collector exposes and the thresholds of
// the config. Prometheus waits for a rule's `for:` duration first
// (over-allocated 6h, WIP over limit 1d by default); this list shows the
// condition as it holds at the last compute.
func alerts(m *Model) []Alert {
	var out []Alert
	th := m.Thresholds
	for _, t := range m.Teams {
		link := teamLink(t.Name, "")
		if t.HasAllocation && th.AllocationRatio > 0 && t.Allocation > th.AllocationRatio {
			out = append(out, Alert{Name: "ThroughlineTeamOverallocated", Subject: t.Name, Link: "/capacity",
				Detail: fmt.Sprintf("planned load is %s of capacity this week (threshold %s)", pct(t.Allocation), pct(th.AllocationRatio))})
		}
		if t.HasLogged && th.LoggedUtilization > 0 && t.Logged > th.LoggedUtilization {
			out = append(out, Alert{Name: "ThroughlineTeamOverLogged", Subject: t.Name, Link: "/capacity",
				Detail: fmt.Sprintf("logged %s of capacity last week (threshold %s)", pct(t.Logged), pct(th.LoggedUtilization))})
		}
		if wip := t.WIPTotal(); t.WIPLimit > 0 && wip > t.WIPLimit {
			out = append(out, Alert{Name: "ThroughlineWipOverLimit", Subject: t.Name, Link: link,
				Detail: fmt.Sprintf("%d items in progress, limit %d", wip, t.WIPLimit)})
		}
		over := map[string]int{}
		for _, it := range t.Aging {
			if it.OverSLE {
				over[it.WorkClass]++
			}
		}
		if t.OverSLE > 0 {
			// Per work class, as the rule fires (the list holds the oldest items,
			// which are the ones past the SLE, unless more are than it holds).
			classes := make([]string, 0, len(over))
			for c := range over {
				classes = append(classes, c)
			}
			slices.Sort(classes)
			if len(classes) == 0 || t.OverSLE > countOver(t.Aging) {
				out = append(out, Alert{Name: "ThroughlineWorkAgingPastSLE", Subject: t.Name, Link: link + "#aging",
					Detail: fmt.Sprintf("%d open items older than the SLE", t.OverSLE)})
			} else {
				for _, c := range classes {
					out = append(out, Alert{Name: "ThroughlineWorkAgingPastSLE", Subject: t.Name + " · " + c, Link: teamLink(t.Name, c) + "#aging",
						Detail: fmt.Sprintf("%d open %s items older than the SLE", over[c], c)})
				}
			}
		}
	}
	for _, ms := range m.Milestones {
		subject := ms.Project + " · " + ms.Name
		link := milestoneLink(ms.ID)
		switch {
		case ms.Status == "overdue":
			out = append(out, Alert{Name: "ThroughlineMilestoneOverdue", Subject: subject, Link: link,
				Detail: fmt.Sprintf("due %s, %d items still open", ms.Due.Format("2 Jan 2006"), ms.Remaining)})
		case ms.Status != "done" && ms.HasOnTime && ms.OnTime < th.OnTimeProbability:
			out = append(out, Alert{Name: "ThroughlineMilestoneAtRisk", Subject: subject, Link: link,
				Detail: fmt.Sprintf("%s of forecast trials finish by the due date %s (threshold %s)", pct(ms.OnTime), ms.Due.Format("2 Jan 2006"), pct(th.OnTimeProbability))})
		}
	}
	for _, s := range m.Sources {
		if s.Last.Status == "failed" || s.Last.Status == "died" {
			out = append(out, Alert{Name: "ThroughlineSyncFailing", Subject: s.Name, Link: "/quality#syncs",
				Detail: "the last sync " + s.Last.Status + ": " + s.Last.Error})
		}
	}
	return out
}

func countOver(items []Item) int {
	n := 0
	for _, it := range items {
		if it.OverSLE {
			n++
		}
	}
	return n
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
