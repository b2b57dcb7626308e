package dashboards

//lint:file-ignore SA1019 the classic dashboard model is the one file provisioning reads (see grafana.go)

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/barchart"
	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/piechart"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/statetimeline"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/throughline/throughline/metrics"
)

// Grafana units (https://grafana.com/docs/grafana/latest/panels-visualizations/configure-standard-options/#unit),
// one per dimension of the catalogue (metrics.Unit…); TestPanelUnits checks
// every panel against the metrics its queries read.
const (
	unitCount       = "short"
	unitSeconds     = "s"           // durations in graphs
	unitDuration    = "dtdurations" // durations in stats and tables
	unitRatio       = "percentunit"
	unitPersonHours = "suffix:person-h" // capacity and load: the queries divide person-seconds by 3600
	unitDate        = "time:YYYY-MM-DD" // calendar dates: the queries shift them to noon in the dashboard's zone
	unitTime        = "dateTimeAsIso"   // instants
	unitNone        = "none"
)

// decimals is the precision a unit shows with; ok is false for units
// that format themselves (dates, durations).
func decimals(unit string) (d float64, ok bool) {
	switch unit {
	case unitCount, unitRatio, unitPersonHours, unitNone:
		return 0, true
	case unitSeconds:
		return 1, true
	}
	return 0, false
}

func ptr[T any](v T) *T { return &v }

// ds is every panel's and query's datasource: the dashboard variable.
var ds = common.DataSourceRef{Type: ptr("prometheus"), Uid: ptr("${datasource}")}

// Matchers of the template variables.
const (
	byTeam    = `team=~"$team"`
	byProject = `project=~"$project"`
	bySource  = `source=~"$source"`
)

// boards builds the dashboards of one config: its selectors carry the
// config's selector and the instance variables, its aggregations keep the
// instance labels (so one installation never adds up with another).
type boards struct {
	gen
	rec RuleFile
	// dateShift turns a date's midnight UTC into noon of that date in the
	// dashboards' zone, so it shows as that date there.
	dateShift int64
}

func newBoards(c Config) boards {
	b := boards{gen: ruleGen(c), rec: Recording(c)}
	for _, l := range c.InstanceLabels {
		b.extra = append(b.extra, l+`="$`+l+`"`)
	}
	_, off := time.Date(2024, time.January, 15, 12, 0, 0, 0, c.location()).Zone()
	b.dateShift = int64(12*3600 - off)
	return b
}

// recorded is the recording rule ending in suffix, with the instance
// variables and matchers.
func (b boards) recorded(suffix string, matchers ...string) string {
	var names []string
	for _, r := range b.rec.Rules() {
		if strings.HasSuffix(r.Record, suffix) {
			names = append(names, r.Record)
		}
	}
	if len(names) != 1 {
		panic(fmt.Sprintf("dashboards: recording rules ending in %q: %v", suffix, names))
	}
	var ms []string
	for _, l := range b.c.InstanceLabels {
		ms = append(ms, l+`="$`+l+`"`)
	}
	return names[0] + "{" + strings.Join(append(ms, matchers...), ",") + "}"
}

// date is a date-valued query shifted for unitDate, in milliseconds.
func (b boards) date(expr string) string {
	return "(" + expr + " + " + strconv.FormatInt(b.dateShift, 10) + ") * 1000"
}

// hours turns person-seconds into person-hours (unitPersonHours).
func hours(expr string) string { return "(" + expr + ") / 3600" }

// daily reads a gauge through last_over_time over a day: backfilled
// history has one sample a day, which an instant selector sees for 5
// minutes only.
func daily(expr string) string { return "last_over_time(" + expr + "[1d])" }

// teamOf keeps the milestones of the selected teams (throughline_milestone_info).
func (b boards) teamOf(expr string) string {
	return "(" + expr + " and " + b.on("project", "milestone") + " " + b.sel(metrics.MilestoneInfo, byTeam) + ")"
}

// q is a query, its legend and its format (empty: time series).
type q struct {
	expr   string
	legend string
	format prometheus.PromQueryFormat
}

// target builds query i (refId A, B, …).
func target(i int, x q, instant bool) cog.Builder[variants.Dataquery] {
	t := prometheus.NewDataqueryBuilder().
		Datasource(ds).
		RefId(string(rune('A' + i))).
		Expr(x.expr).
		LegendFormat(x.legend)
	if instant {
		t.Instant()
	} else {
		t.Range()
	}
	if x.format != "" {
		t.Format(x.format)
	}
	return t
}

