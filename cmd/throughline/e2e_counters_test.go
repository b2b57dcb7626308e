package main

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/internal/config"
	"github.com/throughline/throughline/metrics"
)

// counterItem is one item of the counters' end-to-end test: its status
// history as (time, status) steps after creation in To Do.
type counterItem struct {
	key, team, resolution string
	deleted               bool
	created               time.Time
	steps                 [][2]any // {time.Time, status}
}

func (c counterItem) records() (ingest.Item, []ingest.Transition) {
	it := ingest.Item{Key: c.key, Project: "WEB", Type: "Story", Status: "To Do", CreatedAt: c.created,
		Team: c.team, Resolution: c.resolution, Deleted: c.deleted, Milestone: "R1"}
	ts := []ingest.Transition{{ItemKey: c.key, At: c.created, To: "To Do"}}
	for _, s := range c.steps {
		ts = append(ts, ingest.Transition{ItemKey: c.key, At: s[0].(time.Time), From: it.Status, To: s[1].(string)})
		it.Status = s[1].(string)
	}
	return it, ts
}

// TestCountersOnlyCountInPrometheus serves a small warehouse to the real
// Prometheus (a scrape a second) and, between computes, discards, deletes,
// moves and re-completes items completed days ago and completes new ones.
// Every exported counter (the *_total and the cycle-time histogram's
// series) only goes up in Prometheus, and increase() of the completions
// over the test equals, per team, the completions throughput_daily has for
// the days of the test.
func TestCountersOnlyCountInPrometheus(t *testing.T) {
	prometheusBin(t, "prometheus")
	dir := t.TempDir()
	cfg, err := config.Parse(filepath.Join(dir, "t.yaml"), []byte(fmt.Sprintf(`warehouse: {path: %q, memory_limit: 1GB}
timezone: UTC
schedules: {sync: "0 0 1 1 *", compute: "0 0 1 1 *"}
teams:
  - {name: web, wip_limit: 5, projects: [WEB]}
  - {name: mobile}
workflow: {started: [In Progress], done: [Done], discarded_resolutions: [Won't Do]}
`, filepath.Join(dir, "w.duckdb"))))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, err := openWarehouse(ctx, cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p := newPipeline(cfg, db, slog.New(slog.DiscardHandler))
	p.progress = false

	now := time.Now().UTC()
	day := func(n int) time.Time { return now.AddDate(0, 0, n).Truncate(time.Hour) }
	// A … D were completed 5 to 2 days ago.
	items := map[string]*counterItem{}
	for i, k := range []string{"A", "B", "C", "D"} {
		items[k] = &counterItem{key: k, created: day(-9), steps: [][2]any{{day(-8), "In Progress"}, {day(-5 + i), "Done"}}}
	}
	commit := func() {
		t.Helper()
		var b ingest.Batch
		for _, k := range []string{"A", "B", "C", "D", "E", "F"} {
			if it := items[k]; it != nil {
				i, ts := it.records()
				b.Items = append(b.Items, i)
				b.Transitions = append(b.Transitions, ts...)
			}
		}
		if err := db.Commit(ctx, "t", b); err != nil {
			t.Fatal(err)
		}
	}
	commit()
	if _, err := p.compute(ctx); err != nil {
		t.Fatal(err)
	}
	testStart := time.Now().UTC()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := ln.Addr().String()
	served := make(chan error, 1)
	go func() { served <- p.serveOn(ctx, ln, false) }()
	defer func() {
		cancel()
		<-served
	}()
	api := startPrometheus(t, dir, fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: throughline
    static_configs: [{targets: [%q]}]
`, target), filepath.Join(dir, "tsdb"))
	sel := `{job="throughline"}`
	// scraped waits until Prometheus has a scrape of the last compute.
	scraped := func() time.Time {
		t.Helper()
		at := p.collector.Snapshot().ComputedAt
		var ts time.Time
		waitFor(t, "a scrape of the compute of "+at.Format(time.TimeOnly), 20*time.Second, func() (bool, string) {
			r, err := promQuery(api, "timestamp("+metrics.TaskLastSuccess.FQName()+sel+") and "+metrics.TaskLastSuccess.FQName()+sel+
				" >= "+strconv.FormatFloat(float64(at.UnixMicro())/1e6, 'f', 6, 64))
			if err != nil || len(r.Data.Result) != 1 {
				return false, fmt.Sprint(err)
			}
			ts = time.UnixMilli(int64(math.Round(r.Data.Result[0].float() * 1000)))
			return true, ""
		})
		return ts
	}
	t0 := scraped()

	step := func(change func()) {
		t.Helper()
		change()
		commit()
		if _, err := p.compute(ctx); err != nil {
			t.Fatal(err)
		}
		scraped()
	}
	done := func(key string, created time.Time) *counterItem {
		return &counterItem{key: key, created: created, steps: [][2]any{{created.Add(time.Second), "In Progress"}, {time.Now().UTC(), "Done"}}}
	}
	// 1: A discarded (Won't Do), C moved to mobile, E completed now.
	step(func() {
		items["A"].resolution = "Won't Do"
		items["C"].team = "mobile"
		items["E"] = done("E", time.Now().UTC().Add(-time.Minute))
	})
	// 2: B deleted, D reopened and completed again, F completed now.
	step(func() {
		items["B"].deleted = true
		d := items["D"]
		d.steps = append(d.steps, [2]any{time.Now().UTC().Add(-time.Second), "In Progress"}, [2]any{time.Now().UTC(), "Done"})
		items["F"] = done("F", time.Now().UTC().Add(-time.Minute))
	})
	// 3: nothing changes: nothing is counted again.
	t1 := func() time.Time { step(func() {}); return scraped() }()

	// Every counter series only goes up: raw samples, in order.
	window := strconv.FormatInt(time.Since(t0).Milliseconds()+5000, 10) + "ms"
	counters := `{__name__=~"throughline_items_[a-z]+_total|throughline_cycle_time_seconds_(bucket|count|sum)",job="throughline"}`
	raw, err := promQuery(api, counters+"["+window+"]")
	if err != nil {
		t.Fatal(err)
	}
	if len(raw.Data.Result) < 5+13 {
		t.Fatalf("%d counter series in Prometheus", len(raw.Data.Result))
	}
	for _, s := range raw.Data.Result {
		prev := math.Inf(-1)
		for _, v := range s.Values {
			f, _ := strconv.ParseFloat(fmt.Sprint(v[1]), 64)
			if f < prev {
				t.Errorf("%v went down from %v to %v at %v", s.Metric, prev, f, v[0])
			}
			prev = f
		}
	}
	for _, name := range []string{metrics.ItemsCreated.FQName(), metrics.ItemsStarted.FQName(), metrics.ItemsCompleted.FQName(),
		metrics.ItemsReopened.FQName(), metrics.ItemsDiscarded.FQName(), metrics.CycleTime.FQName() + "_bucket"} {
		if r, err := promQuery(api, "resets("+name+sel+"["+window+"]) > 0"); err != nil || len(r.Data.Result) > 0 {
			t.Errorf("%s resets: %v %+v", name, err, r.Data.Result)
		}
	}

	// increase() over exactly [t0, t1] (both scrapes: no extrapolation)
	// against the completions of the test's days in throughput_daily.
	rangeMs := strconv.FormatInt(t1.Sub(t0).Milliseconds(), 10) + "ms"
	got := map[string]float64{}
	r, err := promQuery(api, "sum by (team) (increase("+metrics.ItemsCompleted.FQName()+sel+"["+rangeMs+"]))", t1)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range r.Data.Result {
		got[s.Metric["team"]] = s.float()
	}
	want := map[string]float64{}
	rows, err := db.QueryContext(ctx, `SELECT team, sum(items) FROM throughput_daily WHERE day >= CAST(? AS DATE) GROUP BY team`, testStart)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var team string
		var n float64
		if err := rows.Scan(&team, &n); err != nil {
			t.Fatal(err)
		}
		want[team] = n
	}
	rows.Close()
	// E, F and D's second completion, all web's; mobile got C's history only
	// (and no counter series: nothing was counted with its labels).
	if want["web"] != 3 || want["mobile"] != 0 {
		t.Fatalf("throughput_daily of the test's days %v: want web 3, mobile 0", want)
	}
	delete(want, "mobile")
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b float64) bool { return math.Abs(a-b) < 1e-9 })); diff != "" {
		t.Errorf("increase(completed_total) over the test vs throughput_daily (-warehouse +prometheus):\n%s", diff)
	}
	// The discard and the reopen were counted too; nothing went back.
	for name, want := range map[string]float64{metrics.ItemsDiscarded.FQName(): 1, metrics.ItemsReopened.FQName(): 1, metrics.ItemsCreated.FQName(): 2} {
		r, err := promQuery(api, "sum(increase("+name+sel+"["+rangeMs+"]))", t1)
		if err != nil || len(r.Data.Result) != 1 || math.Abs(r.Data.Result[0].float()-want) > 1e-9 {
			t.Errorf("increase(%s) = %+v (%v), want %v", name, r.Data.Result, err, want)
		}
	}
}
