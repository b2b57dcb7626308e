package metrics_test

import (
	"context"
	"fmt"
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
	// Completions counted (each entry into done; DISCARDED never counts):
	// NORMAL, FALSESTART, REOPEN twice, BACKLOG twice, SKIPPED, MIDNIGHT,
	// REOPENED-OPEN (done once, then reopened) = 9. The histogram observes
	// each completion with its cycle time then (from the start in effect):
	// NORMAL 190800, FALSESTART 86400 (S reset by the false start), REOPEN
	// 86400 then 432000 (S kept across the reopen), BACKLOG 86400 and 86400
	// (S cleared by the reopen to backlog), MIDNIGHT 3600, REOPENED-OPEN
	// 86400; SKIPPED has no start. Sum 1058400.
	// WIP: OPEN waits (In Review), REOPENED-OPEN is active; the other stage
	// class of each group is 0.
	// Window (03-20 back 90 days): cycle seconds 3600, 86400, 86400,
	// 190800, 432000 → nearest-rank P50 86400, P70 190800, P85 and P95 432000;
	// at most 1 day: 3, 2 days: 3, 3 days: 4, 5 days and more: 5.
	// Throughput by ISO week (Berlin; the week of 03-16 is the current one):
	// 03-09..15: BACKLOG, MIDNIGHT; 03-02..08: NORMAL, SKIPPED, FALSESTART, REOPEN.
	want := header(metrics.ItemsCompleted) + `
throughline_items_completed_total{item_type="Incident",project="WEB",team="web",work_class="operational"} 0
throughline_items_completed_total{item_type="Story",project="WEB",team="web",work_class="project"} 9
` + header(metrics.WIPItems) + `
throughline_wip_items{team="web",work_class="operational",workflow_stage="active"} 0
throughline_wip_items{team="web",work_class="operational",workflow_stage="wait"} 1
throughline_wip_items{team="web",work_class="project",workflow_stage="active"} 1
throughline_wip_items{team="web",work_class="project",workflow_stage="wait"} 0
` + header(metrics.WIPLimit) + `
throughline_wip_limit_items{team="web"} 4
` + header(metrics.CycleTime) + `
throughline_cycle_time_seconds_bucket{team="web",work_class="project",le="86400"} 6
throughline_cycle_time_seconds_bucket{team="web",work_class="project",le="172800"} 6
throughline_cycle_time_seconds_bucket{team="web",work_class="project",le="259200"} 7
throughline_cycle_time_seconds_bucket{team="web",work_class="project",le="432000"} 8
throughline_cycle_time_seconds_bucket{team="web",work_class="project",le="691200"} 8
throughline_cycle_time_seconds_bucket{team="web",work_class="project",le="1.1232e+06"} 8
throughline_cycle_time_seconds_bucket{team="web",work_class="project",le="1.8144e+06"} 8
throughline_cycle_time_seconds_bucket{team="web",work_class="project",le="2.9376e+06"} 8
throughline_cycle_time_seconds_bucket{team="web",work_class="project",le="4.752e+06"} 8
throughline_cycle_time_seconds_bucket{team="web",work_class="project",le="7.6896e+06"} 8
throughline_cycle_time_seconds_bucket{team="web",work_class="project",le="+Inf"} 8
throughline_cycle_time_seconds_sum{team="web",work_class="project"} 1.0584e+06
throughline_cycle_time_seconds_count{team="web",work_class="project"} 8
` + header(metrics.CycleTimeWindowPercentile) + `
throughline_cycle_time_window_percentile_seconds{percentile="50",team="web",work_class="project"} 86400
throughline_cycle_time_window_percentile_seconds{percentile="70",team="web",work_class="project"} 190800
throughline_cycle_time_window_percentile_seconds{percentile="85",team="web",work_class="project"} 432000
throughline_cycle_time_window_percentile_seconds{percentile="95",team="web",work_class="project"} 432000
` + header(metrics.TeamCycleTimeWindowPercentile) + `
throughline_team_cycle_time_window_percentile_seconds{percentile="50",team="web"} 86400
throughline_team_cycle_time_window_percentile_seconds{percentile="70",team="web"} 190800
throughline_team_cycle_time_window_percentile_seconds{percentile="85",team="web"} 432000
throughline_team_cycle_time_window_percentile_seconds{percentile="95",team="web"} 432000
` + header(metrics.LeadTimeWindowPercentile) + `
throughline_lead_time_window_percentile_seconds{percentile="50",team="web",work_class="project"} 345600
throughline_lead_time_window_percentile_seconds{percentile="70",team="web",work_class="project"} 518400
throughline_lead_time_window_percentile_seconds{percentile="85",team="web",work_class="project"} 691200
throughline_lead_time_window_percentile_seconds{percentile="95",team="web",work_class="project"} 691200
` + header(metrics.TeamLeadTimeWindowPercentile) + `
throughline_team_lead_time_window_percentile_seconds{percentile="50",team="web"} 345600
throughline_team_lead_time_window_percentile_seconds{percentile="70",team="web"} 518400
throughline_team_lead_time_window_percentile_seconds{percentile="85",team="web"} 691200
throughline_team_lead_time_window_percentile_seconds{percentile="95",team="web"} 691200
` + header(metrics.CycleTimeWindowItems) + `
throughline_cycle_time_window_items{team="web",work_class="project"} 5
` + header(metrics.CycleTimeWindowDistribution) + `
throughline_cycle_time_window_distribution_items{max_days="1",team="web",work_class="project"} 3
throughline_cycle_time_window_distribution_items{max_days="13",team="web",work_class="project"} 5
throughline_cycle_time_window_distribution_items{max_days="2",team="web",work_class="project"} 3
throughline_cycle_time_window_distribution_items{max_days="21",team="web",work_class="project"} 5
throughline_cycle_time_window_distribution_items{max_days="3",team="web",work_class="project"} 4
throughline_cycle_time_window_distribution_items{max_days="34",team="web",work_class="project"} 5
throughline_cycle_time_window_distribution_items{max_days="5",team="web",work_class="project"} 5
throughline_cycle_time_window_distribution_items{max_days="55",team="web",work_class="project"} 5
throughline_cycle_time_window_distribution_items{max_days="8",team="web",work_class="project"} 5
throughline_cycle_time_window_distribution_items{max_days="89",team="web",work_class="project"} 5
throughline_cycle_time_window_distribution_items{max_days="+Inf",team="web",work_class="project"} 5
` + header(metrics.TeamSLE) + `
throughline_team_sle_seconds{sle_source="config",team="web"} 259200
` + header(metrics.TeamSLEAttainment) + `
throughline_team_sle_attainment_ratio{team="web"} 0.8
` + header(metrics.WIPAgePercentile) + `
throughline_wip_age_percentile_seconds{percentile="50",team="web",work_class="operational"} 518400
throughline_wip_age_percentile_seconds{percentile="50",team="web",work_class="project"} 1.6416e+06
throughline_wip_age_percentile_seconds{percentile="70",team="web",work_class="operational"} 518400
throughline_wip_age_percentile_seconds{percentile="70",team="web",work_class="project"} 1.6416e+06
throughline_wip_age_percentile_seconds{percentile="85",team="web",work_class="operational"} 518400
throughline_wip_age_percentile_seconds{percentile="85",team="web",work_class="project"} 1.6416e+06
throughline_wip_age_percentile_seconds{percentile="95",team="web",work_class="operational"} 518400
throughline_wip_age_percentile_seconds{percentile="95",team="web",work_class="project"} 1.6416e+06
` + header(metrics.WIPOverSLE) + `
throughline_wip_items_over_sle{team="web",work_class="operational"} 1
throughline_wip_items_over_sle{team="web",work_class="project"} 1
` + header(metrics.TeamInfo) + `
throughline_team_info{team="unassigned"} 1
throughline_team_info{team="web"} 1
` + header(metrics.Up) + `
throughline_up{source="t"} 1
`
	want += header(metrics.ThroughputWeekly)
	for off := 0; off >= -12; off-- {
		for _, class := range []string{"operational", "project"} {
			n := map[int]int{-1: 2, -2: 4}[off]
			if class == "operational" {
				n = 0
			}
			want += fmt.Sprintf("throughline_throughput_weekly_items{project=\"WEB\",team=\"web\",week_offset=\"%d\",work_class=%q} %d\n", off, class, n)
		}
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		metrics.ItemsCompleted.FQName(), metrics.WIPItems.FQName(), metrics.WIPLimit.FQName(), metrics.CycleTime.FQName(),
		metrics.CycleTimeWindowPercentile.FQName(), metrics.TeamCycleTimeWindowPercentile.FQName(), metrics.LeadTimeWindowPercentile.FQName(), metrics.TeamLeadTimeWindowPercentile.FQName(),
		metrics.CycleTimeWindowItems.FQName(),
		metrics.CycleTimeWindowDistribution.FQName(), metrics.TeamSLE.FQName(), metrics.TeamSLEAttainment.FQName(),
		metrics.WIPAgePercentile.FQName(), metrics.WIPOverSLE.FQName(), metrics.TeamInfo.FQName(), metrics.Up.FQName(),
		metrics.ThroughputWeekly.FQName()); err != nil {
		t.Error(err)
	}
}

// header is the HELP and TYPE lines of d, as the exposition writes them.
func header(d metrics.Def) string {
	return "# HELP " + d.FQName() + " " + d.Help + "\n# TYPE " + d.FQName() + " " + d.Kind + "\n"
}
