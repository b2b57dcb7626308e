package ui

import (
	"context"
	"github.com/throughline/throughline/dashboards"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/throughline/throughline/warehouse/warehousetest"
)

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// seedMetrics writes a small, hand-made set of metric tables: team web
// (WIP limit 1, SLE 10) with two finished items in the window and one
// before it, one open item past its SLE, two milestones and a week of
// capacity over the limit. Now is Wednesday 2026-03-11: this week starts
// 2026-03-09, the last complete week 2026-03-02.
func seedMetrics(t *testing.T) (Querier, Params) {
	t.Helper()
	db := warehousetest.Open(t, "")
	for _, s := range []string{
		`INSERT INTO sources (source_id, kind, name, base_url) VALUES ('jira', 'jira', 'jira', 'https://acme.atlassian.net'), ('csv', 'csv', 'csv', '/data')`,
		`INSERT INTO teams (team_id, name, wip_limit, sle_days, hours_per_week) VALUES ('web', 'web', 1, 10, 35)`,
		`INSERT INTO cycle_time_stats (team, work_class, window_days, items, p50_days, p70_days, p85_days, p95_days, sle_days, sle_attainment)
			VALUES ('web', '*', 90, 2, 3, 4, 9, 9, 10, 1.0), ('web', 'project', 90, 2, 3, 4, 9, 9, 10, 1.0), ('*', '*', 90, 2, 3, 4, 9, 9, 10, 1.0)`,
		`INSERT INTO throughput_weekly VALUES ('2026-03-02', 'web', 'project', 4), ('2026-03-02', 'web', 'operational', 1),
			('2026-03-09', 'web', 'project', 9), ('2025-09-01', 'web', 'project', 7), ('2025-09-08', 'web', 'project', 2)`,
		`INSERT INTO work_items (item_id, source_id, key, project_id, title, deleted) VALUES
			('jira:WEB-1', 'jira', 'WEB-1', 'jira:WEB', '<script>alert(1)</script>', false),
			('jira:WEB-2', 'jira', 'WEB-2', 'jira:WEB', 'Second', false),
			('csv:OLD-1', 'csv', 'OLD-1', 'csv:OLD', 'Old', false),
			('csv:OPS-1', 'csv', 'OPS-1', 'csv:OPS', 'Open & old', false)`,
		`INSERT INTO item_flow (item_id, key, source, team, work_class, item_type, project, status, stage, started_at, finished_at,
			flow_days, reopen_count, skipped_start, discarded, completed, start_day, finish_day, starts, done_entries) VALUES
			('jira:WEB-1', 'WEB-1', 'jira', 'web', 'project', 'Story', 'WEB', 'Done', 'done', '2026-03-02 09:00:00+00', '2026-03-04 09:00:00+00', 3, 0, false, false, true, '2026-03-02', '2026-03-04', 1, 1),
			('jira:WEB-2', 'WEB-2', 'jira', 'web', 'project', 'Bug', 'WEB', 'Done', 'done', '2026-02-28 09:00:00+00', '2026-03-08 09:00:00+00', 9, 0, false, false, true, '2026-02-28', '2026-03-08', 1, 1),
			('csv:OLD-1', 'OLD-1', 'csv', 'web', 'project', 'Story', 'OLD', 'Done', 'done', '2025-01-01 09:00:00+00', '2025-01-05 09:00:00+00', 5, 0, false, false, true, '2025-01-01', '2025-01-05', 1, 1),
			('csv:OPS-1', 'OPS-1', 'csv', 'web', 'operational', 'Task', 'OPS', 'In Progress', 'started', '2026-02-20 09:00:00+00', NULL, NULL, 0, false, false, false, '2026-02-20', NULL, 1, 0)`,
		`INSERT INTO aging_wip VALUES ('csv:OPS-1', 'OPS-1', 'web', 'operational', 'In Progress', 'active', '2026-02-20 09:00:00+00', 20, 10, true)`,
		`INSERT INTO milestone_status (milestone_id, name, project, due_date, baseline_due_date, due_date_changes, scope, completed, remaining,
			status, slip_days, baseline_variance_days, on_time_probability, p50_date, p85_date) VALUES
			('jira:WEB:1.0', '1.0', 'WEB', '2026-04-01', '2026-03-20', 1, 10, 4, 6, 'on_track', -5, 12, 0.95, '2026-03-20', '2026-03-27'),
			('jira:WEB:2.0', '2.0', 'WEB', '2026-03-25', '2026-03-25', 0, 8, 1, 7, 'at_risk', 4, 0, 0.40, '2026-03-24', '2026-03-29')`,
		`INSERT INTO milestone_forecasts (milestone_id, computed_at, seed, trials, remaining, p50_date, p70_date, p85_date, p95_date,
			on_time_probability, known, start_date, due_date, window_days, samples, day_percentiles) VALUES
			('jira:WEB:2.0', '2026-03-11 12:00:00+00', 1, 100, 7, '2026-03-24', '2026-03-26', '2026-03-29', '2026-04-02', 0.40, true,
			 '2026-03-12', '2026-03-25', 90, [1, 0, 2], list_transform(range(1, 101), x -> CAST(CASE WHEN x <= 50 THEN 13 ELSE 18 END AS INTEGER)))`,
		`INSERT INTO milestone_due_changes VALUES ('jira:WEB:1.0', '2026-03-01 10:00:00+00', '2026-03-20', '2026-04-01', 'history')`,
		`INSERT INTO capacity_outlook VALUES ('web', 0, '2026-03-09', 35, 30, 10, 2, 1.2), ('web', 1, '2026-03-16', 35, 10, 5, 0, 0.43)`,
		`INSERT INTO utilization_weekly (week_start, team, capacity_hours, logged_hours, logged_utilization, planned_hours, allocation_ratio) VALUES
			('2026-03-02', 'web', 35, 28, 0.8, NULL, NULL), ('2026-03-09', 'web', 35, 7, 0.2, 42, 1.2), ('2026-03-16', 'web', 35, 0, 0, 15, 0.43)`,
		`INSERT INTO project_capacity VALUES ('web', 4, 140, 6, 40, 76)`,
		`INSERT INTO sync_runs (run_id, source_id, started_at, finished_at, status, items, error) VALUES
			(1, 'jira', '2026-03-11 11:00:00+00', '2026-03-11 11:01:00+00', 'ok', 3, NULL),
			(2, 'jira', '2026-03-11 11:30:00+00', '2026-03-11 11:30:05+00', 'failed', 0, 'jira: 401 Unauthorized')`,
		`INSERT INTO job_runs VALUES ('compute', '2026-03-11 11:59:00+00', '2026-03-11 11:59:30+00', 'ok', NULL)`,
		`INSERT INTO ingest_problems (source_id, file, line, column_name, item_key, reason, observed_at) VALUES
			('csv', 'items.csv', 7, 'created_at', 'OPS-9', 'created_at "yesterday": not a time', '2026-03-11 11:00:00+00')`,
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
	}
	return db, Params{Now: time.Date(2026, 3, 11, 12, 0, 0, 0, time.UTC), WindowDays: 90,
		Sources: []Source{{Name: "jira", Kind: "jira", BaseURL: "https://acme.atlassian.net"}, {Name: "csv", Kind: "csv"}},
		Firing: []dashboards.Firing{
			{Alert: "ThroughlineTeamOverallocated", Team: "web", Value: 1.25, Threshold: 1},
			{Alert: "ThroughlineWorkAgingPastSLE", Team: "web", WorkClass: "operational", Value: 0.5, Threshold: 0.25},
			{Alert: "ThroughlineMilestoneAtRisk", Team: "web", Project: "WEB", Milestone: "2.0", Status: "at_risk", Value: 0.4, Threshold: 0.85},
		}}
}

