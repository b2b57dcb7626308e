package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/throughline/throughline/connectors/csv"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/metrics"
	"github.com/throughline/throughline/warehouse"
)

// The table of issue #15, end to end on one folder in the throughline
// layout (THROUGHLINE_BENCH_ITEMS items, THROUGHLINE_BENCH_CHANGES status
// changes per item, creation included): each part is a sub-benchmark that
// scripts/bench.sh runs in its own process (peak RSS is per process):
//
//   - read_csv: DuckDB's own read_csv of items.csv and status_changes.csv
//     into two tables (the floor of any import);
//   - duckdb_sql: DuckDB SQL alone doing the pandas script's job straight
//     from the files (per-item S and F with the item_flow rules, weekly
//     throughput per team and class, nearest-rank percentiles), checked
//     equal to the script's output;
//   - pandas: scripts/pandas_flow.py;
//   - throughline: sync (CSV connector into a warehouse file), compute
//     (every table), then the refresh: 1 % of the items changed (new
//     transitions, reopenings, new items, deletions, team changes,
//     worklogs, a person moving team), sync, the incremental compute and,
//     on the same data, a compute of every item for comparison.
//
// The folder is written once per size into the temporary directory and
// reused by the other processes (THROUGHLINE_BENCH_FLOW_DIR names another
// place); scripts/bench.sh removes it at the end.

