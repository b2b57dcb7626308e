-- Event counters (the *_total metrics and the cycle-time histogram): a
-- ledger, counter_events, that only grows. Each compute counts the events of
-- an item that the ledger does not hold yet, with the item's labels now, so a
-- counter never goes down when history is rewritten (discard, delete, move,
-- reopen) and a label set keeps what it counted.
--
-- Per item, what its history holds now: 1 creation, its todo -> started
-- transitions, its entries into done (none while it is discarded), its
-- transitions out of done, and 1 discard while it is discarded. Per kind, the
-- events beyond what was counted are new: the latest ones are added.
--
-- What the ledger holds per item (counter_counts, kept with the ledger;
-- rebuilt from it by a full compute): only the recomputed items can have
-- new events.
{{if .Full}}
DELETE FROM counter_counts;
INSERT INTO counter_counts
SELECT item_id,
    count(*) FILTER (WHERE event = 'created'),
    count(*) FILTER (WHERE event = 'started'),
    count(*) FILTER (WHERE event = 'completed'),
    count(*) FILTER (WHERE event = 'reopened'),
    count(*) FILTER (WHERE event = 'discarded')
FROM counter_events GROUP BY item_id;
{{end}}
CREATE OR REPLACE TEMP TABLE ctr_counted AS
SELECT * FROM counter_counts {{if not .Full}}WHERE item_id IN (SELECT item_id FROM temp.main.flow_items){{end}};

CREATE OR REPLACE TEMP TABLE ctr_due AS
SELECT * FROM (
    SELECT fi.n, f.item_id, f.team, coalesce(f.project, '') AS project, f.work_class, coalesce(f.item_type, '') AS item_type,
        f.created_at, f.finished_at,
        greatest(1 - coalesce(c.created, 0), 0) AS created,
        greatest(f.starts - coalesce(c.started, 0), 0) AS started,
        greatest(CASE WHEN f.discarded THEN 0 ELSE f.done_entries END - coalesce(c.completed, 0), 0) AS completed,
        greatest(f.reopen_count - coalesce(c.reopened, 0), 0) AS reopened,
        greatest(CASE WHEN f.discarded THEN 1 ELSE 0 END - coalesce(c.discarded, 0), 0) AS discarded
    FROM item_flow f
    JOIN flow_items fi ON fi.item_id = f.item_id
    LEFT JOIN ctr_counted c ON c.item_id = f.item_id
)
WHERE created + started + completed + reopened + discarded > 0;

