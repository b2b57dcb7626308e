package dashboards

//lint:file-ignore SA1019 the classic dashboard model is the one file provisioning reads (see grafana.go)

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
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

// Grafana units (https://grafana.com/docs/grafana/latest/panels-visualizations/configure-standard-options/#unit).
// Date units read milliseconds, so timestamp queries multiply by 1000.
const (
	unitCount    = "short"
	unitSeconds  = "s"
	unitDuration = "dtdurations"
	unitRatio    = "percentunit"
	unitDate     = "dateTimeAsIso"
	unitNone     = "none"
)

// Recording rules of rules.go the dashboards read.
var (
	recWIPLoad        = metrics.Namespace + "_wip_load:ratio"
	recPlannedLoad    = ":" + metrics.PlannedLoad.FQName() + ":sum"
	recClassAlloc     = ":" + metrics.Namespace + "_allocation:ratio"
	recCapacityNext4w = ":" + metrics.CapacitySeconds.FQName() + ":sum_next4w"
	recMilestones     = ":" + metrics.MilestoneStatus.FQName() + ":sum"
)

// Item counters filtered by the variables, totals excluded.
func items(d metrics.Def, matchers ...string) string {
	return sel(d, append([]string{byTeam, byProject, noTeamAll, noClassAll}, matchers...)...)
}

// withQuantile lets sel match the quantile label a summary adds.
func withQuantile(d metrics.Def) metrics.Def {
	d.Labels = append(slices.Clone(d.Labels), "quantile")
	return d
}

func ms(v string) string { return "(" + v + ") * 1000" }

func dashed() dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: "custom.lineStyle", Value: map[string]any{"fill": "dash", "dash": []int{10, 10}}}
}

func fixedColor(c string) dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": c}}
}

// milestoneStatusColors are the fixed colors of the milestone states, for
// panels whose series are named by status.
var milestoneStatusColors = []struct{ status, color string }{
	{"done", "blue"}, {"on_track", "green"}, {"at_risk", "orange"}, {"off_track", "red"}, {"overdue", "dark-red"},
	{"unknown", "text"}, {"no_due_date", "text"},
}

func links(l ...cog.Builder[dashboard.DashboardLink]) []cog.Builder[dashboard.DashboardLink] {
	return l
}

var quantiles = []string{"0.5", "0.7", "0.85", "0.95"}

func pName(quantile string) string {
	f, _ := strconv.ParseFloat(quantile, 64)
	return "P" + strconv.Itoa(int(f*100+0.5))
}

