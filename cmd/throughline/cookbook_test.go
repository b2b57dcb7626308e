package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/throughline/throughline/docs"
)

// parseCookbook reads the cookbook the SQL console shows (docs.ParseCookbook)
// and fails when a block would be dropped: one before any ## heading, or
// left open.
func parseCookbook(t *testing.T, path string) []docs.Query {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	qs := docs.ParseCookbook(string(b))
	blocks := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "```sql" {
			blocks++
		}
	}
	if blocks != len(qs) {
		t.Fatalf("%s: %d sql blocks, %d under a ## heading and closed", path, blocks, len(qs))
	}
	return qs
}

func TestCookbookQueriesRunOnTheDemo(t *testing.T) {
	qs := parseCookbook(t, filepath.Join("..", "..", "docs", "sql-cookbook.md"))
	if len(qs) < 15 {
		t.Errorf("cookbook has %d queries, want 15 or more", len(qs))
	}
	dir := filepath.Join(t.TempDir(), "demo")
	code, out, errs := runCmd(t, "demo", "--once", "--dir", dir, "--items", "800", "--listen", "127.0.0.1:18999", "--log-level", "warn")
	if code != 0 {
		t.Fatalf("demo --once exit %d\n%s\n%s", code, out, errs)
	}
	// The summary starts with the pages' address, the one the config names.
	if p, s := strings.Index(out, "pages:     http://127.0.0.1:18999/"), strings.Index(out, "Throughline demo:"); p < 0 || s < 0 || p > s {
		t.Errorf("the demo summary does not start with the pages' address:\n%s", out)
	}
	// Through the same path as `throughline sql` on the file: locked down and guarded.
	cfg, err := loadConfig(filepath.Join(dir, "throughline.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Listen != "127.0.0.1:18999" {
		t.Errorf("demo --listen 127.0.0.1:18999 wrote server.listen %q", cfg.Server.Listen)
	}
	seen := map[string]bool{}
	for _, q := range qs {
		if seen[q.Heading] {
			t.Errorf("two queries under %q: one per heading", q.Heading)
		}
		seen[q.Heading] = true
		res, err := queryFile(context.Background(), cfg, q.SQL)
		if err != nil {
			t.Errorf("cookbook %q: %v", q.Heading, err)
		} else if res.RowCount == 0 {
			t.Errorf("cookbook %q: no rows on the demo", q.Heading)
		}
	}
}
