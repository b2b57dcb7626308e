package ui

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"
)

// pageTemplates are the templates with their own file besides the layout.
var pageTemplates = []string{"portfolio", "team", "milestones", "milestone", "capacity", "plan", "quality", "sql", "signin", "loading", "notfound"}

func (h *handler) parseTemplates() error {
	for _, name := range pageTemplates {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return fmt.Errorf("parse page template %s: %w", name, err)
		}
		h.pages[name] = t
	}
	return nil
}

var statusLabels = map[string]string{
	"overdue": "Overdue", "off_track": "Off track", "at_risk": "At risk", "on_track": "On track",
	"unknown": "Unknown", "no_due_date": "No due date", "done": "Done",
}

// statusLabel is a milestone status for people.
func statusLabel(s string) string {
	if l, ok := statusLabels[s]; ok {
		return l
	}
	return s
}

var funcs = template.FuncMap{
	"day":     day,
	"dayLong": func(t time.Time) string { return longDay(t) },
	"pct": func(v float64) string {
		return fmt.Sprintf("%.0f%%", math.Round(v*100))
	},
	"f0":            func(v float64) string { return fmtThousands(math.Round(v)) },
	"f1":            func(v float64) string { return fmtFloat(v, 1) },
	"n":             func(v int) string { return fmtThousands(float64(v)) },
	"rfc3339":       func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"when":          func(m *Model, t time.Time) string { return stamp(m, t) },
	"statusLabel":   statusLabel,
	"milestoneRows": milestoneRows,
	"overSLERows":   overSLERows,
	"problemRows":   problemRows,
	"schemaHTML":    schemaHTML,
	"bandClass":     func(b string) string { return "band-" + strings.ReplaceAll(b, " ", "-") },
	"bandOf":        band,
	"bias":          biasText,
	"neg":           func(v float64) float64 { return -v },
	"teamLink":      teamLink,
	"milestoneLink": milestoneLink,
	"csv": func(p *page, table string) string {
		if p.CSVQuery != "" {
			return "/csv/" + p.View + "/" + table + p.CSVQuery
		}
		return "/csv/" + p.View + "/" + table + p.Filters.query()
	},
	"signed": func(v int) string {
		if v > 0 {
			return fmt.Sprintf("+%d", v)
		}
		return fmt.Sprint(v)
	},
	"trend": func(s teamSummary) string {
		if !s.HasTrend {
			return ""
		}
		switch {
		case s.Before == 0 && s.Recent == 0:
			return "flat"
		case s.Before == 0:
			return "up from zero"
		}
		ch := (s.Recent - s.Before) / s.Before
		switch {
		case ch > 0.05:
			return fmt.Sprintf("up %.0f%%", ch*100)
		case ch < -0.05:
			return fmt.Sprintf("down %.0f%%", -ch*100)
		}
		return "steady"
	},
	"trendClass": func(s teamSummary) string {
		if !s.HasTrend || s.Before == 0 {
			return "trend-flat"
		}
		ch := (s.Recent - s.Before) / s.Before
		switch {
		case ch > 0.05:
			return "trend-up"
		case ch < -0.05:
			return "trend-down"
		}
		return "trend-flat"
	},
	"table":    func(p *page, id string) *table { return p.Tables[id] },
	"sub":      func(a, b int) int { return a - b },
	"over":     func(a, b int) bool { return b > 0 && a > b },
	"zero":     func(t time.Time) bool { return t.IsZero() },
	"statuses": func() []string { return statuses },
}

// biasText says which way the backtest's P85 dates erred on average.
func biasText(days float64) string {
	switch {
	case days >= 0.5:
		return fmt.Sprintf("milestones finishing %.1f days after them on average (optimistic)", days)
	case days <= -0.5:
		return fmt.Sprintf("milestones finishing %.1f days before them on average (cautious)", -days)
	}
	return "with no lean either way"
}

func longDay(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.Format("Mon 2 Jan 2006")
}

// fmtThousands formats an integer-valued float with thin-space-free commas.
func fmtThousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
