-- Teams from the config, plus the synthetic team "unassigned".
DELETE FROM teams;
INSERT INTO teams SELECT name, name, wip_limit, sle_days, hours_per_week FROM cfg_teams
UNION ALL SELECT 'unassigned', 'unassigned', NULL, NULL, NULL;

-- Status → stage: config workflow first, then the vendor category, else unmapped (todo).
DELETE FROM status_map;
INSERT INTO status_map
WITH seen AS (
    SELECT w.source_id, s.status, s.category
    FROM (
        SELECT item_id, to_status AS status, to_category AS category FROM status_changes
        UNION ALL SELECT item_id, from_status, from_category FROM status_changes WHERE from_status IS NOT NULL
    ) s JOIN work_items w USING (item_id)
    UNION ALL SELECT source_id, status, status_category FROM work_items WHERE status IS NOT NULL
), cats AS (
    SELECT source_id, status, mode(category) FILTER (WHERE category IS NOT NULL AND category <> '') AS category
    FROM seen GROUP BY ALL
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
         ELSE 'unmapped' END AS mapped_by
FROM cats c LEFT JOIN cfg_workflow w ON w.status = lower(c.status);

CREATE OR REPLACE TEMP TABLE sc_stages AS
SELECT s.item_id, s.seq, CASE WHEN s.from_status IS NOT NULL THEN f.stage END AS fs, t.stage AS ts
FROM status_changes s
JOIN work_items w ON w.item_id = s.item_id
LEFT JOIN status_map t ON t.source_id = w.source_id AND t.status = s.to_status
LEFT JOIN status_map f ON f.source_id = w.source_id AND f.status = s.from_status
WHERE s.to_stage IS DISTINCT FROM t.stage
   OR s.from_stage IS DISTINCT FROM CASE WHEN s.from_status IS NOT NULL THEN f.stage END;

UPDATE status_changes s SET from_stage = x.fs, to_stage = x.ts
FROM sc_stages x WHERE s.item_id = x.item_id AND s.seq = x.seq;

-- People and projects get their teams from the config.
UPDATE people p SET team_id = m.team
FROM cfg_members m
WHERE (m.member = lower(p.email) OR m.member = lower(p.display_name) OR m.member = lower(p.external_id))
  AND p.team_id IS DISTINCT FROM m.team;
UPDATE projects p SET team_id = c.team
FROM cfg_projects c WHERE c.project = lower(p.key) AND p.team_id IS DISTINCT FROM c.team;
