package metrics

import (
	"math"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Namespace prefixes every metric.
const Namespace = "throughline"

// Units of the catalogue: what a value measures, so dashboards pick the
// right display unit (a test checks every panel against them).
const (
	UnitCount         = "count"          // items, requests, syncs
	UnitSeconds       = "seconds"        // a duration
	UnitPersonSeconds = "person-seconds" // effort: capacity, planned load (shown as person-hours)
	UnitTimestamp     = "timestamp"      // an instant, Unix seconds
	UnitDate          = "date"           // a calendar date: Unix seconds of its midnight UTC
	UnitRatio         = "ratio"          // a share or a load: 1 = 100 %
	UnitInfo          = "info"           // always 1: the labels carry the information
	UnitBool          = "bool"           // 1 or 0 (a state set, success, up)
)

// Def is one metric of the catalogue: the single place names, help and
// labels are written, so the collector, rules and dashboards cannot drift.
type Def struct {
	Name   string // without the namespace
	Help   string
	Type   prometheus.ValueType // CounterValue, GaugeValue, UntypedValue (histogram/summary marked by Kind)
	Kind   string               // counter, gauge, histogram, summary
	Labels []string
	Unit   string // Unit… constant
	// Deprecated names the metric that replaces this one; it is still
	// exposed, so queries written against it keep working.
	Deprecated string
}

// FQName is the full metric name.
func (d Def) FQName() string { return Namespace + "_" + d.Name }

// Desc builds the Prometheus descriptor.
func (d Def) Desc() *prometheus.Desc {
	return prometheus.NewDesc(d.FQName(), d.Help, d.Labels, nil)
}

const lastCompute = " Values reflect the last successful compute."

// persisted ends the help of the event counters.
const persisted = " Counted once, when a compute first sees the event, with the item's labels then; kept in the warehouse (counter_events), so it never decreases: not across computes, not across restarts, not when the item is later discarded, deleted, moved or reclassified."

var itemLabels = []string{"team", "project", "work_class", "item_type"}

// The flow and pipeline-health part of the catalogue (metrics.md).
var (
	ItemsCreated   = Def{Name: "items_created_total", Kind: "counter", Type: prometheus.CounterValue, Unit: UnitCount, Labels: itemLabels, Help: "Items created." + persisted}
	ItemsStarted   = Def{Name: "items_started_total", Kind: "counter", Type: prometheus.CounterValue, Unit: UnitCount, Labels: itemLabels, Help: "Transitions from a todo to a started stage." + persisted}
	ItemsCompleted = Def{Name: "items_completed_total", Kind: "counter", Type: prometheus.CounterValue, Unit: UnitCount, Labels: itemLabels, Help: "Entries into done of items not discarded at the time (a reopened item that completes again counts again)." + persisted}
	ItemsReopened  = Def{Name: "items_reopened_total", Kind: "counter", Type: prometheus.CounterValue, Unit: UnitCount, Labels: itemLabels, Help: "Transitions out of done (to started or todo)." + persisted}
	ItemsDiscarded = Def{Name: "items_discarded_total", Kind: "counter", Type: prometheus.CounterValue, Unit: UnitCount, Labels: itemLabels, Help: "Items found discarded (a discarded resolution or status), once per item." + persisted}

	CycleTime = Def{Name: "cycle_time_seconds", Kind: "histogram", Unit: UnitSeconds, Labels: []string{"team", "work_class"}, Help: "Cycle time (finish minus start) of every completion counted by items_completed_total, observed when counted; buckets 1,2,3,5,8,13,21,34,55,89 days." + persisted}
	// CycleTimeWindow is the summary the window percentiles were first
	// exposed as; its _count and _sum are window sizes that go down.
	CycleTimeWindow               = Def{Name: "cycle_time_window_seconds", Kind: "summary", Unit: UnitSeconds, Labels: []string{"team", "work_class"}, Deprecated: "throughline_cycle_time_window_percentile_seconds", Help: "Deprecated: use throughline_cycle_time_window_percentile_seconds and throughline_cycle_time_window_items (this summary's _count and _sum describe the window and go down). Nearest-rank cycle-time percentiles over items finished in the trailing window; team or work_class * aggregates all." + lastCompute}
	CycleTimeWindowPercentile     = Def{Name: "cycle_time_window_percentile_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitSeconds, Labels: []string{"team", "work_class", "percentile"}, Help: "Nearest-rank percentile (50, 70, 85, 95) of the cycle time of items finished in the trailing window (not discarded, with a start)." + lastCompute}
	CycleTimeWindowItems          = Def{Name: "cycle_time_window_items", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitCount, Labels: []string{"team", "work_class"}, Help: "Items finished in the trailing window (not discarded, with a start): the sample of the window percentiles." + lastCompute}
	CycleTimeWindowDistribution   = Def{Name: "cycle_time_window_distribution_items", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitCount, Labels: []string{"team", "work_class", "max_days"}, Help: "Items finished in the trailing window whose cycle time is at most max_days days (1, 2, 3, 5, 8, 13, 21, 34, 55, 89; +Inf: all of them), cumulative." + lastCompute}
	LeadTimeWindowPercentile      = Def{Name: "lead_time_window_percentile_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitSeconds, Labels: []string{"team", "work_class", "percentile"}, Help: "Nearest-rank percentile (50, 70, 85, 95) of the lead time (created to finished; exact in every source, exports included) of items finished in the trailing window (not discarded)." + lastCompute}
	TeamLeadTimeWindowPercentile  = Def{Name: "team_lead_time_window_percentile_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitSeconds, Labels: []string{"team", "percentile"}, Help: "Nearest-rank percentile (50, 70, 85, 95) of the lead time of the team's items finished in the trailing window, all work classes together." + lastCompute}
	TeamCycleTimeWindowPercentile = Def{Name: "team_cycle_time_window_percentile_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitSeconds, Labels: []string{"team", "percentile"}, Help: "Nearest-rank percentile (50, 70, 85, 95) of the cycle time of the team's items finished in the trailing window, all work classes together." + lastCompute}
	SLE                           = Def{Name: "sle_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitSeconds, Labels: []string{"team", "work_class"}, Help: "Service-level expectation: configured sle_days, else the window P85 of flow days. Rows with team or work_class * are totals (deprecated: use throughline_team_sle_seconds)." + lastCompute}
	SLEAttainment                 = Def{Name: "sle_attainment_ratio", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitRatio, Labels: []string{"team", "work_class"}, Help: "Share of window items whose flow days are within the SLE. Rows with team or work_class * are totals (deprecated: use throughline_team_sle_attainment_ratio)." + lastCompute}
	TeamSLE                       = Def{Name: "team_sle_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitSeconds, Labels: []string{"team", "sle_source"}, Help: "Service-level expectation of the team's work as a whole: configured sle_days (sle_source config), else the window P85 of flow days over all its work classes (p85)." + lastCompute}
	TeamSLEAttainment             = Def{Name: "team_sle_attainment_ratio", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitRatio, Labels: []string{"team"}, Help: "Share of the team's window items (all work classes) whose flow days are within its SLE." + lastCompute}
	WIPItems                      = Def{Name: "wip_items", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitCount, Labels: []string{"team", "work_class", "workflow_stage"}, Help: "Items in a started stage now, by stage class (active or wait); 0 for every team and class with items." + lastCompute}
	WIPLimit                      = Def{Name: "wip_limit_items", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitCount, Labels: []string{"team"}, Help: "Configured WIP limit of the team." + lastCompute}
	// WIPAge is the summary the WIP age quantiles were first exposed as.
	WIPAge           = Def{Name: "wip_age_seconds", Kind: "summary", Unit: UnitSeconds, Labels: []string{"team", "work_class"}, Deprecated: "throughline_wip_age_percentile_seconds", Help: "Deprecated: use throughline_wip_age_percentile_seconds (this summary's _count and _sum describe open items and go down). Nearest-rank quantiles of the age of open started items (whole calendar days, in seconds)." + lastCompute}
	WIPAgePercentile = Def{Name: "wip_age_percentile_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitSeconds, Labels: []string{"team", "work_class", "percentile"}, Help: "Nearest-rank percentile (50, 70, 85, 95) of the age of open started items (whole calendar days, in seconds)." + lastCompute}
	WIPOverSLE       = Def{Name: "wip_items_over_sle", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitCount, Labels: []string{"team", "work_class"}, Help: "Open started items older than the SLE; 0 for every team and class with items." + lastCompute}
	FlowEfficiency   = Def{Name: "flow_efficiency_ratio", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitRatio, Labels: []string{"team", "work_class"}, Help: "Active time over all started time of items finished in the window." + lastCompute}
	ThroughputWeekly = Def{Name: "throughput_weekly_items", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitCount, Labels: []string{"team", "project", "work_class", "week_offset"}, Help: "Completed, non-discarded items by the ISO week of their finish (the rules of throughput_weekly): week_offset 0 is the current week so far, -1 the last complete week, down to -12. A statement about history: it changes when history does (an item discarded, moved or reopened)." + lastCompute}
	DataQuality      = Def{Name: "data_quality_items", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitCount, Labels: []string{"source", "check"}, Help: "Items failing a data-quality check." + lastCompute}
	TeamInfo         = Def{Name: "team_info", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitInfo, Labels: []string{"team"}, Help: "Every team of the config, and unassigned; always 1." + lastCompute}
	ProjectInfo      = Def{Name: "project_info", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitInfo, Labels: []string{"project", "project_name", "team", "source"}, Help: "Every project: its key (the project label elsewhere), name, team and source; always 1." + lastCompute}

	msLabels                 = []string{"project", "milestone"}
	MilestoneInfo            = Def{Name: "milestone_info", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitInfo, Labels: []string{"project", "milestone", "team", "source", "url"}, Help: "Every milestone with labels: its team (the project's, else that of most of its scope, else unassigned), source and where it lives at the source (url; empty for CSV); always 1." + lastCompute}
	MilestoneDue             = Def{Name: "milestone_due_timestamp_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitDate, Labels: msLabels, Help: "Current due date of the milestone (Unix time, midnight UTC of the date)." + lastCompute}
	MilestoneBaselineDue     = Def{Name: "milestone_baseline_due_timestamp_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitDate, Labels: msLabels, Help: "First known due date of the milestone (Unix time, midnight UTC of the date)." + lastCompute}
	MilestoneForecast        = Def{Name: "milestone_forecast_timestamp_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitDate, Labels: []string{"project", "milestone", "confidence"}, Help: "Monte Carlo completion date at the confidence 0.5, 0.7, 0.85 or 0.95 (Unix time, midnight UTC of the date)." + lastCompute}
	MilestoneOnTime          = Def{Name: "milestone_on_time_probability_ratio", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitRatio, Labels: msLabels, Help: "Share of forecast trials finishing by the due date." + lastCompute}
	MilestoneRemaining       = Def{Name: "milestone_remaining_items", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitCount, Labels: msLabels, Help: "Scope items not completed and not discarded." + lastCompute}
	MilestoneScope           = Def{Name: "milestone_scope_items", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitCount, Labels: msLabels, Help: "Items in the milestone (discarded included): the top line of a burn-up." + lastCompute}
	MilestoneCompleted       = Def{Name: "milestone_completed_items", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitCount, Labels: msLabels, Help: "Scope items completed and not discarded: the rising line of a burn-up." + lastCompute}
	MilestoneSlip            = Def{Name: "milestone_slip_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitSeconds, Labels: msLabels, Help: "Forecast P85 date minus due date (positive: late)." + lastCompute}
	MilestoneStatus          = Def{Name: "milestone_status", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitBool, Labels: []string{"project", "milestone", "status"}, Help: "1 for the milestone's status (done, overdue, off_track, at_risk, on_track, unknown, no_due_date), 0 for the others." + lastCompute}
	ForecastBacktestHit      = Def{Name: "forecast_backtest_hit_ratio", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitRatio, Labels: []string{"project", "model", "percentile"}, Help: "Forecast accuracy from history (metrics.md \"Backtest\"): of the forecasts re-run as of each Monday in the lives of the project's milestones completed in the last 365 days, the share whose P50, P85 or P95 date (percentile 50, 85, 95) held the actual finish; well calibrated: about 0.5, 0.85, 0.95. Per forecast model (portfolio, independent)." + lastCompute}
	ForecastBacktestError    = Def{Name: "forecast_backtest_p85_error_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitSeconds, Labels: []string{"project", "model"}, Help: "Mean absolute error of the backtest's P85 dates (actual finish minus P85 date), in whole days." + lastCompute}
	ForecastBacktestBias     = Def{Name: "forecast_backtest_p85_bias_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitSeconds, Labels: []string{"project", "model"}, Help: "Mean of actual finish minus P85 date over the backtest's checkpoints: positive, milestones finished after their P85 dates (the forecasts were optimistic)." + lastCompute}
	ForecastBacktestSample   = Def{Name: "forecast_backtest_checkpoints", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitCount, Labels: []string{"project", "model"}, Help: "Checkpoints with a forecast the backtest scored: the sample of its hit rates." + lastCompute}
	BacktestOverallHit       = Def{Name: "forecast_backtest_overall_hit_ratio", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitRatio, Labels: []string{"model", "percentile"}, Help: "throughline_forecast_backtest_hit_ratio over the checkpoints of every project together." + lastCompute}
	BacktestOverallError     = Def{Name: "forecast_backtest_overall_p85_error_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitSeconds, Labels: []string{"model"}, Help: "throughline_forecast_backtest_p85_error_seconds over the checkpoints of every project together." + lastCompute}
	BacktestOverallBias      = Def{Name: "forecast_backtest_overall_p85_bias_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitSeconds, Labels: []string{"model"}, Help: "throughline_forecast_backtest_p85_bias_seconds over the checkpoints of every project together." + lastCompute}
	BacktestOverallSample    = Def{Name: "forecast_backtest_overall_checkpoints", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitCount, Labels: []string{"model"}, Help: "Checkpoints with a forecast the backtest scored, every project together." + lastCompute}
	CapacitySeconds          = Def{Name: "capacity_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitPersonSeconds, Labels: []string{"team", "week_offset"}, Help: "Team capacity in person-seconds (hours per week minus time off) for the week at the offset (0 = current)." + lastCompute}
	PlannedLoad              = Def{Name: "planned_load_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitPersonSeconds, Labels: []string{"team", "work_class", "week_offset"}, Help: "Remaining estimates in person-seconds, spread over working days to the due date, per week." + lastCompute}
	AllocationRatio          = Def{Name: "allocation_ratio", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitRatio, Labels: []string{"team", "week_offset"}, Help: "Planned load over capacity for the week at the offset (week 0: the whole week's capacity against the load from today on)." + lastCompute}
	AllocationRollingWeek    = Def{Name: "allocation_rolling_week_ratio", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitRatio, Labels: []string{"team"}, Help: "Planned load of the next 5 working days (today included, overdue work in full) over the capacity of those days: unlike week_offset 0 it does not fall through the week." + lastCompute}
	LoggedUtilization        = Def{Name: "logged_utilization_ratio", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitRatio, Labels: []string{"team"}, Help: "Logged hours over capacity in the last complete week." + lastCompute}
	ProjectCapacityAvailable = Def{Name: "project_capacity_available_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitPersonSeconds, Labels: []string{"team"}, Help: "Person-seconds of capacity of the next 4 weeks minus 4 x the P85 weekly operational load (trailing 8 weeks) minus planned project load." + lastCompute}

	SyncLastSuccess = Def{Name: "sync_last_success_timestamp_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitTimestamp, Labels: []string{"source"}, Help: "Unix time of the last successful sync of the source (kept across restarts)."}
	SyncDuration    = Def{Name: "sync_duration_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitSeconds, Labels: []string{"source"}, Help: "Duration of the last sync of the source."}
	SyncRequests    = Def{Name: "sync_requests_total", Kind: "counter", Type: prometheus.CounterValue, Unit: UnitCount, Labels: []string{"source", "code"}, Help: "HTTP requests to the source's API by reply status code (error: no reply); retries count. Kept in the warehouse across restarts."}
	SyncErrors      = Def{Name: "sync_errors_total", Kind: "counter", Type: prometheus.CounterValue, Unit: UnitCount, Labels: []string{"source", "reason"}, Help: "Failed syncs by reason. Kept in the warehouse across restarts."}
	SyncRetryAfter  = Def{Name: "sync_retry_after_exceeded_total", Kind: "counter", Type: prometheus.CounterValue, Unit: UnitCount, Labels: []string{"source"}, Help: "Syncs stopped because the source asked to wait longer than its max_retry_after before retrying (Retry-After). Kept in the warehouse across restarts."}
	Up              = Def{Name: "up", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitBool, Labels: []string{"source"}, Help: "1 if the last sync of the source succeeded, else 0."}
	TaskLastSuccess = Def{Name: "task_last_success_timestamp_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitTimestamp, Labels: []string{"task"}, Help: "Unix time of the last successful run of the scheduled task (compute), kept across restarts."}
	TaskDuration    = Def{Name: "task_duration_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitSeconds, Labels: []string{"task"}, Help: "Duration of the last run of the scheduled task."}
	TaskSuccess     = Def{Name: "task_success", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitBool, Labels: []string{"task"}, Help: "1 if the last run of the scheduled task succeeded, else 0."}
	// The job_* names carry a job label, which Prometheus stores as
	// exported_job (it sets job itself): kept for queries written against
	// them; the task_* names replace them.
	JobLastSuccess = Def{Name: "job_last_success_timestamp_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitTimestamp, Labels: []string{"job"}, Deprecated: "throughline_task_last_success_timestamp_seconds", Help: "Deprecated: use throughline_task_last_success_timestamp_seconds (Prometheus renames this job label to exported_job). Unix time of the last successful run of the job."}
	JobDuration    = Def{Name: "job_duration_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitSeconds, Labels: []string{"job"}, Deprecated: "throughline_task_duration_seconds", Help: "Deprecated: use throughline_task_duration_seconds. Duration of the last run of the job."}
	JobSuccess     = Def{Name: "job_success", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitBool, Labels: []string{"job"}, Deprecated: "throughline_task_success", Help: "Deprecated: use throughline_task_success. 1 if the last run of the job succeeded, else 0."}
	BuildInfo      = Def{Name: "build_info", Kind: "gauge", Type: prometheus.GaugeValue, Unit: UnitInfo, Labels: []string{"version", "revision", "goversion"}, Help: "Build information; always 1."}
)

// Catalog lists every metric the exporter serves.
var Catalog = []Def{
	ItemsCreated, ItemsStarted, ItemsCompleted, ItemsReopened, ItemsDiscarded,
	CycleTime, CycleTimeWindow, CycleTimeWindowPercentile, CycleTimeWindowItems, CycleTimeWindowDistribution, TeamCycleTimeWindowPercentile,
	LeadTimeWindowPercentile, TeamLeadTimeWindowPercentile,
	SLE, SLEAttainment, TeamSLE, TeamSLEAttainment,
	WIPItems, WIPLimit, WIPAge, WIPAgePercentile, WIPOverSLE, FlowEfficiency, ThroughputWeekly, DataQuality, TeamInfo, ProjectInfo,
	MilestoneInfo, MilestoneDue, MilestoneBaselineDue, MilestoneForecast, MilestoneOnTime, MilestoneRemaining, MilestoneScope, MilestoneCompleted,
	MilestoneSlip, MilestoneStatus,
	ForecastBacktestHit, ForecastBacktestError, ForecastBacktestBias, ForecastBacktestSample,
	BacktestOverallHit, BacktestOverallError, BacktestOverallBias, BacktestOverallSample,
	CapacitySeconds, PlannedLoad, AllocationRatio, AllocationRollingWeek, LoggedUtilization, ProjectCapacityAvailable,
	SyncLastSuccess, SyncDuration, SyncErrors, SyncRequests, SyncRetryAfter, Up, TaskLastSuccess, TaskDuration, TaskSuccess,
	JobLastSuccess, JobDuration, JobSuccess, BuildInfo,
}

// Percentile is the percentile label value of a quantile: 0.85 → "85".
func Percentile(q float64) string { return strconv.Itoa(int(math.Round(q * 100))) }

// MaxDays is the max_days label value of a distribution bound in days.
func MaxDays(d float64) string { return strconv.FormatFloat(d, 'f', -1, 64) }
