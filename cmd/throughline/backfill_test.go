package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/throughline/throughline/internal/demo"
)

// TestBackfillIntoPrometheus backfills the demo history with the CLI,
// imports it with the real promtool into a fresh TSDB, starts the real
// Prometheus on it, and queries 90 days of weekly throughput, cycle-time
// quantiles and WIP at a 1-day step.
func TestBackfillIntoPrometheus(t *testing.T) {
	var bins [2]string
	for i, name := range []string{"promtool", "prometheus"} {
		p, err := exec.LookPath(name)
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s not found and CI is set: .ci/run installs it (apt-get install prometheus): %v", name, err)
			}
			t.Skipf("%s not found: apt-get install prometheus to run the backfill end-to-end test", name)
		}
		bins[i] = p
	}
	start := time.Now()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if _, err := demo.Generate(data, demo.Options{Now: time.Now(), Seed: 3, Items: 800}); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "t.yaml")
	if err := os.WriteFile(cfg, []byte(demo.Config(data, filepath.Join(dir, "w.duckdb"))), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"sync", "compute"} {
		if code, _, errs := runCmd(t, cmd, "--config", cfg, "--log-level", "warn"); code != 0 {
			t.Fatalf("%s: exit %d\n%s", cmd, code, errs)
		}
	}
	file := filepath.Join(dir, "history.om")
	code, out, errs := runCmd(t, "backfill", "--config", cfg, "--out", file)
	if code != 0 || !strings.Contains(out, "promtool tsdb create-blocks-from openmetrics") {
		t.Fatalf("backfill: exit %d\n%s\n%s", code, out, errs)
	}
	t.Logf("demo synced, computed and backfilled after %s:\n%s", time.Since(start).Round(time.Millisecond), out)

	tsdb := filepath.Join(dir, "tsdb")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	imp := exec.CommandContext(ctx, bins[0], "tsdb", "create-blocks-from", "openmetrics",
		"--max-block-duration="+backfillBlockDuration, "--quiet", file, tsdb)
	if b, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, b)
	}
	blocks, _ := filepath.Glob(filepath.Join(tsdb, "*", "meta.json"))
	t.Logf("promtool wrote %d blocks after %s", len(blocks), time.Since(start).Round(time.Millisecond))

	promCfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(promCfg, []byte("global:\n  scrape_interval: 1m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	logPath := filepath.Join(dir, "prometheus.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	prom := exec.Command(bins[1], "--config.file="+promCfg, "--storage.tsdb.path="+tsdb,
		"--storage.tsdb.retention.time=5y", "--web.listen-address="+addr, "--log.level=warn")
	prom.Stdout, prom.Stderr = logFile, logFile
	if err := prom.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		prom.Process.Kill()
		prom.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("prometheus log:\n%s", b)
		}
	}()
	waitFor(t, "prometheus /-/ready", 20*time.Second, func() (bool, string) {
		resp, err := http.Get("http://" + addr + "/-/ready")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == 200, resp.Status
	})
	t.Logf("prometheus ready after %s", time.Since(start).Round(time.Millisecond))

	end := time.Now()
	for _, q := range []struct {
		expr      string
		positive  bool // some point must be > 0
		minPoints int
	}{
		{"sum(increase(throughline_items_completed_total[7d]))", true, 60},
		{"histogram_quantile(0.85, sum by (le) (increase(throughline_cycle_time_seconds_bucket[30d])))", true, 60},
		// Daily gauges: an instant selector sees a sample only within the
		// 5-minute lookback, so range queries take the day's last value.
		{"sum(last_over_time(throughline_wip_items[1d]))", true, 60},
		{"sum(last_over_time(throughline_capacity_seconds[1d]))", true, 60},
	} {
		vals, err := promRange(addr, q.expr, end.Add(-90*24*time.Hour), end, 24*time.Hour)
		if err != nil {
			t.Errorf("%s: %v", q.expr, err)
			continue
		}
		pos := 0
		for _, v := range vals {
			if v > 0 {
				pos++
			}
		}
		t.Logf("%-100s %d points, %d > 0", q.expr, len(vals), pos)
		if len(vals) < q.minPoints || (q.positive && pos == 0) {
			t.Errorf("%s over 90 days at 1d: %d points (%d > 0), want at least %d", q.expr, len(vals), pos, q.minPoints)
		}
	}
	// Values survive the import: items created before the last sample (the
	// local midnight before now - 3h), in Prometheus and in the warehouse.
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	y, m, d := end.Add(-3 * time.Hour).In(berlin).Date()
	last := time.Date(y, m, d, 0, 0, 0, 0, berlin)
	var res struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	err = promGet(fmt.Sprintf("http://%s/api/v1/query?query=%s&time=%d", addr, url.QueryEscape("sum(throughline_items_created_total)"), last.Unix()), &res)
	if err != nil || res.Status != "success" || len(res.Data.Result) != 1 {
		t.Fatalf("created at %s: %v %+v", last, err, res)
	}
	code, out, errs = runCmd(t, "sql", "--config", cfg, "--format", "csv",
		fmt.Sprintf("SELECT count(*) AS n FROM item_flow WHERE created_at < TIMESTAMPTZ '%s'", last.Format(time.RFC3339)))
	if code != 0 {
		t.Fatalf("sql: exit %d %s", code, errs)
	}
	var promN string
	if v, ok := res.Data.Result[0].Value[1].(string); ok {
		promN = v
	}
	if want := strings.TrimPrefix(strings.TrimSpace(out), "n\n"); promN != want {
		t.Errorf("sum(throughline_items_created_total) at %s = %s in Prometheus, %s items in the warehouse", last, promN, want)
	}
	t.Logf("items created before %s: %s in Prometheus and in the warehouse; done after %s", last, promN, time.Since(start).Round(time.Millisecond))
}

