package bench

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/throughline/throughline/connectors"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/internal/config"
	"github.com/throughline/throughline/internal/demo"
	"github.com/throughline/throughline/metrics"
	"github.com/throughline/throughline/warehouse"
)

// scrape serves the snapshot of db through the real exporter handler and
// scrapes it 200 times, reporting latency percentiles, size and series.
func scrape(b *testing.B, db *warehouse.DB, now time.Time) {
	snap, err := metrics.LoadSnapshot(context.Background(), db.DB, now)
	if err != nil {
		b.Fatal(err)
	}
	c := metrics.NewCollector(metrics.Build{Version: "bench", Revision: "bench", GoVersion: "go"})
	c.SetSnapshot(snap)
	c.ObserveSync("bench", now, time.Second, "")
	c.ObserveJob("compute", now, time.Second, true)
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true}))
	defer srv.Close()
	const n = 200
	var lat []time.Duration
	var size, series int
	b.ResetTimer()
	for b.Loop() {
		lat = lat[:0]
		for range n {
			t0 := time.Now()
			resp, err := http.Get(srv.URL)
			if err != nil {
				b.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				b.Fatalf("scrape: %v %d", err, resp.StatusCode)
			}
			lat = append(lat, time.Since(t0))
			size = len(body)
			series = 0
			for _, l := range strings.Split(string(body), "\n") {
				if l != "" && !strings.HasPrefix(l, "#") {
					series++
				}
			}
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[n/2-1].Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(lat[(99*n+99)/100-1].Microseconds())/1000, "p99_ms")
	b.ReportMetric(float64(size), "bytes")
	b.ReportMetric(float64(series), "series")
	reportPeakRSS(b)
}

// demoWarehouse is the demo organisation (3,600 items) through the CSV
// connector and the compute, in a warehouse file closed when the benchmark
// ends; with its config and the compute's now.
func demoWarehouse(b *testing.B) (*warehouse.DB, *config.Config, time.Time) {
	dir := b.TempDir()
	now := time.Now()
	if _, err := demo.Generate(filepath.Join(dir, "data"), demo.Options{Now: now, Seed: 42}); err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Parse(filepath.Join(dir, "t.yaml"), []byte(demo.Config(filepath.Join(dir, "data"), filepath.Join(dir, "w.duckdb"))))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	db, err := warehouse.Open(ctx, warehouse.Options{Path: cfg.Warehouse.Path, TimeZone: cfg.Timezone, MemoryLimit: "1GB"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	src := cfg.Sources[0]
	conn, err := connectors.New(src, cfg.Location, connectors.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := ingest.Sync(ctx, db, db, src.Name, conn, ingest.SyncOptions{}); err != nil {
		b.Fatal(err)
	}
	p := metrics.Params{Now: now, Location: cfg.Location, WindowDays: 90, Trials: 10000, Seed: 1,
		Started: cfg.Workflow.Started, Wait: cfg.Workflow.Wait, Done: cfg.Workflow.Done,
		DiscardedResolutions: cfg.Workflow.DiscardedResolutions,
		OperationalTypes:     cfg.WorkClass.Operational.ItemTypes, OperationalProjects: cfg.WorkClass.Operational.Projects}
	for _, t := range cfg.Teams {
		p.Teams = append(p.Teams, metrics.Team{Name: t.Name, Members: t.Members, Projects: t.Projects, HoursPerWeek: t.HoursPerWeek, WIPLimit: t.WIPLimit, SLEDays: t.SLEDays})
	}
	if _, err := metrics.Compute(ctx, db.DB, p); err != nil {
		b.Fatal(err)
	}
	return db, cfg, now
}

// BenchmarkScrapeDemo: the demo organisation (3,600 items) through the CSV
// connector and the compute, then 200 scrapes.
func BenchmarkScrapeDemo(b *testing.B) {
	db, _, now := demoWarehouse(b)
	scrape(b, db, now)
}

// BenchmarkScrapeLarge: the synthetic warehouse of BenchmarkCompute
// (THROUGHLINE_BENCH_ITEMS, default 1,000,000 items), then 200 scrapes.
func BenchmarkScrapeLarge(b *testing.B) {
	n := computeItems()
	ctx := context.Background()
	db, err := warehouse.Open(ctx, warehouse.Options{Path: b.TempDir() + "/bench.duckdb", MemoryLimit: benchMemoryLimit()})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	seedWarehouse(b, db, n)
	now := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	p := metrics.Params{Now: now, WindowDays: 90, Trials: 10000, Seed: 1,
		Started: []string{"In Progress", "In Review", "Blocked"}, Wait: []string{"In Review", "Blocked"}, Done: []string{"Done"},
		OperationalTypes: []string{"Incident"}}
	if _, err := metrics.Compute(ctx, db.DB, p); err != nil {
		b.Fatal(err)
	}
	scrape(b, db, now)
}
