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
