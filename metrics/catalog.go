package metrics

import "github.com/prometheus/client_golang/prometheus"

// Namespace prefixes every metric.
const Namespace = "throughline"

// Def is one metric of the catalogue: the single place names, help and
// labels are written, so the collector, rules and dashboards cannot drift.
type Def struct {
	Name   string // without the namespace
	Help   string
	Type   prometheus.ValueType // CounterValue, GaugeValue, UntypedValue (histogram/summary marked by Kind)
	Kind   string               // counter, gauge, histogram, summary
	Labels []string
}

// FQName is the full metric name.
func (d Def) FQName() string { return Namespace + "_" + d.Name }

// Desc builds the Prometheus descriptor.
func (d Def) Desc() *prometheus.Desc {
	return prometheus.NewDesc(d.FQName(), d.Help, d.Labels, nil)
}

const lastCompute = " Values reflect the last successful compute."

var itemLabels = []string{"team", "project", "work_class", "item_type"}

// The flow and pipeline-health part of the catalogue (metrics.md).
var (
	ItemsCreated   = Def{Name: "items_created_total", Kind: "counter", Type: prometheus.CounterValue, Labels: itemLabels, Help: "Items created, over all history." + lastCompute}
	ItemsStarted   = Def{Name: "items_started_total", Kind: "counter", Type: prometheus.CounterValue, Labels: itemLabels, Help: "Transitions from a todo to a started stage, over all history." + lastCompute}
	ItemsCompleted = Def{Name: "items_completed_total", Kind: "counter", Type: prometheus.CounterValue, Labels: itemLabels, Help: "Completions of non-discarded items ever; a reopen never decrements." + lastCompute}
	ItemsReopened  = Def{Name: "items_reopened_total", Kind: "counter", Type: prometheus.CounterValue, Labels: itemLabels, Help: "Transitions out of done (to started or todo)." + lastCompute}
	ItemsDiscarded = Def{Name: "items_discarded_total", Kind: "counter", Type: prometheus.CounterValue, Labels: itemLabels, Help: "Items completed with a discarded resolution." + lastCompute}

	CycleTime       = Def{Name: "cycle_time_seconds", Kind: "histogram", Labels: []string{"team", "work_class"}, Help: "Cycle time (finish minus start) of all completed items; buckets 1,2,3,5,8,13,21,34,55,89 days." + lastCompute}
	CycleTimeWindow = Def{Name: "cycle_time_window_seconds", Kind: "summary", Labels: []string{"team", "work_class"}, Help: "Nearest-rank cycle-time percentiles over items finished in the trailing window; team or work_class * aggregates all." + lastCompute}
	SLE             = Def{Name: "sle_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Labels: []string{"team", "work_class"}, Help: "Service-level expectation: configured sle_days, else the window P85 of flow days." + lastCompute}
	SLEAttainment   = Def{Name: "sle_attainment_ratio", Kind: "gauge", Type: prometheus.GaugeValue, Labels: []string{"team", "work_class"}, Help: "Share of window items whose flow days are within the SLE." + lastCompute}
	WIPItems        = Def{Name: "wip_items", Kind: "gauge", Type: prometheus.GaugeValue, Labels: []string{"team", "work_class", "workflow_stage"}, Help: "Items in a started stage now, by stage class (active or wait)." + lastCompute}
	WIPLimit        = Def{Name: "wip_limit_items", Kind: "gauge", Type: prometheus.GaugeValue, Labels: []string{"team"}, Help: "Configured WIP limit of the team." + lastCompute}
	WIPAge          = Def{Name: "wip_age_seconds", Kind: "summary", Labels: []string{"team", "work_class"}, Help: "Nearest-rank quantiles of the age of open started items (whole calendar days, in seconds); exposed as a summary so the quantile label is lint-clean." + lastCompute}
	WIPOverSLE      = Def{Name: "wip_items_over_sle", Kind: "gauge", Type: prometheus.GaugeValue, Labels: []string{"team", "work_class"}, Help: "Open started items older than the SLE." + lastCompute}
	FlowEfficiency  = Def{Name: "flow_efficiency_ratio", Kind: "gauge", Type: prometheus.GaugeValue, Labels: []string{"team", "work_class"}, Help: "Active time over all started time of items finished in the window." + lastCompute}
	DataQuality     = Def{Name: "data_quality_items", Kind: "gauge", Type: prometheus.GaugeValue, Labels: []string{"source", "check"}, Help: "Items failing a data-quality check." + lastCompute}

	msLabels                 = []string{"project", "milestone"}
	MilestoneDue             = Def{Name: "milestone_due_timestamp_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Labels: msLabels, Help: "Current due date of the milestone (Unix time, midnight UTC of the date)." + lastCompute}
	MilestoneBaselineDue     = Def{Name: "milestone_baseline_due_timestamp_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Labels: msLabels, Help: "First known due date of the milestone." + lastCompute}
	MilestoneForecast        = Def{Name: "milestone_forecast_timestamp_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Labels: []string{"project", "milestone", "confidence"}, Help: "Monte Carlo completion date at the confidence 0.5, 0.7, 0.85 or 0.95." + lastCompute}
	MilestoneOnTime          = Def{Name: "milestone_on_time_probability_ratio", Kind: "gauge", Type: prometheus.GaugeValue, Labels: msLabels, Help: "Share of forecast trials finishing by the due date." + lastCompute}
	MilestoneRemaining       = Def{Name: "milestone_remaining_items", Kind: "gauge", Type: prometheus.GaugeValue, Labels: msLabels, Help: "Scope items not completed and not discarded." + lastCompute}
	MilestoneSlip            = Def{Name: "milestone_slip_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Labels: msLabels, Help: "Forecast P85 date minus due date (positive: late)." + lastCompute}
	MilestoneStatus          = Def{Name: "milestone_status", Kind: "gauge", Type: prometheus.GaugeValue, Labels: []string{"project", "milestone", "status"}, Help: "1 for the milestone's status (done, overdue, off_track, at_risk, on_track, unknown, no_due_date), 0 for the others." + lastCompute}
	CapacitySeconds          = Def{Name: "capacity_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Labels: []string{"team", "week_offset"}, Help: "Team capacity (hours per week minus time off) for the week at the offset (0 = current)." + lastCompute}
	PlannedLoad              = Def{Name: "planned_load_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Labels: []string{"team", "work_class", "week_offset"}, Help: "Remaining estimates spread over working days to the due date, per week." + lastCompute}
	AllocationRatio          = Def{Name: "allocation_ratio", Kind: "gauge", Type: prometheus.GaugeValue, Labels: []string{"team", "week_offset"}, Help: "Planned load over capacity for the week at the offset." + lastCompute}
	LoggedUtilization        = Def{Name: "logged_utilization_ratio", Kind: "gauge", Type: prometheus.GaugeValue, Labels: []string{"team"}, Help: "Logged hours over capacity in the last complete week." + lastCompute}
	ProjectCapacityAvailable = Def{Name: "project_capacity_available_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Labels: []string{"team"}, Help: "Capacity of the next 4 weeks minus 4 x the P85 weekly operational load (trailing 8 weeks) minus planned project load." + lastCompute}

	SyncLastSuccess = Def{Name: "sync_last_success_timestamp_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Labels: []string{"source"}, Help: "Unix time of the last successful sync of the source."}
	SyncDuration    = Def{Name: "sync_duration_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Labels: []string{"source"}, Help: "Duration of the last sync of the source."}
	SyncRequests    = Def{Name: "sync_requests_total", Kind: "counter", Type: prometheus.CounterValue, Labels: []string{"source", "code"}, Help: "HTTP requests to the source's API by reply status code (error: no reply) since the process started; retries count."}
	SyncErrors      = Def{Name: "sync_errors_total", Kind: "counter", Type: prometheus.CounterValue, Labels: []string{"source", "reason"}, Help: "Failed syncs by reason since the process started."}
	SyncRetryAfter  = Def{Name: "sync_retry_after_exceeded_total", Kind: "counter", Type: prometheus.CounterValue, Labels: []string{"source"}, Help: "Syncs stopped because the source asked to wait longer than its max_retry_after before retrying (Retry-After), since the process started."}
	Up              = Def{Name: "up", Kind: "gauge", Type: prometheus.GaugeValue, Labels: []string{"source"}, Help: "1 if the last sync of the source succeeded, else 0."}
	JobLastSuccess  = Def{Name: "job_last_success_timestamp_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Labels: []string{"job"}, Help: "Unix time of the last successful run of the job."}
	JobDuration     = Def{Name: "job_duration_seconds", Kind: "gauge", Type: prometheus.GaugeValue, Labels: []string{"job"}, Help: "Duration of the last run of the job."}
	JobSuccess      = Def{Name: "job_success", Kind: "gauge", Type: prometheus.GaugeValue, Labels: []string{"job"}, Help: "1 if the last run of the job succeeded, else 0."}
	BuildInfo       = Def{Name: "build_info", Kind: "gauge", Type: prometheus.GaugeValue, Labels: []string{"version", "revision", "goversion"}, Help: "Build information; always 1."}
)

// Catalog lists every metric the exporter serves.
var Catalog = []Def{
	ItemsCreated, ItemsStarted, ItemsCompleted, ItemsReopened, ItemsDiscarded,
	CycleTime, CycleTimeWindow, SLE, SLEAttainment, WIPItems, WIPLimit, WIPAge, WIPOverSLE, FlowEfficiency, DataQuality,
	MilestoneDue, MilestoneBaselineDue, MilestoneForecast, MilestoneOnTime, MilestoneRemaining, MilestoneSlip, MilestoneStatus,
	CapacitySeconds, PlannedLoad, AllocationRatio, LoggedUtilization, ProjectCapacityAvailable,
	SyncLastSuccess, SyncDuration, SyncErrors, SyncRequests, SyncRetryAfter, Up, JobLastSuccess, JobDuration, JobSuccess, BuildInfo,
}
