package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/throughline/throughline/dashboards"
	"github.com/throughline/throughline/internal/config"
	"github.com/throughline/throughline/metrics"
)

// TestPrometheusScrapesAndEvaluatesRules runs the real server on demo data,
// the real Prometheus (Debian package) scraping it every second with the
// generated rules, and checks every rule expression against the live data.
func TestPrometheusScrapesAndEvaluatesRules(t *testing.T) {
	promBin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("prometheus not found and CI is set: .ci/run installs it (apt-get install prometheus): %v", err)
		}
		t.Skip("prometheus not found: apt-get install prometheus to run the end-to-end test")
	}
	start := time.Now()
	dir, cfg, p := demoPipeline(t, 400)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := ln.Addr().String()
	defer serveUntilDone(t, ctx, cancel, p, ln, true)()
	t.Logf("throughline ready after %s", time.Since(start).Round(time.Millisecond))

	// promtool's linter on a real scrape (text format).
	if promtool, err := exec.LookPath("promtool"); err == nil {
		resp, err := http.Get("http://" + target + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = bytes.NewReader(body)
		out, err := cmd.CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("promtool check metrics on a scrape (%d bytes): %v\n%s", len(body), err, out)
		}
	}

	rules, err := writeRules(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	promCfg := filepath.Join(dir, "prometheus.yml")
	quoted := make([]string, len(rules))
	for i, r := range rules {
		quoted[i] = strconv.Quote(r)
	}
	err = os.WriteFile(promCfg, fmt.Appendf(nil, `global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%s]
scrape_configs:
  - job_name: throughline
    static_configs:
      - targets: [%q]
`, strings.Join(quoted, ", "), target), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	promAddr := freeAddr(t)
	logPath := filepath.Join(dir, "prometheus.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(promBin, "--config.file="+promCfg, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+promAddr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("prometheus log:\n%s", b)
		}
	}()
	api := "http://" + promAddr + "/api/v1/"
	query := func(expr string) (promResult, error) { return promQuery(api, expr) }

	waitFor(t, "throughline_up in Prometheus", 30*time.Second, func() (bool, string) {
		r, err := query(metrics.Up.FQName())
		if err != nil {
			return false, err.Error()
		}
		return len(r.Data.Result) > 0, fmt.Sprintf("%d series", len(r.Data.Result))
	})
	t.Logf("first scrape in Prometheus after %s", time.Since(start).Round(time.Millisecond))

	alerts, err := dashboards.Alerts(mustRulesOptions(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	recording := dashboards.Recording()
	// Expressions the demo data always gives data for: the recording rules
	// (completions, WIP and WIP limits, planned load, capacity, milestones).
	wantData := map[string]bool{}
	for _, r := range recording.Rules() {
		wantData[r.Expr] = true
	}
	// The increase over [1w] needs two scrapes; everything else one.
	deadline := time.Now().Add(20 * time.Second)
	for _, r := range append(alerts.Rules(), recording.Rules()...) {
		name := r.Alert + r.Record
		for {
			res, err := query(r.Expr)
			if err != nil {
				t.Errorf("%s: %s: %v", name, r.Expr, err)
				break
			}
			n := len(res.Data.Result)
			if n > 0 || !wantData[r.Expr] {
				t.Logf("%-58s %d series", name, n)
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s: %s returned no data", name, r.Expr)
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
	}

	// Every metric the rules name is exposed by the demo, except the error
	// counter, which appears with the first failed sync.
	names := map[string]bool{}
	for _, r := range append(alerts.Rules(), recording.Rules()...) {
		for _, n := range regexp.MustCompile(`throughline_[a-z_]+`).FindAllString(r.Expr+r.Annotations["description"], -1) {
			names[n] = true
		}
	}
	for _, n := range slices.Sorted(maps.Keys(names)) {
		if n == "throughline_sync_errors_total" {
			continue
		}
		res, err := query(n)
		if err != nil || len(res.Data.Result) == 0 {
			t.Errorf("metric %s named by a rule has no series in Prometheus (err %v)", n, err)
		}
	}

	// All groups loaded and every rule evaluated without error.
	wantGroups := map[string]int{}
	for _, f := range []dashboards.RuleFile{alerts, recording} {
		for _, g := range f.Groups {
			wantGroups[g.Name] = len(g.Rules)
		}
	}
	waitFor(t, "all rules evaluated with health ok", 15*time.Second, func() (bool, string) {
		groups, err := promRules(api)
		if err != nil {
			return false, err.Error()
		}
		got := map[string]int{}
		var bad []string
		for _, g := range groups {
			got[g.Name] = len(g.Rules)
			for _, r := range g.Rules {
				if r.Health != "ok" {
					bad = append(bad, fmt.Sprintf("%s/%s: %s %s", g.Name, r.Name, r.Health, r.LastError))
				}
			}
		}
		return fmt.Sprint(got) == fmt.Sprint(wantGroups) && len(bad) == 0, fmt.Sprintf("groups %v, not ok: %v", got, bad)
	})
	// The recorded series exist.
	for _, r := range recording.Rules() {
		waitFor(t, "recorded series "+r.Record, 10*time.Second, func() (bool, string) {
			res, err := query(r.Record)
			if err != nil {
				return false, err.Error()
			}
			return len(res.Data.Result) > 0, "no series"
		})
	}
	// Every query of every Grafana panel parses and runs against the live
	// data, with the variables expanded as Grafana does (All: every value,
	// here .*), and returns data. The demo guarantees data for every panel
	// of the five dashboards: portfolio and team flow (item counters, the
	// cycle-time histogram and summaries, SLE, WIP and its limit, aging,
	// flow efficiency: every team has open and finished work), delivery
	// (open milestones with forecasts, due and baseline dates), capacity
	// (six week offsets per team, worklogs, estimates), pipeline (one CSV
	// source, the compute job, data-quality rows, sync error counters that
	// start at 0); the "at risk" and "over capacity" counts end in
	// `or vector(0)`. increase() needs the two scrapes the rules above
	// already waited for.
	panelStart := time.Now()
	panelQueries, err := dashboards.PanelQueries()
	if err != nil {
		t.Fatal(err)
	}
	expand := strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h",
		"$team", ".*", "$project", ".*", "$source", ".*")
	deadline = time.Now().Add(10 * time.Second)
	for _, pq := range panelQueries {
		name := pq.Dashboard + " / " + pq.Panel + " / " + pq.RefID
		expr := expand.Replace(pq.Expr)
		if strings.Contains(expr, "$") {
			t.Errorf("%s: a variable is left in %s", name, expr)
			continue
		}
		for {
			res, err := query(expr)
			if err != nil {
				t.Errorf("%s: %s: %v", name, expr, err)
				break
			}
			if len(res.Data.Result) > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s: %s returned no data", name, expr)
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	t.Logf("%d Grafana panel queries checked in %s", len(panelQueries), time.Since(panelStart).Round(time.Millisecond))
	if res, err := query(`ALERTS`); err == nil {
		for _, s := range res.Data.Result {
			t.Logf("demo alert: %s", s.Metric)
		}
	}
	t.Logf("done after %s", time.Since(start).Round(time.Millisecond))
}

func mustRulesOptions(t *testing.T, cfg *config.Config) dashboards.Options {
	t.Helper()
	o, err := rulesOptions(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

type promResult struct {
	Status    string `json:"status"`
	Error     string `json:"error"`
	ErrorType string `json:"errorType"`
	Data      struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
		} `json:"result"`
	} `json:"data"`
}

func promQuery(api, expr string) (promResult, error) {
	var r promResult
	err := promGet(api+"query?query="+url.QueryEscape(expr), &r)
	if err == nil && r.Status != "success" {
		err = fmt.Errorf("status %s: %s: %s", r.Status, r.ErrorType, r.Error)
	}
	return r, err
}

type promGroup struct {
	Name  string `json:"name"`
	Rules []struct {
		Name      string `json:"name"`
		Health    string `json:"health"`
		LastError string `json:"lastError"`
	} `json:"rules"`
}

func promRules(api string) ([]promGroup, error) {
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Groups []promGroup `json:"groups"`
		} `json:"data"`
	}
	if err := promGet(api+"rules", &r); err != nil {
		return nil, err
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("rules: status %s", r.Status)
	}
	return r.Data.Groups, nil
}

func promGet(u string, v any) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %s: %w", resp.Status, b, err)
	}
	return nil
}

// waitFor polls cond every 100 ms until it holds or timeout passes.
// serveUntilDone runs p.serveOn on ln and waits until /readyz answers 200.
// The returned func cancels ctx and waits for serve to stop: defer it.
func serveUntilDone(t *testing.T, ctx context.Context, cancel context.CancelFunc, p *pipeline, ln net.Listener, initial bool) func() {
	t.Helper()
	served := make(chan error, 1)
	go func() { served <- p.serveOn(ctx, ln, initial) }()
	stop := func() {
		cancel()
		select {
		case <-served:
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop within 20 s")
		}
	}
	waitFor(t, "throughline /readyz", 30*time.Second, func() (bool, string) {
		resp, err := http.Get("http://" + ln.Addr().String() + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == 200, resp.Status
	})
	return stop
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, detail := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s (%s)", what, timeout, detail)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
