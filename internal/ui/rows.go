package ui

import (
	"html"
	"html/template"
	"strings"
)

// The long tables (milestones, items past the SLE, input problems) are
// rendered here rather than by html/template, whose reflection costs about
// 70 µs a row: 200 milestones took 14 ms. Every text goes through
// html.EscapeString; attribute values are quoted.

type htmlBuilder struct{ strings.Builder }

// text writes s escaped.
func (b *htmlBuilder) text(s string) { b.WriteString(html.EscapeString(s)) }

// tag writes <name attrs…> with escaped attribute values: pairs of name, value.
func (b *htmlBuilder) open(name string, attrs ...string) {
	b.WriteString("<" + name)
	for i := 0; i+1 < len(attrs); i += 2 {
		if attrs[i+1] == "" {
			continue
		}
		b.WriteString(" " + attrs[i] + `="`)
		b.text(attrs[i+1])
		b.WriteString(`"`)
	}
	b.WriteString(">")
}

// cell writes <td class=…>text</td>.
func (b *htmlBuilder) cell(class, text string) {
	b.open("td", "class", class)
	b.text(text)
	b.WriteString("</td>")
}

func (b *htmlBuilder) html() template.HTML { return template.HTML(b.String()) }

// statusBadge is a milestone status as a coloured label.
func (b *htmlBuilder) statusBadge(status string, attrs ...string) {
	b.open("span", append([]string{"class", "status status-" + status, "data-status", status}, attrs...)...)
	b.text(statusLabel(status))
	b.WriteString("</span>")
}

func daysText(v int, ok bool) string {
	if !ok {
		return "—"
	}
	if v > 0 {
		return "+" + itoa(v) + " d"
	}
	return itoa(v) + " d"
}

func pctText(v float64, ok bool) string {
	if !ok {
		return "—"
	}
	return pct(v)
}

// milestoneRows renders the rows of a milestone table; full adds the
// baseline column and the delivery slip of done milestones.
func milestoneRows(list []*Milestone, full bool) template.HTML {
	var b htmlBuilder
	for _, x := range list {
		b.open("tr", "data-milestone", x.ID)
		b.WriteString(`<th scope="row">`)
		b.open("a", "href", milestoneLink(x.ID))
		b.text(x.Name)
		b.WriteString(`</a> <span class="muted">`)
		b.text(x.Project)
		b.WriteString(`</span></th><td data-metric="status">`)
		b.statusBadge(x.Status)
		b.WriteString("</td>")
		b.cell("", day(x.Due))
		if full {
			b.cell("", day(x.Baseline))
		}
		b.cell("", day(x.P50))
		b.WriteString(`<td data-metric="p85">`)
		b.text(day(x.P85))
		b.WriteString("</td>")
		b.cell("num", pctText(x.OnTime, x.HasOnTime))
		slip := daysText(x.SlipDays, x.HasSlip)
		if full && !x.HasSlip && x.HasDeliverySlip {
			slip = "delivered " + daysText(x.DeliverySlip, true)
		}
		class := "num"
		if x.HasSlip && x.SlipDays > 0 {
			class = "num bad"
		}
		b.cell(class, slip)
		b.cell("num", daysText(x.BaselineVariance, x.HasVariance))
		b.cell("num", itoa(x.Remaining)+" of "+itoa(x.Scope))
		b.WriteString("</tr>\n")
	}
	return b.html()
}

// overSLERows renders the items older than the SLE, each key linked to its
// page at the source when it has one.
func overSLERows(items []Item) template.HTML {
	var b htmlBuilder
	for _, it := range items {
		b.WriteString(`<tr><th scope="row">`)
		if it.URL != "" {
			b.open("a", "href", it.URL, "rel", "noopener noreferrer", "target", "_blank")
			b.text(it.Key)
			b.WriteString("</a>")
		} else {
			b.text(it.Key)
		}
		b.WriteString("</th>")
		b.cell("title", it.Title)
		b.cell("", it.Status)
		b.cell("", it.WorkClass)
		b.cell("num bad", itoa(it.Days)+" d")
		b.cell("num", itoa(it.SLE)+" d")
		b.cell("", day(it.Started))
		b.WriteString("</tr>\n")
	}
	return b.html()
}

// problemRows renders input problems.
func problemRows(m *Model, list []Problem) template.HTML {
	var b htmlBuilder
	for _, x := range list {
		line := ""
		if x.Line > 0 {
			line = itoa(x.Line)
		}
		b.WriteString("<tr>")
		b.cell("", x.Source)
		b.cell("file", x.File)
		b.cell("num", line)
		b.cell("", x.Column)
		b.cell("", x.Key)
		b.cell("", x.Reason)
		b.cell("", stamp(m, x.At))
		b.WriteString("</tr>\n")
	}
	return b.html()
}

// schemaHTML renders the console's schema browser: each table with its
// comment and columns, a click inserting the name.
func schemaHTML(tables []Table) template.HTML {
	var b htmlBuilder
	insert := func(name, title string) {
		b.open("button", "type", "button", "class", "insert", "data-insert", name, "title", title)
		b.text(name)
		b.WriteString("</button>")
	}
	for _, t := range tables {
		b.WriteString(`<details class="table-doc"><summary>`)
		insert(t.Name, "Insert the table name")
		b.WriteString("</summary>")
		if t.Comment != "" {
			b.WriteString(`<p class="muted">`)
			b.text(t.Comment)
			b.WriteString("</p>")
		}
		b.WriteString("<ul>")
		for _, c := range t.Columns {
			b.WriteString("<li>")
			insert(c.Name, c.Comment)
			b.WriteString(` <span class="type">`)
			b.text(strings.ToLower(c.Type))
			b.WriteString("</span>")
			if c.Comment != "" {
				b.WriteString(`<span class="comment">`)
				b.text(c.Comment)
				b.WriteString("</span>")
			}
			b.WriteString("</li>")
		}
		b.WriteString("</ul></details>\n")
	}
	return b.html()
}