// portfolio is the leadership overview.
func portfolio() *dashboard.DashboardBuilder {
	completed := items(metrics.ItemsCompleted)
	mix := pie("Project vs operational: completions in range",
		"Completed items by work class (project, operational, unclassified) over the dashboard's time range.",
		unitCount, 8, 8,
		q{expr: "sum by (work_class) (increase(" + completed + "[$__range]))", legend: "{{work_class}}"})
	byStatus := pie("Milestones by status",
		"Milestones with their current status (metrics.md \"Status\"); done milestones stay listed for 30 days after completion.",
		unitCount, 8, 10,
		q{expr: "sum by (status) (" + recorded(recMilestones, byProject) + ")", legend: "{{status}}"}).
		Links(links(boardLink("Delivery", DeliveryUID)))
	for _, s := range milestoneStatusColors {
		byStatus.OverrideByName(s.status, []dashboard.DynamicConfigValue{fixedColor(s.color)})
	}

	return newBoard(PortfolioUID, "Throughline / Portfolio",
		"Leadership overview: delivery trend, milestones against their due dates, teams over capacity, and the project/operational mix.",
		"team", "project").
		WithRow(dashboard.NewRowBuilder("Summary")).
		WithPanel(statPanel("Items completed",
			"Completed, non-discarded items in the time range (teams and projects as selected).",
			unitCount, 6, 4,
			q{expr: "sum(increase(" + completed + "[$__range]))", legend: "completed"})).
		WithPanel(statPanel("Milestones at risk, off track or overdue",
			"Open milestones whose forecast P85 date is after the due date, or whose due date has passed.",
			unitCount, 6, 4,
			q{expr: "sum(" + recorded(recMilestones, byProject, `status=~"at_risk|off_track|overdue"`) + ") or vector(0)", legend: "milestones"}).
			Thresholds(steps("green", 1.0, "orange")).
			Links(links(boardLink("Delivery", DeliveryUID)))).
		WithPanel(statPanel("Teams over capacity this week",
			"Teams whose planned load this week exceeds their capacity (allocation ratio above 100%).",
			unitCount, 6, 4,
			q{expr: "count(max by (team) (" + sel(metrics.AllocationRatio, byTeam, weekCurrent) + ") > 1) or vector(0)", legend: "teams"}).
			Thresholds(steps("green", 1.0, "red")).
			Links(links(boardLink("Capacity", CapacityUID)))).
		WithPanel(statPanel("Project share of completions",
			"Share of completed items in the time range that were project work.",
			unitRatio, 6, 4,
			q{expr: "sum(increase(" + items(metrics.ItemsCompleted, `work_class="project"`) + "[$__range])) / sum(increase(" + completed + "[$__range]))", legend: "project share"})).
		WithRow(dashboard.NewRowBuilder("Delivery trend")).
		WithPanel(timeSeries("Items completed per week, by project",
			"Throughput: completed, non-discarded items in the trailing week at each point in time.",
			unitCount, 16, 8,
			q{expr: "sum by (project) (increase(" + completed + "[1w]))", legend: "{{project}}"}).
			Links(links(boardLink("Team flow", TeamFlowUID)))).
		WithPanel(timeSeries("Cycle time P85 by team (trailing window)",
			"85th percentile of cycle time over items finished in the trailing window (metrics.window_days).",
			unitSeconds, 8, 8,
			q{expr: "max by (team) (" + sel(withQuantile(metrics.CycleTimeWindow), byTeam, noTeamAll, classAll, `quantile="0.85"`) + ")", legend: "{{team}}"})).
		WithRow(dashboard.NewRowBuilder("Milestones")).
		WithPanel(tableOf("Milestones: status and forecast vs due date",
			"Each open milestone (and each done in the last 30 days): status, due date, Monte Carlo forecast at 85% confidence, slip, on-time probability and remaining scope.",
			16, 10, []string{"project", "milestone", "status"},
			column{q: q{expr: "max by (project, milestone, status) (" + sel(metrics.MilestoneStatus, byProject) + " == 1)"}},
			column{q: q{expr: ms("max by (project, milestone) (" + sel(metrics.MilestoneDue, byProject) + ")")}, name: "Due", unit: unitDate},
			column{q: q{expr: ms("max by (project, milestone) (" + sel(metrics.MilestoneForecast, byProject, `confidence="0.85"`) + ")")}, name: "Forecast (85%)", unit: unitDate},
			column{q: q{expr: "max by (project, milestone) (" + sel(metrics.MilestoneSlip, byProject) + ")"}, name: "Slip", unit: unitSeconds},
			column{q: q{expr: "max by (project, milestone) (" + sel(metrics.MilestoneOnTime, byProject) + ")"}, name: "On time", unit: unitRatio,
				more: []dashboard.DynamicConfigValue{cellColor(common.TableCellDisplayModeColorBackground), thresholdsValue(steps("red", 0.5, "orange", 0.85, "green"))}},
			column{q: q{expr: "max by (project, milestone) (" + sel(metrics.MilestoneRemaining, byProject) + ")"}, name: "Remaining items", unit: unitCount},
		).
			OverrideByName("status", []dashboard.DynamicConfigValue{
				{Id: "displayName", Value: "Status"}, {Id: "mappings", Value: statusMappings()}, cellColor(common.TableCellDisplayModeColorText),
			}).
			Links(links(boardLink("Delivery", DeliveryUID)))).
		WithPanel(byStatus).
		WithRow(dashboard.NewRowBuilder("Capacity and work mix")).
		WithPanel(barGauge("Teams over capacity: allocation this week",
			"Planned load over capacity this week (metrics.md bands: under 60% under-loaded, 85–100% warning, over 100% over-allocated).",
			unitRatio, 8, 8,
			q{expr: "max by (team) (" + sel(metrics.AllocationRatio, byTeam, weekCurrent) + ")", legend: "{{team}}"}).
			Thresholds(loadBands()).Min(0).
			Links(links(boardLink("Capacity", CapacityUID)))).
		WithPanel(barGauge("Logged utilization, last complete week",
			"Worklog hours over capacity in the last complete week.",
			unitRatio, 8, 8,
			q{expr: "max by (team) (" + sel(metrics.LoggedUtilization, byTeam) + ")", legend: "{{team}}"}).
			Thresholds(loadBands()).Min(0)).
		WithPanel(mix).
		WithPanel(stacked(timeSeries("Project vs operational completions per week",
			"Completed items in the trailing week by work class: how much of the delivery is project work.",
			unitCount, 16, 8,
			q{expr: "sum by (work_class) (increase(" + completed + "[1w]))", legend: "{{work_class}}"}))).
		WithPanel(pie("Project vs operational: planned load, next 6 weeks",
			"Remaining estimates of open assigned items, spread to their due dates, over the current and next 5 weeks.",
			unitSeconds, 8, 8,
			q{expr: "sum by (work_class) (" + sel(metrics.PlannedLoad, byTeam, noTeamAll, noClassAll) + ")", legend: "{{work_class}}"}))
}

