package ui

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// seedForecasting adds to seedMetrics the portfolio forecasts of WEB (2.0
// first in the queue, 1.0 after its 7 items; s = 0.75), a backtest of WEB
// in both models, and what the planner reads: web finishes one project
// item a day over the window (2025-12-12 … 2026-03-11), logged 4 h and 6 h
// on its two finished project items (median 5 h), capacity 35 h a week
// with 30 h and 10 h planned in weeks 0 and 1.
func seedForecasting(t *testing.T) http.Handler {
	t.Helper()
	q, p := seedMetrics(t)
	db := q.(interface {
		Exec(string, ...any) (sql.Result, error)
	})
	for _, s := range []string{
		`UPDATE milestone_forecasts SET model = 'portfolio', forecast_version = 2, milestone_share = 0.75, queue_position = 1, ahead_items = 0`,
		`INSERT INTO milestone_forecasts (milestone_id, computed_at, seed, trials, remaining, p50_date, p70_date, p85_date, p95_date,
			on_time_probability, known, start_date, due_date, window_days, samples, day_percentiles, model, forecast_version, milestone_share, queue_position, ahead_items)
			VALUES ('jira:WEB:1.0', '2026-03-11 12:00:00+00', 1, 100, 6, '2026-03-20', '2026-03-24', '2026-03-27', '2026-03-30', 0.95, true,
			'2026-03-12', '2026-04-01', 90, [1, 0, 2], NULL, 'portfolio', 2, 0.75, 2, 7)`,
		`INSERT INTO forecast_backtest_summary VALUES
			('WEB', 'portfolio', '2025-03-12', 4, 20, 2, 0.5, 0.8333333333, 0.9444444444, 3.5, 1.25, 90, 100, 1, 2, 'h', '2026-03-11 12:00:00+00'),
			('WEB', 'independent', '2025-03-12', 4, 20, 2, 0.4, 0.6111111111, 0.8, 6.0, 5.0, 90, 100, 1, 2, 'h', '2026-03-11 12:00:00+00'),
			('*', 'portfolio', '2025-03-12', 4, 20, 2, 0.5, 0.8333333333, 0.9444444444, 3.5, 1.25, 90, 100, 1, 2, NULL, '2026-03-11 12:00:00+00'),
			('*', 'independent', '2025-03-12', 4, 20, 2, 0.4, 0.6111111111, 0.8, 6.0, 5.0, 90, 100, 1, 2, NULL, '2026-03-11 12:00:00+00')`,
		`INSERT INTO throughput_daily SELECT CAST(d AS DATE), 'web', 'project', 1 FROM range(DATE '2025-12-12', DATE '2026-03-12', INTERVAL 1 DAY) t(d)`,
		`INSERT INTO worklogs (worklog_id, item_id, person_id, started_at, seconds) VALUES
			('w1', 'jira:WEB-1', 'p', '2026-03-03 10:00:00+00', 14400), ('w2', 'jira:WEB-2', 'p', '2026-03-05 10:00:00+00', 21600)`,
		`INSERT INTO planner_weeks SELECT 'web', k, DATE '2026-03-09' + CAST(7 * k AS INTEGER), 35, CASE k WHEN 0 THEN 30 WHEN 1 THEN 10 ELSE 0 END, NULL FROM range(8) t(k)`,
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
	}
	p.Trials, p.Seed = 500, 1
	m, err := Load(context.Background(), q, p)
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Options{Model: func() *Model { return m }, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestForecastModelAndAccuracyOnPages(t *testing.T) {
	h := seedForecasting(t)
	tests := []struct {
		path string
		want []string
	}{
		{"/milestone?id=jira:WEB:1.0", []string{
			`it comes after <a href="/milestone?id=jira%3AWEB%3A2.0">2.0</a> (7 items to finish first: due earlier)`,
			"75% of WEB's completions in the last 90 days were milestone work",
			"P85 dates held 83%</b> of the time (P50 50%, P95 94%; 18 weekly checkpoints of 4 milestones)",
			"off by 3.5 days on average, milestones finishing 1.2 days after them on average (optimistic). The independent model held 61%.",
		}},
		{"/milestone?id=jira:WEB:2.0", []string{"it is first in the queue (the earliest due date)"}},
		{"/", []string{`<tr data-project="WEB"><th scope="row">WEB</th><td class="num">4</td><td class="num">18</td>`,
			`<td class="num" data-metric="p85-hit"><span class="">83%</span></td>`, "late by 1.2 d", `<th scope="row">All projects</th>`,
			"P85 held, independent model", "<td class=\"num\">61%</td>", "Backtest of the portfolio model on your own history", "since 2025-03-12"}},
		{"/milestones", []string{`the forecasts' P85 dates held <b data-metric="p85-hit">83%</b> of the time`}},
		{"/csv/portfolio/accuracy", []string{"project,model,milestones,checkpoints scored,P50 hit rate,P85 hit rate",
			"WEB,portfolio,4,18,0.500,0.833,0.944,3.5,1.2,independent,0.611", "*,portfolio,4,18"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := serve(h, newRequest(tt.path))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
		})
	}
}

func TestPlannerPage(t *testing.T) {
	h := seedForecasting(t)
	t.Run("form only", func(t *testing.T) {
		resp, body := serve(h, newRequest("/plan"))
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<form class="filters plan-form" method="get" action="/plan">`) ||
			!strings.Contains(body, `name="items" min="1" max="100000" step="1" value="40"`) || strings.Contains(body, `id="plan-answer"`) {
			t.Errorf("status %d; want the form with 40 items and no answer:\n%s", resp.StatusCode, body)
		}
	})
	t.Run("answer", func(t *testing.T) {
		// 6 items from Thursday 03-12 at one a day (nothing queued, s = 1):
		// done on Tuesday 03-17, the due date: on time. 6 × 5 h = 30 h over
		// Thu, Fri, Mon, Tue: 15 h in week 0 ((30+15)/35 = 129 %, over) and
		// 15 h in week 1 ((10+15)/35 = 71 %, healthy).
		resp, body := serve(h, newRequest("/plan?items=6&due=2026-03-17"))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		for _, w := range []string{`<tr data-team="web">`, `<td data-metric="p50">2026-03-17</td>`, `<td class="num" data-metric="on-time">100%</td>`,
			`<span class="band band-over-allocated">129% · over-allocated</span> <span class="bad" data-over="true">`,
			`<span class="band band-over-allocated">129%</span> <span class="muted">+15 h</span>`,
			`<span class="band band-healthy">71%</span> <span class="muted">+15 h</span>`,
			`<td class="num">30</td>`, `href="/csv/plan/weeks?due=2026-03-17&amp;items=6"`} {
			if !strings.Contains(body, w) {
				t.Errorf("answer lacks %q", w)
			}
		}
		_, csv := serve(h, newRequest("/csv/plan/weeks?due=2026-03-17&items=6"))
		if !strings.Contains(csv, "web,2026-03-09,35.0,30.0,15.0,1.286,over-allocated\n") || !strings.Contains(csv, "web,2026-03-16,35.0,10.0,15.0,0.714,healthy\n") {
			t.Errorf("weeks CSV:\n%s", csv)
		}
	})
	t.Run("hours", func(t *testing.T) {
		// 28 h at 5 h an item: 6 items (rounded up), 28 h of load.
		_, body := serve(h, newRequest("/plan?hours=28&team=web"))
		if !strings.Contains(body, `<td class="num">6</td>`) || !strings.Contains(body, `<td class="num">28</td>`) {
			t.Errorf("hours answer lacks 6 items and 28 h")
		}
	})
	t.Run("refused", func(t *testing.T) {
		for path, want := range map[string]string{
			"/plan?items=5&hours=3":                         "give the new work as items or as hours",
			"/plan?items=abc":                               `items &#34;abc&#34;: want a whole number of items above 0`,
			"/plan?items=5&due=2026-02-30":                  "due &#34;2026-02-30&#34;: want a date like",
			"/plan?items=5&due=%3Cscript%3Ex":               "due &#34;&lt;script&gt;x&#34;",
			"/plan?items=5&team=ghost&due=":                 "", // an unknown team is ignored by the form: every team
			"/plan?items=5&start=2026-04-01&due=2026-03-20": "due 2026-03-20 is before the start 2026-04-01",
		} {
			resp, body := serve(h, newRequest(path))
			if want == "" {
				if resp.StatusCode != http.StatusOK {
					t.Errorf("%s: %d", path, resp.StatusCode)
				}
				continue
			}
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, want) || strings.Contains(body, "<script>x") {
				t.Errorf("%s: %d, want 400 with %q", path, resp.StatusCode, want)
			}
		}
		// Only GET: a POST to the page is not a way in (the catch-all's 404).
		resp, body := serve(h, httptest.NewRequest("POST", "/plan?items=5", strings.NewReader("items=5")))
		if resp.StatusCode != http.StatusNotFound || strings.Contains(body, `id="plan-answer"`) {
			t.Errorf("POST /plan: %d, want 404 without an answer", resp.StatusCode)
		}
	})
}
