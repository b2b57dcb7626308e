-- Delivery (milestones, forecasts) and capacity tables, rebuilt by the compute job;
-- milestone_forecasts and forecast_calibration keep history.

CREATE TABLE cumulative_flow (
    day DATE NOT NULL,
    team VARCHAR NOT NULL,
    stage VARCHAR NOT NULL,
    items BIGINT NOT NULL
);
COMMENT ON TABLE cumulative_flow IS 'Cumulative flow: items per stage at the end of each day (from status history), per team.';
COMMENT ON COLUMN cumulative_flow.day IS 'Calendar day in the configured time zone.';
COMMENT ON COLUMN cumulative_flow.team IS 'Team.';
COMMENT ON COLUMN cumulative_flow.stage IS 'todo, started or done (done includes discarded items).';
COMMENT ON COLUMN cumulative_flow.items IS 'Items in the stage at the end of the day.';

CREATE TABLE milestone_forecasts (
    milestone_id VARCHAR NOT NULL,
    computed_at TIMESTAMPTZ NOT NULL,
    seed BIGINT NOT NULL,
    trials INTEGER NOT NULL,
    remaining INTEGER NOT NULL,
    p50_date DATE,
    p70_date DATE,
    p85_date DATE,
    p95_date DATE,
    on_time_probability DOUBLE,
    known BOOLEAN NOT NULL,
    start_date DATE NOT NULL,
    due_date DATE,
    window_days INTEGER NOT NULL,
    samples INTEGER[] NOT NULL,
    day_percentiles INTEGER[]
);
COMMENT ON TABLE milestone_forecasts IS 'Monte Carlo "when" forecasts with their inputs; one per milestone per day (the day''s latest), kept for calibration.';
COMMENT ON COLUMN milestone_forecasts.milestone_id IS 'Milestone id.';
COMMENT ON COLUMN milestone_forecasts.computed_at IS 'When the forecast was computed.';
COMMENT ON COLUMN milestone_forecasts.seed IS 'Random seed (metrics.forecast.seed): same data and seed give the same dates.';
COMMENT ON COLUMN milestone_forecasts.trials IS 'Number of simulated trials.';
COMMENT ON COLUMN milestone_forecasts.remaining IS 'Items left (not completed, not discarded) when forecast.';
COMMENT ON COLUMN milestone_forecasts.p50_date IS 'Date by which 50% of trials finished (nearest rank); NULL when unknown or beyond the horizon.';
COMMENT ON COLUMN milestone_forecasts.p70_date IS 'Date by which 70% of trials finished.';
COMMENT ON COLUMN milestone_forecasts.p85_date IS 'Date by which 85% of trials finished.';
COMMENT ON COLUMN milestone_forecasts.p95_date IS 'Date by which 95% of trials finished.';
COMMENT ON COLUMN milestone_forecasts.on_time_probability IS 'Share of trials finished on or before the due date.';
COMMENT ON COLUMN milestone_forecasts.known IS 'false when the project had no completions in the window: the forecast is unknown, never a date.';
COMMENT ON COLUMN milestone_forecasts.start_date IS 'First simulated day (the day after the compute).';
COMMENT ON COLUMN milestone_forecasts.due_date IS 'Due date at the time of the forecast.';
COMMENT ON COLUMN milestone_forecasts.window_days IS 'Length of the throughput window sampled.';
COMMENT ON COLUMN milestone_forecasts.samples IS 'Daily throughput of the milestone''s project over the window (zero days included), oldest first: the input.';
COMMENT ON COLUMN milestone_forecasts.day_percentiles IS 'Completion day (1 = start_date) at each percentile 1..100 of the trials, for calibration.';

CREATE TABLE forecast_calibration (
    milestone_id VARCHAR NOT NULL,
    computed_at TIMESTAMPTZ NOT NULL,
    actual_date DATE NOT NULL,
    actual_percentile DOUBLE NOT NULL
);
COMMENT ON TABLE forecast_calibration IS 'For completed milestones: where the actual completion date fell in each stored forecast (0.85 = at its P85).';
COMMENT ON COLUMN forecast_calibration.milestone_id IS 'Milestone id.';
COMMENT ON COLUMN forecast_calibration.computed_at IS 'When the stored forecast was made.';
COMMENT ON COLUMN forecast_calibration.actual_date IS 'Date of the milestone''s last scope completion.';
COMMENT ON COLUMN forecast_calibration.actual_percentile IS 'Share of that forecast''s trials finished on or before the actual date.';