func legendOn() *common.VizLegendOptionsBuilder {
	return common.NewVizLegendOptionsBuilder().
		ShowLegend(true).
		DisplayMode(common.LegendDisplayModeList).
		Placement(common.LegendPlacementBottom)
}

func tooltipOn() *common.VizTooltipOptionsBuilder {
	return common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending)
}

func lastValue() *common.ReduceDataOptionsBuilder {
	return common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)
}

// steps are absolute thresholds: the first color from -Inf, then each value
// and its color.
func steps(first string, more ...any) *dashboard.ThresholdsConfigBuilder {
	s := []dashboard.Threshold{{Color: first}}
	for i := 0; i+1 < len(more); i += 2 {
		s = append(s, dashboard.Threshold{Value: ptr(more[i].(float64)), Color: more[i+1].(string)})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(s)
}

// loadBands are the allocation bands of metrics.md: < 0.6 under-loaded,
// 0.6–0.85 healthy, 0.85–1.0 warning, > 1.0 over-allocated.
func loadBands() *dashboard.ThresholdsConfigBuilder {
	return steps("blue", 0.6, "green", 0.85, "orange", 1.0, "red")
}

// unitOf sets a panel's unit and its decimals.
type unitSetter[T any] interface {
	Unit(string) T
	Decimals(float64) T
}

func withUnit[T any](p unitSetter[T], unit string) {
	p.Unit(unit)
	if d, ok := decimals(unit); ok {
		p.Decimals(d)
	}
}

// timeSeries is a range-query graph with its legend and a shared tooltip.
func timeSeries(title, desc, unit string, w, h uint32, qs ...q) *timeseries.PanelBuilder {
	p := timeseries.NewPanelBuilder().
		Title(title).Description(desc).Datasource(ds).Span(w).Height(h).
		Legend(legendOn()).Tooltip(tooltipOn()).
		LineWidth(2).FillOpacity(10).ShowPoints(common.VisibilityModeNever).
		Thresholds(steps("green"))
	withUnit(p, unit)
	for i, x := range qs {
		p.WithTarget(target(i, x, false))
	}
	return p
}

// stacked turns a time series into stacked areas.
func stacked(p *timeseries.PanelBuilder) *timeseries.PanelBuilder {
	return p.Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).FillOpacity(60).LineWidth(1)
}

// statPanel shows the last value of instant queries.
func statPanel(title, desc, unit string, w, h uint32, qs ...q) *stat.PanelBuilder {
	p := stat.NewPanelBuilder().
		Title(title).Description(desc).Datasource(ds).Span(w).Height(h).
		ReduceOptions(lastValue()).
		GraphMode(common.BigValueGraphModeNone).
		ColorMode(common.BigValueColorModeValue).
		TextMode(common.BigValueTextModeValueAndName).
		Orientation(common.VizOrientationAuto).
		Thresholds(steps("green"))
	withUnit(p, unit)
	for i, x := range qs {
		p.WithTarget(target(i, x, true))
	}
	return p
}

// barGauge shows one horizontal bar per series of instant queries.
func barGauge(title, desc, unit string, w, h uint32, qs ...q) *bargauge.PanelBuilder {
	p := bargauge.NewPanelBuilder().
		Title(title).Description(desc).Datasource(ds).Span(w).Height(h).
		ReduceOptions(lastValue()).
		DisplayMode(common.BarGaugeDisplayModeGradient).
		ValueMode(common.BarGaugeValueModeColor).
		Orientation(common.VizOrientationHorizontal).
		ShowUnfilled(true).
		Thresholds(steps("green"))
	withUnit(p, unit)
	for i, x := range qs {
		p.WithTarget(target(i, x, true))
	}
	return p
}

// pie is a donut of instant queries, with a legend of values and shares.
func pie(title, desc, unit string, w, h uint32, qs ...q) *piechart.PanelBuilder {
	p := piechart.NewPanelBuilder().
		Title(title).Description(desc).Datasource(ds).Span(w).Height(h).
		PieType(piechart.PieChartTypeDonut).
		ReduceOptions(lastValue()).
		DisplayLabels([]piechart.PieChartLabels{piechart.PieChartLabelsPercent}).
		Legend(piechart.NewPieChartLegendOptionsBuilder().
			ShowLegend(true).
			DisplayMode(common.LegendDisplayModeTable).
			Placement(common.LegendPlacementRight).
			Values([]piechart.PieChartLegendValues{piechart.PieChartLegendValuesValue, piechart.PieChartLegendValuesPercent})).
		Tooltip(tooltipOn())
	withUnit(p, unit)
	for i, x := range qs {
		p.WithTarget(target(i, x, true))
	}
	return p
}

