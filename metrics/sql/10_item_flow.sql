-- UTC day → the zone's offset at its start, and the switch within it (DST):
-- an equality join on it gives local days without casting row by row.
CREATE OR REPLACE TEMP TABLE tz_days AS
WITH d AS (SELECT u AS ud FROM range(-25567, 47482) t(u)),
a AS (SELECT d.ud, o.off AS off0 FROM d ASOF LEFT JOIN tz_offsets o ON d.ud * 86400 >= o.start_epoch)
SELECT a.ud, a.off0, coalesce(min(x.start_epoch), 9000000000000000000) AS switch_at,
    coalesce(arg_min(x.off, x.start_epoch), a.off0) AS off1
FROM a LEFT JOIN tz_offsets x ON x.start_epoch > a.ud * 86400 AND x.start_epoch < (a.ud + 1) * 86400
GROUP BY a.ud, a.off0;

-- Every (team, work class) an item can get, numbered: the teams of the
-- config and of projects, plus unassigned; the classes, plus overrides.
CREATE OR REPLACE TEMP TABLE flow_groups_n AS
SELECT CAST(row_number() OVER (ORDER BY team, work_class) AS INTEGER) AS g, team, work_class
FROM (SELECT name AS team FROM cfg_teams UNION SELECT team_id FROM projects WHERE team_id IS NOT NULL UNION SELECT 'unassigned')
CROSS JOIN (SELECT unnest(['operational', 'project', 'unclassified']) AS work_class
    UNION SELECT DISTINCT work_class_override FROM work_items WHERE work_class_override IS NOT NULL);

-- Per item, everything that does not depend on its history: attribution,
-- class, and a dense integer n for this compute (every join and group-by
-- over the large history below runs on n, not on the string item_id), and g,
-- the item's (team, work class) group. Deleted items are kept (live false)
-- only so that the stage columns of their status changes are maintained.
CREATE OR REPLACE TEMP TABLE flow_items AS
WITH b AS (
SELECT CAST(row_number() OVER () AS INTEGER) AS n, w.item_id, w.key, w.source_id,
    coalesce(tov.team, pt.team_id, pr.team_id, 'unassigned') AS team,
    coalesce(w.work_class_override,
        CASE WHEN lower(w.item_type) IN (SELECT value FROM cfg_class WHERE class = 'operational' AND kind = 'type')
               OR lower(pr.key) IN (SELECT value FROM cfg_class WHERE class = 'operational' AND kind = 'project') THEN 'operational' END,
        CASE WHEN lower(w.item_type) IN (SELECT value FROM cfg_class WHERE class = 'project' AND kind = 'type')
               OR lower(pr.key) IN (SELECT value FROM cfg_class WHERE class = 'project' AND kind = 'project') THEN 'project' END,
        CASE WHEN w.milestone_id IS NOT NULL OR par.item_id IS NOT NULL THEN 'project' END,
        'unclassified') AS work_class,
    w.item_type, pr.key AS project, w.status, sm.stage AS status_stage, w.created_at,
    (lower(w.resolution) IN (SELECT res FROM cfg_discarded) OR lower(w.status) IN (SELECT res FROM cfg_discarded)) AS discarded_res,
    NOT w.deleted AS live
FROM work_items w
LEFT JOIN status_map sm ON sm.source_id = w.source_id AND sm.status = w.status AND sm.category IS NOT DISTINCT FROM w.status_category
LEFT JOIN projects pr ON pr.project_id = w.project_id
LEFT JOIN (SELECT name AS team FROM cfg_teams) tov ON tov.team = w.team_override
LEFT JOIN (SELECT person_id, team_id FROM people WHERE team_id IN (SELECT name FROM cfg_teams)) pt ON pt.person_id = w.assignee_id
-- Only epics make a parent count (lower(item_type) = 'epic').
LEFT JOIN (SELECT item_id FROM work_items WHERE lower(item_type) = 'epic') par ON par.item_id = w.parent_id
)
SELECT b.*, gr.g FROM b JOIN flow_groups_n gr ON gr.team = b.team AND gr.work_class = b.work_class;

