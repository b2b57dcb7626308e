package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/throughline/throughline/docs"
	"github.com/throughline/throughline/internal/config"
)

// parseCookbook reads the cookbook the SQL console shows (docs.ParseCookbook)
// and fails when a block would be dropped: one before any ## heading, or
// left open.
func parseCookbook(t *testing.T, path string) []docs.Query {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	qs := docs.ParseCookbook(string(b))
	blocks := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "```sql" {
			blocks++
		}
	}
	if blocks != len(qs) {
		t.Fatalf("%s: %d sql blocks, %d under a ## heading and closed", path, blocks, len(qs))
	}
	return qs
}

func TestCookbookQueriesRunOnTheDemo(t *testing.T) {
	qs := parseCookbook(t, filepath.Join("..", "..", "docs", "sql-cookbook.md"))
	if len(qs) < 15 {
		t.Errorf("cookbook has %d queries, want 15 or more", len(qs))
	}
	dir := filepath.Join(t.TempDir(), "demo")
	code, out, errs := runCmd(t, "demo", "--once", "--dir", dir, "--items", "800", "--listen", "127.0.0.1:18999", "--log-level", "warn")
	if code != 0 {
		t.Fatalf("demo --once exit %d\n%s\n%s", code, out, errs)
	}
	// The summary starts with the pages' address, the one the config names.
	if p, s := strings.Index(out, "pages:     http://127.0.0.1:18999/"), strings.Index(out, "Throughline demo:"); p < 0 || s < 0 || p > s {
		t.Errorf("the demo summary does not start with the pages' address:\n%s", out)
	}
	// Through the same path as `throughline sql` on the file: locked down and guarded.
	cfg, err := loadConfig(filepath.Join(dir, "throughline.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Listen != "127.0.0.1:18999" {
		t.Errorf("demo --listen 127.0.0.1:18999 wrote server.listen %q", cfg.Server.Listen)
	}
	seen := map[string]bool{}
	for _, q := range qs {
		if seen[q.Heading] {
			t.Errorf("two queries under %q: one per heading", q.Heading)
		}
		seen[q.Heading] = true
		res, err := queryFile(context.Background(), cfg, q.SQL)
		if err != nil {
			t.Errorf("cookbook %q: %v", q.Heading, err)
		} else if res.RowCount == 0 {
			t.Errorf("cookbook %q: no rows on the demo", q.Heading)
		}
	}
}

// TestCookbookAnswersOnAFixture runs every cookbook query, as `throughline
// sql` runs it on a file, over the fixture of cookbook_fixture_test.go and
// compares its whole answer, row by row in the query's order, with the one
// worked out by hand in cookbookWant.
func TestCookbookAnswersOnAFixture(t *testing.T) {
	qs := parseCookbook(t, filepath.Join("..", "..", "docs", "sql-cookbook.md"))
	var c fxCal
	var got map[string][][]string
	// The queries read current_date: should the week turn (Sunday to Monday
	// in Tokyo) while the test runs, build again in the new week.
	for range 2 {
		c = newFxCal(t, time.Now())
		cfg := buildCookbookWarehouse(t, c)
		got = map[string][][]string{}
		for _, q := range qs {
			res, err := queryFile(context.Background(), cfg, q.SQL)
			if err != nil {
				t.Fatalf("cookbook %q: %v", q.Heading, err)
			}
			if res.Truncated {
				t.Errorf("cookbook %q: truncated", q.Heading)
			}
			got[q.Heading] = cookbookCells(res.Rows)
		}
		if newFxCal(t, time.Now()).t.Equal(c.t) {
			break
		}
	}
	t.Logf("fixture today T = %s (%s)", c.day(0), cookbookZone)
	want := cookbookWant(c)
	for _, q := range qs {
		w, ok := want[q.Heading]
		if !ok {
			t.Errorf("cookbook %q has no expected answer in cookbookWant: work it out by hand on the fixture and add it", q.Heading)
			continue
		}
		if d := cmp.Diff(w, got[q.Heading]); d != "" {
			t.Errorf("cookbook %q on the fixture (-want +got):\n%s", q.Heading, d)
		}
	}
	for h := range want {
		if _, ok := got[h]; !ok {
			t.Errorf("cookbookWant has %q, which is no longer a cookbook heading", h)
		}
	}
}

// buildCookbookWarehouse syncs and computes the fixture as of T-1 12:00, then
// again as of T 12:00 (a failed sync of legacy at 11:30 between), with the
// pipeline's clock; it returns the config of the closed warehouse.
func buildCookbookWarehouse(t *testing.T, c fxCal) *config.Config {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	writeCookbookFixture(t, dir, c, c.at("-1 12:00"), false)
	cfg, err := loadConfig(filepath.Join(dir, "throughline.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := openWarehouse(ctx, cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p := newPipeline(cfg, db, slog.New(slog.DiscardHandler))
	p.progress = false
	clock := func(at string) { p.now = func() time.Time { return c.at(at) } }

	clock("-1 12:00")
	if err := p.syncAll(ctx, "main", false); err != nil {
		t.Fatal(err)
	}
	if _, err := p.compute(ctx); err != nil {
		t.Fatal(err)
	}
	writeCookbookFixture(t, dir, c, c.at("0 12:00"), true)
	clock("0 11:00")
	if err := p.syncAll(ctx, "main", false); err != nil {
		t.Fatal(err)
	}
	clock("0 11:30")
	if err := p.syncAll(ctx, "legacy", false); err == nil {
		t.Fatal("the sync of legacy (items.csv without created_at) succeeded")
	}
	clock("0 12:00")
	if _, err := p.compute(ctx); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// cookbookCells writes a result's values as the expectations do: NULL,
// numbers in their shortest form (60, 0.83), the rest as `throughline sql
// --format csv` prints it.
func cookbookCells(rows [][]any) [][]string {
	out := make([][]string, 0, len(rows))
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, v := range r {
			switch x := v.(type) {
			case nil:
				cells[i] = "NULL"
			case json.Number:
				f, err := strconv.ParseFloat(x.String(), 64)
				if err != nil {
					cells[i] = x.String()
				} else {
					cells[i] = strconv.FormatFloat(f, 'f', -1, 64)
				}
			default:
				cells[i] = fmt.Sprint(x)
			}
		}
		out = append(out, cells)
	}
	return out
}

// cookbookWant is every cookbook query's answer on the fixture, worked out
// from docs/metrics.md and the fixture's files. Notation: d(k) is the date
// T+k, W-k the ISO week starting T-2-7k, "a → b" the time from a to b.
func cookbookWant(c fxCal) map[string][][]string {
	d := c.day
	r := func(cells ...any) []string {
		out := make([]string, len(cells))
		for i, v := range cells {
			out[i] = fmt.Sprint(v)
		}
		return out
	}
	const null = "NULL"
	return map[string][][]string{
		// Completed, not discarded, by the month of F, for every month from
		// the first creation (D1, T-110) to T and every team with items.
		"Throughput by team and month": cookbookMonths(c, -110, map[string][]int{
			"data":       {-50},
			"ops":        {-100, -46, -30, -24, -11, -2},
			"unassigned": {-43},
			"web":        {-20, -15, -7, -6, -5, -4, -3, -2, -1, 0},
		}),

		// Every completion but O1 (T-100: before current_date - 90 on any
		// weekday) and O9 (discarded): 17 rows, no cut at 20. days = flow_days = date(F) - date(S) + 1;
		// for a skipped start, the calendar days created → finished.
		// wait_days: time In Review between S and F (0 for a started item that
		// never waited; none without a start). flow_efficiency = active ÷
		// (active + wait). false_starts: started → todo moves.
		"Slowest items of the last 90 days, and why": {
			r("D1", "data", "project", "Story", 56, false, 0, 0, 1, false, 0),          // S T-105, F T-50
			r("B1", "web", "project", "Story", 11, false, 0, 0, 1, false, 0),           // T-30 → T-20
			r("A-5", "web", "project", "Story", 8, false, 1, 0, 1, false, 0),           // S T-12 kept through the reopen, F T-5
			r("O2", "ops", "operational", "Incident", 5, true, 0, null, null, true, 1), // the false start clears S, done without a new one: T-50 → T-46
			r("A-3", "web", "project", "Story", 4, false, 0, 1, 0.67, false, 0),        // 2 days active, 1 in review: 2/3
			r("O3", "ops", "operational", "Incident", 4, false, 0, 0, 1, false, 1),     // started again after its false start: T-33 → T-30
			r("A-6", "web", "project", "Story", 3, false, 0, 1, 0.5, false, 0),         // 1 day active, 1 in review
			r("A-7", "web", "project", "Story", 3, false, 0, 0, 1, false, 0),
			r("O4", "ops", "operational", "Incident", 3, false, 1, 0, 1, false, 0), // reopened to backlog: S T-13, F T-11; no false start
			r("O6", "ops", "operational", "Incident", 3, false, 0, 0, 1, false, 0),
			r("X1", "unassigned", "unclassified", "Task", 3, false, 0, 0, 1, false, 0),
			r("A-1", "web", "project", "Story", 2, false, 0, 0, 1, false, 0),
			r("A-2", "web", "project", "Story", 2, true, 0, null, null, true, 0), // skipped start: T-3 09:00 → T-2 11:00
			r("A-4", "web", "project", "Story", 2, false, 0, 0, 1, false, 0),     // T-5 09:00 → 00:30 on T-4 in Tokyo
			r("A0", "web", "project", "Story", 2, false, 0, 0, 1, false, 0),
			r("B2", "web", "operational", "Bug", 2, false, 0, 0, 1, false, 0),
			r("O8", "ops", "operational", "Incident", 2, true, 0, null, null, true, 0),
		},

		// Window: F in T-6 .. T, with a start. web: A-6 3, A-5 8, A-4 2, A-3 4,
		// A-1 2, A0 2 → sorted 2,2,2,3,4,8: P50 rank 3 = 2, P85 rank ⌈5.1⌉ = 6
		// = 8, P95 rank 6 = 8; SLE 5 (config), 5 of 6 within. ops: O6 3, its
		// own P85. All: 2,2,2,3,3,4,8: P50 rank 4 = 3, P85 rank ⌈5.95⌉ = 6 =
		// 4, P95 rank 7 = 8; SLE = P85 4, 6 of 7 within.
		"Cycle-time percentiles per team against the SLE": {
			r("*", 7, 3, 4, 8, 4, "p85", 0.86),
			r("ops", 1, 3, 3, 3, 3, "p85", 1),
			r("web", 6, 2, 8, 8, 5, "config", 0.83),
		},

		// age = T - date(S) + 1. C3 (S T-9): 10 > web's 5. O5 (S T-6): 7 >
		// ops's SLE, the P85 of (ops, operational) = 3. Not past: C1 5 (at
		// the SLE), C4 3, O7 1.
		"Aging work in progress past its SLE": {
			r("web", "C3", "In Progress", "active", 10, 5, 5),
			r("ops", "O5", "In Progress", "active", 7, 3, 4),
		},

		// Started at the end of T: web C1, C3, C4 (In Review is started);
		// ops O5, O7. data has no limit.
		"WIP against the WIP limit per team, now": {
			r("ops", 2, 1, true),
			r("web", 3, 3, false),
		},

		// 2.0: first seen due T+5 with the file's baseline T+3 (one move),
		// then due T+2 (another), before its P50 T+3 (below): off track.
		// Q-report: first seen due T-5 (the baseline), then T-3.
		"Milestones with the most due-date changes": {
			r("APP", "2.0", 2, d(3), d(2), -1, "off_track"),
			r("DATA", "Q-report", 1, d(-5), d(-3), 2, "overdue"),
		},

		// APP's samples are 1 a day, all milestone work (s = 1): the queue
		// takes one item a day. 2.1 (C3 left, due today) is first in the
		// queue: T+1 in every trial; due today is not overdue, but before
		// its P50: off track, slip 1, on time in no trial. 2.0 (C1, C2 left,
		// due T+2) comes after it: T+3, off track, slip 1; the tie is broken
		// by the due date. Q-report: overdue; DATA finished nothing in the
		// window, so no forecast.
		"Milestones at risk: forecast against due date": {
			r("APP", "2.1", "off_track", d(0), d(1), d(1), 1, 0, 1),
			r("APP", "2.0", "off_track", d(2), d(3), d(3), 1, 0, 2),
			r("DATA", "Q-report", "overdue", d(-3), null, null, null, null, 1),
		},

		// 1.0: compute 1 (T-1) queued 2.1 (C3, due T) before it, so A0, its
		// 1 item left, was forecast for day 2 = T+1 in every trial; A0
		// finished on T: no trial on or before it (percentile 0), which is
		// within the P85. 0.9 was done before either compute.
		"Forecast calibration of completed milestones": {
			r("APP", "1.0", d(0), 1, 0, 1),
			r("APP", "0.9", d(-15), 0, null, null),
		},

		// W-8 .. W-1 (T-58 .. T-3). Items: ops O2 (W-7), O3, O8 (W-4), O4 (W-2); web B1
		// (W-3), B2 (W-2, operational by its file), A-7 .. A-3 (W-1); data D1
		// (W-7); unassigned X1 (W-6). Hours by the author's team: ops carol 4
		// + dan 2 on O4, carol 9 on O9 and 1 on O5 (operational), carol 2 on
		// C1 (project) = 16 of 18; web bob 6 on B2 (operational), alice 8 + 12,
		// bob 4 = 6 of 30; data erin 30 on D3 (project); unassigned none.
		"Operational share of throughput and logged hours, last 8 weeks": {
			r("ops", 4, 4, 1, 0.89),
			r("web", 1, 7, 0.14, 0.2),
			r("data", 0, 1, 0, 0),
			r("unassigned", 0, 1, 0, null),
		},

		// Next week (T+5 .. T+9). ops: 60 h (carol 30 + dan 30); O10 96 h over
		// the 8 working days T .. T+9 = 12 a day, 5 days = 60: exactly 1, a
		// warning, not over. web: 40 - 8 (alice off T+5) + bob 20 = 52; C1
		// (16 - 6 logged = 10 over the SLE's 5 working days T .. T+6: 2 a day,
		// 2 next week = 4) + C2 (8 over the 6 working days to T+7: 4/3 a
		// day, 3 next week = 4) = 8: 0.15. data: erin 32 - 16 off = 16, nothing planned.
		"Who is over capacity next week": {
			r("ops", d(5), 60, 60, 1, "warning"),
			r("web", d(5), 52, 8, 0.15, "under"),
			r("data", d(5), 16, 0, 0, "under"),
		},

		// Weeks 0 .. 3. Capacity: ops 4 × 60; web 60 + 52 + 60 + 60; data
		// 32 + 16 + 32 + 32. Operational hours of the 8 weeks before: ops
		// 0 ×6, 6 (W-2), 10 (W-1): rank ⌈6.8⌉ = 7 → 6; web 0 ×7, 6 → 0.
		// Planned project work: web C1 10 + C2 8 + C4 6 (overdue: all on
		// today); ops and data none.
		"Project capacity available per team": {
			r("ops", 4, 240, 6, 0, 216),
			r("web", 4, 232, 0, 24, 208),
			r("data", 4, 112, 0, 0, 112),
		},

		// From W-3 (the first worklog's week) to W-1. ops W-1: 30 - 6 (carol
		// off T-9) + 30 = 54, logged carol 1 + 9 + 2 = 12.
		"Logged utilization trend per team": {
			r(c.week(-3), "data", 32, 0, 0),
			r(c.week(-2), "data", 32, 30, 0.94),
			r(c.week(-1), "data", 32, 0, 0),
			r(c.week(-3), "ops", 60, 0, 0),
			r(c.week(-2), "ops", 60, 6, 0.1),
			r(c.week(-1), "ops", 54, 12, 0.22),
			r(c.week(-3), "web", 60, 8, 0.13),
			r(c.week(-2), "web", 60, 6, 0.1),
			r(c.week(-1), "web", 60, 16, 0.27),
		},

		// missing_estimate: open, assigned project work without an estimate
		// (E1 has no assignee). Ingest problems, by reason: the 0-hour
		// worklog of A-7 and the 30-hour absence on line 6 of time_off.csv
		// (no item key).
		"Data-quality problems by source": {
			r("main", "skipped_start", 3, "A-2,O2,O8"),
			r("main", "missing_estimate", 2, "C3,D3"),
			r("main", `ingest_problem: hours "0": want more than 0 and at most 744 hours (31 days); row skipped`, 1, "A-7"),
			r("main", `ingest_problem: hours "30": want 0..24; row skipped`, 1, "time_off.csv:6"),
			r("main", "long_worklog", 1, "D3"),
			r("main", "unassigned_team", 1, "X1"),
			r("main", "unclassified", 1, "X1"),
		},

		"Open items without estimates": {
			r("data", 2, 0, "D3,E1"),
			r("web", 1, 1, "C3"),
		},

		// Completed, not discarded; reopened: A-5 (web), O4 (ops).
		"Reopen rate per team": {
			r("ops", 6, 1, 0.167),
			r("web", 10, 1, 0.1),
			r("data", 1, 0, 0),
			r("unassigned", 1, 0, 0),
		},

		// Window items' active and wait time. web: active A-6 1 d, A-5 3 d +
		// 2 d, A-4 15.5 h, A-3 2 d, A-1 19 h, A0 25 h = 251.5 h; waiting A-6
		// and A-3 1 d each = 48 h: 251.5 / 299.5.
		"Flow efficiency per team": {
			r("web", 6, 0.84),
			r("ops", 1, 1),
		},

		// Created: every item by the week of its creation; completed: by
		// the week of F, discarded O9 not.
		"Created against completed per week": {
			r(c.week(-16), 1, 0, 1),  // D1
			r(c.week(-15), 1, 0, 1),  // O1
			r(c.week(-14), 0, 1, -1), // O1 done
			r(c.week(-7), 2, 2, 0),   // O2, X1; D1, O2 done
			r(c.week(-6), 2, 1, 1),   // B1, O3; X1 done
			r(c.week(-5), 1, 0, 1),   // B2
			r(c.week(-4), 2, 2, 0),   // D3, O8; O3, O8 done
			r(c.week(-3), 2, 1, 1),   // A-3, O4; B1 done
			r(c.week(-2), 6, 2, 4),   // A-5, C3, A-7, A0, C1, C2; B2, O4 done
			r(c.week(-1), 9, 5, 4),   // O9, A-6, O5, A-4, C4, A-1, O6, A-2, O10; A-7 .. A-3 done
			r(c.week(0), 2, 4, -2),   // E1, O7; A-2, O6, A-1, A0 done
		},

		// W-8 .. W-1 against W-16 .. W-9, per 8 weeks: ops 4 (O2, O3, O8, O4) and
		// 1 (O1); web 7 and 0; data 1 (D1) and 0; unassigned 1 (X1) and 0.
		"Throughput trend: last 8 weeks against the 8 before": {
			r("data", 0.1, 0),
			r("ops", 0.5, 0.1),
			r("unassigned", 0.1, 0),
			r("web", 0.9, 0),
		},

		// Records of main: the data rows of items.csv (28), status_changes.csv
		// (49 at T-1, 51 at T) and worklogs.csv (12, 13), and the people (5),
		// absences (4 kept) and milestones (5); problems: the two rejected rows.
		"Sync history": {
			r("legacy", 3, c.utc("0 11:30"), c.utc("0 11:30"), "failed", 0, 0, 0,
				"items.csv:1: missing column(s) created_at (header has: key,title)"),
			r("main", 2, c.utc("0 11:00"), c.utc("0 11:00"), "ok", 106, 1, 2, null),
			r("main", 1, c.utc("-1 12:00"), c.utc("-1 12:00"), "ok", 103, 1, 2, null),
		},
	}
}

// cookbookMonths is "Throughput by team and month" from the days of F per
// team: every month from T+first to T, every team, ordered by month and team.
func cookbookMonths(c fxCal, first int, finishes map[string][]int) [][]string {
	teams := slices.Sorted(func(yield func(string) bool) {
		for k := range finishes {
			if !yield(k) {
				return
			}
		}
	})
	month := func(k int) string { return c.t.AddDate(0, 0, k).Format("2006-01") }
	var out [][]string
	for k := first; k <= 0; k++ {
		m := month(k)
		if len(out) > 0 && out[len(out)-1][1] == m {
			continue
		}
		for _, team := range teams {
			n := 0
			for _, f := range finishes[team] {
				if month(f) == m {
					n++
				}
			}
			out = append(out, []string{team, m, strconv.Itoa(n)})
		}
	}
	return out
}
