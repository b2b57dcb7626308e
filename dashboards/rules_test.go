package dashboards

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/model"

	"github.com/throughline/throughline/metrics"
)

var update = flag.Bool("update", false, "rewrite testdata/rules/alerts.yml, recording.yml and _config.json")

// defaults is the _config without a config file; cmd/throughline's
// TestDashboardsCommand checks that the command writes the same files.
var defaults = DefaultConfig()

// designAlerts are the alerts with their default `for` and severity: the
// eight of the design's metrics.md ("Alert rules"), and the operator and
// planning alerts added since (docs/metrics.md says why).
var designAlerts = map[string][2]string{
	"ThroughlineTeamOverallocated": {"6h", "warning"},
	"ThroughlineTeamOverLogged":    {"", "warning"},
	"ThroughlineWipOverLimit":      {"1d", "warning"},
	"ThroughlineWorkAgingPastSLE":  {"1d", "warning"},
	"ThroughlineMilestoneAtRisk":   {"", "warning"},
	"ThroughlineMilestoneOverdue":  {"", "warning"},
	"ThroughlineMilestoneStalled":  {"1d", "warning"},
	"ThroughlineExporterDown":      {"5m", "critical"},
	"ThroughlineComputeStale":      {"", "critical"},
	"ThroughlineSyncStale":         {"", "critical"},
	"ThroughlineSyncFailing":       {"30m", "critical"},
	"ThroughlineSyncRateLimited":   {"1h", "critical"},
}

