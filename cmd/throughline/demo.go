package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/throughline/throughline/connectors/asana/asanatest"
	"github.com/throughline/throughline/connectors/jira/jiratest"
	"github.com/throughline/throughline/dashboards"
	"github.com/throughline/throughline/internal/config"
	"github.com/throughline/throughline/internal/demo"
	"github.com/throughline/throughline/metrics"
)

// demoJiraProjects are ingested through the real Jira connector from an
// in-process fake Jira Cloud site; the rest of the organisation through the
// CSV connector. PAY and APP carry no explicit team or work_class override
// (Jira has no field for them).
var demoJiraProjects = []string{"PAY", "APP"}

// demoJiraTokenEnv names the variable holding the fake site's token; the
// demo sets it for its own process only.
const demoJiraTokenEnv = "THROUGHLINE_DEMO_JIRA_TOKEN"

// demoJiraSource is the name of the jira source in the demo config.
const demoJiraSource = "demo-jira"

// demoAsanaProject is ingested through the real Asana connector from an
// in-process fake Asana server. HELP maps most faithfully: no milestones,
// epics or explicit overrides (Asana would need milestone tasks, subtasks
// and fields for them), classified operational by project rather than by
// item type (Asana types are Task/Subtask/Milestone), and its discarded
// items become tasks in "Won't Do"/"Duplicate" columns.
const demoAsanaProject = "HELP"

// demoAsanaTokenEnv names the variable holding the fake Asana server's
// token; the demo sets it for its own process only.
const demoAsanaTokenEnv = "THROUGHLINE_DEMO_ASANA_TOKEN"

// demoAsanaSource is the name of the asana source in the demo config.
const demoAsanaSource = "demo-asana"

func runDemo(ctx context.Context, g *globals, args []string) error {
	fs := g.flags("demo")
	listen := fs.String("listen", config.DefaultListen, "address of the web pages, /metrics and the SQL API (written to the demo config as server.listen)")
	dir := fs.String("dir", "throughline-demo", "folder for the demo data, config and warehouse")
	once := fs.Bool("once", false, "ingest, compute, print a summary and exit")
	items := fs.Int("items", 3600, "number of items in the sample organisation")
	if err := g.parse(fs, args); err != nil {
		return err
	}
	// The demo config names THROUGHLINE_SQL_TOKEN as server.sql_token_env.
	if err := checkListen(*listen, "THROUGHLINE_SQL_TOKEN"); err != nil && !*once {
		return err
	}
	start := time.Now()
	d, err := setupDemo(ctx, g, demoSetup{dir: *dir, items: *items, now: start, jira: demoJiraProjects,
		asana: demoAsanaProject, listen: *listen})
	if err != nil {
		return err
	}
	defer d.close()
	p := d.p
	if err := d.sync(ctx); err != nil {
		return err
	}
	snap, err := p.compute(ctx)
	if err != nil {
		return err
	}
	// The pages first: they are what a person opens.
	if *once {
		fmt.Fprintf(g.stdout, "\npages:     http://%s/ while `throughline serve --config %s` runs (plain `demo` serves them)\n\n", *listen, d.cfgPath)
	} else {
		fmt.Fprintf(g.stdout, "\npages:     http://%s/ (portfolio, teams, milestones, capacity, data quality, SQL console)\n\n", *listen)
	}
	if err := printSummary(ctx, g, p, snap, time.Since(start)); err != nil {
		return err
	}
	if err := printSources(ctx, g, p, d); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "\nconfig:    %s\nwarehouse: %s\ntry:       go run ./cmd/throughline sql --config %s \"SELECT * FROM cycle_time_stats WHERE work_class = '*'\"\n",
		d.cfgPath, d.dbPath, d.cfgPath)
	fmt.Fprintf(g.stdout, "           go run ./cmd/throughline forecast --config %s\n           docs/sql-cookbook.md for 19 more queries\n", d.cfgPath)
	if *once {
		return nil
	}
	if d.jira != nil {
		fmt.Fprintf(g.stdout, "fake jira: %s (serves %s while the demo runs; re-synced on the schedule)\n", d.jira.BaseURL(), strings.Join(d.jiraProjects, ", "))
	}
	if d.asana != nil {
		fmt.Fprintf(g.stdout, "fake asana: %s (serves %s as project %s while the demo runs; re-synced on the schedule)\n",
			d.asana.BaseURL(), d.asanaProject, demo.AsanaProjectGID)
	}
	fmt.Fprintf(g.stdout, "metrics:   http://%s/metrics\npages:     http://%s/ (Ctrl-C to stop)\n", *listen, *listen)
	return p.serve(ctx, *listen, false)
}

// demoSetup says how to build a demo.
type demoSetup struct {
	dir    string
	items  int
	now    time.Time
	jira   []string // projects served by the fake Jira; none: CSV only
	asana  string   // the project served by the fake Asana; empty: none
	listen string
}

// demoRun is a demo ready to sync: generated data, running fakes, config,
// warehouse and pipeline. close stops the fakes and closes the warehouse.
type demoRun struct {
	p               *pipeline
	sum             demo.Summary
	cfgPath, dbPath string
	jira            *jiratest.Server
	jiraProjects    []string
	asana           *asanatest.Server
	asanaProject    string
	closers         []func()
}

func (d *demoRun) close() {
	for i := len(d.closers) - 1; i >= 0; i-- {
		d.closers[i]()
	}
}

