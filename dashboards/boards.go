package dashboards

//lint:file-ignore SA1019 the classic dashboard model is the one file provisioning reads (see grafana.go)

import (
	"fmt"
	"strconv"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/table"

	"github.com/throughline/throughline/metrics"
)

// Stable dashboard UIDs: links and bookmarks survive regeneration.
const (
	PortfolioUID = "throughline-portfolio"
	TeamFlowUID  = "throughline-team-flow"
	DeliveryUID  = "throughline-delivery"
	CapacityUID  = "throughline-capacity"
	PipelineUID  = "throughline-pipeline"
)

// Recording rules of rules.go the dashboards read.
var (
	recCompleted1w    = ":" + metrics.Namespace + "_items_completed:increase1w"
	recWIP            = ":" + metrics.WIPItems.FQName() + ":sum"
	recWIPLoad        = ":" + metrics.Namespace + "_wip_load:ratio"
	recPlannedLoad    = ":" + metrics.PlannedLoad.FQName() + ":sum"
	recClassAlloc     = ":" + metrics.Namespace + "_allocation:ratio"
	recCapacityNext4w = ":" + metrics.CapacitySeconds.FQName() + ":sum_next4w"
	recMilestones     = ":" + metrics.MilestoneStatus.FQName() + ":sum"
)

var quantiles = []string{"0.5", "0.7", "0.85", "0.95"}

func pName(quantile string) string {
	f, _ := strconv.ParseFloat(quantile, 64)
	return "P" + metrics.Percentile(f)
}

// lastWeeks are the week_offset values of the last four complete weeks.
const lastWeeks = `week_offset=~"-1|-2|-3|-4"`

// portfolio is the leadership overview.
func (b boards) portfolio() *dashboard.DashboardBuilder {
	tp := func(matchers ...string) string {
		return b.sel(metrics.ThroughputWeekly, append([]string{byTeam, byProject}, matchers...)...)
	}
	completed := b.sel(metrics.ItemsCompleted, byTeam, byProject)
	byStatus := pie("Milestones by status",
		"Milestones with their current status (metrics.md \"Status\"); done milestones stay listed for 30 days after completion.",
		unitCount, 8, 10,
		q{expr: "sum by (status) (" + b.recorded(recMilestones, byProject) + ")", legend: "{{status}}"}).
		Links(b.boardLink("Delivery", DeliveryUID))
	for _, s := range milestoneStatusColors {
		byStatus.OverrideByName(s.status, []dashboard.DynamicConfigValue{fixedColor(s.color)})
	}

	return b.newBoard(PortfolioUID, "Throughline / Portfolio",
		"Leadership overview: delivery trend, milestones against their due dates, teams over capacity, and the project/operational mix.",
		"team", "project").
		Annotation(b.dueDateMoves()).
		Annotation(b.releases()).
		WithRow(dashboard.NewRowBuilder("Summary")).
		WithPanel(statPanel("Items completed, last 4 weeks",
			"Completed, non-discarded items in the last four complete ISO weeks, by the date they finished (throughput_weekly): a later discard or move changes it, a reopened item counts once.",
			unitCount, 6, 4,
			q{expr: "sum(" + tp(lastWeeks) + ")", legend: "completed"})).
		WithPanel(statPanel("Milestones at risk, off track or overdue",
			"Open milestones whose forecast P85 date is after the due date, or whose due date has passed (teams and projects as selected).",
			unitCount, 6, 4,
			q{expr: "count(" + b.teamOf(b.sel(metrics.MilestoneStatus, byProject, `status=~"at_risk|off_track|overdue"`)+" == 1") + ") or vector(0)", legend: "milestones"}).
			Thresholds(steps("green", 1.0, "orange")).
			Links(b.boardLink("Delivery", DeliveryUID))).
		WithPanel(statPanel("Teams over capacity",
			"Teams whose planned load over the next 5 working days exceeds their capacity (rolling-week allocation above 100%).",
			unitCount, 6, 4,
			q{expr: "count(" + b.sel(metrics.AllocationRollingWeek, byTeam) + " > 1) or vector(0)", legend: "teams"}).
			Thresholds(steps("green", 1.0, "red")).
			Links(b.boardLink("Capacity", CapacityUID))).
		WithPanel(statPanel("Project share of completions, last 4 weeks",
			"Share of the items completed in the last four complete weeks that were project work; no value when nothing was completed.",
			unitRatio, 6, 4,
			q{expr: "sum(" + tp(lastWeeks, `work_class="project"`) + ") / (sum(" + tp(lastWeeks) + ") > 0)", legend: "project share"}).
			NoValue("no completions")).
		WithRow(dashboard.NewRowBuilder("Delivery trend")).
		WithPanel(weekBars("Items completed per ISO week, by project",
			"Throughput: completed, non-discarded items by the ISO week they finished (0 = this week so far), the same numbers as the warehouse table throughput_weekly.",
			16, 8, "project", "sum "+b.by("week_offset", "project")+" ("+tp()+")")).
		WithPanel(timeSeries("Cycle time P85 by team (trailing window)",
			"85th percentile of cycle time over each team's items finished in the trailing window (metrics.window_days), all work classes.",
			unitSeconds, 8, 8,
			q{expr: daily(b.sel(metrics.TeamCycleTimeWindowPercentile, byTeam, `percentile="85"`)), legend: "{{team}}"}).
			DataLinks(b.teamLink())).
		WithRow(dashboard.NewRowBuilder("Milestones")).
		WithPanel(b.milestoneTable("Milestones: status and forecast vs due date",
			"Each open milestone (and each done in the last 30 days) of the selected teams: status, due date, Monte Carlo forecast at 85% confidence, slip, on-time probability and remaining scope. The milestone links to it at its source.",
			16, 10, false)).
		WithPanel(byStatus).
		WithPanel(b.statusTimeline("Milestone status over time",
			"Each milestone's status as computed over time: how at-risk work moved between on track, at risk and off track.", 24, 8)).
		WithRow(dashboard.NewRowBuilder("Capacity and work mix")).
		WithPanel(barGauge("Allocation, next 5 working days",
			"Planned load over capacity for the next 5 working days, overdue work included (metrics.md bands: under 60% under-loaded, 85–100% warning, over 100% over-allocated).",
			unitRatio, 8, 8,
			q{expr: "max " + b.by("team") + " (" + b.sel(metrics.AllocationRollingWeek, byTeam) + ")", legend: "{{team}}"}).
			Thresholds(loadBands()).Min(0).
			DataLinks(b.teamLink())).
		WithPanel(barGauge("Logged utilization, last complete week",
			"Worklog hours over capacity in the last complete week.",
			unitRatio, 8, 8,
			q{expr: "max " + b.by("team") + " (" + b.sel(metrics.LoggedUtilization, byTeam) + ")", legend: "{{team}}"}).
			Thresholds(loadBands()).Min(0)).
		WithPanel(pie("Project vs operational: completions, last 4 weeks",
			"Completed items of the last four complete weeks by work class (project, operational, unclassified).",
			unitCount, 8, 8,
			q{expr: "sum by (work_class) (" + tp(lastWeeks) + ")", legend: "{{work_class}}"})).
		WithPanel(weekBars("Project vs operational completions per ISO week",
			"Completed items by the ISO week they finished and work class: how much of the delivery is project work.",
			16, 8, "work_class", "sum "+b.by("week_offset", "work_class")+" ("+tp()+")")).
		WithPanel(pie("Project vs operational: planned load, next 6 weeks",
			"Remaining estimates of open assigned items, spread to their due dates, over the current and next 5 weeks, in person-hours.",
			unitPersonHours, 8, 8,
			q{expr: hours("sum by (work_class) (" + b.sel(metrics.PlannedLoad, byTeam) + ")"), legend: "{{work_class}}"})).
		WithRow(dashboard.NewRowBuilder("Alerts")).
		WithPanel(b.alertList("Firing alerts", 24, 6)).
		WithPanel(statPanel("Completions counted in range",
			"Completions (entries into done) Throughline counted during the time range, from the throughline_items_completed_total counter: events as they were synced, so a reopened item that completes again counts twice and a later discard takes nothing back. Throughput by completion date is the weekly chart above.",
			unitCount, 24, 4,
			q{expr: "sum(increase(" + completed + "[$__range]))", legend: "counted"}))
}

