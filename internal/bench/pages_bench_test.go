package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/throughline/throughline/connectors"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/internal/config"
	"github.com/throughline/throughline/internal/demo"
	"github.com/throughline/throughline/internal/ui"
	"github.com/throughline/throughline/metrics"
	"github.com/throughline/throughline/warehouse"
)

// pageAssets are the files every page loads besides its HTML.
var pageAssets = []string{"d3.min.js", "plot.umd.min.js", "app.js", "style.css", "icon.svg"}

// benchPages loads the page model of db once (as after a compute) and
// serves every page 200 times through the real handler, in process: server
// time only. Each page reports p50/p99 and its weight (gzip HTML plus the
// gzip assets it loads). The baseline, served the same way in the same run,
// is a static asset (style.css): ratio_p99 = page p99 ÷ baseline p99.
func benchPages(b *testing.B, db *warehouse.DB, p ui.Params) {
	ctx := context.Background()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	t0 := time.Now()
	m, err := ui.Load(ctx, db.DB, p)
	if err != nil {
		b.Fatal(err)
	}
	load := time.Since(t0)
	runtime.GC()
	runtime.ReadMemStats(&after)
	h, err := ui.New(ui.Options{Model: func() *ui.Model { return m }})
	if err != nil {
		b.Fatal(err)
	}
	get := func(target string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", target, nil)
		r.Header.Set("Accept-Encoding", "gzip")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("GET %s: %d", target, w.Code)
		}
		return w
	}
	assets := 0
	for _, a := range pageAssets {
		assets += get("/assets/" + a).Body.Len()
	}
	const n = 200
	measure := func(target string) (p50, p99 time.Duration, size int) {
		lat := make([]time.Duration, 0, n)
		for range n {
			t0 := time.Now()
			w := get(target)
			lat = append(lat, time.Since(t0))
			size = w.Body.Len()
		}
		slices.Sort(lat)
		return lat[n/2-1], lat[(99*n+99)/100-1], size
	}
	_, base99, _ := measure("/assets/style.css")
	// The largest team (most finished items) and the worst milestone.
	team := m.Teams[0]
	for _, t := range m.Teams {
		if t.FinishedTotal > team.FinishedTotal {
			team = t
		}
	}
	pages := []struct{ name, target string }{
		{"portfolio", "/"},
		{"team", "/team?" + url.Values{"team": {team.Name}}.Encode()},
		{"milestones", "/milestones"},
		{"capacity", "/capacity"},
		{"quality", "/quality"},
		{"sql", "/sql"},
	}
	if len(m.Milestones) > 0 {
		pages = append(pages, struct{ name, target string }{"milestone", "/milestone?" + url.Values{"id": {m.Milestones[0].ID}}.Encode()})
	}
	b.ReportMetric(load.Seconds(), "load_s")
	b.ReportMetric(float64(after.HeapAlloc-min(after.HeapAlloc, before.HeapAlloc))/1e6, "model_MB")
	b.ReportMetric(float64(assets)/1000, "assets_kB_gz")
	for _, pg := range pages {
		b.Run(pg.name, func(b *testing.B) {
			var p50, p99 time.Duration
			var size int
			for b.Loop() {
				p50, p99, size = measure(pg.target)
			}
			b.ReportMetric(float64(p50.Microseconds())/1000, "p50_ms")
			b.ReportMetric(float64(p99.Microseconds())/1000, "p99_ms")
			b.ReportMetric(float64(p99)/float64(base99), "ratio_p99")
			b.ReportMetric(float64(size)/1000, "html_kB_gz")
			b.ReportMetric(float64(size+assets)/1000, "page_kB_gz")
		})
	}
}

// BenchmarkPagesDemo: the demo organisation (3,600 items) through the CSV
// connector and the compute, then every page.
func BenchmarkPagesDemo(b *testing.B) {
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
	defer db.Close()
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
	pp := ui.ConfigParams(cfg)
	pp.Now = now
	benchPages(b, db, pp)
}

// BenchmarkPagesLarge: the synthetic warehouse of BenchmarkCompute
// (THROUGHLINE_BENCH_ITEMS, default 1,000,000 items) with its teams, then
// every page.
func BenchmarkPagesLarge(b *testing.B) {
	n := computeItems()
	ctx := context.Background()
	db, err := warehouse.Open(ctx, warehouse.Options{Path: b.TempDir() + "/bench.duckdb", MemoryLimit: benchMemoryLimit()})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	seedWarehouse(b, db, n)
	now := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	p := metrics.Params{Now: now, WindowDays: 90, Teams: benchTeams(),
		Started: []string{"In Progress", "In Review", "Blocked"}, Wait: []string{"In Review", "Blocked"}, Done: []string{"Done"}, Todo: []string{"To Do"},
		OperationalTypes: []string{"Incident"}, Trials: 10000, Seed: 1}
	if _, err := metrics.Compute(ctx, db.DB, p); err != nil {
		b.Fatal(err)
	}
	benchPages(b, db, ui.Params{Now: now, WindowDays: 90, Started: p.Started,
		Alerts: ui.Thresholds{AllocationRatio: 1, LoggedUtilization: 1, OnTimeProbability: 0.5}})
}
