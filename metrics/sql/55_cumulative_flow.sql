-- Cumulative flow: items per stage at the end of each day, per team (from
-- the stage deltas, flow_stage_days).
DELETE FROM cumulative_flow;
INSERT INTO cumulative_flow
WITH deltas AS (
    SELECT day, team, stage_name(stage) AS stage, delta
    FROM flow_stage_days WHERE day <= getvariable('today')
), per_day AS (
    SELECT day, team, stage, sum(delta) AS delta FROM deltas GROUP BY ALL
), grid AS (
    SELECT DISTINCT team, stage FROM deltas
)
SELECT r.day, g.team, g.stage,
    CAST(sum(coalesce(p.delta, 0)) OVER (PARTITION BY g.team, g.stage ORDER BY r.day) AS BIGINT)
FROM flow_days_range r CROSS JOIN grid g
LEFT JOIN per_day p ON p.day = r.day AND p.team = g.team AND p.stage = g.stage
ORDER BY r.day, g.team, g.stage;
