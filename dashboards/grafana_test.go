package dashboards

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/throughline/throughline/metrics"
)

// grafanaDir holds the committed Grafana files: the golden files of
// TestGrafanaDashboardsUpToDate; `go test ./dashboards -run Grafana -update`
// rewrites them.
const grafanaDir = "grafana"

func TestGrafanaDashboardsUpToDate(t *testing.T) {
	files, err := GrafanaFiles(defaults)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.RemoveAll(grafanaDir); err != nil {
			t.Fatal(err)
		}
		if _, err := WriteGrafana(".", defaults); err != nil {
			t.Fatal(err)
		}
	}
	var committed []string
	err = filepath.WalkDir(grafanaDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(grafanaDir, path)
			committed = append(committed, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var generated []string
	for _, f := range files {
		generated = append(generated, f.Path)
		got, err := os.ReadFile(filepath.Join(grafanaDir, f.Path))
		if err != nil {
			t.Errorf("%v: run go test ./dashboards -run Grafana -update", err)
			continue
		}
		if !bytes.Equal(got, f.Data) {
			t.Errorf("dashboards/grafana/%s is stale (run go test ./dashboards -run Grafana -update):\n%s",
				f.Path, cmp.Diff(string(got), string(f.Data)))
		}
	}
	slices.Sort(committed)
	if diff := cmp.Diff(generated, committed); diff != "" {
		t.Errorf("files in dashboards/grafana (-generated +committed):\n%s", diff)
	}
}

func TestGrafanaDashboards(t *testing.T) {
	files, err := GrafanaFiles(defaults)
	if err != nil {
		t.Fatal(err)
	}
	// Names a query may use: the catalogue (with the histogram and summary
	// series suffixes) and the recording rules.
	known := map[string]bool{}
	for _, d := range metrics.Catalog {
		known[d.FQName()] = true
		switch d.Kind {
		case "histogram":
			known[d.FQName()+"_bucket"], known[d.FQName()+"_sum"], known[d.FQName()+"_count"] = true, true, true
		case "summary":
			known[d.FQName()+"_sum"], known[d.FQName()+"_count"] = true, true
		}
	}
	recordings := map[string]bool{}
	for _, r := range Recording(defaults).Rules() {
		recordings[r.Record] = true
	}
	byName := map[string]metrics.Def{}
	for _, d := range metrics.Catalog {
		byName[d.FQName()] = d
	}

	recordingRe := regexp.MustCompile(`[a-z_]+:[a-z0-9_]+:[a-z0-9_]+`)
	metricRe := regexp.MustCompile(`\b` + metrics.Namespace + `_[a-z0-9_]+`)
	selectorRe := regexp.MustCompile(`\b(` + metrics.Namespace + `_[a-z0-9_]+)(\{[^}]*\})?`)
	variableRe := regexp.MustCompile(`\$(\w+)`)

	uids := map[string]bool{}
	for _, f := range files {
		if filepath.Ext(f.Path) != ".json" {
			continue
		}
		var d jsonDashboard
		if err := json.Unmarshal(f.Data, &d); err != nil {
			t.Fatalf("%s: %v", f.Path, err)
		}
		t.Run(d.UID, func(t *testing.T) {
			if uids[d.UID] {
				t.Errorf("uid %q used twice", d.UID)
			}
			uids[d.UID] = true
			if f.Path != d.UID+".json" {
				t.Errorf("file %s holds uid %s", f.Path, d.UID)
			}
			if !slices.Contains(d.Tags, GrafanaTag) {
				t.Errorf("tags %v lack %q", d.Tags, GrafanaTag)
			}
			if len(d.Links) == 0 || d.Links[0].Type != "dashboards" || !slices.Contains(d.Links[0].Tags, GrafanaTag) {
				t.Errorf("links %+v: want a dashboards link by tag %q", d.Links, GrafanaTag)
			}
			vars := map[string]string{}
			for _, v := range d.Templating.List {
				vars[v.Name] = v.Type
			}
			if vars["datasource"] != "datasource" {
				t.Errorf("variables %v: want datasource of type datasource", vars)
			}
			panels := 0
			for _, p := range d.Panels {
				if p.Type == "row" {
					continue
				}
				panels++
				where := d.UID + " / " + p.Title
				if p.Datasource == nil || p.Datasource.UID != "${datasource}" || p.Datasource.Type != "prometheus" {
					t.Errorf("%s: datasource %+v, want prometheus ${datasource}", where, p.Datasource)
				}
				if p.Type != "text" && p.FieldConfig.Defaults.Unit == "" {
					t.Errorf("%s: no unit", where)
				}
				if p.Type == "timeseries" || p.Type == "piechart" {
					if p.Options.Legend == nil || !p.Options.Legend.ShowLegend {
						t.Errorf("%s: legend off", where)
					}
					if p.Options.Tooltip == nil || p.Options.Tooltip.Mode == "none" {
						t.Errorf("%s: tooltip off", where)
					}
				}
				exprs := 0
				for _, tg := range p.Targets {
					if tg.Datasource == nil || tg.Datasource.UID != "${datasource}" {
						t.Errorf("%s %s: query datasource %+v", where, tg.RefID, tg.Datasource)
					}
					if strings.TrimSpace(tg.Expr) == "" {
						continue
					}
					exprs++
					for _, m := range variableRe.FindAllStringSubmatch(tg.Expr, -1) {
						if !strings.HasPrefix(m[1], "__") && vars[m[1]] == "" {
							t.Errorf("%s %s: $%s is not a variable of the dashboard", where, tg.RefID, m[1])
						}
					}
					rest := tg.Expr
					for _, r := range recordingRe.FindAllString(tg.Expr, -1) {
						if !recordings[r] {
							t.Errorf("%s %s: %s is no recording rule", where, tg.RefID, r)
						}
						rest = strings.ReplaceAll(rest, r, "")
					}
					for _, n := range metricRe.FindAllString(rest, -1) {
						if !known[n] {
							t.Errorf("%s %s: %s is not in metrics.Catalog", where, tg.RefID, n)
						}
					}
					// '*' totals (the deprecated rows of SLE, SLE attainment
					// and the window summary): a selector pins or excludes them.
					for _, m := range selectorRe.FindAllStringSubmatch(rest, -1) {
						def, ok := byName[m[1]]
						if !ok {
							continue
						}
						if def.Deprecated != "" {
							t.Errorf("%s %s: %s is deprecated, use %s", where, tg.RefID, def.FQName(), def.Deprecated)
						}
						// Every selector names the installation.
						if !strings.Contains(m[2], `job="throughline",job="$job",instance="$instance"`) {
							t.Errorf("%s %s: %s does not select the installation", where, tg.RefID, m[0])
						}
						if def.Name != metrics.SLE.Name && def.Name != metrics.SLEAttainment.Name {
							continue
						}
						for _, l := range []string{"team", "work_class"} {
							pinned := regexp.MustCompile(`\b` + l + `="[^"*]*"`).MatchString(m[2])
							if !pinned && !strings.Contains(m[2], l+`!="*"`) {
								t.Errorf("%s %s: %s neither excludes nor pins the %s totals", where, tg.RefID, m[0], l)
							}
						}
					}
				}
				if exprs == 0 {
					t.Errorf("%s: no query with an expression", where)
				}
			}
			if panels == 0 {
				t.Error("no panels")
			}
		})
	}
	want := []string{CapacityUID, DeliveryUID, PipelineUID, PortfolioUID, TeamFlowUID}
	var got []string
	for u := range uids {
		got = append(got, u)
	}
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dashboards (-want +got):\n%s", diff)
	}
}

