package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/throughline/throughline/dashboards"
	"github.com/throughline/throughline/metrics"
)

// TestPrometheusScrapesAndEvaluatesRules runs the real server on demo data
// and the real Prometheus (Debian package) scraping it every second as two
// instances (127.0.0.1:port and localhost:port: two installations with the
// same team names), with the generated rules. Every rule and panel query
// runs without error; the recording rules, the panels (the instance
// variables set to one of the two) and the alerts that must fire on the demo
// give the single installation's values, checked against the warehouse; the
// histogram's le labels as Prometheus stores them match the panel's names.
func TestPrometheusScrapesAndEvaluatesRules(t *testing.T) {
	prometheusBin(t, "prometheus")
	start := time.Now()
	dir, cfg, p := demoPipeline(t, 400)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := ln.Addr().String()
	_, port, _ := net.SplitHostPort(target)
	twin := "localhost:" + port
	served := make(chan error, 1)
	go func() { served <- p.serveOn(ctx, ln, true) }()
	defer func() {
		cancel()
		select {
		case <-served:
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop within 15 s")
		}
	}()
	waitFor(t, "throughline /readyz", 30*time.Second, func() (bool, string) {
		resp, err := http.Get("http://" + target + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == 200, resp.Status
	})
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

	mixin, err := mixinConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := writeMonitoring(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	quoted := make([]string, len(rules))
	for i, r := range rules {
		quoted[i] = strconv.Quote(r)
	}
	api := startPrometheus(t, dir, fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%s]
scrape_configs:
  - job_name: throughline
    static_configs:
      - targets: [%q, %q]
`, strings.Join(quoted, ", "), target, twin), filepath.Join(dir, "tsdb"))
	query := func(expr string) (promResult, error) { return promQuery(api, expr) }

	waitFor(t, "both instances in Prometheus", 30*time.Second, func() (bool, string) {
		r, err := query(`count(` + metrics.Up.FQName() + `{job="throughline"}) by (instance)`)
		if err != nil {
			return false, err.Error()
		}
		return len(r.Data.Result) == 2, fmt.Sprintf("%d instances", len(r.Data.Result))
	})
	t.Logf("first scrapes in Prometheus after %s", time.Since(start).Round(time.Millisecond))

	alerts, err := dashboards.Alerts(mixin)
	if err != nil {
		t.Fatal(err)
	}
	recording := dashboards.Recording(mixin)
	// The increase over [1w] needs two scrapes; every rule and recorded
	// series exists with health ok.
	wantGroups := map[string]int{}
	for _, f := range []dashboards.RuleFile{alerts, recording} {
		for _, g := range f.Groups {
			wantGroups[g.Name] = len(g.Rules)
		}
	}
	waitFor(t, "all rules evaluated with health ok", 20*time.Second, func() (bool, string) {
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
	for _, r := range recording.Rules() {
		for _, inst := range []string{target, twin} {
			waitFor(t, "recorded series "+r.Record+" of "+inst, 20*time.Second, func() (bool, string) {
				res, err := query(r.Record + `{instance="` + inst + `"}`)
				if err != nil {
					return false, err.Error()
				}
				return len(res.Data.Result) > 0, "no series"
			})
		}
	}

	// The warehouse's own answers, for one installation.
	sqlFloats := func(q string) map[string]float64 {
		t.Helper()
		rows, err := p.db.QueryContext(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer rows.Close()
		out := map[string]float64{}
		for rows.Next() {
			var k string
			var v float64
			if err := rows.Scan(&k, &v); err != nil {
				t.Fatal(err)
			}
			out[k] = v
		}
		return out
	}
	// byLabel runs expr (one instance selected) and keys its values by label.
	byLabel := func(expr string, labels ...string) map[string]float64 {
		t.Helper()
		res, err := query(expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		out := map[string]float64{}
		for _, s := range res.Data.Result {
			var k []string
			for _, l := range labels {
				k = append(k, s.Metric[l])
			}
			out[strings.Join(k, " ")] += s.float()
		}
		return out
	}
	approx := cmp.Comparer(func(a, b float64) bool { return math.Abs(a-b) < 1e-6*max(1, math.Abs(a)) })
	one := `{job="throughline",instance="` + target + `"}`

	t.Run("recording rules give one installation's values", func(t *testing.T) {
		wip := sqlFloats(`SELECT team, count(*) FILTER (WHERE stage = 'started') FROM item_flow GROUP BY team`)
		if diff := cmp.Diff(wip, byLabel("team:throughline_wip_items:sum"+one, "team"), approx); diff != "" {
			t.Errorf("team:throughline_wip_items:sum vs item_flow (-warehouse +prometheus):\n%s", diff)
		}
		load := sqlFloats(`SELECT team, count(*) FILTER (WHERE f.stage = 'started') / any_value(t.wip_limit)
			FROM item_flow f JOIN teams t ON t.team_id = f.team WHERE t.wip_limit > 0 GROUP BY team`)
		if diff := cmp.Diff(load, byLabel("team:throughline_wip_load:ratio"+one, "team"), approx); diff != "" {
			t.Errorf("team:throughline_wip_load:ratio (-warehouse +prometheus):\n%s", diff)
		}
		cap4 := sqlFloats(`SELECT team, sum(capacity_hours) * 3600 FROM capacity_outlook WHERE week_offset BETWEEN 0 AND 3 GROUP BY team`)
		if diff := cmp.Diff(cap4, byLabel("team:throughline_capacity_seconds:sum_next4w"+one, "team"), approx); diff != "" {
			t.Errorf("team:throughline_capacity_seconds:sum_next4w (-warehouse +prometheus):\n%s", diff)
		}
		// Every recorded series exists once per instance, with the same values.
		for _, r := range recording.Rules() {
			a := byLabel(r.Record+one, "team", "work_class", "week_offset", "project", "status")
			b := byLabel(r.Record+`{instance="`+twin+`"}`, "team", "work_class", "week_offset", "project", "status")
			if diff := cmp.Diff(a, b, approx); diff != "" || len(a) == 0 {
				t.Errorf("%s differs between the two instances (-%s +%s):\n%s", r.Record, target, twin, diff)
			}
		}
	})

	// Every query of every panel and annotation parses and runs against the
	// live data, with the variables expanded as Grafana does (one instance;
	// All is .*); each returns data (the demo has some for every panel).
	panelQueries, err := dashboards.PanelQueries(mixin)
	if err != nil {
		t.Fatal(err)
	}
	// A repeated row or panel takes one team or milestone: the first team
	// of the config, a milestone with a forecast.
	var oneMilestone string
	if err := p.db.QueryRowContext(ctx, `SELECT name FROM milestone_status WHERE p50_date IS NOT NULL ORDER BY name LIMIT 1`).Scan(&oneMilestone); err != nil {
		t.Fatal(err)
	}
	expand := strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h",
		"$job", "throughline", "$instance", target, `team="$team"`, `team="`+cfg.Teams[0].Name+`"`, "$team", ".*", "$project", ".*", "$source", ".*",
		`milestone="$milestone"`, `milestone="`+oneMilestone+`"`, "$milestone", ".*")
	panel := map[string]string{} // dashboard / title / refId → expanded expr
	for _, pq := range panelQueries {
		name := pq.Dashboard + " / " + pq.Panel + " / " + pq.RefID
		expr := expand.Replace(pq.Expr)
		panel[name] = expr
		if strings.Contains(expr, "$") {
			t.Errorf("%s: a variable is left in %s", name, expr)
			continue
		}
		res, err := query(expr)
		if err != nil {
			t.Errorf("%s: %s: %v", name, expr, err)
			continue
		}
		// Annotations mark changes, which a fresh demo has none of; the alert
		// list has none when nothing fires; the CSV-only demo sends no API request.
		if len(res.Data.Result) == 0 && !strings.HasPrefix(pq.Panel, "annotation: ") && !strings.HasPrefix(expr, "ALERTS{") &&
			!strings.Contains(expr, metrics.SyncRequests.FQName()) {
			t.Errorf("%s: %s returned no data", name, expr)
		}
	}
	t.Logf("%d Grafana panel and annotation queries checked", len(panelQueries))

	t.Run("panel values", func(t *testing.T) {
		// Throughput by ISO week: throughput_weekly (all teams), weeks 0 … -12.
		weeks := sqlFloats(`SELECT CAST((week_start - CAST(date_trunc('week', (SELECT max(day) FROM throughput_daily)) AS DATE)) // 7 AS VARCHAR), sum(items)
			FROM throughput_weekly WHERE week_start >= CAST(date_trunc('week', (SELECT max(day) FROM throughput_daily)) AS DATE) - 84 GROUP BY week_start`)
		got := byLabel(panel["throughline-portfolio / Items completed per ISO week, by project / A"], "week_offset")
		if diff := cmp.Diff(weeks, got, approx); diff != "" {
			t.Errorf("items completed per ISO week vs throughput_weekly (-warehouse +panel):\n%s", diff)
		}
		last4 := weeks["-1"] + weeks["-2"] + weeks["-3"] + weeks["-4"]
		if got := byLabel(panel["throughline-portfolio / Items completed, last 4 weeks / A"]); got[""] != last4 {
			t.Errorf("items completed, last 4 weeks = %v, throughput_weekly %v", got[""], last4)
		}
		risky := sqlFloats(`SELECT '', count(*) FROM milestone_status WHERE status IN ('at_risk', 'off_track', 'overdue')`)
		if got := byLabel(panel["throughline-portfolio / Milestones at risk, off track or overdue / A"]); got[""] != risky[""] {
			t.Errorf("milestones at risk = %v, milestone_status %v", got[""], risky[""])
		}
		p85 := sqlFloats(`SELECT team, p85_seconds FROM cycle_time_stats WHERE work_class = '*' AND team <> '*'`)
		if diff := cmp.Diff(p85, byLabel(panel["throughline-portfolio / Cycle time P85 by team (trailing window) / A"], "team"), approx); diff != "" {
			t.Errorf("cycle time P85 by team vs cycle_time_stats (-warehouse +panel):\n%s", diff)
		}
		capacity := sqlFloats(`SELECT team || ' capacity', capacity_hours FROM capacity_outlook WHERE week_offset = 0`)
		got = map[string]float64{}
		for k, v := range byLabel(panel["throughline-capacity / Capacity vs planned load, this week / A"], "team") {
			got[k+" capacity"] = v
		}
		if diff := cmp.Diff(capacity, got, approx); diff != "" {
			t.Errorf("capacity this week in person-hours vs capacity_outlook (-warehouse +panel):\n%s", diff)
		}
		over := sqlFloats(`SELECT '', count(*) FILTER (WHERE allocation_ratio > 1) FROM allocation_daily WHERE day = (SELECT max(day) FROM allocation_daily)`)
		if got := byLabel(panel["throughline-portfolio / Teams over capacity / A"]); got[""] != over[""] {
			t.Errorf("teams over capacity = %v, allocation_daily %v", got[""], over[""])
		}
		// A due date is shown at noon of its day in the config's zone.
		shift := 12*3600 - 3600 // Europe/Berlin in January
		due := sqlFloats(fmt.Sprintf(`SELECT project || ' ' || name, (epoch(CAST(due_date AS TIMESTAMP)) + %d) * 1000 FROM milestone_status
			WHERE due_date IS NOT NULL AND (status <> 'done' OR coalesce(last_completion, CAST(completed_at AS DATE)) >= (SELECT max(day) FROM throughput_daily) - 30)`, shift))
		if diff := cmp.Diff(due, byLabel(panel["throughline-delivery / Milestone forecasts / E"], "project", "milestone"), approx); diff != "" {
			t.Errorf("due dates (noon of the date, ms) vs milestone_status (-warehouse +panel):\n%s", diff)
		}
	})

	t.Run("alerts that must fire", func(t *testing.T) {
		// From the warehouse: open milestones below 0.85 on-time (not
		// overdue) are at risk; overdue ones are overdue; both carry the team.
		want := map[string]bool{}
		rows, err := p.db.QueryContext(ctx, `SELECT ms.status, coalesce(ms.project, ''), ms.name, coalesce(pr.team_id, '?'), coalesce(ms.on_time_probability, 1)
			FROM milestone_status ms LEFT JOIN milestones m USING (milestone_id) LEFT JOIN projects pr ON pr.project_id = m.project_id
			WHERE ms.status = 'overdue' OR (ms.status <> 'done' AND ms.on_time_probability < 0.85)`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var status, project, name, team string
			var prob float64
			if err := rows.Scan(&status, &project, &name, &team, &prob); err != nil {
				t.Fatal(err)
			}
			alert := "ThroughlineMilestoneAtRisk"
			if status == "overdue" {
				alert = "ThroughlineMilestoneOverdue"
			}
			want[fmt.Sprintf("%s %s %s %s", alert, project, name, team)] = true
		}
		rows.Close()
		if len(want) < 2 {
			t.Fatalf("the demo has only %d milestones at risk or overdue: the check needs some", len(want))
		}
		firing := func() map[string]bool {
			got := map[string]bool{}
			res, err := query(`ALERTS{alertstate="firing",instance="` + target + `"}`)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range res.Data.Result {
				m := s.Metric
				got[fmt.Sprintf("%s %s %s %s", m["alertname"], m["project"], m["milestone"], m["team"])] = true
			}
			return got
		}
		var got map[string]bool
		waitFor(t, "milestone alerts firing", 20*time.Second, func() (bool, string) {
			got = firing()
			return len(got) >= len(want), fmt.Sprintf("%d firing", len(got))
		})
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("firing alerts (-warehouse +prometheus):\n%s", diff)
		}
		// The pipeline is healthy: no operator alert, firing or pending.
		res, err := query(`ALERTS{severity="critical"}`)
		if err != nil || len(res.Data.Result) > 0 {
			t.Errorf("operator alerts on a healthy demo: %v %+v", err, res.Data.Result)
		}
	})

	t.Run("planning alerts equal dashboards.PlanningFiring", func(t *testing.T) {
		// The web pages list dashboards.PlanningFiring of the snapshot: it
		// must be what Prometheus evaluates the generated rules to, pending
		// (before their for:) or firing.
		want := map[string]bool{}
		for _, f := range dashboards.PlanningFiring(mixin, p.collector.Snapshot()) {
			want[fmt.Sprintf("%s team=%s class=%s %s/%s", f.Alert, f.Team, f.WorkClass, f.Project, f.Milestone)] = true
		}
		if len(want) < 3 {
			t.Fatalf("the demo has only %d planning alerts: the check needs some", len(want))
		}
		var got map[string]bool
		waitFor(t, "planning alerts pending or firing", 20*time.Second, func() (bool, string) {
			res, err := query(`ALERTS{severity="warning",instance="` + target + `"}`)
			if err != nil {
				t.Fatal(err)
			}
			got = map[string]bool{}
			for _, s := range res.Data.Result {
				m := s.Metric
				got[fmt.Sprintf("%s team=%s class=%s %s/%s", m["alertname"], m["team"], m["work_class"], m["project"], m["milestone"])] = true
			}
			return len(got) >= len(want), fmt.Sprintf("%d pending or firing", len(got))
		})
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("planning alerts (-PlanningFiring +prometheus):\n%s", diff)
		}
	})

	t.Run("histogram le as stored", func(t *testing.T) {
		files, err := dashboards.GrafanaFiles(mixin)
		if err != nil {
			t.Fatal(err)
		}
		var overrides []*regexp.Regexp
		for _, f := range files {
			if f.Path != dashboards.TeamFlowUID+".json" {
				continue
			}
			var d struct {
				Panels []struct {
					Title       string `json:"title"`
					FieldConfig struct {
						Overrides []struct {
							Matcher struct{ ID, Options string } `json:"matcher"`
						} `json:"overrides"`
					} `json:"fieldConfig"`
				} `json:"panels"`
			}
			if err := json.Unmarshal(f.Data, &d); err != nil {
				t.Fatal(err)
			}
			for _, p := range d.Panels {
				if strings.Contains(p.Title, "counted in range") {
					for _, o := range p.FieldConfig.Overrides {
						if o.Matcher.ID == "byRegexp" {
							overrides = append(overrides, regexp.MustCompile(o.Matcher.Options))
						}
					}
				}
			}
		}
		les := byLabel(`count by (le) (`+metrics.CycleTime.FQName()+`_bucket`+one+`)`, "le")
		if len(les) != len(metrics.CycleBucketsDays)+1 {
			t.Fatalf("le values in Prometheus: %v", slices.Sorted(maps.Keys(les)))
		}
		for le := range les {
			n := 0
			for _, re := range overrides {
				if re.MatchString(le) {
					n++
				}
			}
			if n != 1 {
				t.Errorf("le=%q as Prometheus stores it matches %d display-name overrides, want 1", le, n)
			}
		}
	})
	t.Logf("done after %s", time.Since(start).Round(time.Millisecond))
}

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
