package plan

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/throughline/throughline/metrics/forecast"
)

// Querier is what Load needs; *sql.DB satisfies it.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Params are the inputs of Load besides the warehouse: the compute's
// (metrics.window_days and metrics.forecast; Trials 0 is
// forecast.DefaultTrials).
type Params struct {
	Now        time.Time
	Location   *time.Location
	WindowDays int
	Trials     int
	Seed       uint64
}

// Load reads the planner's inputs from the metric tables of the last
// compute (throughput_daily, item_flow, milestone_status, worklogs,
// planner_weeks) for every configured team.
func Load(ctx context.Context, q Querier, p Params) (*Inputs, error) {
	if p.Location == nil {
		p.Location = time.UTC
	}
	if p.WindowDays <= 0 {
		return nil, fmt.Errorf("load the planner: window of %d days", p.WindowDays)
	}
	if p.Trials <= 0 {
		p.Trials = forecast.DefaultTrials
	}
	in := &Inputs{Today: civil(p.Now.In(p.Location)), WindowDays: p.WindowDays, Trials: p.Trials, Seed: p.Seed}
	first := in.Today.AddDate(0, 0, -p.WindowDays+1)
	byName := map[string]*Team{}
	each := func(step, query string, scan func(*sql.Rows) error, args ...any) error {
		rows, err := q.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("load the planner's %s: %w", step, err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return fmt.Errorf("load the planner's %s: %w", step, err)
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("load the planner's %s: %w", step, err)
		}
		return nil
	}
	team := func(name string) *Team { return byName[name] }
	steps := []struct {
		name, query string
		scan        func(*sql.Rows) error
		args        []any
	}{
		{"teams", `SELECT team_id FROM teams WHERE team_id <> 'unassigned' ORDER BY team_id`, func(r *sql.Rows) error {
			var name string
			if err := r.Scan(&name); err != nil {
				return err
			}
			in.Teams = append(in.Teams, Team{Name: name, Share: 1, Samples: make([]int, p.WindowDays)})
			return nil
		}, nil},
		{"projects", `SELECT DISTINCT team_id, key FROM projects WHERE team_id IS NOT NULL
			UNION SELECT DISTINCT team, project FROM item_flow
			WHERE completed AND NOT discarded AND work_class = 'project' AND project IS NOT NULL AND finish_day BETWEEN ? AND ?
			ORDER BY ALL`, func(r *sql.Rows) error {
			var name, proj string
			if err := r.Scan(&name, &proj); err != nil {
				return err
			}
			if t := team(name); t != nil && !slices.Contains(t.Projects, proj) {
				t.Projects = append(t.Projects, proj)
			}
			return nil
		}, []any{first, in.Today}},
		{"throughput", `SELECT team, day, items FROM throughput_daily WHERE work_class = 'project' AND day BETWEEN ? AND ?`, func(r *sql.Rows) error {
			var name string
			var day time.Time
			var n int
			if err := r.Scan(&name, &day, &n); err != nil {
				return err
			}
			if t := team(name); t != nil {
				t.Samples[int(civil(day).Sub(first).Hours()/24)] = n
			}
			return nil
		}, []any{first, in.Today}},
		{"milestone share", `SELECT f.team, count(*), count(w.milestone_id) FROM item_flow f JOIN work_items w USING (item_id)
			WHERE f.completed AND NOT f.discarded AND f.work_class = 'project' AND f.finish_day BETWEEN ? AND ?
			GROUP BY f.team`, func(r *sql.Rows) error {
			var name string
			var n, m int
			if err := r.Scan(&name, &n, &m); err != nil {
				return err
			}
			if t := team(name); t != nil {
				t.Share = forecast.Share(n, m)
			}
			return nil
		}, []any{first, in.Today}},
		{"open milestones", `SELECT f.team, s.milestone_id, s.name, coalesce(s.project, ''), s.due_date, count(*)
			FROM work_items w JOIN item_flow f USING (item_id) JOIN milestone_status s ON s.milestone_id = w.milestone_id
			WHERE NOT w.deleted AND NOT f.completed AND f.work_class = 'project' AND s.status <> 'done'
			GROUP BY f.team, s.milestone_id, s.name, s.project, s.due_date`, func(r *sql.Rows) error {
			var name string
			var qd Queued
			var due sql.NullTime
			if err := r.Scan(&name, &qd.id, &qd.Milestone, &qd.Project, &due, &qd.Remaining); err != nil {
				return err
			}
			if due.Valid {
				qd.Due = civil(due.Time)
			}
			if t := team(name); t != nil {
				t.Queue = append(t.Queue, qd)
			}
			return nil
		}, nil},
		{"hours per item", `WITH h AS (SELECT item_id, sum(seconds) / 3600.0 AS hours FROM worklogs GROUP BY item_id)
			SELECT f.team, median(h.hours), count(*) FROM item_flow f JOIN h USING (item_id)
			WHERE f.completed AND NOT f.discarded AND f.work_class = 'project' AND f.finish_day BETWEEN ? AND ? AND h.hours > 0
			GROUP BY f.team`, func(r *sql.Rows) error {
			var name string
			var hours float64
			var n int
			if err := r.Scan(&name, &hours, &n); err != nil {
				return err
			}
			if t := team(name); t != nil {
				t.HoursPerItem, t.HourItems = hours, n
			}
			return nil
		}, []any{first, in.Today}},
		{"weeks", `SELECT team, week_start, capacity_hours, planned_hours FROM planner_weeks ORDER BY team, week_offset`, func(r *sql.Rows) error {
			var name string
			var w Week
			if err := r.Scan(&name, &w.Start, &w.Capacity, &w.Planned); err != nil {
				return err
			}
			w.Start = civil(w.Start)
			if t := team(name); t != nil {
				t.Weeks = append(t.Weeks, w)
			}
			return nil
		}, nil},
	}
	for i, s := range steps {
		if err := each(s.name, s.query, s.scan, s.args...); err != nil {
			return nil, err
		}
		if i == 0 {
			for k := range in.Teams {
				byName[in.Teams[k].Name] = &in.Teams[k]
			}
		}
	}
	for _, t := range in.Teams {
		slices.SortFunc(t.Queue, func(a, b Queued) int { return a.key().Compare(b.key()) })
	}
	return in, nil
}
