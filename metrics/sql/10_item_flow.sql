-- Stage intervals: each transition holds until the next one (or now).
-- d0 and d1 are the local days of start_at and end_at (tz_offsets, see job.go).
CREATE OR REPLACE TEMP TABLE flow_intervals AS
WITH iv AS (
    SELECT s.item_id, s.seq, s.changed_at AS start_at,
        coalesce(lead(s.changed_at) OVER (PARTITION BY s.item_id ORDER BY s.seq), (SELECT now_ts FROM params)) AS end_at,
        coalesce(s.from_stage, 'todo') AS f, s.to_stage AS t, m.stage_class
    FROM status_changes s
    JOIN work_items w ON w.item_id = s.item_id AND NOT w.deleted
    LEFT JOIN status_map m ON m.source_id = w.source_id AND m.status = s.to_status
), e AS (
    SELECT iv.*, CAST(epoch(start_at) AS BIGINT) AS s_ep, CAST(epoch(end_at) AS BIGINT) AS e_ep FROM iv
), a AS (
    SELECT e.*, o.off AS s_off FROM e ASOF LEFT JOIN tz_offsets o ON e.s_ep >= o.start_epoch
), b AS (
    SELECT a.*, o.off AS e_off FROM a ASOF LEFT JOIN tz_offsets o ON a.e_ep >= o.start_epoch
)
SELECT item_id, seq, start_at, end_at, f, t, stage_class,
    DATE '1970-01-01' + CAST((s_ep + s_off) // 86400 AS INTEGER) AS d0,
    DATE '1970-01-01' + CAST((e_ep + e_off) // 86400 AS INTEGER) AS d1
FROM b;

-- The rules of metrics.md, in one pass. After the last reset (started→todo or
-- done→todo) there is at most one todo→started transition, so S is the last
-- such transition when it comes after the last reset.
CREATE OR REPLACE TEMP TABLE flow_se AS
SELECT item_id,
    arg_max(t, seq) AS last_stage,
    max(seq) FILTER (WHERE t = 'todo' AND f IN ('started', 'done')) AS last_reset,
    max(seq) FILTER (WHERE f = 'todo' AND t = 'started') AS cand_seq,
    arg_max(start_at, seq) FILTER (WHERE f = 'todo' AND t = 'started') AS cand_at,
    arg_max(start_at, seq) FILTER (WHERE t = 'done' AND f <> 'done') AS done_at,
    count(*) FILTER (WHERE f = 'done' AND t IN ('todo', 'started')) AS reopens,
    min(start_at) AS first_change
FROM flow_intervals GROUP BY item_id;

-- Per item: attribution, class and S/F (materialized once; used twice below).
CREATE OR REPLACE TEMP TABLE flow_base AS
    SELECT w.item_id, w.key, w.source_id AS source,
        coalesce(tov.team, pt.team_id, pr.team_id, 'unassigned') AS team,
        coalesce(w.work_class_override,
            CASE WHEN lower(w.item_type) IN (SELECT value FROM cfg_class WHERE class = 'operational' AND kind = 'type')
                   OR lower(pr.key) IN (SELECT value FROM cfg_class WHERE class = 'operational' AND kind = 'project') THEN 'operational' END,
            CASE WHEN lower(w.item_type) IN (SELECT value FROM cfg_class WHERE class = 'project' AND kind = 'type')
                   OR lower(pr.key) IN (SELECT value FROM cfg_class WHERE class = 'project' AND kind = 'project') THEN 'project' END,
            CASE WHEN w.milestone_id IS NOT NULL OR lower(par.item_type) = 'epic' THEN 'project' END,
            'unclassified') AS work_class,
        w.item_type, pr.key AS project, w.status,
        coalesce(se.last_stage, sm.stage, 'todo') AS stage,
        w.created_at,
        CASE WHEN se.cand_seq > coalesce(se.last_reset, -1) THEN se.cand_at END AS s_at,
        CASE WHEN se.last_stage = 'done' THEN se.done_at END AS f_at,
        coalesce(se.reopens, 0) AS reopens,
        (lower(w.resolution) IN (SELECT res FROM cfg_discarded) OR lower(w.status) IN (SELECT res FROM cfg_discarded)) AS discarded_res
    FROM work_items w
    LEFT JOIN flow_se se ON se.item_id = w.item_id
    LEFT JOIN status_map sm ON sm.source_id = w.source_id AND sm.status = w.status
    LEFT JOIN projects pr ON pr.project_id = w.project_id
    LEFT JOIN (SELECT name AS team FROM cfg_teams) tov ON tov.team = w.team_override
    LEFT JOIN (SELECT person_id, team_id FROM people WHERE team_id IN (SELECT name FROM cfg_teams)) pt ON pt.person_id = w.assignee_id
    LEFT JOIN work_items par ON par.item_id = w.parent_id
    WHERE NOT w.deleted;

-- Intervals with the item's team, class, S and F: one join shared by the
-- efficiency, WIP and cumulative-flow steps.
CREATE OR REPLACE TEMP TABLE flow_iv AS
SELECT i.item_id, i.start_at, i.end_at, i.d0, i.d1, i.t, i.stage_class, b.team, b.work_class, b.s_at, b.f_at
FROM flow_intervals i JOIN flow_base b ON b.item_id = i.item_id;

DELETE FROM item_flow;
INSERT INTO item_flow
WITH eff AS (
    -- Time in each started interval clipped to [S, F or now]; plain equality
    -- join (inequalities in the join would make DuckDB choose a range join).
    SELECT i.item_id,
        sum(greatest(epoch(least(i.end_at, coalesce(i.f_at, i.end_at))) - epoch(greatest(i.start_at, i.s_at)), 0)) FILTER (WHERE i.stage_class = 'active') AS active_s,
        sum(greatest(epoch(least(i.end_at, coalesce(i.f_at, i.end_at))) - epoch(greatest(i.start_at, i.s_at)), 0)) FILTER (WHERE i.stage_class = 'wait') AS wait_s
    FROM flow_iv i
    WHERE i.t = 'started' AND i.s_at IS NOT NULL
    GROUP BY i.item_id
)
SELECT b.item_id, b.key, b.source, b.team, b.work_class, b.item_type, b.project, b.status, b.stage,
    b.created_at, b.s_at, b.f_at,
    CASE WHEN b.f_at IS NOT NULL AND b.s_at IS NOT NULL THEN CAST(round(epoch(b.f_at) - epoch(b.s_at)) AS BIGINT) END,
    CASE WHEN b.f_at IS NOT NULL AND b.s_at IS NOT NULL THEN CAST(b.f_at AS DATE) - CAST(b.s_at AS DATE) + 1 END,
    CASE WHEN b.f_at IS NOT NULL THEN CAST(round(epoch(b.f_at) - epoch(b.created_at)) AS BIGINT) END,
    b.reopens,
    b.f_at IS NOT NULL AND b.s_at IS NULL AND NOT coalesce(b.discarded_res, false),
    b.f_at IS NOT NULL AND coalesce(b.discarded_res, false),
    b.f_at IS NOT NULL,
    CASE WHEN b.stage = 'started' AND b.s_at IS NOT NULL THEN (SELECT today FROM params) - CAST(b.s_at AS DATE) + 1 END,
    CAST(round(e.active_s) AS BIGINT), CAST(round(e.wait_s) AS BIGINT),
    CASE WHEN coalesce(e.active_s, 0) + coalesce(e.wait_s, 0) > 0 THEN coalesce(e.active_s, 0) / (coalesce(e.active_s, 0) + coalesce(e.wait_s, 0)) END
FROM flow_base b
LEFT JOIN eff e ON e.item_id = b.item_id;
