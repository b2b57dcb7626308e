package warehouse_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/throughline/throughline/warehouse"
)

func TestLockdownKeepsTheWriterWorkingAndStopsFilesAndSettings(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := warehouse.Open(ctx, warehouse.Options{Path: filepath.Join(dir, "w.duckdb"), TimeZone: "Europe/Berlin", MemoryLimit: "1GB", Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	csvPath := filepath.Join(dir, "a.csv")
	if err := os.WriteFile(csvPath, []byte("a\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := db.Lockdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Lockdown(ctx); err != nil {
		t.Errorf("second Lockdown: %v", err)
	}
	// The writer still ingests (Appender, transactions) and checkpoints.
	if err := db.Commit(ctx, "src", batch("c1")); err != nil {
		t.Fatalf("commit after lockdown: %v", err)
	}
	if _, err := db.ExecContext(ctx, "CREATE TEMP TABLE tt AS SELECT * FROM range(3); CHECKPOINT"); err != nil {
		t.Errorf("temp table and checkpoint after lockdown: %v", err)
	}
	refused := []struct{ sql, want string }{
		{"SELECT * FROM read_csv('" + csvPath + "')", "file system operations are disabled"},
		{"COPY work_items TO '" + filepath.Join(dir, "x.csv") + "'", "disabled"},
		{"ATTACH '" + filepath.Join(dir, "y.duckdb") + "'", "disabled"},
		{"SET memory_limit = '8GB'", "locked"},
		{"SET GLOBAL enable_external_access = true", "Cannot"},
		{"RESET TimeZone", "locked"},
	}
	for _, r := range refused {
		if _, err := db.ExecContext(ctx, r.sql); err == nil || !strings.Contains(err.Error(), r.want) {
			t.Errorf("%s: err %v, want one containing %q", r.sql, err, r.want)
		}
	}
	for _, f := range []string{"x.csv", "y.duckdb"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s was created", f)
		}
	}

	// A read pool: new connections get the global time zone and a
	// read-only transaction refuses writes.
	pool := db.ReadPool(2)
	var tz string
	if err := pool.QueryRowContext(ctx, "SELECT current_setting('TimeZone')").Scan(&tz); err != nil || tz != "Europe/Berlin" {
		t.Errorf("read pool time zone = %q, %v; want Europe/Berlin", tz, err)
	}
	c, err := pool.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecContext(ctx, "BEGIN TRANSACTION READ ONLY"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecContext(ctx, "DELETE FROM work_items"); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("delete in a read-only transaction: %v", err)
	}
	c.ExecContext(ctx, "ROLLBACK")
	c.Close()
	if err := pool.Close(); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "SELECT count(*) FROM work_items"); n != 2 {
		t.Errorf("work_items after closing the read pool = %d, want 2", n)
	}
}
