-- Incremental compute: a compute recomputes the items that changed since the
-- last one (the store lists them as it commits a batch, with what it replaced),
-- takes their old contribution out of the sums over all items, and
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

CREATE TABLE compute_old_histories (
    item_id VARCHAR NOT NULL
);
COMMENT ON TABLE compute_old_histories IS 'Items whose status history a sync replaced or removed since the last compute: their history as that compute read it is in compute_old_changes (no rows: they had none). Written by the store in the batch''s transaction, emptied by the next compute. Internal.';
COMMENT ON COLUMN compute_old_histories.item_id IS 'Item id.';

CREATE TABLE compute_old_changes (
    item_id VARCHAR NOT NULL,
    source_id VARCHAR NOT NULL,
    seq INTEGER NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL,
    from_status VARCHAR,
    to_status VARCHAR,
    from_category VARCHAR,
    to_category VARCHAR,
    approximated_from VARCHAR
);
COMMENT ON TABLE compute_old_changes IS 'The status changes, as the last compute read them, of the items in compute_old_histories: what the next compute takes out of the sums over all items before it puts their new history in. Internal.';
COMMENT ON COLUMN compute_old_changes.item_id IS 'Item id.';
COMMENT ON COLUMN compute_old_changes.source_id IS 'Source of the item then.';
COMMENT ON COLUMN compute_old_changes.seq IS 'As status_changes.seq.';
COMMENT ON COLUMN compute_old_changes.changed_at IS 'As status_changes.changed_at.';
COMMENT ON COLUMN compute_old_changes.from_status IS 'As status_changes.from_status.';
COMMENT ON COLUMN compute_old_changes.to_status IS 'As status_changes.to_status.';
COMMENT ON COLUMN compute_old_changes.from_category IS 'As status_changes.from_category.';
COMMENT ON COLUMN compute_old_changes.to_category IS 'As status_changes.to_category.';
COMMENT ON COLUMN compute_old_changes.approximated_from IS 'As status_changes.approximated_from.';

CREATE TABLE compute_old_worklogs (
    worklog_id VARCHAR NOT NULL,
    item_id VARCHAR,
    person_id VARCHAR,
    started_at TIMESTAMPTZ,
    seconds BIGINT
);
COMMENT ON TABLE compute_old_worklogs IS 'Worklogs a sync added, changed, moved or deleted since the last compute, as that compute read them. Internal.';
COMMENT ON COLUMN compute_old_worklogs.worklog_id IS 'Worklog id.';
COMMENT ON COLUMN compute_old_worklogs.item_id IS 'Its item then; NULL when it did not exist.';
COMMENT ON COLUMN compute_old_worklogs.person_id IS 'Its person then.';
COMMENT ON COLUMN compute_old_worklogs.started_at IS 'Its start then.';
COMMENT ON COLUMN compute_old_worklogs.seconds IS 'Its seconds then.';

CREATE TABLE flow_open_items (
    item_id VARCHAR NOT NULL,
    closed_active_us HUGEINT,
    closed_wait_us HUGEINT,
    open_from_us BIGINT NOT NULL,
    open_class UTINYINT NOT NULL
);
COMMENT ON TABLE flow_open_items IS 'Live items in a started interval after their start (S) now: the parts of their active and wait time, from which a compute extends them to its now without reading history (item_flow.active_seconds, wait_seconds, flow_efficiency). Internal.';
COMMENT ON COLUMN flow_open_items.item_id IS 'Item id.';
COMMENT ON COLUMN flow_open_items.closed_active_us IS 'Microseconds in active intervals that have ended, clipped to [S, F]; NULL when none.';
COMMENT ON COLUMN flow_open_items.closed_wait_us IS 'Microseconds in wait intervals that have ended; NULL when none.';
COMMENT ON COLUMN flow_open_items.open_from_us IS 'When the interval it is in began (clipped to S), Unix microseconds.';
COMMENT ON COLUMN flow_open_items.open_class IS 'Class of that interval: 1 active, 2 wait.';

CREATE TABLE flow_item_checks (
    item_id VARCHAR NOT NULL,
    source_id VARCHAR NOT NULL,
    key VARCHAR NOT NULL,
    "check" VARCHAR NOT NULL
);
COMMENT ON TABLE flow_item_checks IS 'Data-quality findings about a live item''s history, worklogs and estimate (unmapped_status, unknown_status, approximate_start, approximate_finish, long_worklog, missing_estimate), kept per item by the compute that last recomputed it; data_quality counts them. Internal.';
COMMENT ON COLUMN flow_item_checks.item_id IS 'Item id.';
COMMENT ON COLUMN flow_item_checks.source_id IS 'Source.';
COMMENT ON COLUMN flow_item_checks.key IS 'Item key.';
COMMENT ON COLUMN flow_item_checks."check" IS 'The data_quality check.';

CREATE TABLE status_kinds (
    source_id VARCHAR NOT NULL,
    to_status VARCHAR,
    to_category VARCHAR,
    from_status VARCHAR,
    from_category VARCHAR,
    changes BIGINT NOT NULL
);
COMMENT ON TABLE status_kinds IS 'Each kind of status change stored (source, statuses and categories before and after) and how many there are, of items in work_items: status_map lists their statuses and the items''. Internal.';
COMMENT ON COLUMN status_kinds.source_id IS 'Source of the items.';
COMMENT ON COLUMN status_kinds.to_status IS 'Status after the change.';
COMMENT ON COLUMN status_kinds.to_category IS 'Its category.';
COMMENT ON COLUMN status_kinds.from_status IS 'Status before the change (NULL for the creation).';
COMMENT ON COLUMN status_kinds.from_category IS 'Its category.';
COMMENT ON COLUMN status_kinds.changes IS 'Status changes of this kind.';

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

-- What a compute changed, for readers that copy the warehouse (a published
-- snapshot): a table whose changed_at is not newer than their copy holds the
-- same rows.
CREATE TABLE compute_tables (
    table_name VARCHAR NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE compute_tables IS 'Tables the compute writes, with the last compute (its now) that changed a row of each: tables rebuilt by a compute are written by difference, so one whose rows all stayed the same keeps its changed_at. A reader holding a copy made after changed_at holds the same rows.';
COMMENT ON COLUMN compute_tables.table_name IS 'Table.';
COMMENT ON COLUMN compute_tables.changed_at IS 'The now of the last compute that changed it.';
