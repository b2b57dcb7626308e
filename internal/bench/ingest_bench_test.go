// Package bench holds cross-package benchmarks: each reports its own figure
// and a baseline measured in the same run, never a timing assertion.
package bench

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/throughline/throughline/connectors/csv"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/warehouse"
)

// rows is the size of the generated items.csv (THROUGHLINE_BENCH_ROWS, default 1,000,000).
func rows() int {
	if s := os.Getenv("THROUGHLINE_BENCH_ROWS"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	return 1_000_000
}

var (
	fixtureOnce sync.Once
	fixtureDir  string
	fixtureErr  error
)

// itemsFolder writes a deterministic items.csv of rows() rows once per run.
func itemsFolder(b *testing.B) string {
	fixtureOnce.Do(func() {
		fixtureDir, fixtureErr = os.MkdirTemp("", "throughline-bench-")
		if fixtureErr != nil {
			return
		}
		f, err := os.Create(filepath.Join(fixtureDir, "items.csv"))
		if err != nil {
			fixtureErr = err
			return
		}
		w := bufio.NewWriterSize(f, 1<<20)
		w.WriteString("key,project,title,type,status,assignee,created_at,resolved_at,resolution,due_date,story_points,estimate_hours,milestone,parent,team,work_class\n")
		r := rand.New(rand.NewPCG(1, 2))
		base := time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)
		projects := []string{"WEB", "PAY", "APP", "OPS", "HELP", "DATA"}
		types := []string{"Story", "Bug", "Task", "Incident"}
		for i := range rows() {
			p := projects[i%len(projects)]
			created := base.Add(time.Duration(r.IntN(10*365*24*3600)) * time.Second)
			resolved, status, resolution := "", "In Progress", ""
			if r.IntN(10) < 8 {
				resolved = created.Add(time.Duration(1+r.IntN(30*24*3600)) * time.Second).Format(time.RFC3339)
				status, resolution = "Done", "Done"
			}
			fmt.Fprintf(w, "%s-%d,%s,Item number %d of the benchmark,%s,%s,person%d@example.com,%s,%s,%s,,%d,%.1f,R%d,,,\n",
				p, i, p, i, types[i%len(types)], status, r.IntN(200), created.Format(time.RFC3339), resolved, resolution,
				r.IntN(13), float64(r.IntN(40))/2, r.IntN(20))
		}
		if err := w.Flush(); err != nil {
			fixtureErr = err
			return
		}
		fixtureErr = f.Close()
	})
	if fixtureErr != nil {
		b.Fatal(fixtureErr)
	}
	return fixtureDir
}

func openMem(b *testing.B) *warehouse.DB {
	db, err := warehouse.Open(context.Background(), warehouse.Options{MemoryLimit: "4GB"})
	if err != nil {
		b.Fatal(err)
	}
	return db
}

// rowByRow hides the warehouse's bulk loading: the CSV connector reads
// row by row in Go (what it does inside serve).
type rowByRow struct{ ingest.Store }

// BenchmarkIngestItemsCSV compares the CSV connector (parse, validate,
// synthesize history, upsert items and status changes) with DuckDB's own
// read_csv of the same file into a table: connector is the bulk path
// (DuckDB reads the file, the rules run in SQL), row_by_row the Go path.
func BenchmarkIngestItemsCSV(b *testing.B) {
	dir := itemsFolder(b)
	n := rows()
	for _, mode := range []string{"connector", "row_by_row"} {
		b.Run(mode, func(b *testing.B) { benchIngest(b, dir, n, mode == "row_by_row") })
	}
	b.Run("duckdb_read_csv", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			db := openMem(b)
			b.StartTimer()
			if _, err := db.Exec(fmt.Sprintf("CREATE TABLE items AS SELECT * FROM read_csv('%s', header = true)", filepath.Join(dir, "items.csv"))); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			var got int
			db.QueryRow("SELECT count(*) FROM items").Scan(&got)
			if got != n {
				b.Fatalf("items = %d, want %d", got, n)
			}
			db.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		reportPeakRSS(b)
	})
}

func benchIngest(b *testing.B, dir string, n int, slow bool) {
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		db := openMem(b)
		c, err := csv.New(csv.Config{Layout: "throughline", Path: dir, BatchItems: 100_000}, csv.Options{})
		if err != nil {
			b.Fatal(err)
		}
		var st ingest.Store = db
		if slow {
			st = rowByRow{db}
		}
		b.StartTimer()
		run, err := ingest.Sync(ctx, st, db, "bench", c, ingest.SyncOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		var got int
		db.QueryRow("SELECT count(*) FROM work_items").Scan(&got)
		if got != n {
			b.Fatalf("work_items = %d, want %d (run %+v)", got, n, run)
		}
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	reportPeakRSS(b)
}

// BenchmarkParseItemsCSV is the row-by-row connector alone (emit discards
// batches): the share of the row-by-row ingest spent in Go parsing and
// validation.
func BenchmarkParseItemsCSV(b *testing.B) {
	dir := itemsFolder(b)
	n := rows()
	for b.Loop() {
		c, err := csv.New(csv.Config{Layout: "throughline", Path: dir, BatchItems: 100_000}, csv.Options{})
		if err != nil {
			b.Fatal(err)
		}
		items := 0
		err = c.Sync(context.Background(), "", func(_ context.Context, bt ingest.Batch) error {
			items += len(bt.Items)
			return nil
		})
		if err != nil || items != n {
			b.Fatalf("items %d err %v", items, err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	reportPeakRSS(b)
}

// TestMain removes the generated items.csv (140 MB at 1M rows) after the run.
func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}
