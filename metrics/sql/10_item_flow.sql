-- UTC day → the zone's offset at its start, and the switch within it (DST):
-- an equality join on it gives local days without casting row by row.
CREATE OR REPLACE TEMP TABLE tz_days AS
WITH d AS (SELECT u AS ud FROM range(-25567, 47482) t(u)),
a AS (SELECT d.ud, o.off AS off0 FROM d ASOF LEFT JOIN tz_offsets o ON d.ud * 86400 >= o.start_epoch)
SELECT a.ud, a.off0, coalesce(min(x.start_epoch), 9000000000000000000) AS switch_at,
    coalesce(arg_min(x.off, x.start_epoch), a.off0) AS off1
FROM a LEFT JOIN tz_offsets x ON x.start_epoch > a.ud * 86400 AND x.start_epoch < (a.ud + 1) * 86400
GROUP BY a.ud, a.off0;

-- Per item, everything that does not depend on its history: attribution,
-- class, and a dense integer n for this compute (every join and group-by
-- over the large history below runs on n, not on the string item_id).
CREATE OR REPLACE TEMP TABLE flow_items AS
SELECT CAST(row_number() OVER () AS INTEGER) AS n, w.item_id, w.key, w.source_id,
    coalesce(tov.team, pt.team_id, pr.team_id, 'unassigned') AS team,
    coalesce(w.work_class_override,
        CASE WHEN lower(w.item_type) IN (SELECT value FROM cfg_class WHERE class = 'operational' AND kind = 'type')
               OR lower(pr.key) IN (SELECT value FROM cfg_class WHERE class = 'operational' AND kind = 'project') THEN 'operational' END,
        CASE WHEN lower(w.item_type) IN (SELECT value FROM cfg_class WHERE class = 'project' AND kind = 'type')
               OR lower(pr.key) IN (SELECT value FROM cfg_class WHERE class = 'project' AND kind = 'project') THEN 'project' END,
        CASE WHEN w.milestone_id IS NOT NULL OR lower(par.item_type) = 'epic' THEN 'project' END,
        'unclassified') AS work_class,
    w.item_type, pr.key AS project, w.status, sm.stage AS status_stage, w.created_at,
    (lower(w.resolution) IN (SELECT res FROM cfg_discarded) OR lower(w.status) IN (SELECT res FROM cfg_discarded)) AS discarded_res
FROM work_items w
LEFT JOIN status_map sm ON sm.source_id = w.source_id AND sm.status = w.status
LEFT JOIN projects pr ON pr.project_id = w.project_id
LEFT JOIN (SELECT name AS team FROM cfg_teams) tov ON tov.team = w.team_override
LEFT JOIN (SELECT person_id, team_id FROM people WHERE team_id IN (SELECT name FROM cfg_teams)) pt ON pt.person_id = w.assignee_id
LEFT JOIN work_items par ON par.item_id = w.parent_id
WHERE NOT w.deleted;

