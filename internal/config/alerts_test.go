package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAlertsDefaultsAndSample(t *testing.T) {
	want := Alerts{AllocationRatio: 1, LoggedUtilization: 1, OnTimeProbability: 0.5,
		OverallocatedFor: "6h", WIPOverLimitFor: "1d", SyncFailingFor: "30m"}
	for name, doc := range map[string]string{"no alerts section": "timezone: UTC\n", "sample": Sample} {
		t.Run(name, func(t *testing.T) {
			c, err := Parse("c.yaml", []byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, c.Alerts); diff != "" {
				t.Errorf("alerts (-want +got):\n%s", diff)
			}
		})
	}
	c, err := Parse("c.yaml", []byte("alerts: {allocation_ratio: 0.9, on_time_probability: 0.7, wip_over_limit_for: 12h, runbook_base_url: https://x/rb}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want.AllocationRatio, want.OnTimeProbability, want.WIPOverLimitFor, want.RunbookBaseURL = 0.9, 0.7, "12h", "https://x/rb"
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
