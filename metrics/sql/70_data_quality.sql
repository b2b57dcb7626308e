-- Data-quality checks per source, with up to five example keys.
DELETE FROM data_quality;
INSERT INTO data_quality
WITH checks AS (
    SELECT f.source, 'skipped_start' AS "check", f.key FROM item_flow f WHERE f.skipped_start
    UNION ALL
    SELECT f.source, 'negative_duration', f.key FROM item_flow f
    WHERE f.finished_at < f.started_at OR f.finished_at < f.created_at OR f.started_at < f.created_at
    UNION ALL
    SELECT f.source, 'unclassified', f.key FROM item_flow f WHERE f.work_class = 'unclassified'
    UNION ALL
    SELECT f.source, 'unassigned_team', f.key FROM item_flow f WHERE f.team = 'unassigned'
    UNION ALL
    SELECT DISTINCT w.source_id, 'unmapped_status', w.key
    FROM status_changes s JOIN work_items w USING (item_id)
    JOIN status_map m ON m.source_id = w.source_id AND m.status = s.to_status AND m.category IS NOT DISTINCT FROM s.to_category
    WHERE m.mapped_by = 'unmapped' AND NOT w.deleted
    UNION ALL
    SELECT DISTINCT w.source_id, 'unknown_status', w.key
    FROM status_changes s JOIN work_items w USING (item_id)
    WHERE (s.to_status = '(unknown)' OR s.from_status = '(unknown)') AND NOT w.deleted
    UNION ALL
    -- Starts and finishes placed at a time the source did not give for them
    -- (exports: the last update, the creation, Time in Status totals).
    SELECT DISTINCT f.source, 'approximate_start', f.key FROM item_flow f
    JOIN (SELECT item_id, changed_at FROM status_changes WHERE approximated_from IS NOT NULL AND to_stage = 'started') s
        ON s.item_id = f.item_id AND s.changed_at = f.started_at
    UNION ALL
    SELECT DISTINCT f.source, 'approximate_finish', f.key FROM item_flow f
    JOIN (SELECT item_id, changed_at FROM status_changes WHERE approximated_from IS NOT NULL AND to_stage = 'done') s
        ON s.item_id = f.item_id AND s.changed_at = f.finished_at
    UNION ALL
    -- Worklogs over a day are stored (a weekly timesheet row, a Jira 1w
    -- entry): listed so that a typo of 80 for 8 hours is seen.
    SELECT DISTINCT w.source_id, 'long_worklog', w.key FROM worklogs l JOIN work_items w USING (item_id)
    WHERE l.seconds > 86400 AND NOT w.deleted
    UNION ALL
    SELECT f.source, 'missing_estimate', f.key FROM item_flow f
    JOIN work_items w USING (item_id)
    WHERE NOT f.completed AND f.work_class = 'project' AND w.estimate_seconds IS NULL AND w.assignee_id IS NOT NULL
    UNION ALL
    SELECT source_id, 'ingest_problem', coalesce(item_key, file || ':' || line) FROM ingest_problems
)
SELECT source, "check", count(*),
    array_to_string(list_sort(list(key))[1:5], ',')
FROM checks GROUP BY ALL ORDER BY ALL;