// weekBars is a bar chart of one instant query by week_offset (x, 0 = this
// week) and a grouping label (the stacked series).
func weekBars(title, desc string, w, h uint32, group, expr string) *barchart.PanelBuilder {
	p := barchart.NewPanelBuilder().
		Title(title).Description(desc).Datasource(ds).Span(w).Height(h).
		XField("week_offset").
		Stacking(common.StackingModeNormal).
		ShowValue(common.VisibilityModeAuto).
		Legend(legendOn()).Tooltip(tooltipOn()).
		FillOpacity(80).
		Thresholds(steps("green")).
		WithTarget(target(0, q{expr: expr, format: prometheus.PromQueryFormatTable}, true)).
		WithTransformation(dashboard.DataTransformerConfig{Id: "groupingToMatrix", Options: map[string]any{
			"columnField": group, "rowField": "week_offset", "valueField": "Value", "emptyValue": "null",
		}}).
		WithTransformation(dashboard.DataTransformerConfig{Id: "renameByRegex", Options: map[string]any{
			"regex": `^week_offset\\` + group + `$`, "renamePattern": "week_offset",
		}}).
		WithTransformation(dashboard.DataTransformerConfig{Id: "convertFieldType", Options: map[string]any{
			"conversions": []map[string]any{{"targetField": "week_offset", "destinationType": "number"}},
		}}).
		WithTransformation(dashboard.DataTransformerConfig{Id: "sortBy", Options: map[string]any{
			"sort": []map[string]any{{"field": "week_offset"}},
		}}).
		OverrideByName("week_offset", []dashboard.DynamicConfigValue{
			{Id: "displayName", Value: "weeks from now"}, {Id: "unit", Value: unitNone}, {Id: "decimals", Value: 0},
		})
	withUnit(p, unitCount)
	return p
}

// column is one instant query of a table and how its value column shows.
type column struct {
	q
	name string // header of the value column; empty hides it
	unit string
	more []dashboard.DynamicConfigValue
}

// tableOf merges instant table queries on their common labels into one
// table: label columns first (in labels order), then one value column per
// query. Overrides name the value columns ("Value #B"), so units and
// headers do not depend on transformation renames.
func tableOf(title, desc string, w, h uint32, labels []string, cols ...column) *table.PanelBuilder {
	p := table.NewPanelBuilder().
		Title(title).Description(desc).Datasource(ds).Span(w).Height(h).
		CellHeight(common.TableCellHeightSm).
		Footer(noFooter()).
		Thresholds(steps("green"))
	withUnit(p, unitNone)
	exclude := map[string]any{"Time": true}
	index := map[string]any{}
	for i, l := range labels {
		index[l] = i
	}
	for i, c := range cols {
		c.format = prometheus.PromQueryFormatTable
		p.WithTarget(target(i, c.q, true))
		field := "Value #" + string(rune('A'+i))
		if len(cols) == 1 {
			field = "Value"
		}
		if c.name == "" {
			exclude[field] = true
			continue
		}
		index[field] = len(labels) + i
		props := []dashboard.DynamicConfigValue{{Id: "displayName", Value: c.name}, {Id: "unit", Value: c.unit}}
		if d, ok := decimals(c.unit); ok {
			props = append(props, dashboard.DynamicConfigValue{Id: "decimals", Value: d})
		}
		p.OverrideByName(field, append(props, c.more...))
	}
	if len(cols) > 1 {
		p.WithTransformation(dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}})
	}
	p.WithTransformation(dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
		"excludeByName": exclude,
		"indexByName":   index,
	}})
	return p
}

func noFooter() *common.TableFooterOptionsBuilder {
	return common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{}).CountRows(false)
}

// cellColor colors a table cell by the panel's or the override's thresholds.
func cellColor(mode common.TableCellDisplayMode) dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: "custom.cellOptions", Value: map[string]any{"type": string(mode)}}
}

