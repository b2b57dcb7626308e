-- Cumulative flow: items per stage at the end of each day, from status history.
-- A stage interval from t1 to t2 covers the days date(t1) .. date(t2) - 1.
DELETE FROM cumulative_flow;
INSERT INTO cumulative_flow
WITH iv AS (
    SELECT i.d0,
        CASE WHEN i.end_at >= (SELECT now_ts FROM params) THEN (SELECT today FROM params) + 1 ELSE i.d1 END AS d1,
        i.team, i.t AS stage
    FROM flow_iv i
    WHERE i.t IS NOT NULL
), deltas AS (
    SELECT d0 AS day, team, stage, count(*) AS delta FROM iv WHERE d1 > d0 GROUP BY ALL
    UNION ALL
    SELECT d1, team, stage, -count(*) FROM iv WHERE d1 > d0 GROUP BY ALL
), per_day AS (
    SELECT day, team, stage, sum(delta) AS delta FROM deltas GROUP BY ALL
), grid AS (
    SELECT DISTINCT team, stage FROM iv
)
SELECT r.day, g.team, g.stage,
    CAST(sum(coalesce(p.delta, 0)) OVER (PARTITION BY g.team, g.stage ORDER BY r.day) AS BIGINT)
FROM flow_days_range r CROSS JOIN grid g
LEFT JOIN per_day p ON p.day = r.day AND p.team = g.team AND p.stage = g.stage
ORDER BY r.day, g.team, g.stage;
