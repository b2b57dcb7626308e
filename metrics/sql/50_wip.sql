-- WIP: items whose stage at the end of the day is started (the running sum
-- of the stage deltas, flow_stage_days).
DELETE FROM wip_daily;
INSERT INTO wip_daily
WITH per_day AS (
    SELECT day, team, work_class, delta FROM flow_stage_days WHERE stage = 2 AND day <= getvariable('today')
)
SELECT r.day, g.team, g.work_class,
    CAST(sum(coalesce(p.delta, 0)) OVER (PARTITION BY g.team, g.work_class ORDER BY r.day) AS BIGINT)
FROM flow_days_range r CROSS JOIN flow_groups g
LEFT JOIN per_day p ON p.day = r.day AND p.team = g.team AND p.work_class = g.work_class
ORDER BY r.day, g.team, g.work_class;