func thresholdsValue(t *dashboard.ThresholdsConfigBuilder) dashboard.DynamicConfigValue {
	v, err := t.Build()
	if err != nil {
		panic(err)
	}
	return dashboard.DynamicConfigValue{Id: "thresholds", Value: v}
}

func dashed() dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: "custom.lineStyle", Value: map[string]any{"fill": "dash", "dash": []int{10, 10}}}
}

func fixedColor(c string) dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": c}}
}

// fieldLinks are data links on a field (override property "links").
func fieldLinks(title, url string, newTab bool) dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: "links", Value: []map[string]any{{"title": title, "url": url, "targetBlank": newTab}}}
}

// milestoneStatusColors are the fixed colors of the milestone states, in
// the order of the status timeline's codes (1 = done …).
var milestoneStatusColors = []struct{ status, color string }{
	{"done", "blue"}, {"on_track", "green"}, {"at_risk", "orange"}, {"off_track", "red"}, {"overdue", "dark-red"},
	{"unknown", "purple"}, {"no_due_date", "text"},
}

// statusMappings show the milestone states (by name, or by the timeline's
// code) with their colors.
func statusMappings(byCode bool) []dashboard.ValueMapping {
	opts := map[string]dashboard.ValueMappingResult{}
	for i, s := range milestoneStatusColors {
		key := s.status
		if byCode {
			key = strconv.Itoa(i + 1)
		}
		opts[key] = dashboard.ValueMappingResult{Text: ptr(strings.ReplaceAll(s.status, "_", " ")), Color: ptr(s.color), Index: ptr(int32(i))}
	}
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: opts}}}
}

// statusCode is one series per milestone whose value codes its status
// (statusMappings(true)): for the status timeline.
func (b boards) statusCode(matchers ...string) string {
	var parts []string
	for i, s := range milestoneStatusColors {
		parts = append(parts, fmt.Sprintf("(%s == 1) * %d", b.sel(metrics.MilestoneStatus, append([]string{`status="` + s.status + `"`}, matchers...)...), i+1))
	}
	return "max " + b.by("project", "milestone") + " (\n  " + strings.Join(parts, "\n  or ") + "\n)"
}

// upMappings show 1/0 gauges as OK/FAILED.
func upMappings(ok, failed string) []dashboard.ValueMapping {
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: map[string]dashboard.ValueMappingResult{
		"0": {Text: ptr(failed), Color: ptr("red"), Index: ptr(int32(1))},
		"1": {Text: ptr(ok), Color: ptr("green"), Index: ptr(int32(0))},
	}}}}
}

// varParams are the URL parameters that carry the instance variables to
// another dashboard.
func (b boards) varParams() string {
	var ps []string
	for _, l := range b.c.InstanceLabels {
		ps = append(ps, "${"+l+":queryparam}")
	}
	return strings.Join(ps, "&")
}

// boardLink is a panel link to another Throughline dashboard keeping the
// time range and the installation, team and project selection.
func (b boards) boardLink(title, uid string) []cog.Builder[dashboard.DashboardLink] {
	return []cog.Builder[dashboard.DashboardLink]{dashboard.NewDashboardLinkBuilder(title).
		Type(dashboard.DashboardLinkTypeLink).
		Url("/d/" + uid + "?${__url_time_range}&" + b.varParams() + "&${team:queryparam}&${project:queryparam}")}
}

// teamLink is the data link of a series or cell with a team label: the team
// flow dashboard with that team selected.
func (b boards) teamLink() []cog.Builder[dashboard.DashboardLink] {
	return []cog.Builder[dashboard.DashboardLink]{dashboard.NewDashboardLinkBuilder("Team flow of ${__field.labels.team}").
		Type(dashboard.DashboardLinkTypeLink).
		Url("/d/" + TeamFlowUID + "?${__url_time_range}&" + b.varParams() + "&var-team=${__field.labels.team}")}
}

// statusTimeline is a state timeline of the milestones' statuses.
func (b boards) statusTimeline(title, desc string, w, h uint32) *statetimeline.PanelBuilder {
	p := statetimeline.NewPanelBuilder().
		Title(title).Description(desc).Datasource(ds).Span(w).Height(h).
		ShowValue(common.VisibilityModeNever).
		MergeValues(true).
		RowHeight(0.8).
		Legend(legendOn()).
		Mappings(statusMappings(true)).
		Thresholds(steps("text")).
		WithTarget(target(0, q{expr: b.teamOf(b.statusCode(byProject)), legend: "{{project}} {{milestone}}"}, false))
	withUnit(p, unitNone)
	return p
}

