-- Each kind of status change with its stages: one small join per change
-- below instead of two lookups in the status map.
CREATE OR REPLACE TEMP TABLE sc_trans AS
SELECT k.kid, k.source_id, k.to_status, k.to_category, k.from_status, k.from_category, t.stage AS ts,
    CASE WHEN k.from_status IS NOT NULL THEN f.stage END AS fs,
    CAST(CASE coalesce(CASE WHEN k.from_status IS NOT NULL THEN f.stage END, 'todo') WHEN 'todo' THEN 1 WHEN 'started' THEN 2 WHEN 'done' THEN 3 END AS UTINYINT) AS f,
    CAST(CASE t.stage WHEN 'todo' THEN 1 WHEN 'started' THEN 2 WHEN 'done' THEN 3 END AS UTINYINT) AS t,
    CAST(CASE t.stage_class WHEN 'active' THEN 1 WHEN 'wait' THEN 2 END AS UTINYINT) AS c,
    coalesce(t.mapped_by = 'unmapped', false) AS unmapped,
    coalesce(k.to_status = '(unknown)' OR k.from_status = '(unknown)', false) AS unknown
FROM status_kinds k
LEFT JOIN status_lookup t ON t.source_id = k.source_id AND t.status = k.to_status AND t.category IS NOT DISTINCT FROM k.to_category
LEFT JOIN status_lookup f ON f.source_id = k.source_id AND f.status = k.from_status AND f.category IS NOT DISTINCT FROM k.from_category;

