-- Teams from the config, plus the synthetic team "unassigned".
DELETE FROM teams;
INSERT INTO teams SELECT name, name, wip_limit, sle_days, hours_per_week FROM cfg_teams
UNION ALL SELECT 'unassigned', 'unassigned', NULL, NULL, NULL;

-- People and projects get their teams from the config.
UPDATE people p SET team_id = m.team
FROM cfg_members m
WHERE (m.member = lower(p.email) OR m.member = lower(p.display_name) OR m.member = lower(p.external_id))
  AND p.team_id IS DISTINCT FROM m.team;
UPDATE projects p SET team_id = c.team
FROM cfg_projects c WHERE c.project = lower(p.key) AND p.team_id IS DISTINCT FROM c.team;

-- Stages coded for the windows and aggregates over histories (1 todo,
-- 2 started, 3 done: the order of the flow), and back to their names.
CREATE OR REPLACE TEMP MACRO stage_code(s) AS CASE s WHEN 'todo' THEN 1 WHEN 'started' THEN 2 WHEN 'done' THEN 3 END;
CREATE OR REPLACE TEMP MACRO stage_name(c) AS CASE c WHEN 1 THEN 'todo' WHEN 2 THEN 'started' WHEN 3 THEN 'done' END;

-- Status → stage, one row per (source, status, category) seen: config
-- workflow (by status name) first, then the category that came with that
-- very status (on the item, or on the change), else unmapped (todo). Whether
-- an item is finished is a fact about that item: a stage is never taken from
-- the categories other items reported for the same status name. The rule
-- reads the pairs in status_seen; status_map is its result over every pair
-- stored (10_item_flow.sql).
CREATE OR REPLACE TEMP TABLE status_seen (source_id VARCHAR, status VARCHAR, category VARCHAR);
CREATE OR REPLACE TEMP VIEW status_rules AS
SELECT c.source_id, c.status, c.category,
    CASE WHEN w.stage IS NOT NULL THEN w.stage
         WHEN lower(c.category) IN ('new', 'undefined') THEN 'todo'
         WHEN lower(c.category) = 'indeterminate' THEN 'started'
         WHEN lower(c.category) = 'done' THEN 'done'
         ELSE 'todo' END AS stage,
    CASE WHEN coalesce(w.stage, CASE lower(c.category) WHEN 'indeterminate' THEN 'started' END) = 'started'
         THEN coalesce(w.stage_class, 'active') END AS stage_class,
    CASE WHEN w.stage IS NOT NULL THEN 'config'
         WHEN lower(c.category) IN ('new', 'undefined', 'indeterminate', 'done') THEN 'category'
         WHEN c.status = '(unknown)' THEN 'unknown'
         ELSE 'unmapped' END AS mapped_by
-- A NULL status never reaches the map (the store writes '(unknown)' for
-- it): compute must not fail on content, so one that slipped through is left
-- out here and its transitions count as todo.
FROM (SELECT DISTINCT source_id, status, category FROM temp.main.status_seen WHERE status IS NOT NULL) c
LEFT JOIN cfg_workflow w ON w.status = lower(c.status);

-- UTC day → the zone's offset at its start, and the switch within it (DST):
-- an equality join on it gives local days without casting row by row.
CREATE OR REPLACE TEMP TABLE tz_days AS
WITH d AS (SELECT u AS ud FROM range(-25567, 47482) t(u)),
a AS (SELECT d.ud, o.off AS off0 FROM d ASOF LEFT JOIN tz_offsets o ON d.ud * 86400 >= o.start_epoch),
-- The first switch after the start of each UTC day that has one (a switch
-- at 00:00 UTC is the day's starting offset already).
x AS (SELECT start_epoch // 86400 AS ud, min(start_epoch) AS switch_at, arg_min(off, start_epoch) AS off1
      FROM tz_offsets WHERE start_epoch > 0 AND start_epoch % 86400 <> 0 GROUP BY 1)
SELECT a.ud, a.off0, coalesce(x.switch_at, 9000000000000000000) AS switch_at, coalesce(x.off1, a.off0) AS off1
FROM a LEFT JOIN x ON x.ud = a.ud;