// alertList is a table of the firing Throughline alerts of the
// installation (Prometheus' ALERTS series): it needs nothing but the
// datasource, unlike Grafana's alert list panel.
func (b boards) alertList(title string, w, h uint32, matchers ...string) *table.PanelBuilder {
	ms := append([]string{`alertname=~"Throughline.*"`, `alertstate="firing"`}, matchers...)
	for _, l := range b.c.InstanceLabels {
		ms = append(ms, l+`="$`+l+`"`)
	}
	p := table.NewPanelBuilder().
		Title(title).
		Description("Throughline alerts firing now in this Prometheus (its ALERTS series), with their labels; the runbook of each is docs/runbooks/<alertname>.md.").
		Datasource(ds).Span(w).Height(h).
		CellHeight(common.TableCellHeightSm).
		Footer(noFooter()).
		NoValue("no alert firing").
		WithTarget(target(0, q{expr: "ALERTS{" + strings.Join(ms, ",") + "}", format: prometheus.PromQueryFormatTable}, true)).
		WithTransformation(dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
			"excludeByName": map[string]any{"Time": true, "Value": true, "__name__": true, "alertstate": true},
			"indexByName":   map[string]any{"alertname": 0, "severity": 1},
		}}).
		OverrideByName("alertname", []dashboard.DynamicConfigValue{
			{Id: "displayName", Value: "Alert"},
			fieldLinks("Runbook", strings.TrimSuffix(b.c.RunbookBaseURL, "/")+"/${__value.raw}.md", true),
		})
	withUnit(p, unitNone)
	return p
}

// labelVariable is a multi-value variable over a label's values, All
// included (the regex .*), limited to the selected installation.
func (b boards) labelVariable(name string) *dashboard.QueryVariableBuilder {
	var query, regex string
	switch name {
	case "team":
		query = "label_values(" + b.sel(metrics.TeamInfo) + ", team)"
	case "project":
		// Value the key, text the name (an Asana project's key is its gid).
		query = "query_result(max " + b.by("project", "project_name") + " (" + b.sel(metrics.ProjectInfo, byTeam) + "))"
		regex = ProjectVariableRegex
	case "source":
		query = "label_values(" + b.sel(metrics.Up) + ", source)"
	case "milestone":
		query = "label_values(" + b.sel(metrics.MilestoneInfo, byTeam, byProject) + ", milestone)"
	default:
		panic("dashboards: no variable " + name)
	}
	all := dashboard.VariableOption{
		Text:  dashboard.StringOrArrayOfString{ArrayOfString: []string{"All"}},
		Value: dashboard.StringOrArrayOfString{ArrayOfString: []string{"$__all"}},
	}
	v := dashboard.NewQueryVariableBuilder(name).
		Label(strings.ToUpper(name[:1]) + name[1:]).
		Query(dashboard.StringOrMap{String: &query}).
		Definition(query).
		Datasource(ds).
		Multi(true).
		IncludeAll(true).
		AllValue(".*").
		Current(all).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc)
	if regex != "" {
		v.Regex(regex)
	}
	return v
}

// ProjectVariableRegex takes the project variable's value (the key) and
// text (the name) from a query_result line of throughline_project_info.
const ProjectVariableRegex = `/project="(?<value>[^"]*)",project_name="(?<text>[^"]*)"/`

// instanceVariable selects one installation by one of its instance labels
// (no All: two installations never add up), each limited by the ones before.
func (b boards) instanceVariable(i int) *dashboard.QueryVariableBuilder {
	l := b.c.InstanceLabels[i]
	ms := []string{}
	if b.c.Selector != "" {
		ms = append(ms, b.c.Selector)
	}
	for _, prev := range b.c.InstanceLabels[:i] {
		ms = append(ms, prev+`="$`+prev+`"`)
	}
	query := "label_values(" + metrics.BuildInfo.FQName() + "{" + strings.Join(ms, ",") + "}, " + l + ")"
	return dashboard.NewQueryVariableBuilder(l).
		Label(strings.ToUpper(l[:1]) + l[1:]).
		Query(dashboard.StringOrMap{String: &query}).
		Definition(query).
		Datasource(ds).
		Multi(false).
		IncludeAll(false).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc)
}

