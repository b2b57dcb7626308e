package metrics_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/metrics"
	"github.com/throughline/throughline/warehouse"
	"github.com/throughline/throughline/warehouse/warehousetest"
)

// The tiny backfill history, in UTC. Now is Friday 2026-03-06 12:00, so the
// default Until is 09:00 that day and the last sample ends 03-05.
var bfNow = at("2026-03-06T12:00:00Z")

var bfHistories = []hist{
	// Started 03-02, done 03-03, reopened 03-04, done again 03-05: two
	// completions, one reopen, cycle time 2d23h (S kept across the reopen).
	{key: "A", created: "2026-03-01T09:00:00Z", steps: [][2]string{
		{"2026-03-02T10:00:00Z", "In Progress"}, {"2026-03-03T15:00:00Z", "Done"},
		{"2026-03-04T09:00:00Z", "In Progress"}, {"2026-03-05T09:00:00Z", "Done"}}},
	// Started and done on 03-02: cycle time 12 h.
	{key: "B", created: "2026-03-02T08:00:00Z", steps: [][2]string{{"2026-03-02T09:00:00Z", "In Progress"}, {"2026-03-02T21:00:00Z", "Done"}}},
	// Discarded on 03-04; in review (a wait status) at the end of 03-03.
	{key: "C", resolution: "Won't Do", created: "2026-03-03T08:00:00Z", steps: [][2]string{
		{"2026-03-03T10:00:00Z", "In Progress"}, {"2026-03-03T12:00:00Z", "In Review"}, {"2026-03-04T10:00:00Z", "Done"}}},
	{key: "D", created: "2026-03-05T10:00:00Z"},
	// Created after Until: live only.
	{key: "E", created: "2026-03-06T10:00:00Z"},
}

