// Package metrics computes the metric tables from the canonical tables (SQL
// in sql/, one file per metric family), loads the latest snapshot for the
// Prometheus collector, and holds the metric catalogue.
package metrics

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

//go:embed sql/*.sql
var sqlFiles embed.FS

// Team is the part of a team's config the computations use.
type Team struct {
	Name         string
	Members      []string // emails or display names
	Projects     []string // project keys
	HoursPerWeek float64
	WIPLimit     int // 0: none
	SLEDays      int // 0: use the P85 of the window
}

// Params are the inputs of a compute run.
type Params struct {
	Now        time.Time
	Location   *time.Location
	WindowDays int
	Teams      []Team
	// Workflow: status names (case-insensitive) per stage.
	Todo, Started, Wait, Done []string
	DiscardedResolutions      []string
	// ExplainDir, when set, runs each SQL statement under EXPLAIN ANALYZE and
	// writes its profile there (one file per statement), for tuning.
	ExplainDir string
	// Forecasts: Monte Carlo trials and seed (defaults 10000 and 1), and
	// the model of the stored forecasts: ModePortfolio (the default) or
	// ModeIndependent.
	Trials       int
	Seed         uint64
	ForecastMode string
	// Work-class rules: item types and project keys.
	OperationalTypes, OperationalProjects []string
	ProjectTypes, ProjectProjects         []string
}

// Step is one SQL file of the compute.
type Step struct {
	Name     string
	Duration time.Duration
}

// Result describes a compute run.
type Result struct {
	Steps      []Step
	Statements []Step // each SQL statement, for profiling
	Duration   time.Duration
}

