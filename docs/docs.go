// Package docs embeds the documents the binary shows: the SQL cookbook's
// queries are the examples of the web SQL console.
package docs

import (
	_ "embed"
	"strings"
)

//go:embed sql-cookbook.md
var cookbook string

// Query is one ```sql block of sql-cookbook.md under its ## heading.
type Query struct {
	Heading string // the ## heading: the question
	Text    string // the paragraph under the heading, if any
	SQL     string
}

// Cookbook returns the queries of sql-cookbook.md in order. A block before
// any heading, or one left open, is dropped (TestCookbook checks there are
// none).
func Cookbook() []Query { return ParseCookbook(cookbook) }

// ParseCookbook reads the ```sql blocks of a cookbook in Markdown.
func ParseCookbook(md string) []Query {
	var qs []Query
	var cur Query
	var sql *strings.Builder
	for _, line := range strings.Split(md, "\n") {
		switch {
		case sql != nil && strings.TrimSpace(line) == "```":
			if cur.Heading != "" {
				q := cur
				q.SQL = sql.String()
				qs = append(qs, q)
			}
			sql = nil
		case sql != nil:
			sql.WriteString(line + "\n")
		case strings.HasPrefix(line, "## "):
			cur = Query{Heading: strings.TrimPrefix(line, "## ")}
		case strings.TrimSpace(line) == "```sql":
			sql = &strings.Builder{}
		case cur.Heading != "" && strings.TrimSpace(line) != "" && cur.Text == "":
			cur.Text = strings.TrimSpace(line)
		}
	}
	return qs
}