func mustAlerts(t *testing.T, o Config) RuleFile {
	t.Helper()
	f, err := Alerts(o)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestAlertsAsDesigned(t *testing.T) {
	got := map[string][2]string{}
	for _, r := range mustAlerts(t, defaults).Rules() {
		t.Run(r.Alert, func(t *testing.T) {
			if _, dup := got[r.Alert]; dup {
				t.Errorf("alert defined twice")
			}
			got[r.Alert] = [2]string{r.For, r.Labels["severity"]}
			if !regexp.MustCompile(`^Throughline([A-Z][a-zA-Z]*)+$`).MatchString(r.Alert) || r.Record != "" {
				t.Errorf("alert %q record %q: want a CamelCase Throughline… alert", r.Alert, r.Record)
			}
			if len(r.Labels) != 1 {
				t.Errorf("labels %v: want severity only", r.Labels)
			}
			// Every alert rides out an exporter restart.
			if r.KeepFiringFor != "10m" {
				t.Errorf("keep_firing_for %q, want 10m", r.KeepFiringFor)
			}
			// Milestone alerts carry the team, for routing.
			if strings.Contains(r.Alert, "Milestone") && !strings.Contains(r.Expr, "group_left (team)") {
				t.Errorf("%s does not join the milestone's team: %s", r.Alert, r.Expr)
			}
			var keys []string
			for k := range r.Annotations {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if diff := cmp.Diff([]string{"description", "runbook_url", "summary"}, keys); diff != "" {
				t.Errorf("annotation keys (-want +got):\n%s", diff)
			}
			if !strings.Contains(r.Annotations["description"], "$labels.") || !strings.Contains(r.Annotations["summary"], "$labels.") {
				t.Errorf("summary %q and description %q must template label values", r.Annotations["summary"], r.Annotations["description"])
			}
			if want := DefaultRunbookBaseURL + "/" + r.Alert + ".md"; r.Annotations["runbook_url"] != want {
				t.Errorf("runbook_url = %q, want %q", r.Annotations["runbook_url"], want)
			}
			// The expression selects Throughline's series by the selector.
			for _, name := range metricName.FindAllString(r.Expr, -1) {
				if !strings.Contains(r.Expr, name+`{job="throughline"`) {
					t.Errorf("%s selected without the selector in %s", name, r.Expr)
				}
			}
		})
	}
	if diff := cmp.Diff(designAlerts, got); diff != "" {
		t.Errorf("alerts, their for and severity (-want +generated):\n%s", diff)
	}
}

// The repository's docs/metrics.md lists the same alerts.
func TestAlertsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "# Alert and recording rules")
	if !ok {
		t.Fatal(`docs/metrics.md has no "# Alert and recording rules" section`)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("`(Throughline[A-Za-z]+)`").FindAllStringSubmatch(section, -1) {
		documented[m[1]] = true
	}
	for _, r := range Recording(defaults).Rules() {
		if !strings.Contains(section, "`"+r.Record+"`") {
			t.Errorf("recording rule %s is not in docs/metrics.md", r.Record)
		}
	}
	for name := range designAlerts {
		if !documented[name] {
			t.Errorf("alert %s is not in docs/metrics.md", name)
		}
		delete(documented, name)
	}
	for name := range documented {
		t.Errorf("docs/metrics.md documents %s, which is not generated", name)
	}
}

var metricName = regexp.MustCompile(`throughline_[a-z_]+`)

// Every name in an expression, or in a query of an annotation template, is
// in the catalogue (histogram and summary series by their base name).
func TestRulesUseCatalogNames(t *testing.T) {
	kinds := map[string]string{}
	for _, d := range metrics.Catalog {
		kinds[d.FQName()] = d.Kind
	}
	known := func(name string) bool {
		if _, ok := kinds[name]; ok {
			return true
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			base, ok := strings.CutSuffix(name, suffix)
			if k := kinds[base]; ok && (k == "histogram" || k == "summary") && (suffix != "_bucket" || k == "histogram") {
				return true
			}
		}
		return false
	}
	rules := append(mustAlerts(t, defaults).Rules(), Recording(defaults).Rules()...)
	used := 0
	for _, r := range rules {
		texts := []string{r.Expr, r.Annotations["description"], r.Annotations["summary"]}
		for _, text := range texts {
			for _, name := range metricName.FindAllString(text, -1) {
				used++
				if !known(name) {
					t.Errorf("rule %s%s: %s is not in metrics.Catalog", r.Alert, r.Record, name)
				}
			}
		}
	}
	if used < len(rules) {
		t.Errorf("only %d metric names found in %d rules: is the regexp right?", used, len(rules))
	}
}

func TestRecordingRuleNames(t *testing.T) {
	// level:metric:operations, where metric is a catalogue name (or a
	// metrics.md concept) without _total.
	name := regexp.MustCompile(`^[a-z_]+:throughline_[a-z_]+:[a-z0-9_]+$`)
	seen := map[string]bool{}
	for _, r := range Recording(defaults).Rules() {
		if !name.MatchString(r.Record) || strings.Contains(r.Record, "_total:") || r.Alert != "" || r.For != "" {
			t.Errorf("recording rule %q does not follow level:metric:operations", r.Record)
		}
		if seen[r.Record] {
			t.Errorf("recording rule %q twice", r.Record)
		}
		seen[r.Record] = true
		// The level lists the labels the expression keeps, besides the
		// instance labels every rule keeps.
		level, _, _ := strings.Cut(r.Record, ":")
		if by := regexp.MustCompile(`^sum by \(job, instance, ([a-z_, ]+)\)`).FindStringSubmatch(r.Expr); by == nil {
			t.Errorf("recording rule %q does not keep the instance labels: %s", r.Record, r.Expr)
		} else {
			if want := strings.ReplaceAll(by[1], ", ", "_"); level != want {
				t.Errorf("recording rule %q: level %q, but the expression keeps %q", r.Record, level, want)
			}
		}
	}
}

func TestRunbooksExist(t *testing.T) {
	for name := range designAlerts {
		b, err := os.ReadFile(filepath.Join("..", "docs", "runbooks", name+".md"))
		if err != nil {
			t.Errorf("runbook of %s: %v", name, err)
			continue
		}
		for _, heading := range []string{"# " + name, "## What it means", "## How the number is computed", "## What to check", "## Silence or tune"} {
			if !strings.Contains(string(b), heading) {
				t.Errorf("runbook of %s lacks %q", name, heading)
			}
		}
	}
}

func TestAlertsConfig(t *testing.T) {
	o := defaults
	o.AllocationRatio, o.OverallocatedFor, o.WIPOverLimitFor = 0.9, 0, model.Duration(12*time.Hour)
	o.SyncSchedule, o.RunbookBaseURL = "0 * * * *", "https://git.example.com/runbooks/"
	o.Selector, o.InstanceLabels = `job="pmo",env="prod"`, []string{"cluster"}
	byName := map[string]Rule{}
	for _, r := range mustAlerts(t, o).Rules() {
		byName[r.Alert] = r
	}
	for _, c := range []struct{ alert, field, want string }{
		{"ThroughlineTeamOverallocated", "expr", `throughline_allocation_rolling_week_ratio{job="pmo",env="prod"} > 0.9`},
		{"ThroughlineTeamOverallocated", "for", ""},
		{"ThroughlineWipOverLimit", "for", "12h"},
		{"ThroughlineSyncStale", "expr", `time() - throughline_sync_last_success_timestamp_seconds{job="pmo",env="prod"} > 7200`},
		{"ThroughlineSyncStale", "runbook_url", "https://git.example.com/runbooks/ThroughlineSyncStale.md"},
		{"ThroughlineExporterDown", "expr", `up{job="pmo",env="prod"} == 0 or absent(up{job="pmo",env="prod"})`},
	} {
		r := byName[c.alert]
		got := map[string]string{"expr": r.Expr, "for": r.For, "runbook_url": r.Annotations["runbook_url"]}[c.field]
		if got != c.want {
			t.Errorf("%s %s = %q, want %q", c.alert, c.field, got, c.want)
		}
	}
	if e := byName["ThroughlineMilestoneOverdue"].Expr; !strings.Contains(e, "on (cluster, project, milestone) group_left (team)") {
		t.Errorf("milestone alerts join the team on the instance labels: %s", e)
	}
	for _, r := range Recording(o).Rules() {
		if !strings.Contains(r.Expr, "by (cluster, ") {
			t.Errorf("recording rule %s does not keep the instance label cluster: %s", r.Record, r.Expr)
		}
	}
	for _, bad := range []func(*Config){
		func(o *Config) { o.AllocationRatio = 0 },
		func(o *Config) { o.OnTimeProbability = 1.5 },
		func(o *Config) { o.SyncFailingFor = -1 },
		func(o *Config) { o.SyncSchedule = "every day" },
		func(o *Config) { o.ComputeSchedule = "0 0 30 2 *" },
		func(o *Config) { o.Selector = "job=throughline" },
		func(o *Config) { o.InstanceLabels = nil },
		func(o *Config) { o.Timezone = "Mars/Olympus" },
	} {
		o := defaults
		bad(&o)
		if _, err := Alerts(o); err == nil {
			t.Errorf("Alerts(%+v): no error", o)
		}
	}
}

func TestSchedulePeriod(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		spec string
		loc  *time.Location
		want time.Duration
	}{
		{"*/15 * * * *", nil, 15 * time.Minute},
		{"*/15 * * * *", berlin, 15 * time.Minute},
		{"0,10 * * * *", nil, 50 * time.Minute},
		{"@hourly", nil, time.Hour},
		{"@every 10m", nil, 10 * time.Minute},
		{"0 2 * * *", berlin, 24 * time.Hour},
		{"0 9 * * 1-5", nil, 72 * time.Hour},
		{"0 6 * * 1", nil, 7 * 24 * time.Hour},
		{"0 0 1 * *", nil, 31 * 24 * time.Hour},
		{"*/30 * 1 * *", nil, 30*24*time.Hour + 30*time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := SchedulePeriod(tt.spec, tt.loc)
			if err != nil || got != tt.want {
				t.Errorf("SchedulePeriod(%q) = %v, %v; want %v", tt.spec, got, err, tt.want)
			}
		})
	}
}

// testdata/rules holds the rules for the default options: what
// `throughline dashboards` writes without a config, and what the promtool
// tests next to them load.
func TestGoldenRules(t *testing.T) {
	dir := t.TempDir()
	if _, err := Write(dir, defaults); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{AlertsFile, RecordingFile, ConfigFile} {
		got, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "rules", filepath.Base(f))
		if *update {
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("%s is stale (go test ./dashboards -update) (-golden +generated):\n%s", golden, diff)
		}
	}
}