// Compute rebuilds every metric table in one transaction, so readers see
// either the previous or the new snapshot, never a mix.
func Compute(ctx context.Context, db *sql.DB, p Params) (Result, error) {
	start := time.Now()
	var res Result
	if p.Location == nil {
		p.Location = time.UTC
	}
	if p.WindowDays <= 0 {
		p.WindowDays = 90
	}
	if p.Trials <= 0 {
		p.Trials = 10000
	}
	if p.Seed == 0 {
		p.Seed = 1
	}
	switch p.ForecastMode {
	case "":
		p.ForecastMode = ModePortfolio
	case ModePortfolio, ModeIndependent:
	default:
		return res, fmt.Errorf("compute: forecast mode %q: want %s or %s", p.ForecastMode, ModePortfolio, ModeIndependent)
	}
	c, err := db.Conn(ctx)
	if err != nil {
		return res, fmt.Errorf("compute: %w", err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return res, fmt.Errorf("compute: begin: %w", err)
	}
	started := time.Now().UTC()
	// A failed run rolls back and is recorded in job_runs (outside the
	// rolled-back transaction), so `throughline check` can tell.
	rollback := func(err error) {
		bg := context.WithoutCancel(ctx)
		c.ExecContext(bg, "ROLLBACK")
		c.ExecContext(bg, "INSERT INTO job_runs VALUES ('compute', ?, ?, 'failed', ?)", started, time.Now().UTC(), err.Error())
	}
	t0 := time.Now()
	if err := loadParams(ctx, c, p); err != nil {
		rollback(err)
		return res, err
	}
	res.Statements = append(res.Statements, Step{Name: "params", Duration: time.Since(t0)})
	files, err := fs.Glob(sqlFiles, "sql/*.sql")
	if err != nil {
		err = fmt.Errorf("compute: %w", err)
		rollback(err)
		return res, err
	}
	slices.Sort(files)
	forecasted := false
	for _, f := range files {
		// The forecasts and their backtest (Go) run after the milestone
		// scope and before the status.
		if !forecasted && strings.TrimPrefix(f, "sql/") >= "90" {
			for _, step := range []struct {
				name string
				run  func(context.Context, *sql.Conn, Params) error
			}{{"89_forecasts", forecastStep}, {"90_backtest", backtestStep}} {
				t0 := time.Now()
				if err := step.run(ctx, c, p); err != nil {
					err = fmt.Errorf("compute: %w", err)
					rollback(err)
					return res, err
				}
				res.Steps = append(res.Steps, Step{Name: step.name, Duration: time.Since(t0)})
			}
			forecasted = true
		}
		body, err := sqlFiles.ReadFile(f)
		if err != nil {
			err = fmt.Errorf("compute: %w", err)
			rollback(err)
			return res, err
		}
		t0 := time.Now()
		for i, stmt := range splitSQL(string(body)) {
			ts := time.Now()
			var err error
			name := fmt.Sprintf("%s#%d", strings.TrimSuffix(strings.TrimPrefix(f, "sql/"), ".sql"), i+1)
			if p.ExplainDir != "" && !strings.HasPrefix(strings.ToUpper(stmt), "DELETE") {
				err = explain(ctx, c, stmt, filepath.Join(p.ExplainDir, name+".txt"))
			} else {
				_, err = c.ExecContext(ctx, stmt)
			}
			res.Statements = append(res.Statements, Step{Name: name, Duration: time.Since(ts)})
			if err != nil {
				err = fmt.Errorf("compute %s statement %d: %w", strings.TrimPrefix(f, "sql/"), i+1, err)
				rollback(err)
				return res, err
			}
		}
		res.Steps = append(res.Steps, Step{Name: strings.TrimSuffix(strings.TrimPrefix(f, "sql/"), ".sql"), Duration: time.Since(t0)})
	}
	t0 = time.Now()
	if _, err := c.ExecContext(ctx, "DELETE FROM job_runs WHERE started_at < ?", started.AddDate(0, 0, -90)); err != nil {
		err = fmt.Errorf("compute: prune job_runs: %w", err)
		rollback(err)
		return res, err
	}
	if _, err := c.ExecContext(ctx, "INSERT INTO job_runs VALUES ('compute', ?, ?, 'ok', NULL)", started, time.Now().UTC()); err != nil {
		err = fmt.Errorf("compute: record the run: %w", err)
		rollback(err)
		return res, err
	}
	if _, err := c.ExecContext(ctx, "COMMIT"); err != nil {
		err = fmt.Errorf("compute: commit: %w", err)
		rollback(err)
		return res, err
	}
	res.Statements = append(res.Statements, Step{Name: "commit", Duration: time.Since(t0)})
	res.Duration = time.Since(start)
	return res, nil
}

// splitSQL splits a file into statements at semicolons that end a line.
// The SQL files keep string literals free of ";\n".
func splitSQL(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ";\n") {
		lines := strings.Split(part, "\n")
		var keep []string
		for _, l := range lines {
			if strings.HasPrefix(strings.TrimSpace(l), "--") {
				continue
			}
			keep = append(keep, l)
		}
		stmt := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(strings.Join(keep, "\n")), ";"))
		if stmt != "" {
			out = append(out, stmt)
		}
	}
	return out
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func loadParams(ctx context.Context, c execer, p Params) error {
	today := p.Now.In(p.Location)
	todayDate := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	stmts := []string{
		// utc_session: the session TimeZone (which ICU casts and date_trunc
		// on TIMESTAMPTZ use) is UTC, where a day is a plain division.
		"CREATE OR REPLACE TEMP TABLE params (today DATE, now_ts TIMESTAMPTZ, window_days INTEGER, utc_session BOOLEAN)",
		"CREATE OR REPLACE TEMP TABLE cfg_teams (name VARCHAR, wip_limit INTEGER, sle_days INTEGER, hours_per_week DOUBLE)",
		"CREATE OR REPLACE TEMP TABLE cfg_members (member VARCHAR, team VARCHAR)",
		"CREATE OR REPLACE TEMP TABLE cfg_projects (project VARCHAR, team VARCHAR)",
		"CREATE OR REPLACE TEMP TABLE cfg_workflow (status VARCHAR, stage VARCHAR, stage_class VARCHAR)",
		"CREATE OR REPLACE TEMP TABLE cfg_discarded (res VARCHAR)",
		"CREATE OR REPLACE TEMP TABLE cfg_class (class VARCHAR, kind VARCHAR, value VARCHAR)",
		"CREATE OR REPLACE TEMP TABLE tz_offsets (start_epoch BIGINT, off BIGINT)",
	}
	for _, s := range stmts {
		if _, err := c.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("compute params: %w", err)
		}
	}
	ins := func(q string, args ...any) error {
		if _, err := c.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("compute params: %w", err)
		}
		return nil
	}
	if err := ins("INSERT INTO params VALUES (?, ?, ?, current_setting('TimeZone') = 'UTC')", todayDate, p.Now.UTC(), p.WindowDays); err != nil {
		return err
	}
	// UTC offsets of the configured zone and when they start: an ASOF join on
	// them turns instants into local days with integer arithmetic, several
	// times faster than casting TIMESTAMPTZ to DATE row by row.
	var offs []string
	for _, o := range zoneOffsets(p.Location, 1970, 2100) {
		offs = append(offs, fmt.Sprintf("(%d, %d)", o[0], o[1]))
	}
	if err := ins("INSERT INTO tz_offsets VALUES " + strings.Join(offs, ", ")); err != nil {
		return err
	}
	nullInt := func(v int) any {
		if v <= 0 {
			return nil
		}
		return v
	}
	// Config rows go in one INSERT per table (one statement per row cost
	// about a millisecond each: 0.25 s for 400 members).
	var teams, members, projects, workflow, discarded, classes rows
	for _, t := range p.Teams {
		teams.add(t.Name, nullInt(t.WIPLimit), nullInt(t.SLEDays), t.HoursPerWeek)
		for _, m := range t.Members {
			members.add(strings.ToLower(m), t.Name)
		}
		for _, pr := range t.Projects {
			projects.add(strings.ToLower(pr), t.Name)
		}
	}
	// Precedence when a status is listed twice: done, then started/wait, then todo.
	seen := map[string]bool{}
	add := func(names []string, stage, class string) error {
		for _, n := range names {
			k := strings.ToLower(strings.TrimSpace(n))
			if seen[k] {
				continue
			}
			seen[k] = true
			var cl any
			if class != "" {
				cl = class
			}
			workflow.add(k, stage, cl)
		}
		return nil
	}
	if err := add(p.Done, "done", ""); err != nil {
		return err
	}
	if err := add(p.Wait, "started", "wait"); err != nil {
		return err
	}
	if err := add(p.Started, "started", "active"); err != nil {
		return err
	}
	if err := add(p.Todo, "todo", ""); err != nil {
		return err
	}
	for _, r := range p.DiscardedResolutions {
		discarded.add(strings.ToLower(r))
	}
	rules := []struct {
		class, kind string
		values      []string
	}{
		{"operational", "type", p.OperationalTypes}, {"operational", "project", p.OperationalProjects},
		{"project", "type", p.ProjectTypes}, {"project", "project", p.ProjectProjects},
	}
	for _, r := range rules {
		for _, v := range r.values {
			classes.add(r.class, r.kind, strings.ToLower(v))
		}
	}
	for _, t := range []struct {
		name string
		rows *rows
	}{{"cfg_teams", &teams}, {"cfg_members", &members}, {"cfg_projects", &projects}, {"cfg_workflow", &workflow},
		{"cfg_discarded", &discarded}, {"cfg_class", &classes}} {
		if len(t.rows.args) == 0 {
			continue
		}
		if err := ins("INSERT INTO "+t.name+" VALUES "+strings.Join(t.rows.tuples, ", "), t.rows.args...); err != nil {
			return err
		}
	}
	return nil
}