// milestoneTable is the table of milestones with status, dates and links.
func (b boards) milestoneTable(title, desc string, w, h uint32, allForecasts bool) *table.PanelBuilder {
	per := func(d metrics.Def, matchers ...string) string {
		return b.teamOf("max " + b.by("project", "milestone") + " (" + b.sel(d, append([]string{byProject}, matchers...)...) + ")")
	}
	ratioCell := []dashboard.DynamicConfigValue{cellColor(common.TableCellDisplayModeColorBackground), thresholdsValue(steps("red", 0.5, "orange", 0.85, "green"))}
	cols := []column{
		{q: q{expr: "max " + b.by("project", "milestone", "team", "url") + " (" + b.sel(metrics.MilestoneInfo, byTeam, byProject) + ")"}},
		{q: q{expr: "max " + b.by("project", "milestone", "status") + " (" + b.teamOf(b.sel(metrics.MilestoneStatus, byProject)+" == 1") + ")"}},
		{q: q{expr: per(metrics.MilestoneRemaining)}, name: "Remaining", unit: unitCount},
	}
	if allForecasts {
		cols = append(cols, column{q: q{expr: b.date(per(metrics.MilestoneBaselineDue))}, name: "Baseline due", unit: unitDate})
	}
	cols = append(cols, column{q: q{expr: b.date(per(metrics.MilestoneDue))}, name: "Due", unit: unitDate})
	fc := []string{"0.85"}
	if allForecasts {
		fc = quantiles
	}
	for _, c := range fc {
		cols = append(cols, column{q: q{expr: b.date(per(metrics.MilestoneForecast, `confidence="`+c+`"`))}, name: "Forecast " + pName(c), unit: unitDate})
	}
	cols = append(cols,
		column{q: q{expr: per(metrics.MilestoneOnTime)}, name: "On time", unit: unitRatio, more: ratioCell},
		column{q: q{expr: per(metrics.MilestoneSlip)}, name: "Slip", unit: unitDuration},
	)
	if allForecasts {
		cols = append(cols, column{q: q{expr: per(metrics.MilestoneDue) + " - " + per(metrics.MilestoneBaselineDue)}, name: "Moved since baseline", unit: unitDuration})
	}
	return tableOf(title, desc, w, h, []string{"project", "milestone", "team", "status"}, cols...).
		OverrideByName("status", []dashboard.DynamicConfigValue{
			{Id: "displayName", Value: "Status"}, {Id: "mappings", Value: statusMappings(false)}, cellColor(common.TableCellDisplayModeColorText),
		}).
		OverrideByName("milestone", []dashboard.DynamicConfigValue{
			{Id: "displayName", Value: "Milestone"}, fieldLinks("Open ${__data.fields.milestone} at its source", "${__data.fields.url}", true),
		}).
		OverrideByName("team", []dashboard.DynamicConfigValue{
			{Id: "displayName", Value: "Team"},
			fieldLinks("Team flow of ${__value.raw}", "/d/"+TeamFlowUID+"?${__url_time_range}&"+b.varParams()+"&var-team=${__value.raw}", false),
		}).
		OverrideByName("url", []dashboard.DynamicConfigValue{{Id: "custom.hidden", Value: true}})
}

