package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// An alerts section sets only what it names (the generator's defaults,
// dashboards.DefaultConfig, fill the rest); the sample spells them out.
func TestAlertsSample(t *testing.T) {
	c, err := Parse("c.yaml", []byte("timezone: UTC\n"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Alerts{}, c.Alerts); diff != "" {
		t.Errorf("alerts without a section (-want +got):\n%s", diff)
	}
	c, err = Parse("c.yaml", []byte(Sample))
	if err != nil {
		t.Fatal(err)
	}
	want := Alerts{Selector: `job="throughline"`, InstanceLabels: []string{"job", "instance"},
		AllocationRatio: 1, OverallocatedFor: "6h", LoggedUtilization: 1, WIPOverLimitFor: "1d",
		AgingShare: 0.25, AgingMinItems: 5, AgingFor: "1d", OnTimeProbability: 0.85, StalledFor: "1d",
		SyncFailingFor: "30m", ExporterDownFor: "5m", RateLimitedShare: 0.1, KeepFiringFor: "10m",
		PlanningSeverity: "warning", OperatorSeverity: "critical"}
	if diff := cmp.Diff(want, c.Alerts); diff != "" {
		t.Errorf("alerts of the sample (-want +got):\n%s", diff)
	}
	c, err = Parse("c.yaml", []byte("alerts: {allocation_ratio: 0.9, on_time_probability: 0.7, wip_over_limit_for: 12h, runbook_base_url: https://x/rb}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want = Alerts{AllocationRatio: 0.9, OnTimeProbability: 0.7, WIPOverLimitFor: "12h", RunbookBaseURL: "https://x/rb"}
	if diff := cmp.Diff(want, c.Alerts); diff != "" {
		t.Errorf("alerts (-want +got):\n%s", diff)
	}
}

func TestAlertsErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown key", "alerts:\n  allocation: 1\n", `c.yaml:2: unknown key "allocation"`},
		{"negative ratio", "alerts: {allocation_ratio: -1}\n", "alerts.allocation_ratio"},
		{"probability above 1", "alerts: {on_time_probability: 50}\n", "alerts.on_time_probability 50"},
		{"go duration", "alerts: {overallocated_for: 6h30}\n", `alerts.overallocated_for "6h30"`},
		{"words", "alerts: {sync_failing_for: half an hour}\n", `alerts.sync_failing_for "half an hour"`},
		{"share above 1", "alerts: {aging_share: 25}\n", "alerts.aging_share 25"},
		{"label name", "alerts: {instance_labels: [job, my-label]}\n", `"my-label" is not a Prometheus label name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
