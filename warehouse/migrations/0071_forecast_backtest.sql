-- The backtest (metrics.md "Backtest"): forecasts re-run on history, as of
-- weekly checkpoints in the lives of the milestones completed in the last 365
-- days, and how often their dates held. Rebuilt by the compute job.

CREATE TABLE forecast_backtest (
    project VARCHAR NOT NULL,
    milestone_id VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    checkpoint DATE NOT NULL,
    remaining INTEGER NOT NULL,
    ahead_items INTEGER NOT NULL,
    milestone_share DOUBLE NOT NULL,
    known BOOLEAN NOT NULL,
    p50_date DATE,
    p85_date DATE,
    p95_date DATE,
    actual_date DATE NOT NULL,
    hit_p50 BOOLEAN,
    hit_p85 BOOLEAN,
    hit_p95 BOOLEAN,
    p85_error_days INTEGER
);
COMMENT ON TABLE forecast_backtest IS 'One re-run forecast per checkpoint and model: for every milestone completed in the last 365 days, the forecast as of each Monday of its life, from the completions before that Monday and the scope open at it, against the actual finish.';
COMMENT ON COLUMN forecast_backtest.project IS 'Project key.';
COMMENT ON COLUMN forecast_backtest.milestone_id IS 'Milestone id.';
COMMENT ON COLUMN forecast_backtest.model IS 'portfolio or independent (both are backtested, whatever metrics.forecast.mode says).';
COMMENT ON COLUMN forecast_backtest.checkpoint IS 'The Monday as of which the forecast is re-run: completions before it are its input, it is the first simulated day.';
COMMENT ON COLUMN forecast_backtest.remaining IS 'Scope open at the checkpoint: the milestone''s items created before it and not finished (completed or discarded) before it.';
COMMENT ON COLUMN forecast_backtest.ahead_items IS 'Portfolio model: open items of the milestones before it in the queue at the checkpoint (due dates as known then); 0 for the independent model.';
COMMENT ON COLUMN forecast_backtest.milestone_share IS 'Portfolio model: s at the checkpoint; 1 for the independent model.';
COMMENT ON COLUMN forecast_backtest.known IS 'false when the project finished nothing in the window before the checkpoint: no forecast, not scored.';
COMMENT ON COLUMN forecast_backtest.p50_date IS 'Re-run forecast P50 date (NULL: unknown or beyond the horizon).';
COMMENT ON COLUMN forecast_backtest.p85_date IS 'Re-run forecast P85 date.';
COMMENT ON COLUMN forecast_backtest.p95_date IS 'Re-run forecast P95 date.';
COMMENT ON COLUMN forecast_backtest.actual_date IS 'Date the milestone''s last item finished (else the completion date the source reported).';
COMMENT ON COLUMN forecast_backtest.hit_p50 IS 'actual_date on or before p50_date (NULL when unknown).';
COMMENT ON COLUMN forecast_backtest.hit_p85 IS 'actual_date on or before p85_date.';
COMMENT ON COLUMN forecast_backtest.hit_p95 IS 'actual_date on or before p95_date.';
COMMENT ON COLUMN forecast_backtest.p85_error_days IS 'actual_date - p85_date in days: positive, finished later than the P85 date (optimistic); NULL when unknown.';

CREATE TABLE forecast_backtest_summary (
    project VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    since DATE NOT NULL,
    milestones INTEGER NOT NULL,
    checkpoints INTEGER NOT NULL,
    unknown_checkpoints INTEGER NOT NULL,
    hit_rate_p50 DOUBLE,
    hit_rate_p85 DOUBLE,
    hit_rate_p95 DOUBLE,
    p85_mae_days DOUBLE,
    p85_bias_days DOUBLE,
    window_days INTEGER NOT NULL,
    trials INTEGER NOT NULL,
    seed BIGINT NOT NULL,
    forecast_version INTEGER NOT NULL,
    inputs_hash VARCHAR,
    computed_at TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE forecast_backtest_summary IS 'Forecast accuracy from history per project and model, and over all projects (project *): how often the P50, P85 and P95 dates of the re-run forecasts held (well calibrated: about 0.50, 0.85, 0.95) and the error of the P85 date.';
COMMENT ON COLUMN forecast_backtest_summary.project IS 'Project key; * for all projects together (every checkpoint counts once).';
COMMENT ON COLUMN forecast_backtest_summary.model IS 'portfolio or independent.';
COMMENT ON COLUMN forecast_backtest_summary.since IS 'First day of the period: milestones completed from this day (365 days ago) to today are scored.';
COMMENT ON COLUMN forecast_backtest_summary.milestones IS 'Milestones scored (with at least one checkpoint).';
COMMENT ON COLUMN forecast_backtest_summary.checkpoints IS 'Checkpoints, unknown ones included.';
COMMENT ON COLUMN forecast_backtest_summary.unknown_checkpoints IS 'Checkpoints without a forecast (nothing finished in the window before them); not in the rates.';
COMMENT ON COLUMN forecast_backtest_summary.hit_rate_p50 IS 'Share of known checkpoints whose actual finish fell on or before the P50 date (NULL without any).';
COMMENT ON COLUMN forecast_backtest_summary.hit_rate_p85 IS 'Share of known checkpoints whose actual finish fell on or before the P85 date: the figure to put beside a P85 forecast.';
COMMENT ON COLUMN forecast_backtest_summary.hit_rate_p95 IS 'Share of known checkpoints whose actual finish fell on or before the P95 date.';
COMMENT ON COLUMN forecast_backtest_summary.p85_mae_days IS 'Mean absolute error of the P85 date in days.';
COMMENT ON COLUMN forecast_backtest_summary.p85_bias_days IS 'Mean of actual - P85 date in days: positive, milestones finished after their P85 dates (the forecasts were optimistic).';
COMMENT ON COLUMN forecast_backtest_summary.window_days IS 'Throughput window of the re-run forecasts.';
COMMENT ON COLUMN forecast_backtest_summary.trials IS 'Trials per re-run forecast.';
COMMENT ON COLUMN forecast_backtest_summary.seed IS 'Seed of every re-run forecast.';
COMMENT ON COLUMN forecast_backtest_summary.forecast_version IS 'Simulation algorithm version (metrics/forecast.Version).';
COMMENT ON COLUMN forecast_backtest_summary.inputs_hash IS 'Hash of the project''s backtest inputs (history, options, version): a compute whose inputs hash the same keeps the stored checkpoints instead of simulating again. NULL on the * rows.';
COMMENT ON COLUMN forecast_backtest_summary.computed_at IS 'When the summary was computed.';
