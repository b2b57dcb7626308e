-- Aging WIP: open started items with their age against the team and class SLE.
DELETE FROM aging_wip;
INSERT INTO aging_wip
SELECT f.item_id, f.key, f.team, f.work_class, f.status, m.stage_class, f.started_at, f.age_days,
    coalesce(t.sle_days, s.sle_days, a.sle_days),
    f.age_days > coalesce(t.sle_days, s.sle_days, a.sle_days, 2147483647)
FROM item_flow f
-- item_flow's source and status are the work item's (one row per live item).
LEFT JOIN work_items w ON w.item_id = f.item_id
LEFT JOIN status_map m ON m.source_id = f.source AND m.status = f.status AND m.category IS NOT DISTINCT FROM w.status_category
LEFT JOIN cfg_teams t ON t.name = f.team
LEFT JOIN cycle_time_stats s ON s.team = f.team AND s.work_class = f.work_class
LEFT JOIN cycle_time_stats a ON a.team = '*' AND a.work_class = '*'
WHERE f.stage = 'started' AND f.started_at IS NOT NULL
ORDER BY f.age_days DESC, f.key;
