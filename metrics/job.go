// Package metrics computes the metric tables from the canonical tables (SQL
// in sql/, one file per metric family), loads the latest snapshot for the
// Prometheus collector, and holds the metric catalogue.
package metrics

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"text/template"
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
	// Full recomputes every item even when only some changed since the
	// last compute (the result is the same; see Compute).
	Full bool
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
	// Full: every item was recomputed, for Reason; otherwise Items items
	// (those a sync changed since the last compute) were.
	Full   bool
	Reason string
	Items  int
}

// Reasons for a full compute (Result.Reason).
const (
	reasonAsked   = "asked"
	reasonFirst   = "first compute"
	reasonInputs  = "config, time zone or compute changed"
	reasonSync    = "a sync replaced everything"
	reasonChanged = "most items changed"
	// A failed compute leaves the segments it committed and no state.
	reasonUnfinished = "the last compute did not finish"
)

// failAt names a statement (as in Result.Statements) at which the compute
// fails: set only by tests of an interrupted compute.
var failAt string

var errInjected = errors.New("failure injected by a test")

// fullShare: when more than this share of the items changed, recomputing
// every item costs less than taking the changed ones out and back in.
const fullShare = 0.3

// Compute brings every metric table up to date. It commits in segments:
// each SQL file, and the points marked by a COMMIT statement in a file,
// end one transaction and begin the next. DuckDB scans a table created or
// filled in the running transaction on one thread (duckdb/duckdb#18074):
// the first compute of 1M items took 35 s reading the intervals of every
// status change, the per-item results and the counters' ledger in the
// transaction that made them, 24-28 s reading them committed
// (docs/performance.md). The first segment removes compute_state, the last
// writes it again: a compute that fails midway (the current segment rolled
// back, the run recorded as failed in job_runs) leaves the tables of the
// segments it committed, and the next compute recomputes every item. What
// readers are served (the SQL API, pages, /metrics) is the publication
// after a successful compute, never a compute in progress.
//
// It recomputes only the items a sync changed since the last compute (the
// store lists them in compute_dirty) and the items whose project, assignee's
// team or epic parent changed; sums over all items (stage deltas, logged
// hours, status kinds) take the old contribution of those items out and put
// the new one in; values that depend only on the clock (ages, time in the
// current stage) are refreshed for every item without reading history. The
// first compute, one after a change of config, time zone or the compute
// itself, and one where most items changed recompute every item; so does
// Params.Full. Either way the tables hold the same rows.
func Compute(ctx context.Context, db *sql.DB, p Params) (res Result, err error) {
	start := time.Now()
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
	// A failed run rolls back its current segment and is recorded in
	// job_runs (outside the rolled-back transaction), so `throughline
	// check` can tell; the temporary tables of committed segments go.
	defer func() {
		if err == nil {
			return
		}
		bg := context.WithoutCancel(ctx)
		c.ExecContext(bg, "ROLLBACK")
		c.ExecContext(bg, "INSERT INTO job_runs VALUES ('compute', ?, ?, 'failed', ?)", started, time.Now().UTC(), err.Error())
		dropTemp(bg, c)
	}()
	t0 := time.Now()
	if err := loadParams(ctx, c, p); err != nil {
		return res, err
	}
	hash, err := paramsHash(ctx, c, p)
	if err != nil {
		return res, err
	}
	if err := chooseMode(ctx, c, p, hash, &res); err != nil {
		return res, err
	}
	// Until the last segment records it again (see Compute).
	if _, err := c.ExecContext(ctx, "DELETE FROM compute_state"); err != nil {
		return res, fmt.Errorf("compute: %w", err)
	}
	// segment commits the work so far and begins the next transaction.
	segment := func(name string) error {
		ts := time.Now()
		if _, err := c.ExecContext(ctx, "COMMIT"); err != nil {
			return fmt.Errorf("compute: commit after %s: %w", name, err)
		}
		if _, err := c.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
			return fmt.Errorf("compute: begin after %s: %w", name, err)
		}
		res.Statements = append(res.Statements, Step{Name: name + " commit", Duration: time.Since(ts)})
		return nil
	}
	res.Statements = append(res.Statements, Step{Name: "params", Duration: time.Since(t0)})
	files, err := fs.Glob(sqlFiles, "sql/*.sql")
	if err != nil {
		return res, fmt.Errorf("compute: %w", err)
	}
	slices.Sort(files)
	cols, err := mainColumns(ctx, c)
	if err != nil {
		return res, err
	}
	changed := map[string]bool{}
	forecasted := false
	for _, f := range files {
		// The forecasts and their backtest (Go) run after the milestone
		// scope and before the status.
		if !forecasted && strings.TrimPrefix(f, "sql/") >= "90" {
			// Both recompute fully on every compute (milestones are few):
			// their tables are marked changed.
			for _, step := range []struct {
				name   string
				run    func(context.Context, *sql.Conn, Params) error
				tables []string
			}{
				{"89_forecasts", forecastStep, []string{"milestone_forecasts", "forecast_calibration"}},
				{"90_backtest", backtestStep, []string{"forecast_backtest", "forecast_backtest_summary"}},
			} {
				t0 := time.Now()
				if err := step.run(ctx, c, p); err != nil {
					return res, fmt.Errorf("compute: %w", err)
				}
				for _, t := range step.tables {
					changed[t] = true
				}
				if err := segment(step.name); err != nil {
					return res, err
				}
				res.Steps = append(res.Steps, Step{Name: step.name, Duration: time.Since(t0)})
			}
			forecasted = true
		}
		texts, err := statements(f, res.Full)
		if err != nil {
			return res, fmt.Errorf("compute: %w", err)
		}
		var stmts []statement
		if res.Full {
			// A full compute rewrites most rows of the tables it rebuilds:
			// comparing them row by row would cost more than writing them.
			for _, t := range texts {
				stmts = append(stmts, statement{sql: t})
			}
		} else {
			stmts = byDifference(texts, cols)
		}
		step := strings.TrimSuffix(strings.TrimPrefix(f, "sql/"), ".sql")
		t0 := time.Now()
		for i, stmt := range stmts {
			ts := time.Now()
			var err error
			name := fmt.Sprintf("%s#%d", step, i+1)
			if strings.EqualFold(stmt.sql, "COMMIT") {
				if err := segment(name); err != nil {
					return res, err
				}
				continue
			}
			run := func(q string) error {
				_, err := c.ExecContext(ctx, q)
				return err
			}
			if p.ExplainDir != "" {
				run = func(q string) error { return explain(ctx, c, q, filepath.Join(p.ExplainDir, name+".txt")) }
			}
			switch {
			case name == failAt:
				err = errInjected
			case stmt.rewrite != "":
				var differs bool
				if differs, err = rewriteIfDifferent(ctx, c, stmt, run); err == nil && differs {
					changed[stmt.rewrite] = true
				}
			case p.ExplainDir != "" && !strings.HasPrefix(strings.ToUpper(stmt.sql), "DELETE"):
				err = run(stmt.sql)
			default:
				var r sql.Result
				if r, err = c.ExecContext(ctx, stmt.sql); err == nil {
					if t := target(stmt.sql); t != "" && cols[t] != nil {
						if n, _ := r.RowsAffected(); n > 0 {
							changed[t] = true
						}
					}
				}
			}
			res.Statements = append(res.Statements, Step{Name: name, Duration: time.Since(ts)})
			if err != nil {
				return res, fmt.Errorf("compute %s statement %d: %w", strings.TrimPrefix(f, "sql/"), i+1, err)
			}
		}
		res.Steps = append(res.Steps, Step{Name: step, Duration: time.Since(t0)})
		if err := segment(step); err != nil {
			return res, err
		}
	}
	t0 = time.Now()
	today := dateOf(p.Now.In(p.Location))
	for _, st := range []struct {
		what string
		sql  string
		args []any
	}{
		// What this compute consumed; marks a sync committed meanwhile are
		// not visible here and stay for the next compute.
		{"clear the changed items", "DELETE FROM compute_dirty", nil},
		{"clear the changed items", "DELETE FROM compute_old_histories", nil},
		{"clear the changed items", "DELETE FROM compute_old_changes", nil},
		{"clear the changed items", "DELETE FROM compute_old_worklogs", nil},
		{"record the state", "DELETE FROM compute_state", nil},
		{"record the state", "INSERT INTO compute_state VALUES (?, ?, ?)", []any{hash, p.Now.UTC(), today}},
		{"record the changed tables", `DELETE FROM compute_tables WHERE table_name IN (SELECT unnest(CAST(? AS VARCHAR[])))`, []any{changedList(changed)}},
		{"record the changed tables", `INSERT INTO compute_tables SELECT unnest(CAST(? AS VARCHAR[])), ?`, []any{changedList(changed), p.Now.UTC()}},
		{"prune job_runs", "DELETE FROM job_runs WHERE started_at < ?", []any{started.AddDate(0, 0, -90)}},
		{"record the run", "INSERT INTO job_runs VALUES ('compute', ?, ?, 'ok', NULL)", []any{started, time.Now().UTC()}},
		{"commit", "COMMIT", nil},
	} {
		if st.what == "commit" {
			// The bookkeeping above and the commit itself (the write-ahead
			// log, and a checkpoint when the log has grown) apart.
			res.Statements = append(res.Statements, Step{Name: "record", Duration: time.Since(t0)})
			t0 = time.Now()
		}
		if _, err := c.ExecContext(ctx, st.sql, st.args...); err != nil {
			return res, fmt.Errorf("compute: %s: %w", st.what, err)
		}
	}
	res.Statements = append(res.Statements, Step{Name: "commit", Duration: time.Since(t0)})
	dropTemp(context.WithoutCancel(ctx), c)
	res.Duration = time.Since(start)
	return res, nil
}

