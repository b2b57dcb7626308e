-- Counters that only count: the events behind the throughline_items_*_total
-- counters and the throughline_cycle_time_seconds histogram are kept in a
-- ledger that only grows, so an exported counter never goes down when history
-- is rewritten (an item discarded, deleted, moved to another team or class,
-- reopened). flow_counters becomes the per-label-set sum of that ledger; it is
-- emptied here and rebuilt from the whole history by the next compute, which
-- gives the same values as before the upgrade.

CREATE TABLE counter_events (
    item_id VARCHAR NOT NULL,
    event VARCHAR NOT NULL,
    happened_at TIMESTAMPTZ,
    counted_at TIMESTAMPTZ NOT NULL,
    team VARCHAR NOT NULL,
    project VARCHAR NOT NULL,
    work_class VARCHAR NOT NULL,
    item_type VARCHAR NOT NULL,
    cycle_seconds BIGINT
);
COMMENT ON TABLE counter_events IS 'Ledger of the events the throughline_items_*_total counters and the throughline_cycle_time_seconds histogram have counted, one row per event; rows are never changed or deleted, so the counters never go down. An event counts once, with the item''s labels at the compute that counted it: a later move, discard or deletion of the item does not take it back.';
COMMENT ON COLUMN counter_events.item_id IS 'Item id (the item may since have been deleted).';
COMMENT ON COLUMN counter_events.event IS 'created; started (todo -> started); completed (entry into done of an item not discarded at the time); reopened (out of done); discarded (the item was found discarded; once per item).';
COMMENT ON COLUMN counter_events.happened_at IS 'When the event happened: the status change, the creation, or F for discarded; NULL when the source gave no time.';
COMMENT ON COLUMN counter_events.counted_at IS 'The compute that counted it (its now): from then on the live counter includes it.';
COMMENT ON COLUMN counter_events.team IS 'Team of the item when counted.';
COMMENT ON COLUMN counter_events.project IS 'Project key of the item when counted ('''' when none).';
COMMENT ON COLUMN counter_events.work_class IS 'Work class of the item when counted.';
COMMENT ON COLUMN counter_events.item_type IS 'Item type when counted ('''' when none).';
COMMENT ON COLUMN counter_events.cycle_seconds IS 'completed: the cycle time observed into throughline_cycle_time_seconds (F - S when counted); NULL without a start.';

DELETE FROM flow_counters;
COMMENT ON TABLE flow_counters IS 'The throughline_items_*_total counters: counter_events summed per label set. Never decreases between computes.';
COMMENT ON COLUMN flow_counters.completed IS 'Entries into done of items not discarded when counted (a reopened item that completes again counts twice; a later discard does not take it back).';
COMMENT ON COLUMN flow_counters.discarded IS 'Items found discarded (once per item).';

-- Pipeline health that must survive a restart of serve: /metrics after a
-- restart equals /metrics before it.
CREATE TABLE exporter_state (
    metric VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    detail VARCHAR NOT NULL,
    value DOUBLE NOT NULL
);
COMMENT ON TABLE exporter_state IS 'Pipeline health of the exporter (syncs, tasks, request counters) as last exposed, saved after every sync and compute and loaded when serve starts.';
COMMENT ON COLUMN exporter_state.metric IS 'sync_last_success, sync_duration, sync_up, sync_errors, sync_requests, task_last_success, task_duration, task_success, task_computed_at or serving_since.';
COMMENT ON COLUMN exporter_state.name IS 'Source or task name ('''' for serving_since).';
COMMENT ON COLUMN exporter_state.detail IS 'Error reason (sync_errors) or reply code (sync_requests); '''' otherwise.';
COMMENT ON COLUMN exporter_state.value IS 'Value; times are Unix seconds.';

-- The rolling-week allocation per day: the history behind
-- throughline_allocation_rolling_week_ratio (and its backfill).
CREATE TABLE allocation_daily (
    day DATE NOT NULL,
    team VARCHAR NOT NULL,
    capacity_hours DOUBLE NOT NULL,
    planned_hours DOUBLE NOT NULL,
    allocation_ratio DOUBLE
);
COMMENT ON TABLE allocation_daily IS 'Rolling-week allocation per team and day, as computed that day (the day''s last compute): planned load of the next 5 working days (overdue work included) over the capacity of those days. It does not depend on the weekday, unlike week_offset 0 of capacity_outlook. Rows accumulate from the first compute on.';
COMMENT ON COLUMN allocation_daily.day IS 'Day of the compute (configured time zone).';
COMMENT ON COLUMN allocation_daily.team IS 'Team.';
COMMENT ON COLUMN allocation_daily.capacity_hours IS 'Capacity of the next 5 working days (each day a fifth of its ISO week''s capacity).';
COMMENT ON COLUMN allocation_daily.planned_hours IS 'Planned load on those days, overdue work included.';
COMMENT ON COLUMN allocation_daily.allocation_ratio IS 'planned_hours / capacity_hours; NULL without capacity.';