// setupDemo generates the organisation into a fresh warehouse folder, starts
// the fake Jira site serving its Jira projects and the fake Asana server
// serving its Asana project, writes and loads the config,
// the Prometheus rules and the Grafana dashboards.
func setupDemo(ctx context.Context, g *globals, o demoSetup) (_ *demoRun, err error) {
	abs, err := filepath.Abs(o.dir)
	if err != nil {
		return nil, err
	}
	d := &demoRun{dbPath: filepath.Join(abs, "throughline.duckdb"), cfgPath: filepath.Join(abs, "throughline.yaml"), jiraProjects: o.jira, asanaProject: o.asana}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	dataDir := filepath.Join(abs, "data")
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("demo dir: %w", err)
	}
	// A fresh warehouse every time: the demo is reproducible.
	for _, f := range []string{d.dbPath, d.dbPath + ".wal"} {
		if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
			return nil, fmt.Errorf("reset demo warehouse: %w", err)
		}
	}
	d.sum, err = demo.Generate(dataDir, demo.Options{Now: o.now, Seed: 42, Items: o.items, JiraProjects: o.jira, AsanaProject: o.asana})
	if err != nil {
		return nil, fmt.Errorf("generate demo organisation: %w", err)
	}
	var jira *demo.JiraSource
	if d.sum.Jira != nil {
		token := rand.Text()
		d.jira = jiratest.New(d.sum.Jira, jiratest.Options{Token: token})
		d.closers = append(d.closers, d.jira.Close)
		// For this process only: the connector reads the token from the
		// variable the config names. Never printed.
		if err := os.Setenv(demoJiraTokenEnv, token); err != nil {
			return nil, fmt.Errorf("demo: set $%s: %w", demoJiraTokenEnv, err)
		}
		jira = &demo.JiraSource{BaseURL: d.jira.BaseURL(), Email: jiratest.DefaultEmail, TokenEnv: demoJiraTokenEnv, Projects: o.jira}
	}
	var asana *demo.AsanaSource
	if d.sum.Asana != nil {
		token := rand.Text()
		d.asana = asanatest.NewServer(*d.sum.Asana)
		d.asana.SetToken(token)
		d.closers = append(d.closers, d.asana.Close)
		// As for Jira: this process only, never printed or written.
		if err := os.Setenv(demoAsanaTokenEnv, token); err != nil {
			return nil, fmt.Errorf("demo: set $%s: %w", demoAsanaTokenEnv, err)
		}
		asana = &demo.AsanaSource{BaseURL: d.asana.BaseURL(), TokenEnv: demoAsanaTokenEnv, Project: o.asana}
	}
	if err := os.WriteFile(d.cfgPath, []byte(demo.ConfigSources(dataDir, d.dbPath, demo.Sources{Jira: jira, Asana: asana, Listen: o.listen})), 0o644); err != nil {
		return nil, fmt.Errorf("write demo config: %w", err)
	}
	sum := d.sum
	g.logger.Info("demo organisation written", "dir", abs, "items", sum.Items, "teams", sum.Teams, "projects", sum.Projects,
		"status_changes", sum.StatusChanges, "worklogs", sum.Worklogs, "milestones", sum.Milestones,
		"csv_items", sum.CSV.Items, "jira_items", sum.JiraCounts.Items, "asana_items", sum.AsanaCounts.Items)
	cfg, err := config.Load(d.cfgPath)
	if err != nil {
		return nil, fmt.Errorf("demo config: %w", err)
	}
	cfg.Server.Listen = o.listen
	rules, err := writeMonitoring(abs, cfg)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(g.stdout, "prometheus rules: %s (alerts.yml, recording.yml)\n", filepath.Dir(rules[0]))
	fmt.Fprintf(g.stdout, "grafana dashboards: %s (provisioning/ for Grafana; see deploy/)\n", filepath.Join(abs, dashboards.GrafanaDir))
	db, err := openWarehouse(ctx, cfg, false)
	if err != nil {
		return nil, err
	}
	d.closers = append(d.closers, func() { db.Close() })
	d.p = newPipeline(cfg, db, g.logger)
	return d, nil
}

// sync syncs every source; then it moves the slipped releases of the fake
// Jira site to their current dates and syncs it again, so the connector
// records the move and the milestones keep their baselines.
func (d *demoRun) sync(ctx context.Context) error {
	if err := d.p.syncAll(ctx, "", false); err != nil {
		return err
	}
	if d.jira == nil || len(d.sum.JiraReplans) == 0 {
		return nil
	}
	d.jira.Mutate(func(ds *jiratest.Dataset) { demo.ApplyReplans(ds, d.sum.JiraReplans) })
	return d.p.syncAll(ctx, demoJiraSource, false)
}

// printSources says how many items, status changes and worklogs came
// through each connector.
func printSources(ctx context.Context, g *globals, p *pipeline, d *demoRun) error {
	rows, err := p.db.QueryContext(ctx, `SELECT s.source_id AS source, s.kind AS connector,
			(SELECT count(*) FROM work_items w WHERE w.source_id = s.source_id) AS items,
			(SELECT count(*) FROM status_changes c JOIN work_items w USING (item_id) WHERE w.source_id = s.source_id) AS status_changes,
			(SELECT count(*) FROM worklogs l JOIN work_items w USING (item_id) WHERE w.source_id = s.source_id) AS worklogs
		FROM sources s ORDER BY s.source_id`)
	if err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	defer rows.Close()
	fmt.Fprintln(g.stdout, "\ningested through the real connectors (status changes include each item's creation):")
	return writeRows(g.stdout, rows, "table")
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