func TestLoad(t *testing.T) {
	q, p := seedMetrics(t)
	m, err := Load(context.Background(), q, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Teams) != 1 {
		t.Fatalf("teams %v", teamNames(m))
	}
	web := m.Team("web")
	t.Run("team figures", func(t *testing.T) {
		got := struct {
			WIPLimit, WIP, P85, SLE, FinishedTotal, AgingTotal, OverSLE int
			Allocation, Logged, Available                               float64
		}{web.WIPLimit, web.WIPTotal(), web.Cycle["*"].P85, web.Cycle["*"].SLE, web.FinishedTotal, web.AgingTotal, web.OverSLE,
			web.Allocation, web.Logged, web.Available}
		want := struct {
			WIPLimit, WIP, P85, SLE, FinishedTotal, AgingTotal, OverSLE int
			Allocation, Logged, Available                               float64
		}{1, 1, 9, 10, 2, 1, 1, 1.2, 0.8, 76}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("complete weeks only", func(t *testing.T) {
		// The 26 complete weeks are 2025-09-08 … 2026-03-02: the current week
		// (2026-03-09) and 2025-09-01 are left out.
		want := []WeekCount{{date("2025-09-08"), "project", 2}, {date("2026-03-02"), "operational", 1}, {date("2026-03-02"), "project", 4}}
		if diff := cmp.Diff(want, web.Weekly); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		s := summarize(m, web)
		if s.LastWeek != 5 || len(s.Counts) != ThroughputWeeks || s.Weeks[ThroughputWeeks-1] != date("2026-03-02") {
			t.Errorf("summary: last week %d, %d weeks ending %s", s.LastWeek, len(s.Counts), s.Weeks[len(s.Weeks)-1])
		}
	})
	t.Run("finished items of the window, newest first, with links", func(t *testing.T) {
		var got [][3]string
		for _, it := range web.Finished {
			got = append(got, [3]string{it.Key, it.Title, it.URL})
		}
		want := [][3]string{{"WEB-2", "Second", "https://acme.atlassian.net/browse/WEB-2"},
			{"WEB-1", "<script>alert(1)</script>", "https://acme.atlassian.net/browse/WEB-1"}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("aging", func(t *testing.T) {
		want := []Item{{Key: "OPS-1", Title: "Open & old", Project: "OPS", WorkClass: "operational", ItemType: "Task", Status: "In Progress",
			StageClass: "active", Started: time.Date(2026, 2, 20, 9, 0, 0, 0, time.UTC), Days: 20, OverSLE: true, SLE: 10}}
		got := web.Aging
		for i := range got {
			got[i].Started = got[i].Started.UTC()
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("milestones worst first with the forecast distribution", func(t *testing.T) {
		if len(m.Milestones) != 2 || m.Milestones[0].ID != "jira:WEB:2.0" || m.Milestones[1].ID != "jira:WEB:1.0" {
			t.Fatalf("order: %v, %v", m.Milestones[0].ID, m.Milestones[1].ID)
		}
		ms := m.Milestones[0]
		if len(ms.Percentiles) != 100 || ms.Percentiles[0] != 13 || ms.Percentiles[99] != 18 || ms.P85 != date("2026-03-29") || ms.OnTime != 0.4 {
			t.Errorf("forecast: %+v", ms)
		}
		if h := m.Milestones[1].DueHistory; len(h) != 1 || h[0].New != date("2026-04-01") || h[0].Origin != "history" {
			t.Errorf("due history %+v", h)
		}
	})
	t.Run("alerts", func(t *testing.T) {
		// The firing planning alerts of the params, as the list shows them,
		// then the source whose last sync failed.
		var got []string
		for _, a := range m.Alerts {
			got = append(got, a.Name+" | "+a.Subject+" | "+a.Link+" | "+a.Detail)
		}
		want := []string{
			"ThroughlineTeamOverallocated | web | /capacity | planned load over the next 5 working days is 125% of capacity (threshold 100%)",
			"ThroughlineWorkAgingPastSLE | web · operational | /team?class=operational&team=web#aging | 50% of the open operational items are older than the SLE (threshold 25%)",
			"ThroughlineMilestoneAtRisk | WEB · 2.0 | /milestone?id=jira%3AWEB%3A2.0 | 40% of forecast trials finish by the due date (threshold 85%); status " + statusLabel("at_risk"),
			"ThroughlineSyncFailing | jira | /quality#syncs | the last sync failed: jira: 401 Unauthorized",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("runs and freshness", func(t *testing.T) {
		if !m.ComputedAt.Equal(time.Date(2026, 3, 11, 11, 59, 30, 0, time.UTC)) {
			t.Errorf("computed at %s, want the end of the last ok compute", m.ComputedAt)
		}
		var jira SourceStatus
		for _, s := range m.Sources {
			if s.Name == "jira" {
				jira = s
			}
		}
		if jira.Last.Status != "failed" || !jira.LastOK.Equal(time.Date(2026, 3, 11, 11, 1, 0, 0, time.UTC)) {
			t.Errorf("jira source %+v", jira)
		}
		if m.ProblemsTotal != 1 || m.Problems[0].Line != 7 || m.Problems[0].Column != "created_at" {
			t.Errorf("problems %d %+v", m.ProblemsTotal, m.Problems)
		}
	})
	t.Run("schema with comments", func(t *testing.T) {
		var flow *Table
		for i := range m.Schema {
			if m.Schema[i].Name == "item_flow" {
				flow = &m.Schema[i]
			}
			if m.Schema[i].Name == "schema_migrations" {
				t.Error("schema_migrations listed")
			}
		}
		if flow == nil || flow.Comment == "" || len(flow.Columns) < 20 || flow.Columns[0].Name != "item_id" || flow.Columns[0].Comment != "Item id." {
			t.Errorf("item_flow: %+v", flow)
		}
	})
}

func TestMilestoneDistribution(t *testing.T) {
	q, p := seedMetrics(t)
	m, err := Load(context.Background(), q, p)
	if err != nil {
		t.Fatal(err)
	}
	pg, status := buildMilestone(m, newRequest("/milestone?id=jira:WEB:2.0"))
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	// Percentiles 1–50 at day 13 (2026-03-24), 51–100 at day 18 (2026-03-29).
	want := [][]string{{"2026-03-24", "0.50", "0.50"}, {"2026-03-29", "0.50", "1.00"}}
	if diff := cmp.Diff(want, pg.Tables["distribution"].Rows); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