CREATE OR REPLACE TEMP TABLE ctr_new AS
WITH ev AS (
    -- The transitions of the items with new events, by kind (the rules of
    -- item_flow's starts, done_entries and reopen_count), and for a
    -- completion its cycle time then: from the start in effect (the last
    -- todo -> started after the last reset before it), as item_flow has it
    -- for the last completion.
    SELECT i.n, i.seq, timezone('UTC', make_timestamp(i.e0)) AS start_at,
        CASE WHEN i.f = 1 AND i.t = 2 THEN 'started'
             WHEN i.t = 3 AND i.f <> 3 THEN 'completed'
             WHEN i.f = 3 AND i.t IN (1, 2) THEN 'reopened' END AS event,
        CASE WHEN i.t = 3 AND i.f <> 3
              AND max(CASE WHEN i.f = 1 AND i.t = 2 THEN i.seq END) OVER w > coalesce(max(CASE WHEN i.t = 1 AND i.f IN (2, 3) THEN i.seq END) OVER w, -1)
             THEN CAST(trunc(i.e0 / 1000000.0 - last_value(CASE WHEN i.f = 1 AND i.t = 2 THEN i.e0 END IGNORE NULLS) OVER w / 1000000.0) AS BIGINT) END AS cycle_seconds
    FROM flow_intervals i
    WHERE i.live AND i.n IN (SELECT n FROM ctr_due)
      -- Only starts, completions, reopenings and resets count above: the
      -- window sorts those alone (moves within a stage are most of a
      -- history).
      AND ((i.f = 1 AND i.t = 2) OR (i.t = 3 AND i.f <> 3) OR (i.f = 3 AND i.t IN (1, 2)) OR (i.f = 2 AND i.t = 1))
    WINDOW w AS (PARTITION BY i.n ORDER BY i.seq ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
), ranked AS (
    SELECT *, row_number() OVER (PARTITION BY n, event ORDER BY seq DESC) AS rk
    FROM ev WHERE event IS NOT NULL
)
SELECT d.item_id, r.event, r.start_at, getvariable('now_ts'), d.team, d.project, d.work_class, d.item_type, r.cycle_seconds
FROM ranked r JOIN ctr_due d ON d.n = r.n
WHERE r.rk <= CASE r.event WHEN 'started' THEN d.started WHEN 'completed' THEN d.completed ELSE d.reopened END
UNION ALL
SELECT item_id, 'created', created_at, getvariable('now_ts'), team, project, work_class, item_type, NULL
FROM ctr_due WHERE created > 0
UNION ALL
SELECT item_id, 'discarded', finished_at, getvariable('now_ts'), team, project, work_class, item_type, NULL
FROM ctr_due WHERE discarded > 0;

-- A segment ends (see Compute): the ledger's insert and sums read the new
-- events from a committed table.
COMMIT;

INSERT INTO counter_events SELECT * FROM ctr_new;

CREATE OR REPLACE TEMP TABLE ctr_new_counts AS
SELECT n.item_id,
    coalesce(c.created, 0) + n.created AS created, coalesce(c.started, 0) + n.started AS started,
    coalesce(c.completed, 0) + n.completed AS completed, coalesce(c.reopened, 0) + n.reopened AS reopened,
    coalesce(c.discarded, 0) + n.discarded AS discarded
FROM (
    SELECT item_id,
        count(*) FILTER (WHERE event = 'created') AS created,
        count(*) FILTER (WHERE event = 'started') AS started,
        count(*) FILTER (WHERE event = 'completed') AS completed,
        count(*) FILTER (WHERE event = 'reopened') AS reopened,
        count(*) FILTER (WHERE event = 'discarded') AS discarded
    FROM ctr_new GROUP BY item_id
) n LEFT JOIN ctr_counted c USING (item_id);
DELETE FROM counter_counts WHERE item_id IN (SELECT item_id FROM ctr_new_counts);
INSERT INTO counter_counts SELECT * FROM ctr_new_counts;

-- The counters: the ledger summed per label set (the new events added to
-- the sums of the last compute; a full compute sums the whole ledger).
CREATE OR REPLACE TEMP TABLE ctr_sums AS
SELECT team, project, work_class, item_type,
    count(*) FILTER (WHERE event = 'created') AS created,
    count(*) FILTER (WHERE event = 'started') AS started,
    count(*) FILTER (WHERE event = 'completed') AS completed,
    count(*) FILTER (WHERE event = 'reopened') AS reopened,
    count(*) FILTER (WHERE event = 'discarded') AS discarded
FROM {{if .Full}}counter_events{{else}}ctr_new{{end}}
GROUP BY ALL;
{{if .Full}}
DELETE FROM flow_counters;
INSERT INTO flow_counters SELECT * FROM ctr_sums ORDER BY ALL;
{{else}}
CREATE OR REPLACE TEMP TABLE ctr_merged AS
SELECT s.team, s.project, s.work_class, s.item_type,
    coalesce(f.created, 0) + s.created AS created, coalesce(f.started, 0) + s.started AS started,
    coalesce(f.completed, 0) + s.completed AS completed, coalesce(f.reopened, 0) + s.reopened AS reopened,
    coalesce(f.discarded, 0) + s.discarded AS discarded
FROM ctr_sums s LEFT JOIN flow_counters f
    ON f.team = s.team AND f.project = s.project AND f.work_class = s.work_class AND f.item_type = s.item_type;
DELETE FROM flow_counters f WHERE EXISTS (SELECT 1 FROM ctr_merged m
    WHERE m.team = f.team AND m.project = f.project AND m.work_class = f.work_class AND m.item_type = f.item_type);
INSERT INTO flow_counters SELECT * FROM ctr_merged;
{{end}}
