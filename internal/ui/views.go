package ui

import (
	"html"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// page is what a template renders.
type page struct {
	Title, Nav string
	View       string // the view's name (CSV links)
	Model      *Model
	Version    string
	Assets     map[string]string
	Signed     bool   // a token is configured: show "sign out"
	Bare       bool   // the sign-in form: no navigation
	Path       string // the request path
	Filters    filters
	// CSVQuery, when set, is the query string of the page's CSV links
	// instead of the filters' (the planner's form).
	CSVQuery string
	Data     any
	// Charts is the data the page's charts draw (JSON for app.js).
	Charts map[string]any
	// ChartJSON is Charts marshalled by render.
	ChartJSON template.JS
	// Tables are the numbers behind the charts (CSV and <details> tables).
	Tables map[string]*table
}

// filters are the query parameters a page understands.
type filters struct {
	Team, Class, Project, Status, ID, Source string
	Teams, Classes, Projects, Sources        []string
}

// query is the filter's query string (for CSV links).
func (f filters) query() string {
	v := url.Values{}
	for k, s := range map[string]string{"team": f.Team, "class": f.Class, "project": f.Project, "status": f.Status, "id": f.ID, "source": f.Source} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// table is a chart's numbers: a header and rows of text. A table that only
// the CSV link shows is filled when asked for (fill), not for every page.
type table struct {
	ID, Title string
	Head      []string
	Rows      [][]string
	fill      func(*table)
}

// load fills a lazy table.
func (t *table) load() *table {
	if t.fill != nil {
		f := t.fill
		t.fill = nil
		f(t)
	}
	return t
}

func (p *page) addTable(id, title string, head ...string) *table {
	if p.Tables == nil {
		p.Tables = map[string]*table{}
	}
	t := &table{ID: id, Title: title, Head: head}
	p.Tables[id] = t
	return t
}

func (t *table) add(cells ...string) { t.Rows = append(t.Rows, cells) }

// HTML renders the table (its numbers behind a chart) with every cell
// escaped: the same as the template would, without its reflection, which
// costs milliseconds for a few thousand cells.
func (t *table) HTML() template.HTML {
	t.load()
	var b strings.Builder
	b.WriteString("<thead><tr>")
	for _, h := range t.Head {
		b.WriteString(`<th scope="col">`)
		b.WriteString(html.EscapeString(h))
		b.WriteString("</th>")
	}
	b.WriteString("</tr></thead><tbody>")
	for _, row := range t.Rows {
		b.WriteString("<tr>")
		for _, c := range row {
			b.WriteString("<td>")
			b.WriteString(html.EscapeString(c))
			b.WriteString("</td>")
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody>")
	return template.HTML(b.String())
}

func (p *page) chart(id string, data any) {
	if p.Charts == nil {
		p.Charts = map[string]any{}
	}
	p.Charts[id] = data
}

// view is one page: its route, template and builder.
type view struct {
	name, title, template, nav string
	needsModel                 bool
	build                      func(m *Model, r *http.Request) (*page, int)
}

// views by route. The CSV endpoint finds a page's builder by its name.
var views = map[string]view{
	"/{$}":        {name: "portfolio", title: "Portfolio", template: "portfolio", nav: "portfolio", needsModel: true, build: buildPortfolio},
	"/team":       {name: "team", title: "Team", template: "team", nav: "team", needsModel: true, build: buildTeam},
	"/milestones": {name: "milestones", title: "Milestones", template: "milestones", nav: "milestones", needsModel: true, build: buildMilestones},
	"/milestone":  {name: "milestone", title: "Milestone", template: "milestone", nav: "milestones", needsModel: true, build: buildMilestone},
	"/capacity":   {name: "capacity", title: "Capacity", template: "capacity", nav: "capacity", needsModel: true, build: buildCapacity},
	"/plan":       {name: "plan", title: "Planner", template: "plan", nav: "plan", needsModel: true, build: buildPlan},
	"/quality":    {name: "quality", title: "Data quality", template: "quality", nav: "quality", needsModel: true, build: buildQuality},
	"/sql":        {name: "sql", title: "SQL console", template: "sql", nav: "sql", needsModel: false, build: buildSQL},
}

func viewByName(name string) (view, bool) {
	for _, v := range views {
		if v.name == name {
			return v, true
		}
	}
	return view{}, false
}

// teamLink is the team page of a team (and work class).
func teamLink(team, class string) string {
	v := url.Values{"team": {team}}
	if class != "" {
		v.Set("class", class)
	}
	return "/team?" + v.Encode()
}

// milestoneLink is the page of a milestone.
func milestoneLink(id string) string { return "/milestone?" + url.Values{"id": {id}}.Encode() }

// pick returns v when it is one of allowed, else "".
func pick(v string, allowed []string) string {
	if slices.Contains(allowed, v) {
		return v
	}
	return ""
}

func teamNames(m *Model) []string {
	out := make([]string, len(m.Teams))
	for i, t := range m.Teams {
		out[i] = t.Name
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

// stamp is an instant in the model's zone, to the second; "" when zero.
func stamp(m *Model, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(m.Location).Format("2006-01-02 15:04:05")
}

func fmtFloat(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }
