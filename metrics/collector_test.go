package metrics_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/throughline/throughline/metrics"
)

func TestCollectorExposesSnapshot(t *testing.T) {
	db := computed(t)
	snap, err := metrics.LoadSnapshot(context.Background(), db.DB, flowNow)
	if err != nil {
		t.Fatal(err)
	}
	c := metrics.NewCollector(metrics.Build{Version: "test", Revision: "abc", GoVersion: "go1.26"})
	c.SetSnapshot(snap)
	c.ObserveSync("t", flowNow, 2*time.Second, "")
	c.ObserveJob("compute", flowNow, time.Second, true)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)

	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}

	// Hand-computed from the histories in flow_test.go.
	want := `
# HELP throughline_items_completed_total Completions of non-discarded items ever; a reopen never decrements. Values reflect the last successful compute.
# TYPE throughline_items_completed_total counter
throughline_items_completed_total{item_type="Incident",project="WEB",team="web",work_class="operational"} 0
throughline_items_completed_total{item_type="Story",project="WEB",team="web",work_class="project"} 9
# HELP throughline_wip_items Items in a started stage now, by stage class (active or wait). Values reflect the last successful compute.
# TYPE throughline_wip_items gauge
throughline_wip_items{team="web",work_class="operational",workflow_stage="wait"} 1
throughline_wip_items{team="web",work_class="project",workflow_stage="active"} 1
# HELP throughline_wip_limit_items Configured WIP limit of the team. Values reflect the last successful compute.
# TYPE throughline_wip_limit_items gauge
throughline_wip_limit_items{team="web"} 4
# HELP throughline_cycle_time_seconds Cycle time (finish minus start) of all completed items; buckets 1,2,3,5,8,13,21,34,55,89 days. Values reflect the last successful compute.
# TYPE throughline_cycle_time_seconds histogram
throughline_cycle_time_seconds_bucket{team="web",work_class="project",le="86400"} 3
throughline_cycle_time_seconds_bucket{team="web",work_class="project",le="172800"} 3
throughline_cycle_time_seconds_bucket{team="web",work_class="project",le="259200"} 4
throughline_cycle_time_seconds_bucket{team="web",work_class="project",le="432000"} 5
throughline_cycle_time_seconds_bucket{team="web",work_class="project",le="691200"} 5
throughline_cycle_time_seconds_bucket{team="web",work_class="project",le="1.1232e+06"} 5
throughline_cycle_time_seconds_bucket{team="web",work_class="project",le="1.8144e+06"} 5
throughline_cycle_time_seconds_bucket{team="web",work_class="project",le="2.9376e+06"} 5
throughline_cycle_time_seconds_bucket{team="web",work_class="project",le="4.752e+06"} 5
throughline_cycle_time_seconds_bucket{team="web",work_class="project",le="7.6896e+06"} 5
throughline_cycle_time_seconds_bucket{team="web",work_class="project",le="+Inf"} 5
throughline_cycle_time_seconds_sum{team="web",work_class="project"} 799200
throughline_cycle_time_seconds_count{team="web",work_class="project"} 5
# HELP throughline_lead_time_window_seconds Nearest-rank lead-time percentiles (created to finished; exact in every source, exports included) over items finished in the trailing window; team or work_class * aggregates all. Values reflect the last successful compute.
# TYPE throughline_lead_time_window_seconds summary
throughline_lead_time_window_seconds{team="web",work_class="project",quantile="0.5"} 345600
throughline_lead_time_window_seconds{team="web",work_class="project",quantile="0.7"} 518400
throughline_lead_time_window_seconds{team="web",work_class="project",quantile="0.85"} 691200
throughline_lead_time_window_seconds{team="web",work_class="project",quantile="0.95"} 691200
throughline_lead_time_window_seconds_sum{team="web",work_class="project"} 2.3238e+06
throughline_lead_time_window_seconds_count{team="web",work_class="project"} 6
throughline_lead_time_window_seconds{team="web",work_class="*",quantile="0.5"} 345600
throughline_lead_time_window_seconds{team="web",work_class="*",quantile="0.7"} 518400
throughline_lead_time_window_seconds{team="web",work_class="*",quantile="0.85"} 691200
throughline_lead_time_window_seconds{team="web",work_class="*",quantile="0.95"} 691200
throughline_lead_time_window_seconds_sum{team="web",work_class="*"} 2.3238e+06
throughline_lead_time_window_seconds_count{team="web",work_class="*"} 6
throughline_lead_time_window_seconds{team="*",work_class="project",quantile="0.5"} 345600
throughline_lead_time_window_seconds{team="*",work_class="project",quantile="0.7"} 518400
throughline_lead_time_window_seconds{team="*",work_class="project",quantile="0.85"} 691200
throughline_lead_time_window_seconds{team="*",work_class="project",quantile="0.95"} 691200
throughline_lead_time_window_seconds_sum{team="*",work_class="project"} 2.3238e+06
throughline_lead_time_window_seconds_count{team="*",work_class="project"} 6
throughline_lead_time_window_seconds{team="*",work_class="*",quantile="0.5"} 345600
throughline_lead_time_window_seconds{team="*",work_class="*",quantile="0.7"} 518400
throughline_lead_time_window_seconds{team="*",work_class="*",quantile="0.85"} 691200
throughline_lead_time_window_seconds{team="*",work_class="*",quantile="0.95"} 691200
throughline_lead_time_window_seconds_sum{team="*",work_class="*"} 2.3238e+06
throughline_lead_time_window_seconds_count{team="*",work_class="*"} 6
# HELP throughline_up 1 if the last sync of the source succeeded, else 0.
# TYPE throughline_up gauge
throughline_up{source="t"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"throughline_items_completed_total", "throughline_wip_items", "throughline_wip_limit_items",
		"throughline_cycle_time_seconds", "throughline_lead_time_window_seconds", "throughline_up"); err != nil {
		t.Error(err)
	}
}
