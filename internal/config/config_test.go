package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSampleParses(t *testing.T) {
	c, err := Parse("/etc/throughline/throughline.yaml", []byte(Sample))
	if err != nil {
		t.Fatalf("sample config: %v", err)
	}
	if c.Timezone != "Europe/Berlin" || c.Location == nil || len(c.Sources) != 1 || c.Sources[0].Path != "/etc/throughline/data/legacy" {
		t.Errorf("sample decoded to %+v", c)
	}
	if c.Warehouse.Path != "/etc/throughline/throughline.duckdb" {
		t.Errorf("warehouse path = %q, want it resolved next to the config", c.Warehouse.Path)
	}
	if c.Metrics.WindowDays != 90 || c.Metrics.Forecast.Trials != 10000 || c.Metrics.Forecast.Mode != "portfolio" {
		t.Errorf("metrics = %+v", c.Metrics)
	}
}

func TestForecastMode(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"timezone: UTC\n", "portfolio"}, // the default
		{"metrics: {forecast: {mode: portfolio}}\n", "portfolio"},
		{"metrics: {forecast: {mode: independent}}\n", "independent"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			c, err := Parse("c.yaml", []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if c.Metrics.Forecast.Mode != tt.want {
				t.Errorf("metrics.forecast.mode = %q, want %q", c.Metrics.Forecast.Mode, tt.want)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // substrings of the error
	}{
		{"unknown top-level key", "timezone: UTC\nwarehous: {path: x}\n", []string{"c.yaml:2", `unknown key "warehous"`}},
		{"unknown nested key", "teams:\n  - name: a\n    wip_limt: 3\n", []string{"c.yaml:3", `unknown key "wip_limt"`}},
		{"bad timezone", "timezone: Mars/Olympus\n", []string{`timezone "Mars/Olympus"`}},
		{"bad cron", "schedules: {sync: \"every day\"}\n", []string{"schedules.sync"}},
		{"secret in token_env", "sources:\n  - {name: j, kind: jira, base_url: https://x, token_env: \"ATATT3x-secret value\"}\n", []string{"c.yaml:2", "must name an environment variable"}},
		{"unknown kind", "sources:\n  - {name: x, kind: trello}\n", []string{`kind "trello" unknown`}},
		{"csv without path", "sources:\n  - {name: x, kind: csv}\n", []string{"path is required"}},
		{"key of another kind", "sources:\n  - {name: x, kind: csv, path: d, jql: \"a\"}\n", []string{`key "jql" does not apply to kind csv`}},
		{"duplicate source", "sources:\n  - {name: x, kind: csv, path: d}\n  - {name: x, kind: csv, path: e}\n", []string{`duplicate source name "x"`}},
		{"bad memory limit", "warehouse: {memory_limit: lots}\n", []string{"memory_limit"}},
		{"bad sql timeout", "server: {sql_timeout: forever}\n", []string{`server.sql_timeout "forever"`}},
		{"sql timeout too short", "server: {sql_timeout: 1ms}\n", []string{"server.sql_timeout", "100ms to 24h"}},
		{"reserved team", "teams:\n  - name: unassigned\n", []string{"reserved"}},
		{"wrong type", "metrics: {window_days: ninety}\n", []string{"c.yaml", "ninety"}},
		{"empty", "", []string{"empty config file"}},
		// Ranges at their boundaries (each check dropped was a surviving mutation).
		{"jira without jql", "sources:\n  - {name: j, kind: jira, base_url: https://x, token_env: T}\n", []string{"c.yaml:2", "jql is required"}},
		{"jira with blank jql", "sources:\n  - {name: j, kind: jira, base_url: https://x, token_env: T, jql: \"  \"}\n", []string{"jql is required"}},
		{"window_days 0 is not the default", "metrics: {window_days: 0}\n", []string{"metrics.window_days 0: want 1..3650"}},
		{"window_days negative", "metrics: {window_days: -1}\n", []string{"metrics.window_days -1: want 1..3650"}},
		{"window_days too long", "metrics: {window_days: 3651}\n", []string{"metrics.window_days 3651"}},
		{"trials 0 is not the default", "metrics: {forecast: {trials: 0}}\n", []string{"metrics.forecast.trials 0: want 100..1000000"}},
		{"unknown forecast mode", "metrics: {forecast: {mode: Portfolio}}\n", []string{`metrics.forecast.mode "Portfolio": want portfolio`, "or independent"}},
		{"sle_days negative", "teams:\n  - {name: a, sle_days: -1}\n", []string{"teams[0] (a): wip_limit and sle_days must not be negative"}},
		{"wip_limit negative", "teams:\n  - {name: a, wip_limit: -1}\n", []string{"teams[0] (a)", "must not be negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// The boundaries that are valid: window_days 1 and 3650, sle_days 0 (the
// P85 of the window), an absent window_days (90).
func TestConfigRangeBoundariesAccepted(t *testing.T) {
	tests := []struct {
		name, yaml string
		window     int
		sle        int
	}{
		{"window_days 1", "metrics: {window_days: 1}\n", 1, 0},
		{"window_days 3650", "metrics: {window_days: 3650}\n", 3650, 0},
		{"window_days absent", "metrics: {per_person: false}\n", 90, 0},
		{"sle_days 0", "teams:\n  - {name: a, sle_days: 0}\n", 90, 0},
		{"sle_days 1", "teams:\n  - {name: a, sle_days: 1}\n", 90, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("c.yaml", []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if c.Metrics.WindowDays != tt.window {
				t.Errorf("window_days %d; want %d", c.Metrics.WindowDays, tt.window)
			}
			if len(c.Teams) > 0 && c.Teams[0].SLEDays != tt.sle {
				t.Errorf("sle_days %d; want %d", c.Teams[0].SLEDays, tt.sle)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("err = %v, want not-exist", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}