func TestGrafanaProvisioning(t *testing.T) {
	files, err := GrafanaFiles(defaults)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range files {
		got[f.Path] = string(f.Data)
	}
	for path, want := range map[string][]string{
		filepath.Join("provisioning", "datasources.yml"): {"type: prometheus", "uid: " + DatasourceUID, "url: " + PrometheusURL},
		filepath.Join("provisioning", "dashboards.yml"):  {"type: file", "path: " + GrafanaDashboardsPath, "folder: " + GrafanaFolder},
	} {
		var doc map[string]any
		if err := yaml.Unmarshal([]byte(got[path]), &doc); err != nil || doc["apiVersion"] != 1 {
			t.Errorf("%s: apiVersion %v, error %v", path, doc["apiVersion"], err)
		}
		for _, w := range want {
			if !strings.Contains(got[path], w) {
				t.Errorf("%s lacks %q:\n%s", path, w, got[path])
			}
		}
	}
}

// recordingUnit is the dimension of a recording rule's values: the metric
// it aggregates, or a ratio.
func recordingUnit(name string) string {
	parts := strings.Split(name, ":")
	if parts[2] == "ratio" {
		return metrics.UnitRatio
	}
	for _, d := range metrics.Catalog {
		if d.FQName() == parts[1] || d.FQName() == parts[1]+"_total" {
			if d.Unit == metrics.UnitBool && parts[2] == "sum" {
				return metrics.UnitCount // a state set summed: how many
			}
			return d.Unit
		}
	}
	return ""
}

