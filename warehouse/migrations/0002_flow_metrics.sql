-- Flow metric tables: rebuilt by the compute job (see docs/metrics.md for the rules).

CREATE TABLE item_flow (
    item_id VARCHAR NOT NULL,
    key VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    team VARCHAR NOT NULL,
    work_class VARCHAR NOT NULL,
    item_type VARCHAR,
    project VARCHAR,
    status VARCHAR,
    stage VARCHAR,
    created_at TIMESTAMPTZ,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    cycle_seconds BIGINT,
    flow_days INTEGER,
    lead_seconds BIGINT,
    reopen_count INTEGER NOT NULL,
    skipped_start BOOLEAN NOT NULL,
    discarded BOOLEAN NOT NULL,
    completed BOOLEAN NOT NULL,
    age_days INTEGER,
    active_seconds BIGINT,
    wait_seconds BIGINT,
    flow_efficiency DOUBLE,
    start_day DATE,
    finish_day DATE,
    starts INTEGER NOT NULL,
    done_entries INTEGER NOT NULL
);
COMMENT ON TABLE item_flow IS 'Start S and finish F of every item, from its status history (rules in metrics.md).';
COMMENT ON COLUMN item_flow.item_id IS 'Item id.';
COMMENT ON COLUMN item_flow.key IS 'Vendor key.';
COMMENT ON COLUMN item_flow.source IS 'Source id.';
COMMENT ON COLUMN item_flow.team IS 'Attributed team (or unassigned).';
COMMENT ON COLUMN item_flow.work_class IS 'project, operational or unclassified.';
COMMENT ON COLUMN item_flow.item_type IS 'Vendor item type.';
COMMENT ON COLUMN item_flow.project IS 'Project key.';
COMMENT ON COLUMN item_flow.status IS 'Current vendor status.';
COMMENT ON COLUMN item_flow.stage IS 'Current stage: todo, started, done.';
COMMENT ON COLUMN item_flow.created_at IS 'Creation time.';
COMMENT ON COLUMN item_flow.started_at IS 'S: first todo->started after the last reset (false start or reopen to backlog); NULL if never started.';
COMMENT ON COLUMN item_flow.finished_at IS 'F: last entry into done, when the item is done now; NULL otherwise.';
COMMENT ON COLUMN item_flow.cycle_seconds IS 'F - S in seconds (exact); NULL without both.';
COMMENT ON COLUMN item_flow.flow_days IS 'date(F) - date(S) + 1 in the configured time zone (calendar days, inclusive).';
COMMENT ON COLUMN item_flow.lead_seconds IS 'F - created_at in seconds.';
COMMENT ON COLUMN item_flow.reopen_count IS 'Transitions out of done (to started or todo).';
COMMENT ON COLUMN item_flow.skipped_start IS 'Completed without ever being started: counts in throughput, has no cycle time.';
COMMENT ON COLUMN item_flow.discarded IS 'Completed with a discarded resolution or status: excluded from throughput and cycle time.';
COMMENT ON COLUMN item_flow.completed IS 'Stage is done now and F is set.';
COMMENT ON COLUMN item_flow.age_days IS 'For open started items: today - date(S) + 1.';
COMMENT ON COLUMN item_flow.active_seconds IS 'Time in active started statuses between S and F (or now).';
COMMENT ON COLUMN item_flow.wait_seconds IS 'Time in wait statuses between S and F (or now).';
COMMENT ON COLUMN item_flow.flow_efficiency IS 'active_seconds / (active_seconds + wait_seconds).';
COMMENT ON COLUMN item_flow.start_day IS 'date(S) in the configured time zone.';
COMMENT ON COLUMN item_flow.finish_day IS 'date(F) in the configured time zone.';
COMMENT ON COLUMN item_flow.starts IS 'todo -> started transitions in the history (false starts included).';
COMMENT ON COLUMN item_flow.done_entries IS 'Entries into done in the history (a reopened item that completes again has 2).';