-- Each kind of status change (source, to, from, with their categories) with
-- its stages: one small join per change below instead of two lookups in the
-- status map.
CREATE OR REPLACE TEMP TABLE sc_trans AS
SELECT DISTINCT a.source_id, a.to_status, a.to_category, a.from_status, a.from_category, t.stage AS ts,
    CASE WHEN a.from_status IS NOT NULL THEN f.stage END AS fs,
    CAST(CASE coalesce(CASE WHEN a.from_status IS NOT NULL THEN f.stage END, 'todo') WHEN 'todo' THEN 1 WHEN 'started' THEN 2 WHEN 'done' THEN 3 END AS UTINYINT) AS f,
    CAST(CASE t.stage WHEN 'todo' THEN 1 WHEN 'started' THEN 2 WHEN 'done' THEN 3 END AS UTINYINT) AS t,
    CAST(CASE t.stage_class WHEN 'active' THEN 1 WHEN 'wait' THEN 2 END AS UTINYINT) AS c
FROM sc_agg a
LEFT JOIN status_map t ON t.source_id = a.source_id AND t.status = a.to_status AND t.category IS NOT DISTINCT FROM a.to_category
LEFT JOIN status_map f ON f.source_id = a.source_id AND f.status = a.from_status AND f.category IS NOT DISTINCT FROM a.from_category;