// teamFlow is the Kanban view of a team.
func teamFlow() *dashboard.DashboardBuilder {
	completed := items(metrics.ItemsCompleted)
	wip := sel(metrics.WIPItems, byTeam, noTeamAll, noClassAll)

	var percentiles []q
	for _, p := range quantiles {
		percentiles = append(percentiles, q{
			expr:   "max by (team) (" + sel(withQuantile(metrics.CycleTimeWindow), byTeam, noTeamAll, classAll, `quantile="`+p+`"`) + ")",
			legend: "{{team}} " + pName(p),
		})
	}
	var leadPercentiles []q
	for _, p := range quantiles {
		leadPercentiles = append(leadPercentiles, q{
			expr:   "max by (team) (" + sel(withQuantile(metrics.LeadTimeWindow), byTeam, noTeamAll, classAll, `quantile="`+p+`"`) + ")",
			legend: "{{team}} " + pName(p),
		})
	}
	buckets := metrics.Def{Name: metrics.CycleTime.Name + "_bucket", Labels: metrics.CycleTime.Labels}
	histogram := barGauge("Cycle-time distribution, all completions",
		"Completed items by cycle-time bucket (1, 2, 3, 5, 8, 13, 21, 34, 55, 89 days), over all history.",
		unitCount, 12, 9,
		q{expr: "sum by (le) (" + sel(buckets, byTeam, noTeamAll, noClassAll) + ")", legend: "{{le}}", format: prometheus.PromQueryFormatHeatmap}).
		Orientation(common.VizOrientationVertical).
		DisplayMode(common.BarGaugeDisplayModeBasic).
		Thresholds(steps("blue"))
	for _, d := range metrics.CycleBucketsDays {
		histogram.OverrideByRegexp(leRegexp(d*86400), []dashboard.DynamicConfigValue{{Id: "displayName", Value: fmt.Sprintf("≤ %g d", d)}})
	}
	histogram.OverrideByRegexp(`^\+Inf$`, []dashboard.DynamicConfigValue{
		{Id: "displayName", Value: fmt.Sprintf("> %g d", metrics.CycleBucketsDays[len(metrics.CycleBucketsDays)-1])},
	})

	age := func(p string) string {
		return "max by (team, work_class) (" + sel(withQuantile(metrics.WIPAge), byTeam, noTeamAll, noClassAll, `quantile="`+p+`"`) + ")"
	}
	// The summary's count: the team and work classes that have open started items.
	ageCount := metrics.Def{Name: metrics.WIPAge.Name + "_count", Labels: metrics.WIPAge.Labels}
	perClass := func(d metrics.Def) string {
		return "max by (team, work_class) (" + sel(d, byTeam, noTeamAll, noClassAll) + ")"
	}

	return newBoard(TeamFlowUID, "Throughline / Team flow",
		"Flow metrics per team (metrics.md \"Flow\"): throughput, cycle time, WIP against its limit, aging WIP, cumulative flow and flow efficiency. The project variable filters the item counters only; the other metrics have no project label.",
		"team", "project").
		WithRow(dashboard.NewRowBuilder("Throughput")).
		WithPanel(timeSeries("Throughput: items completed per week",
			"Completed, non-discarded items in the trailing week, by team. Story points are never throughput.",
			unitCount, 12, 8,
			q{expr: "sum by (team) (increase(" + completed + "[1w]))", legend: "{{team}}"})).
		WithPanel(stacked(timeSeries("Throughput by work class per week",
			"Completed items in the trailing week by work class.",
			unitCount, 12, 8,
			q{expr: "sum by (work_class) (increase(" + completed + "[1w]))", legend: "{{work_class}}"}))).
		WithPanel(timeSeries("Arrivals, completions and rework per week",
			"Items created, completed, reopened and discarded in the trailing week.",
			unitCount, 12, 8,
			q{expr: "sum(increase(" + items(metrics.ItemsCreated) + "[1w]))", legend: "created"},
			q{expr: "sum(increase(" + completed + "[1w]))", legend: "completed"},
			q{expr: "sum(increase(" + items(metrics.ItemsReopened) + "[1w]))", legend: "reopened"},
			q{expr: "sum(increase(" + items(metrics.ItemsDiscarded) + "[1w]))", legend: "discarded"})).
		WithPanel(timeSeries("Cumulative flow: created, started, completed",
			"Cumulative counts over all history: the gap between created and started is the backlog, between started and completed the work in progress (less false starts and discards). Throughline exports no per-stage cumulative-flow metric; see also WIP by workflow stage.",
			unitCount, 12, 8,
			q{expr: "sum(" + items(metrics.ItemsCreated) + ")", legend: "created"},
			q{expr: "sum(" + items(metrics.ItemsStarted) + ")", legend: "started"},
			q{expr: "sum(" + completed + ")", legend: "completed"})).
		WithRow(dashboard.NewRowBuilder("Cycle time")).
		WithPanel(timeSeries("Cycle-time percentiles (trailing window)",
			"Nearest-rank P50, P70, P85 and P95 of cycle time over items finished in the trailing window, all work classes.",
			unitSeconds, 12, 9, percentiles...)).
		WithPanel(histogram).
		WithPanel(statPanel("Service-level expectation",
			"sle_days from config, else the window P85 of flow days.",
			unitDuration, 12, 5,
			q{expr: "max by (team) (" + sel(metrics.SLE, byTeam, noTeamAll, classAll) + ")", legend: "{{team}}"})).
		WithPanel(barGauge("SLE attainment",
			"Share of window items finished within the SLE.",
			unitRatio, 12, 5,
			q{expr: "max by (team) (" + sel(metrics.SLEAttainment, byTeam, noTeamAll, classAll) + ")", legend: "{{team}}"}).
			Thresholds(steps("red", 0.7, "orange", 0.85, "green")).Min(0).Max(1)).
		WithPanel(timeSeries("Lead-time percentiles (trailing window)",
			"Nearest-rank P50, P70, P85 and P95 of lead time (created to finished) over items finished in the trailing window, all work classes. Exact in every source: the delivery-time view of sources without a status history (CSV exports), where cycle time is missing.",
			unitSeconds, 24, 8, leadPercentiles...)).
		WithRow(dashboard.NewRowBuilder("Work in progress")).
		WithPanel(timeSeries("WIP vs limit",
			"Items in a started stage now (active and wait), and the team's WIP limit (dashed).",
			unitCount, 12, 8,
			q{expr: "sum by (team) (" + wip + ")", legend: "{{team}} WIP"},
			q{expr: "max by (team) (" + sel(metrics.WIPLimit, byTeam) + ")", legend: "{{team}} limit"}).
			OverrideByRegexp(" limit$", []dashboard.DynamicConfigValue{dashed()})).
		WithPanel(barGauge("WIP load (WIP ÷ limit)",
			"Current WIP over the WIP limit (recording rule); needs no estimates.",
			unitRatio, 12, 8,
			q{expr: recorded(recWIPLoad, byTeam), legend: "{{team}}"}).
			Thresholds(loadBands()).Min(0)).
		WithPanel(stacked(timeSeries("WIP by workflow stage (cumulative flow of started work)",
			"Started items by stage class over time, stacked. There is no cumulative-flow metric in the catalogue (cumulative_flow is a warehouse table), so this shows the started bands; todo and done are the gaps of the created/started/completed panel.",
			unitCount, 12, 8,
			q{expr: "sum by (workflow_stage) (" + wip + ")", legend: "{{workflow_stage}}"}))).
		WithPanel(timeSeries("Flow efficiency (trailing window)",
			"Active time over all started time of items finished in the window.",
			unitRatio, 12, 8,
			q{expr: perClass(metrics.FlowEfficiency), legend: "{{team}} {{work_class}}"}).
			Min(0).Max(1)).
		WithRow(dashboard.NewRowBuilder("Aging work in progress")).
		WithPanel(timeSeries("Aging WIP: age of open started items",
			"P50 and P85 age (whole calendar days since start) of open started items.",
			unitSeconds, 12, 8,
			q{expr: age("0.5"), legend: "{{team}} {{work_class}} P50"},
			q{expr: age("0.85"), legend: "{{team}} {{work_class}} P85"})).
		WithPanel(tableOf("Aging WIP vs SLE",
			"Age quantiles of open started items against the SLE, and how many are older than it.",
			12, 8, []string{"team", "work_class"},
			column{q: q{expr: age("0.5")}, name: "Age P50", unit: unitDuration},
			column{q: q{expr: age("0.85")}, name: "Age P85", unit: unitDuration},
			column{q: q{expr: age("0.95")}, name: "Age P95", unit: unitDuration},
			column{q: q{expr: perClass(metrics.SLE) + " and on (team, work_class) " + perClass(ageCount)}, name: "SLE", unit: unitDuration},
			column{q: q{expr: perClass(metrics.WIPOverSLE)}, name: "Older than SLE", unit: unitCount,
				more: []dashboard.DynamicConfigValue{cellColor(common.TableCellDisplayModeColorText), thresholdsValue(steps("green", 1.0, "orange"))}},
		)).
		WithPanel(barGauge("Items older than SLE",
			"Open started items older than the service-level expectation.",
			unitCount, 24, 6,
			q{expr: "sum by (team) (" + sel(metrics.WIPOverSLE, byTeam, noTeamAll, noClassAll) + ")", legend: "{{team}}"}).
			Thresholds(steps("green", 1.0, "orange")).Min(0))
}