// teamFlow is the Kanban view: an overview of the selected teams, then a
// row per team (repeated over the team variable).
func (b boards) teamFlow() *dashboard.DashboardBuilder {
	one := `team="$team"`
	completed := func(d metrics.Def) string { return b.sel(d, one, byProject) }

	var percentiles, leadPercentiles []q
	for _, p := range quantiles {
		f, _ := strconv.ParseFloat(p, 64)
		percentiles = append(percentiles, q{
			expr:   daily(b.sel(metrics.TeamCycleTimeWindowPercentile, one, `percentile="`+metrics.Percentile(f)+`"`)),
			legend: pName(p),
		})
		leadPercentiles = append(leadPercentiles, q{
			expr:   daily(b.sel(metrics.TeamLeadTimeWindowPercentile, one, `percentile="`+metrics.Percentile(f)+`"`)),
			legend: pName(p),
		})
	}
	dist := barGauge("Cycle-time distribution (trailing window)",
		"Items finished in the trailing window by cycle time: at most 1, 2, 3, 5, 8, 13, 21, 34, 55, 89 days, and all of them (cumulative), all work classes.",
		unitCount, 12, 8,
		q{expr: "sum by (max_days) (" + b.sel(metrics.CycleTimeWindowDistribution, one) + ")", legend: "{{max_days}}"}).
		Orientation(common.VizOrientationVertical).
		DisplayMode(common.BarGaugeDisplayModeBasic).
		Thresholds(steps("blue"))
	for _, d := range metrics.CycleBucketsDays {
		dist.OverrideByName(metrics.MaxDays(d), []dashboard.DynamicConfigValue{{Id: "displayName", Value: fmt.Sprintf("≤ %g d", d)}})
	}
	dist.OverrideByName("+Inf", []dashboard.DynamicConfigValue{{Id: "displayName", Value: "all"}})

	buckets := metrics.Def{Name: metrics.CycleTime.Name + "_bucket", Labels: append(append([]string{}, metrics.CycleTime.Labels...), "le")}
	histogram := barGauge("Cycle time of the completions counted in range",
		"Completions Throughline counted during the time range by cycle-time bucket (1, 2, 3, 5, 8, 13, 21, 34, 55, 89 days; cumulative), from the throughline_cycle_time_seconds histogram.",
		unitCount, 12, 8,
		q{expr: "sum by (le) (increase(" + b.sel(buckets, one) + "[$__range]))", legend: "{{le}}", format: prometheus.PromQueryFormatHeatmap}).
		Orientation(common.VizOrientationVertical).
		DisplayMode(common.BarGaugeDisplayModeBasic).
		Thresholds(steps("blue"))
	for _, d := range metrics.CycleBucketsDays {
		histogram.OverrideByRegexp(leRegexp(d*86400), []dashboard.DynamicConfigValue{{Id: "displayName", Value: fmt.Sprintf("≤ %g d", d)}})
	}
	histogram.OverrideByRegexp(`^\+Inf$`, []dashboard.DynamicConfigValue{{Id: "displayName", Value: "all"}})

	age := func(p string) string {
		return "max " + b.by("work_class") + " (" + b.sel(metrics.WIPAgePercentile, one, `percentile="`+p+`"`) + ")"
	}
	perClass := func(d metrics.Def, matchers ...string) string {
		return "max " + b.by("work_class") + " (" + b.sel(d, append([]string{one}, matchers...)...) + ")"
	}

	return b.newBoard(TeamFlowUID, "Throughline / Team flow",
		"Flow metrics per team (metrics.md \"Flow\"): throughput, cycle time, WIP against its limit, aging WIP and flow efficiency; one row per selected team. The project variable filters throughput and the counters only; the other metrics have no project label.",
		"team", "project").
		Annotation(b.syncs()).
		WithRow(dashboard.NewRowBuilder("Selected teams")).
		WithPanel(weekBars("Throughput per ISO week, by team",
			"Completed, non-discarded items by the ISO week they finished (0 = this week so far): throughput_weekly.",
			12, 8, "team", "sum "+b.by("week_offset", "team")+" ("+b.sel(metrics.ThroughputWeekly, byTeam, byProject)+")")).
		WithPanel(timeSeries("WIP vs limit",
			"Items in a started stage (active and wait, recording rule), and each team's WIP limit (dashed).",
			unitCount, 12, 8,
			q{expr: daily(b.recorded(recWIP, byTeam)), legend: "{{team}} WIP"},
			q{expr: "max " + b.by("team") + " (" + daily(b.sel(metrics.WIPLimit, byTeam)) + ")", legend: "{{team}} limit"}).
			OverrideByRegexp(" limit$", []dashboard.DynamicConfigValue{dashed()}).
			DataLinks(b.teamLink())).
		WithRow(dashboard.NewRowBuilder("Team $team").Repeat("team")).
		WithPanel(weekBars("Throughput per ISO week by work class",
			"Completed, non-discarded items of the team by the ISO week they finished and work class. Story points are never throughput.",
			8, 8, "work_class", "sum "+b.by("week_offset", "work_class")+" ("+b.sel(metrics.ThroughputWeekly, one, byProject)+")")).
		WithPanel(timeSeries("Events counted per week",
			"Items created, completed, reopened and discarded that Throughline counted in the trailing week (counters: events as synced). Completions are the recording rule.",
			unitCount, 8, 8,
			q{expr: "sum(increase(" + completed(metrics.ItemsCreated) + "[1w]))", legend: "created"},
			q{expr: "sum(" + b.recorded(recCompleted1w, one) + ")", legend: "completed"},
			q{expr: "sum(increase(" + completed(metrics.ItemsReopened) + "[1w]))", legend: "reopened"},
			q{expr: "sum(increase(" + completed(metrics.ItemsDiscarded) + "[1w]))", legend: "discarded"})).
		WithPanel(stacked(timeSeries("WIP by workflow stage",
			"Started items by stage class over time, stacked (0 when none).",
			unitCount, 8, 8,
			q{expr: "sum by (workflow_stage) (" + daily(b.sel(metrics.WIPItems, one)) + ")", legend: "{{workflow_stage}}"}))).
		WithPanel(timeSeries("Cycle-time percentiles (trailing window)",
			"Nearest-rank P50, P70, P85 and P95 of cycle time over the team's items finished in the trailing window, all work classes.",
			unitSeconds, 12, 8, percentiles...)).
		WithPanel(dist).
		WithPanel(timeSeries("Lead-time percentiles (trailing window)",
			"Nearest-rank P50, P70, P85 and P95 of lead time (created to finished) over the team's items finished in the trailing window, all work classes. Exact in every source: the delivery-time view where cycle time is missing (CSV exports have no status history).",
			unitSeconds, 12, 8, leadPercentiles...)).
		WithPanel(statPanel("Service-level expectation",
			"sle_days from config, else the window P85 of flow days, over all the team's work.",
			unitDuration, 6, 5,
			q{expr: "max " + b.by("team") + " (" + b.sel(metrics.TeamSLE, one) + ")", legend: "{{team}}"})).
		WithPanel(statPanel("SLE attainment",
			"Share of the team's window items finished within the SLE.",
			unitRatio, 6, 5,
			q{expr: "max " + b.by("team") + " (" + b.sel(metrics.TeamSLEAttainment, one) + ")", legend: "{{team}}"}).
			Thresholds(steps("red", 0.7, "orange", 0.85, "green"))).
		WithPanel(statPanel("WIP load (WIP ÷ limit)",
			"Current WIP over the WIP limit (recording rule); needs no estimates.",
			unitRatio, 6, 5,
			q{expr: b.recorded(recWIPLoad, one), legend: "{{team}}"}).
			Thresholds(loadBands())).
		WithPanel(statPanel("Items older than SLE",
			"Open started items older than the service-level expectation.",
			unitCount, 6, 5,
			q{expr: "sum(" + b.sel(metrics.WIPOverSLE, one) + ")", legend: "items"}).
			Thresholds(steps("green", 1.0, "orange"))).
		WithPanel(tableOf("Aging WIP vs SLE",
			"Age percentiles of the team's open started items by work class, against the SLE, and how many are older than it.",
			12, 8, []string{"work_class"},
			column{q: q{expr: age("50")}, name: "Age P50", unit: unitDuration},
			column{q: q{expr: age("85")}, name: "Age P85", unit: unitDuration},
			column{q: q{expr: age("95")}, name: "Age P95", unit: unitDuration},
			column{q: q{expr: perClass(metrics.SLE, `work_class!="*"`)}, name: "SLE", unit: unitDuration},
			column{q: q{expr: perClass(metrics.WIPOverSLE)}, name: "Older than SLE", unit: unitCount,
				more: []dashboard.DynamicConfigValue{cellColor(common.TableCellDisplayModeColorText), thresholdsValue(steps("green", 1.0, "orange"))}},
		)).
		WithPanel(histogram).
		WithPanel(timeSeries("Flow efficiency",
			"Active time over all started time of the items finished in the trailing window, by work class.",
			unitRatio, 12, 8,
			q{expr: "max " + b.by("work_class") + " (" + daily(b.sel(metrics.FlowEfficiency, one)) + ")", legend: "{{work_class}}"}).
			Min(0).Max(1))
}