CREATE TABLE milestone_status (
    milestone_id VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    project VARCHAR,
    due_date DATE,
    baseline_due_date DATE,
    due_date_changes INTEGER NOT NULL,
    scope INTEGER NOT NULL,
    completed INTEGER NOT NULL,
    remaining INTEGER NOT NULL,
    status VARCHAR NOT NULL,
    slip_days INTEGER,
    baseline_variance_days INTEGER,
    delivery_slip_days INTEGER,
    on_time_probability DOUBLE,
    p50_date DATE,
    p85_date DATE,
    last_completion DATE,
    completed_at TIMESTAMPTZ
);
COMMENT ON TABLE milestone_status IS 'Every milestone with its scope, forecast and status (done, overdue, off_track, at_risk, on_track, unknown, no_due_date).';
COMMENT ON COLUMN milestone_status.milestone_id IS 'Milestone id.';
COMMENT ON COLUMN milestone_status.name IS 'Milestone name.';
COMMENT ON COLUMN milestone_status.project IS 'Project key.';
COMMENT ON COLUMN milestone_status.due_date IS 'Current due date.';
COMMENT ON COLUMN milestone_status.baseline_due_date IS 'First known due date.';
COMMENT ON COLUMN milestone_status.due_date_changes IS 'Number of due-date moves (milestone_due_changes rows).';
COMMENT ON COLUMN milestone_status.scope IS 'Items in the milestone (discarded included).';
COMMENT ON COLUMN milestone_status.completed IS 'Scope items completed and not discarded.';
COMMENT ON COLUMN milestone_status.remaining IS 'Scope items not completed and not discarded.';
COMMENT ON COLUMN milestone_status.status IS 'done (all scope complete, or released with none left), overdue (due passed, not done), off_track (due < P50), at_risk (P50 <= due < P85), on_track (due >= P85), unknown (no throughput in the window), no_due_date.';
COMMENT ON COLUMN milestone_status.slip_days IS 'P85 date - due date (open milestones with a forecast).';
COMMENT ON COLUMN milestone_status.baseline_variance_days IS 'due_date - baseline_due_date.';
COMMENT ON COLUMN milestone_status.delivery_slip_days IS 'For done milestones: date of the last completion - baseline_due_date.';
COMMENT ON COLUMN milestone_status.on_time_probability IS 'Share of forecast trials done by the due date.';
COMMENT ON COLUMN milestone_status.p50_date IS 'Forecast P50 date.';
COMMENT ON COLUMN milestone_status.p85_date IS 'Forecast P85 date.';
COMMENT ON COLUMN milestone_status.last_completion IS 'Date of the last scope completion.';
COMMENT ON COLUMN milestone_status.completed_at IS 'Completion or release time reported by the source.';

CREATE TABLE utilization_weekly (
    week_start DATE NOT NULL,
    team VARCHAR NOT NULL,
    capacity_hours DOUBLE NOT NULL,
    logged_hours DOUBLE NOT NULL,
    logged_utilization DOUBLE,
    planned_hours DOUBLE,
    allocation_ratio DOUBLE,
    wip BIGINT,
    wip_limit INTEGER
);
COMMENT ON TABLE utilization_weekly IS 'Per team and ISO week: capacity, logged hours and utilization; planned load and allocation for the current and next 5 weeks; WIP at the end of the week.';
COMMENT ON COLUMN utilization_weekly.week_start IS 'Monday of the ISO week.';
COMMENT ON COLUMN utilization_weekly.team IS 'Team.';
COMMENT ON COLUMN utilization_weekly.capacity_hours IS 'Sum over members of hours_per_week minus time off.';
COMMENT ON COLUMN utilization_weekly.logged_hours IS 'Worklog hours of the team''s members that week.';
COMMENT ON COLUMN utilization_weekly.logged_utilization IS 'logged_hours / capacity_hours.';
COMMENT ON COLUMN utilization_weekly.planned_hours IS 'Planned load (remaining estimates spread over working days); current and future weeks only.';
COMMENT ON COLUMN utilization_weekly.allocation_ratio IS 'planned_hours / capacity_hours.';
COMMENT ON COLUMN utilization_weekly.wip IS 'Items in a started stage at the end of the week (or today).';
COMMENT ON COLUMN utilization_weekly.wip_limit IS 'Configured WIP limit.';