// delivery is the milestone view.
func delivery() *dashboard.DashboardBuilder {
	perMilestone := func(d metrics.Def, matchers ...string) string {
		return "max by (project, milestone) (" + sel(d, append([]string{byProject}, matchers...)...) + ")"
	}
	movedSinceBaseline := perMilestone(metrics.MilestoneDue) + " - " + perMilestone(metrics.MilestoneBaselineDue)
	forecastCols := []column{
		{q: q{expr: "max by (project, milestone, status) (" + sel(metrics.MilestoneStatus, byProject) + " == 1)"}},
		{q: q{expr: perMilestone(metrics.MilestoneRemaining)}, name: "Remaining", unit: unitCount},
		{q: q{expr: ms(perMilestone(metrics.MilestoneBaselineDue))}, name: "Baseline due", unit: unitDate},
		{q: q{expr: ms(perMilestone(metrics.MilestoneDue))}, name: "Due", unit: unitDate},
	}
	for _, c := range quantiles {
		forecastCols = append(forecastCols, column{
			q:    q{expr: ms(perMilestone(metrics.MilestoneForecast, `confidence="`+c+`"`))},
			name: "Forecast " + pName(c), unit: unitDate,
		})
	}
	forecastCols = append(forecastCols,
		column{q: q{expr: perMilestone(metrics.MilestoneOnTime)}, name: "On time", unit: unitRatio,
			more: []dashboard.DynamicConfigValue{cellColor(common.TableCellDisplayModeColorBackground), thresholdsValue(steps("red", 0.5, "orange", 0.85, "green"))}},
		column{q: q{expr: perMilestone(metrics.MilestoneSlip)}, name: "Slip", unit: unitSeconds},
		column{q: q{expr: movedSinceBaseline}, name: "Moved since baseline", unit: unitSeconds},
	)

	return newBoard(DeliveryUID, "Throughline / Delivery",
		"Milestones (metrics.md \"Delivery\"): Monte Carlo forecast dates, on-time probability, slip and due-date changes. Milestone series exist for open milestones and for 30 days after completion.",
		"project").
		WithRow(dashboard.NewRowBuilder("Forecasts")).
		WithPanel(tableOf("Milestone forecasts",
			"Forecast completion dates at 50/70/85/95% confidence (10,000 seeded trials drawing from the project's daily throughput), against the due and baseline dates.",
			24, 10, []string{"project", "milestone", "status"}, forecastCols...).
			OverrideByName("status", []dashboard.DynamicConfigValue{
				{Id: "displayName", Value: "Status"}, {Id: "mappings", Value: statusMappings()}, cellColor(common.TableCellDisplayModeColorText),
			})).
		WithPanel(barGauge("On-time probability",
			"Share of forecast trials that finish by the due date.",
			unitRatio, 12, 8,
			q{expr: perMilestone(metrics.MilestoneOnTime), legend: "{{project}} {{milestone}}"}).
			Thresholds(steps("red", 0.5, "orange", 0.85, "green")).Min(0).Max(1)).
		WithPanel(barGauge("Slip: forecast P85 minus due date",
			"Positive: the 85% forecast date is after the due date by this much.",
			unitSeconds, 12, 8,
			q{expr: perMilestone(metrics.MilestoneSlip), legend: "{{project}} {{milestone}}"}).
			Thresholds(steps("green", 86400.0, "red"))).
		WithRow(dashboard.NewRowBuilder("Over time")).
		WithPanel(timeSeries("On-time probability over time",
			"How the chance of meeting the due date moved with each compute.",
			unitRatio, 12, 8,
			q{expr: perMilestone(metrics.MilestoneOnTime), legend: "{{project}} {{milestone}}"}).
			Min(0).Max(1)).
		WithPanel(timeSeries("Slip over time",
			"Forecast P85 date minus due date; a rising line is a milestone drifting late.",
			unitSeconds, 12, 8,
			q{expr: perMilestone(metrics.MilestoneSlip), legend: "{{project}} {{milestone}}"})).
		WithPanel(timeSeries("Forecast P85 vs due date",
			"The 85% forecast date and the due date (dashed) of each milestone.",
			unitDate, 12, 8,
			q{expr: ms(perMilestone(metrics.MilestoneForecast, `confidence="0.85"`)), legend: "{{milestone}} forecast"},
			q{expr: ms(perMilestone(metrics.MilestoneDue)), legend: "{{milestone}} due"}).
			OverrideByRegexp(" due$", []dashboard.DynamicConfigValue{dashed()})).
		WithPanel(timeSeries("Remaining scope",
			"Scope items not completed and not discarded: the burn-down.",
			unitCount, 12, 8,
			q{expr: perMilestone(metrics.MilestoneRemaining), legend: "{{project}} {{milestone}}"})).
		WithRow(dashboard.NewRowBuilder("Due-date changes")).
		WithPanel(barGauge("Due date moved since baseline",
			"Current due date minus the first known due date (baseline variance); positive: moved later.",
			unitSeconds, 12, 8,
			q{expr: movedSinceBaseline, legend: "{{project}} {{milestone}}"}).
			Thresholds(steps("green", 86400.0, "orange"))).
		WithPanel(barGauge("Due-date changes seen in range",
			"How often Prometheus saw the due date change within the time range. The full history of moves is the warehouse table milestone_due_changes (throughline sql).",
			unitCount, 12, 8,
			q{expr: "changes(" + sel(metrics.MilestoneDue, byProject) + "[$__range])", legend: "{{project}} {{milestone}}"}).
			Thresholds(steps("green", 1.0, "orange")).Min(0))
}

