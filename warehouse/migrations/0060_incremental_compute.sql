-- Incremental compute: a compute recomputes the items that changed since the
-- last one (the store lists them as it commits a batch), keeps what it needs
-- to take an item's old contribution out of the sums over all items, and
-- refreshes the values that depend only on the clock (ages, time in the
-- current stage) without reading history. A change of the compute's inputs
-- other than items (config, time zone, the compute itself) recomputes
-- everything. Every table here is internal bookkeeping of the compute: the
-- metric tables hold the same rows whichever way they were computed.

CREATE TABLE compute_dirty (
    item_id VARCHAR
);
COMMENT ON TABLE compute_dirty IS 'Items whose stored rows (item, status history, worklogs) a sync changed since the last compute, written in the same transaction as the batch; the next compute recomputes them and empties the table. Syncs only append to it. Internal.';
COMMENT ON COLUMN compute_dirty.item_id IS 'Item id (the item may since have been removed); NULL: a sync replaced so much (a first import, a re-read that could not be compared row by row) that the next compute recomputes every item.';

CREATE TABLE compute_state (
    params_hash VARCHAR NOT NULL,
    computed_at TIMESTAMPTZ NOT NULL,
    today DATE NOT NULL
);
COMMENT ON TABLE compute_state IS 'The last successful compute (one row): what it was computed with. A compute whose inputs hash differently recomputes every item. Internal.';
COMMENT ON COLUMN compute_state.params_hash IS 'SHA-256 of the compute''s inputs other than items and the clock: config (workflow, teams, work-class rules, window, time zone, forecast settings), the session time zone and the compute''s SQL.';
COMMENT ON COLUMN compute_state.computed_at IS 'Its now.';
COMMENT ON COLUMN compute_state.today IS 'Its today in the configured time zone.';

CREATE TABLE flow_item_state (
    item_id VARCHAR NOT NULL,
    source_id VARCHAR,
    key VARCHAR,
    live BOOLEAN NOT NULL,
    team VARCHAR,
    work_class VARCHAR,
    kinds INTEGER[],
    delta_starts INTEGER[],
    delta_ends INTEGER[],
    logged STRUCT(person_id VARCHAR, week_start DATE, seconds BIGINT)[],
    logged_seconds HUGEINT,
    closed_active_us HUGEINT,
    closed_wait_us HUGEINT,
    open_from_us BIGINT,
    open_class UTINYINT,
    dq_unmapped BOOLEAN NOT NULL,
    dq_unknown BOOLEAN NOT NULL,
    dq_approx_start BOOLEAN NOT NULL,
    dq_approx_finish BOOLEAN NOT NULL,
    dq_long_worklog BOOLEAN NOT NULL,
    dq_missing_estimate BOOLEAN NOT NULL
);
COMMENT ON TABLE flow_item_state IS 'Per item, what the last compute that recomputed it added to the sums over all items (so a later compute can take it out again) and what its clock-dependent values are made of. One row per item of work_items, plus items that only worklogs name. Internal.';
COMMENT ON COLUMN flow_item_state.item_id IS 'Item id.';
COMMENT ON COLUMN flow_item_state.source_id IS 'Source; NULL when no work_items row has the id (worklogs only).';
COMMENT ON COLUMN flow_item_state.key IS 'Item key.';
COMMENT ON COLUMN flow_item_state.live IS 'Not deleted: the item has an item_flow row.';
COMMENT ON COLUMN flow_item_state.team IS 'Team its stage deltas were added under.';
COMMENT ON COLUMN flow_item_state.work_class IS 'Work class its stage deltas and logged time were added under (unclassified for logged time of items not live).';
COMMENT ON COLUMN flow_item_state.kinds IS 'status_kinds ids of its status changes (each once).';
COMMENT ON COLUMN flow_item_state.delta_starts IS 'Stage deltas of +1 in flow_stage_days, encoded (day - 1970-01-01 + 100000) * 4 + stage.';
COMMENT ON COLUMN flow_item_state.delta_ends IS 'Stage deltas of -1 in flow_stage_days, encoded as delta_starts.';
COMMENT ON COLUMN flow_item_state.logged IS 'Its worklogs: person, ISO week (session time zone), seconds.';
COMMENT ON COLUMN flow_item_state.logged_seconds IS 'Seconds logged on it.';
COMMENT ON COLUMN flow_item_state.closed_active_us IS 'Microseconds in active started intervals that have ended, clipped to [S, F]; NULL when none.';
COMMENT ON COLUMN flow_item_state.closed_wait_us IS 'Microseconds in wait intervals that have ended, clipped to [S, F]; NULL when none.';
COMMENT ON COLUMN flow_item_state.open_from_us IS 'When the started interval it is in now began (clipped to S), Unix microseconds; NULL when it is not in one after a start.';
COMMENT ON COLUMN flow_item_state.open_class IS 'Class of that interval: 1 active, 2 wait.';
COMMENT ON COLUMN flow_item_state.dq_unmapped IS 'data_quality unmapped_status applies.';
COMMENT ON COLUMN flow_item_state.dq_unknown IS 'data_quality unknown_status applies.';
COMMENT ON COLUMN flow_item_state.dq_approx_start IS 'data_quality approximate_start applies.';
COMMENT ON COLUMN flow_item_state.dq_approx_finish IS 'data_quality approximate_finish applies.';
COMMENT ON COLUMN flow_item_state.dq_long_worklog IS 'data_quality long_worklog applies.';
COMMENT ON COLUMN flow_item_state.dq_missing_estimate IS 'data_quality missing_estimate applies.';

