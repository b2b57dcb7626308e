-- Nearest-rank percentiles (value at rank ceil(p*n)) of flow_days and cycle_seconds
-- over items finished in the trailing window, with '*' totals. Items finishing
-- before they started are data errors (data_quality negative_duration): left out.
DELETE FROM cycle_time_stats;
INSERT INTO cycle_time_stats
WITH win AS (
    SELECT team, work_class, flow_days, cycle_seconds, active_seconds, wait_seconds FROM item_flow
    WHERE completed AND NOT discarded AND started_at IS NOT NULL AND cycle_seconds >= 0
      AND finish_day > (getvariable('today') - getvariable('window_days'))
      AND finish_day <= getvariable('today')
), g AS (
    SELECT coalesce(team, '*') AS team, coalesce(work_class, '*') AS work_class, count(*) AS n,
        list_sort(list(flow_days)) AS d, list_sort(list(cycle_seconds)) AS s,
        sum(active_seconds) AS act, sum(coalesce(active_seconds, 0) + coalesce(wait_seconds, 0)) AS tot, sum(cycle_seconds) AS ssum
    FROM win GROUP BY GROUPING SETS ((team, work_class), (team), (work_class), ())
), p AS (
    SELECT g.*,
        d[CAST(ceil(0.50 * n) AS INTEGER)] AS p50, d[CAST(ceil(0.70 * n) AS INTEGER)] AS p70,
        d[CAST(ceil(0.85 * n) AS INTEGER)] AS p85, d[CAST(ceil(0.95 * n) AS INTEGER)] AS p95,
        t.sle_days AS cfg_sle
    FROM g LEFT JOIN cfg_teams t ON t.name = g.team
)
SELECT team, work_class, getvariable('window_days'), n, p50, p70, p85, p95,
    coalesce(cfg_sle, p85) AS sle,
    CAST(len(list_filter(d, x -> x <= coalesce(cfg_sle, p85))) AS DOUBLE) / n,
    s[CAST(ceil(0.50 * n) AS INTEGER)], s[CAST(ceil(0.70 * n) AS INTEGER)],
    s[CAST(ceil(0.85 * n) AS INTEGER)], s[CAST(ceil(0.95 * n) AS INTEGER)],
    CASE WHEN cfg_sle IS NOT NULL THEN 'config' ELSE 'p85' END,
    CASE WHEN tot > 0 THEN coalesce(act, 0) / tot END,
    ssum
FROM p WHERE n > 0
ORDER BY team, work_class;
