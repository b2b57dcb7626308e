-- Event counters over all history (the *_total metrics): a reopen never decrements.
DELETE FROM flow_counters;
INSERT INTO flow_counters
SELECT team, coalesce(project, ''), work_class, coalesce(item_type, ''),
    count(*), sum(starts),
    sum(CASE WHEN discarded THEN 0 ELSE done_entries END),
    sum(reopen_count), count(*) FILTER (WHERE discarded)
FROM item_flow
GROUP BY ALL ORDER BY ALL;