// TestPanelUnits checks every panel's (and table column's) unit against
// the dimension of the metrics its query reads (metrics.Def.Unit): counts
// short, durations s or dtdurations, ratios percentunit, person-seconds
// only as person-hours (divided by 3600, never a time unit), calendar dates
// as dates shifted to noon, instants as date-times; and every unit that
// takes decimals has them set.
func TestPanelUnits(t *testing.T) {
	files, err := GrafanaFiles(defaults)
	if err != nil {
		t.Fatal(err)
	}
	unitOf := map[string]string{}
	for _, d := range metrics.Catalog {
		unitOf[d.FQName()] = d.Unit
		switch d.Kind {
		case "histogram":
			unitOf[d.FQName()+"_bucket"] = metrics.UnitCount
		case "summary":
			unitOf[d.FQName()+"_count"] = metrics.UnitCount
		}
	}
	nameRe := regexp.MustCompile(`\b[a-z_]+:` + metrics.Namespace + `_[a-z0-9_]+:[a-z0-9_]+|\b` + metrics.Namespace + `_[a-z0-9_]+`)
	shift := regexp.MustCompile(`\+ \d+\) \* 1000$`)
	checked := 0
	for _, f := range files {
		if filepath.Ext(f.Path) != ".json" {
			continue
		}
		var d jsonDashboard
		if err := json.Unmarshal(f.Data, &d); err != nil {
			t.Fatal(err)
		}
		for _, p := range d.Panels {
			if p.Type == "row" {
				continue
			}
			where := d.UID + " / " + p.Title
			fieldUnit := map[string]string{}
			for _, o := range p.FieldConfig.Overrides {
				for _, prop := range o.Properties {
					if prop.ID == "unit" && o.Matcher.ID == "byName" {
						fieldUnit[o.Matcher.Options] = prop.Value.(string)
					}
				}
			}
			excluded := map[string]bool{}
			for _, tr := range p.Transformations {
				if ex, ok := tr.Options["excludeByName"].(map[string]any); tr.ID == "organize" && ok {
					for k := range ex {
						excluded[k] = true
					}
				}
			}
			if _, ok := decimals(p.FieldConfig.Defaults.Unit); ok && p.FieldConfig.Defaults.Decimals == nil {
				t.Errorf("%s: unit %s without decimals", where, p.FieldConfig.Defaults.Unit)
			}
			for _, tg := range p.Targets {
				field := "Value #" + tg.RefID
				if len(p.Targets) == 1 {
					field = "Value"
				}
				if excluded[field] || strings.HasPrefix(tg.Expr, "ALERTS{") {
					continue // a table's label columns; the alert list
				}
				unit := p.FieldConfig.Defaults.Unit
				if u, ok := fieldUnit[field]; ok {
					unit = u
				}
				dims := map[string]bool{}
				for _, n := range nameRe.FindAllString(tg.Expr, -1) {
					u := unitOf[n]
					if strings.Contains(n, ":") {
						u = recordingUnit(n)
					}
					if u == "" {
						t.Errorf("%s %s: no unit known for %s", where, tg.RefID, n)
					}
					if u != metrics.UnitInfo && u != metrics.UnitBool {
						dims[u] = true
					}
				}
				var want []string
				switch {
				case dims[metrics.UnitPersonSeconds]:
					want = []string{unitPersonHours}
					if !strings.HasSuffix(tg.Expr, ") / 3600") {
						t.Errorf("%s %s: person-seconds not turned into person-hours: %s", where, tg.RefID, tg.Expr)
					}
				case strings.HasPrefix(tg.Expr, "time() - "):
					want = []string{unitDuration, unitSeconds}
				case dims[metrics.UnitDate] && strings.HasSuffix(tg.Expr, " * 1000"):
					want = []string{unitDate}
					if !shift.MatchString(tg.Expr) {
						t.Errorf("%s %s: a date not shifted to noon: %s", where, tg.RefID, tg.Expr)
					}
				case dims[metrics.UnitTimestamp] && strings.HasSuffix(tg.Expr, " * 1000"):
					want = []string{unitTime}
				case strings.HasPrefix(tg.Expr, "count(") || strings.Contains(tg.Expr, "changes("):
					want = []string{unitCount}
				case len(dims) == 1 && dims[metrics.UnitCount] && strings.Contains(tg.Expr, ") / (sum("):
					want = []string{unitRatio} // a share of counts
				case len(dims) == 1 && dims[metrics.UnitCount]:
					want = []string{unitCount}
				case len(dims) == 1 && dims[metrics.UnitRatio]:
					want = []string{unitRatio}
				case len(dims) == 1 && (dims[metrics.UnitSeconds] || dims[metrics.UnitDate]):
					want = []string{unitSeconds, unitDuration} // a duration, or a difference of dates
				case len(dims) == 0:
					want = []string{unitNone} // states and up/down
				default:
					t.Errorf("%s %s: mixes dimensions %v: %s", where, tg.RefID, dims, tg.Expr)
					continue
				}
				checked++
				if !slices.Contains(want, unit) {
					t.Errorf("%s %s: unit %q, want one of %q for %s", where, tg.RefID, unit, want, tg.Expr)
				}
			}
		}
	}
	if checked < 80 {
		t.Errorf("only %d queries checked", checked)
	}
}

