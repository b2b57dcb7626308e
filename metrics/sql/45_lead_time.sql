-- Nearest-rank percentiles of lead days and lead_seconds (created → F) over
-- completed, non-discarded items finished in the trailing window, with '*'
-- totals: the delivery-time view every source gives exactly, exports
-- without a status history included. Lead days are calendar days in the
-- configured zone, inclusive, as flow_days. Items finishing before their
-- creation are data errors (data_quality negative_duration): left out.
DELETE FROM lead_time_stats;
INSERT INTO lead_time_stats
WITH win AS (
    SELECT f.team, f.work_class, f.lead_seconds,
        f.finish_day - (DATE '1970-01-01' + CAST((c.e + CASE WHEN c.e >= z.switch_at THEN z.off1 ELSE z.off0 END) // 86400 AS INTEGER)) + 1 AS lead_days
    FROM item_flow f
    CROSS JOIN LATERAL (SELECT CAST(epoch(f.created_at) AS BIGINT) AS e) c
    LEFT JOIN tz_days z ON z.ud = c.e // 86400
    WHERE f.completed AND NOT f.discarded AND f.lead_seconds >= 0
      AND f.finish_day > (getvariable('today') - getvariable('window_days'))
      AND f.finish_day <= getvariable('today')
), g AS (
    SELECT coalesce(team, '*') AS team, coalesce(work_class, '*') AS work_class, count(*) AS n,
        list_sort(list(lead_days)) AS d, list_sort(list(lead_seconds)) AS s, sum(lead_seconds) AS ssum
    FROM win GROUP BY GROUPING SETS ((team, work_class), (team), (work_class), ())
)
SELECT team, work_class, getvariable('window_days'), n,
    d[CAST(ceil(0.50 * n) AS INTEGER)], d[CAST(ceil(0.70 * n) AS INTEGER)],
    d[CAST(ceil(0.85 * n) AS INTEGER)], d[CAST(ceil(0.95 * n) AS INTEGER)],
    s[CAST(ceil(0.50 * n) AS INTEGER)], s[CAST(ceil(0.70 * n) AS INTEGER)],
    s[CAST(ceil(0.85 * n) AS INTEGER)], s[CAST(ceil(0.95 * n) AS INTEGER)],
    ssum
FROM g WHERE n > 0
ORDER BY team, work_class;
