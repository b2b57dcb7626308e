-- Teams from the config, plus the synthetic team "unassigned".
DELETE FROM teams;
INSERT INTO teams SELECT name, name, wip_limit, sle_days, hours_per_week FROM cfg_teams
UNION ALL SELECT 'unassigned', 'unassigned', NULL, NULL, NULL;

-- Each kind of status change, per source, and how often it occurs: one pass
-- over the history, reused by the status map and the stage intervals.
CREATE OR REPLACE TEMP TABLE sc_agg AS
SELECT w.source_id, s.to_status, s.to_category, s.from_status, s.from_category, count(*) AS cnt
FROM status_changes s JOIN work_items w USING (item_id)
GROUP BY ALL;

-- Status → stage, one row per (source, status, category) seen: config
-- workflow (by status name) first, then the category that came with that
-- very status (on the item, or on the change), else unmapped (todo). Whether
-- an item is finished is a fact about that item: a stage is never taken from
-- the categories other items reported for the same status name.
DELETE FROM status_map;
INSERT INTO status_map
WITH seen AS (
    SELECT DISTINCT source_id, status, category FROM (
        SELECT source_id, to_status AS status, to_category AS category FROM sc_agg
        UNION ALL SELECT source_id, from_status, from_category FROM sc_agg WHERE from_status IS NOT NULL
        UNION ALL SELECT source_id, status, status_category FROM work_items WHERE status IS NOT NULL
    )
    -- A NULL status never reaches the map (the store writes '(unknown)' for
    -- it); compute must not fail on content, so one that slipped through is
    -- left out here and its transitions count as todo.
    WHERE status IS NOT NULL
)
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
FROM seen c LEFT JOIN cfg_workflow w ON w.status = lower(c.status);

-- People and projects get their teams from the config.
UPDATE people p SET team_id = m.team
FROM cfg_members m
WHERE (m.member = lower(p.email) OR m.member = lower(p.display_name) OR m.member = lower(p.external_id))
  AND p.team_id IS DISTINCT FROM m.team;
UPDATE projects p SET team_id = c.team
FROM cfg_projects c WHERE c.project = lower(p.key) AND p.team_id IS DISTINCT FROM c.team;
