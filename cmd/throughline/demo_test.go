package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/throughline/throughline/internal/demo"
)

// The demo ingests PAY and APP through the real Jira connector from the
// in-process fake site, HELP through the real Asana connector from the
// in-process fake Asana server, and the rest through the CSV connector:
// every item, status change and worklog the generator made arrives exactly
// once, through the source that carries its project.
func TestDemoIngestsThroughJiraAsanaAndCSV(t *testing.T) {
	ctx := context.Background()
	g := &globals{stdout: io.Discard, stderr: io.Discard, logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	now := time.Date(2026, 11, 20, 14, 30, 0, 0, time.UTC)
	d, err := setupDemo(ctx, g, demoSetup{dir: filepath.Join(t.TempDir(), "demo"), items: 800, now: now,
		jira: demoJiraProjects, asana: demoAsanaProject, listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	if err := d.sync(ctx); err != nil {
		t.Fatal(err)
	}
	// A scheduled re-sync (plain demo) follows the fake Asana's events and
	// changes nothing.
	if err := d.p.syncAll(ctx, demoAsanaSource, false); err != nil {
		t.Fatal(err)
	}
	sum := d.sum
	if sum.JiraCounts.Items == 0 || sum.CSV.Items == 0 || sum.JiraCounts.Worklogs == 0 || len(sum.JiraReplans) == 0 ||
		sum.AsanaCounts.Items == 0 || sum.AsanaCounts.StatusChanges == 0 || sum.AsanaCounts.Worklogs == 0 {
		t.Fatalf("generator split: %+v", sum)
	}
	// The CSV-only organisation (same seed and size) is what the three
	// sources share out between them.
	csvOnly, err := demo.Generate(t.TempDir(), demo.Options{Now: now, Seed: 42, Items: 800})
	if err != nil {
		t.Fatal(err)
	}
	total := csvOnly.CSV
	if sum.CSV.Items+sum.JiraCounts.Items+sum.AsanaCounts.Items != total.Items ||
		sum.CSV.StatusChanges+sum.JiraCounts.StatusChanges+sum.AsanaCounts.StatusChanges != total.StatusChanges ||
		sum.CSV.Worklogs+sum.JiraCounts.Worklogs+sum.AsanaCounts.Worklogs != total.Worklogs ||
		sum.CSV.Milestones+sum.JiraCounts.Milestones+sum.AsanaCounts.Milestones != total.Milestones || total.Items != sum.Items {
		t.Errorf("per-source counts do not add up to the CSV-only totals %+v: %+v", total, sum)
	}
	want := map[string]demo.Counts{"demo-csv": sum.CSV, demoJiraSource: sum.JiraCounts, demoAsanaSource: sum.AsanaCounts}
	rows, err := d.p.db.QueryContext(ctx, `SELECT s.source_id,
			(SELECT count(*) FROM work_items w WHERE w.source_id = s.source_id),
			(SELECT count(*) FROM status_changes c JOIN work_items w USING (item_id) WHERE w.source_id = s.source_id),
			(SELECT count(*) FROM worklogs l JOIN work_items w USING (item_id) WHERE w.source_id = s.source_id),
			(SELECT count(*) FROM milestones m JOIN projects p USING (project_id) WHERE p.source_id = s.source_id)
		FROM sources s ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]demo.Counts{}
	var all demo.Counts
	for rows.Next() {
		var src string
		var c demo.Counts
		if err := rows.Scan(&src, &c.Items, &c.StatusChanges, &c.Worklogs, &c.Milestones); err != nil {
			t.Fatal(err)
		}
		c.StatusChanges -= c.Items // each item's creation transition
		got[src] = c
		all.Items, all.StatusChanges, all.Worklogs, all.Milestones = all.Items+c.Items, all.StatusChanges+c.StatusChanges,
			all.Worklogs+c.Worklogs, all.Milestones+c.Milestones
	}
	rows.Close()
	if all != total {
		t.Errorf("warehouse holds %+v over all sources, the CSV-only organisation %+v", all, total)
	}
	for src, w := range want {
		if got[src] != w {
			t.Errorf("%s: warehouse holds %+v, generator made %+v", src, got[src], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("sources %v, want %v", got, want)
	}

	// Every source synced without a failure; the fake site's data came
	// through the Jira connector (issue keys, emails, baselines), the fake
	// Asana's through the Asana connector (project gid, emails).
	var ok, failed, sources int
	if err := d.p.db.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE status = 'ok'), count(*) FILTER (WHERE status <> 'ok'),
		count(DISTINCT source_id) FILTER (WHERE status = 'ok') FROM sync_runs`).Scan(&ok, &failed, &sources); err != nil {
		t.Fatal(err)
	}
	if failed != 0 || sources != len(want) {
		t.Errorf("sync_runs: %d ok over %d sources, %d failed; want every one of %d sources ok", ok, sources, failed, len(want))
	}
	var projects string
	if err := d.p.db.QueryRowContext(ctx, `SELECT string_agg(DISTINCT p.key, ',' ORDER BY p.key) FROM work_items w
		JOIN projects p USING (project_id) WHERE w.source_id = ?`, demoJiraSource).Scan(&projects); err != nil || projects != strings.Join([]string{"APP", "PAY"}, ",") {
		t.Errorf("jira projects %q, %v", projects, err)
	}
	// (Team and work class by the project gid: TestDemoAsanaKeepsTheMetrics.)
	var asanaProject, asanaTypes string
	if err := d.p.db.QueryRowContext(ctx, `SELECT string_agg(DISTINCT p.key, ','), string_agg(DISTINCT w.item_type, ',') FROM work_items w
		JOIN projects p USING (project_id) WHERE w.source_id = ?`, demoAsanaSource).Scan(&asanaProject, &asanaTypes); err != nil ||
		asanaProject != demo.AsanaProjectGID || asanaTypes != "Task" {
		t.Errorf("asana project %q, item types %q, %v", asanaProject, asanaTypes, err)
	}
	// Asana people are the CSV people: one person per email.
	var dupEmails int
	if err := d.p.db.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT lower(email) FROM people WHERE email <> ''
		GROUP BY 1 HAVING count(*) > 1)`).Scan(&dupEmails); err != nil || dupEmails != 0 {
		t.Errorf("emails held by more than one person: %d, %v", dupEmails, err)
	}
	var unmatched int
	if err := d.p.db.QueryRowContext(ctx, `SELECT count(*) FROM worklogs l JOIN people p ON p.person_id = l.person_id
		WHERE p.team_id IS NULL AND p.email <> 'rafael.costa@example.com'`).Scan(&unmatched); err != nil || unmatched != 0 {
		t.Errorf("worklogs of people matched to no team: %d, %v", unmatched, err)
	}
	// Slipped releases keep their baselines: served with it first, moved after the first sync.
	var slipped int
	if err := d.p.db.QueryRowContext(ctx, `SELECT count(*) FROM milestones m JOIN projects p USING (project_id)
		WHERE p.source_id = ? AND m.baseline_due_date < m.due_date`, demoJiraSource).Scan(&slipped); err != nil || slipped != len(sum.JiraReplans) {
		t.Errorf("jira milestones with a baseline before the due date: %d (%v), want %d", slipped, err, len(sum.JiraReplans))
	}
	// Release the warehouse (the fake keeps running) for the one-shot command.
	d.closers[len(d.closers)-1]()
	d.closers = d.closers[:len(d.closers)-1]

	// The written config validates: it names the token variable, not the token.
	cfg, err := os.ReadFile(d.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range []string{demoJiraTokenEnv, demoAsanaTokenEnv} {
		if tok := os.Getenv(env); !strings.Contains(string(cfg), "token_env: "+env) || tok == "" || strings.Contains(string(cfg), tok) {
			t.Errorf("config does not name $%s or holds its token:\n%s", env, cfg)
		}
	}
	if code, out, errs := runCmd(t, "check", "--config", d.cfgPath); code != 0 || !strings.Contains(out, "3 sources") {
		t.Errorf("check exit %d:\n%s\n%s", code, out, errs)
	}
}

// HELP through the Asana connector gives the metrics HELP through the CSV
// connector gives: same flow (stages, starts, finishes, discards, reopens,
// cycle times), throughput, WIP, logged hours and capacity.
func TestDemoAsanaKeepsTheMetrics(t *testing.T) {
	ctx := context.Background()
	g := &globals{stdout: io.Discard, stderr: io.Discard, logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	now := time.Date(2026, 11, 20, 14, 30, 0, 0, time.UTC)
	queries := []string{
		`SELECT team, work_class, stage, count(*), count(started_at), count(finished_at), count(*) FILTER (WHERE discarded),
			sum(reopen_count), count(*) FILTER (WHERE skipped_start), sum(cycle_seconds), sum(lead_seconds), sum(age_days),
			sum(active_seconds), sum(wait_seconds), sum(starts), sum(done_entries) FROM item_flow GROUP BY ALL ORDER BY ALL`,
		`SELECT * FROM cycle_time_stats ORDER BY ALL`,
		`SELECT * FROM throughput_weekly ORDER BY ALL`,
		`SELECT p.email, CAST(l.started_at AS DATE), sum(l.seconds) FROM worklogs l JOIN people p USING (person_id) GROUP BY ALL ORDER BY ALL`,
		`SELECT * FROM capacity_outlook ORDER BY ALL`,
		`SELECT * FROM project_capacity ORDER BY ALL`,
		// By project and item type they differ (gid, Task): by team and class not.
		`SELECT team, work_class, sum(created), sum(started), sum(completed), sum(reopened), sum(discarded) FROM flow_counters
			GROUP BY ALL ORDER BY ALL`,
		`SELECT "check", sum(items) FROM data_quality GROUP BY ALL ORDER BY ALL`,
	}
	results := func(asana string) []string {
		d, err := setupDemo(ctx, g, demoSetup{dir: filepath.Join(t.TempDir(), "demo"), items: 800, now: now,
			jira: demoJiraProjects, asana: asana, listen: "127.0.0.1:0"})
		if err != nil {
			t.Fatal(err)
		}
		defer d.close()
		d.p.now = func() time.Time { return now }
		if err := d.sync(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := d.p.compute(ctx); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, q := range queries {
			var b strings.Builder
			rows, err := d.p.db.QueryContext(ctx, q)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			if err := writeRows(&b, rows, "csv"); err != nil {
				t.Fatal(err)
			}
			rows.Close()
			out = append(out, b.String())
		}
		return out
	}
	csv, asana := results(""), results(demoAsanaProject)
	for i, q := range queries {
		if csv[i] != asana[i] {
			t.Errorf("%s\nHELP via CSV:\n%s\nHELP via Asana:\n%s", q, csv[i], asana[i])
		}
	}
}