// rows collects the rows of a multi-row INSERT: placeholder tuples and their arguments.
type rows struct {
	tuples []string
	args   []any
}

func (r *rows) add(vals ...any) {
	r.tuples = append(r.tuples, "("+strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ")+")")
	r.args = append(r.args, vals...)
}

// zoneOffsets lists (start, offset) pairs in Unix seconds: the zone's UTC
// offset from start until the next pair. The first pair starts at -2^40.
func zoneOffsets(loc *time.Location, fromYear, toYear int) [][2]int64 {
	offset := func(u int64) int64 {
		_, o := time.Unix(u, 0).In(loc).Zone()
		return int64(o)
	}
	from := time.Date(fromYear, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	to := time.Date(toYear, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	out := [][2]int64{{-(1 << 40), offset(from)}}
	const step = 6 * 3600
	for u := from; u < to; u += step {
		if offset(u+step) == offset(u) {
			continue
		}
		// Find the first second with the new offset.
		lo, hi := u, u+step
		for hi-lo > 1 {
			mid := (lo + hi) / 2
			if offset(mid) == offset(u) {
				lo = mid
			} else {
				hi = mid
			}
		}
		out = append(out, [2]int64{hi, offset(hi)})
	}
	return out
}

// explain runs stmt under EXPLAIN ANALYZE and writes the profile to path.
func explain(ctx context.Context, c *sql.Conn, stmt, path string) error {
	rows, err := c.QueryContext(ctx, "EXPLAIN ANALYZE "+stmt)
	if err != nil {
		return err
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return err
		}
		b.WriteString(v)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(stmt+"\n\n"+b.String()), 0o644)
}
