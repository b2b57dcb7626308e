package dashboards

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// promtool finds Debian's promtool (package prometheus). It is required in
// CI (the CI variable is set) and skipped elsewhere.
func promtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("promtool not found and CI is set: .ci/run installs it (apt-get install prometheus): %v", err)
	}
	t.Skip("promtool not found: apt-get install prometheus to run the rule tests")
	return ""
}

func TestPromtoolCheckRules(t *testing.T) {
	bin := promtool(t)
	paths, err := Write(t.TempDir(), defaults)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, append([]string{"check", "rules"}, paths[:2]...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "duplicate") {
		t.Errorf("promtool check rules warns:\n%s", out)
	}
}

// TestPromtoolTestRules runs testdata/rules/*.test.yml, one per alert plus
// recording.test.yml, against freshly generated rules for the default options.
func TestPromtoolTestRules(t *testing.T) {
	bin := promtool(t)
	dir := t.TempDir()
	if _, err := Write(dir, defaults); err != nil {
		t.Fatal(err)
	}
	rulesDir := filepath.Join(dir, filepath.Dir(AlertsFile))
	tests, err := filepath.Glob(filepath.Join("testdata", "rules", "*.test.yml"))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, f := range tests {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(rulesDir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
		have[strings.TrimSuffix(filepath.Base(f), ".test.yml")] = true
	}
	for name := range designAlerts {
		if !have[name] {
			t.Errorf("no testdata/rules/%s.test.yml", name)
			continue
		}
		// Each alert's test shows it firing with its labels and staying quiet.
		b, _ := os.ReadFile(filepath.Join(rulesDir, name+".test.yml"))
		for _, want := range []string{"alertname: " + name, "exp_alerts: []", "exp_labels: {severity: " + designAlerts[name][1]} {
			if !strings.Contains(string(b), want) {
				t.Errorf("%s.test.yml lacks %q", name, want)
			}
		}
	}
	if !have["recording"] {
		t.Error("no testdata/rules/recording.test.yml")
	}
	for _, f := range tests {
		name := filepath.Base(f)
		t.Run(strings.TrimSuffix(name, ".test.yml"), func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(bin, "test", "rules", name)
			cmd.Dir = rulesDir
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Errorf("promtool test rules %s: %v\n%s", name, err, out)
			}
		})
	}
}
