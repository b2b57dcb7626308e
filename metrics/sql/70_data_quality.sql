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
    -- Findings about an item's history and worklogs are kept per item
    -- (flow_item_state) by the compute that last recomputed it.
    SELECT source_id, 'unmapped_status', key FROM flow_item_state WHERE live AND dq_unmapped
    UNION ALL
    SELECT source_id, 'unknown_status', key FROM flow_item_state WHERE live AND dq_unknown
    UNION ALL
    -- Starts and finishes placed at a time the source did not give for them
    -- (exports: the last update, the creation, Time in Status totals).
    SELECT source_id, 'approximate_start', key FROM flow_item_state WHERE live AND dq_approx_start
    UNION ALL
    SELECT source_id, 'approximate_finish', key FROM flow_item_state WHERE live AND dq_approx_finish
    UNION ALL
    -- Worklogs over a day are stored (a weekly timesheet row, a Jira 1w
    -- entry): listed so that a typo of 80 for 8 hours is seen.
    SELECT source_id, 'long_worklog', key FROM flow_item_state WHERE live AND dq_long_worklog
    UNION ALL
    SELECT source_id, 'missing_estimate', key FROM flow_item_state WHERE live AND dq_missing_estimate
    UNION ALL
    SELECT source_id, 'ingest_problem', coalesce(item_key, file || ':' || line) FROM ingest_problems
)
SELECT source, "check", count(*),
    array_to_string(list_sort(list(key))[1:5], ',')
FROM checks GROUP BY ALL ORDER BY ALL;