func TestBackfillUsage(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "t.yaml")
	if err := os.WriteFile(cfg, []byte(demo.Config(filepath.Join(dir, "data"), filepath.Join(dir, "missing.duckdb"))), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "h.om")
	tests := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"no out", []string{"--config", cfg}, exitUsage, "--out FILE is required"},
		{"bad since", []string{"--config", cfg, "--out", out, "--since", "03/01/2026"}, exitUsage, "want YYYY-MM-DD"},
		{"since after until", []string{"--config", cfg, "--out", out, "--since", "2026-03-02", "--until", "2026-03-01"}, exitUsage, "is not before"},
		{"no warehouse", []string{"--config", cfg, "--out", out}, exitRuntime, "does not exist yet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := runCmd(t, append([]string{"backfill"}, tt.args...)...)
			if code != tt.code || !strings.Contains(errs, tt.err) {
				t.Errorf("exit %d stderr %q; want %d containing %q", code, errs, tt.code, tt.err)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s written on error", out)
			}
		})
	}
}

// promRange runs a range query and returns the values of its single series
// (NaN points, e.g. a quantile with no observations, are dropped).
func promRange(addr, expr string, start, end time.Time, step time.Duration) ([]float64, error) {
	var r struct {
		Status    string `json:"status"`
		Error     string `json:"error"`
		ErrorType string `json:"errorType"`
		Data      struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Values [][2]any `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	u := fmt.Sprintf("http://%s/api/v1/query_range?query=%s&start=%d&end=%d&step=%d",
		addr, url.QueryEscape(expr), start.Unix(), end.Unix(), int(step.Seconds()))
	if err := promGet(u, &r); err != nil {
		return nil, err
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("status %s: %s: %s", r.Status, r.ErrorType, r.Error)
	}
	if len(r.Data.Result) != 1 {
		return nil, fmt.Errorf("%s with %d series, want 1", r.Data.ResultType, len(r.Data.Result))
	}
	var out []float64
	for _, p := range r.Data.Result[0].Values {
		s, _ := p[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("point %v: %w", p, err)
		}
		if v == v { // not NaN
			out = append(out, v)
		}
	}
	return out, nil
}