// delivery is the milestone view.
func (b boards) delivery() *dashboard.DashboardBuilder {
	per := func(d metrics.Def, matchers ...string) string {
		return b.teamOf("max " + b.by("project", "milestone") + " (" + b.sel(d, append([]string{byProject}, matchers...)...) + ")")
	}
	perDaily := func(d metrics.Def) string {
		return b.teamOf("max " + b.by("project", "milestone") + " (" + daily(b.sel(d, byProject)) + ")")
	}
	one := []string{byProject, `milestone="$milestone"`}
	band := timeSeries("Forecast band: P50 to P95 vs due date",
		"The Monte Carlo forecast dates of milestone $milestone at 50% and 95% confidence (the band between them), P85, and the due date (dashed), as they moved with each compute.",
		unitDate, 12, 8,
		q{expr: b.date(daily(b.sel(metrics.MilestoneForecast, append(one, `confidence="0.5"`)...))), legend: "P50"},
		q{expr: b.date(daily(b.sel(metrics.MilestoneForecast, append(one, `confidence="0.95"`)...))), legend: "P95"},
		q{expr: b.date(daily(b.sel(metrics.MilestoneForecast, append(one, `confidence="0.85"`)...))), legend: "P85"},
		q{expr: b.date(daily(b.sel(metrics.MilestoneDue, one...))), legend: "due"}).
		OverrideByName("P95", []dashboard.DynamicConfigValue{{Id: "custom.fillBelowTo", Value: "P50"}, {Id: "custom.fillOpacity", Value: 25}}).
		OverrideByName("due", []dashboard.DynamicConfigValue{dashed(), fixedColor("red")})
	burnUp := timeSeries("Burn-up",
		"Scope (items in the milestone, dashed) and completed items of milestone $milestone over time: the gap is the remaining work.",
		unitCount, 12, 8,
		q{expr: daily(b.sel(metrics.MilestoneCompleted, one...)), legend: "completed"},
		q{expr: daily(b.sel(metrics.MilestoneScope, one...)), legend: "scope"}).
		OverrideByName("scope", []dashboard.DynamicConfigValue{dashed()})

	d := b.newBoard(DeliveryUID, "Throughline / Delivery",
		"Milestones (metrics.md \"Delivery\"): Monte Carlo forecast dates, on-time probability, slip and due-date changes. Milestone series exist for open milestones and for 30 days after completion.",
		"team", "project", "milestone").
		Annotation(b.dueDateMoves()).
		Annotation(b.releases()).
		WithRow(dashboard.NewRowBuilder("Forecasts")).
		WithPanel(b.milestoneTable("Milestone forecasts",
			"Forecast completion dates at 50/70/85/95% confidence (10,000 seeded trials drawing from the project's daily throughput), against the due and baseline dates. Dates are calendar dates in the config's time zone.",
			24, 10, true)).
		WithPanel(barGauge("On-time probability",
			"Share of forecast trials that finish by the due date.",
			unitRatio, 12, 8,
			q{expr: per(metrics.MilestoneOnTime), legend: "{{project}} {{milestone}}"}).
			Thresholds(steps("red", 0.5, "orange", 0.85, "green")).Min(0).Max(1)).
		WithPanel(barGauge("Slip: forecast P85 minus due date",
			"Positive: the 85% forecast date is after the due date by this much.",
			unitSeconds, 12, 8,
			q{expr: per(metrics.MilestoneSlip), legend: "{{project}} {{milestone}}"}).
			Thresholds(steps("green", 86400.0, "red"))).
		WithPanel(b.statusTimeline("Status over time",
			"Each milestone's status as computed over time.", 24, 8)).
		WithRow(dashboard.NewRowBuilder("Forecast accuracy (backtest)")).
		WithPanel(b.backtestTable()).
		WithPanel(barGauge("P85 hit rate, every project",
			"Of the forecasts re-run on the last 365 days of history (each Monday in the life of each milestone completed then), the share whose P85 date held the actual finish, per model: about 85% is well calibrated; well below, the forecasts are optimistic.",
			unitRatio, 8, 8,
			q{expr: "max " + b.by("model") + " (" + b.sel(metrics.BacktestOverallHit, `percentile="85"`) + ")", legend: "{{model}}"}).
			Thresholds(steps("red", 0.7, "orange", 0.8, "green")).Min(0).Max(1)).
		WithRow(dashboard.NewRowBuilder("Milestone $milestone").Repeat("milestone")).
		WithPanel(band).
		WithPanel(burnUp).
		WithRow(dashboard.NewRowBuilder("Over time")).
		WithPanel(timeSeries("On-time probability over time",
			"How the chance of meeting the due date moved with each compute.",
			unitRatio, 12, 8,
			q{expr: perDaily(metrics.MilestoneOnTime), legend: "{{project}} {{milestone}}"}).
			Min(0).Max(1)).
		WithPanel(timeSeries("Slip over time",
			"Forecast P85 date minus due date; a rising line is a milestone drifting late.",
			unitSeconds, 12, 8,
			q{expr: perDaily(metrics.MilestoneSlip), legend: "{{project}} {{milestone}}"})).
		WithRow(dashboard.NewRowBuilder("Due-date changes")).
		WithPanel(barGauge("Due date moved since baseline",
			"Current due date minus the first known due date (baseline variance); positive: moved later.",
			unitSeconds, 12, 8,
			q{expr: per(metrics.MilestoneDue) + " - " + per(metrics.MilestoneBaselineDue), legend: "{{project}} {{milestone}}"}).
			Thresholds(steps("green", 86400.0, "orange"))).
		WithPanel(barGauge("Due-date changes seen in range",
			"How often Prometheus saw the due date change within the time range (the annotations mark each). The full history of moves is the warehouse table milestone_due_changes (throughline sql).",
			unitCount, 12, 8,
			q{expr: b.teamOf("changes(" + b.sel(metrics.MilestoneDue, byProject) + "[$__range])"), legend: "{{project}} {{milestone}}"}).
			Thresholds(steps("green", 1.0, "orange")).Min(0))
	return d
}

