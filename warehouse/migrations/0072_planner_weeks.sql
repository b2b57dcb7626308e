-- The assignment planner (throughline plan, POST /api/v1/plan): capacity and
-- planned load for 8 weeks, computed with the capacity outlook.

CREATE TABLE planner_weeks (
    team VARCHAR NOT NULL,
    week_offset INTEGER NOT NULL,
    week_start DATE NOT NULL,
    capacity_hours DOUBLE NOT NULL,
    planned_hours DOUBLE NOT NULL,
    allocation_ratio DOUBLE
);
COMMENT ON TABLE planner_weeks IS 'Capacity and planned load (every work class) per team for the current week (offset 0) and the next 7, by the rules of capacity_outlook: what the assignment planner (throughline plan, POST /api/v1/plan) adds new work to.';
COMMENT ON COLUMN planner_weeks.team IS 'Team.';
COMMENT ON COLUMN planner_weeks.week_offset IS '0 = the current ISO week, up to 7.';
COMMENT ON COLUMN planner_weeks.week_start IS 'Monday of that week.';
COMMENT ON COLUMN planner_weeks.capacity_hours IS 'Capacity of the team that week (hours per week minus time off).';
COMMENT ON COLUMN planner_weeks.planned_hours IS 'Planned load of open assigned items with estimates that week (week 0: from today on, overdue work included).';
COMMENT ON COLUMN planner_weeks.allocation_ratio IS 'planned_hours / capacity_hours (NULL without capacity).';