// bfWarehouse commits the tiny history (plus a worklog in the week of 02-23
// and milestone R1) and computes twice: on 03-04 (a stored forecast) and at bfNow.
func bfWarehouse(t *testing.T) *warehouse.DB {
	t.Helper()
	db := warehousetest.Open(t, "")
	var b ingest.Batch
	for _, h := range bfHistories {
		it, ts := h.records()
		b.Items = append(b.Items, it)
		b.Transitions = append(b.Transitions, ts...)
	}
	b.People = []ingest.Person{{ExternalID: "ann@example.com", Email: "ann@example.com"}}
	b.Worklogs = []ingest.Worklog{{ID: "w1", ItemKey: "A", Person: "ann@example.com", StartedAt: at("2026-02-24T10:00:00Z"), Seconds: 4 * 3600}}
	b.Milestones = []ingest.Milestone{{Name: "R1", Project: "WEB", DueDate: d("2026-03-10")}}
	ctx := context.Background()
	if err := db.Commit(ctx, "t", b); err != nil {
		t.Fatal(err)
	}
	for _, now := range []time.Time{at("2026-03-04T12:00:00Z"), bfNow} {
		p := flowParams()
		p.Location, p.Now = time.UTC, now
		if _, err := metrics.Compute(ctx, db.DB, p); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func runBackfill(t *testing.T, db *warehouse.DB, opt metrics.BackfillOptions) (string, metrics.BackfillStats) {
	t.Helper()
	var buf bytes.Buffer
	st, err := metrics.Backfill(context.Background(), db.DB, &buf, opt)
	if err != nil {
		t.Fatal(err)
	}
	return buf.String(), st
}

// Hand-computed from bfHistories: samples at the UTC midnights ending
// 02-27 (1772236800) … 03-05 (1772755200). Counters start one zero sample
// before their first event (end of 02-28); A's reopen counts in
// reopened_total and its second entry into done again in completed_total;
// C is discarded: not completed, not in the histogram; E is after Until.
var bfWant = omHeader(metrics.ItemsCreated) + `throughline_items_created_total{item_type="Story",project="WEB",team="web",work_class="project"} 0.0 1772323200
throughline_items_created_total{item_type="Story",project="WEB",team="web",work_class="project"} 1.0 1772409600
throughline_items_created_total{item_type="Story",project="WEB",team="web",work_class="project"} 2.0 1772496000
throughline_items_created_total{item_type="Story",project="WEB",team="web",work_class="project"} 3.0 1772582400
throughline_items_created_total{item_type="Story",project="WEB",team="web",work_class="project"} 3.0 1772668800
throughline_items_created_total{item_type="Story",project="WEB",team="web",work_class="project"} 4.0 1772755200
` + omHeader(metrics.ItemsStarted) + `throughline_items_started_total{item_type="Story",project="WEB",team="web",work_class="project"} 0.0 1772323200
throughline_items_started_total{item_type="Story",project="WEB",team="web",work_class="project"} 0.0 1772409600
throughline_items_started_total{item_type="Story",project="WEB",team="web",work_class="project"} 2.0 1772496000
throughline_items_started_total{item_type="Story",project="WEB",team="web",work_class="project"} 3.0 1772582400
throughline_items_started_total{item_type="Story",project="WEB",team="web",work_class="project"} 3.0 1772668800
throughline_items_started_total{item_type="Story",project="WEB",team="web",work_class="project"} 3.0 1772755200
` + omHeader(metrics.ItemsCompleted) + `throughline_items_completed_total{item_type="Story",project="WEB",team="web",work_class="project"} 0.0 1772323200
throughline_items_completed_total{item_type="Story",project="WEB",team="web",work_class="project"} 0.0 1772409600
throughline_items_completed_total{item_type="Story",project="WEB",team="web",work_class="project"} 1.0 1772496000
throughline_items_completed_total{item_type="Story",project="WEB",team="web",work_class="project"} 2.0 1772582400
throughline_items_completed_total{item_type="Story",project="WEB",team="web",work_class="project"} 2.0 1772668800
throughline_items_completed_total{item_type="Story",project="WEB",team="web",work_class="project"} 3.0 1772755200
` + omHeader(metrics.ItemsReopened) + `throughline_items_reopened_total{item_type="Story",project="WEB",team="web",work_class="project"} 0.0 1772323200
throughline_items_reopened_total{item_type="Story",project="WEB",team="web",work_class="project"} 0.0 1772409600
throughline_items_reopened_total{item_type="Story",project="WEB",team="web",work_class="project"} 0.0 1772496000
throughline_items_reopened_total{item_type="Story",project="WEB",team="web",work_class="project"} 0.0 1772582400
throughline_items_reopened_total{item_type="Story",project="WEB",team="web",work_class="project"} 1.0 1772668800
throughline_items_reopened_total{item_type="Story",project="WEB",team="web",work_class="project"} 1.0 1772755200
` + omHeader(metrics.ItemsDiscarded) + `throughline_items_discarded_total{item_type="Story",project="WEB",team="web",work_class="project"} 0.0 1772323200
throughline_items_discarded_total{item_type="Story",project="WEB",team="web",work_class="project"} 0.0 1772409600
throughline_items_discarded_total{item_type="Story",project="WEB",team="web",work_class="project"} 0.0 1772496000
throughline_items_discarded_total{item_type="Story",project="WEB",team="web",work_class="project"} 0.0 1772582400
throughline_items_discarded_total{item_type="Story",project="WEB",team="web",work_class="project"} 1.0 1772668800
throughline_items_discarded_total{item_type="Story",project="WEB",team="web",work_class="project"} 1.0 1772755200
` + omHeader(metrics.CycleTime) +
	// B (12 h) completes 03-02; A's first completion (03-03, 29 h from its
	// start) and its second (03-05, 2 d 23 h: S kept across the reopen).
	bfHist(1772409600, 0, 0, 0, 0) + bfHist(1772496000, 1, 1, 1, 43200) + bfHist(1772582400, 1, 2, 2, 147600) +
	bfHist(1772668800, 1, 2, 2, 147600) + bfHist(1772755200, 1, 2, 3, 403200) + omHeader(metrics.WIPItems) + `throughline_wip_items{team="web",work_class="project",workflow_stage="active"} 0.0 1772409600
throughline_wip_items{team="web",work_class="project",workflow_stage="active"} 1.0 1772496000
throughline_wip_items{team="web",work_class="project",workflow_stage="active"} 0.0 1772582400
throughline_wip_items{team="web",work_class="project",workflow_stage="active"} 1.0 1772668800
throughline_wip_items{team="web",work_class="project",workflow_stage="active"} 0.0 1772755200
throughline_wip_items{team="web",work_class="project",workflow_stage="wait"} 0.0 1772409600
throughline_wip_items{team="web",work_class="project",workflow_stage="wait"} 0.0 1772496000
throughline_wip_items{team="web",work_class="project",workflow_stage="wait"} 1.0 1772582400
throughline_wip_items{team="web",work_class="project",workflow_stage="wait"} 0.0 1772668800
throughline_wip_items{team="web",work_class="project",workflow_stage="wait"} 0.0 1772755200
` + omHeader(metrics.WIPLimit) + bfConst(`throughline_wip_limit_items{team="web"} 4.0`, 1772236800, 7) +
	omHeader(metrics.CapacitySeconds) + bfConst(`throughline_capacity_seconds{team="web",week_offset="0"} 144000.0`, 1772236800, 7) +
	omHeader(metrics.LoggedUtilization) + bfConst(`throughline_logged_utilization_ratio{team="web"} 0.1`, 1772496000, 4) +
	// Computed on 03-04 only (the other compute, on 03-06, is after the last sample); nothing is estimated.
	omHeader(metrics.AllocationRollingWeek) + `throughline_allocation_rolling_week_ratio{team="web"} 0.0 1772668800
` + omHeader(metrics.ThroughputWeekly) + bfThroughput()

// bfConst is a series of n daily samples of one value from ts on.
func bfConst(series string, ts int64, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%s %d\n", series, ts+int64(i)*86400)
	}
	return b.String()
}

// bfThroughput is throughline_throughput_weekly_items (this week and the
// last) from 03-02 (the sample after A's creation) on: in the week of 03-02,
// B finishes on 03-02 and A (its final F) on 03-05; the week before has none.
func bfThroughput() string {
	var b strings.Builder
	offsets := []int{-1, 0} // label order
	for _, off := range offsets {
		for i, ts := range []int64{1772409600, 1772496000, 1772582400, 1772668800, 1772755200} {
			n := 0
			if off == 0 {
				n = []int{0, 1, 1, 1, 2}[i]
			}
			fmt.Fprintf(&b, "throughline_throughput_weekly_items{project=\"WEB\",team=\"web\",week_offset=\"%d\",work_class=\"project\"} %d.0 %d\n", off, n, ts)
		}
	}
	return b.String()
}

// bfHist is one point of the web/project cycle-time histogram: le1 and le2
// count the buckets of 1 and 2 days, all every bucket from 3 days up.
func bfHist(ts int64, le1, le2, all int, sum float64) string {
	var b strings.Builder
	les := []string{"86400.0", "172800.0", "259200.0", "432000.0", "691200.0", "1.1232e+06", "1.8144e+06", "2.9376e+06", "4.752e+06", "7.6896e+06", "+Inf"}
	for i, le := range les {
		n := all
		switch i {
		case 0:
			n = le1
		case 1:
			n = le2
		}
		fmt.Fprintf(&b, "throughline_cycle_time_seconds_bucket{team=\"web\",work_class=\"project\",le=%q} %d %d\n", le, n, ts)
	}
	fmt.Fprintf(&b, "throughline_cycle_time_seconds_sum{team=\"web\",work_class=\"project\"} %s %d\n", strconv.FormatFloat(sum, 'f', 1, 64), ts)
	fmt.Fprintf(&b, "throughline_cycle_time_seconds_count{team=\"web\",work_class=\"project\"} %d %d\n", all, ts)
	return b.String()
}

func TestBackfillTinyHistory(t *testing.T) {
	db := bfWarehouse(t)
	out, st := runBackfill(t, db, metrics.BackfillOptions{Since: d("2026-02-27"), Now: bfNow})

	// The forecast stored by the 03-04 compute, at its computed_at; the
	// one of bfNow is after Until. Its dates come from the simulation.
	var p50, p70, p85, p95 time.Time
	var prob float64
	err := db.QueryRow(`SELECT p50_date, p70_date, p85_date, p95_date, on_time_probability FROM milestone_forecasts
		WHERE computed_at = '2026-03-04 12:00:00+00'`).Scan(&p50, &p70, &p85, &p95, &prob)
	if err != nil {
		t.Fatal(err)
	}
	const fcAt = 1772625600 // 2026-03-04T12:00:00Z
	want := bfWant + omHeader(metrics.MilestoneForecast)
	for i, p := range []time.Time{p50, p70, p85, p95} {
		want += fmt.Sprintf("throughline_milestone_forecast_timestamp_seconds{confidence=%q,milestone=\"R1\",project=\"WEB\"} %s %d\n",
			[]string{"0.5", "0.7", "0.85", "0.95"}[i], omFloat(float64(p.Unix())), fcAt)
	}
	want += omHeader(metrics.MilestoneOnTime) +
		fmt.Sprintf("throughline_milestone_on_time_probability_ratio{milestone=\"R1\",project=\"WEB\"} %s %d\n", omFloat(prob), fcAt) +
		"# EOF\n"
	if diff := cmp.Diff(strings.Split(want, "\n"), strings.Split(out, "\n")); diff != "" {
		t.Errorf("backfill (-want +got):\n%s", diff)
	}
	wantStats := metrics.BackfillStats{Families: 14, Series: 19, Samples: 30 + 5*13 + 10 + 7 + 7 + 4 + 1 + 2*5 + 4 + 1,
		First: at("2026-02-28T00:00:00Z"), Last: at("2026-03-06T00:00:00Z"), Until: at("2026-03-06T09:00:00Z")}
	if diff := cmp.Diff(wantStats, st, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
	checkOpenMetrics(t, out, st.Until)
	promtoolAccepts(t, out)
}

// omHeader is the HELP and TYPE lines of d in OpenMetrics, where a
// counter's family name has no _total.
func omHeader(d metrics.Def) string {
	name := d.FQName()
	if d.Kind == "counter" {
		name = strings.TrimSuffix(name, "_total")
	}
	return "# HELP " + name + " " + d.Help + "\n# TYPE " + name + " " + d.Kind + "\n"
}

// omFloat is client_golang's OpenMetrics float format.
func omFloat(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, "e.") {
		s += ".0"
	}
	return s
}

// omSample is one sample line: series is the name with its labels.
type omSample struct {
	series, name, value string
	ts                  float64
}

func parseSample(t *testing.T, line string) omSample {
	t.Helper()
	head, rest := line, ""
	if i := strings.LastIndexByte(line, '}'); i >= 0 {
		head, rest = line[:i+1], strings.TrimSpace(line[i+1:])
	} else {
		head, rest, _ = strings.Cut(line, " ")
	}
	f := strings.Fields(rest)
	s := omSample{series: head, name: head, value: f[0]}
	if i := strings.IndexByte(head, '{'); i >= 0 {
		s.name = head[:i]
	}
	if len(f) > 1 {
		ts, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			t.Fatalf("timestamp of %q: %v", line, err)
		}
		s.ts = ts
	}
	return s
}