CREATE TABLE throughput_daily (
    day DATE NOT NULL,
    team VARCHAR NOT NULL,
    work_class VARCHAR NOT NULL,
    items BIGINT NOT NULL
);
COMMENT ON TABLE throughput_daily IS 'Completed, non-discarded items per day of F; every day from the first item to today, zero days included.';
COMMENT ON COLUMN throughput_daily.day IS 'Calendar day in the configured time zone.';
COMMENT ON COLUMN throughput_daily.team IS 'Team.';
COMMENT ON COLUMN throughput_daily.work_class IS 'Work class.';
COMMENT ON COLUMN throughput_daily.items IS 'Items finished that day.';

CREATE TABLE throughput_weekly (
    week_start DATE NOT NULL,
    team VARCHAR NOT NULL,
    work_class VARCHAR NOT NULL,
    items BIGINT NOT NULL
);
COMMENT ON TABLE throughput_weekly IS 'throughput_daily summed over ISO weeks (Monday start).';
COMMENT ON COLUMN throughput_weekly.week_start IS 'Monday of the ISO week.';
COMMENT ON COLUMN throughput_weekly.team IS 'Team.';
COMMENT ON COLUMN throughput_weekly.work_class IS 'Work class.';
COMMENT ON COLUMN throughput_weekly.items IS 'Items finished that week.';

CREATE TABLE cycle_time_stats (
    team VARCHAR NOT NULL,
    work_class VARCHAR NOT NULL,
    window_days INTEGER NOT NULL,
    items BIGINT NOT NULL,
    p50_days INTEGER,
    p70_days INTEGER,
    p85_days INTEGER,
    p95_days INTEGER,
    sle_days INTEGER,
    sle_attainment DOUBLE,
    p50_seconds BIGINT,
    p70_seconds BIGINT,
    p85_seconds BIGINT,
    p95_seconds BIGINT,
    sle_source VARCHAR,
    flow_efficiency DOUBLE,
    cycle_seconds_sum BIGINT
);
COMMENT ON TABLE cycle_time_stats IS 'Nearest-rank cycle-time percentiles over items finished in the trailing window; team or work_class * = all.';
COMMENT ON COLUMN cycle_time_stats.team IS 'Team, or * for all teams.';
COMMENT ON COLUMN cycle_time_stats.work_class IS 'Work class, or * for all classes.';
COMMENT ON COLUMN cycle_time_stats.window_days IS 'Trailing window in days (metrics.window_days).';
COMMENT ON COLUMN cycle_time_stats.items IS 'Items with a cycle time finished in the window.';
COMMENT ON COLUMN cycle_time_stats.p50_days IS 'Flow days at rank ceil(0.50 n).';
COMMENT ON COLUMN cycle_time_stats.p70_days IS 'Flow days at rank ceil(0.70 n).';
COMMENT ON COLUMN cycle_time_stats.p85_days IS 'Flow days at rank ceil(0.85 n).';
COMMENT ON COLUMN cycle_time_stats.p95_days IS 'Flow days at rank ceil(0.95 n).';
COMMENT ON COLUMN cycle_time_stats.sle_days IS 'Service-level expectation: the team''s sle_days, else p85_days.';
COMMENT ON COLUMN cycle_time_stats.sle_attainment IS 'Share of window items with flow_days <= sle_days.';
COMMENT ON COLUMN cycle_time_stats.p50_seconds IS 'cycle_seconds at rank ceil(0.50 n).';
COMMENT ON COLUMN cycle_time_stats.p70_seconds IS 'cycle_seconds at rank ceil(0.70 n).';
COMMENT ON COLUMN cycle_time_stats.p85_seconds IS 'cycle_seconds at rank ceil(0.85 n).';
COMMENT ON COLUMN cycle_time_stats.p95_seconds IS 'cycle_seconds at rank ceil(0.95 n).';
COMMENT ON COLUMN cycle_time_stats.sle_source IS 'config (team sle_days) or p85.';
COMMENT ON COLUMN cycle_time_stats.cycle_seconds_sum IS 'Sum of cycle_seconds of the window items (the Prometheus summary _sum).';
COMMENT ON COLUMN cycle_time_stats.flow_efficiency IS 'Time in active started statuses / time in all started statuses, summed over the window items.';

CREATE TABLE wip_daily (
    day DATE NOT NULL,
    team VARCHAR NOT NULL,
    work_class VARCHAR NOT NULL,
    items BIGINT NOT NULL
);
COMMENT ON TABLE wip_daily IS 'Items whose stage at the end of the day is started, per day (zero days included).';
COMMENT ON COLUMN wip_daily.day IS 'Calendar day.';
COMMENT ON COLUMN wip_daily.team IS 'Team.';
COMMENT ON COLUMN wip_daily.work_class IS 'Work class.';
COMMENT ON COLUMN wip_daily.items IS 'Items in a started stage at end of day.';

