-- Milestone scope for the forecast and backtest steps (Go) and the status
-- below. done: all scope complete, or released with none left.
CREATE OR REPLACE TEMP TABLE ms_scope AS
SELECT *, (scope > 0 AND remaining = 0) OR (remaining = 0 AND coalesce(released, false)) AS done FROM (
    SELECT m.milestone_id, m.name, p.key AS project, m.project_id, m.start_date, m.due_date, m.baseline_due_date, m.completed_at, m.released,
        count(w.item_id) AS scope,
        count(f.item_id) FILTER (WHERE f.completed AND NOT f.discarded) AS completed,
        count(w.item_id) FILTER (WHERE NOT coalesce(f.completed, false)) AS remaining,
        max(f.finish_day) FILTER (WHERE f.completed AND NOT f.discarded) AS last_completion
    FROM milestones m
    LEFT JOIN projects p ON p.project_id = m.project_id
    LEFT JOIN work_items w ON w.milestone_id = m.milestone_id AND NOT w.deleted
    LEFT JOIN item_flow f ON f.item_id = w.item_id
    GROUP BY ALL
);

-- Daily throughput per project over the window (zero days filled in Go), and
-- how many of those items belonged to a milestone (the portfolio model's share).
CREATE OR REPLACE TEMP TABLE ms_project_daily AS
SELECT f.project, f.finish_day AS day, count(*) AS items, count(w.milestone_id) AS milestone_items
FROM item_flow f LEFT JOIN work_items w USING (item_id)
WHERE f.completed AND NOT f.discarded AND f.project IS NOT NULL
  AND f.finish_day > (getvariable('today') - getvariable('window_days'))
  AND f.finish_day <= getvariable('today')
GROUP BY ALL;