CREATE TABLE capacity_outlook (
    team VARCHAR NOT NULL,
    week_offset INTEGER NOT NULL,
    week_start DATE NOT NULL,
    capacity_hours DOUBLE NOT NULL,
    planned_project_hours DOUBLE NOT NULL,
    planned_operational_hours DOUBLE NOT NULL,
    planned_unclassified_hours DOUBLE NOT NULL,
    allocation_ratio DOUBLE
);
COMMENT ON TABLE capacity_outlook IS 'Capacity and planned load for the current week (offset 0) and the next 5.';
COMMENT ON COLUMN capacity_outlook.team IS 'Team.';
COMMENT ON COLUMN capacity_outlook.week_offset IS '0 = the current ISO week.';
COMMENT ON COLUMN capacity_outlook.week_start IS 'Monday of that week.';
COMMENT ON COLUMN capacity_outlook.capacity_hours IS 'Capacity of the team that week.';
COMMENT ON COLUMN capacity_outlook.planned_project_hours IS 'Planned load of project work.';
COMMENT ON COLUMN capacity_outlook.planned_operational_hours IS 'Planned load of operational work.';
COMMENT ON COLUMN capacity_outlook.planned_unclassified_hours IS 'Planned load of unclassified work.';
COMMENT ON COLUMN capacity_outlook.allocation_ratio IS 'All planned load / capacity (bands: < 0.6 under, 0.6-0.85 healthy, 0.85-1 warning, > 1 over-allocated).';

CREATE TABLE project_capacity (
    team VARCHAR NOT NULL,
    weeks INTEGER NOT NULL,
    capacity_hours DOUBLE NOT NULL,
    operational_p85_weekly_hours DOUBLE NOT NULL,
    planned_project_hours DOUBLE NOT NULL,
    available_hours DOUBLE NOT NULL
);
COMMENT ON TABLE project_capacity IS 'Project capacity available in the next 4 weeks: capacity - 4 x P85 of weekly operational load (trailing 8 complete weeks) - planned project load.';
COMMENT ON COLUMN project_capacity.team IS 'Team.';
COMMENT ON COLUMN project_capacity.weeks IS 'Horizon in weeks (4).';
COMMENT ON COLUMN project_capacity.capacity_hours IS 'Capacity over the horizon.';
COMMENT ON COLUMN project_capacity.operational_p85_weekly_hours IS 'Nearest-rank P85 of weekly logged hours on operational work over the trailing 8 complete weeks.';
COMMENT ON COLUMN project_capacity.planned_project_hours IS 'Planned project load over the horizon.';
COMMENT ON COLUMN project_capacity.available_hours IS 'What is left for new project work (may be negative: overcommitted).';

CREATE TABLE work_class_share (
    week_start DATE NOT NULL,
    team VARCHAR NOT NULL,
    work_class VARCHAR NOT NULL,
    items BIGINT NOT NULL,
    items_share DOUBLE,
    logged_hours DOUBLE NOT NULL,
    hours_share DOUBLE
);
COMMENT ON TABLE work_class_share IS 'Per team and week: throughput and logged hours by work class, with their shares.';
COMMENT ON COLUMN work_class_share.week_start IS 'Monday of the ISO week.';
COMMENT ON COLUMN work_class_share.team IS 'Team (of the item for throughput, of the person for hours).';
COMMENT ON COLUMN work_class_share.work_class IS 'project, operational or unclassified.';
COMMENT ON COLUMN work_class_share.items IS 'Items completed (throughput).';
COMMENT ON COLUMN work_class_share.items_share IS 'Share of the team''s throughput that week.';
COMMENT ON COLUMN work_class_share.logged_hours IS 'Hours logged by the team''s members on items of the class.';
COMMENT ON COLUMN work_class_share.hours_share IS 'Share of the team''s logged hours that week.';