// The histogram panel's display names match the le values Prometheus
// stores from a text scrape (86400, 1.1232e+06) and from OpenMetrics
// (86400.0); cmd/throughline's end-to-end test reads them from a real one.
func TestHistogramOverrides(t *testing.T) {
	ds := parsedBoards(t)
	var regexps []*regexp.Regexp
	for _, d := range ds {
		for _, p := range d.Panels {
			if !strings.Contains(p.Title, "counted in range") || d.UID != TeamFlowUID {
				continue
			}
			for _, o := range p.FieldConfig.Overrides {
				if o.Matcher.ID == "byRegexp" {
					regexps = append(regexps, regexp.MustCompile(o.Matcher.Options))
				}
			}
		}
	}
	les := map[string]bool{"+Inf": true}
	for _, d := range metrics.CycleBucketsDays {
		les[LeValue(d*86400)] = true
		om := LeValue(d * 86400)
		if !strings.ContainsAny(om, ".e") {
			om += ".0"
		}
		les[om] = true
	}
	for le := range les {
		n := 0
		for _, re := range regexps {
			if re.MatchString(le) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("le %q matches %d display-name overrides, want 1", le, n)
		}
	}
	if got := LeValue(13 * 86400); got != "1.1232e+06" {
		t.Errorf("LeValue(13 days) = %q, want 1.1232e+06 (client_golang's text format)", got)
	}
}

// The project variable shows a project's name and selects its key, from a
// line of query_result as Grafana gets it (labels sorted by name).
func TestProjectVariableRegex(t *testing.T) {
	re := regexp.MustCompile(strings.Trim(ProjectVariableRegex, "/"))
	line := `{instance="127.0.0.1:9187",job="throughline",project="1201234567890",project_name="Help desk"} 1 1764000000000`
	m := re.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("%s does not match %s", ProjectVariableRegex, line)
	}
	got := map[string]string{"value": m[re.SubexpIndex("value")], "text": m[re.SubexpIndex("text")]}
	if diff := cmp.Diff(map[string]string{"value": "1201234567890", "text": "Help desk"}, got); diff != "" {
		t.Errorf("project variable (-want +got):\n%s", diff)
	}
}

// Every dashboard selects one installation (no All), has the config's
// zone and lists the teams of the config (team_info), not only those with
// a WIP limit.
func TestGrafanaVariables(t *testing.T) {
	for _, d := range parsedBoards(t) {
		if d.Timezone != "UTC" {
			t.Errorf("%s: timezone %q, want the config's (UTC)", d.UID, d.Timezone)
		}
		vars := map[string]string{}
		for _, v := range d.Templating.List {
			q, _ := v.Query.(string)
			vars[v.Name] = q
			if (v.Name == "job" || v.Name == "instance") && (v.Multi || v.IncludeAll) {
				t.Errorf("%s: variable %s is multi-value: two installations would add up", d.UID, v.Name)
			}
		}
		if want := `label_values(throughline_build_info{job="throughline",job="$job"}, instance)`; vars["instance"] != want {
			t.Errorf("%s: instance variable %q, want %q", d.UID, vars["instance"], want)
		}
		if q, ok := vars["team"]; ok && !strings.Contains(q, metrics.TeamInfo.FQName()) {
			t.Errorf("%s: team variable %q does not list every team", d.UID, q)
		}
		if q, ok := vars["project"]; ok && !strings.Contains(q, `team=~"$team"`) {
			t.Errorf("%s: project variable %q ignores the team", d.UID, q)
		}
	}
}

// parsedBoards are the dashboards for the default config, as their JSON reads.
func parsedBoards(t *testing.T) []jsonDashboard {
	t.Helper()
	boards, err := Dashboards(defaults)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(boards)
	if err != nil {
		t.Fatal(err)
	}
	var ds []jsonDashboard
	if err := json.Unmarshal(b, &ds); err != nil {
		t.Fatal(err)
	}
	return ds
}