// checkOpenMetrics checks what promtool and Prometheus rely on: HELP and
// TYPE once per family, before its samples; the samples of a family together
// and named as its type requires; every sample timestamped, before until and
// ascending per series; "# EOF" once, last.
func checkOpenMetrics(t *testing.T, out string, until time.Time) {
	t.Helper()
	if !strings.HasSuffix(out, "\n# EOF\n") && out != "# EOF\n" {
		t.Fatalf("output does not end with # EOF: ...%q", out[max(0, len(out)-80):])
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if n := strings.Count(out, "# EOF"); n != 1 {
		t.Errorf("# EOF %d times", n)
	}
	seen := map[string]bool{}
	lastTS := map[string]float64{}
	var family, kind, help string
	for _, l := range lines[:len(lines)-1] {
		switch {
		case strings.HasPrefix(l, "# HELP "):
			help = strings.Fields(l)[2]
		case strings.HasPrefix(l, "# TYPE "):
			f := strings.Fields(l)
			family, kind = f[2], f[3]
			if seen[family] {
				t.Errorf("family %s appears twice (not contiguous)", family)
			}
			seen[family] = true
			if help != family {
				t.Errorf("TYPE %s not preceded by its HELP (%s)", family, help)
			}
		case strings.HasPrefix(l, "#"):
			t.Errorf("unexpected comment %q", l)
		default:
			s := parseSample(t, l)
			var ok bool
			switch kind {
			case "counter":
				ok = s.name == family+"_total"
			case "histogram":
				ok = s.name == family+"_bucket" || s.name == family+"_sum" || s.name == family+"_count"
			default:
				ok = s.name == family
			}
			if !ok {
				t.Errorf("sample %s inside family %s (%s)", s.name, family, kind)
			}
			if s.ts == 0 {
				t.Errorf("sample without timestamp: %q", l)
			}
			if s.ts >= float64(until.Unix()) {
				t.Errorf("sample at or after until %s: %q", until.UTC().Format(time.RFC3339), l)
			}
			if prev, ok := lastTS[s.series]; ok && s.ts <= prev {
				t.Errorf("timestamps not ascending in %s: %v after %v", s.series, s.ts, prev)
			}
			lastTS[s.series] = s.ts
		}
	}
}

// promtoolAccepts imports out into TSDB blocks with the real promtool.
func promtoolAccepts(t *testing.T, out string) {
	t.Helper()
	bin, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("promtool not found and CI is set (apt-get install prometheus): %v", err)
		}
		t.Log("promtool not found: apt-get install prometheus to check the import")
		return
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "backfill.om")
	if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "tsdb", "create-blocks-from", "openmetrics", file, filepath.Join(dir, "data"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, b)
	}
}

