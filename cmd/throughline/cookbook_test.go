package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cookbookQuery is one ```sql block of docs/sql-cookbook.md under its heading.
type cookbookQuery struct{ heading, sql string }

func parseCookbook(t *testing.T, path string) []cookbookQuery {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var qs []cookbookQuery
	var heading string
	var cur *strings.Builder
	for i, line := range strings.Split(string(b), "\n") {
		switch {
		case cur != nil && strings.TrimSpace(line) == "```":
			qs = append(qs, cookbookQuery{heading, cur.String()})
			cur = nil
		case cur != nil:
			cur.WriteString(line + "\n")
		case strings.HasPrefix(line, "## "):
			heading = strings.TrimPrefix(line, "## ")
		case strings.TrimSpace(line) == "```sql":
			if heading == "" {
				t.Fatalf("%s:%d: sql block before any ## heading", path, i+1)
			}
			cur = &strings.Builder{}
		}
	}
	if cur != nil {
		t.Fatalf("%s: unterminated sql block under %q", path, heading)
	}
	return qs
}

func TestCookbookQueriesRunOnTheDemo(t *testing.T) {
	qs := parseCookbook(t, filepath.Join("..", "..", "docs", "sql-cookbook.md"))
	if len(qs) < 15 {
		t.Errorf("cookbook has %d queries, want 15 or more", len(qs))
	}
	dir := filepath.Join(t.TempDir(), "demo")
	if code, out, errs := runCmd(t, "demo", "--once", "--dir", dir, "--items", "800", "--log-level", "warn"); code != 0 {
		t.Fatalf("demo --once exit %d\n%s\n%s", code, out, errs)
	}
	// Through the same path as `throughline sql` on the file: locked down and guarded.
	cfg, err := loadConfig(filepath.Join(dir, "throughline.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, q := range qs {
		if seen[q.heading] {
			t.Errorf("two queries under %q: one per heading", q.heading)
		}
		seen[q.heading] = true
		res, err := queryFile(context.Background(), cfg, q.sql)
		if err != nil {
			t.Errorf("cookbook %q: %v", q.heading, err)
		} else if res.RowCount == 0 {
			t.Errorf("cookbook %q: no rows on the demo", q.heading)
		}
	}
}