// backtestTable is the forecast accuracy per project and model.
func (b boards) backtestTable() *table.PanelBuilder {
	per := func(d metrics.Def, matchers ...string) string {
		return "max " + b.by("project", "model") + " (" + b.sel(d, append([]string{byProject}, matchers...)...) + ")"
	}
	hitCell := []dashboard.DynamicConfigValue{cellColor(common.TableCellDisplayModeColorBackground), thresholdsValue(steps("red", 0.7, "orange", 0.8, "green"))}
	cols := []column{{q: q{expr: per(metrics.ForecastBacktestSample)}, name: "Checkpoints", unit: unitCount}}
	for _, pct := range []string{"50", "85", "95"} {
		c := column{q: q{expr: per(metrics.ForecastBacktestHit, `percentile="`+pct+`"`)}, name: "P" + pct + " hit rate", unit: unitRatio}
		if pct == "85" {
			c.more = hitCell
		}
		cols = append(cols, c)
	}
	cols = append(cols,
		column{q: q{expr: per(metrics.ForecastBacktestError)}, name: "Mean P85 error", unit: unitDuration},
		column{q: q{expr: per(metrics.ForecastBacktestBias)}, name: "P85 bias (late +)", unit: unitDuration})
	return tableOf("Forecast accuracy per project (backtest, last 365 days)",
		"Forecasts re-run as of each Monday in the life of each milestone completed in the last 365 days, from the completions before that Monday and the scope open at it (metrics.md \"Backtest\"), for both models: the share of checkpoints whose actual finish fell on or before the P50, P85 and P95 dates (well calibrated: about 50%, 85%, 95%), the mean absolute error of the P85 date and its bias (positive: milestones finished later than forecast). The configured model (metrics.forecast.mode) is the one the milestone forecasts use.",
		16, 8, []string{"project", "model"}, cols...).
		OverrideByName("project", []dashboard.DynamicConfigValue{{Id: "displayName", Value: "Project"}}).
		OverrideByName("model", []dashboard.DynamicConfigValue{{Id: "displayName", Value: "Model"}})
}

