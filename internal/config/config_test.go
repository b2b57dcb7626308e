package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	srv := c.Server
	if srv.AdminTokenEnv != "THROUGHLINE_ADMIN_TOKEN" || srv.MaxResultBytes() != 256e6 || srv.WorkerMemoryBytes() != 1e9 ||
		srv.SQLWorkers != 4 || srv.SQLClientConcurrency != 2 || srv.MaxConnections != 1024 || srv.SyncInterval() != 30*time.Second {
		t.Errorf("server = %+v", srv)
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
		{"admin token held in the config", "server: {admin_token_env: \"abc def\"}\n", []string{"server.admin_token_env", "must name an environment variable"}},
		{"admin token same as the sql token", "server: {sql_token_env: T, admin_token_env: T}\n", []string{"must differ"}},
		{"bad sql_max_bytes", "server: {sql_max_bytes: lots}\n", []string{`server.sql_max_bytes "lots"`}},
		{"sql_max_bytes over half the worker memory", "server: {sql_max_bytes: 600MB, sql_worker_memory: 1GB}\n", []string{"more than half"}},
		{"worker memory too small", "server: {sql_worker_memory: 1MB}\n", []string{"server.sql_worker_memory", "64MB"}},
		{"too many workers", "server: {sql_workers: 100}\n", []string{"server.sql_workers 100"}},
		{"client concurrency over the workers", "server: {sql_workers: 2, sql_client_concurrency: 3}\n", []string{"server.sql_client_concurrency 3", "(2)"}},
		{"too few connections", "server: {max_connections: 3}\n", []string{"server.max_connections 3"}},
		{"bad sync interval", "server: {sync_min_interval: often}\n", []string{"server.sync_min_interval"}},
		{"reserved team", "teams:\n  - name: unassigned\n", []string{"reserved"}},
		{"bad max_retry_after", "sources:\n  - {name: j, kind: jira, base_url: https://x, token_env: T, jql: \"project = A\", max_retry_after: soon}\n", []string{"c.yaml:2", `max_retry_after "soon"`, "1s to 24h"}},
		{"max_retry_after on csv", "sources:\n  - {name: x, kind: csv, path: d, max_retry_after: 5m}\n", []string{`key "max_retry_after" does not apply to kind csv`}},
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

func TestRetryAfterCap(t *testing.T) {
	c, err := Parse("c.yaml", []byte("sources:\n  - {name: j, kind: jira, base_url: https://x, token_env: T, jql: \"project = A\", max_retry_after: 10m}\n"+
		"  - {name: a, kind: asana, base_url: https://y, token_env: U, projects: [\"1\"]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Sources[0].RetryAfterCap(); got != 10*time.Minute {
		t.Errorf("jira cap = %v, want 10m", got)
	}
	if got := c.Sources[1].RetryAfterCap(); got != 0 {
		t.Errorf("asana cap = %v, want 0 (the connector's default)", got)
	}
}

func TestServerDefaults(t *testing.T) {
	c, err := Parse("c.yaml", []byte("timezone: UTC\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Server
	if s.MaxResultBytes() != 256e6 || s.WorkerMemoryBytes() != 1e9 || s.SQLWorkers != 4 || s.SQLClientConcurrency != 2 ||
		s.MaxConnections != 1024 || s.SyncInterval() != 30*time.Second || s.AdminTokenEnv != "" {
		t.Errorf("defaults: %+v", s)
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{{"512MB", 512e6}, {"2GB", 2e9}, {"1.5GiB", 3 << 29}, {"64 kib", 64 << 10}, {"100B", 100}}
	for _, tt := range tests {
		if got, err := ParseSize(tt.in); err != nil || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "lots", "5", "-1GB", "1PB"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q): no error", bad)
		}
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