// capacity is the allocation and utilization view.
func capacity() *dashboard.DashboardBuilder {
	matrix := table.NewPanelBuilder().
		Title("Allocation per team and week (planned load ÷ capacity)").
		Description("Planned load over capacity for this week and the next 5 (metrics.md bands: under 60% under-loaded, 85–100% warning, over 100% over-allocated).").
		Datasource(ds).Span(24).Height(7).
		Unit(unitRatio).
		Decimals(0).
		CellHeight(common.TableCellHeightSm).
		Footer(noFooter()).
		CellOptions(common.TableCellOptions{TableColoredBackgroundCellOptions: &common.TableColoredBackgroundCellOptions{Type: "color-background"}}).
		Thresholds(loadBands()).
		WithTarget(target(0, q{
			expr:   "max by (team, week_offset) (" + sel(metrics.AllocationRatio, byTeam) + ")",
			format: prometheus.PromQueryFormatTable,
		}, true)).
		WithTransformation(dashboard.DataTransformerConfig{Id: "groupingToMatrix", Options: map[string]any{
			"columnField": "week_offset", "rowField": "team", "valueField": "Value", "emptyValue": "null",
		}}).
		OverrideByName("team\\week_offset", []dashboard.DynamicConfigValue{
			{Id: "displayName", Value: "Team"}, {Id: "unit", Value: unitNone}, cellColor(common.TableCellDisplayModeAuto),
		})
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

	return newBoard(CapacityUID, "Throughline / Capacity",
		"Capacity (metrics.md \"Capacity\"): planned load against capacity per team and week, logged utilization, WIP load, and the project capacity left once operational load is paid for.",
		"team").
		WithRow(dashboard.NewRowBuilder("Allocation")).
		WithPanel(matrix).
		WithPanel(timeSeries("Allocation this week",
			"Planned load over capacity this week; the dashed line is 100%.",
			unitRatio, 12, 8,
			q{expr: "max by (team) (" + sel(metrics.AllocationRatio, byTeam, weekCurrent) + ")", legend: "{{team}}"}).
			Thresholds(steps("green", 1.0, "red")).
			ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashed)).
			Min(0)).
		WithPanel(barGauge("Allocation by work class, this week",
			"Planned load of each work class over the team's capacity (recording rule); the classes add up to the team's allocation.",
			unitRatio, 12, 8,
			q{expr: recorded(recClassAlloc, byTeam, weekCurrent), legend: "{{team}} {{work_class}}"}).
			Thresholds(loadBands()).Min(0)).
		WithRow(dashboard.NewRowBuilder("Capacity and planned load")).
		WithPanel(timeSeries("Capacity vs planned load, this week",
			"Team capacity (hours per week minus time off, dashed) and the planned load of open estimated items.",
			unitSeconds, 12, 8,
			q{expr: "max by (team) (" + sel(metrics.CapacitySeconds, byTeam, weekCurrent) + ")", legend: "{{team}} capacity"},
			q{expr: "sum by (team) (" + recorded(recPlannedLoad, byTeam, weekCurrent) + ")", legend: "{{team}} planned"}).
			OverrideByRegexp(" capacity$", []dashboard.DynamicConfigValue{dashed()})).
		WithPanel(barGauge("Planned load by work class, next 6 weeks",
			"Remaining estimates spread over working days to the due dates, summed over this week and the next 5.",
			unitSeconds, 12, 8,
			q{expr: "sum by (team, work_class) (" + sel(metrics.PlannedLoad, byTeam, noTeamAll, noClassAll) + ")", legend: "{{team}} {{work_class}}"}).
			Min(0)).
		WithRow(dashboard.NewRowBuilder("Utilization")).
		WithPanel(timeSeries("Logged utilization (last complete week)",
			"Worklog hours over capacity in the last complete week.",
			unitRatio, 8, 8,
			q{expr: "max by (team) (" + sel(metrics.LoggedUtilization, byTeam) + ")", legend: "{{team}}"}).
			Min(0)).
		WithPanel(barGauge("Logged utilization now",
			"Worklog hours over capacity in the last complete week.",
			unitRatio, 8, 8,
			q{expr: "max by (team) (" + sel(metrics.LoggedUtilization, byTeam) + ")", legend: "{{team}}"}).
			Thresholds(loadBands()).Min(0)).
		WithPanel(timeSeries("WIP load (WIP ÷ limit)",
			"Current WIP over the WIP limit (recording rule): a load signal that needs no estimates.",
			unitRatio, 8, 8,
			q{expr: recorded(recWIPLoad, byTeam), legend: "{{team}}"}).
			Min(0)).
		WithRow(dashboard.NewRowBuilder("Project capacity")).
		WithPanel(barGauge("Project capacity available, next 4 weeks",
			"Capacity of the next 4 weeks minus 4 × the P85 weekly operational load (trailing 8 weeks) minus planned project load: what a project manager can still assign.",
			unitSeconds, 12, 8,
			q{expr: "max by (team) (" + sel(metrics.ProjectCapacityAvailable, byTeam) + ")", legend: "{{team}}"}).
			Thresholds(steps("red", 0.0, "green"))).
		WithPanel(timeSeries("Project capacity available vs capacity, next 4 weeks",
			"The available project capacity and the total capacity of the next 4 weeks (dashed, recording rule).",
			unitSeconds, 12, 8,
			q{expr: "max by (team) (" + sel(metrics.ProjectCapacityAvailable, byTeam) + ")", legend: "{{team}} available"},
			q{expr: recorded(recCapacityNext4w, byTeam), legend: "{{team}} capacity"}).
			OverrideByRegexp(" capacity$", []dashboard.DynamicConfigValue{dashed()}))
}

