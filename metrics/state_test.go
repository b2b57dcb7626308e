package metrics_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/throughline/throughline/metrics"
)

func exposition(t *testing.T, c *metrics.Collector) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

// A collector that resumes from the warehouse exposes what the one before
// the restart exposed: the last compute, sync and task health, the request
// and error counters.
func TestCollectorResumesAfterRestart(t *testing.T) {
	ctx := context.Background()
	db := computed(t)
	build := metrics.Build{Version: "test", Revision: "abc", GoVersion: "go1.26"}
	before := metrics.NewCollector(build)
	snap, err := metrics.LoadSnapshot(ctx, db.DB, flowNow)
	if err != nil {
		t.Fatal(err)
	}
	before.SetSnapshot(snap)
	// Nanoseconds are not kept: observed times are microseconds.
	at := flowNow.Add(-time.Hour + 123456789*time.Nanosecond)
	before.ObserveSync("jira", at, 1234567891*time.Nanosecond, "")
	before.ObserveSync("jira", at.Add(15*time.Minute), 2*time.Second, "error")
	before.ObserveSync("csv", at, 3*time.Second, "")
	before.ObserveRequest("jira", "200")
	before.ObserveRequest("jira", "429")
	before.ObserveRequest("jira", "429")
	before.ObserveJob("compute", flowNow, 1500*time.Millisecond, true)
	if err := before.SaveState(ctx, db.DB); err != nil {
		t.Fatal(err)
	}
	want := exposition(t, before)
	for _, line := range []string{
		`throughline_sync_errors_total{reason="error",source="jira"} 1`,
		`throughline_sync_requests_total{code="429",source="jira"} 2`,
		`throughline_task_success{task="compute"} 1`,
		`throughline_up{source="jira"} 0`,
	} {
		if !strings.Contains(want, line+"\n") {
			t.Errorf("exposition before the restart lacks %s", line)
		}
	}

	after := metrics.NewCollector(build)
	if err := after.Resume(ctx, db.DB, flowNow.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(strings.Split(want, "\n"), strings.Split(exposition(t, after), "\n")); diff != "" {
		t.Errorf("/metrics after the restart (-before +after):\n%s", diff)
	}
	since, err := metrics.ServingSince(ctx, db.DB)
	if err != nil || !since.Equal(flowNow.Add(time.Hour)) {
		t.Errorf("serving since %v (%v), want %v", since, err, flowNow.Add(time.Hour))
	}
	// A second restart keeps the first serving time.
	again := metrics.NewCollector(build)
	if err := again.Resume(ctx, db.DB, flowNow.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if since, _ := metrics.ServingSince(ctx, db.DB); !since.Equal(flowNow.Add(time.Hour)) {
		t.Errorf("serving since %v after a second start, want %v", since, flowNow.Add(time.Hour))
	}
	if got := exposition(t, again); got != want {
		t.Error("/metrics after a second restart differs")
	}
}

// A warehouse synced and computed by a version that saved no state: the
// sync health comes from sync_runs, the snapshot from the metric tables.
func TestCollectorResumesWithoutSavedState(t *testing.T) {
	ctx := context.Background()
	db := computed(t)
	start := time.Date(2026, 3, 20, 11, 0, 0, 0, time.UTC)
	if _, err := db.Exec(`INSERT INTO sync_runs (run_id, source_id, started_at, finished_at, status) VALUES
		(1, 't', ?, ?, 'ok'), (2, 't', ?, ?, 'failed')`, start, start.Add(2*time.Second), start.Add(time.Hour), start.Add(time.Hour+3*time.Second)); err != nil {
		t.Fatal(err)
	}
	c := metrics.NewCollector(metrics.Build{})
	if err := c.Resume(ctx, db.DB, flowNow); err != nil {
		t.Fatal(err)
	}
	got := exposition(t, c)
	for _, line := range []string{
		`throughline_sync_last_success_timestamp_seconds{source="t"} 1.774004402e+09`,
		`throughline_sync_duration_seconds{source="t"} 3`,
		`throughline_up{source="t"} 0`,
		`throughline_items_created_total{item_type="Story",project="WEB",team="web",work_class="project"} 8`,
	} {
		if !strings.Contains(got, line+"\n") {
			t.Errorf("resumed exposition lacks %s", line)
		}
	}
}
