package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/throughline/throughline/internal/sqlworker"
)

// TestMain lets the test binary serve as the SQL workers' program, as the
// real binary does.
func TestMain(m *testing.M) {
	if sqlworker.IsWorker() {
		os.Exit(sqlworker.Main())
	}
	if os.Getenv(holdEnvAddr) != "" {
		os.Exit(holdConnections())
	}
	os.Exit(m.Run())
}

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestDemoOnceThenQueryAndCheck(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	code, out, errs := runCmd(t, "demo", "--once", "--dir", dir, "--items", "800", "--log-level", "warn")
	if code != 0 {
		t.Fatalf("demo --once exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	summary := out
	for _, want := range []string{"Throughline demo: 800 items, 4 teams", "P85 cycle time:", "last week's throughput:", "input problems:         0"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	cfg := filepath.Join(dir, "throughline.yaml")
	if _, err := os.Stat(filepath.Join(dir, "prometheus", "alerts.yml")); err != nil || !strings.Contains(out, "prometheus rules: ") {
		t.Errorf("demo did not write or print its Prometheus rules: %v", err)
	}

	// The summary's item count is what the warehouse holds.
	code, out, errs = runCmd(t, "sql", "--config", cfg, "--format", "csv", "SELECT count(*) AS n FROM item_flow")
	if code != 0 || out != "n\n800\n" {
		t.Errorf("sql exit %d, out %q, err %q; want n=800", code, out, errs)
	}
	// The P85 printed equals the table's, and the table's is the nearest-rank
	// P85 (rank ceil(0.85·n)) of the window's flow days in item_flow.
	printed := regexp.MustCompile(`P85 cycle time: +(\d+) days \((\d+) items finished in the last (\d+) days\)`).FindStringSubmatch(summary)
	if printed == nil {
		t.Fatalf("summary lacks the P85 line:\n%s", summary)
	}
	code, out, _ = runCmd(t, "sql", "--config", cfg, "--format", "json", "SELECT p85_days, items FROM cycle_time_stats WHERE team = '*' AND work_class = '*'")
	m := regexp.MustCompile(`"p85_days":(\d+),"items":(\d+)`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("sql json: exit %d out %q", code, out)
	}
	if printed[1] != m[1] || printed[2] != m[2] {
		t.Errorf("summary prints P85 %s days over %s items; cycle_time_stats has %s over %s", printed[1], printed[2], m[1], m[2])
	}
	code, out, _ = runCmd(t, "sql", "--config", cfg, "--format", "csv", `WITH w AS (
		SELECT flow_days FROM item_flow WHERE completed AND NOT discarded AND started_at IS NOT NULL AND cycle_seconds >= 0
		AND finish_day > (SELECT max(day) FROM throughput_daily) - `+printed[3]+` AND finish_day <= (SELECT max(day) FROM throughput_daily))
		SELECT (SELECT count(*) FROM w) || ' ' || (SELECT flow_days FROM w ORDER BY flow_days
		LIMIT 1 OFFSET (SELECT CAST(ceil(0.85 * count(*)) AS INTEGER) - 1 FROM w)) AS p`)
	if want := "p\n" + printed[2] + " " + printed[1] + "\n"; code != 0 || out != want {
		t.Errorf("nearest-rank P85 over item_flow: %q; the summary says %q", out, want)
	}
	code, out, errs = runCmd(t, "forecast", "--config", cfg)
	if code != 0 || !strings.Contains(out, "Open milestones") || !strings.Contains(out, "on_time") ||
		!strings.Contains(out, "portfolio model") || !strings.Contains(out, "Forecast accuracy on your history") {
		t.Errorf("forecast exit %d:\n%s\n%s", code, out, errs)
	}
	// The planner reads the file when no server runs.
	code, out, errs = runCmd(t, "plan", "--config", cfg, "--items", "40", "--due", time.Now().AddDate(0, 0, 42).Format("2006-01-02"))
	if code != 0 || !strings.Contains(out, "New work: 40 items, due ") || !strings.Contains(out, "allocation per week") {
		t.Errorf("plan exit %d:\n%s\n%s", code, out, errs)
	}
	if code, _, errs := runCmd(t, "plan", "--config", cfg, "--items", "4", "--hours", "3"); code != exitUsage || !strings.Contains(errs, "--items N or --hours H") {
		t.Errorf("plan with items and hours: exit %d %q", code, errs)
	}
	code, out, _ = runCmd(t, "sql", "--config", cfg, "--format", "csv", "SELECT project || ':' || name FROM milestone_status WHERE status NOT IN ('done', 'unknown', 'no_due_date') ORDER BY due_date DESC LIMIT 1")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); code == 0 && len(lines) == 2 {
		code, out, errs = runCmd(t, "forecast", "--config", cfg, "--milestone", lines[1])
		if code != 0 || !strings.Contains(out, "forecast") || !strings.Contains(out, "at 85% confidence") {
			t.Errorf("forecast --milestone %s exit %d:\n%s\n%s", lines[1], code, out, errs)
		}
	} else {
		t.Errorf("no open milestone with a forecast in the demo: %d %q", code, out)
	}
	if code, _, errs := runCmd(t, "forecast", "--config", cfg, "--milestone", "No Such"); code != exitUsage || !strings.Contains(errs, "no milestone named") {
		t.Errorf("unknown milestone: exit %d %q", code, errs)
	}
	code, out, _ = runCmd(t, "check", "--config", cfg)
	if code != 0 || !strings.Contains(out, "skipped_start") || !strings.Contains(out, "input problems: 0 rejected") ||
		!strings.Contains(out, "compute: ok") {
		t.Errorf("check exit %d:\n%s", code, out)
	}
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("timezone: UTC\nsourcez: []\n"), 0o644)
	tests := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"no command", nil, exitUsage, ""},
		{"unknown command", []string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{"bad flag", []string{"sync", "--nope"}, exitUsage, "flag provided but not defined"},
		{"missing config", []string{"sync", "--config", filepath.Join(dir, "missing.yaml")}, exitUsage, "throughline init"},
		{"unknown key", []string{"compute", "--config", bad}, exitUsage, `bad.yaml:2: unknown key "sourcez"`},
		{"sql without query", []string{"sql", "--config", bad}, exitUsage, "exactly one query"},
		{"version", []string{"version"}, exitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := runCmd(t, tt.args...)
			if code != tt.code || !strings.Contains(errs, tt.err) {
				t.Errorf("exit %d stderr %q; want %d containing %q", code, errs, tt.code, tt.err)
			}
		})
	}
}

func TestInitWritesParsableConfigOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.yaml")
	if code, _, errs := runCmd(t, "init", "--config", path); code != 0 {
		t.Fatalf("init: %d %s", code, errs)
	}
	if _, err := loadConfig(path); err != nil {
		t.Errorf("written config does not load: %v", err)
	}
	if code, _, errs := runCmd(t, "init", "--config", path); code != exitUsage || !strings.Contains(errs, "exists") {
		t.Errorf("second init: exit %d %q, want refusal", code, errs)
	}
}

func TestListenBeyondLoopbackNeedsToken(t *testing.T) {
	t.Setenv("TL_TEST_TOKEN", "")
	if err := checkListen("0.0.0.0:9187", "TL_TEST_TOKEN"); err == nil {
		t.Error("0.0.0.0 without a token: no error")
	}
	if err := checkListen("127.0.0.1:9187", ""); err != nil {
		t.Errorf("loopback: %v", err)
	}
	if err := checkListen("[::1]:9187", ""); err != nil {
		t.Errorf("ipv6 loopback: %v", err)
	}
	t.Setenv("TL_TEST_TOKEN", "s3cret")
	if err := checkListen("0.0.0.0:9187", "TL_TEST_TOKEN"); err != nil {
		t.Errorf("with token: %v", err)
	}
}
