package bench

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/throughline/throughline/metrics"
	"github.com/throughline/throughline/warehouse"
)

// BenchmarkPublishSnapshot publishes the snapshot that the SQL API's workers
// and PMOs' own tools read (warehouse.PublishSnapshot: checkpoint, copy the
// file, rename it over the old one) over the synthetic warehouse of
// BenchmarkCompute (THROUGHLINE_BENCH_ITEMS items) after a compute; it
// reports the first publication after the compute (its checkpoint included)
// and later ones. Baseline, same run: copying the checkpointed file with
// io.Copy (the floor). With THROUGHLINE_BENCH_VERBOSE=1 it logs what copying
// each table alone into a new database costs (CREATE TABLE AS): the table by
// table alternative, and what an incremental publication would pay per
// changed table.
func BenchmarkPublishSnapshot(b *testing.B) {
	n := computeItems()
	ctx := context.Background()
	dir := b.TempDir()
	path := filepath.Join(dir, "bench.duckdb")
	db, err := warehouse.Open(ctx, warehouse.Options{Path: path, MemoryLimit: benchMemoryLimit()})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	seedWarehouse(b, db, n)
	p := metrics.Params{
		Now: time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC), WindowDays: 90,
		Teams:   []metrics.Team{{Name: "web", HoursPerWeek: 40, WIPLimit: 500, SLEDays: 10}},
		Started: []string{"In Progress", "In Review", "Blocked"}, Wait: []string{"In Review", "Blocked"}, Done: []string{"Done"}, Todo: []string{"To Do"},
		Trials: 10000, Seed: 1,
	}
	if _, err := metrics.Compute(ctx, db.DB, p); err != nil {
		b.Fatal(err)
	}
	// The first publication after a compute also checkpoints what the
	// compute left in the WAL (serve's case); later ones copy only.
	snap := warehouse.SnapshotPath(path)
	first, err := db.PublishSnapshot(ctx, snap)
	if err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	// Baseline: the warehouse file copied as bytes.
	copyStart := time.Now()
	if err := copyFile(path, filepath.Join(dir, "copy.duckdb")); err != nil {
		b.Fatal(err)
	}
	copySeconds := time.Since(copyStart).Seconds()
	os.Remove(filepath.Join(dir, "copy.duckdb"))

	var pub warehouse.Published
	cpu0 := cpuSeconds()
	b.ResetTimer()
	for b.Loop() {
		pub, err = db.PublishSnapshot(ctx, snap)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu_s/op")
	b.ReportMetric(copySeconds, "file_copy_s")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)/copySeconds, "x_file_copy")
	b.ReportMetric(float64(st.Size())/1e6, "warehouse_MB")
	b.ReportMetric(float64(pub.Bytes)/1e6, "snapshot_MB")
	b.ReportMetric(float64(pub.Tables), "tables")
	b.ReportMetric(first.Duration.Seconds(), "after_compute_s")
	if os.Getenv("THROUGHLINE_BENCH_VERBOSE") != "" {
		logTableCopies(b, db, dir)
	}
	reportPeakRSS(b)
}

// logTableCopies copies each table alone into a scratch file and logs the
// time and rows: what publishing only that table would cost.
func logTableCopies(b *testing.B, db *warehouse.DB, dir string) {
	ctx := context.Background()
	rows, err := db.QueryContext(ctx, `SELECT table_name, estimated_size FROM duckdb_tables()
		WHERE database_name = current_database() AND schema_name = 'main' ORDER BY estimated_size DESC`)
	if err != nil {
		b.Fatal(err)
	}
	type table struct {
		name string
		rows int64
	}
	var tables []table
	for rows.Next() {
		var t table
		if err := rows.Scan(&t.name, &t.rows); err != nil {
			b.Fatal(err)
		}
		tables = append(tables, t)
	}
	rows.Close()
	scratch := filepath.Join(dir, "tables.duckdb")
	if _, err := db.ExecContext(ctx, "ATTACH '"+scratch+"' AS scratch"); err != nil {
		b.Fatal(err)
	}
	defer db.ExecContext(ctx, "DETACH scratch")
	for _, t := range tables {
		start := time.Now()
		if _, err := db.ExecContext(ctx, `CREATE TABLE scratch."`+t.name+`" AS SELECT * FROM main."`+t.name+`"`); err != nil {
			b.Fatal(err)
		}
		b.Logf("%-24s %10s rows %8.3f s", t.name, strconv.FormatInt(t.rows, 10), time.Since(start).Seconds())
	}
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
