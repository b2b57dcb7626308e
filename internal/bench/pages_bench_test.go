package bench

import (
	"context"
	"github.com/throughline/throughline/dashboards"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/throughline/throughline/internal/ui"
	"github.com/throughline/throughline/metrics"
	"github.com/throughline/throughline/warehouse"
)

// pageAssets are the files every page loads besides its HTML.
var pageAssets = []string{"d3.min.js", "plot.umd.min.js", "app.js", "style.css", "icon.svg"}

// benchPages loads the page model of db once (as after a compute) and
// serves every page 200 times through the real handler, in process: server
// time only. Each page reports the time to render it (no page cache:
// render_p50_ms, render_p99_ms, and the process CPU per render,
// render_cpu_ms) and to serve it as the server does, where
// the first request renders and the others come from the page cache
// (p50_ms, p99_ms), and its weight (gzip HTML plus the gzip assets it
// loads). The baseline, served the same way in the same run, is a static
// asset (style.css): ratio_p99 = render p99 ÷ baseline p99.
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
	handler := func(cache int) http.Handler {
		h, err := ui.New(ui.Options{Model: func() *ui.Model { return m }, CachePages: cache})
		if err != nil {
			b.Fatal(err)
		}
		return h
	}
	cold, warm := handler(-1), handler(0)
	get := func(h http.Handler, target string) *httptest.ResponseRecorder {
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
		assets += get(cold, "/assets/"+a).Body.Len()
	}
	const n = 200
	measure := func(h http.Handler, target string) (p50, p99 time.Duration, size int) {
		lat := make([]time.Duration, 0, n)
		for range n {
			t0 := time.Now()
			w := get(h, target)
			lat = append(lat, time.Since(t0))
			size = w.Body.Len()
		}
		slices.Sort(lat)
		return lat[n/2-1], lat[(99*n+99)/100-1], size
	}
	_, base99, _ := measure(cold, "/assets/style.css")
	// The heaviest team page (most items in its charts) and the worst milestone.
	team := m.Teams[0]
	for _, t := range m.Teams {
		if len(t.Finished)+len(t.Aging) > len(team.Finished)+len(team.Aging) {
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
	b.Run("model", func(b *testing.B) {
		for b.Loop() {
		}
		b.ReportMetric(load.Seconds(), "load_s")
		b.ReportMetric(float64(after.HeapAlloc-min(after.HeapAlloc, before.HeapAlloc))/1e6, "model_MB")
		b.ReportMetric(float64(assets)/1000, "assets_kB_gz")
		b.ReportMetric(float64(len(team.Finished)), "team_finished_shown")
		b.ReportMetric(float64(team.AgingTotal), "team_open_items")
		b.ReportMetric(float64(len(team.Aging)), "team_open_shown")
		reportPeakRSS(b)
	})
	for _, pg := range pages {
		b.Run(pg.name, func(b *testing.B) {
			var r50, r99, p50, p99 time.Duration
			var size int
			var cpu float64
			for b.Loop() {
				c0 := cpuSeconds()
				r50, r99, size = measure(cold, pg.target)
				cpu = (cpuSeconds() - c0) / n
				p50, p99, _ = measure(warm, pg.target)
			}
			// Process CPU per render: steadier than wall time when other
			// work shares the machine.
			b.ReportMetric(cpu*1000, "render_cpu_ms")
			b.ReportMetric(float64(r50.Microseconds())/1000, "render_p50_ms")
			b.ReportMetric(float64(r99.Microseconds())/1000, "render_p99_ms")
			b.ReportMetric(float64(p50.Microseconds())/1000, "p50_ms")
			b.ReportMetric(float64(p99.Microseconds())/1000, "p99_ms")
			b.ReportMetric(float64(r99)/float64(base99), "ratio_p99")
			b.ReportMetric(float64(size)/1000, "html_kB_gz")
			b.ReportMetric(float64(size+assets)/1000, "page_kB_gz")
		})
	}
}

// BenchmarkPagesDemo: the demo organisation (3,600 items) through the CSV
// connector and the compute, then every page.
func BenchmarkPagesDemo(b *testing.B) {
	db, cfg, now := demoWarehouse(b)
	p := ui.ConfigParams(cfg)
	p.Now = now
	benchPages(b, db, p)
}

// BenchmarkPagesLarge: the synthetic warehouse of BenchmarkCompute
// (THROUGHLINE_BENCH_ITEMS, default 1,000,000 items) with its teams, then
// every page.
func BenchmarkPagesLarge(b *testing.B) {
	db, p := largeWarehouse(b)
	if _, err := metrics.Compute(context.Background(), db.DB, p); err != nil {
		b.Fatal(err)
	}
	snap, err := metrics.LoadSnapshot(context.Background(), db.DB, p.Now)
	if err != nil {
		b.Fatal(err)
	}
	benchPages(b, db, ui.Params{Now: p.Now, WindowDays: p.WindowDays, Started: p.Started,
		Firing: dashboards.PlanningFiring(dashboards.DefaultConfig(), snap)})
}
