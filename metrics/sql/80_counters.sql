-- Event counters over all history (the *_total metrics): a reopen never decrements.
DELETE FROM flow_counters;
INSERT INTO flow_counters
WITH ev AS (
    SELECT item_id,
        count(*) FILTER (WHERE f = 'todo' AND t = 'started') AS started,
        count(*) FILTER (WHERE t = 'done' AND f <> 'done') AS done_entries
    FROM flow_intervals GROUP BY item_id
)
SELECT f.team, coalesce(f.project, ''), f.work_class, coalesce(f.item_type, ''),
    count(*), sum(coalesce(ev.started, 0)),
    sum(CASE WHEN f.discarded THEN 0 ELSE coalesce(ev.done_entries, 0) END),
    sum(f.reopen_count), count(*) FILTER (WHERE f.discarded)
FROM item_flow f LEFT JOIN ev USING (item_id)
GROUP BY ALL ORDER BY ALL;
