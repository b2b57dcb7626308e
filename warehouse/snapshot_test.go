package warehouse_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/throughline/throughline/warehouse"
	"github.com/throughline/throughline/warehouse/warehousetest"
)

func TestPublishSnapshotOfAnInMemoryWarehouse(t *testing.T) {
	ctx := context.Background()
	db := warehousetest.Open(t, "")
	if _, err := db.ExecContext(ctx, "INSERT INTO teams (team_id, name) VALUES ('t1', 't1')"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.snapshot.duckdb")
	pub, err := db.PublishSnapshot(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := warehouse.Open(ctx, warehouse.Options{Path: path, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if n := count(t, snap, "SELECT count(*) FROM teams"); n != 1 || pub.Tables == 0 {
		t.Errorf("teams = %d, tables %d; want 1 team", n, pub.Tables)
	}
}

func TestPublishSnapshot(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := warehouse.Open(ctx, warehouse.Options{Path: filepath.Join(dir, "w.duckdb"), MemoryLimit: "1GB", Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Commit(ctx, "src", batch("c1")); err != nil {
		t.Fatal(err)
	}
	path := warehouse.SnapshotPath(filepath.Join(dir, "w.duckdb"))
	if path != filepath.Join(dir, "w.snapshot.duckdb") {
		t.Fatalf("SnapshotPath = %s", path)
	}
	var tables int
	if err := db.QueryRow("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()").Scan(&tables); err != nil {
		t.Fatal(err)
	}
	pub, err := db.PublishSnapshot(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if pub.Tables != tables || pub.Bytes == 0 || pub.Path != path {
		t.Errorf("published %+v; want %d tables", pub, tables)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o444 {
		t.Errorf("snapshot mode %v (%v), want 0444", st.Mode(), err)
	}
	// A reader keeps its file while a new one is published.
	old, err := warehouse.Open(ctx, warehouse.Options{Path: path, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if _, err := db.ExecContext(ctx, "INSERT INTO teams (team_id, name) VALUES ('t1', 't1')"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PublishSnapshot(ctx, path); err != nil {
		t.Fatalf("publish while a reader holds the old snapshot: %v", err)
	}
	if n := count(t, old, "SELECT count(*) FROM teams"); n != 0 {
		t.Errorf("teams in the old snapshot = %d, want 0", n)
	}
	// The driver shares one database per path within a process: close the
	// old one before opening the new file.
	old.Close()
	fresh, err := warehouse.Open(ctx, warehouse.Options{Path: path, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	for _, r := range []struct {
		db   *warehouse.DB
		want int
	}{{fresh, 1}, {db, 1}} {
		if n := count(t, r.db, "SELECT count(*) FROM teams"); n != r.want {
			t.Errorf("teams = %d, want %d", n, r.want)
		}
	}
	// Comments and the catalogue name come along.
	var name, comment string
	if err := fresh.QueryRow("SELECT current_database(), comment FROM duckdb_tables() WHERE table_name = 'work_items'").Scan(&name, &comment); err != nil {
		t.Fatal(err)
	}
	if name != "w" || comment == "" {
		t.Errorf("snapshot catalogue %q, work_items comment %q", name, comment)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if d := cmp.Diff([]string{"w.duckdb", "w.snapshot.duckdb"}, names); d != "" {
		t.Errorf("files (-want +got):\n%s", d)
	}
}