// flowTableDir writes (once) the initial and the refreshed folder and
// returns the initial one's path and the refreshed one's.
func flowTableDir(b *testing.B) (initial, refreshed string) {
	root := os.Getenv("THROUGHLINE_BENCH_FLOW_DIR")
	if root == "" {
		root = filepath.Join(os.TempDir(), fmt.Sprintf("throughline-flow-%d-%g", computeItems(), benchChanges()))
	}
	initial, refreshed = filepath.Join(root, "initial"), filepath.Join(root, "refresh")
	done := filepath.Join(root, "complete")
	if _, err := os.Stat(done); err == nil {
		return initial, refreshed
	}
	for _, d := range []struct {
		dir     string
		refresh bool
	}{{initial, false}, {refreshed, true}} {
		if err := os.MkdirAll(d.dir, 0o755); err != nil {
			b.Fatal(err)
		}
		if _, err := writeFlowFiles(d.dir, flowFolder{items: computeItems(), changes: benchChanges(), people: true, refresh: d.refresh}); err != nil {
			b.Fatal(err)
		}
	}
	if err := os.WriteFile(done, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	return initial, refreshed
}

func flowParams(b *testing.B) metrics.Params {
	loc, err := time.LoadLocation(pandasZone)
	if err != nil {
		b.Fatal(err)
	}
	var teams []metrics.Team
	for _, t := range pandasTeams {
		teams = append(teams, metrics.Team{Name: t, HoursPerWeek: 40, WIPLimit: 500})
	}
	return metrics.Params{Now: pandasNow, Location: loc, WindowDays: pandasWin, Teams: teams, Trials: 10000, Seed: 1,
		Todo: []string{"To Do"}, Started: pandasStarts, Wait: []string{"In Review", "Blocked"}, Done: []string{"Done"}}
}

// BenchmarkFlowTable: see the comment above.
func BenchmarkFlowTable(b *testing.B) {
	b.Run("read_csv", benchFlowReadCSV)
	b.Run("duckdb_sql", benchFlowDuckDB)
	b.Run("pandas", benchFlowPandas)
	b.Run("throughline", benchFlowThroughline)
}

func benchFlowReadCSV(b *testing.B) {
	dir, _ := flowTableDir(b)
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		db, err := warehouse.Open(ctx, warehouse.Options{Path: filepath.Join(b.TempDir(), "read.duckdb"), TimeZone: pandasZone, MemoryLimit: benchMemoryLimit()})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for _, f := range []string{"items", "status_changes"} {
			if _, err := db.Exec(fmt.Sprintf("CREATE TABLE csv_%s AS SELECT * FROM read_csv('%s', header = true)", f, filepath.Join(dir, f+".csv"))); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	reportPeakRSS(b)
}

// duckdbFlowSQL is the pandas script's job in DuckDB SQL, straight from the
// files: S and F per item with the rules of item_flow (false starts and
// reopens included), then the cycle-time percentiles and weekly throughput.
func duckdbFlowSQL(dir string) []string {
	today := pandasNow.In(mustZone(pandasZone)).Format("2006-01-02")
	return []string{
		`CREATE OR REPLACE TEMP TABLE flow AS
		WITH it AS (SELECT key, status, team, work_class FROM read_csv('` + filepath.Join(dir, "items.csv") + `', header = true)),
		ch AS (SELECT key, CAST(changed_at AS TIMESTAMPTZ) AS ts, from_status, to_status
			FROM read_csv('` + filepath.Join(dir, "status_changes.csv") + `', header = true)),
		st AS (SELECT * FROM (VALUES ('To Do', 1), ('In Progress', 2), ('In Review', 2), ('Blocked', 2), ('Done', 3)) v(s, c)),
		c AS (SELECT ch.key, row_number() OVER (PARTITION BY ch.key ORDER BY ts) AS seq, ts, coalesce(f.c, 1) AS f, t.c AS t
			FROM ch LEFT JOIN st f ON f.s = ch.from_status LEFT JOIN st t ON t.s = ch.to_status),
		a AS (SELECT key, arg_max(t, seq) AS last_stage,
				max(seq) FILTER (WHERE t = 1 AND f IN (2, 3)) AS last_reset,
				max(seq) FILTER (WHERE f = 1 AND t = 2) AS cand_seq,
				arg_max(ts, seq) FILTER (WHERE f = 1 AND t = 2) AS cand_at,
				arg_max(ts, seq) FILTER (WHERE t = 3 AND f <> 3) AS done_at
			FROM c GROUP BY key)
		SELECT it.team, it.work_class,
			CASE WHEN a.cand_seq > coalesce(a.last_reset, -1) THEN a.cand_at END AS s,
			CASE WHEN a.last_stage = 3 THEN a.done_at END AS f
		FROM it JOIN a USING (key)`,
		`CREATE OR REPLACE TEMP TABLE cycle AS
		WITH w AS (SELECT team, work_class, CAST(f AS DATE) - CAST(s AS DATE) + 1 AS d, CAST(trunc(epoch(f) - epoch(s)) AS BIGINT) AS secs
			FROM flow WHERE f IS NOT NULL AND s IS NOT NULL AND f >= s
				AND CAST(f AS DATE) > DATE '` + today + `' - ` + fmt.Sprint(pandasWin) + ` AND CAST(f AS DATE) <= DATE '` + today + `'),
		g AS (SELECT coalesce(team, '*') AS team, coalesce(work_class, '*') AS work_class, count(*) AS n,
				list_sort(list(d)) AS d, list_sort(list(secs)) AS s
			FROM w GROUP BY GROUPING SETS ((team, work_class), (team), (work_class), ()))
		SELECT team, work_class, n,
			d[CAST(ceil(0.50 * n) AS INTEGER)], d[CAST(ceil(0.70 * n) AS INTEGER)], d[CAST(ceil(0.85 * n) AS INTEGER)], d[CAST(ceil(0.95 * n) AS INTEGER)],
			s[CAST(ceil(0.50 * n) AS INTEGER)], s[CAST(ceil(0.70 * n) AS INTEGER)], s[CAST(ceil(0.85 * n) AS INTEGER)], s[CAST(ceil(0.95 * n) AS INTEGER)]
		FROM g`,
		`CREATE OR REPLACE TEMP TABLE weekly AS
		SELECT strftime(CAST(date_trunc('week', CAST(f AS DATE)) AS DATE), '%Y-%m-%d') AS week_start, team, work_class, count(*) AS items
		FROM flow WHERE f IS NOT NULL AND CAST(f AS DATE) <= DATE '` + today + `' GROUP BY ALL`,
	}
}

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func benchFlowDuckDB(b *testing.B) {
	python, err := pandasPython()
	if err != nil {
		b.Skipf("the check against pandas needs it: %v", err)
	}
	dir, _ := flowTableDir(b)
	ctx := context.Background()
	var got flowNumbers
	for b.Loop() {
		b.StopTimer()
		db, err := warehouse.Open(ctx, warehouse.Options{TimeZone: pandasZone, MemoryLimit: benchMemoryLimit()})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for _, q := range duckdbFlowSQL(dir) {
			if _, err := db.Exec(q); err != nil {
				b.Fatalf("%v\n%s", err, q)
			}
		}
		b.StopTimer()
		got, err = readFlowNumbers(db)
		db.Close()
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	out, _, _, err := runPandas(python, dir)
	if err != nil {
		b.Fatal(err)
	}
	if d := diffNumbers(got, out.flowNumbers); len(d) > 0 {
		b.Fatalf("DuckDB SQL and pandas disagree:\n%s", strings.Join(d, "\n"))
	}
	reportPeakRSS(b)
}

// readFlowNumbers reads the temporary tables cycle and weekly.
func readFlowNumbers(db *warehouse.DB) (flowNumbers, error) {
	return queryFlowNumbers(db, `SELECT * FROM cycle ORDER BY 1, 2`, `SELECT * FROM weekly ORDER BY ALL`)
}

func benchFlowPandas(b *testing.B) {
	python, err := pandasPython()
	if err != nil {
		if os.Getenv("CI") != "" {
			b.Fatalf("pandas: %v (CI is set, so this fails instead of skipping)", err)
		}
		b.Skipf("pandas skipped: %v", err)
	}
	dir, _ := flowTableDir(b)
	var secs, wall float64
	var rss float64
	for b.Loop() {
		out, w, r, err := runPandas(python, dir)
		if err != nil {
			b.Fatal(err)
		}
		secs += out.Seconds
		wall += w.Seconds()
		rss = max(rss, r)
	}
	b.ReportMetric(secs/float64(b.N), "pandas_s")
	b.ReportMetric(wall/float64(b.N), "process_s")
	b.ReportMetric(rss/1e6, "pandas-peak-RSS-MB")
}

// benchFlowThroughline imports the folder, computes, then syncs the
// refreshed folder and computes again; the time per op is the first
// import's sync and compute.
func benchFlowThroughline(b *testing.B) {
	dir, refreshed := flowTableDir(b)
	ctx := context.Background()
	p := flowParams(b)
	var syncT, computeT, rSyncT, rComputeT, rFullT time.Duration
	var rss float64
	var recomputed int
	for b.Loop() {
		b.StopTimer()
		work := b.TempDir()
		// The source's path is a folder whose files the refresh replaces.
		src := filepath.Join(work, "src")
		if err := os.MkdirAll(src, 0o755); err != nil {
			b.Fatal(err)
		}
		copyFiles(b, dir, src)
		db, err := warehouse.Open(ctx, warehouse.Options{Path: filepath.Join(work, "w.duckdb"), TimeZone: pandasZone, MemoryLimit: benchMemoryLimit()})
		if err != nil {
			b.Fatal(err)
		}
		sync := func() time.Duration {
			c, err := csv.New(csv.Config{Layout: csv.LayoutThroughline, Path: src, Location: p.Location, BatchItems: 100_000}, csv.Options{})
			if err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			if _, err := ingest.Sync(ctx, db, db, "bench", c, ingest.SyncOptions{}); err != nil {
				b.Fatal(err)
			}
			return time.Since(t0)
		}
		compute := func(p metrics.Params) (time.Duration, metrics.Result) {
			t0 := time.Now()
			res, err := metrics.Compute(ctx, db.DB, p)
			if err != nil {
				b.Fatal(err)
			}
			if os.Getenv("THROUGHLINE_BENCH_VERBOSE") != "" {
				for _, s := range res.Steps {
					b.Logf("compute (full %v) %-20s %8.3f", res.Full, s.Name, s.Duration.Seconds())
				}
				for _, s := range res.Statements {
					if s.Duration > 20*time.Millisecond {
						b.Logf("compute (full %v) statement %-20s %8.3f", res.Full, s.Name, s.Duration.Seconds())
					}
				}
			}
			return time.Since(t0), res
		}
		b.StartTimer()
		d := sync()
		syncT += d
		d, _ = compute(p)
		computeT += d
		b.StopTimer()
		rss = max(rss, peakRSS())
		// The refresh: 1 % of the items changed, an hour later.
		copyFiles(b, refreshed, src)
		rSyncT += sync()
		p2 := p
		p2.Now = p.Now.Add(time.Hour)
		d, res := compute(p2)
		if res.Full {
			b.Fatalf("the refresh recomputed every item (%s)", res.Reason)
		}
		rComputeT += d
		recomputed = res.Items
		p2.Full = true
		d, _ = compute(p2)
		rFullT += d
		db.Close()
		b.StartTimer()
	}
	b.StopTimer()
	k := float64(b.N)
	b.ReportMetric(syncT.Seconds()/k, "sync_s")
	b.ReportMetric(computeT.Seconds()/k, "compute_s")
	b.ReportMetric(rSyncT.Seconds()/k, "refresh_sync_s")
	b.ReportMetric(rComputeT.Seconds()/k, "refresh_compute_s")
	b.ReportMetric(rFullT.Seconds()/k, "refresh_full_compute_s")
	b.ReportMetric(float64(recomputed), "refresh_items")
	b.ReportMetric(rss/1e6, "peak-RSS-MB")
}

// copyFiles copies every file of from into to (replacing them), and
// removes the files of to that from does not have.
func copyFiles(b *testing.B, from, to string) {
	have, _ := filepath.Glob(filepath.Join(to, "*.csv"))
	for _, p := range have {
		if _, err := os.Stat(filepath.Join(from, filepath.Base(p))); err != nil {
			os.Remove(p)
		}
	}
	// Streamed, not read whole: at 1M items status_changes.csv is hundreds
	// of MB, and a copy held in this process's heap would count in the
	// peak RSS reported as Throughline's.
	files, _ := filepath.Glob(filepath.Join(from, "*.csv"))
	for _, f := range files {
		if err := copyFile(f, filepath.Join(to, filepath.Base(f))); err != nil {
			b.Fatal(err)
		}
	}
}