// dropTemp drops the temporary tables and views of the connection, which
// outlives the compute in the pool: the intervals of a full compute hold a
// row per status change.
func dropTemp(ctx context.Context, c *sql.Conn) {
	rows, err := c.QueryContext(ctx, `SELECT 'VIEW', view_name FROM duckdb_views() WHERE temporary AND NOT internal
		UNION ALL SELECT 'TABLE', table_name FROM duckdb_tables() WHERE temporary ORDER BY 1 DESC`)
	if err != nil {
		return
	}
	var drops []string
	for rows.Next() {
		var kind, name string
		if rows.Scan(&kind, &name) == nil {
			drops = append(drops, "DROP "+kind+` IF EXISTS temp.main."`+strings.ReplaceAll(name, `"`, `""`)+`"`)
		}
	}
	rows.Close()
	for _, d := range drops {
		c.ExecContext(ctx, d)
	}
	for _, v := range paramVariables {
		c.ExecContext(ctx, "RESET VARIABLE "+v)
	}
}

// paramVariables are the columns of params the statements read with
// getvariable.
var paramVariables = []string{"today", "now_ts", "window_days", "utc_session", "now_us"}

// mainColumns lists the columns of every table of the warehouse.
func mainColumns(ctx context.Context, c *sql.Conn) (map[string][]string, error) {
	rows, err := c.QueryContext(ctx, `SELECT table_name, column_name FROM duckdb_columns()
		WHERE database_name = current_database() AND schema_name = 'main' ORDER BY table_name, column_index`)
	if err != nil {
		return nil, fmt.Errorf("compute: read the tables: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var t, col string
		if err := rows.Scan(&t, &col); err != nil {
			return nil, fmt.Errorf("compute: read the tables: %w", err)
		}
		out[t] = append(out[t], col)
	}
	return out, rows.Err()
}

var targetRE = regexp.MustCompile(`(?is)^\s*(?:INSERT\s+INTO|DELETE\s+FROM|UPDATE)\s+(?:main\.)?(\w+)(?:\s|$|\()`)

// target is the table a DML statement writes ("" for other statements).
func target(stmt string) string {
	if m := targetRE.FindStringSubmatch(stmt); m != nil {
		return m[1]
	}
	return ""
}

// changedList lists the tables of changed, sorted.
func changedList(changed map[string]bool) string {
	var ts []string
	for t, ok := range changed {
		if ok {
			ts = append(ts, t)
		}
	}
	slices.Sort(ts)
	return "[" + strings.Join(ts, ", ") + "]"
}

var deleteAllRE = regexp.MustCompile(`(?is)^\s*DELETE\s+FROM\s+(\w+)\s*$`)
var insertRE = regexp.MustCompile(`(?is)^\s*INSERT\s+INTO\s+(\w+)\s+((?:WITH|SELECT)\b.*)$`)

// A statement of a compute: SQL run as it is, or, when rewrite names a
// table, a query whose rows replace the table's only when they differ
// (byDifference).
type statement struct {
	sql     string
	rewrite string
	// same: a query of one boolean, true when the rows of the temporary
	// table diff_new and of the table are the same.
	same string
}

// byDifference rewrites each rebuild of a table (DELETE FROM t, then
// INSERT INTO t SELECT …) so that a table whose rows all stay the same is
// not written at all (compute_tables keeps its changed_at): the query's
// rows, kept in diff_new, are compared with the table's as multisets, by
// their number and the sum of a 64-bit hash of each row, and the table is
// rewritten only when they differ. Two different multisets with the same
// count and sum are as likely as a collision of 64-bit hashes (the rule
// the store uses for histories). An incremental compute is the only one
// written this way: a full one rewrites its tables anyway. (Rewriting
// only the rows that differ, matched on every column, cost more than
// rewriting the table: 0.47 s against 0.16 s for aging_wip's 105,000 rows
// at 1M items.)
func byDifference(stmts []string, cols map[string][]string) []statement {
	var out []statement
	for i := 0; i < len(stmts); i++ {
		d := deleteAllRE.FindStringSubmatch(stmts[i])
		if d == nil || i+1 == len(stmts) {
			out = append(out, statement{sql: stmts[i]})
			continue
		}
		ins := insertRE.FindStringSubmatch(stmts[i+1])
		cs := cols[d[1]]
		if ins == nil || ins[1] != d[1] || cs == nil {
			out = append(out, statement{sql: stmts[i]})
			continue
		}
		t := d[1]
		var list []string
		for _, c := range cs {
			list = append(list, `"`+c+`"`)
		}
		all := strings.Join(list, ", ")
		out = append(out, statement{
			// The query's columns take the table's names, by position.
			sql:     fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE diff_new AS SELECT * FROM (%s) q(%s)`, ins[2], all),
			rewrite: t,
			same: fmt.Sprintf(`SELECT n.c = o.c AND n.h IS NOT DISTINCT FROM o.h
				FROM (SELECT count(*) AS c, sum(hash(%[1]s)) AS h FROM temp.main.diff_new) n,
				(SELECT count(*) AS c, sum(hash(%[1]s)) AS h FROM main.%[2]s) o`, all, t),
		})
		i++
	}
	return out
}

// rewriteIfDifferent runs a statement of byDifference: it fills diff_new
// (with run), and rewrites the table from it when their rows differ.
func rewriteIfDifferent(ctx context.Context, c *sql.Conn, st statement, run func(string) error) (differs bool, err error) {
	if err := run(st.sql); err != nil {
		return false, err
	}
	var same bool
	if err := c.QueryRowContext(ctx, st.same).Scan(&same); err != nil {
		return false, fmt.Errorf("compare %s: %w", st.rewrite, err)
	}
	if same {
		return false, nil
	}
	for _, q := range []string{"DELETE FROM main." + st.rewrite, "INSERT INTO main." + st.rewrite + " SELECT * FROM temp.main.diff_new"} {
		if _, err := c.ExecContext(ctx, q); err != nil {
			return false, fmt.Errorf("rewrite %s: %w", st.rewrite, err)
		}
	}
	return true, nil
}

// chooseMode decides between recomputing every item and only the changed
// ones, and leaves the changed ones in the temporary table flow_dirty.
func chooseMode(ctx context.Context, c *sql.Conn, p Params, hash string, res *Result) error {
	var last sql.NullString
	if err := c.QueryRowContext(ctx, "SELECT max(params_hash) FROM compute_state").Scan(&last); err != nil {
		return fmt.Errorf("compute: read the last compute: %w", err)
	}
	// No state but results: a compute failed after committing some.
	var unfinished bool
	if !last.Valid {
		if err := c.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM item_flow)").Scan(&unfinished); err != nil {
			return fmt.Errorf("compute: read the last compute: %w", err)
		}
	}
	var all bool
	var dirty, items int
	if err := c.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE item_id IS NULL) > 0, count(DISTINCT item_id),
		(SELECT count(*) FROM work_items) FROM compute_dirty`).Scan(&all, &dirty, &items); err != nil {
		return fmt.Errorf("compute: read the changed items: %w", err)
	}
	switch {
	case p.Full:
		res.Full, res.Reason = true, reasonAsked
	case !last.Valid && unfinished:
		res.Full, res.Reason = true, reasonUnfinished
	case !last.Valid:
		res.Full, res.Reason = true, reasonFirst
	case last.String != hash:
		res.Full, res.Reason = true, reasonInputs
	case all:
		res.Full, res.Reason = true, reasonSync
	case float64(dirty) > fullShare*float64(items):
		res.Full, res.Reason = true, reasonChanged
	}
	if res.Full {
		_, err := c.ExecContext(ctx, "UPDATE params SET full_compute = true")
		if err != nil {
			return fmt.Errorf("compute: %w", err)
		}
		return nil
	}
	res.Items = dirty
	if _, err := c.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE flow_dirty AS SELECT DISTINCT item_id FROM compute_dirty WHERE item_id IS NOT NULL`); err != nil {
		return fmt.Errorf("compute: read the changed items: %w", err)
	}
	return nil
}

// paramsHash is the SHA-256 of every input of the compute other than the
// items and the clock: the parameters, the session time zone (worklog
// weeks) and the compute's SQL. A compute whose hash differs from the last
// one's recomputes every item.
func paramsHash(ctx context.Context, c *sql.Conn, p Params) (string, error) {
	var tz string
	if err := c.QueryRowContext(ctx, "SELECT current_setting('TimeZone')").Scan(&tz); err != nil {
		return "", fmt.Errorf("compute: read the session time zone: %w", err)
	}
	h := sha256.New()
	enc := json.NewEncoder(h)
	in := p
	in.Now, in.ExplainDir, in.Full, in.Location = time.Time{}, "", false, nil
	for _, v := range []any{in, p.Location.String(), tz} {
		if err := enc.Encode(v); err != nil {
			return "", fmt.Errorf("compute: hash the parameters: %w", err)
		}
	}
	h.Write(sqlDigest)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// sqlDigest is the SHA-256 of the compute's SQL files.
var sqlDigest = func() []byte {
	h := sha256.New()
	files, _ := fs.Glob(sqlFiles, "sql/*.sql")
	slices.Sort(files)
	for _, f := range files {
		b, _ := sqlFiles.ReadFile(f)
		h.Write([]byte(f))
		h.Write(b)
	}
	return h.Sum(nil)
}()

// statements are the statements of one SQL file for a full or an
// incremental compute: the files are text/template templates of the mode
// ({{if .Full}} … {{else}} … {{end}}).
func statements(file string, full bool) ([]string, error) {
	body, err := sqlFiles.ReadFile(file)
	if err != nil {
		return nil, err
	}
	t, err := template.New(file).Option("missingkey=error").Parse(string(body))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var b strings.Builder
	if err := t.Execute(&b, struct{ Full bool }{full}); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return splitSQL(b.String()), nil
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
		// full_compute: every item is recomputed (chooseMode).
		"CREATE OR REPLACE TEMP TABLE params (today DATE, now_ts TIMESTAMPTZ, window_days INTEGER, utc_session BOOLEAN, full_compute BOOLEAN, now_us BIGINT)",
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
	if err := ins("INSERT INTO params SELECT ?, CAST(? AS TIMESTAMPTZ), ?, current_setting('TimeZone') = 'UTC', false, epoch_us(CAST(? AS TIMESTAMPTZ))",
		todayDate, p.Now.UTC(), p.WindowDays, p.Now.UTC()); err != nil {
		return err
	}
	// The statements read the clock and the window as session variables,
	// copied from the row above: getvariable is a constant when a
	// statement is planned, so a filter on it reaches the table scan (a
	// scalar subquery on params does not: the 1M-item milestone scope
	// joined 796,000 rows instead of 19,500). The variables are reset
	// with the temporary tables (dropTemp).
	for _, v := range paramVariables {
		if err := ins(fmt.Sprintf("SET VARIABLE %[1]s = (SELECT %[1]s FROM params)", v)); err != nil {
			return err
		}
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

// zoneCache holds zoneOffsets per zone name and years.
var zoneCache sync.Map

// zoneOffsets lists (start, offset) pairs in Unix seconds: the zone's UTC
// offset from start until the next pair. The first pair starts at -2^40.
func zoneOffsets(loc *time.Location, fromYear, toYear int) [][2]int64 {
	key := fmt.Sprintf("%s/%d/%d", loc, fromYear, toYear)
	if v, ok := zoneCache.Load(key); ok && loc.String() != "Local" {
		return v.([][2]int64)
	}
	out := zoneChanges(loc, fromYear, toYear)
	zoneCache.Store(key, out)
	return out
}

// zoneChanges lists the offset changes from the start of fromYear to the
// start of toYear, going from one period of the zone to the next
// (time.Time.ZoneBounds), with a bisection for the second the offset
// changes (a period can differ in its name only). Where ZoneBounds gives
// no end after the time asked (Go computes the periods of a rule year by
// year, and at the end of a leap year returned an end before the time
// asked: 2040-12-30 in America/Chicago), the next probe is a day later.
// (A scan in steps of six hours took 17 ms for 130 years, paid by every
// compute process.)
func zoneChanges(loc *time.Location, fromYear, toYear int) [][2]int64 {
	offset := func(u int64) int64 { return zoneOffsetAt(loc, u) }
	from := time.Date(fromYear, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	to := time.Date(toYear, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	cur := offset(from)
	out := [][2]int64{{-(1 << 40), cur}}
	for u := from; u < to; {
		_, end := time.Unix(u, 0).In(loc).ZoneBounds()
		next := end.Unix()
		if end.IsZero() || next <= u {
			next = u + 86400
		}
		next = min(next, to)
		if offset(next) == cur {
			u = next
			continue
		}
		lo, hi := u, next
		for hi-lo > 1 {
			mid := lo + (hi-lo)/2
			if offset(mid) == cur {
				lo = mid
			} else {
				hi = mid
			}
		}
		cur = offset(hi)
		out = append(out, [2]int64{hi, cur})
		u = hi
	}
	return out
}

// zoneOffsetAt is the zone's UTC offset in seconds at Unix second u.
func zoneOffsetAt(loc *time.Location, u int64) int64 {
	_, o := time.Unix(u, 0).In(loc).Zone()
	return int64(o)
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