// capacity is the allocation and utilization view.
func (b boards) capacity() *dashboard.DashboardBuilder {
	matrix := table.NewPanelBuilder().
		Title("Allocation per team and week (planned load ÷ capacity)").
		Description("Planned load over capacity for this week and the next 5 (metrics.md bands: under 60% under-loaded, 85–100% warning, over 100% over-allocated). This week compares the whole week's capacity with the load from today on; the rolling week below does not fall through the week.").
		Datasource(ds).Span(24).Height(7).
		CellHeight(common.TableCellHeightSm).
		Footer(noFooter()).
		CellOptions(common.TableCellOptions{TableColoredBackgroundCellOptions: &common.TableColoredBackgroundCellOptions{Type: "color-background"}}).
		Thresholds(loadBands()).
		WithTarget(target(0, q{
			expr:   "max " + b.by("team", "week_offset") + " (" + b.sel(metrics.AllocationRatio, byTeam) + ")",
			format: prometheus.PromQueryFormatTable,
		}, true)).
		WithTransformation(dashboard.DataTransformerConfig{Id: "groupingToMatrix", Options: map[string]any{
			"columnField": "week_offset", "rowField": "team", "valueField": "Value", "emptyValue": "null",
		}}).
		OverrideByName("team\\week_offset", []dashboard.DynamicConfigValue{
			{Id: "displayName", Value: "Team"}, {Id: "unit", Value: unitNone}, cellColor(common.TableCellDisplayModeAuto),
			fieldLinks("Team flow of ${__value.raw}", "/d/"+TeamFlowUID+"?${__url_time_range}&"+b.varParams()+"&var-team=${__value.raw}", false),
		})
	withUnit(matrix, unitRatio)
	for w := range 6 {
		name := fmt.Sprintf("+%d weeks", w)
		switch w {
		case 0:
			name = "This week"
		case 1:
			name = "+1 week"
		}
		matrix.OverrideByName(strconv.Itoa(w), []dashboard.DynamicConfigValue{{Id: "displayName", Value: name}})
	}
	rolling := timeSeries("Allocation, next 5 working days",
		"Planned load over capacity for the next 5 working days, overdue work included (what ThroughlineTeamOverallocated watches); the dashed line is 100%.",
		unitRatio, 12, 8,
		q{expr: "max " + b.by("team") + " (" + daily(b.sel(metrics.AllocationRollingWeek, byTeam)) + ")", legend: "{{team}}"}).
		Thresholds(steps("green", b.c.AllocationRatio, "red")).
		ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashed)).
		Min(0).
		DataLinks(b.teamLink())

	return b.newBoard(CapacityUID, "Throughline / Capacity",
		"Capacity (metrics.md \"Capacity\"): planned load against capacity per team and week, in person-hours, logged utilization, WIP load, and the project capacity left once operational load is paid for.",
		"team").
		WithRow(dashboard.NewRowBuilder("Allocation")).
		WithPanel(matrix).
		WithPanel(rolling).
		WithPanel(barGauge("Allocation by work class, this week",
			"Planned load of each work class over the team's capacity this week (recording rule); the classes add up to the team's allocation.",
			unitRatio, 12, 8,
			q{expr: b.recorded(recClassAlloc, byTeam, `week_offset="0"`), legend: "{{team}} {{work_class}}"}).
			Thresholds(loadBands()).Min(0)).
		WithRow(dashboard.NewRowBuilder("Capacity and planned load")).
		WithPanel(timeSeries("Capacity vs planned load, this week",
			"Team capacity (hours per week minus time off, dashed) and the planned load of open estimated items, in person-hours.",
			unitPersonHours, 12, 8,
			q{expr: hours("max " + b.by("team") + " (" + daily(b.sel(metrics.CapacitySeconds, byTeam, `week_offset="0"`)) + ")"), legend: "{{team}} capacity"},
			q{expr: hours("sum " + b.by("team") + " (" + b.recorded(recPlannedLoad, byTeam, `week_offset="0"`) + ")"), legend: "{{team}} planned"}).
			OverrideByRegexp(" capacity$", []dashboard.DynamicConfigValue{dashed()})).
		WithPanel(barGauge("Planned load by work class, next 6 weeks",
			"Remaining estimates spread over working days to the due dates, summed over this week and the next 5, in person-hours.",
			unitPersonHours, 12, 8,
			q{expr: hours("sum " + b.by("team", "work_class") + " (" + b.sel(metrics.PlannedLoad, byTeam) + ")"), legend: "{{team}} {{work_class}}"}).
			Min(0)).
		WithRow(dashboard.NewRowBuilder("Utilization")).
		WithPanel(timeSeries("Logged utilization, last complete week",
			"Worklog hours over capacity in the last complete week, as it was each day.",
			unitRatio, 12, 8,
			q{expr: "max " + b.by("team") + " (" + daily(b.sel(metrics.LoggedUtilization, byTeam)) + ")", legend: "{{team}}"}).
			Min(0)).
		WithPanel(timeSeries("WIP load (WIP ÷ limit)",
			"Current WIP over the WIP limit (recording rule): a load signal that needs no estimates.",
			unitRatio, 12, 8,
			q{expr: b.recorded(recWIPLoad, byTeam), legend: "{{team}}"}).
			Min(0)).
		WithRow(dashboard.NewRowBuilder("Project capacity")).
		WithPanel(barGauge("Project capacity available, next 4 weeks",
			"Capacity of the next 4 weeks minus 4 × the P85 weekly operational load (trailing 8 weeks) minus planned project load, in person-hours: what a project manager can still assign.",
			unitPersonHours, 12, 8,
			q{expr: hours("max " + b.by("team") + " (" + b.sel(metrics.ProjectCapacityAvailable, byTeam) + ")"), legend: "{{team}}"}).
			Thresholds(steps("red", 0.0, "green"))).
		WithPanel(timeSeries("Project capacity available vs capacity, next 4 weeks",
			"The available project capacity and the total capacity of the next 4 weeks (dashed, recording rule), in person-hours.",
			unitPersonHours, 12, 8,
			q{expr: hours("max " + b.by("team") + " (" + b.sel(metrics.ProjectCapacityAvailable, byTeam) + ")"), legend: "{{team}} available"},
			q{expr: hours(b.recorded(recCapacityNext4w, byTeam)), legend: "{{team}} capacity"}).
			OverrideByRegexp(" capacity$", []dashboard.DynamicConfigValue{dashed()}))
}

