package jira_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/throughline/throughline/connectors/jira"
	"github.com/throughline/throughline/connectors/jira/jiratest"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/ingest/ingesttest"
	"github.com/throughline/throughline/metrics"
	"github.com/throughline/throughline/warehouse"
	"github.com/throughline/throughline/warehouse/warehousetest"
)

const devlakeDir = "jiratest/testdata/devlake"

// sleeps records the waits of the retry policy instead of sleeping.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.d)
}

type setup struct {
	jql    string
	boards []int
	email  string // empty: Bearer PAT
	scoped bool
	page   int
	batch  int
}

func newConnector(t *testing.T, srv *jiratest.Server, st setup, sl *sleeps) *jira.Connector {
	t.Helper()
	base := srv.BaseURL()
	if st.scoped {
		base = srv.ScopedBaseURL()
	}
	cfg := jira.Config{BaseURL: base, JQL: st.jql, Boards: st.boards, TokenEnv: "JIRA_API_TOKEN", PageSize: st.page, BatchSize: st.batch}
	if cfg.JQL == "" {
		cfg.JQL = "project in (WEB, OPS)"
	}
	if st.email != "" {
		cfg.Email, cfg.Token = st.email, jiratest.DefaultToken
	} else {
		cfg.Token = jiratest.DefaultPAT
	}
	opt := jira.Options{}
	if sl != nil {
		opt.Sleep = sl.sleep
	} else {
		opt.Sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	}
	c, err := jira.New(cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func openWarehouse(t *testing.T) *warehouse.DB {
	t.Helper()
	db := warehousetest.Open(t, "UTC")
	if err := db.RegisterSource(t.Context(), "jira", "jira", "https://example.atlassian.net"); err != nil {
		t.Fatal(err)
	}
	return db
}

func sync1(t *testing.T, db *warehouse.DB, c ingest.Connector) ingest.Run {
	t.Helper()
	run, err := ingest.Sync(t.Context(), db, db, "jira", c, ingest.SyncOptions{})
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	return run
}

func count(t *testing.T, db *warehouse.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// statusItems counts the status items of each issue's changelog in the data.
func statusItems(d *jiratest.Dataset) map[string]int {
	out := map[string]int{}
	for _, is := range d.Issues {
		if is.Deleted {
			continue
		}
		n := 0
		for _, h := range is.Histories {
			for _, x := range historyItems(h) {
				if x["field"] == "status" {
					n++
				}
			}
		}
		out[is.Key] = n
	}
	return out
}

// TestDevLakeIssues syncs DevLake's 30 real Jira Cloud issues (board 8)
// and checks every issue and status change landed, and that lead time is
// DevLake's expected lead_time_minutes for every issue — through the
// Cloud shape (embedded changelogs truncated to 5 histories, so every
// issue is completed by the bulk changelog endpoint) and the Data Center
// shape.
func TestDevLakeIssues(t *testing.T) {
	want, err := jiratest.DevLakeLeadMinutes(devlakeDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opt  jiratest.Options
		st   setup
	}{
		{"cloud", jiratest.Options{EmbeddedChangelogCap: 5, PageCap: 7}, setup{jql: "project = EE", email: jiratest.DefaultEmail, page: 7}},
		{"cloud scoped token, null last token", jiratest.Options{EmbeddedChangelogCap: 5, NullLastToken: true, OmitIsLast: true}, setup{jql: "project = EE", email: jiratest.DefaultEmail, scoped: true}},
		{"data center", jiratest.Options{DataCenter: true}, setup{jql: "project = EE", page: 7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := jiratest.LoadDevLake(devlakeDir)
			if err != nil {
				t.Fatal(err)
			}
			srv := jiratest.NewTest(t, d, tc.opt)
			db := openWarehouse(t)
			sync1(t, db, newConnector(t, srv, tc.st, nil))

			if n := count(t, db, "SELECT count(*) FROM work_items WHERE source_id = 'jira'"); n != 30 {
				t.Errorf("items = %d, want 30", n)
			}
			total := 0
			for key, n := range statusItems(d) {
				total += n
				// Every status item, plus the creation transition.
				if got := count(t, db, "SELECT count(*) FROM status_changes WHERE item_id = ?", "jira:"+key); got != n+1 {
					t.Errorf("%s: status_changes = %d, want %d status items + 1", key, got, n)
				}
			}
			if got := count(t, db, "SELECT count(*) FROM status_changes"); got != total+30 {
				t.Errorf("status_changes = %d, want %d", got, total+30)
			}
			// Raw payloads carry the complete changelog, so a mapping fix re-derives without re-fetching.
			if n := count(t, db, `SELECT count(*) FROM raw_payloads WHERE entity = 'issue'
				AND json_array_length(payload->'changelog'->'histories') = (payload->'changelog'->>'total')::INT
				AND (payload->'changelog'->>'total')::INT >= 10`); n != 30 {
				var ex string
				db.QueryRow("SELECT left(payload::VARCHAR, 300) || ' … ' || right(payload::VARCHAR, 300) FROM raw_payloads LIMIT 1").Scan(&ex)
				t.Errorf("raw issue payloads with their complete changelog = %d, want 30; e.g. %s", n, ex)
			}
			if tc.name == "cloud" && srv.Count("/rest/api/3/changelog/bulkfetch") == 0 {
				t.Error("truncated changelogs were not completed through bulkfetch")
			}
			if _, err := metrics.Compute(t.Context(), db.DB, metrics.Params{Now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Location: time.UTC, WindowDays: 90}); err != nil {
				t.Fatal(err)
			}
			rows, err := db.Query("SELECT key, lead_seconds FROM item_flow WHERE source = 'jira'")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			got := map[string]int64{}
			for rows.Next() {
				var k string
				var lead *float64
				if err := rows.Scan(&k, &lead); err != nil {
					t.Fatal(err)
				}
				if lead != nil {
					got[k] = int64(*lead) / 60
				}
			}
			if len(want) != 30 {
				t.Fatalf("DevLake expects %d lead times, want 30", len(want))
			}
			for k, w := range want {
				if got[k] != w {
					t.Errorf("%s: lead %d min, DevLake %d", k, got[k], w)
				}
			}
		})
	}
}

func TestContract(t *testing.T) {
	// 230 issues, 60 a page and a batch: four issue batches, then versions.
	d := jiratest.Generate(jiratest.GenOptions{Issues: 230, Seed: 7})
	srv := jiratest.NewTest(t, d, jiratest.Options{EmbeddedChangelogCap: 8})
	ingesttest.TestConnector(t, func(t *testing.T) ingest.Connector {
		return newConnector(t, srv, setup{email: jiratest.DefaultEmail, page: 60, batch: 60}, nil)
	})
}

// TestFaults checks that each fault leaves the warehouse as a clean sync
// does: nothing lost, nothing duplicated.
func TestFaults(t *testing.T) {
	d0 := jiratest.Generate(jiratest.GenOptions{Issues: 250, Seed: 3})
	cleanDB := openWarehouse(t)
	cleanSrv := jiratest.NewTest(t, d0, jiratest.Options{})
	sync1(t, cleanDB, newConnector(t, cleanSrv, setup{email: jiratest.DefaultEmail}, nil))
	clean := snapshot(t, cleanDB)
	if clean.items != 250 {
		t.Fatalf("clean sync: %d items, want 250", clean.items)
	}

	tests := []struct {
		name      string
		fault     func(s *jiratest.Server)
		wantErr   string          // the first sync fails with this; empty: it succeeds
		wantSleep []time.Duration // the waits the retry policy chose, when exact
	}{
		{"429 with Retry-After", func(s *jiratest.Server) { s.Throttle("/rest/api/3/search/jql", 2, 7*time.Second) }, "", []time.Duration{7 * time.Second, 7 * time.Second}},
		{"429 without Retry-After", func(s *jiratest.Server) { s.Throttle("/rest/api/3/changelog/bulkfetch", 3, -1) }, "", nil},
		{"500 then fine", func(s *jiratest.Server) { s.Fail("/rest/api/3/search/jql", 2, 500) }, "", nil},
		{"503 with Retry-After", func(s *jiratest.Server) { s.Fail("/rest/api/3/project/", 1, 503) }, "", []time.Duration{time.Second}},
		{"500 until the retries run out", func(s *jiratest.Server) { s.Fail("/rest/api/3/changelog/bulkfetch", 5, 500) }, "HTTP 500", nil},
		{"expired token", func(s *jiratest.Server) { s.Revoke() }, "HTTP 401", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := jiratest.Generate(jiratest.GenOptions{Issues: 250, Seed: 3})
			srv := jiratest.NewTest(t, d, jiratest.Options{EmbeddedChangelogCap: 8})
			db := openWarehouse(t)
			sl := &sleeps{}
			tt.fault(srv)
			_, err := ingest.Sync(t.Context(), db, db, "jira", newConnector(t, srv, setup{email: jiratest.DefaultEmail}, sl), ingest.SyncOptions{})
			if tt.wantErr == "" && err != nil {
				t.Fatalf("sync: %v", err)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("sync error = %v, want %q", err, tt.wantErr)
				}
				if tt.name == "expired token" && !strings.Contains(err.Error(), "$JIRA_API_TOKEN") {
					t.Errorf("401 error does not name the credential: %v", err)
				}
				// Nothing half-written: the stored cursor matches the stored rows;
				// the fault gone, a resumed sync completes.
				srv.Restore()
				sync1(t, db, newConnector(t, srv, setup{email: jiratest.DefaultEmail}, nil))
			}
			if tt.wantSleep != nil && !slices.Equal(sl.got(), tt.wantSleep) {
				t.Errorf("waits = %v, want %v", sl.got(), tt.wantSleep)
			}
			if tt.name == "429 without Retry-After" {
				w := sl.got()
				if len(w) != 3 || w[0] < 500*time.Millisecond || w[0] > time.Second || w[2] < 2*time.Second || w[2] > 4*time.Second {
					t.Errorf("backoff waits = %v, want 3 jittered waits doubling from ~1 s", w)
				}
			}
			if got := snapshot(t, db); got != clean {
				t.Errorf("after the fault: %+v, clean sync: %+v", got, clean)
			}
		})
	}
}

type whSnapshot struct {
	items, changes, worklogs, milestones, people, dupChanges, sprints, memberships int
	leadSum                                                                        int64
}

func snapshot(t *testing.T, db *warehouse.DB) whSnapshot {
	t.Helper()
	var s whSnapshot
	s.items = count(t, db, "SELECT count(*) FROM work_items WHERE NOT deleted")
	s.changes = count(t, db, "SELECT count(*) FROM status_changes")
	s.worklogs = count(t, db, "SELECT count(*) FROM worklogs")
	s.milestones = count(t, db, "SELECT count(*) FROM milestones")
	s.people = count(t, db, "SELECT count(*) FROM people")
	s.sprints = count(t, db, "SELECT count(*) FROM sprints")
	s.memberships = count(t, db, "SELECT count(*) FROM sprint_items")
	s.dupChanges = count(t, db, "SELECT count(*) FROM (SELECT item_id, seq FROM status_changes GROUP BY ALL HAVING count(*) > 1)")
	if err := db.QueryRow("SELECT coalesce(sum(epoch(changed_at))::BIGINT, 0) FROM status_changes").Scan(&s.leadSum); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestKilledMidSyncResumes stops a sync after its second committed batch
// (as a killed process would) and resumes from the stored cursor.
func TestKilledMidSyncResumes(t *testing.T) {
	d := jiratest.Generate(jiratest.GenOptions{Issues: 600, Seed: 5})
	srv := jiratest.NewTest(t, d, jiratest.Options{EmbeddedChangelogCap: 8})
	cleanDB := openWarehouse(t)
	sync1(t, cleanDB, newConnector(t, srv, setup{email: jiratest.DefaultEmail}, nil))
	clean := snapshot(t, cleanDB)

	db := openWarehouse(t)
	c := newConnector(t, srv, setup{email: jiratest.DefaultEmail, batch: 200}, nil)
	ctx, cancel := context.WithCancel(t.Context())
	batches := 0
	_, err := ingest.Sync(ctx, db, db, "jira", c, ingest.SyncOptions{Progress: func(r ingest.Run) {
		batches = r.Batches
		if r.Batches == 2 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("sync error = %v, want canceled", err)
	}
	mid := snapshot(t, db)
	if mid.items == 0 || mid.items >= clean.items {
		t.Fatalf("after %d batches: %d items, want some but not all of %d", batches, mid.items, clean.items)
	}
	sync1(t, db, newConnector(t, srv, setup{email: jiratest.DefaultEmail}, nil))
	if got := snapshot(t, db); got != clean {
		t.Errorf("resumed: %+v, clean: %+v", got, clean)
	}
}

// TestIncremental changes the site between syncs and checks what the
// second sync reads and what it leaves in the warehouse.
func TestIncremental(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	clock := now
	d := jiratest.Generate(jiratest.GenOptions{Issues: 300, Seed: 11, Now: now.Add(-time.Hour)})
	srv := jiratest.NewTest(t, d, jiratest.Options{Now: func() time.Time { return clock }})
	db := openWarehouse(t)
	newC := func() *jira.Connector {
		c, err := jira.New(jira.Config{BaseURL: srv.BaseURL(), Email: jiratest.DefaultEmail, Token: jiratest.DefaultToken, JQL: "project in (WEB, OPS)"},
			jira.Options{Now: func() time.Time { return clock }, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	sync1(t, db, newC())
	before := snapshot(t, db)

	// Changes made a day later.
	clock = now.Add(24 * time.Hour)
	var moved, gone, wlKey, wlDeleted string
	srv.Mutate(func(d *jiratest.Dataset) {
		open := openIssues(d)
		if len(open) < 3 {
			t.Fatal("generated data has fewer than 3 open issues")
		}
		is := d.Issue(open[0])
		is.Transition(clock.Add(-30*time.Minute), nil, doneStatus(t, d))
		moved = is.Key
		gone = open[1]
		d.DeleteIssue(gone)
		wlKey = open[2]
		d.AddWorklog(wlKey, jiratest.Object{"timeSpentSeconds": 5400, "started": "2026-11-01T09:00:00.000+0000"}, clock.Add(-20*time.Minute))
		for _, x := range d.Issues {
			if !x.Deleted && len(x.Worklogs) > 0 && x.Key != wlKey {
				wlDeleted = fmt.Sprint(x.Worklogs[0].Object["id"])
				d.DeleteWorklog(wlDeleted, clock.Add(-10*time.Minute))
				break
			}
		}
	})
	if wlDeleted == "" {
		t.Fatal("no worklog to delete in the generated data")
	}
	// A day later: the sync reads only recent changes, and reconciles.
	reqsBefore := len(srv.Requests())
	sync1(t, db, newC())
	passes, reconciles := 0, 0
	for _, r := range srv.Requests()[reqsBefore:] {
		switch body := string(r.Body); {
		case r.Path != "/rest/api/3/search/jql":
		case strings.Contains(body, `AND updated \u003e= \"2026-11-01 `):
			passes++
		case strings.Contains(body, `"fields":["id"]`) && !strings.Contains(body, "id in"):
			reconciles++
		}
	}
	// Keyset paging ends a walk with a page that comes back empty: the
	// incremental pass is one page of changes and the empty one after it;
	// the reconciliation is two listings of one page and an empty one each.
	if passes != 2 || reconciles != 4 {
		t.Errorf("second sync: %d incremental search pages (want 2), %d reconciliation pages (want 4)", passes, reconciles)
	}
	// Reconcile on demand changes nothing more.
	cur, err := db.Cursor(t.Context(), "jira")
	if err != nil {
		t.Fatal(err)
	}
	if err := newC().Reconcile(t.Context(), cur, func(ctx context.Context, b ingest.Batch) error { return db.Commit(ctx, "jira", b) }); err != nil {
		t.Fatal(err)
	}
	after := snapshot(t, db)
	if after.items != before.items-1 {
		t.Errorf("live items = %d, want %d (one deleted)", after.items, before.items-1)
	}
	if n := count(t, db, "SELECT count(*) FROM work_items WHERE key = ? AND deleted", gone); n != 1 {
		t.Errorf("%s not marked deleted", gone)
	}
	if n := count(t, db, "SELECT count(*) FROM status_changes WHERE item_id = ? AND to_category = 'done'", "jira:"+moved); n < 1 {
		t.Errorf("%s: the new done transition is missing", moved)
	}
	if after.changes != before.changes+1 {
		t.Errorf("status changes = %d, want %d (+1)", after.changes, before.changes+1)
	}
	if n := count(t, db, "SELECT count(*) FROM worklogs WHERE item_id = ? AND seconds = 5400", "jira:"+wlKey); n != 1 {
		t.Errorf("%s: the added worklog is missing", wlKey)
	}
	if n := count(t, db, "SELECT count(*) FROM worklogs WHERE worklog_id = ?", "jira:worklog:"+wlDeleted); n != 0 {
		t.Errorf("deleted worklog %s still stored", wlDeleted)
	}
	if after.dupChanges != 0 {
		t.Errorf("%d duplicated status changes", after.dupChanges)
	}
}

func openIssues(d *jiratest.Dataset) []string {
	var out []string
	for _, is := range d.Issues {
		st, _ := is.Fields["status"].(jiratest.Object)
		cat, _ := st["statusCategory"].(jiratest.Object)
		if !is.Deleted && cat["key"] != "done" && len(is.Worklogs) == 0 {
			out = append(out, is.Key)
		}
	}
	return out
}

func doneStatus(t *testing.T, d *jiratest.Dataset) string {
	for _, st := range d.Statuses {
		if cat, _ := st["statusCategory"].(jiratest.Object); cat["key"] == "done" {
			return fmt.Sprint(st["id"])
		}
	}
	t.Fatal("no done status")
	return ""
}

// TestBoardsSprintsAndMilestones checks sprints (board listing and the
// sprint field, Cloud objects and Data Center strings), sprint membership,
// story points, fix versions and epics as milestones with their due-date
// history.
func TestBoardsSprintsAndMilestones(t *testing.T) {
	for _, dc := range []bool{false, true} {
		t.Run(map[bool]string{false: "cloud", true: "data center"}[dc], func(t *testing.T) {
			d := jiratest.Generate(jiratest.GenOptions{Issues: 400, Boards: true, Seed: 21})
			var boards []int
			wantSprints := map[string]bool{}
			for _, b := range d.Boards {
				boards = append(boards, int(toInt(b.Object["id"])))
				for _, sp := range b.Sprints {
					wantSprints[fmt.Sprint(toInt(sp["id"]))] = true
				}
			}
			wantMembers, wantPoints, wantEpics, wantDueChanges := 0, 0, 0, 0
			for _, is := range d.Issues {
				if sps, ok := is.Fields[jiratest.SprintField].([]any); ok {
					wantMembers += len(sps)
				}
				if sps, ok := is.Fields[jiratest.SprintField].([]jiratest.Object); ok {
					wantMembers += len(sps)
				}
				if is.Fields[jiratest.StoryPointsField] != nil {
					wantPoints++
				}
				if it, _ := is.Fields["issuetype"].(jiratest.Object); it["name"] == "Epic" && is.Fields["duedate"] != nil {
					wantEpics++
					for _, h := range is.Histories {
						for _, x := range historyItems(h) {
							if x["fieldId"] == "duedate" {
								wantDueChanges++
							}
						}
					}
				}
			}
			wantVersions := 0
			for _, vs := range d.Versions {
				wantVersions += len(vs)
			}
			if len(wantSprints) == 0 || wantMembers == 0 || wantEpics == 0 || wantVersions == 0 {
				t.Fatalf("generated data lacks sprints (%d), members (%d), epics (%d) or versions (%d)", len(wantSprints), wantMembers, wantEpics, wantVersions)
			}
			srv := jiratest.NewTest(t, d, jiratest.Options{DataCenter: dc})
			db := openWarehouse(t)
			st := setup{email: jiratest.DefaultEmail, boards: boards}
			if dc {
				st.email = ""
			}
			sync1(t, db, newConnector(t, srv, st, nil))
			if n := count(t, db, "SELECT count(*) FROM sprints"); n != len(wantSprints) {
				t.Errorf("sprints = %d, want %d", n, len(wantSprints))
			}
			if n := count(t, db, "SELECT count(*) FROM sprint_items"); n != wantMembers {
				t.Errorf("sprint_items = %d, want %d", n, wantMembers)
			}
			if n := count(t, db, "SELECT count(*) FROM sprints WHERE state = 'closed' AND complete_at IS NULL"); n != 0 {
				t.Errorf("%d closed sprints without a completion time", n)
			}
			if n := count(t, db, "SELECT count(*) FROM work_items WHERE story_points IS NOT NULL"); n != wantPoints {
				t.Errorf("items with story points = %d, want %d", n, wantPoints)
			}
			if n := count(t, db, "SELECT count(*) FROM milestones"); n != wantVersions+wantEpics {
				t.Errorf("milestones = %d, want %d versions + %d epics with a due date", n, wantVersions, wantEpics)
			}
			if n := count(t, db, "SELECT count(*) FROM milestone_due_changes WHERE origin = 'history'"); n != wantDueChanges {
				t.Errorf("due-date changes from epic histories = %d, want %d", n, wantDueChanges)
			}
			if dc {
				if n := count(t, db, "SELECT count(*) FROM people WHERE external_id LIKE '%-%-%'"); n != 0 {
					t.Errorf("%d Data Center people identified by a Cloud accountId", n)
				}
			}
			// A release date moved at the source is a due-date change.
			var proj, name string
			for p, vs := range d.Versions {
				for _, v := range vs {
					if v["releaseDate"] != nil && v["released"] != true {
						proj, name = p, fmt.Sprint(v["name"])
					}
				}
			}
			if name == "" {
				t.Fatal("no unreleased version with a release date")
			}
			srv.Mutate(func(d *jiratest.Dataset) { d.SetReleaseDate(proj, name, "2027-03-31") })
			sync1(t, db, newConnector(t, srv, st, nil))
			if n := count(t, db, "SELECT count(*) FROM milestone_due_changes c JOIN milestones m USING (milestone_id) WHERE m.name = ? AND c.new_due_date = DATE '2027-03-31' AND c.origin = 'sync'", name); n != 1 {
				t.Errorf("release date change of %s %s: %d rows, want 1", proj, name, n)
			}
		})
	}
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int64:
		return x
	case float64:
		return int64(x)
	}
	var n int64
	fmt.Sscan(fmt.Sprint(v), &n)
	return n
}

func historyItems(h jiratest.Object) []jiratest.Object {
	var out []jiratest.Object
	switch items := h["items"].(type) {
	case []any:
		for _, it := range items {
			if m, ok := it.(map[string]any); ok {
				out = append(out, m)
			}
		}
	case []jiratest.Object:
		out = items
	}
	return out
}

// TestFaultsDataCenter runs faults against the Data Center shape (offset
// search on REST v2, Bearer PAT) and checks the warehouse ends as a clean
// sync leaves it, and the stored watermark never passes what was stored.
func TestFaultsDataCenter(t *testing.T) {
	gen := func() *jiratest.Dataset { return jiratest.Generate(jiratest.GenOptions{Issues: 1200, Seed: 9}) }
	cleanDB := openWarehouse(t)
	sync1(t, cleanDB, newConnector(t, jiratest.NewTest(t, gen(), jiratest.Options{DataCenter: true}), setup{}, nil))
	clean := snapshot(t, cleanDB)
	for _, tt := range []struct {
		name  string
		fault func(s *jiratest.Server)
		fails bool
	}{
		{"429 on search", func(s *jiratest.Server) { s.Throttle("/rest/api/2/search", 3, 2*time.Second) }, false},
		{"502 on search", func(s *jiratest.Server) { s.Fail("/rest/api/2/search", 2, 502) }, false},
		{"search fails after the first pages", nil, true},
		{"token revoked", func(s *jiratest.Server) { s.Revoke() }, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := jiratest.NewTest(t, gen(), jiratest.Options{DataCenter: true})
			db := openWarehouse(t)
			var err error
			if tt.fault != nil {
				tt.fault(srv)
				_, err = ingest.Sync(t.Context(), db, db, "jira", newConnector(t, srv, setup{}, nil), ingest.SyncOptions{})
			} else {
				// Every search request after the sixth page fails, mid-pass:
				// the pages delivered before the failure commit.
				var mu sync.Mutex
				searches := 0
				hc := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
					mu.Lock()
					if r.URL.Path == "/rest/api/2/search" {
						searches++
					}
					fail := searches > 6
					mu.Unlock()
					if fail {
						return &http.Response{StatusCode: 500, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
					}
					return http.DefaultTransport.RoundTrip(r)
				})}
				c, err2 := jira.New(jira.Config{BaseURL: srv.BaseURL(), Token: jiratest.DefaultPAT, JQL: "project in (WEB, OPS)"},
					jira.Options{HTTPClient: hc, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
				if err2 != nil {
					t.Fatal(err2)
				}
				_, err = ingest.Sync(t.Context(), db, db, "jira", c, ingest.SyncOptions{})
				if n := count(t, db, "SELECT count(*) FROM work_items"); n < 500 || n >= 1200 {
					t.Errorf("items committed before the failure = %d, want the pages fetched before it (500–1199)", n)
				}
			}
			if (err != nil) != tt.fails {
				t.Fatalf("sync error = %v, want failure %v", err, tt.fails)
			}
			if tt.fails {
				checkWatermark(t, db)
				srv.Restore()
				srv.ClearFaults()
				sync1(t, db, newConnector(t, srv, setup{}, nil))
			}
			if got := snapshot(t, db); got != clean {
				t.Errorf("after the fault: %+v, clean sync: %+v", got, clean)
			}
		})
	}
}

// checkWatermark fails when the stored cursor's watermark is newer than the
// newest stored issue: the cursor must not pass uncommitted data.
func checkWatermark(t *testing.T, db *warehouse.DB) {
	t.Helper()
	cur, err := db.Cursor(t.Context(), "jira")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Updated time.Time `json:"updated"`
	}
	if cur != "" {
		if err := json.Unmarshal([]byte(cur), &c); err != nil {
			t.Fatal(err)
		}
	}
	var newest sql.NullTime
	if err := db.QueryRow("SELECT max(updated_at) FROM work_items").Scan(&newest); err != nil {
		t.Fatal(err)
	}
	if !c.Updated.IsZero() && (!newest.Valid || c.Updated.After(newest.Time)) {
		t.Errorf("cursor watermark %v is past the newest stored issue %v", c.Updated, newest.Time)
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// TestTimeoutsAndCancellation: a request that times out is retried; a
// sync waiting out a long Retry-After stops as soon as it is canceled.
func TestTimeoutsAndCancellation(t *testing.T) {
	srv := jiratest.NewTest(t, jiratest.Generate(jiratest.GenOptions{Issues: 150, Seed: 2}), jiratest.Options{})
	var mu sync.Mutex
	timeouts := 2
	hc := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		fail := timeouts > 0 && strings.HasSuffix(r.URL.Path, "/search/jql")
		if fail {
			timeouts--
		}
		mu.Unlock()
		if fail {
			return nil, timeoutErr{}
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
	c, err := jira.New(jira.Config{BaseURL: srv.BaseURL(), Email: jiratest.DefaultEmail, Token: jiratest.DefaultToken, JQL: "project = WEB"},
		jira.Options{HTTPClient: hc, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
	if err != nil {
		t.Fatal(err)
	}
	db := openWarehouse(t)
	sync1(t, db, c)
	if timeouts != 0 {
		t.Errorf("%d timeouts left unconsumed", timeouts)
	}
	// After the retried timeouts the warehouse holds exactly the site: every
	// issue, transition and worklog, nothing twice.
	if n := count(t, db, "SELECT count(*) FROM work_items"); n != 75 {
		t.Errorf("%d items after retried timeouts, want project WEB's 75 of the site's 150", n)
	}
	checkTruth(t, "after retried timeouts", db, srv, []string{"WEB"})

	// A 60 s Retry-After, with the real sleep: cancel after 100 ms.
	srv.Throttle("/rest/api/3/search/jql", 1, time.Minute)
	c, err = jira.New(jira.Config{BaseURL: srv.BaseURL(), Email: jiratest.DefaultEmail, Token: jiratest.DefaultToken, JQL: "project = WEB"}, jira.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = c.Sync(ctx, "", func(context.Context, ingest.Batch) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("sync error = %v, want the context's", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("sync took %v to notice cancellation", d)
	}
	// The old search endpoint is never used on Cloud.
	for _, r := range srv.Requests() {
		if r.Path == "/rest/api/3/search" || r.Path == "/rest/api/2/search" {
			t.Errorf("request to the removed endpoint %s", r.Path)
		}
	}
}
