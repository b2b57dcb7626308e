package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/throughline/throughline/internal/config"
	"github.com/throughline/throughline/internal/demo"
)

func TestServeSyncsComputesAndExposesMetrics(t *testing.T) {
	_, _, p := demoPipeline(t, 400)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	served := make(chan error, 1)
	go func() { served <- p.serveOn(ctx, ln, true) }()

	get := func(path string, header ...string) (int, string) {
		req, _ := http.NewRequest("GET", base+path, nil)
		if len(header) == 2 {
			req.Header.Set(header[0], header[1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	// Ready once the initial sync and compute finished (poll, bounded).
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, _ := get("/readyz")
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still %d after 60 s", code)
		}
		time.Sleep(100 * time.Millisecond)
	}
	code, body := get("/metrics")
	for _, want := range []string{
		`throughline_up{source="demo-csv"} 1`,
		`throughline_job_success{job="compute"} 1`,
		"# TYPE throughline_cycle_time_seconds histogram",
		`throughline_items_created_total{item_type=`,
		"throughline_build_info{",
	} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics (%d) lacks %q", code, want)
		}
	}
	// The created counters add up to the items generated.
	var created float64
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "throughline_items_created_total{") {
			var v float64
			if _, err := fmt.Sscan(l[strings.LastIndex(l, " ")+1:], &v); err == nil {
				created += v
			}
		}
	}
	if created != 400 {
		t.Errorf("sum of throughline_items_created_total = %v, want 400", created)
	}
	if _, om := get("/metrics", "Accept", "application/openmetrics-text; version=1.0.0"); !strings.HasSuffix(om, "# EOF\n") {
		t.Error("OpenMetrics not negotiated")
	}
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("serve returned %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop within 15 s of cancellation")
	}
}

// demoPipeline generates a demo organisation of n items in a temporary
// folder and returns its folder, config and a pipeline over a fresh
// warehouse (closed when the test ends).
func demoPipeline(t *testing.T, n int) (string, *config.Config, *pipeline) {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if _, err := demo.Generate(data, demo.Options{Now: time.Now(), Seed: 3, Items: n}); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(filepath.Join(dir, "t.yaml"), []byte(demo.Config(data, filepath.Join(dir, "w.duckdb"))))
	if err != nil {
		t.Fatal(err)
	}
	db, err := openWarehouse(context.Background(), cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	p := newPipeline(cfg, db, slog.New(slog.DiscardHandler))
	p.progress = false
	return dir, cfg, p
}

// TestServeRestartKeepsMetrics: /metrics of a restarted serve, before any
// sync or compute, is /metrics of the one before it, line for line: the
// last compute's snapshot and the pipeline health (last sync and compute,
// their durations, the error and request counters) come back from the
// warehouse.
func TestServeRestartKeepsMetrics(t *testing.T) {
	_, cfg, p := demoPipeline(t, 400)
	scrape := func(base string) string {
		t.Helper()
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("/metrics: %d %v", resp.StatusCode, err)
		}
		return string(b)
	}
	serve := func(p *pipeline, initial bool) (string, func()) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		go func() { served <- p.serveOn(ctx, ln, initial) }()
		base := "http://" + ln.Addr().String()
		waitFor(t, "ready", 60*time.Second, func() (bool, string) {
			resp, err := http.Get(base + "/readyz")
			if err != nil {
				return false, err.Error()
			}
			resp.Body.Close()
			return resp.StatusCode == 200, resp.Status
		})
		return base, func() {
			cancel()
			if err := <-served; err != nil {
				t.Errorf("serve: %v", err)
			}
		}
	}
	// No scheduled run between the last scrape and the stop.
	cfg.Schedules.Sync, cfg.Schedules.Compute = "0 0 1 1 *", "0 0 1 1 *"
	// A failed sync too, so the error counter is not all zeros.
	p.collector.ObserveSync("demo-csv", time.Now(), time.Second, "error")
	base, stop := serve(p, true)
	before := scrape(base)
	stop()
	if err := p.db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`throughline_sync_errors_total{reason="error",source="demo-csv"} 1`, `throughline_task_success{task="compute"} 1`,
		"throughline_sync_last_success_timestamp_seconds{", "throughline_items_completed_total{"} {
		if !strings.Contains(before, want) {
			t.Errorf("/metrics before the restart lacks %s", want)
		}
	}

	db, err := openWarehouse(context.Background(), cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	restarted := newPipeline(cfg, db, slog.New(slog.DiscardHandler))
	restarted.progress = false
	base, stop = serve(restarted, false)
	defer stop()
	if diff := cmp.Diff(strings.Split(before, "\n"), strings.Split(scrape(base), "\n")); diff != "" {
		t.Errorf("/metrics after the restart, before any sync (-before +after):\n%s", diff)
	}
}
