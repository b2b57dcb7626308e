package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/throughline/throughline/dashboards"
	"github.com/throughline/throughline/internal/config"
	"github.com/throughline/throughline/internal/demo"
	"github.com/throughline/throughline/metrics"
)

func runDemo(ctx context.Context, g *globals, args []string) error {
	fs := g.flags("demo")
	listen := fs.String("listen", "127.0.0.1:9187", "address for /metrics")
	dir := fs.String("dir", "throughline-demo", "folder for the demo data, config and warehouse")
	once := fs.Bool("once", false, "ingest, compute, print a summary and exit")
	items := fs.Int("items", 3600, "number of items in the sample organisation")
	if err := g.parse(fs, args); err != nil {
		return err
	}
	if err := checkListen(*listen, ""); err != nil && !*once {
		return err
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	dataDir := filepath.Join(abs, "data")
	dbPath := filepath.Join(abs, "throughline.duckdb")
	cfgPath := filepath.Join(abs, "throughline.yaml")
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("demo dir: %w", err)
	}
	// A fresh warehouse every time: the demo is reproducible.
	for _, f := range []string{dbPath, dbPath + ".wal"} {
		if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("reset demo warehouse: %w", err)
		}
	}
	now := time.Now()
	start := now
	sum, err := demo.Generate(dataDir, demo.Options{Now: now, Seed: 42, Items: *items})
	if err != nil {
		return fmt.Errorf("generate demo organisation: %w", err)
	}
	if err := os.WriteFile(cfgPath, []byte(demo.Config(dataDir, dbPath)), 0o644); err != nil {
		return fmt.Errorf("write demo config: %w", err)
	}
	g.logger.Info("demo organisation written", "dir", abs, "items", sum.Items, "teams", sum.Teams, "projects", sum.Projects,
		"status_changes", sum.StatusChanges, "worklogs", sum.Worklogs, "milestones", sum.Milestones)
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return fmt.Errorf("demo config: %w", err)
	}
	cfg.Server.Listen = *listen
	rules, err := writeRules(abs, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "prometheus rules: %s (alerts.yml, recording.yml)\n", filepath.Dir(rules[0]))
	if _, err := dashboards.WriteGrafana(abs); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "grafana dashboards: %s (provisioning/ for Grafana; see deploy/)\n", filepath.Join(abs, dashboards.GrafanaDir))
	db, err := openWarehouse(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer db.Close()
	p := newPipeline(cfg, db, g.logger)
	if err := p.syncAll(ctx, "", false); err != nil {
		return err
	}
	snap, err := p.compute(ctx)
	if err != nil {
		return err
	}
	if err := printSummary(ctx, g, p, snap, time.Since(start)); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "\nconfig:    %s\nwarehouse: %s\ntry:       go run ./cmd/throughline sql --config %s \"SELECT * FROM cycle_time_stats WHERE work_class = '*'\"\n",
		cfgPath, dbPath, cfgPath)
	fmt.Fprintf(g.stdout, "           go run ./cmd/throughline forecast --config %s\n           docs/sql-cookbook.md for 19 more queries\n", cfgPath)
	if *once {
		return nil
	}
	fmt.Fprintf(g.stdout, "metrics:   http://%s/metrics (Ctrl-C to stop)\n", *listen)
	return p.serve(ctx, *listen, false)
}

func printSummary(ctx context.Context, g *globals, p *pipeline, snap *metrics.Snapshot, took time.Duration) error {
	var p85 struct {
		days  int64
		items int64
	}
	err := p.db.QueryRowContext(ctx, `SELECT coalesce(p85_days, 0), items FROM cycle_time_stats WHERE team = '*' AND work_class = '*'`).Scan(&p85.days, &p85.items)
	if err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	var week time.Time
	var lastWeek int64
	err = p.db.QueryRowContext(ctx, `SELECT week_start, sum(items) FROM throughput_weekly
		WHERE week_start = (SELECT max(week_start) FROM throughput_weekly) - INTERVAL 7 DAY GROUP BY week_start`).Scan(&week, &lastWeek)
	if err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	var teams, open, problems int64
	if err := p.db.QueryRowContext(ctx, `SELECT count(DISTINCT team) FILTER (WHERE team <> 'unassigned'),
		count(*) FILTER (WHERE stage = 'started'), (SELECT count(*) FROM ingest_problems) FROM item_flow`).Scan(&teams, &open, &problems); err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	fmt.Fprintf(g.stdout, "Throughline demo: %d items, %d teams, synced and computed in %s\n", snap.Items, teams, took.Round(time.Millisecond))
	fmt.Fprintf(g.stdout, "  P85 cycle time:         %d days (%d items finished in the last %d days)\n", p85.days, p85.items, p.cfg.Metrics.WindowDays)
	fmt.Fprintf(g.stdout, "  last week's throughput: %d items (week of %s)\n", lastWeek, week.Format("2006-01-02"))
	fmt.Fprintf(g.stdout, "  work in progress:       %d items\n", open)
	fmt.Fprintf(g.stdout, "  input problems:         %d\n", problems)
	rows, err := p.db.QueryContext(ctx, `SELECT team, items AS finished_90d, p50_days, p85_days, sle_days, round(sle_attainment, 2) AS sle_attainment
		FROM cycle_time_stats WHERE work_class = '*' AND team <> '*' ORDER BY team`)
	if err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	fmt.Fprintln(g.stdout)
	if err := writeRows(g.stdout, rows, "table"); err != nil {
		return err
	}
	rows.Close()
	var ms string
	if err := p.db.QueryRowContext(ctx, `SELECT coalesce(string_agg(status || ' ' || n, ', ' ORDER BY status), 'none')
		FROM (SELECT status, count(*) AS n FROM milestone_status GROUP BY status)`).Scan(&ms); err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	fmt.Fprintf(g.stdout, "\nmilestones: %s (details: throughline forecast)\n", ms)
	rows, err = p.db.QueryContext(ctx, `SELECT o.team, o.capacity_hours AS capacity_h_this_week,
			round(o.planned_project_hours + o.planned_operational_hours + o.planned_unclassified_hours) AS planned_h,
			round(o.allocation_ratio, 2) AS allocation,
			CASE WHEN o.allocation_ratio > 1 THEN 'over-allocated' WHEN o.allocation_ratio > 0.85 THEN 'warning'
			     WHEN o.allocation_ratio >= 0.6 THEN 'healthy' ELSE 'under-loaded' END AS band,
			round(c.operational_p85_weekly_hours) AS ops_p85_h_per_week,
			round(c.available_hours) AS project_h_available_4w
		FROM capacity_outlook o JOIN project_capacity c USING (team)
		WHERE o.week_offset = 0 ORDER BY o.team`)
	if err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	defer rows.Close()
	fmt.Fprintln(g.stdout, "\ncapacity this week and project capacity left for the next 4 weeks:")
	return writeRows(g.stdout, rows, "table")
}