CREATE TABLE status_kinds (
    kid INTEGER NOT NULL,
    source_id VARCHAR NOT NULL,
    to_status VARCHAR,
    to_category VARCHAR,
    from_status VARCHAR,
    from_category VARCHAR,
    items BIGINT NOT NULL
);
COMMENT ON TABLE status_kinds IS 'Each kind of status change stored (source, statuses and categories before and after) and how many items have one: status_map lists the statuses of the kinds some item has, and of the items. Internal.';
COMMENT ON COLUMN status_kinds.kid IS 'Id of the kind (flow_item_state.kinds).';
COMMENT ON COLUMN status_kinds.source_id IS 'Source of the items.';
COMMENT ON COLUMN status_kinds.to_status IS 'Status after the change.';
COMMENT ON COLUMN status_kinds.to_category IS 'Its category.';
COMMENT ON COLUMN status_kinds.from_status IS 'Status before the change (NULL for the creation).';
COMMENT ON COLUMN status_kinds.from_category IS 'Its category.';
COMMENT ON COLUMN status_kinds.items IS 'Items with at least one change of this kind.';

CREATE TABLE flow_stage_days (
    day DATE NOT NULL,
    team VARCHAR NOT NULL,
    work_class VARCHAR NOT NULL,
    stage UTINYINT NOT NULL,
    delta BIGINT NOT NULL
);
COMMENT ON TABLE flow_stage_days IS 'Change in the number of live items in a stage at the end of each day, per team and class: wip_daily and cumulative_flow are its running sums. An interval in a stage from change i to change i+1 counts on the days date(i) .. date(i+1) - 1 (the last interval never ends); rows that sum to zero are left out. Internal.';
COMMENT ON COLUMN flow_stage_days.day IS 'Day (configured time zone).';
COMMENT ON COLUMN flow_stage_days.team IS 'Team of the items.';
COMMENT ON COLUMN flow_stage_days.work_class IS 'Work class of the items.';
COMMENT ON COLUMN flow_stage_days.stage IS '1 todo, 2 started, 3 done.';
COMMENT ON COLUMN flow_stage_days.delta IS 'Items entering minus items leaving.';

CREATE TABLE logged_weekly (
    person_id VARCHAR,
    week_start DATE NOT NULL,
    work_class VARCHAR NOT NULL,
    seconds HUGEINT NOT NULL
);
COMMENT ON TABLE logged_weekly IS 'Worklog seconds per person, ISO week (session time zone) and work class of the item (unclassified when the item is deleted or unknown): the logged hours of capacity and work_class_share, summed per team. Internal.';
COMMENT ON COLUMN logged_weekly.person_id IS 'Person who logged.';
COMMENT ON COLUMN logged_weekly.week_start IS 'Monday of the week.';
COMMENT ON COLUMN logged_weekly.work_class IS 'Work class of the item.';
COMMENT ON COLUMN logged_weekly.seconds IS 'Seconds logged.';

CREATE TABLE counter_counts (
    item_id VARCHAR NOT NULL,
    created BIGINT NOT NULL,
    started BIGINT NOT NULL,
    completed BIGINT NOT NULL,
    reopened BIGINT NOT NULL,
    discarded BIGINT NOT NULL
);
COMMENT ON TABLE counter_counts IS 'counter_events counted per item and event: what a compute compares an item''s history with to find its new events. Internal.';
COMMENT ON COLUMN counter_counts.item_id IS 'Item id.';
COMMENT ON COLUMN counter_counts.created IS 'created events in the ledger.';
COMMENT ON COLUMN counter_counts.started IS 'started events.';
COMMENT ON COLUMN counter_counts.completed IS 'completed events.';
COMMENT ON COLUMN counter_counts.reopened IS 'reopened events.';
COMMENT ON COLUMN counter_counts.discarded IS 'discarded events.';

CREATE TABLE flow_dimensions (
    kind VARCHAR NOT NULL,
    id VARCHAR NOT NULL,
    value VARCHAR
);
COMMENT ON TABLE flow_dimensions IS 'What the last compute read of the rows items take attributes from: projects (key and team), people (team) and epics. A row that differs now recomputes the items that point at it. Internal.';
COMMENT ON COLUMN flow_dimensions.kind IS 'project, person or epic.';
COMMENT ON COLUMN flow_dimensions.id IS 'project_id, person_id or item_id.';
COMMENT ON COLUMN flow_dimensions.value IS 'project: key and team; person: team; epic: NULL.';
