package ui

import (
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"
)

type teamData struct {
	Team                  *Team
	Summary               teamSummary
	Cycle                 CycleStat // of the class filter (or all)
	Finished, FinishedAll int       // shown and in the window (before the project filter)
	AgingShown, AgingAll  int
	OverSLE               []Item
	OverSLEAll            int
	Capped, AgingCapped   bool
	WIPNow                int
	ClassLabel            string
	Weeks                 int
	WindowDays, FlowDays  int
	MaxFinished, MaxAging int
}

func buildTeam(m *Model, r *http.Request) (*page, int) {
	q := r.URL.Query()
	p := &page{}
	names := teamNames(m)
	p.Filters = filters{Team: pick(q.Get("team"), names), Class: pick(q.Get("class"), m.WorkClasses),
		Project: pick(q.Get("project"), m.Projects), Teams: names, Classes: m.WorkClasses, Projects: m.Projects}
	if p.Filters.Team == "" {
		if q.Get("team") != "" || len(names) == 0 {
			p.Title = "No such team"
			p.Data = &teamData{}
			return p, http.StatusNotFound
		}
		p.Filters.Team = names[0]
	}
	t := m.Team(p.Filters.Team)
	class, project := p.Filters.Class, p.Filters.Project
	d := &teamData{Team: t, Summary: summarize(m, t), Weeks: ThroughputWeeks, WindowDays: m.WindowDays, FlowDays: FlowDays,
		MaxFinished: MaxFinishedPerTeam, MaxAging: MaxAgingPerTeam, FinishedAll: t.FinishedTotal, AgingAll: t.AgingTotal,
		Capped: t.FinishedTotal > len(t.Finished), AgingCapped: t.AgingTotal > len(t.Aging), OverSLEAll: t.OverSLE}
	p.Title = t.Name
	statClass := "*"
	if class != "" {
		statClass = class
		d.ClassLabel = class
	}
	d.Cycle = t.Cycle[statClass]
	keep := func(it Item) bool {
		return (class == "" || it.WorkClass == class) && (project == "" || it.Project == project)
	}

	// Throughput per week by work class (complete weeks).
	tp := p.addTable("throughput", "Throughput per week by work class", "week", "work class", "items")
	type bar struct {
		Week  string `json:"week"`
		Class string `json:"class"`
		Items int    `json:"items"`
	}
	var bars []bar
	for _, c := range m.WorkClasses {
		if class != "" && c != class {
			continue
		}
		weeks, counts := weeklyTotals(m, t, c)
		for i, w := range weeks {
			if counts[i] == 0 && !hasClass(t, c) {
				continue
			}
			tp.add(day(w), c, itoa(counts[i]))
			bars = append(bars, bar{day(w), c, counts[i]})
		}
	}
	p.chart("throughput", bars)

	// Cycle-time scatter.
	sc := p.addTable("cycle", "Finished items: cycle time", "key", "title", "project", "work class", "type", "started", "finished", "flow days", "url")
	sc.fill = func(sc *table) {
		for _, it := range t.Finished {
			if keep(it) {
				sc.add(it.Key, it.Title, it.Project, it.WorkClass, it.ItemType, day(it.Started), day(it.Finished), itoa(it.Days), it.URL)
			}
		}
	}
	type dot struct {
		Day   string `json:"d"`
		Days  int    `json:"days"`
		Key   string `json:"key"`
		Title string `json:"title"`
		URL   string `json:"url,omitempty"`
		Class string `json:"class"`
	}
	var points []dot
	for _, it := range t.Finished {
		if !keep(it) {
			continue
		}
		d.Finished++
		points = append(points, dot{day(it.Finished), it.Days, it.Key, clip(it.Title, 90), it.URL, it.WorkClass})
	}
	p.chart("cycle", map[string]any{"points": points, "p50": d.Cycle.P50, "p85": d.Cycle.P85, "p95": d.Cycle.P95, "sle": d.Cycle.SLE})

	// Aging WIP by status, in workflow order.
	ag := p.addTable("aging", "Work in progress by age", "key", "title", "project", "work class", "status", "stage class", "started", "age days", "SLE days", "over SLE", "url")
	ag.fill = func(ag *table) {
		for _, it := range t.Aging {
			if keep(it) {
				ag.add(it.Key, it.Title, it.Project, it.WorkClass, it.Status, it.StageClass, day(it.Started), itoa(it.Days), itoa(it.SLE), boolText(it.OverSLE), it.URL)
			}
		}
	}
	type ageDot struct {
		Status string `json:"status"`
		Age    int    `json:"age"`
		Key    string `json:"key"`
		Title  string `json:"title"`
		URL    string `json:"url,omitempty"`
		Over   bool   `json:"over"`
	}
	var dots []ageDot
	statuses := []string{}
	for _, it := range t.Aging {
		if !keep(it) {
			continue
		}
		d.AgingShown++
		dots = append(dots, ageDot{it.Status, it.Days, it.Key, clip(it.Title, 90), it.URL, it.OverSLE})
		if !slices.Contains(statuses, it.Status) {
			statuses = append(statuses, it.Status)
		}
		if it.OverSLE {
			d.OverSLE = append(d.OverSLE, it)
		}
	}
	p.chart("aging", map[string]any{"points": dots, "columns": orderStatuses(statuses, m.started), "p50": d.Cycle.P50, "p85": d.Cycle.P85, "p95": d.Cycle.P95, "sle": d.Cycle.SLE})

	// WIP per day against the limit.
	wt := p.addTable("wip", "WIP per day", "day", "work class", "items")
	type count struct {
		Day   string `json:"day"`
		Class string `json:"class,omitempty"`
		Stage string `json:"stage,omitempty"`
		Items int    `json:"items"`
	}
	var wip []count
	for _, x := range t.WIPDaily {
		if class != "" && x.WorkClass != class {
			continue
		}
		wt.add(day(x.Day), x.WorkClass, itoa(x.Items))
		wip = append(wip, count{Day: day(x.Day), Class: x.WorkClass, Items: x.Items})
	}
	for c, n := range t.WIP {
		if class == "" || c == class {
			d.WIPNow += n
		}
	}
	limit := t.WIPLimit
	if class != "" {
		limit = 0 // the limit is for the whole team
	}
	p.chart("wip", map[string]any{"points": wip, "limit": limit})

	// Cumulative flow (all classes: the table has no class).
	cf := p.addTable("cfd", "Cumulative flow", "day", "stage", "items")
	var cfd []count
	for _, x := range t.CFD {
		cf.add(day(x.Day), x.Stage, itoa(x.Items))
		cfd = append(cfd, count{Day: day(x.Day), Stage: x.Stage, Items: x.Items})
	}
	p.chart("cfd", cfd)
	p.Data = d
	return p, http.StatusOK
}

func hasClass(t *Team, class string) bool {
	for _, w := range t.Weekly {
		if w.WorkClass == class {
			return true
		}
	}
	return false
}

// orderStatuses puts statuses in workflow order (config workflow.started),
// the others after them alphabetically.
func orderStatuses(seen, workflow []string) []string {
	var out []string
	for _, s := range workflow {
		for _, x := range seen {
			if strings.EqualFold(x, s) && !slices.Contains(out, x) {
				out = append(out, x)
			}
		}
	}
	var rest []string
	for _, x := range seen {
		if !slices.Contains(out, x) {
			rest = append(rest, x)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

func boolText(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// clip shortens s to n runes.
func clip(s string, n int) string {
	if len(s) <= n { // bytes: no more runes than that
		return s
	}
	i := 0
	for pos := range s {
		if i == n-1 {
			if utf8.RuneCountInString(s[pos:]) <= 1 {
				return s
			}
			return s[:pos] + "…"
		}
		i++
	}
	return s
}
