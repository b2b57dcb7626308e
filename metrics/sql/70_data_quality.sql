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
    -- Findings about an item's history, worklogs and estimate, kept per
    -- item by the compute that last recomputed it.
    SELECT source_id, "check", key FROM flow_item_checks
    UNION ALL
    SELECT source_id, 'ingest_problem', coalesce(item_key, file || ':' || line) FROM ingest_problems
)
SELECT source, "check", count(*),
    array_to_string(list_sort(list(key))[1:5], ',')
FROM checks GROUP BY ALL ORDER BY ALL;
