-- Capacity model: members per team, capacity per member-week (hours_per_week
-- minus time off), logged and planned load, allocation and project capacity.

-- Members: config teams.members, plus people with a team (people.csv or
-- config match). One member key per person across sources: lower(email),
-- else display name, else vendor id.
CREATE OR REPLACE TEMP TABLE cap_person_member AS
SELECT person_id, lower(coalesce(nullif(email, ''), nullif(display_name, ''), external_id)) AS member, team_id, hours_per_week
FROM people;

CREATE OR REPLACE TEMP TABLE cap_members AS
SELECT team, member, max(hours) AS hours_per_week FROM (
    SELECT m.team, m.member, coalesce(p.hours_per_week, t.hours_per_week, 40) AS hours
    FROM cfg_members m JOIN cfg_teams t ON t.name = m.team
    LEFT JOIN cap_person_member p ON p.member = m.member AND p.hours_per_week IS NOT NULL
    UNION ALL
    SELECT p.team_id, p.member, coalesce(p.hours_per_week, t.hours_per_week, 40)
    FROM cap_person_member p JOIN cfg_teams t ON t.name = p.team_id
) GROUP BY ALL;

-- Weeks from the first worklog to 7 weeks ahead: the tables below keep up to
-- 5 weeks ahead, the planner's (planner_weeks) 7.
CREATE OR REPLACE TEMP TABLE cap_weeks AS
SELECT CAST(w AS DATE) AS week_start,
    CAST((CAST(w AS DATE) - CAST(date_trunc('week', getvariable('today')) AS DATE)) / 7 AS INTEGER) AS week_offset
FROM range(
    CAST(date_trunc('week', coalesce(
        (SELECT least(CAST(min(started_at) AS DATE), getvariable('today')) FROM worklogs),
        getvariable('today'))) AS TIMESTAMP),
    CAST(date_trunc('week', getvariable('today')) AS TIMESTAMP) + INTERVAL 8 WEEK, INTERVAL 7 DAY) t(w);

-- A view: capacity reads every week of it once, the planner weeks 0 to 7
-- (as a table, its rows were written for two reads: 0.02-0.03 s at 200
-- members over ten years of weeks).
CREATE OR REPLACE TEMP VIEW cap_capacity AS
WITH off AS (
    SELECT p.member, CAST(date_trunc('week', o.day) AS DATE) AS week_start, sum(o.hours) AS hours
    FROM time_off o JOIN (SELECT DISTINCT person_id, member FROM cap_person_member) p ON p.person_id = o.person_id
    GROUP BY ALL
)
SELECT m.team, m.member, w.week_start, w.week_offset, greatest(m.hours_per_week - coalesce(off.hours, 0), 0) AS hours
FROM cap_members m CROSS JOIN cap_weeks w
LEFT JOIN off ON off.member = m.member AND off.week_start = w.week_start;

DELETE FROM capacity;
INSERT INTO capacity
SELECT team, member, week_start, hours FROM cap_capacity WHERE week_offset <= 5;

