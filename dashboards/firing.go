package dashboards

import (
	"cmp"
	"slices"

	"github.com/throughline/throughline/metrics"
)

// Firing is a planning alert whose condition holds on a snapshot: what
// Prometheus evaluates Alerts' expression to (pending or firing, before the
// rule's `for:`) when it scrapes that snapshot. The web pages list these.
type Firing struct {
	Alert                string
	Team, WorkClass      string
	Project, Milestone   string
	Value                float64 // the expression's value: a ratio, items, a probability
	Threshold            float64 // the config's threshold it crossed (0 where the rule has none)
	Status               string  // milestone alerts: the milestone's status
	Remaining, WIPLimits float64 // context for the message (milestone items open, the team's WIP limit)
}

// PlanningFiring evaluates the conditions of the planning alerts of Alerts
// on a snapshot, in the order of the rule file. Each condition below is the
// Go form of the PromQL of the rule with the same name in Alerts, and
// TestPrometheusScrapesAndEvaluatesRules checks on the demo that a real
// Prometheus, scraping the same snapshot, has exactly these alerts pending
// or firing: when a rule changes, change both.
func PlanningFiring(c Config, s *metrics.Snapshot) []Firing {
	if s == nil {
		return nil
	}
	var out []Firing
	for _, team := range sortedKeys(s.Rolling) {
		if v := s.Rolling[team]; v > c.AllocationRatio {
			out = append(out, Firing{Alert: "ThroughlineTeamOverallocated", Team: team, Value: v, Threshold: c.AllocationRatio})
		}
	}
	for _, team := range sortedKeys(s.LoggedUtil) {
		if v := s.LoggedUtil[team]; v > c.LoggedUtilization {
			out = append(out, Firing{Alert: "ThroughlineTeamOverLogged", Team: team, Value: v, Threshold: c.LoggedUtilization})
		}
	}
	// WIP per team and per (team, work class), both stage classes summed.
	wipTeam := map[string]float64{}
	wipClass := map[[2]string]float64{}
	for _, w := range s.WIP {
		wipTeam[w.Team] += w.Items
		wipClass[[2]string{w.Team, w.WorkClass}] += w.Items
	}
	for _, team := range sortedKeys(wipTeam) {
		if lim, ok := s.WIPLimits[team]; ok && wipTeam[team] > lim {
			out = append(out, Firing{Alert: "ThroughlineWipOverLimit", Team: team, Value: wipTeam[team], WIPLimits: lim})
		}
	}
	// Aging: share over the SLE above the threshold with enough open items,
	// where the SLE is configured or the P85 of enough finished items.
	sample := map[[2]string]int64{}
	configured := map[string]bool{}
	for _, q := range s.Cycle {
		switch {
		case q.Team != "*" && q.WorkClass != "*":
			sample[[2]string{q.Team, q.WorkClass}] = q.Items
		case q.Team != "*" && q.WorkClass == "*" && q.SLESource == "config":
			configured[q.Team] = true
		}
	}
	over := slices.Clone(s.OverSLE)
	slices.SortFunc(over, func(a, b metrics.Group) int {
		return cmp.Or(cmp.Compare(a.Team, b.Team), cmp.Compare(a.WorkClass, b.WorkClass))
	})
	for _, g := range over {
		k := [2]string{g.Team, g.WorkClass}
		wip := wipClass[k]
		if wip == 0 || wip < float64(c.AgingMinItems) {
			continue
		}
		share := g.Value / wip
		if share > c.AgingShare && (sample[k] >= int64(c.AgingMinItems) || configured[g.Team]) {
			out = append(out, Firing{Alert: "ThroughlineWorkAgingPastSLE", Team: g.Team, WorkClass: g.WorkClass, Value: share, Threshold: c.AgingShare})
		}
	}
	ms := slices.Clone(s.Milestones)
	slices.SortFunc(ms, func(a, b metrics.Milestone) int {
		return cmp.Or(cmp.Compare(a.Project, b.Project), cmp.Compare(a.Name, b.Name))
	})
	for _, m := range ms {
		f := Firing{Team: m.Team, Project: m.Project, Milestone: m.Name, Status: m.Status, Remaining: m.Remaining}
		if m.HasOnTime && m.OnTime < c.OnTimeProbability && m.Status != "overdue" {
			f := f
			f.Alert, f.Value, f.Threshold = "ThroughlineMilestoneAtRisk", m.OnTime, c.OnTimeProbability
			out = append(out, f)
		}
		switch m.Status {
		case "overdue":
			f.Alert, f.Value = "ThroughlineMilestoneOverdue", 1
			out = append(out, f)
		case "unknown":
			f.Alert, f.Value = "ThroughlineMilestoneStalled", 1
			out = append(out, f)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
