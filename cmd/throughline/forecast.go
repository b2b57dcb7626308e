package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/throughline/throughline/metrics/forecast"
)

func runForecast(ctx context.Context, g *globals, args []string) error {
	fs := g.flags("forecast")
	cfgPath := fs.String("config", "throughline.yaml", "config file")
	milestone := fs.String("milestone", "", "show one milestone (name, or project:name) in detail")
	by := fs.String("date", "", "with --milestone: how many items by this date (YYYY-MM-DD); default its due date")
	if err := g.parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if _, err := os.Stat(cfg.Warehouse.Path); err != nil {
		return fmt.Errorf("warehouse %s does not exist yet: run `throughline sync` and `throughline compute` first", cfg.Warehouse.Path)
	}
	db, err := openWarehouse(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer db.Close()
	if *milestone == "" {
		rows, err := db.QueryContext(ctx, `SELECT coalesce(s.project, '') AS project, s.name AS milestone, s.status, s.due_date AS due, s.remaining,
				s.p50_date AS p50, f.p70_date AS p70, s.p85_date AS p85, f.p95_date AS p95,
				CASE WHEN s.on_time_probability IS NULL THEN '' ELSE format('{:.0f}%', 100 * s.on_time_probability) END AS on_time,
				coalesce(CAST(s.slip_days AS VARCHAR), '') AS slip_days
			FROM milestone_status s
			LEFT JOIN (SELECT * FROM milestone_forecasts QUALIFY row_number() OVER (PARTITION BY milestone_id ORDER BY computed_at DESC) = 1) f USING (milestone_id)
			WHERE s.status <> 'done'
			ORDER BY CASE s.status WHEN 'overdue' THEN 0 WHEN 'off_track' THEN 1 WHEN 'at_risk' THEN 2 WHEN 'unknown' THEN 3 ELSE 4 END, s.due_date, s.name`)
		if err != nil {
			return fmt.Errorf("read forecasts: %w", err)
		}
		defer rows.Close()
		fmt.Fprintln(g.stdout, "Open milestones, most at risk first (Monte Carlo over each project's daily throughput):")
		return writeRows(g.stdout, rows, "table")
	}
	return forecastOne(ctx, g, db.DB, *milestone, *by)
}

func forecastOne(ctx context.Context, g *globals, db *sql.DB, name, by string) error {
	project, ms, ok := strings.Cut(name, ":")
	if !ok {
		project, ms = "", name
	}
	var (
		id, status, proj              string
		due, base, p50, p70, p85, p95 sql.NullTime
		remaining, scope, changes     int
		prob                          sql.NullFloat64
		computed                      sql.NullTime
		samples                       sql.NullString
		seed, trials                  sql.NullInt64
		known                         sql.NullBool
	)
	err := db.QueryRowContext(ctx, `SELECT s.milestone_id, s.status, coalesce(s.project, ''), s.due_date, s.baseline_due_date, f.p50_date, f.p70_date, f.p85_date, f.p95_date,
			s.remaining, s.scope, s.due_date_changes, f.on_time_probability, f.computed_at, CAST(f.samples AS VARCHAR), f.seed, f.trials, f.known
		FROM milestone_status s
		LEFT JOIN (SELECT * FROM milestone_forecasts QUALIFY row_number() OVER (PARTITION BY milestone_id ORDER BY computed_at DESC) = 1) f USING (milestone_id)
		WHERE lower(s.name) = lower(?) AND (? = '' OR lower(s.project) = lower(?))
		ORDER BY s.due_date DESC LIMIT 1`, ms, project, project).
		Scan(&id, &status, &proj, &due, &base, &p50, &p70, &p85, &p95, &remaining, &scope, &changes, &prob, &computed, &samples, &seed, &trials, &known)
	if err == sql.ErrNoRows {
		return usagef("no milestone named %q (list them with `throughline forecast`)", name)
	}
	if err != nil {
		return fmt.Errorf("read forecast: %w", err)
	}
	day := func(t sql.NullTime) string {
		if !t.Valid {
			return "—"
		}
		return t.Time.Format("Mon 2006-01-02")
	}
	w := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "milestone\t%s (%s)\n", ms, proj)
	fmt.Fprintf(w, "status\t%s\n", status)
	fmt.Fprintf(w, "due\t%s (baseline %s, moved %d times)\n", day(due), day(base), changes)
	fmt.Fprintf(w, "scope\t%d items, %d remaining\n", scope, remaining)
	if status == "done" || !computed.Valid {
		w.Flush()
		return nil
	}
	if !known.Bool {
		fmt.Fprintf(w, "forecast\tunknown: %s completed nothing in the throughput window\n", proj)
		w.Flush()
		return nil
	}
	fmt.Fprintf(w, "forecast\t50%%: %s\t70%%: %s\t85%%: %s\t95%%: %s\n", day(p50), day(p70), day(p85), day(p95))
	if prob.Valid {
		fmt.Fprintf(w, "on time\t%.0f%% of %d trials finish by the due date\n", 100*prob.Float64, trials.Int64)
	}
	fmt.Fprintf(w, "computed\t%s (seed %d)\n", computed.Time.Local().Format(time.DateTime), seed.Int64)
	w.Flush()

	// "How many items by date D", from the same inputs.
	target := due.Time
	if by != "" {
		t, err := time.Parse("2006-01-02", by)
		if err != nil {
			return usagef("--date %q: want YYYY-MM-DD", by)
		}
		target = t
	}
	if target.IsZero() {
		return nil
	}
	var s []int
	for _, f := range strings.Split(strings.Trim(samples.String, "[]"), ",") {
		var v int
		fmt.Sscan(strings.TrimSpace(f), &v)
		s = append(s, v)
	}
	start := time.Date(computed.Time.Year(), computed.Time.Month(), computed.Time.Day()+1, 0, 0, 0, 0, time.UTC)
	days := int(target.Sub(start).Hours()/24) + 1
	if days < 1 {
		return nil
	}
	fmt.Fprintf(g.stdout, "\nitems %s completes by %s (%d days):\n", proj, target.Format("2006-01-02"), days)
	for _, conf := range []float64{50, 85, 95} {
		n, ok := forecast.HowMany(s, days, int(trials.Int64), uint64(seed.Int64), conf/100)
		if ok {
			fmt.Fprintf(g.stdout, "  at %2.0f%% confidence: %d or more\n", conf, n)
		}
	}
	return nil
}