-- Worklog hours of each team's members, by week and the item's work class
-- (logged_weekly: per person, kept up to date with the items' worklogs).
CREATE OR REPLACE TEMP TABLE cap_logged AS
SELECT m.team, l.week_start, l.work_class, sum(l.seconds) / 3600.0 AS hours
FROM logged_weekly l
JOIN cap_person_member p ON p.person_id = l.person_id
JOIN cap_members m ON m.member = p.member
GROUP BY ALL;

-- Planned load: open assigned items with an estimate spread their remaining
-- estimate evenly over working days from today to the due date; overdue: all
-- today; no due date: over the next SLE working days.
CREATE OR REPLACE TEMP TABLE cap_cal AS
SELECT CAST(d AS DATE) AS day, row_number() OVER (ORDER BY d) AS idx
FROM range(CAST(getvariable('today') AS TIMESTAMP), CAST(getvariable('today') AS TIMESTAMP) + INTERVAL 3660 DAY, INTERVAL 1 DAY) t(d)
WHERE isodow(d) <= 5;

CREATE OR REPLACE TEMP TABLE cap_plan_items AS
WITH c AS (
    SELECT f.item_id, f.team, f.work_class, w.due_date, w.estimate_seconds
    FROM item_flow f JOIN work_items w USING (item_id)
    WHERE NOT f.completed AND f.stage <> 'done' AND w.assignee_id IS NOT NULL AND w.estimate_seconds IS NOT NULL
      AND f.team <> 'unassigned'
), l AS (
    -- Logged time of these items only.
    SELECT item_id, sum(seconds) AS s FROM worklogs WHERE item_id IN (SELECT item_id FROM c) GROUP BY item_id
)
SELECT c.item_id, c.team, c.work_class, c.due_date,
    greatest(c.estimate_seconds - coalesce(l.s, 0), 0) / 3600.0 AS remaining_hours,
    CAST(coalesce(t.sle_days, cs.p85_days, 10) AS BIGINT) AS sle
FROM c
LEFT JOIN l USING (item_id)
LEFT JOIN cfg_teams t ON t.name = c.team
LEFT JOIN cycle_time_stats cs ON cs.team = c.team AND cs.work_class = '*';

CREATE OR REPLACE TEMP TABLE cap_plan_days AS
WITH spans AS (
    SELECT p.*, CASE WHEN p.due_date IS NULL THEN p.sle ELSE greatest(coalesce(c.idx, 1), 1) END AS n
    FROM cap_plan_items p
    ASOF LEFT JOIN cap_cal c ON p.due_date >= c.day
    WHERE p.due_date IS NULL OR p.due_date >= getvariable('today')
)
SELECT team, work_class, getvariable('today') AS day, remaining_hours AS hours
FROM cap_plan_items WHERE due_date < getvariable('today')
UNION ALL
SELECT s.team, s.work_class, c.day, s.remaining_hours / s.n
FROM spans s JOIN cap_cal c ON c.idx <= s.n
WHERE c.day < CAST(date_trunc('week', getvariable('today')) AS DATE) + 56;

CREATE OR REPLACE TEMP TABLE cap_plan_weeks AS
SELECT team, work_class,
    CAST((CAST(date_trunc('week', day) AS DATE) - CAST(date_trunc('week', getvariable('today')) AS DATE)) / 7 AS INTEGER) AS week_offset,
    sum(hours) AS hours
FROM cap_plan_days GROUP BY ALL;

DELETE FROM capacity_outlook;
INSERT INTO capacity_outlook
WITH cap AS (SELECT team_id AS team, week_start, sum(hours) AS hours FROM capacity GROUP BY ALL)
SELECT t.name, w.week_offset, w.week_start, coalesce(c.hours, 0),
    coalesce(sum(p.hours) FILTER (WHERE p.work_class = 'project'), 0),
    coalesce(sum(p.hours) FILTER (WHERE p.work_class = 'operational'), 0),
    coalesce(sum(p.hours) FILTER (WHERE p.work_class = 'unclassified'), 0),
    CASE WHEN coalesce(c.hours, 0) > 0 THEN coalesce(sum(p.hours), 0) / c.hours END
FROM cfg_teams t CROSS JOIN cap_weeks w
LEFT JOIN cap c ON c.team = t.name AND c.week_start = w.week_start
LEFT JOIN cap_plan_weeks p ON p.team = t.name AND p.week_offset = w.week_offset
WHERE w.week_offset BETWEEN 0 AND 5
GROUP BY t.name, w.week_offset, w.week_start, c.hours
ORDER BY 1, 2;

DELETE FROM utilization_weekly;
INSERT INTO utilization_weekly
WITH cap AS (SELECT team_id AS team, week_start, sum(hours) AS hours FROM capacity GROUP BY ALL),
logged AS (SELECT team, week_start, sum(hours) AS hours FROM cap_logged GROUP BY ALL),
wip AS (SELECT day, team, sum(items) AS items FROM wip_daily GROUP BY ALL)
SELECT w.week_start, t.name, coalesce(c.hours, 0), coalesce(l.hours, 0),
    CASE WHEN coalesce(c.hours, 0) > 0 THEN coalesce(l.hours, 0) / c.hours END,
    o.planned_project_hours + o.planned_operational_hours + o.planned_unclassified_hours,
    o.allocation_ratio,
    CASE WHEN w.week_offset <= 0 THEN coalesce(wp.items, 0) END,
    t.wip_limit
FROM cfg_teams t CROSS JOIN cap_weeks w
LEFT JOIN cap c ON c.team = t.name AND c.week_start = w.week_start
LEFT JOIN logged l ON l.team = t.name AND l.week_start = w.week_start
LEFT JOIN capacity_outlook o ON o.team = t.name AND o.week_offset = w.week_offset
LEFT JOIN wip wp ON wp.team = t.name AND wp.day = least(w.week_start + 6, getvariable('today'))
WHERE w.week_offset <= 5
ORDER BY 1, 2;

-- The planner's base: capacity and planned load of weeks 0 to 7.
DELETE FROM planner_weeks;
INSERT INTO planner_weeks
WITH cap AS (SELECT team, week_offset, sum(hours) AS hours FROM cap_capacity WHERE week_offset BETWEEN 0 AND 7 GROUP BY ALL),
plan AS (SELECT team, week_offset, sum(hours) AS hours FROM cap_plan_weeks GROUP BY ALL)
SELECT t.name, w.week_offset, w.week_start, coalesce(c.hours, 0), coalesce(p.hours, 0),
    CASE WHEN coalesce(c.hours, 0) > 0 THEN coalesce(p.hours, 0) / c.hours END
FROM cfg_teams t CROSS JOIN cap_weeks w
LEFT JOIN cap c ON c.team = t.name AND c.week_offset = w.week_offset
LEFT JOIN plan p ON p.team = t.name AND p.week_offset = w.week_offset
WHERE w.week_offset BETWEEN 0 AND 7
ORDER BY 1, 2;

-- Project capacity available over the next 4 weeks.
DELETE FROM project_capacity;
INSERT INTO project_capacity
WITH past AS (
    -- The 8 complete weeks before the current one, whether or not anything was logged.
    SELECT CAST(date_trunc('week', getvariable('today')) AS DATE) - CAST(7 * k AS INTEGER) AS week_start FROM range(1, 9) t(k)
), ops AS (
    SELECT t.name AS team, p.week_start, coalesce(sum(l.hours), 0) AS hours
    FROM cfg_teams t CROSS JOIN past p
    LEFT JOIN cap_logged l ON l.team = t.name AND l.week_start = p.week_start AND l.work_class = 'operational'
    GROUP BY ALL
), p85 AS (
    SELECT team, list_sort(list(hours)) AS h, count(*) AS n FROM ops GROUP BY team
)
SELECT t.name, 4,
    coalesce(sum(o.capacity_hours), 0),
    coalesce(p.h[CAST(ceil(0.85 * p.n) AS INTEGER)], 0),
    coalesce(sum(o.planned_project_hours), 0),
    coalesce(sum(o.capacity_hours), 0) - 4 * coalesce(p.h[CAST(ceil(0.85 * p.n) AS INTEGER)], 0) - coalesce(sum(o.planned_project_hours), 0)
FROM cfg_teams t
LEFT JOIN capacity_outlook o ON o.team = t.name AND o.week_offset BETWEEN 0 AND 3
LEFT JOIN p85 p ON p.team = t.name
GROUP BY t.name, p.h, p.n
ORDER BY 1;

-- Work-class mix: throughput (by item team) and logged hours (by member team).
DELETE FROM work_class_share;
INSERT INTO work_class_share
WITH tp AS (
    SELECT week_start, team, work_class, items FROM throughput_weekly
), hrs AS (
    SELECT week_start, team, work_class, hours FROM cap_logged
), j AS (
    SELECT coalesce(tp.week_start, hrs.week_start) AS week_start, coalesce(tp.team, hrs.team) AS team,
        coalesce(tp.work_class, hrs.work_class) AS work_class, coalesce(tp.items, 0) AS items, coalesce(hrs.hours, 0) AS hours
    FROM tp FULL OUTER JOIN hrs ON tp.week_start = hrs.week_start AND tp.team = hrs.team AND tp.work_class = hrs.work_class
)
SELECT week_start, team, work_class, items,
    CASE WHEN sum(items) OVER w > 0 THEN items / sum(items) OVER w END,
    hours,
    CASE WHEN sum(hours) OVER w > 0 THEN hours / sum(hours) OVER w END
FROM j
WINDOW w AS (PARTITION BY week_start, team)
ORDER BY 1, 2, 3;

-- Rolling week: the next 5 working days from today (today included when it
-- is one), with the overdue work planned on today. Capacity per working day
-- is a fifth of that week's capacity. On any weekday the same evenly spread
-- plan gives the same ratio: no fall through the week, no jump on Monday.
DELETE FROM allocation_daily WHERE day = getvariable('today');
INSERT INTO allocation_daily
WITH days AS (
    SELECT day FROM cap_cal WHERE idx <= 5
), cap AS (
    SELECT team_id AS team, week_start, sum(hours) / 5.0 AS per_day FROM capacity GROUP BY ALL
), cap5 AS (
    SELECT t.name AS team, coalesce(sum(c.per_day), 0) AS hours
    FROM cfg_teams t CROSS JOIN days d
    LEFT JOIN cap c ON c.team = t.name AND c.week_start = CAST(date_trunc('week', d.day) AS DATE)
    GROUP BY t.name
), plan AS (
    SELECT team, sum(hours) AS hours FROM cap_plan_days
    WHERE day <= (SELECT max(day) FROM days) GROUP BY team
)
SELECT getvariable('today'), c.team, c.hours, coalesce(p.hours, 0),
    CASE WHEN c.hours > 0 THEN coalesce(p.hours, 0) / c.hours END
FROM cap5 c LEFT JOIN plan p ON p.team = c.team
ORDER BY 2;
