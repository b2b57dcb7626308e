package warehouse_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/throughline/throughline/warehouse"
	"github.com/throughline/throughline/warehouse/warehousetest"
)

// storageVersion is the storage format a DuckDB file was written in.
func storageVersion(t *testing.T, db *sql.DB) string {
	t.Helper()
	var v string
	if err := db.QueryRow(`SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = current_database()`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestStorageVersion: new warehouse files and the snapshots of an in-memory
// warehouse use warehouse.StorageVersion; a file an earlier release wrote in
// DuckDB's default format opens, migrates and keeps its format (DuckDB
// cannot change it in place).
func TestStorageVersion(t *testing.T) {
	ctx := context.Background()
	want := warehouse.StorageVersion + "+"
	dir := t.TempDir()

	db, err := warehouse.Open(ctx, warehouse.Options{Path: filepath.Join(dir, "new.duckdb")})
	if err != nil {
		t.Fatal(err)
	}
	if got := storageVersion(t, db.DB); got != want {
		t.Errorf("new file: storage version %q, want %q", got, want)
	}
	db.Close()

	mem := warehousetest.Open(t, "")
	snap := filepath.Join(dir, "mem.snapshot.duckdb")
	if _, err := mem.PublishSnapshot(ctx, snap); err != nil {
		t.Fatal(err)
	}
	s, err := warehouse.Open(ctx, warehouse.Options{Path: snap, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := storageVersion(t, s.DB); got != want {
		t.Errorf("snapshot of an in-memory warehouse: storage version %q, want %q", got, want)
	}
	s.Close()

	// A file in DuckDB's default format, as earlier releases created.
	old := filepath.Join(dir, "old.duckdb")
	plain, err := sql.Open("duckdb", old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Exec("CREATE TABLE kept (x INTEGER); INSERT INTO kept VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	before := storageVersion(t, plain)
	plain.Close()
	if before == want {
		t.Fatalf("DuckDB's default format is %q already: this test no longer tells the two apart", before)
	}
	db, err = warehouse.Open(ctx, warehouse.Options{Path: old})
	if err != nil {
		t.Fatalf("open a file in the default format: %v", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "INSERT INTO teams (team_id, name) VALUES ('t1', 't1'); CHECKPOINT"); err != nil {
		t.Fatal(err)
	}
	if got := storageVersion(t, db.DB); got != before {
		t.Errorf("old file: storage version %q after a write, want %q as it was", got, before)
	}
	if n := count(t, db, "SELECT sum(x) FROM kept"); n != 42 {
		t.Errorf("old file's table: sum %d, want 42", n)
	}
}
