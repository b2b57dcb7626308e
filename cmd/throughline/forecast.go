package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/throughline/throughline/metrics"
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
	db, err := openComputed(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if *milestone != "" {
		return forecastOne(ctx, g, db.DB, *milestone, *by)
	}
	rows, err := db.QueryContext(ctx, `SELECT coalesce(s.project, '') AS project, s.name AS milestone, s.status, s.due_date AS due, s.remaining,
			CASE WHEN f.model = 'portfolio' THEN f.ahead_items END AS after_items,
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
	if cfg.Metrics.Forecast.Mode == metrics.ModeIndependent {
		fmt.Fprintln(g.stdout, "Open milestones, most at risk first (independent model: each milestone alone with its project's daily throughput):")
	} else {
		fmt.Fprintln(g.stdout, "Open milestones, most at risk first (portfolio model: the open milestones of a project share its milestone throughput,")
		fmt.Fprintln(g.stdout, "earliest due first; after_items are the items of the milestones before it):")
	}
	if err := writeRows(g.stdout, rows, "table"); err != nil {
		return err
	}
	fmt.Fprintln(g.stdout)
	return printAccuracy(ctx, g.stdout, db.DB, "", cfg.Metrics.Forecast.Mode)
}

// printAccuracy prints the backtest's accuracy per project (or of one) and
// model, the configured model first.
func printAccuracy(ctx context.Context, w io.Writer, db *sql.DB, project, mode string) error {
	var since sql.NullTime
	if err := db.QueryRowContext(ctx, `SELECT max(since) FROM forecast_backtest_summary`).Scan(&since); err != nil {
		return fmt.Errorf("read the backtest: %w", err)
	}
	if !since.Valid {
		fmt.Fprintln(w, "Forecast accuracy: no milestone completed in the last 365 days, nothing to backtest.")
		return nil
	}
	rows, err := db.QueryContext(ctx, `SELECT CASE project WHEN '*' THEN 'all' ELSE project END AS project, model, milestones,
			checkpoints - unknown_checkpoints AS checkpoints, unknown_checkpoints AS unscored,
			coalesce(format('{:.0f}%', 100 * hit_rate_p50), '') AS p50_hit, coalesce(format('{:.0f}%', 100 * hit_rate_p85), '') AS p85_hit,
			coalesce(format('{:.0f}%', 100 * hit_rate_p95), '') AS p95_hit,
			coalesce(format('{:.1f}', p85_mae_days), '') AS p85_error_days, coalesce(format('{:+.1f}', p85_bias_days), '') AS p85_bias_days
		FROM forecast_backtest_summary
		WHERE (? = '' AND project <> '*') OR project = ? OR (? = '' AND project = '*')
		ORDER BY project = '*', project, model <> ?, model`, project, project, project, mode)
	if err != nil {
		return fmt.Errorf("read the backtest: %w", err)
	}
	defer rows.Close()
	fmt.Fprintf(w, "Forecast accuracy on your history (backtest: forecasts re-run each Monday in the life of every milestone\n"+
		"completed since %s; a P85 hit rate near 85%% is well calibrated, bias > 0 means later than forecast;\n"+
		"unscored: checkpoints without a full throughput window before them):\n", since.Time.Format(time.DateOnly))
	return writeRows(w, rows, "table")
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
		samples, model                sql.NullString
		seed, trials, pos, ahead      sql.NullInt64
		share                         sql.NullFloat64
		known                         sql.NullBool
	)
	err := db.QueryRowContext(ctx, `SELECT s.milestone_id, s.status, coalesce(s.project, ''), s.due_date, s.baseline_due_date, f.p50_date, f.p70_date, f.p85_date, f.p95_date,
			s.remaining, s.scope, s.due_date_changes, f.on_time_probability, f.computed_at, CAST(f.samples AS VARCHAR), f.seed, f.trials, f.known,
			f.model, f.milestone_share, f.queue_position, f.ahead_items
		FROM milestone_status s
		LEFT JOIN (SELECT * FROM milestone_forecasts QUALIFY row_number() OVER (PARTITION BY milestone_id ORDER BY computed_at DESC) = 1) f USING (milestone_id)
		WHERE lower(s.name) = lower(?) AND (? = '' OR lower(s.project) = lower(?))
		ORDER BY s.due_date DESC LIMIT 1`, ms, project, project).
		Scan(&id, &status, &proj, &due, &base, &p50, &p70, &p85, &p95, &remaining, &scope, &changes, &prob, &computed, &samples, &seed, &trials, &known,
			&model, &share, &pos, &ahead)
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
	portfolio := model.String == metrics.ModePortfolio
	if portfolio {
		fmt.Fprintf(w, "model\tportfolio: number %d of %s's open milestones by due date, after %d items of earlier ones;\n", pos.Int64, proj, ahead.Int64)
		fmt.Fprintf(w, "\t%.0f%% of %s's completions in the window were milestone work (each simulated item counts with that chance)\n", 100*share.Float64, proj)
	} else {
		fmt.Fprintf(w, "model\tindependent: alone with all of %s's daily throughput\n", proj)
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
	fmt.Fprintln(g.stdout)
	if err := printAccuracy(ctx, g.stdout, db, proj, model.String); err != nil {
		return err
	}

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
	if portfolio {
		fmt.Fprintf(g.stdout, "\nitems of %s done by %s (%d days), after the %d items ahead of it:\n", ms, target.Format("2006-01-02"), days, ahead.Int64)
	} else {
		fmt.Fprintf(g.stdout, "\nitems %s completes by %s (%d days):\n", proj, target.Format("2006-01-02"), days)
	}
	for _, conf := range []float64{50, 85, 95} {
		var n int
		var ok bool
		if portfolio {
			n, ok = forecast.HowManyQueued(s, share.Float64, int(ahead.Int64), remaining, days, int(trials.Int64), uint64(seed.Int64), conf/100)
		} else {
			n, ok = forecast.HowMany(s, days, int(trials.Int64), uint64(seed.Int64), conf/100)
		}
		if ok {
			fmt.Fprintf(g.stdout, "  at %2.0f%% confidence: %d or more\n", conf, n)
		}
	}
	return nil
}