// pipeline is the health of syncs and computes.
func (b boards) pipeline() *dashboard.DashboardBuilder {
	syncPeriod, _ := SchedulePeriod(b.c.SyncSchedule, b.c.location())
	computePeriod, _ := SchedulePeriod(b.c.ComputeSchedule, b.c.location())
	stale := func(period float64) *dashboard.ThresholdsConfigBuilder {
		// Orange after one period, red where the stale alert fires (two).
		return steps("green", period+60, "orange", 2*period, "red")
	}
	errorsBars := timeSeries("Sync errors by reason",
		"Failed syncs per rate interval, by source and reason (counters start at 0 for every reason).",
		unitCount, 12, 8,
		q{expr: "sum by (source, reason) (increase(" + b.sel(metrics.SyncErrors, bySource) + "[$__rate_interval]))", legend: "{{source}} {{reason}}"}).
		DrawStyle(common.GraphDrawStyleBars).FillOpacity(80)
	requests := stacked(timeSeries("API requests by reply code",
		"Requests to each source's API per rate interval by reply status code (error: no reply); 429 is rate limiting (ThroughlineSyncRateLimited).",
		unitCount, 12, 8,
		q{expr: "sum by (source, code) (increase(" + b.sel(metrics.SyncRequests, bySource) + "[$__rate_interval]))", legend: "{{source}} {{code}}"})).
		OverrideByRegexp(" 429$", []dashboard.DynamicConfigValue{fixedColor("red")})
	return b.newBoard(PipelineUID, "Throughline / Pipeline health",
		"Scrapes, syncs, compute and data quality. Every metric on the other dashboards reflects the last successful sync and compute.",
		"source").
		Annotation(b.syncs()).
		WithRow(dashboard.NewRowBuilder("Exporter")).
		WithPanel(statPanel("Scrape",
			"Whether Prometheus scrapes this Throughline (its own up series): when it cannot, every other panel is stale.",
			unitNone, 6, 5,
			q{expr: "max(up{" + b.upMatchers() + "})", legend: "up"}).
			Mappings(upMappings("UP", "DOWN")).
			Thresholds(steps("red", 1.0, "green"))).
		WithPanel(statPanel("Build",
			"Version of the Throughline binary serving the metrics.",
			unitNone, 6, 5,
			q{expr: "max by (version, revision, goversion) (" + b.sel(metrics.BuildInfo) + ")", legend: "{{version}} ({{revision}}, {{goversion}})"}).
			TextMode(common.BigValueTextModeName)).
		WithPanel(b.alertList("Firing alerts", 12, 5)).
		WithRow(dashboard.NewRowBuilder("Syncs")).
		WithPanel(statPanel("Source status",
			"Whether the last sync of each source succeeded.",
			unitNone, 6, 5,
			q{expr: "max by (source) (" + b.sel(metrics.Up, bySource) + ")", legend: "{{source}}"}).
			Mappings(upMappings("OK", "FAILED")).
			Thresholds(steps("red", 1.0, "green"))).
		WithPanel(statPanel("Since last successful sync",
			fmt.Sprintf("Time since each source last synced successfully: orange after one sync period (%s), red where ThroughlineSyncStale fires (two).", promDuration(syncPeriod)),
			unitDuration, 6, 5,
			q{expr: "time() - max by (source) (" + b.sel(metrics.SyncLastSuccess, bySource) + ")", legend: "{{source}}"}).
			Thresholds(stale(syncPeriod.Seconds()))).
		WithPanel(statPanel("Last successful sync",
			"When each source last synced successfully.",
			unitTime, 6, 5,
			q{expr: "max by (source) (" + b.sel(metrics.SyncLastSuccess, bySource) + ") * 1000", legend: "{{source}}"})).
		WithPanel(statPanel("Sync errors in range",
			"Failed syncs in the time range.",
			unitCount, 6, 5,
			q{expr: "sum by (source) (increase(" + b.sel(metrics.SyncErrors, bySource) + "[$__range]))", legend: "{{source}}"}).
			Thresholds(steps("green", 1.0, "red"))).
		WithPanel(timeSeries("Sync duration",
			"Duration of the last sync of each source.",
			unitSeconds, 12, 8,
			q{expr: "max by (source) (" + b.sel(metrics.SyncDuration, bySource) + ")", legend: "{{source}}"})).
		WithPanel(errorsBars).
		WithPanel(requests).
		WithRow(dashboard.NewRowBuilder("Compute")).
		WithPanel(statPanel("Compute",
			"Whether the last compute succeeded.",
			unitNone, 6, 5,
			q{expr: "max by (task) (" + b.sel(metrics.TaskSuccess) + ")", legend: "{{task}}"}).
			Mappings(upMappings("OK", "FAILED")).
			Thresholds(steps("red", 1.0, "green"))).
		WithPanel(statPanel("Since last successful compute",
			fmt.Sprintf("Time since the last successful compute: orange after one compute period (%s), red where ThroughlineComputeStale fires (two).", promDuration(computePeriod)),
			unitDuration, 6, 5,
			q{expr: "time() - max by (task) (" + b.sel(metrics.TaskLastSuccess) + ")", legend: "{{task}}"}).
			Thresholds(stale(computePeriod.Seconds()))).
		WithPanel(timeSeries("Compute duration",
			"Duration of the last compute.",
			unitSeconds, 12, 5,
			q{expr: "max by (task) (" + b.sel(metrics.TaskDuration) + ")", legend: "{{task}}"})).
		WithRow(dashboard.NewRowBuilder("Data quality")).
		WithPanel(barGauge("Data quality: items failing checks",
			"Items failing each check (unmapped_status, skipped_start, negative_duration, missing_estimate, unclassified, …); throughline check lists examples.",
			unitCount, 12, 8,
			q{expr: "sum by (source, check) (" + b.sel(metrics.DataQuality, bySource) + ")", legend: "{{source}} {{check}}"}).
			Thresholds(steps("green", 1.0, "orange")).Min(0)).
		WithPanel(timeSeries("Data quality over time",
			"Items failing each check, summed over the selected sources.",
			unitCount, 12, 8,
			q{expr: "sum by (check) (" + b.sel(metrics.DataQuality, bySource) + ")", legend: "{{check}}"}))
}

// upMatchers select Prometheus' up series of the selected installation.
func (b boards) upMatchers() string {
	s := ""
	for i, m := range b.extra {
		if i > 0 {
			s += ","
		}
		s += m
	}
	return s
}
