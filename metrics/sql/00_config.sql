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

-- Status → stage: config workflow first, then the vendor category, else unmapped (todo).
DELETE FROM status_map;
INSERT INTO status_map
WITH agg AS (
    SELECT * FROM sc_agg
), counted AS (
    SELECT source_id, status, category, sum(cnt) AS cnt FROM (
        SELECT source_id, to_status AS status, to_category AS category, cnt FROM agg
        UNION ALL SELECT source_id, from_status, from_category, cnt FROM agg WHERE from_status IS NOT NULL
        UNION ALL SELECT source_id, status, status_category, 1 FROM work_items WHERE status IS NOT NULL
    ) GROUP BY ALL
), ranked AS (
    SELECT *, max(cnt) FILTER (WHERE category IS NOT NULL AND category <> '') OVER (PARTITION BY source_id, status) AS top
    FROM counted
), modes AS (
    -- mode(category) over the non-empty categories: the most frequent one.
    -- A tie for the top count is resolved by mode() itself, below.
    SELECT source_id, status,
        arg_max(category, cnt) FILTER (WHERE category IS NOT NULL AND category <> '') AS category,
        count(*) FILTER (WHERE category IS NOT NULL AND category <> '' AND cnt = top) > 1 AS tie
    FROM ranked GROUP BY ALL
), tied AS (
    SELECT source_id, status FROM modes WHERE tie
), tie_modes AS (
    -- The original form, mode() over every sighting, for tied statuses only
    -- (none, usually: then the semi join with an empty table reads nothing).
    SELECT source_id, status, mode(category) FILTER (WHERE category IS NOT NULL AND category <> '') AS category
    FROM (
        SELECT w.source_id, s.status, s.category
        FROM (
            SELECT item_id, to_status AS status, to_category AS category FROM status_changes
            UNION ALL SELECT item_id, from_status, from_category FROM status_changes WHERE from_status IS NOT NULL
        ) s JOIN work_items w USING (item_id)
        UNION ALL SELECT source_id, status, status_category FROM work_items WHERE status IS NOT NULL
    ) seen SEMI JOIN tied USING (source_id, status)
    GROUP BY ALL
), cats AS (
    SELECT m.source_id, m.status, CASE WHEN m.tie THEN t.category ELSE m.category END AS category
    FROM modes m LEFT JOIN tie_modes t USING (source_id, status)
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
FROM cats c LEFT JOIN cfg_workflow w ON w.status = lower(c.status)
-- A NULL status never reaches the map (the store writes '(unknown)' for
-- it); compute must not fail on content, so one that slipped through is
-- left out here and its transitions count as todo.
WHERE c.status IS NOT NULL;

-- People and projects get their teams from the config.
UPDATE people p SET team_id = m.team
FROM cfg_members m
WHERE (m.member = lower(p.email) OR m.member = lower(p.display_name) OR m.member = lower(p.external_id))
  AND p.team_id IS DISTINCT FROM m.team;
UPDATE projects p SET team_id = c.team
FROM cfg_projects c WHERE c.project = lower(p.key) AND p.team_id IS DISTINCT FROM c.team;
