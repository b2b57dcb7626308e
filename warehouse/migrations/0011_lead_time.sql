-- Lead time (created → finished) is exact in every source, exports
-- included, where cycle time (started → finished) needs a status history
-- that exports do not carry: its percentiles stand beside cycle_time_stats.
CREATE TABLE lead_time_stats (
    team VARCHAR NOT NULL,
    work_class VARCHAR NOT NULL,
    window_days INTEGER NOT NULL,
    items BIGINT NOT NULL,
    p50_days INTEGER,
    p70_days INTEGER,
    p85_days INTEGER,
    p95_days INTEGER,
    p50_seconds BIGINT,
    p70_seconds BIGINT,
    p85_seconds BIGINT,
    p95_seconds BIGINT,
    lead_seconds_sum BIGINT
);
COMMENT ON TABLE lead_time_stats IS 'Nearest-rank lead-time percentiles (created to finished) over items finished in the trailing window, per team and work class; team or work_class * = all. Exact wherever the finish is (exports with no status history included).';
COMMENT ON COLUMN lead_time_stats.team IS 'Team, or * for all teams.';
COMMENT ON COLUMN lead_time_stats.work_class IS 'Work class, or * for all classes.';
COMMENT ON COLUMN lead_time_stats.window_days IS 'Trailing window in days (metrics.window_days).';
COMMENT ON COLUMN lead_time_stats.items IS 'Completed, non-discarded items finished in the window (finished at or after creation).';
COMMENT ON COLUMN lead_time_stats.p50_days IS 'Lead days (date(F) - date(created) + 1, calendar days inclusive) at rank ceil(0.50 n).';
COMMENT ON COLUMN lead_time_stats.p70_days IS 'Lead days at rank ceil(0.70 n).';
COMMENT ON COLUMN lead_time_stats.p85_days IS 'Lead days at rank ceil(0.85 n).';
COMMENT ON COLUMN lead_time_stats.p95_days IS 'Lead days at rank ceil(0.95 n).';
COMMENT ON COLUMN lead_time_stats.p50_seconds IS 'lead_seconds at rank ceil(0.50 n).';
COMMENT ON COLUMN lead_time_stats.p70_seconds IS 'lead_seconds at rank ceil(0.70 n).';
COMMENT ON COLUMN lead_time_stats.p85_seconds IS 'lead_seconds at rank ceil(0.85 n).';
COMMENT ON COLUMN lead_time_stats.p95_seconds IS 'lead_seconds at rank ceil(0.95 n).';
COMMENT ON COLUMN lead_time_stats.lead_seconds_sum IS 'Sum of lead_seconds of the window items (the Prometheus summary _sum).';

COMMENT ON COLUMN data_quality."check" IS 'skipped_start, negative_duration, unclassified, unassigned_team, unmapped_status, unknown_status, approximate_start and approximate_finish (a start or finish placed at a time the source did not give, see status_changes.approximated_from), long_worklog (worklogs over 24 h, stored), missing_estimate, ingest_problem.';