-- Stage intervals of the recomputed items, in one pass over their history:
-- each transition holds until the next one. Stages are coded 1 todo, 2
-- started, 3 done; c (the to-status' class) 1 active, 2 wait. e0 and e1 are
-- the start and the end in Unix microseconds (e1 NULL for the last
-- interval, which runs until now), d0 and d1 their local days. stale marks
-- changes whose stored stage columns differ from the status map (written
-- back below).
--
-- Stage deltas (flow_stage_days): an interval counts in its stage at the
-- end of the days d0 .. d1 - 1 (the last one from d0 on): +1 at d0 (s_emit)
-- and -1 at d1 (e_emit) when d1 > d0. When the next interval is in the same
-- stage, the -1 of one and the +1 of the next fall on the same day and are
-- both left out.
CREATE OR REPLACE TEMP TABLE flow_intervals AS
WITH e AS (
    SELECT fi.n, fi.g, fi.live, s.seq, s.changed_at AS start_at, x.kid, x.f, x.t, x.c, x.unmapped, x.unknown,
        s.to_stage IS DISTINCT FROM x.ts OR s.from_stage IS DISTINCT FROM x.fs AS stale,
        s.approximated_from IS NOT NULL AS approx,
        epoch_us(s.changed_at) AS e0
    FROM flow_changes s
    JOIN flow_items fi ON fi.item_id = s.item_id
    -- Every change has its kind in sc_trans; LEFT keeps DuckDB from joining
    -- flow_items with sc_trans first (items × kinds of the same source).
    LEFT JOIN sc_trans x ON x.source_id = fi.source_id AND x.to_status IS NOT DISTINCT FROM s.to_status
        AND x.from_status IS NOT DISTINCT FROM s.from_status
        AND x.to_category IS NOT DISTINCT FROM s.to_category AND x.from_category IS NOT DISTINCT FROM s.from_category
), d AS (
    SELECT e.*,
        DATE '1970-01-01' + CAST((s_ep + CASE WHEN s_ep >= zs.switch_at THEN zs.off1 ELSE zs.off0 END) // 86400 AS INTEGER) AS d0
    FROM (SELECT *, e0 // 1000000 AS s_ep FROM e) e LEFT JOIN tz_days zs ON zs.ud = e.s_ep // 86400
), w AS (
    SELECT n, g, live, stale, approx, unmapped, unknown, seq, start_at, kid, e0, f, t, c, d0,
        lead(e0) OVER w AS e1, lead(d0) OVER w AS d1, lead(t) OVER w AS t1,
        lead(e0, 2) OVER w AS e2, lead(d0, 2) OVER w AS d2, lag(t) OVER w AS tp, lag(d0) OVER w AS dp
    FROM d
    WINDOW w AS (PARTITION BY n ORDER BY seq)
)
SELECT n, g, live, stale, approx, unmapped, unknown, seq, start_at, kid, e0, e1, f, t, c, d0, d1,
    live AND t IS NOT NULL AND d0 IS NOT NULL AND (e1 IS NULL OR coalesce(d1 > d0, false))
        AND NOT coalesce(tp = t AND d0 > dp, false) AS s_emit,
    live AND t IS NOT NULL AND e1 IS NOT NULL AND coalesce(d1 > d0, false)
        AND NOT coalesce(t1 = t AND (e2 IS NULL OR d2 > d1), false) AS e_emit
FROM w;

-- Derive each status change's stages from the map, touching only rows that changed.
CREATE OR REPLACE TEMP TABLE sc_stages AS
SELECT fi.item_id, x.seq, CASE x.f WHEN 1 THEN 'todo' WHEN 2 THEN 'started' WHEN 3 THEN 'done' END AS fs0,
    CASE x.t WHEN 1 THEN 'todo' WHEN 2 THEN 'started' WHEN 3 THEN 'done' END AS ts
FROM flow_intervals x JOIN flow_items fi ON fi.n = x.n
WHERE x.stale;

UPDATE status_changes s SET from_stage = CASE WHEN s.from_status IS NOT NULL THEN x.fs0 END, to_stage = x.ts
FROM sc_stages x WHERE s.item_id = x.item_id AND s.seq = x.seq;

-- The rules of metrics.md, in one pass. After the last reset (started→todo or
-- done→todo) there is at most one todo→started transition, so S is the last
-- such transition when it comes after the last reset; F is the last entry
-- into done when the item is done now. The same pass collects what the item
-- adds to the sums over all items (its kinds, its stage deltas encoded
-- (day + 100000) * 4 + stage) and its data-quality findings.
CREATE OR REPLACE TEMP TABLE flow_se AS
SELECT n, last_stage, reopens, starts, done_entries, s_at, epoch_us(s_at) AS s_us, s_day, f_at, epoch_us(f_at) AS f_us, f_day,
    kinds, delta_starts, delta_ends, dq_unmapped, dq_unknown,
    s_at IS NOT NULL AND coalesce(list_contains(approx_starts, s_at), false) AS dq_approx_start,
    f_at IS NOT NULL AND coalesce(list_contains(approx_finishes, f_at), false) AS dq_approx_finish
FROM (
SELECT n, last_stage, reopens, starts, done_entries, kinds, delta_starts, delta_ends, dq_unmapped, dq_unknown, approx_starts, approx_finishes,
    CASE WHEN cand_seq > coalesce(last_reset, -1) THEN cand_at END AS s_at,
    CASE WHEN cand_seq > coalesce(last_reset, -1) THEN cand_day END AS s_day,
    CASE WHEN last_stage = 3 THEN done_at END AS f_at,
    CASE WHEN last_stage = 3 THEN done_day END AS f_day
FROM (
    SELECT n,
        arg_max(t, seq) AS last_stage,
        max(seq) FILTER (WHERE t = 1 AND f IN (2, 3)) AS last_reset,
        max(seq) FILTER (WHERE f = 1 AND t = 2) AS cand_seq,
        arg_max(start_at, seq) FILTER (WHERE f = 1 AND t = 2) AS cand_at,
        arg_max(d0, seq) FILTER (WHERE f = 1 AND t = 2) AS cand_day,
        arg_max(start_at, seq) FILTER (WHERE t = 3 AND f <> 3) AS done_at,
        arg_max(d0, seq) FILTER (WHERE t = 3 AND f <> 3) AS done_day,
        count(*) FILTER (WHERE f = 3 AND t IN (1, 2)) AS reopens,
        count(*) FILTER (WHERE f = 1 AND t = 2) AS starts,
        count(*) FILTER (WHERE t = 3 AND f <> 3) AS done_entries,
        list(DISTINCT kid) FILTER (WHERE kid IS NOT NULL) AS kinds,
        list(CAST((d0 - DATE '1970-01-01' + 100000) * 4 + t AS INTEGER)) FILTER (WHERE s_emit) AS delta_starts,
        list(CAST((d1 - DATE '1970-01-01' + 100000) * 4 + t AS INTEGER)) FILTER (WHERE e_emit) AS delta_ends,
        coalesce(bool_or(unmapped), false) AS dq_unmapped,
        coalesce(bool_or(unknown), false) AS dq_unknown,
        list(start_at) FILTER (WHERE approx AND t = 2) AS approx_starts,
        list(start_at) FILTER (WHERE approx AND t = 3) AS approx_finishes
    FROM flow_intervals GROUP BY n
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
         ELSE coalesce(closed, 0) + CASE WHEN open_class = cls THEN greatest((SELECT now_us FROM params) - open_from, 0) ELSE 0 END END;
CREATE OR REPLACE TEMP MACRO flow_efficiency(a, w) AS
    CASE WHEN coalesce(a, 0) + coalesce(w, 0) > 0 THEN coalesce(a, 0) / (coalesce(a, 0) + coalesce(w, 0)) END;

-- Worklogs of the recomputed items: each with its ISO week (session zone;
-- in UTC computed from the epoch instead of an ICU call per worklog: the
-- same Monday, 1970 to 2100).
CREATE OR REPLACE TEMP TABLE flow_logged AS
SELECT item_id,
    list({'person_id': person_id, 'week_start': week_start, 'seconds': seconds}) FILTER (WHERE person_id IS NOT NULL) AS logged,
    sum(seconds) AS logged_seconds,
    bool_or(seconds > 86400) AS long_worklog
FROM (
    SELECT l.item_id, l.person_id, l.seconds,
        CASE WHEN (SELECT utc_session FROM params) AND epoch_us(l.started_at) >= 0 AND epoch_us(l.started_at) < 4102444800000000
            THEN DATE '1970-01-01' + CAST(epoch_us(l.started_at) // 86400000000 AS INTEGER)
                - CAST(isodow(DATE '1970-01-01' + CAST(epoch_us(l.started_at) // 86400000000 AS INTEGER)) - 1 AS INTEGER)
            ELSE CAST(date_trunc('week', l.started_at) AS DATE) END AS week_start
    FROM worklogs l
    {{if not .Full}}WHERE l.item_id IN (SELECT item_id FROM temp.main.flow_dirty){{end}}
)
GROUP BY item_id;

-- What each recomputed item adds to the sums over all items now (its new
-- flow_item_state row). Items only worklogs name get a row too.
CREATE OR REPLACE TEMP TABLE flow_state_new AS
SELECT coalesce(fi.item_id, l.item_id) AS item_id, fi.source_id, fi.key, coalesce(fi.live, false) AS live, fi.team, fi.work_class,
    s.kinds, s.delta_starts, s.delta_ends, l.logged, l.logged_seconds,
    e.closed_active_us, e.closed_wait_us, e.open_from_us, e.open_class,
    coalesce(s.dq_unmapped, false) AS dq_unmapped, coalesce(s.dq_unknown, false) AS dq_unknown,
    coalesce(s.dq_approx_start, false) AS dq_approx_start, coalesce(s.dq_approx_finish, false) AS dq_approx_finish,
    coalesce(l.long_worklog, false) AS dq_long_worklog,
    coalesce(fi.no_estimate AND fi.work_class = 'project' AND s.f_at IS NULL, false) AS dq_missing_estimate
FROM flow_items fi
FULL OUTER JOIN flow_logged l ON l.item_id = fi.item_id
LEFT JOIN flow_se s ON s.n = fi.n
LEFT JOIN flow_eff e ON e.n = fi.n;

-- What they added at the compute that last recomputed them (nothing in a
-- full compute, which starts the sums afresh).
{{if .Full}}
CREATE OR REPLACE TEMP TABLE flow_state_old AS SELECT * FROM flow_item_state LIMIT 0;
DELETE FROM flow_stage_days;
DELETE FROM logged_weekly;
{{else}}
CREATE OR REPLACE TEMP TABLE flow_state_old AS
SELECT * FROM flow_item_state WHERE item_id IN (SELECT item_id FROM temp.main.flow_dirty);
{{end}}

-- Items per status kind.
CREATE OR REPLACE TEMP TABLE kinds_delta AS
SELECT kid, sum(v) AS v FROM (
    SELECT unnest(kinds) AS kid, -1 AS v FROM flow_state_old
    UNION ALL SELECT unnest(kinds), 1 FROM flow_state_new
) GROUP BY kid HAVING sum(v) <> 0;
UPDATE status_kinds k SET items = k.items + d.v FROM kinds_delta d WHERE d.kid = k.kid;
DELETE FROM status_kinds WHERE items = 0;

-- Stage deltas per day, team, class and stage (wip_daily, cumulative_flow):
-- the recomputed items' old deltas out, their new ones (straight from the
-- intervals) in; rows that sum to zero go.
CREATE OR REPLACE TEMP TABLE stage_delta AS
WITH old AS (
    SELECT DATE '1970-01-01' + CAST(code // 4 - 100000 AS INTEGER) AS day, team, work_class, CAST(code % 4 AS UTINYINT) AS stage, sum(v) AS v
    FROM (SELECT unnest(delta_starts) AS code, team, work_class, -1 AS v FROM flow_state_old
          UNION ALL SELECT unnest(delta_ends), team, work_class, 1 FROM flow_state_old)
    GROUP BY ALL
), new AS (
    SELECT e.day, gr.team, gr.work_class, e.stage, e.v FROM (
        SELECT day, g, stage, sum(v) AS v FROM (
            SELECT d0 AS day, g, t AS stage, 1 AS v FROM flow_intervals WHERE s_emit
            UNION ALL SELECT d1, g, t, -1 FROM flow_intervals WHERE e_emit
        ) GROUP BY ALL
    ) e JOIN flow_groups_n gr ON gr.g = e.g
)
SELECT day, team, work_class, stage, sum(v) AS v FROM (SELECT * FROM old UNION ALL SELECT * FROM new)
GROUP BY ALL HAVING sum(v) <> 0;

CREATE OR REPLACE TEMP TABLE stage_merged AS
SELECT d.day, d.team, d.work_class, d.stage, coalesce(s.delta, 0) + d.v AS delta
FROM stage_delta d LEFT JOIN flow_stage_days s
    ON s.day = d.day AND s.team = d.team AND s.work_class = d.work_class AND s.stage = d.stage;
DELETE FROM flow_stage_days s WHERE EXISTS (SELECT 1 FROM stage_merged m
    WHERE m.day = s.day AND m.team = s.team AND m.work_class = s.work_class AND m.stage = s.stage);
INSERT INTO flow_stage_days SELECT * FROM stage_merged WHERE delta <> 0;

-- Logged seconds per person, week and the item's class (capacity): the
-- same, out and in.
CREATE OR REPLACE TEMP TABLE logged_delta AS
SELECT person_id, week_start, work_class, sum(s) AS s FROM (
    SELECT struct_extract(u, 'person_id') AS person_id, struct_extract(u, 'week_start') AS week_start, work_class,
        -struct_extract(u, 'seconds') AS s
    FROM (SELECT unnest(logged) AS u, CASE WHEN live THEN work_class ELSE 'unclassified' END AS work_class FROM flow_state_old)
    UNION ALL
    SELECT struct_extract(u, 'person_id'), struct_extract(u, 'week_start'), work_class, struct_extract(u, 'seconds')
    FROM (SELECT unnest(logged) AS u, CASE WHEN live THEN work_class ELSE 'unclassified' END AS work_class FROM flow_state_new)
) GROUP BY ALL HAVING sum(s) <> 0;

CREATE OR REPLACE TEMP TABLE logged_merged AS
SELECT d.person_id, d.week_start, d.work_class, coalesce(l.seconds, 0) + d.s AS seconds
FROM logged_delta d LEFT JOIN logged_weekly l
    ON l.person_id = d.person_id AND l.week_start = d.week_start AND l.work_class = d.work_class;
DELETE FROM logged_weekly l WHERE EXISTS (SELECT 1 FROM logged_merged m
    WHERE m.person_id = l.person_id AND m.week_start = l.week_start AND m.work_class = l.work_class);
INSERT INTO logged_weekly SELECT * FROM logged_merged WHERE seconds <> 0;

{{if .Full}}DELETE FROM flow_item_state;{{else}}DELETE FROM flow_item_state WHERE item_id IN (SELECT item_id FROM temp.main.flow_dirty);{{end}}
INSERT INTO flow_item_state SELECT * FROM flow_state_new;

-- The statuses stored (of some item's status change, or of an item), mapped.
DELETE FROM status_seen;
INSERT INTO status_seen
SELECT source_id, to_status, to_category FROM status_kinds
UNION ALL SELECT source_id, from_status, from_category FROM status_kinds WHERE from_status IS NOT NULL
UNION ALL SELECT source_id, status, status_category FROM work_items;
DELETE FROM status_map;
INSERT INTO status_map SELECT * FROM status_rules;

{{if .Full}}DELETE FROM item_flow;{{else}}DELETE FROM item_flow WHERE item_id IN (SELECT item_id FROM temp.main.flow_dirty);{{end}}
INSERT INTO item_flow
WITH se AS (
    SELECT n, CASE last_stage WHEN 1 THEN 'todo' WHEN 2 THEN 'started' WHEN 3 THEN 'done' END AS last_stage,
        reopens, starts, done_entries, s_at, s_day, f_at, f_day,
        epoch_us(s_at) / 1000000.0 AS s_e, epoch_us(f_at) / 1000000.0 AS f_e,
        -- today joined here, on these narrow rows, not on the wide ones below
        (SELECT today FROM params) - s_day + 1 AS age
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
    CASE WHEN coalesce(s.last_stage, sl.stage) = 'started' AND s.s_at IS NOT NULL THEN s.age END,
    CAST(round(flow_us(st.closed_active_us, st.open_from_us, st.open_class, 1) / 1000000) AS BIGINT),
    CAST(round(flow_us(st.closed_wait_us, st.open_from_us, st.open_class, 2) / 1000000) AS BIGINT),
    flow_efficiency(flow_us(st.closed_active_us, st.open_from_us, st.open_class, 1), flow_us(st.closed_wait_us, st.open_from_us, st.open_class, 2)),
    s.s_day, s.f_day, coalesce(s.starts, 0), coalesce(s.done_entries, 0)
FROM flow_items b
LEFT JOIN se s ON s.n = b.n
LEFT JOIN flow_state_new st ON st.item_id = b.item_id
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
    FROM flow_item_state WHERE open_class IS NOT NULL AND live
) x
WHERE f.item_id = x.item_id
  AND (f.active_seconds IS DISTINCT FROM x.a OR f.wait_seconds IS DISTINCT FROM x.w OR f.flow_efficiency IS DISTINCT FROM x.e);
{{end}}
UPDATE item_flow SET age_days = (SELECT today FROM params) - start_day + 1
WHERE stage = 'started' AND started_at IS NOT NULL AND age_days IS DISTINCT FROM (SELECT today FROM params) - start_day + 1;
