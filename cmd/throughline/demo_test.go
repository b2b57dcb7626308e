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
// in-process fake site and the rest through the CSV connector: every item,
// status change and worklog the generator made arrives exactly once, through
// the source that carries its project.
func TestDemoIngestsThroughJiraAndCSV(t *testing.T) {
	ctx := context.Background()
	g := &globals{stdout: io.Discard, stderr: io.Discard, logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	now := time.Date(2026, 11, 20, 14, 30, 0, 0, time.UTC)
	d, err := setupDemo(ctx, g, demoSetup{dir: filepath.Join(t.TempDir(), "demo"), items: 800, now: now,
		jira: demoJiraProjects, listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	if err := d.sync(ctx); err != nil {
		t.Fatal(err)
	}
	sum := d.sum
	if sum.JiraCounts.Items == 0 || sum.CSV.Items == 0 || sum.JiraCounts.Worklogs == 0 || len(sum.JiraReplans) == 0 {
		t.Fatalf("generator split: %+v", sum)
	}
	if sum.CSV.Items+sum.JiraCounts.Items != sum.Items || sum.CSV.StatusChanges+sum.JiraCounts.StatusChanges != sum.StatusChanges ||
		sum.CSV.Worklogs+sum.JiraCounts.Worklogs != sum.Worklogs || sum.CSV.Milestones+sum.JiraCounts.Milestones != sum.Milestones {
		t.Errorf("per-source counts do not add up to the totals: %+v", sum)
	}
	want := map[string]demo.Counts{"demo-csv": sum.CSV, demoJiraSource: sum.JiraCounts}
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
	for rows.Next() {
		var src string
		var c demo.Counts
		if err := rows.Scan(&src, &c.Items, &c.StatusChanges, &c.Worklogs, &c.Milestones); err != nil {
			t.Fatal(err)
		}
		c.StatusChanges -= c.Items // each item's creation transition
		got[src] = c
	}
	rows.Close()
	for src, w := range want {
		if got[src] != w {
			t.Errorf("%s: warehouse holds %+v, generator made %+v", src, got[src], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("sources %v, want %v", got, want)
	}

	// Every source synced without a failure; the fake site's data came
	// through the Jira connector (issue keys, emails, baselines).
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
	if !strings.Contains(string(cfg), "token_env: "+demoJiraTokenEnv) || strings.Contains(string(cfg), os.Getenv(demoJiraTokenEnv)) {
		t.Errorf("config does not name the token variable or holds the token:\n%s", cfg)
	}
	if code, out, errs := runCmd(t, "check", "--config", d.cfgPath); code != 0 || !strings.Contains(out, "2 sources") {
		t.Errorf("check exit %d:\n%s\n%s", code, out, errs)
	}
}