// pipeline is the health of syncs and computes.
func pipeline() *dashboard.DashboardBuilder {
	errorsBars := timeSeries("Sync errors by reason",
		"Failed syncs per rate interval, by source and reason (counters start at 0 for every reason).",
		unitCount, 12, 8,
		q{expr: "sum by (source, reason) (increase(" + sel(metrics.SyncErrors, bySource) + "[$__rate_interval]))", legend: "{{source}} {{reason}}"}).
		DrawStyle(common.GraphDrawStyleBars).FillOpacity(80)
	return newBoard(PipelineUID, "Throughline / Pipeline health",
		"Syncs, compute jobs and data quality. Every metric on the other dashboards reflects the last successful sync and compute.",
		"source").
		WithRow(dashboard.NewRowBuilder("Syncs")).
		WithPanel(statPanel("Source status",
			"Whether the last sync of each source succeeded.",
			unitNone, 6, 5,
			q{expr: "max by (source) (" + sel(metrics.Up, bySource) + ")", legend: "{{source}}"}).
			Mappings(upMappings("OK", "FAILED")).
			Thresholds(steps("red", 1.0, "green"))).
		WithPanel(statPanel("Since last successful sync",
			"Time since each source last synced successfully; the ThroughlineSyncStale alert fires after two sync periods.",
			unitDuration, 6, 5,
			q{expr: "time() - max by (source) (" + sel(metrics.SyncLastSuccess, bySource) + ")", legend: "{{source}}"}).
			Thresholds(steps("green", 3600.0, "orange", 86400.0, "red"))).
		WithPanel(statPanel("Last successful sync",
			"When each source last synced successfully.",
			unitDate, 6, 5,
			q{expr: ms("max by (source) (" + sel(metrics.SyncLastSuccess, bySource) + ")"), legend: "{{source}}"})).
		WithPanel(statPanel("Sync errors in range",
			"Failed syncs in the time range.",
			unitCount, 6, 5,
			q{expr: "sum by (source) (increase(" + sel(metrics.SyncErrors, bySource) + "[$__range]))", legend: "{{source}}"}).
			Thresholds(steps("green", 1.0, "red"))).
		WithPanel(timeSeries("Sync duration",
			"Duration of the last sync of each source.",
			unitSeconds, 12, 8,
			q{expr: "max by (source) (" + sel(metrics.SyncDuration, bySource) + ")", legend: "{{source}}"})).
		WithPanel(errorsBars).
		WithRow(dashboard.NewRowBuilder("Compute")).
		WithPanel(statPanel("Compute jobs",
			"Whether the last run of each job succeeded.",
			unitNone, 6, 5,
			q{expr: "max by (job) (" + sel(metrics.JobSuccess) + ")", legend: "{{job}}"}).
			Mappings(upMappings("OK", "FAILED")).
			Thresholds(steps("red", 1.0, "green"))).
		WithPanel(statPanel("Since last successful compute",
			"Time since each job last succeeded.",
			unitDuration, 6, 5,
			q{expr: "time() - max by (job) (" + sel(metrics.JobLastSuccess) + ")", legend: "{{job}}"}).
			Thresholds(steps("green", 3600.0, "orange", 86400.0, "red"))).
		WithPanel(statPanel("Build",
			"Version of the Throughline binary serving the metrics.",
			unitNone, 12, 5,
			q{expr: "max by (version, revision, goversion) (" + sel(metrics.BuildInfo) + ")", legend: "{{version}} ({{revision}}, {{goversion}})"}).
			TextMode(common.BigValueTextModeName)).
		WithPanel(timeSeries("Job duration",
			"Duration of the last run of each job.",
			unitSeconds, 24, 7,
			q{expr: "max by (job) (" + sel(metrics.JobDuration) + ")", legend: "{{job}}"})).
		WithRow(dashboard.NewRowBuilder("Data quality")).
		WithPanel(barGauge("Data quality: items failing checks",
			"Items failing each check (unmapped_status, skipped_start, negative_duration, missing_estimate, unclassified, …); throughline check lists examples.",
			unitCount, 12, 8,
			q{expr: "sum by (source, check) (" + sel(metrics.DataQuality, bySource) + ")", legend: "{{source}} {{check}}"}).
			Thresholds(steps("green", 1.0, "orange")).Min(0)).
		WithPanel(timeSeries("Data quality over time",
			"Items failing each check, summed over the selected sources.",
			unitCount, 12, 8,
			q{expr: "sum by (check) (" + sel(metrics.DataQuality, bySource) + ")", legend: "{{check}}"}))
}
