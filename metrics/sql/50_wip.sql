-- WIP: items whose stage at the end of the day is started. A started interval
-- from t_i to t_(i+1) covers the days date(t_i) .. date(t_(i+1)) - 1.
DELETE FROM wip_daily;
INSERT INTO wip_daily
WITH iv AS (
    SELECT i.n, i.d0,
        CASE WHEN i.end_at >= (SELECT now_ts FROM params) THEN (SELECT today FROM params) + 1 ELSE i.d1 END AS d1,
        i.team, i.work_class
    FROM flow_iv i
    WHERE i.t = 'started'
), deltas AS (
    SELECT d0 AS day, team, work_class, count(*) AS delta FROM iv WHERE d1 > d0 GROUP BY ALL
    UNION ALL
    SELECT d1, team, work_class, -count(*) FROM iv WHERE d1 > d0 GROUP BY ALL
), per_day AS (
    SELECT day, team, work_class, sum(delta) AS delta FROM deltas GROUP BY ALL
)
SELECT r.day, g.team, g.work_class,
    CAST(sum(coalesce(p.delta, 0)) OVER (PARTITION BY g.team, g.work_class ORDER BY r.day) AS BIGINT)
FROM flow_days_range r CROSS JOIN flow_groups g
LEFT JOIN per_day p ON p.day = r.day AND p.team = g.team AND p.work_class = g.work_class
ORDER BY r.day, g.team, g.work_class;
