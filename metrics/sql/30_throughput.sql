-- Throughput: completed, non-discarded items by the day of F; every day from
-- the first created item to today, for every team and class that has items.
CREATE OR REPLACE TEMP TABLE flow_days_range AS
SELECT CAST(d AS DATE) AS day
FROM range(
    CAST(coalesce((SELECT CAST(min(created_at) AS DATE) FROM item_flow), getvariable('today')) AS TIMESTAMP),
    CAST(getvariable('today') AS TIMESTAMP) + INTERVAL 1 DAY, INTERVAL 1 DAY) t(d);

CREATE OR REPLACE TEMP TABLE flow_groups AS
SELECT DISTINCT team, work_class FROM item_flow;

DELETE FROM throughput_daily;
INSERT INTO throughput_daily
SELECT d.day, g.team, g.work_class, coalesce(c.items, 0)
FROM flow_days_range d CROSS JOIN flow_groups g
LEFT JOIN (
    SELECT finish_day AS day, team, work_class, count(*) AS items
    FROM item_flow WHERE completed AND NOT discarded GROUP BY ALL
) c ON c.day = d.day AND c.team = g.team AND c.work_class = g.work_class
ORDER BY d.day, g.team, g.work_class;

DELETE FROM throughput_weekly;
INSERT INTO throughput_weekly
SELECT CAST(date_trunc('week', day) AS DATE) AS week_start, team, work_class, sum(items)
FROM throughput_daily GROUP BY ALL ORDER BY ALL;
