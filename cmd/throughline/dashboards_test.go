package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/throughline/throughline/dashboards"
)

func TestDashboardsCommand(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "dash")
		code, stdout, stderr := runCmd(t, "dashboards", "--out", out)
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		// Without a config the files are the ones the promtool tests in
		// dashboards/testdata/rules run against: the config's defaults (its
		// schedules and zone) are the generator's.
		for _, f := range []string{"alerts.yml", "recording.yml", "_config.json"} {
			path := filepath.Join(out, "prometheus", f)
			if f == "_config.json" {
				path = filepath.Join(out, f)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join("..", "..", "dashboards", "testdata", "rules", f))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("%s differs from dashboards/testdata/rules (-want +got):\n%s", f, diff)
			}
			if !strings.Contains(stdout, path) {
				t.Errorf("stdout does not name %s:\n%s", f, stdout)
			}
		}
		// The Grafana files are the committed ones of dashboards/grafana.
		files, err := dashboards.GrafanaFiles(dashboards.DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			got, err := os.ReadFile(filepath.Join(out, dashboards.GrafanaDir, f.Path))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join("..", "..", "dashboards", dashboards.GrafanaDir, f.Path))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("grafana/%s differs from dashboards/grafana/%s", f.Path, f.Path)
			}
			if !strings.Contains(stdout, filepath.Join(out, dashboards.GrafanaDir, f.Path)) {
				t.Errorf("stdout does not name grafana/%s:\n%s", f.Path, stdout)
			}
		}
	})
	t.Run("thresholds from the config", func(t *testing.T) {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "t.yaml")
		yaml := "schedules: {sync: \"0 * * * *\"}\nalerts: {allocation_ratio: 1.2, wip_over_limit_for: 4h, runbook_base_url: \"https://git.example.com/rb\", selector: 'job=\"pmo\"', instance_labels: [cluster]}\n"
		if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "out")
		if code, stdout, stderr := runCmd(t, "dashboards", "--config", cfg, "--out", out); code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		b, err := os.ReadFile(filepath.Join(out, "prometheus", "alerts.yml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{
			`expr: throughline_allocation_rolling_week_ratio{job="pmo"} > 1.2`,
			"for: 4h",
			`expr: time() - throughline_sync_last_success_timestamp_seconds{job="pmo"} > 7200`,
			"runbook_url: https://git.example.com/rb/ThroughlineSyncStale.md",
			`by (cluster, team)`,
		} {
			if !strings.Contains(string(b)+readFile(t, filepath.Join(out, "prometheus", "recording.yml")), want) {
				t.Errorf("alerts.yml and recording.yml lack %q", want)
			}
		}
		// The dashboards select the installation by its labels.
		board := readFile(t, filepath.Join(out, dashboards.GrafanaDir, dashboards.PortfolioUID+".json"))
		for _, want := range []string{`job=\"pmo\",cluster=\"$cluster\"`, `"name": "cluster"`} {
			if !strings.Contains(board, want) {
				t.Errorf("portfolio dashboard lacks %s", want)
			}
		}
	})
	t.Run("errors", func(t *testing.T) {
		dir := t.TempDir()
		bad := filepath.Join(dir, "bad.yaml")
		if err := os.WriteFile(bad, []byte("alerts: {on_time_probability: 5}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		never := filepath.Join(dir, "never.yaml")
		if err := os.WriteFile(never, []byte("schedules: {sync: \"0 0 30 2 *\"}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{
			{"dashboards", "--config", bad, "--out", dir},
			{"dashboards", "--config", never, "--out", dir},
			{"dashboards", "--config", filepath.Join(dir, "missing.yaml"), "--out", dir},
			{"dashboards", "--out", dir, "extra"},
		} {
			if code, _, stderr := runCmd(t, args...); code != exitUsage {
				t.Errorf("%v: exit %d, want %d\n%s", args, code, exitUsage, stderr)
			}
		}
	})
}