// liveOpenMetrics is what the live exporter serves to Prometheus (which
// negotiates OpenMetrics) for the warehouse's last compute at now.
func liveOpenMetrics(t *testing.T, db *warehouse.DB, now time.Time) string {
	t.Helper()
	snap, err := metrics.LoadSnapshot(context.Background(), db.DB, now)
	if err != nil {
		t.Fatal(err)
	}
	c := metrics.NewCollector(metrics.Build{Version: "test", Revision: "abc", GoVersion: "go1.26"})
	c.SetSnapshot(snap)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text; version=1.0.0")
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true}).ServeHTTP(rec, req)
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/openmetrics-text") {
		t.Fatalf("live exposition is %q, not OpenMetrics", ct)
	}
	return rec.Body.String()
}

// TestBackfillHandOverMatchesLive: with nothing happening after the last
// sample, the last backfilled sample of every series is, byte for byte, the
// live exposition line (same name, labels, label order, le formatting,
// value), and the counters equal LoadSnapshot's. HELP and TYPE lines are
// the live ones.
func TestBackfillHandOverMatchesLive(t *testing.T) {
	tests := []struct {
		name     string
		db       func(*testing.T) *warehouse.DB
		now      time.Time
		loc      string
		families []metrics.Def
	}{
		// Berlin days; the last event is on 03-15, the last sample ends 03-19.
		{"flow", computed, flowNow, "Europe/Berlin", []metrics.Def{metrics.ItemsCreated, metrics.ItemsStarted, metrics.ItemsCompleted,
			metrics.ItemsReopened, metrics.ItemsDiscarded, metrics.CycleTime, metrics.WIPItems}},
		// Capacity of the current week and utilization of the last complete
		// week: the last sample (end of Tuesday 03-17) is in the live week.
		{"delivery", dcComputed, dcNow, "UTC", []metrics.Def{metrics.CapacitySeconds, metrics.LoggedUtilization}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := tt.db(t)
			loc, err := time.LoadLocation(tt.loc)
			if err != nil {
				t.Fatal(err)
			}
			out, st := runBackfill(t, db, metrics.BackfillOptions{Now: tt.now, Location: loc})
			checkOpenMetrics(t, out, st.Until)
			live := liveOpenMetrics(t, db, tt.now)

			liveLines := map[string]bool{}
			for _, l := range strings.Split(live, "\n") {
				liveLines[l] = true
			}
			for _, l := range strings.Split(out, "\n") {
				if strings.HasPrefix(l, "# HELP ") || strings.HasPrefix(l, "# TYPE ") {
					if !liveLines[l] {
						t.Errorf("backfill comment not in the live exposition: %q", l)
					}
				}
			}
			names := map[string]bool{}
			for _, d := range tt.families {
				for _, sfx := range []string{"", "_bucket", "_sum", "_count"} {
					names[d.FQName()+sfx] = true
				}
			}
			last := map[string]string{}
			for _, l := range strings.Split(out, "\n") {
				if l != "" && !strings.HasPrefix(l, "#") {
					s := parseSample(t, l)
					last[s.series] = s.value
				}
			}
			n := 0
			for _, l := range strings.Split(live, "\n") {
				if l == "" || strings.HasPrefix(l, "#") {
					continue
				}
				s := parseSample(t, l)
				// Capacity has history for the current week only (week_offset 0).
				if !names[s.name] || strings.Contains(s.series, `week_offset="`) && !strings.Contains(s.series, `week_offset="0"`) {
					continue
				}
				n++
				if got, ok := last[s.series]; !ok {
					t.Errorf("live series %s has no backfilled history", s.series)
				} else if got != s.value {
					t.Errorf("%s: backfilled last %s, live %s", s.series, got, s.value)
				}
			}
			if n == 0 {
				t.Fatal("no live samples compared")
			}

			if tt.name != "flow" {
				return
			}
			// The counters, against the snapshot itself.
			snap, err := metrics.LoadSnapshot(context.Background(), db.DB, tt.now)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]float64{}
			for _, c := range snap.Counters {
				k := fmt.Sprintf("{item_type=%q,project=%q,team=%q,work_class=%q}", c.ItemType, c.Project, c.Team, c.WorkClass)
				want[metrics.ItemsCreated.FQName()+k] = c.Created
				want[metrics.ItemsStarted.FQName()+k] = c.Started
				want[metrics.ItemsCompleted.FQName()+k] = c.Completed
				want[metrics.ItemsReopened.FQName()+k] = c.Reopened
				want[metrics.ItemsDiscarded.FQName()+k] = c.Discarded
			}
			got := map[string]float64{}
			for series, v := range last {
				if strings.HasPrefix(series, "throughline_items_") {
					f, err := strconv.ParseFloat(v, 64)
					if err != nil {
						t.Fatal(err)
					}
					got[series] = f
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("last backfilled counters vs LoadSnapshot (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBackfillWIPMatchesWIPDaily: summed over stage classes, the
// reconstructed WIP is wip_daily on every day (Berlin days, midnight-crossing items).
func TestBackfillWIPMatchesWIPDaily(t *testing.T) {
	db := computed(t)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	out, st := runBackfill(t, db, metrics.BackfillOptions{Now: flowNow, Location: berlin})
	got := map[string]float64{}
	for _, l := range strings.Split(out, "\n") {
		if !strings.HasPrefix(l, metrics.WIPItems.FQName()+"{") {
			continue
		}
		s := parseSample(t, l)
		v, _ := strconv.ParseFloat(s.value, 64)
		class := s.series[strings.Index(s.series, "work_class=")+len("work_class="):]
		class = class[:strings.IndexByte(class, ',')]
		k := fmt.Sprintf("%s %s", time.Unix(int64(s.ts), 0).In(berlin).Add(-time.Hour).Format("01-02"), class)
		got[k] += v
	}
	want := map[string]float64{}
	rows, err := db.Query(`SELECT day, work_class, items FROM wip_daily WHERE team = 'web' AND items > 0`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var day time.Time
		var class string
		var n float64
		if err := rows.Scan(&day, &class, &n); err != nil {
			t.Fatal(err)
		}
		end := time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, berlin)
		if end.Before(st.Until) {
			want[fmt.Sprintf("%s %q", day.Format("01-02"), class)] = n
		}
	}
	for k, v := range got {
		if v == 0 {
			delete(got, k)
		}
	}
	if len(want) < 10 {
		t.Fatalf("only %d wip_daily rows to compare", len(want))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("backfilled WIP summed over stage classes vs wip_daily (-want +got):\n%s", diff)
	}
}

func TestBackfillGrid(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	created := func(t *testing.T, out string) []string {
		t.Helper()
		var got []string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, metrics.ItemsCreated.FQName()) {
				s := parseSample(t, l)
				got = append(got, time.Unix(int64(s.ts), 0).UTC().Format("01-02T15:04")+" "+s.value)
			}
		}
		return got
	}
	t.Run("until is exclusive", func(t *testing.T) {
		db := bfWarehouse(t)
		// A sample exactly at Until (03-04 00:00) is not written.
		out, st := runBackfill(t, db, metrics.BackfillOptions{Since: d("2026-03-01"), Until: d("2026-03-04"), Now: bfNow})
		want := []string{"03-02T00:00 1.0", "03-03T00:00 2.0", "03-04T00:00 3.0"}
		if diff := cmp.Diff(want[:2], created(t, out)); diff != "" {
			t.Errorf("created_total (-want +got):\n%s", diff)
		}
		checkOpenMetrics(t, out, st.Until)
	})
	t.Run("step", func(t *testing.T) {
		db := bfWarehouse(t)
		// Every 6 h from the start of 03-01; A was created at 09:00; a
		// zero sample leads.
		out, _ := runBackfill(t, db, metrics.BackfillOptions{Since: d("2026-03-01"), Until: at("2026-03-02T07:00:00Z"), Step: 6 * time.Hour, Now: bfNow})
		want := []string{"03-01T06:00 0.0", "03-01T12:00 1.0", "03-01T18:00 1.0", "03-02T00:00 1.0", "03-02T06:00 1.0"}
		if diff := cmp.Diff(want, created(t, out)); diff != "" {
			t.Errorf("created_total (-want +got):\n%s", diff)
		}
	})
	t.Run("local midnights across DST", func(t *testing.T) {
		db := computed(t)
		// Berlin moves to CEST on 03-29: days end at 23:00 UTC, then 22:00 UTC.
		out, st := runBackfill(t, db, metrics.BackfillOptions{Since: d("2026-03-27"), Until: d("2026-04-01"), Location: berlin, Now: flowNow})
		var got []string
		for _, c := range created(t, out) {
			if strings.HasSuffix(c, " 8.0") {
				got = append(got, strings.TrimSuffix(c, " 8.0"))
			}
		}
		want := []string{"03-27T23:00", "03-28T23:00", "03-29T22:00", "03-30T22:00", "03-31T22:00"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("sample times of the project Story series (-want +got):\n%s", diff)
		}
		checkOpenMetrics(t, out, st.Until)
	})
	t.Run("empty warehouse", func(t *testing.T) {
		db := warehousetest.Open(t, "")
		out, st := runBackfill(t, db, metrics.BackfillOptions{Now: bfNow})
		if out != "# EOF\n" || st.Families != 0 || st.Samples != 0 || !st.First.IsZero() {
			t.Errorf("empty warehouse: %q %+v", out, st)
		}
	})
	t.Run("bad step", func(t *testing.T) {
		db := warehousetest.Open(t, "")
		if _, err := metrics.Backfill(context.Background(), db.DB, &bytes.Buffer{}, metrics.BackfillOptions{Step: time.Second}); err == nil {
			t.Error("1s step: no error")
		}
	})
}
