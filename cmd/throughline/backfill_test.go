package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/throughline/throughline/internal/config"
	"github.com/throughline/throughline/internal/demo"
	"github.com/throughline/throughline/metrics"
)

// TestBackfillIntoPrometheus backfills the demo history with the CLI (its
// clock fixed, so the expected last sample cannot move if the test runs
// across the hold-off), imports it with the real promtool into a fresh TSDB,
// starts the real Prometheus on it scraping the same warehouse served live,
// and queries 90 days of weekly throughput, cycle-time quantiles and WIP at
// a 1-day step. Backfilled and scraped samples are one series: the same
// labels (job and instance included), no reset at the hand-over.
func TestBackfillIntoPrometheus(t *testing.T) {
	promtool := prometheusBin(t, "promtool")
	prometheusBin(t, "prometheus")
	start := time.Now()
	// The backfill's present, on a fixed clock.
	now := start.Truncate(time.Second)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if _, err := demo.Generate(data, demo.Options{Now: now, Seed: 3, Items: 800}); err != nil {
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
	// The address serve will listen on is the instance label of both.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := ln.Addr().String()
	file := filepath.Join(dir, "history.om")
	var out, errb bytes.Buffer
	code := runAt(context.Background(), []string{"backfill", "--config", cfg, "--out", file, "--instance", target}, &out, &errb, func() time.Time { return now })
	if code != 0 || !strings.Contains(out.String(), "promtool tsdb create-blocks-from openmetrics") ||
		!strings.Contains(out.String(), `labelled {instance="`+target+`",job="throughline"}`) {
		t.Fatalf("backfill: exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	t.Logf("demo synced, computed and backfilled after %s:\n%s", time.Since(start).Round(time.Millisecond), out.String())

	tsdb := filepath.Join(dir, "tsdb")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	imp := exec.CommandContext(ctx, promtool, "tsdb", "create-blocks-from", "openmetrics",
		"--max-block-duration="+backfillBlockDuration, "--quiet", file, tsdb)
	if b, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, b)
	}
	blocks, _ := filepath.Glob(filepath.Join(tsdb, "*", "meta.json"))
	t.Logf("promtool wrote %d blocks after %s", len(blocks), time.Since(start).Round(time.Millisecond))

	// Serve the warehouse live and let Prometheus scrape it onto the history.
	c, err := config.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db, err := openWarehouse(context.Background(), c, false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p := newPipeline(c, db, slog.New(slog.DiscardHandler))
	sctx, scancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- p.serveOn(sctx, ln, false) }()
	defer func() {
		scancel()
		<-served
	}()
	api := startPrometheus(t, dir, fmt.Sprintf("global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: throughline\n    static_configs: [{targets: [%q]}]\n", target),
		tsdb, "--storage.tsdb.retention.time=5y")
	addr := strings.TrimSuffix(strings.TrimPrefix(api, "http://"), "/api/v1/")
	waitFor(t, "a live scrape", 20*time.Second, func() (bool, string) {
		r, err := promQuery(api, metrics.Up.FQName())
		return err == nil && len(r.Data.Result) > 0, fmt.Sprint(err)
	})
	t.Logf("prometheus ready and scraping after %s", time.Since(start).Round(time.Millisecond))

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
		{"sum(last_over_time(throughline_throughput_weekly_items{week_offset=\"-1\"}[1d]))", true, 60},
		{"sum(last_over_time(throughline_wip_limit_items[1d]))", true, 60},
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

	// One series: every created counter the exporter serves has its history
	// under the same labels (job and instance included): backfilled samples
	// (older than an hour) and scraped ones (the last minute) in one series,
	// never reset at the hand-over. Label sets whose first event is after
	// the last backfilled day have no history to carry.
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	y, m, d := now.Add(-3 * time.Hour).In(berlin).Date()
	last := time.Date(y, m, d, 0, 0, 0, 0, berlin)
	withHistory := map[string]bool{}
	rows, err := db.QueryContext(context.Background(), `SELECT DISTINCT team, project, work_class, item_type FROM counter_events WHERE happened_at < ?`, last)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k [4]string
		if err := rows.Scan(&k[0], &k[1], &k[2], &k[3]); err != nil {
			t.Fatal(err)
		}
		withHistory[strings.Join(k[:], " ")] = true
	}
	rows.Close()
	live, err := promQuery(api, `throughline_items_created_total`)
	if err != nil || len(live.Data.Result) == 0 {
		t.Fatalf("live counters: %v %+v", err, live)
	}
	checked := 0
	for _, s := range live.Data.Result {
		l := s.Metric
		if !withHistory[strings.Join([]string{l["team"], l["project"], l["work_class"], l["item_type"]}, " ")] {
			continue
		}
		checked++
		sel := labelSelector(l)
		for _, window := range []string{"[100d] offset 1h", "[1m]"} {
			r, err := promQuery(api, "count_over_time("+sel+window+")")
			if err != nil || len(r.Data.Result) != 1 || r.Data.Result[0].float() < 1 {
				t.Errorf("%s has no samples in %s: the backfilled history is another series (%v %+v)", sel, window, err, r.Data.Result)
			}
		}
		if r, err := promQuery(api, "resets("+sel+"[100d])"); err != nil || len(r.Data.Result) != 1 || r.Data.Result[0].float() != 0 {
			t.Errorf("%s resets at the hand-over: %v %+v", sel, err, r.Data.Result)
		}
	}
	if checked < len(live.Data.Result)/2 {
		t.Errorf("only %d of %d live series have backfilled history", checked, len(live.Data.Result))
	}
	if r, err := promQuery(api, `count(count by (job, instance) (last_over_time({__name__=~"throughline_.*"}[100d])))`); err == nil && len(r.Data.Result) == 1 {
		if n := r.Data.Result[0].float(); n != 1 {
			t.Errorf("%v job/instance pairs in Prometheus, want 1 (the backfill's and the scrape's)", n)
		}
	}

	// Values survive the import: items created before the last sample (the
	// local midnight before now - 3h, on the backfill's clock), in
	// Prometheus and in the warehouse.
	res, err := promQuery(api, "sum(throughline_items_created_total)", last)
	if err != nil || len(res.Data.Result) != 1 {
		t.Fatalf("created at %s: %v %+v", last, err, res)
	}
	rows, err = db.QueryContext(context.Background(), `SELECT count(*) FROM item_flow WHERE created_at < ?`, last)
	if err != nil {
		t.Fatal(err)
	}
	var want float64
	for rows.Next() {
		if err := rows.Scan(&want); err != nil {
			t.Fatal(err)
		}
	}
	rows.Close()
	if got := res.Data.Result[0].float(); got != want {
		t.Errorf("sum(throughline_items_created_total) at %s = %v in Prometheus, %v items in the warehouse", last, got, want)
	}
	t.Logf("items created before %s: %v in Prometheus and in the warehouse; done after %s", last, want, time.Since(start).Round(time.Millisecond))
}

// labelSelector selects exactly the series of labels.
func labelSelector(labels map[string]string) string {
	var ms []string
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		if k != "__name__" {
			ms = append(ms, fmt.Sprintf("%s=%q", k, labels[k]))
		}
	}
	return labels["__name__"] + "{" + strings.Join(ms, ",") + "}"
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
