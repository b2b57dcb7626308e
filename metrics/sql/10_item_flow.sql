{{/* Stage intervals, in one pass over a history: "" the recomputed items'
   now (flow_changes, flow_items), "old" their history and attributes at the
   last compute (flow_old_changes, flow_old_items). */}}
{{define "intervals"}}
WITH e AS (
    SELECT fi.n, fi.g, fi.live, s.seq, x.f, x.t, x.c,
        s.to_stage IS DISTINCT FROM x.ts OR s.from_stage IS DISTINCT FROM x.fs AS stale,
        -- Findings, as bits: 1 unmapped status, 2 unknown status, 4 approximated time.
        CAST(x.qf + CASE WHEN s.approximated_from IS NOT NULL THEN 4 ELSE 0 END AS UTINYINT) AS qf,
        epoch_us(s.changed_at) AS e0
    FROM {{if eq . "old"}}flow_old_changes{{else}}flow_changes{{end}} s
    JOIN {{if eq . "old"}}flow_old_items{{else}}flow_items{{end}} fi ON fi.item_id = s.item_id
    -- Every change has its kind in sc_trans; LEFT keeps DuckDB from joining
    -- the items with sc_trans first (items × kinds of the same source).
    LEFT JOIN sc_trans x ON x.source_id = fi.source_id AND x.to_status IS NOT DISTINCT FROM s.to_status
        AND x.from_status IS NOT DISTINCT FROM s.from_status
        AND x.to_category IS NOT DISTINCT FROM s.to_category AND x.from_category IS NOT DISTINCT FROM s.from_category
), d AS (
    SELECT e.*,
        DATE '1970-01-01' + CAST((s_ep + CASE WHEN s_ep >= zs.switch_at THEN zs.off1 ELSE zs.off0 END) // 86400 AS INTEGER) AS d0
    FROM (SELECT *, e0 // 1000000 AS s_ep FROM e) e LEFT JOIN tz_days zs ON zs.ud = e.s_ep // 86400
), w AS (
    SELECT n, g, live, stale, qf, seq, e0, f, t, c, d0,
        lead(e0) OVER w AS e1, lead(d0) OVER w AS d1, lead(t) OVER w AS t1,
        lead(e0, 2) OVER w AS e2, lead(d0, 2) OVER w AS d2, lag(t) OVER w AS tp, lag(d0) OVER w AS dp
    FROM d
    WINDOW w AS (PARTITION BY n ORDER BY seq)
)
SELECT n, g, live, stale, qf, seq, e0, e1, f, t, c, d0, d1,
    live AND t IS NOT NULL AND d0 IS NOT NULL AND (e1 IS NULL OR coalesce(d1 > d0, false))
        AND NOT coalesce(tp = t AND d0 > dp, false) AS s_emit,
    live AND t IS NOT NULL AND e1 IS NOT NULL AND coalesce(d1 > d0, false)
        AND NOT coalesce(t1 = t AND (e2 IS NULL OR d2 > d1), false) AS e_emit
FROM w
{{end}}
-- Stage intervals of the recomputed items: each transition holds until the
-- next one. Stages are coded 1 todo, 2 started, 3 done; c (the to-status'
-- class) 1 active, 2 wait. e0 and e1 are the start and the end in Unix
-- microseconds (e1 NULL for the last interval, which runs until now), d0
-- and d1 their local days. stale marks changes whose stored stage columns
-- differ from the status map (written back below); qf holds findings.
--
-- Stage deltas (flow_stage_days): an interval counts in its stage at the
-- end of the days d0 .. d1 - 1 (the last one from d0 on): +1 at d0 (s_emit)
-- and -1 at d1 (e_emit) when d1 > d0. When the next interval is in the same
-- stage, the -1 of one and the +1 of the next fall on the same day and are
-- both left out.
CREATE OR REPLACE TEMP TABLE flow_intervals AS {{template "intervals" ""}};
{{if not .Full}}
CREATE OR REPLACE TEMP TABLE flow_intervals_old AS {{template "intervals" "old"}};
{{end}}
-- A segment ends (see Compute): the statements below read the intervals
-- several times, faster from a committed table.
COMMIT;

-- Derive each status change's stages from the map, touching only rows that
-- changed. Every item: the stale rows found by their kind of change (a join
-- with the few kinds); the recomputed items: their changes found stale
-- above (rowids kept when their histories were read).
{{if .Full}}
-- The map's rule reads a status and its category, never the source
-- (00_config.sql): a kind's stages are the same in every source, so the
-- rows are found by their kind alone, without joining the items (which
-- cost a join of every change with its item and a second with the table
-- by rowid: 2.5-4.2 s instead of 1.1-1.7 s at 10M changes, all written).
-- Should the rule ever
-- read the source, this stops the compute instead of writing one source's
-- stages into another's changes.
CREATE OR REPLACE TEMP TABLE sc_kind_stages AS
SELECT to_status, to_category, from_status, from_category, any_value(ts) AS ts, any_value(fs) AS fs,
    any_value(CASE WHEN from_status IS NOT NULL THEN stage_name(f) END) AS fs0, any_value(stage_name(t)) AS ts0,
    CASE WHEN count(DISTINCT (ts, fs)) > 1 THEN error('status stages differ between sources for one kind of change') END AS checked
FROM sc_trans GROUP BY to_status, to_category, from_status, from_category;

UPDATE status_changes s SET from_stage = x.fs0, to_stage = x.ts0
FROM sc_kind_stages x
WHERE x.to_status IS NOT DISTINCT FROM s.to_status AND x.from_status IS NOT DISTINCT FROM s.from_status
    AND x.to_category IS NOT DISTINCT FROM s.to_category AND x.from_category IS NOT DISTINCT FROM s.from_category
    AND (s.to_stage IS DISTINCT FROM x.ts OR s.from_stage IS DISTINCT FROM x.fs);
{{else}}
CREATE OR REPLACE TEMP TABLE sc_stages AS
SELECT c.sc_rowid AS r, CASE WHEN c.from_status IS NOT NULL THEN stage_name(x.f) END AS fs0,
    stage_name(x.t) AS ts
FROM flow_intervals x JOIN flow_items fi ON fi.n = x.n
JOIN temp.main.flow_changes_read c ON c.item_id = fi.item_id AND c.seq = x.seq
WHERE x.stale;

UPDATE status_changes s SET from_stage = x.fs0, to_stage = x.ts
FROM sc_stages x WHERE s.rowid = x.r;
{{end}}

-- The rules of metrics.md, in one pass. After the last reset (started→todo or
-- done→todo) there is at most one todo→started transition, so S is the last
-- such transition when it comes after the last reset; F is the last entry
-- into done when the item is done now.
CREATE OR REPLACE TEMP TABLE flow_se AS
SELECT n, last_stage, reopens, starts, done_entries, timezone('UTC', make_timestamp(s_us)) AS s_at, s_us, s_day,
    timezone('UTC', make_timestamp(f_us)) AS f_at, f_us, f_day, qf
FROM (
SELECT n, last_stage, reopens, starts, done_entries, qf,
    CASE WHEN cand_seq > coalesce(last_reset, -1) THEN cand_us END AS s_us,
    CASE WHEN cand_seq > coalesce(last_reset, -1) THEN cand_day END AS s_day,
    CASE WHEN last_stage = 3 THEN done_us END AS f_us,
    CASE WHEN last_stage = 3 THEN done_day END AS f_day
FROM (
    SELECT n,
        arg_max(t, seq) AS last_stage,
        max(seq) FILTER (WHERE t = 1 AND f IN (2, 3)) AS last_reset,
        max(seq) FILTER (WHERE f = 1 AND t = 2) AS cand_seq,
        arg_max(e0, seq) FILTER (WHERE f = 1 AND t = 2) AS cand_us,
        arg_max(d0, seq) FILTER (WHERE f = 1 AND t = 2) AS cand_day,
        arg_max(e0, seq) FILTER (WHERE t = 3 AND f <> 3) AS done_us,
        arg_max(d0, seq) FILTER (WHERE t = 3 AND f <> 3) AS done_day,
        count(*) FILTER (WHERE f = 3 AND t IN (1, 2)) AS reopens,
        count(*) FILTER (WHERE f = 1 AND t = 2) AS starts,
        count(*) FILTER (WHERE t = 3 AND f <> 3) AS done_entries,
        bit_or(qf) AS qf
    FROM flow_intervals WHERE live GROUP BY n
)
);

-- Time in started intervals clipped to [S, F or now], in microseconds: the
-- intervals that have ended (closed_*), and the one the item is in now
-- (open_*: from when, and its class), which a later compute extends to its
-- now without reading the history (flow_us). Plain equality join
-- (inequalities in the join would make DuckDB choose a range join).
CREATE OR REPLACE TEMP TABLE flow_eff AS
SELECT i.n,
    sum(greatest(least(i.e1, coalesce(s.f_us, i.e1)) - greatest(i.e0, s.s_us), 0)) FILTER (WHERE i.c = 1 AND i.e1 IS NOT NULL) AS closed_active_us,
    sum(greatest(least(i.e1, coalesce(s.f_us, i.e1)) - greatest(i.e0, s.s_us), 0)) FILTER (WHERE i.c = 2 AND i.e1 IS NOT NULL) AS closed_wait_us,
    max(greatest(i.e0, s.s_us)) FILTER (WHERE i.e1 IS NULL) AS open_from_us,
    max(i.c) FILTER (WHERE i.e1 IS NULL) AS open_class
FROM flow_intervals i JOIN flow_se s ON s.n = i.n
WHERE i.t = 2 AND i.live AND s.s_at IS NOT NULL
GROUP BY i.n;

-- Microseconds in class cls (1 active, 2 wait) at now, and the flow
-- efficiency, from an item's closed and open parts: the same expressions
-- for a recomputed item and for one whose clock-dependent values are
-- refreshed. NULL when the item never was in that class after S.
CREATE OR REPLACE TEMP MACRO flow_us(closed, open_from, open_class, cls) AS
    CASE WHEN closed IS NULL AND open_class IS DISTINCT FROM cls THEN NULL
         ELSE coalesce(closed, 0) + CASE WHEN open_class = cls THEN greatest(getvariable('now_us') - open_from, 0) ELSE 0 END END;
CREATE OR REPLACE TEMP MACRO flow_efficiency(a, w) AS
    CASE WHEN coalesce(a, 0) + coalesce(w, 0) > 0 THEN coalesce(a, 0) / (coalesce(a, 0) + coalesce(w, 0)) END;

-- A segment ends: item_flow and the data-quality checks below read S, F
-- and the time in stages per item.
COMMIT;

{{if .Full}}DELETE FROM flow_open_items;{{else}}DELETE FROM flow_open_items WHERE item_id IN (SELECT item_id FROM temp.main.flow_dirty);{{end}}
INSERT INTO flow_open_items
SELECT fi.item_id, e.closed_active_us, e.closed_wait_us, e.open_from_us, e.open_class
FROM flow_eff e JOIN flow_items fi ON fi.n = e.n WHERE e.open_class IS NOT NULL;

-- Stage deltas per day, team, class and stage (wip_daily, cumulative_flow):
-- the recomputed items' old deltas out (with the team and class they had),
-- their new ones in; rows that sum to zero go.
CREATE OR REPLACE TEMP TABLE stage_delta AS
WITH new AS (
    SELECT e.day, gr.team, gr.work_class, e.stage, e.v FROM (
        SELECT day, g, stage, sum(v) AS v FROM (
            SELECT d0 AS day, g, t AS stage, 1 AS v FROM flow_intervals WHERE s_emit
            UNION ALL SELECT d1, g, t, -1 FROM flow_intervals WHERE e_emit
        ) GROUP BY ALL
    ) e JOIN flow_groups_n gr ON gr.g = e.g
){{if not .Full}}, old AS (
    SELECT i.day, o.team, o.work_class, i.stage, sum(i.v) AS v FROM (
        SELECT n, d0 AS day, t AS stage, -1 AS v FROM flow_intervals_old WHERE s_emit
        UNION ALL SELECT n, d1, t, 1 FROM flow_intervals_old WHERE e_emit
    ) i JOIN flow_old_items o ON o.n = i.n
    GROUP BY ALL
){{end}}
SELECT day, team, work_class, stage, sum(v) AS v FROM (SELECT * FROM new{{if not .Full}} UNION ALL SELECT * FROM old{{end}})
GROUP BY ALL HAVING sum(v) <> 0;
{{if .Full}}
DELETE FROM flow_stage_days;
INSERT INTO flow_stage_days SELECT * FROM stage_delta;
{{else}}
CREATE OR REPLACE TEMP TABLE stage_merged AS
SELECT d.day, d.team, d.work_class, d.stage, coalesce(s.delta, 0) + d.v AS delta
FROM stage_delta d LEFT JOIN flow_stage_days s
    ON s.day = d.day AND s.team = d.team AND s.work_class = d.work_class AND s.stage = d.stage;
DELETE FROM flow_stage_days s WHERE EXISTS (SELECT 1 FROM stage_merged m
    WHERE m.day = s.day AND m.team = s.team AND m.work_class = s.work_class AND m.stage = s.stage);
INSERT INTO flow_stage_days SELECT * FROM stage_merged WHERE delta <> 0;
{{end}}

-- Logged seconds per person, ISO week (session zone) and the item's class
-- (capacity): the recomputed items' worklogs as the last compute read them
-- out, as they are now in. In UTC the week comes from the epoch instead of
-- an ICU call per worklog (the same Monday, 1970 to 2100).
CREATE OR REPLACE TEMP MACRO worklog_week(ts) AS
    CASE WHEN getvariable('utc_session') AND epoch_us(ts) >= 0 AND epoch_us(ts) < 4102444800000000
        THEN DATE '1970-01-01' + CAST(epoch_us(ts) // 86400000000 AS INTEGER)
            - CAST(isodow(DATE '1970-01-01' + CAST(epoch_us(ts) // 86400000000 AS INTEGER)) - 1 AS INTEGER)
        ELSE CAST(date_trunc('week', ts) AS DATE) END;
CREATE OR REPLACE TEMP TABLE logged_delta AS
WITH new AS (
    SELECT l.person_id, worklog_week(l.started_at) AS week_start, coalesce(f.work_class, 'unclassified') AS work_class, l.seconds AS s
    FROM worklogs l LEFT JOIN flow_items f ON f.item_id = l.item_id AND f.live
    WHERE l.person_id IS NOT NULL {{if not .Full}}AND l.item_id IN (SELECT item_id FROM temp.main.flow_dirty){{end}}
){{if not .Full}}, old AS (
    SELECT l.person_id, worklog_week(l.started_at) AS week_start, coalesce(o.work_class, 'unclassified') AS work_class, -l.seconds AS s
    FROM (
        SELECT item_id, person_id, started_at, seconds FROM worklogs
        WHERE item_id IN (SELECT item_id FROM temp.main.flow_dirty) AND worklog_id NOT IN (SELECT worklog_id FROM compute_old_worklogs)
        UNION ALL SELECT item_id, person_id, started_at, seconds FROM compute_old_worklogs WHERE item_id IS NOT NULL
    ) l LEFT JOIN flow_old_items o ON o.item_id = l.item_id AND o.live
    WHERE l.person_id IS NOT NULL
){{end}}
SELECT person_id, week_start, work_class, sum(s) AS s FROM (SELECT * FROM new{{if not .Full}} UNION ALL SELECT * FROM old{{end}})
GROUP BY ALL HAVING sum(s) <> 0;
{{if .Full}}
DELETE FROM logged_weekly;
INSERT INTO logged_weekly SELECT * FROM logged_delta;
{{else}}
CREATE OR REPLACE TEMP TABLE logged_merged AS
SELECT d.person_id, d.week_start, d.work_class, coalesce(l.seconds, 0) + d.s AS seconds
FROM logged_delta d LEFT JOIN logged_weekly l
    ON l.person_id = d.person_id AND l.week_start = d.week_start AND l.work_class = d.work_class;
DELETE FROM logged_weekly l WHERE EXISTS (SELECT 1 FROM logged_merged m
    WHERE m.person_id = l.person_id AND m.week_start = l.week_start AND m.work_class = l.work_class);
INSERT INTO logged_weekly SELECT * FROM logged_merged WHERE seconds <> 0;
{{end}}

-- Data-quality findings about the recomputed items (data_quality counts them).
{{if .Full}}DELETE FROM flow_item_checks;{{else}}DELETE FROM flow_item_checks WHERE item_id IN (SELECT item_id FROM temp.main.flow_dirty);{{end}}
INSERT INTO flow_item_checks
SELECT fi.item_id, fi.source_id, fi.key, c."check" FROM flow_items fi JOIN (
    SELECT n, 'unmapped_status' AS "check" FROM flow_se WHERE qf & 1 <> 0
    UNION ALL SELECT n, 'unknown_status' FROM flow_se WHERE qf & 2 <> 0
    -- Starts and finishes placed at a time the source did not give for them
    -- (exports: the last update, the creation, Time in Status totals).
    UNION ALL SELECT DISTINCT i.n, CASE WHEN i.t = 2 THEN 'approximate_start' ELSE 'approximate_finish' END
    FROM flow_intervals i JOIN flow_se s ON s.n = i.n
    WHERE s.qf & 4 <> 0 AND i.qf & 4 <> 0 AND ((i.t = 2 AND i.e0 = s.s_us) OR (i.t = 3 AND i.e0 = s.f_us))
    UNION ALL SELECT n, 'missing_estimate' FROM flow_items WHERE live AND no_estimate AND work_class = 'project'
        AND n NOT IN (SELECT n FROM flow_se WHERE f_at IS NOT NULL)
) c ON c.n = fi.n
WHERE fi.live
UNION ALL
-- Worklogs over a day are stored (a weekly timesheet row, a Jira 1w
-- entry): listed so that a typo of 80 for 8 hours is seen.
SELECT DISTINCT fi.item_id, fi.source_id, fi.key, 'long_worklog' FROM worklogs l JOIN flow_items fi ON fi.item_id = l.item_id
WHERE l.seconds > 86400 AND fi.live;

-- The statuses stored (of some item's status change, or of an item), mapped.
DELETE FROM status_seen;
INSERT INTO status_seen
SELECT source_id, to_status, to_category FROM status_kinds
UNION SELECT source_id, from_status, from_category FROM status_kinds WHERE from_status IS NOT NULL
UNION SELECT source_id, status, status_category FROM work_items;
DELETE FROM status_map;
INSERT INTO status_map SELECT * FROM status_rules;

{{if .Full}}DELETE FROM item_flow;{{else}}DELETE FROM item_flow WHERE item_id IN (SELECT item_id FROM temp.main.flow_dirty);{{end}}
INSERT INTO item_flow
WITH se AS (
    SELECT n, stage_name(last_stage) AS last_stage,
        reopens, starts, done_entries, s_at, s_day, f_at, f_day,
        epoch_us(s_at) / 1000000.0 AS s_e, epoch_us(f_at) / 1000000.0 AS f_e
    FROM flow_se
)
SELECT b.item_id, b.key, b.source_id, b.team, b.work_class, b.item_type, b.project, b.status,
    coalesce(s.last_stage, sl.stage, 'todo'),
    b.created_at, s.s_at, s.f_at,
    CASE WHEN s.f_at IS NOT NULL AND s.s_at IS NOT NULL THEN CAST(trunc(s.f_e - s.s_e) AS BIGINT) END,
    CASE WHEN s.f_at IS NOT NULL AND s.s_at IS NOT NULL THEN s.f_day - s.s_day + 1 END,
    CASE WHEN s.f_at IS NOT NULL THEN CAST(trunc(s.f_e - epoch_us(b.created_at) / 1000000.0) AS BIGINT) END,
    coalesce(s.reopens, 0),
    s.f_at IS NOT NULL AND s.s_at IS NULL AND NOT coalesce(b.discarded_res, false),
    s.f_at IS NOT NULL AND coalesce(b.discarded_res, false),
    s.f_at IS NOT NULL,
    NULL, -- age_days: below, for every started item (it depends on the clock only)
    CAST(round(flow_us(e.closed_active_us, e.open_from_us, e.open_class, 1) / 1000000) AS BIGINT),
    CAST(round(flow_us(e.closed_wait_us, e.open_from_us, e.open_class, 2) / 1000000) AS BIGINT),
    flow_efficiency(flow_us(e.closed_active_us, e.open_from_us, e.open_class, 1), flow_us(e.closed_wait_us, e.open_from_us, e.open_class, 2)),
    s.s_day, s.f_day, coalesce(s.starts, 0), coalesce(s.done_entries, 0)
FROM flow_items b
LEFT JOIN se s ON s.n = b.n
LEFT JOIN flow_eff e ON e.n = b.n
LEFT JOIN status_lookup sl ON sl.source_id = b.source_id AND sl.status = b.status AND sl.category IS NOT DISTINCT FROM b.status_category
WHERE b.live;

-- The values of the other items that depend only on the clock: time in the
-- interval they are in now, and ages.
{{if not .Full}}
UPDATE item_flow f SET active_seconds = x.a, wait_seconds = x.w, flow_efficiency = x.e
FROM (
    SELECT item_id,
        CAST(round(flow_us(closed_active_us, open_from_us, open_class, 1) / 1000000) AS BIGINT) AS a,
        CAST(round(flow_us(closed_wait_us, open_from_us, open_class, 2) / 1000000) AS BIGINT) AS w,
        flow_efficiency(flow_us(closed_active_us, open_from_us, open_class, 1), flow_us(closed_wait_us, open_from_us, open_class, 2)) AS e
    FROM flow_open_items
) x
WHERE f.item_id = x.item_id
  AND (f.active_seconds IS DISTINCT FROM x.a OR f.wait_seconds IS DISTINCT FROM x.w OR f.flow_efficiency IS DISTINCT FROM x.e);
{{end}}
UPDATE item_flow f SET age_days = x.age
FROM (
    SELECT item_id, getvariable('today') - start_day + 1 AS age
    FROM item_flow WHERE stage = 'started' AND started_at IS NOT NULL
) x
WHERE f.item_id = x.item_id AND f.age_days IS DISTINCT FROM x.age;
