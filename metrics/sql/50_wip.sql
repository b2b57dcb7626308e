-- Stage deltas per day, team, class and stage, shared by WIP and cumulative
-- flow: an interval in a stage from t_i to t_(i+1) covers the days
-- date(t_i) .. date(t_(i+1)) - 1 (it counts at the end of those days).
CREATE OR REPLACE TEMP TABLE flow_stage_deltas AS
WITH iv AS (
    SELECT d0, CASE WHEN open THEN (SELECT today FROM params) + 1 ELSE d1 END AS d1, g, t
    FROM flow_intervals WHERE live AND t IS NOT NULL
), ends AS (
    SELECT d0 AS day, g, t, count(*) AS delta FROM iv WHERE d1 > d0 GROUP BY ALL
    UNION ALL
    SELECT d1, g, t, -count(*) FROM iv WHERE d1 > d0 GROUP BY ALL
)
SELECT e.day, gr.team, gr.work_class, CASE e.t WHEN 1 THEN 'todo' WHEN 2 THEN 'started' WHEN 3 THEN 'done' END AS stage,
    sum(e.delta) AS delta
FROM ends e JOIN flow_groups_n gr ON gr.g = e.g
GROUP BY ALL;

-- WIP: items whose stage at the end of the day is started.
DELETE FROM wip_daily;
INSERT INTO wip_daily
WITH per_day AS (
    SELECT day, team, work_class, sum(delta) AS delta FROM flow_stage_deltas WHERE stage = 'started' GROUP BY ALL
)
SELECT r.day, g.team, g.work_class,
    CAST(sum(coalesce(p.delta, 0)) OVER (PARTITION BY g.team, g.work_class ORDER BY r.day) AS BIGINT)
FROM flow_days_range r CROSS JOIN flow_groups g
LEFT JOIN per_day p ON p.day = r.day AND p.team = g.team AND p.work_class = g.work_class
ORDER BY r.day, g.team, g.work_class;
