-- Milestone scope for the forecast step (Go) and the status below.
CREATE OR REPLACE TEMP TABLE ms_scope AS
SELECT m.milestone_id, m.name, p.key AS project, m.project_id, m.due_date, m.baseline_due_date, m.completed_at, m.released,
    count(w.item_id) AS scope,
    count(f.item_id) FILTER (WHERE f.completed AND NOT f.discarded) AS completed,
    count(w.item_id) FILTER (WHERE NOT coalesce(f.completed, false)) AS remaining,
    max(f.finish_day) FILTER (WHERE f.completed AND NOT f.discarded) AS last_completion
FROM milestones m
LEFT JOIN projects p ON p.project_id = m.project_id
LEFT JOIN work_items w ON w.milestone_id = m.milestone_id AND NOT w.deleted
LEFT JOIN item_flow f ON f.item_id = w.item_id
GROUP BY ALL;

-- Daily throughput per project over the window (zero days filled in Go).
CREATE OR REPLACE TEMP TABLE ms_project_daily AS
SELECT project, finish_day AS day, count(*) AS items
FROM item_flow
WHERE completed AND NOT discarded AND project IS NOT NULL
  AND finish_day > (SELECT today - window_days FROM params)
  AND finish_day <= (SELECT today FROM params)
GROUP BY ALL;