-- Stage intervals, in one pass over the history: each transition holds until
-- the next one (or now). Stages are coded 1 todo, 2 started, 3 done; c (the
-- to-status' class) 1 active, 2 wait. e0 and e1 are epoch() of the start and
-- the end (epoch() of a TIMESTAMPTZ goes through ICU: computed once per
-- change), d0 and d1 their local days; open: the interval reaches now
-- (end_at >= now). stale marks changes whose stored stage columns differ from
-- the status map (written back below).
CREATE OR REPLACE TEMP TABLE flow_intervals AS
WITH e AS (
    SELECT fi.n, fi.g, fi.live, s.seq, s.changed_at AS start_at, x.f, x.t, x.c,
        s.to_stage IS DISTINCT FROM x.ts OR s.from_stage IS DISTINCT FROM x.fs AS stale,
        epoch(s.changed_at) AS e0
    FROM status_changes s
    JOIN flow_items fi ON fi.item_id = s.item_id
    -- Every change has its kind in sc_trans; LEFT keeps DuckDB from joining
    -- flow_items with sc_trans first (items × kinds of the same source).
    LEFT JOIN sc_trans x ON x.source_id = fi.source_id AND x.to_status IS NOT DISTINCT FROM s.to_status
        AND x.from_status IS NOT DISTINCT FROM s.from_status
        AND x.to_category IS NOT DISTINCT FROM s.to_category AND x.from_category IS NOT DISTINCT FROM s.from_category
), d AS (
    SELECT e.*,
        DATE '1970-01-01' + CAST((s_ep + CASE WHEN s_ep >= zs.switch_at THEN zs.off1 ELSE zs.off0 END) // 86400 AS INTEGER) AS d0
    FROM (SELECT *, CAST(e0 AS BIGINT) AS s_ep FROM e) e LEFT JOIN tz_days zs ON zs.ud = e.s_ep // 86400
), nowd AS (
    SELECT now_ts, now_e,
        DATE '1970-01-01' + CAST((e_ep + CASE WHEN e_ep >= z.switch_at THEN z.off1 ELSE z.off0 END) // 86400 AS INTEGER) AS now_day
    FROM (SELECT now_ts, epoch(now_ts) AS now_e, CAST(epoch(now_ts) AS BIGINT) AS e_ep FROM params) p
    LEFT JOIN tz_days z ON z.ud = p.e_ep // 86400
)
SELECT n, g, live, stale, seq, start_at, e0,
    coalesce(lead(e0) OVER w, (SELECT now_e FROM nowd)) AS e1,
    coalesce(lead(start_at) OVER w >= (SELECT now_ts FROM nowd), true) AS open,
    f, t, c, d0,
    coalesce(lead(d0) OVER w, (SELECT now_day FROM nowd)) AS d1
FROM d
WINDOW w AS (PARTITION BY n ORDER BY seq);

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
-- into done when the item is done now.
-- s_e and f_e are epoch(S) and epoch(F) (one ICU call per item, not an
-- arg_max over the history: start_at is never NULL, so both pick the same row).
CREATE OR REPLACE TEMP TABLE flow_se AS
SELECT n, last_stage, reopens, starts, done_entries, s_at, epoch(s_at) AS s_e, s_day, f_at, epoch(f_at) AS f_e, f_day
FROM (
SELECT n, last_stage, reopens, starts, done_entries,
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
        count(*) FILTER (WHERE t = 3 AND f <> 3) AS done_entries
    FROM flow_intervals WHERE live GROUP BY n
)
);

DELETE FROM item_flow;
INSERT INTO item_flow
WITH eff AS (
    -- Time in each started interval clipped to [S, F or now]; plain equality
    -- join (inequalities in the join would make DuckDB choose a range join).
    -- epoch() is monotonic, so epoch(least(a, b)) = least(epoch(a), epoch(b)).
    SELECT i.n,
        sum(greatest(least(i.e1, coalesce(s.f_e, i.e1)) - greatest(i.e0, s.s_e), 0)) FILTER (WHERE i.c = 1) AS active_s,
        sum(greatest(least(i.e1, coalesce(s.f_e, i.e1)) - greatest(i.e0, s.s_e), 0)) FILTER (WHERE i.c = 2) AS wait_s
    FROM flow_intervals i JOIN flow_se s ON s.n = i.n
    WHERE i.t = 2 AND i.live AND s.s_at IS NOT NULL
    GROUP BY i.n
), se AS (
    SELECT n, CASE last_stage WHEN 1 THEN 'todo' WHEN 2 THEN 'started' WHEN 3 THEN 'done' END AS last_stage,
        reopens, starts, done_entries, s_at, s_e, s_day, f_at, f_e, f_day,
        -- today joined here, on these narrow rows, not on the wide ones below
        (SELECT today FROM params) - s_day + 1 AS age
    FROM flow_se
)
SELECT b.item_id, b.key, b.source_id, b.team, b.work_class, b.item_type, b.project, b.status,
    coalesce(s.last_stage, b.status_stage, 'todo'),
    b.created_at, s.s_at, s.f_at,
    CASE WHEN s.f_at IS NOT NULL AND s.s_at IS NOT NULL THEN CAST(trunc(s.f_e - s.s_e) AS BIGINT) END,
    CASE WHEN s.f_at IS NOT NULL AND s.s_at IS NOT NULL THEN s.f_day - s.s_day + 1 END,
    CASE WHEN s.f_at IS NOT NULL THEN CAST(trunc(s.f_e - epoch(b.created_at)) AS BIGINT) END,
    coalesce(s.reopens, 0),
    s.f_at IS NOT NULL AND s.s_at IS NULL AND NOT coalesce(b.discarded_res, false),
    s.f_at IS NOT NULL AND coalesce(b.discarded_res, false),
    s.f_at IS NOT NULL,
    CASE WHEN coalesce(s.last_stage, b.status_stage) = 'started' AND s.s_at IS NOT NULL THEN s.age END,
    CAST(round(e.active_s) AS BIGINT), CAST(round(e.wait_s) AS BIGINT),
    CASE WHEN coalesce(e.active_s, 0) + coalesce(e.wait_s, 0) > 0 THEN coalesce(e.active_s, 0) / (coalesce(e.active_s, 0) + coalesce(e.wait_s, 0)) END,
    s.s_day, s.f_day, coalesce(s.starts, 0), coalesce(s.done_entries, 0)
FROM flow_items b
LEFT JOIN se s ON s.n = b.n
LEFT JOIN eff e ON e.n = b.n
WHERE b.live;