// newBoard starts a dashboard: datasource and instance variables, then the
// named ones; the config's zone; links to the other dashboards.
func (b boards) newBoard(uid, title, desc string, vars ...string) *dashboard.DashboardBuilder {
	d := dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description(desc).
		Tags([]string{GrafanaTag}).
		Editable().
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Time("now-30d", "now").
		Refresh("5m").
		Timezone(b.c.Timezone).
		WeekStart("monday").
		Link(dashboard.NewDashboardLinkBuilder("Throughline").
			Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{GrafanaTag}).
			AsDropdown(false).
			IncludeVars(true).
			KeepTime(true)).
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").
			Label("Data source").
			Type("prometheus").
			Current(dashboard.VariableOption{
				Text:  dashboard.StringOrArrayOfString{String: ptr(DatasourceName)},
				Value: dashboard.StringOrArrayOfString{String: ptr(DatasourceUID)},
			}))
	for i := range b.c.InstanceLabels {
		d.WithVariable(b.instanceVariable(i))
	}
	for _, v := range vars {
		d.WithVariable(b.labelVariable(v))
	}
	return d
}

// annotation is a Prometheus annotation of the dashboard: a marker where
// expr has a sample.
func annotation(name, color, expr, title, text, tags string) cog.Builder[dashboard.AnnotationQuery] {
	return dashboard.NewAnnotationQueryBuilder().
		Name(name).
		Datasource(ds).
		Enable(true).
		IconColor(color).
		Expr(expr).
		Step("5m").
		TitleFormat(title).
		TextFormat(text).
		TagKeys(tags)
}

// Annotations shared by the dashboards.
func (b boards) dueDateMoves() cog.Builder[dashboard.AnnotationQuery] {
	due := b.sel(metrics.MilestoneDue, byProject)
	return annotation("Due-date moves", "orange",
		b.teamOf("changes("+due+"[10m]) > 0"),
		"Due date of {{milestone}} moved", "{{project}} {{milestone}}", "project,milestone")
}

func (b boards) releases() cog.Builder[dashboard.AnnotationQuery] {
	done := b.sel(metrics.MilestoneStatus, byProject, `status="done"`)
	return annotation("Releases", "blue",
		b.teamOf("("+done+" == 1) and changes("+done+"[10m]) > 0"),
		"{{milestone}} done", "{{project}} {{milestone}}: all scope complete", "project,milestone")
}

func (b boards) syncs() cog.Builder[dashboard.AnnotationQuery] {
	return annotation("Syncs", "green",
		"changes("+b.sel(metrics.SyncLastSuccess)+"[10m]) > 0",
		"Sync of {{source}}", "{{source}} synced", "source")
}

// build finishes a dashboard: panel ids in order, links above the panels.
func build(d *dashboard.DashboardBuilder) (dashboard.Dashboard, error) {
	out, err := d.Build()
	if err != nil {
		return out, err
	}
	for i := range out.Panels {
		switch p := out.Panels[i]; {
		case p.Panel != nil:
			p.Panel.Id = ptr(uint32(i + 1))
		case p.RowPanel != nil:
			p.RowPanel.Id = uint32(i + 1)
		}
	}
	for i := range out.Links {
		out.Links[i].Placement = nil
	}
	return out, nil
}

// Dashboards builds the five Grafana dashboards for c: portfolio, team
// flow, delivery, capacity and pipeline health.
func Dashboards(c Config) ([]dashboard.Dashboard, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("build dashboards: %w", err)
	}
	b := newBoards(c)
	var out []dashboard.Dashboard
	var errs []error
	for _, d := range []*dashboard.DashboardBuilder{b.portfolio(), b.teamFlow(), b.delivery(), b.capacity(), b.pipeline()} {
		built, err := build(d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, built)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("build dashboards: %w", err)
	}
	return out, nil
}

// LeValue is the le label of a histogram bucket as client_golang exposes
// it in the text format (what Prometheus 2 stores from a text scrape); in
// OpenMetrics a whole number gets ".0". leRegexp matches both.
func LeValue(seconds float64) string { return strconv.FormatFloat(seconds, 'g', -1, 64) }

func leRegexp(seconds float64) string {
	le := LeValue(seconds)
	if strings.ContainsAny(le, ".e") {
		return "^" + regexp.QuoteMeta(le) + "$"
	}
	return "^" + regexp.QuoteMeta(le) + `(\.0)?$`
}
