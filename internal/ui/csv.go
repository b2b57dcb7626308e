package ui

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"strings"
)

// serveCSV writes the numbers behind a chart or table of a page as CSV:
// /csv/<page>/<table>?<the page's filters>.
func (h *handler) serveCSV(w http.ResponseWriter, r *http.Request) {
	v, ok := viewByName(r.PathValue("page"))
	m := h.Model()
	if !ok || m == nil {
		http.NotFound(w, r)
		return
	}
	p, status := v.build(m, r)
	t := p.Tables[r.PathValue("table")]
	if status != http.StatusOK || t == nil {
		http.NotFound(w, r)
		return
	}
	t.load()
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	cw.Write(t.Head)
	for _, row := range t.Rows {
		cw.Write(safeCells(row))
	}
	cw.Flush()
	name := v.name + "-" + t.ID
	if p.Filters.Team != "" {
		name += "-" + p.Filters.Team
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+fileName(name)+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	writeBody(w, r, http.StatusOK, b.Bytes())
}

// safeCells defuses cells a spreadsheet would run as a formula (titles
// come from Jira and Asana users): a leading = + - @ gets a quote.
func safeCells(row []string) []string {
	out := row
	for i, c := range row {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) && !isNumber(c) {
			if &out[0] == &row[0] {
				out = append([]string(nil), row...)
			}
			out[i] = "'" + c
		}
	}
	return out
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if (r < '0' || r > '9') && r != '.' && !(i == 0 && r == '-') {
			return false
		}
	}
	return true
}

// fileName keeps letters, digits, dot, dash and underscore.
func fileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, s)
}