CREATE TABLE aging_wip (
    item_id VARCHAR NOT NULL,
    key VARCHAR NOT NULL,
    team VARCHAR NOT NULL,
    work_class VARCHAR NOT NULL,
    status VARCHAR,
    stage_class VARCHAR,
    started_at TIMESTAMPTZ NOT NULL,
    age_days INTEGER NOT NULL,
    sle_days INTEGER,
    over_sle BOOLEAN NOT NULL
);
COMMENT ON TABLE aging_wip IS 'Open started items with their age and whether it exceeds the SLE.';
COMMENT ON COLUMN aging_wip.item_id IS 'Item id.';
COMMENT ON COLUMN aging_wip.key IS 'Vendor key.';
COMMENT ON COLUMN aging_wip.team IS 'Team.';
COMMENT ON COLUMN aging_wip.work_class IS 'Work class.';
COMMENT ON COLUMN aging_wip.status IS 'Current vendor status.';
COMMENT ON COLUMN aging_wip.stage_class IS 'active or wait.';
COMMENT ON COLUMN aging_wip.started_at IS 'S.';
COMMENT ON COLUMN aging_wip.age_days IS 'today - date(S) + 1.';
COMMENT ON COLUMN aging_wip.sle_days IS 'SLE of the team and class (cycle_time_stats).';
COMMENT ON COLUMN aging_wip.over_sle IS 'age_days > sle_days.';

CREATE TABLE data_quality (
    source VARCHAR NOT NULL,
    "check" VARCHAR NOT NULL,
    items BIGINT NOT NULL,
    example_keys VARCHAR
);
COMMENT ON TABLE data_quality IS 'Counts of data problems per source and check, with up to 5 example keys.';
COMMENT ON COLUMN data_quality.source IS 'Source id.';
COMMENT ON COLUMN data_quality."check" IS 'unmapped_status, skipped_start, negative_duration, unclassified, missing_created, ingest_problem, ...';
COMMENT ON COLUMN data_quality.items IS 'Items (or records) affected.';
COMMENT ON COLUMN data_quality.example_keys IS 'Up to 5 example keys, comma separated.';

CREATE TABLE flow_counters (
    team VARCHAR NOT NULL,
    project VARCHAR NOT NULL,
    work_class VARCHAR NOT NULL,
    item_type VARCHAR NOT NULL,
    created BIGINT NOT NULL,
    started BIGINT NOT NULL,
    completed BIGINT NOT NULL,
    reopened BIGINT NOT NULL,
    discarded BIGINT NOT NULL
);
COMMENT ON TABLE flow_counters IS 'Event counts over all history (backing the throughline_items_*_total counters).';
COMMENT ON COLUMN flow_counters.team IS 'Team.';
COMMENT ON COLUMN flow_counters.project IS 'Project key.';
COMMENT ON COLUMN flow_counters.work_class IS 'Work class.';
COMMENT ON COLUMN flow_counters.item_type IS 'Item type.';
COMMENT ON COLUMN flow_counters.created IS 'Items created.';
COMMENT ON COLUMN flow_counters.started IS 'todo -> started transitions.';
COMMENT ON COLUMN flow_counters.completed IS 'Entries into done of non-discarded items (a reopen never decrements).';
COMMENT ON COLUMN flow_counters.reopened IS 'Transitions out of done.';
COMMENT ON COLUMN flow_counters.discarded IS 'Discarded items.';

CREATE TABLE job_runs (
    job VARCHAR NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    status VARCHAR NOT NULL,
    error VARCHAR
);
COMMENT ON TABLE job_runs IS 'Compute job runs.';
COMMENT ON COLUMN job_runs.job IS 'Job name (compute).';
COMMENT ON COLUMN job_runs.started_at IS 'Start.';
COMMENT ON COLUMN job_runs.finished_at IS 'End.';
COMMENT ON COLUMN job_runs.status IS 'ok or failed.';
COMMENT ON COLUMN job_runs.error IS 'Error message of a failed run.';