-- Stage intervals: each transition holds until the next one (or now), with
-- the item's team and class. d0 and d1 are the local days of start_at and end_at.
CREATE OR REPLACE TEMP TABLE flow_intervals AS
WITH w AS (
    SELECT item_id, seq, changed_at AS start_at,
        coalesce(lead(changed_at) OVER (PARTITION BY item_id ORDER BY seq), (SELECT now_ts FROM params)) AS end_at,
        coalesce(from_stage, 'todo') AS f, to_stage AS t, to_status
    FROM status_changes
), e AS (
    SELECT fi.n, fi.team, fi.work_class, w.seq, w.start_at, w.end_at, w.f, w.t, m.stage_class,
        CAST(epoch(w.start_at) AS BIGINT) AS s_ep, CAST(epoch(w.end_at) AS BIGINT) AS e_ep
    FROM w
    JOIN flow_items fi ON fi.item_id = w.item_id
    LEFT JOIN status_map m ON m.source_id = fi.source_id AND m.status = w.to_status
)
SELECT n, team, work_class, seq, start_at, end_at, f, t, stage_class,
    DATE '1970-01-01' + CAST((s_ep + CASE WHEN s_ep >= zs.switch_at THEN zs.off1 ELSE zs.off0 END) // 86400 AS INTEGER) AS d0,
    DATE '1970-01-01' + CAST((e_ep + CASE WHEN e_ep >= ze.switch_at THEN ze.off1 ELSE ze.off0 END) // 86400 AS INTEGER) AS d1
FROM e
LEFT JOIN tz_days zs ON zs.ud = e.s_ep // 86400
LEFT JOIN tz_days ze ON ze.ud = e.e_ep // 86400;

-- The rules of metrics.md, in one pass. After the last reset (started→todo or
-- done→todo) there is at most one todo→started transition, so S is the last
-- such transition when it comes after the last reset; F is the last entry
-- into done when the item is done now.
CREATE OR REPLACE TEMP TABLE flow_se AS
SELECT n, last_stage, reopens, starts, done_entries,
    CASE WHEN cand_seq > coalesce(last_reset, -1) THEN cand_at END AS s_at,
    CASE WHEN cand_seq > coalesce(last_reset, -1) THEN cand_day END AS s_day,
    CASE WHEN last_stage = 'done' THEN done_at END AS f_at,
    CASE WHEN last_stage = 'done' THEN done_day END AS f_day
FROM (
    SELECT n,
        arg_max(t, seq) AS last_stage,
        max(seq) FILTER (WHERE t = 'todo' AND f IN ('started', 'done')) AS last_reset,
        max(seq) FILTER (WHERE f = 'todo' AND t = 'started') AS cand_seq,
        arg_max(start_at, seq) FILTER (WHERE f = 'todo' AND t = 'started') AS cand_at,
        arg_max(d0, seq) FILTER (WHERE f = 'todo' AND t = 'started') AS cand_day,
        arg_max(start_at, seq) FILTER (WHERE t = 'done' AND f <> 'done') AS done_at,
        arg_max(d0, seq) FILTER (WHERE t = 'done' AND f <> 'done') AS done_day,
        count(*) FILTER (WHERE f = 'done' AND t IN ('todo', 'started')) AS reopens,
        count(*) FILTER (WHERE f = 'todo' AND t = 'started') AS starts,
        count(*) FILTER (WHERE t = 'done' AND f <> 'done') AS done_entries
    FROM flow_intervals GROUP BY n
);

DELETE FROM item_flow;
INSERT INTO item_flow
WITH eff AS (
    -- Time in each started interval clipped to [S, F or now]; plain equality
    -- join (inequalities in the join would make DuckDB choose a range join).
    SELECT i.n,
        sum(greatest(epoch(least(i.end_at, coalesce(s.f_at, i.end_at))) - epoch(greatest(i.start_at, s.s_at)), 0)) FILTER (WHERE i.stage_class = 'active') AS active_s,
        sum(greatest(epoch(least(i.end_at, coalesce(s.f_at, i.end_at))) - epoch(greatest(i.start_at, s.s_at)), 0)) FILTER (WHERE i.stage_class = 'wait') AS wait_s
    FROM flow_intervals i JOIN flow_se s ON s.n = i.n
    WHERE i.t = 'started' AND s.s_at IS NOT NULL
    GROUP BY i.n
)
SELECT b.item_id, b.key, b.source_id, b.team, b.work_class, b.item_type, b.project, b.status,
    coalesce(s.last_stage, b.status_stage, 'todo'),
    b.created_at, s.s_at, s.f_at,
    CASE WHEN s.f_at IS NOT NULL AND s.s_at IS NOT NULL THEN CAST(trunc(epoch(s.f_at) - epoch(s.s_at)) AS BIGINT) END,
    CASE WHEN s.f_at IS NOT NULL AND s.s_at IS NOT NULL THEN s.f_day - s.s_day + 1 END,
    CASE WHEN s.f_at IS NOT NULL THEN CAST(trunc(epoch(s.f_at) - epoch(b.created_at)) AS BIGINT) END,
    coalesce(s.reopens, 0),
    s.f_at IS NOT NULL AND s.s_at IS NULL AND NOT coalesce(b.discarded_res, false),
    s.f_at IS NOT NULL AND coalesce(b.discarded_res, false),
    s.f_at IS NOT NULL,
    CASE WHEN coalesce(s.last_stage, b.status_stage) = 'started' AND s.s_at IS NOT NULL THEN (SELECT today FROM params) - s.s_day + 1 END,
    CAST(round(e.active_s) AS BIGINT), CAST(round(e.wait_s) AS BIGINT),
    CASE WHEN coalesce(e.active_s, 0) + coalesce(e.wait_s, 0) > 0 THEN coalesce(e.active_s, 0) / (coalesce(e.active_s, 0) + coalesce(e.wait_s, 0)) END,
    s.s_day, s.f_day, coalesce(s.starts, 0), coalesce(s.done_entries, 0)
FROM flow_items b
LEFT JOIN flow_se s ON s.n = b.n
LEFT JOIN eff e ON e.n = b.n;
