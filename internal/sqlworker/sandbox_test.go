package sqlworker

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/throughline/throughline/warehouse"
)

// TestWorkerDefencesWithoutTheGuard turns the guard off and attacks the
// worker: what the README says the worker layer stops, it stops alone
// (issue #16, finding 6: each layer's claim tested alone).
func TestWorkerDefencesWithoutTheGuard(t *testing.T) {
	const secret = "s3cr3t-token-of-the-server"
	t.Setenv("TL_SANDBOX_TEST_TOKEN", secret)
	s := newSnapshot(t)
	p := newPool(t, s, Options{Workers: 1, Timeout: 2 * time.Second, Unguarded: true})
	digest := func() [32]byte {
		b, err := os.ReadFile(s.path)
		if err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(b)
	}
	before := digest()
	dir := s.dir
	if h := os.Getenv("HOME"); h != "" && strings.HasPrefix(dir, h) {
		t.Skip("the test folder is under HOME")
	}

	t.Run("refused by the read-only, locked-down snapshot", func(t *testing.T) {
		for _, q := range []string{
			"SELECT * FROM read_csv('/etc/passwd')",
			"SELECT * FROM read_text('/proc/self/environ')",
			"SELECT * FROM '" + filepath.Join(dir, "w.duckdb") + "'",
			`SELECT * FROM "` + filepath.Join(dir, "w") + `".duckdb`,
			"COPY teams TO '" + filepath.Join(dir, "x.csv") + "'",
			"COPY (SELECT 1) TO '" + filepath.Join(dir, "x2.csv") + "'",
			"ATTACH '" + filepath.Join(dir, "w.duckdb") + "' AS w2",
			"INSTALL httpfs",
			"SET memory_limit = '8GB'",
			"SET GLOBAL enable_external_access = true",
			"DELETE FROM teams",
			"CREATE TABLE t AS SELECT 1",
			"EXPORT DATABASE '" + filepath.Join(dir, "z") + "'",
		} {
			if res, err := run(context.Background(), t, p, q, 0, 0); err == nil {
				t.Errorf("%s: answered %v", q, res.Rows)
			}
		}
		for _, f := range []string{"x.csv", "x2.csv", "z"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
				t.Errorf("%s was created", f)
			}
		}
		if got := mustRun(t, p, "SELECT count(*) FROM teams").Rows[0][0]; got != json.Number("2") {
			t.Errorf("teams = %v, want 2", got)
		}
	})

	t.Run("a session's state does not reach the next query", func(t *testing.T) {
		seeded := mustRun(t, p, "SELECT setseed(0.42); SELECT random() AS r").Rows[0][0]
		if again := mustRun(t, p, "SELECT setseed(0.42); SELECT random() AS r").Rows[0][0]; again != seeded {
			t.Fatalf("setseed is not deterministic here: %v, %v", seeded, again)
		}
		mustRun(t, p, "SELECT setseed(0.42) AS s")
		if next := mustRun(t, p, "SELECT random() AS r").Rows[0][0]; next == seeded {
			t.Errorf("random() after another query's setseed(0.42) = %v, the seeded value", next)
		}
	})

	t.Run("a query that changes a database-wide setting retires its worker", func(t *testing.T) {
		// Profiling is a session setting: the next query has a new session.
		mustRun(t, p, "SELECT * FROM enable_profiling()")
		if got := mustRun(t, p, "SELECT value FROM duckdb_settings() WHERE name = 'enable_profiling'").Rows[0][0]; got != nil {
			t.Errorf("profiling after another query's enable_profiling() = %v, want off", got)
		}
		// Logging is the database's: the worker is replaced.
		started, _ := p.Stats()
		mustRun(t, p, "SELECT * FROM enable_logging()")
		mustRun(t, p, "SELECT 12345 AS marker")
		if now, _ := p.Stats(); now != started+1 {
			t.Errorf("enable_logging(): %d workers started after it, want 1", now-started)
		}
		res := mustRun(t, p, "SELECT count(*) FROM duckdb_logs() WHERE message LIKE '%12345%'")
		if res.Rows[0][0] != json.Number("0") {
			t.Errorf("the logs hold the next client's query: %v", res.Rows)
		}
		mustRun(t, p, "SELECT * FROM checkpoint()")
		if digest() != before {
			t.Error("checkpoint() changed the snapshot file")
		}
	})

	// The worker's environment is empty and it holds no secret; what DuckDB
	// says of itself (its settings, the snapshot's path) is all there is.
	t.Run("no secret to reveal", func(t *testing.T) {
		for _, q := range []string{
			"SELECT * FROM duckdb_settings()",
			"SELECT * FROM duckdb_databases()",
			"SELECT current_setting('temp_directory') AS d, current_setting('home_directory') AS h",
			"SELECT * FROM duckdb_temporary_files()",
		} {
			res := mustRun(t, p, q)
			b, _ := json.Marshal(res.Rows)
			for _, leak := range []string{secret, os.Getenv("HOME")} {
				if leak != "" && leak != "/" && strings.Contains(string(b), leak) {
					t.Errorf("%s reveals %q", q, leak)
				}
			}
		}
	})

	t.Run("sleep and parameters cost one query at most", func(t *testing.T) {
		start := time.Now()
		if _, err := run(context.Background(), t, p, "SELECT sleep_ms(60000)", 0, 0); code(err) != warehouse.CodeTimeout {
			t.Errorf("sleep_ms: %v; want a time-out", err)
		}
		if d := time.Since(start); d > 4*time.Second {
			t.Errorf("sleep_ms answered after %s with a 2 s time-out", d)
		}
		for _, q := range []string{"SELECT $1", "SELECT ?"} {
			if _, err := run(context.Background(), t, p, q, 0, 0); err == nil {
				t.Errorf("%s answered", q)
			}
		}
		if got := mustRun(t, p, "SELECT 1 AS x").Rows[0][0]; got != json.Number("1") {
			t.Errorf("after: %v", got)
		}
	})
}
