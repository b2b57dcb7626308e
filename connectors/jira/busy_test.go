package jira_test

// Tests of a busy site: the site changes while a sync pages through it,
// pages repeat, shrink or come back empty, payloads carry nulls and odd
// characters, Retry-After asks for an hour. Each checks that the warehouse
// equals the fake's truth (truth_test.go) after the sync and after the next.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/throughline/throughline/connectors/internal/httpretry"
	"github.com/throughline/throughline/connectors/jira"
	"github.com/throughline/throughline/connectors/jira/jiratest"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/metrics"
	"github.com/throughline/throughline/warehouse"
)

// clock is a time shared by the fake and the connector.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// site is a fake Jira site, a warehouse and the clock they share.
type site struct {
	t     *testing.T
	srv   *jiratest.Server
	db    *warehouse.DB
	clock *clock
	dc    bool
	scope []string
	page  int
	sl    *sleeps
	max   time.Duration // MaxRetryAfter of the connector (0: default)
}

// newSite generates issues in projects AB and CD (the scope) and adds ZZ,
// a project out of scope.
func newSite(t *testing.T, dc bool, issues, page int, opt jiratest.Options) *site {
	t.Helper()
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	st := &site{t: t, clock: &clock{t: start}, dc: dc, scope: []string{"AB", "CD"}, page: page, sl: &sleeps{}}
	d := jiratest.Generate(jiratest.GenOptions{Issues: issues, Projects: st.scope, Seed: 42, Now: start.Add(-time.Hour)})
	d.Projects = append(d.Projects, jiratest.Object{"id": "19999", "key": "ZZ", "name": "ZZ Project", "projectTypeKey": "software", "simplified": false})
	opt.DataCenter = dc
	opt.Now = st.clock.now
	st.srv = jiratest.NewTest(t, d, opt)
	st.db = openWarehouse(t)
	return st
}

func (s *site) connector() *jira.Connector {
	s.t.Helper()
	cfg := jira.Config{BaseURL: s.srv.BaseURL(), JQL: "project in (AB, CD)", TokenEnv: "JIRA_API_TOKEN", PageSize: s.page, MaxRetryAfter: s.max}
	if s.dc {
		cfg.Token = jiratest.DefaultPAT
	} else {
		cfg.Email, cfg.Token = jiratest.DefaultEmail, jiratest.DefaultToken
	}
	c, err := jira.New(cfg, jira.Options{Now: s.clock.now, Sleep: s.sl.sleep})
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// sync runs a sync a day after the last (so its reconciliation is due).
func (s *site) sync(opt ingest.SyncOptions) (ingest.Run, error) {
	s.clock.advance(24 * time.Hour)
	opt.Now = s.clock.now
	return ingest.Sync(s.t.Context(), s.db, s.db, "jira", s.connector(), opt)
}

func (s *site) mustSync() ingest.Run {
	s.t.Helper()
	r, err := s.sync(ingest.SyncOptions{})
	if err != nil {
		s.t.Fatalf("sync: %v", err)
	}
	return r
}

func (s *site) check(when string, excused ...string) truth {
	s.t.Helper()
	return checkTruth(s.t, when, s.db, s.srv, s.scope, excused...)
}

// keysByID returns the keys of the visible issues in id order.
func keysByID(d *jiratest.Dataset) []string {
	var out []string
	for _, is := range d.Issues {
		if !is.Deleted {
			out = append(out, is.Key)
		}
	}
	return out
}

// leaves returns the keys of the visible issues no other issue names as
// parent, in id order. (Children of a parent moved out of scope keep its
// old key until they change: Jira does not bump them, and the sync reads
// only the scope.)
func leaves(d *jiratest.Dataset) []string {
	parents := map[string]bool{}
	for _, is := range d.Issues {
		if p := obj(is.Fields["parent"]); p != nil {
			parents[str(p["key"])] = true
		}
	}
	var out []string
	for _, k := range keysByID(d) {
		if !parents[k] {
			out = append(out, k)
		}
	}
	return out
}

// edit changes an issue's summary at time at (updated moves).
func edit(d *jiratest.Dataset, key string, at time.Time) {
	is := d.Issue(key)
	is.Fields["summary"] = fmt.Sprintf("%s edited at %s", key, at.Format(time.RFC3339))
	is.Fields["updated"] = at.UTC().Format(jiratest.TimeLayout)
}

func forBoth(t *testing.T, f func(t *testing.T, dc bool)) {
	for _, dc := range []bool{false, true} {
		t.Run(map[bool]string{false: "cloud", true: "data center"}[dc], func(t *testing.T) { f(t, dc) })
	}
}

// Finding 1: an issue edited, or moved out of scope, between two page
// requests shifted every later issue back one place (Data Center's
// startAt) and the one at the boundary was never served.
func TestPagingDriftLosesNothing(t *testing.T) {
	forBoth(t, func(t *testing.T, dc bool) {
		s := newSite(t, dc, 200, 100, jiratest.Options{})
		var first, second string
		s.srv.Read(func(d *jiratest.Dataset) { ks := keysByID(d); first, second = ks[0], leaves(d)[1] })

		// The first sync: the first issue is edited before page 2 is asked for.
		s.srv.Drift(func(d *jiratest.Dataset, c jiratest.SearchCall) {
			if c.N == 2 {
				edit(d, first, s.clock.now())
			}
		})
		s.mustSync()
		s.srv.Drift(nil)
		s.check("after the first sync", first) // its edit is the next sync's
		s.mustSync()
		s.check("after the next sync")

		// An incremental pass of two pages: between them an issue of page
		// 1 is edited and another moved out of scope.
		var moved string
		s.srv.Mutate(func(d *jiratest.Dataset) {
			for _, k := range keysByID(d)[:150] {
				edit(d, k, s.clock.now().Add(time.Hour))
			}
		})
		s.srv.Drift(func(d *jiratest.Dataset, c jiratest.SearchCall) {
			if c.N == 2 {
				edit(d, first, s.clock.now())
				moved = d.MoveIssue(second, "ZZ", s.clock.now())
			}
		})
		s.mustSync()
		s.srv.Drift(nil)
		if moved == "" {
			t.Fatal("the drift hook did not run on page 2")
		}
		s.check("after the incremental sync", first)
		s.mustSync()
		s.check("after the next sync")
	})
}

// Finding 2: an issue deleted between two pages of the reconciliation
// listing made a live issue deleted while the deleted one stayed live; an
// issue one listing misses (a flaky index) must not be marked deleted.
func TestReconciliationDrift(t *testing.T) {
	forBoth(t, func(t *testing.T, dc bool) {
		// Listings of 40 ids a page.
		s := newSite(t, dc, 120, 40, jiratest.Options{IDPageCap: 40, MaxResultsCap: 40})
		s.mustSync()
		s.check("after the first sync")
		var deleted, flaky string
		s.srv.Read(func(d *jiratest.Dataset) { ks := keysByID(d); deleted, flaky = ks[10], ks[50] })
		listings := 0
		s.srv.Drift(func(d *jiratest.Dataset, c jiratest.SearchCall) {
			if !c.IDListing() {
				return
			}
			listings++
			switch listings {
			case 2: // the first listing's second page: an issue of page 1 goes
				d.DeleteIssue(deleted)
				d.Issue(flaky).Deleted = true // and one of page 2 is missing from it
			case 3:
				d.Issue(flaky).Deleted = false
			}
		})
		s.mustSync()
		s.srv.Drift(nil)
		if listings < 4 {
			t.Fatalf("%d listing pages, want two listings of several pages", listings)
		}
		s.check("after the sync")
		s.mustSync()
		s.check("after the next sync")
		if n := count(t, s.db, "SELECT count(*) FROM work_items WHERE key = ? AND deleted", deleted); n != 1 {
			t.Errorf("%s deleted during the listing is not marked deleted", deleted)
		}
	})
}

// Finding 3: the same issue on two adjacent pages doubled its history.
func TestRepeatedIssueStoredOnce(t *testing.T) {
	forBoth(t, func(t *testing.T, dc bool) {
		s := newSite(t, dc, 250, 100, jiratest.Options{})
		s.srv.RepeatLastIssue(2)
		s.mustSync()
		s.check("after the sync")
		if _, err := metrics.Compute(t.Context(), s.db.DB, metrics.Params{Now: s.clock.now(), Location: time.UTC, WindowDays: 90}); err != nil {
			t.Fatal(err)
		}
		if n := count(t, s.db, "SELECT count(*) FROM (SELECT item_id FROM item_flow GROUP BY ALL HAVING count(*) > 1)"); n != 0 {
			t.Errorf("%d items twice in item_flow", n)
		}
		s.srv.RepeatLastIssue(3)
		s.mustSync()
		s.check("after the next sync")
	})
}

// Shrinking pages (fewer issues than asked, paging fields of a full page)
// lose nothing: the next page asks after the last id received.
func TestShrinkingPagesLoseNothing(t *testing.T) {
	forBoth(t, func(t *testing.T, dc bool) {
		s := newSite(t, dc, 250, 100, jiratest.Options{})
		s.srv.ShrinkPages(3, 30)
		s.mustSync()
		s.check("after the sync")
		s.srv.ShrinkPages(5, 1)
		s.mustSync()
		s.check("after the next sync")
	})
}

// Finding 4: a lone UTF-16 surrogate (valid JSON text) stopped every sync;
// invalid UTF-8 was replaced without a problem recorded.
func TestOddCharactersStoredWithProblems(t *testing.T) {
	forBoth(t, func(t *testing.T, dc bool) {
		s := newSite(t, dc, 30, 100, jiratest.Options{})
		var lone, bad string
		s.srv.Mutate(func(d *jiratest.Dataset) {
			ks := keysByID(d)
			lone, bad = ks[3], ks[4]
			d.Issue(lone).Fields["summary"] = jiratest.Raw(`"x\ud83d y"`)
			d.Issue(bad).Fields["summary"] = jiratest.Raw("\"caf\xe9 au lait\"")
		})
		r := s.mustSync()
		s.check("after the sync")
		if r.Problems != 2 {
			t.Errorf("run problems = %d, want 2", r.Problems)
		}
		for key, what := range map[string]string{lone: `lone UTF-16 surrogate \ud83d`, bad: "invalid UTF-8"} {
			if n := count(t, s.db, "SELECT count(*) FROM ingest_problems WHERE item_key = ? AND column_name = 'fields.summary' AND reason LIKE ?", key, what+"%"); n != 1 {
				t.Errorf("%s: %d problems naming fields.summary and %q, want 1", key, n, what)
			}
		}
		var title string
		if err := s.db.QueryRow("SELECT title FROM work_items WHERE key = ?", lone).Scan(&title); err != nil || title != "x\uFFFD y" {
			t.Errorf("title of %s = %q (%v), want %q", lone, title, err, "x\uFFFD y")
		}
		if n := count(t, s.db, `SELECT count(*) FROM raw_payloads WHERE payload->'fields'->>'summary' = 'x`+"\uFFFD"+` y'`); n != 1 {
			t.Errorf("raw payload of %s not stored with U+FFFD", lone)
		}
		// Later changes still commit; re-reading the issue replaces its problems.
		s.srv.Mutate(func(d *jiratest.Dataset) { edit(d, lone, s.clock.now().Add(time.Hour)) })
		s.mustSync()
		s.check("after the next sync")
		if n := count(t, s.db, "SELECT count(*) FROM ingest_problems"); n != 1 {
			t.Errorf("%d problems after %s was fixed and re-read, want 1 (for %s)", n, lone, bad)
		}
	})
}

// Finding 5: a null end of a status history item broke compute for the
// whole warehouse, naming neither the item nor the source.
func TestNullHistoryEnds(t *testing.T) {
	forBoth(t, func(t *testing.T, dc bool) {
		s := newSite(t, dc, 30, 100, jiratest.Options{})
		var nullFrom, nullTo string
		s.srv.Mutate(func(d *jiratest.Dataset) {
			ks := keysByID(d)
			nullFrom, nullTo = ks[1], ks[2]
			setNull := func(key, end string) {
				is := d.Issue(key)
				for _, h := range is.Histories {
					for _, x := range historyItems(h) {
						if x["field"] == "status" {
							x[end], x[end+"String"] = nil, nil
							return
						}
					}
				}
				t.Fatalf("%s has no status history", key)
			}
			// Items are shared between generated issues: give each its own.
			for _, k := range []string{nullFrom, nullTo} {
				is := d.Issue(k)
				for i, h := range is.Histories {
					h = cloneHistory(h)
					is.Histories[i] = h
				}
			}
			setNull(nullFrom, "from")
			setNull(nullTo, "to")
		})
		r := s.mustSync()
		s.check("after the sync")
		if r.Problems != 2 {
			t.Errorf("run problems = %d, want 2", r.Problems)
		}
		for _, k := range []string{nullFrom, nullTo} {
			if n := count(t, s.db, "SELECT count(*) FROM status_changes WHERE item_id = ? AND (from_status = '(unknown)' OR to_status = '(unknown)')", "jira:"+k); n == 0 {
				t.Errorf("%s: no (unknown) status stored", k)
			}
			if n := count(t, s.db, "SELECT count(*) FROM ingest_problems WHERE item_key = ? AND column_name = 'changelog' AND reason LIKE '%(null)%'", k); n != 1 {
				t.Errorf("%s: %d problems naming the null end, want 1", k, n)
			}
		}
		if _, err := metrics.Compute(t.Context(), s.db.DB, metrics.Params{Now: s.clock.now(), Location: time.UTC, WindowDays: 90}); err != nil {
			t.Fatalf("compute: %v", err)
		}
		var items int
		var keys string
		if err := s.db.QueryRow(`SELECT items, example_keys FROM data_quality WHERE source = 'jira' AND "check" = 'unknown_status'`).Scan(&items, &keys); err != nil {
			t.Fatalf("data_quality unknown_status: %v", err)
		}
		if items != 2 || !strings.Contains(keys, nullFrom) || !strings.Contains(keys, nullTo) {
			t.Errorf("data_quality unknown_status = %d %q, want 2 naming %s and %s", items, keys, nullFrom, nullTo)
		}
		s.mustSync()
		s.check("after the next sync")
	})
}

func cloneHistory(h jiratest.Object) jiratest.Object {
	out := jiratest.Object{}
	for k, v := range h {
		out[k] = v
	}
	var items []any
	for _, x := range historyItems(h) {
		c := jiratest.Object{}
		for k, v := range x {
			c[k] = v
		}
		items = append(items, c)
	}
	out["items"] = items
	return out
}

// Finding 6: `sync --full` kept worklogs deleted upstream, and reset the
// reconciliation clock without reconciling.
func TestFullSyncIsFull(t *testing.T) {
	forBoth(t, func(t *testing.T, dc bool) {
		s := newSite(t, dc, 60, 100, jiratest.Options{})
		s.mustSync()
		var gone, wlGone string
		s.srv.Mutate(func(d *jiratest.Dataset) {
			ks := keysByID(d)
			gone = ks[7]
			d.DeleteIssue(gone)
			for _, k := range ks[8:] {
				if is := d.Issue(k); len(is.Worklogs) > 0 {
					// Gone without a trace in /worklog/deleted.
					wlGone = fmt.Sprint(is.Worklogs[0].Object["id"])
					is.Worklogs = is.Worklogs[1:]
					break
				}
			}
		})
		if wlGone == "" {
			t.Fatal("no worklog in the generated data")
		}
		// An hour later (no reconciliation due), a full re-sync.
		s.clock.advance(-23 * time.Hour)
		if _, err := s.sync(ingest.SyncOptions{Full: true}); err != nil {
			t.Fatal(err)
		}
		s.check("after the full sync")
		if n := count(t, s.db, "SELECT count(*) FROM worklogs WHERE worklog_id = ?", "jira:worklog:"+wlGone); n != 0 {
			t.Errorf("worklog %s deleted upstream still stored", wlGone)
		}
		s.mustSync()
		s.check("after the next sync")
	})
}

// Finding 7: an epic moved to another project left its children on the old
// key (Jira does not bump their updated) and its old milestone row; a
// renamed version left a stale row.
func TestMovesAndRenamesFollow(t *testing.T) {
	forBoth(t, func(t *testing.T, dc bool) {
		s := newSite(t, dc, 200, 100, jiratest.Options{})
		s.mustSync()
		var epic, newKey, version string
		var children []string
		s.srv.Mutate(func(d *jiratest.Dataset) {
			kids := map[string][]string{}
			for _, is := range d.Issues {
				if p := obj(is.Fields["parent"]); p != nil {
					kids[str(p["key"])] = append(kids[str(p["key"])], is.Key)
				}
			}
			for _, is := range d.Issues {
				if isEpic(obj(is.Fields["issuetype"])) && strings.HasPrefix(is.Key, "AB-") && len(kids[is.Key]) > 1 && is.Fields["duedate"] != nil {
					epic, children = is.Key, kids[is.Key]
					break
				}
			}
			for _, is := range d.Issues {
				if fvs, _ := is.Fields["fixVersions"].([]any); len(fvs) > 0 && strings.HasPrefix(is.Key, "AB-") {
					version = str(obj(fvs[0])["name"])
					break
				}
			}
			if epic == "" || version == "" {
				t.Fatal("generated data lacks an AB epic with children and a due date, or an AB fix version")
			}
			newKey = d.MoveIssue(epic, "CD", s.clock.now().Add(time.Hour))
			d.RenameVersion("AB", version, version+" (renamed)")
		})
		s.mustSync()
		s.check("after the sync")
		for _, k := range children {
			if n := count(t, s.db, "SELECT count(*) FROM work_items WHERE key = ? AND parent_id = ?", k, "jira:"+newKey); n != 1 {
				t.Errorf("child %s does not name the moved epic %s", k, newKey)
			}
		}
		if n := count(t, s.db, "SELECT count(*) FROM milestones WHERE milestone_id = ? OR name = ?", "jira:AB:"+epic, version); n != 0 {
			t.Errorf("%d stale milestone rows (%s, %s)", n, epic, version)
		}
		s.mustSync()
		s.check("after the next sync")
	})
}

// Finding 8: a 429 with Retry-After: 3600 made a sync sleep an hour.
func TestLongRetryAfterStops(t *testing.T) {
	forBoth(t, func(t *testing.T, dc bool) {
		s := newSite(t, dc, 150, 100, jiratest.Options{})
		s.mustSync()
		s.srv.Mutate(func(d *jiratest.Dataset) { edit(d, keysByID(d)[5], s.clock.now().Add(time.Hour)) })
		cur, _ := s.db.Cursor(t.Context(), "jira")
		search := "/rest/api/3/search/jql"
		if dc {
			search = "/rest/api/2/search"
		}
		s.srv.Throttle(search, 1, time.Hour)
		_, err := s.sync(ingest.SyncOptions{})
		var ra *httpretry.RetryAfterError
		if !errors.As(err, &ra) || ra.Wait != time.Hour || ra.Max != httpretry.DefaultMaxRetryAfter {
			t.Fatalf("sync error = %v, want a RetryAfterError of 1h over the 2m cap", err)
		}
		for _, w := range []string{"jira", "1h0m0s", "max_retry_after 2m0s", search} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not name %q", err, w)
			}
		}
		if len(s.sl.got()) != 0 {
			t.Errorf("waited %v", s.sl.got())
		}
		if now, _ := s.db.Cursor(t.Context(), "jira"); now != cur {
			t.Errorf("cursor moved: %s → %s", cur, now)
		}
		s.mustSync()
		s.check("after the next sync")

		// A cap of 2 h waits the hour.
		s.max = 2 * time.Hour
		s.srv.Throttle(search, 1, time.Hour)
		s.mustSync()
		if w := s.sl.got(); !slices.Equal(w, []time.Duration{time.Hour}) {
			t.Errorf("waits with a 2 h cap = %v, want [1h]", w)
		}
	})
}

// Finding 9: a page with no issues but a next page ended the pass ("ok"
// with 5 of 15 issues); a 200 answer that was HTML or truncated JSON failed
// naming neither; story points of an unexpected type became NULL silently.
func TestSilentPartialPages(t *testing.T) {
	forBoth(t, func(t *testing.T, dc bool) {
		search := "/rest/api/3/search/jql"
		if dc {
			search = "/rest/api/2/search"
		}
		t.Run("empty page that says more follow", func(t *testing.T) {
			s := newSite(t, dc, 15, 5, jiratest.Options{})
			// Page 2 comes back empty twice, then right: asked again.
			s.srv.Drift(func(d *jiratest.Dataset, c jiratest.SearchCall) {
				if c.N == 2 {
					c.EmptyPages(2)
				}
			})
			s.mustSync()
			s.srv.Drift(nil)
			s.check("after the sync")
			// Empty every time: the sync fails, naming why, and stores nothing past it.
			s.srv.Mutate(func(d *jiratest.Dataset) {
				for _, k := range keysByID(d) {
					edit(d, k, s.clock.now().Add(time.Hour))
				}
			})
			s.srv.Drift(func(d *jiratest.Dataset, c jiratest.SearchCall) {
				if c.N == 2 {
					c.EmptyPages(10)
				}
			})
			_, err := s.sync(ingest.SyncOptions{})
			s.srv.Drift(nil)
			s.srv.EmptyPages(0)
			if err == nil || !strings.Contains(err.Error(), "had no issues but said more follow") {
				t.Fatalf("sync error = %v, want the incomplete listing named", err)
			}
			s.mustSync()
			s.check("after the next sync")
		})
		for _, kind := range []jiratest.BodyFault{jiratest.HTMLBody, jiratest.TruncatedBody} {
			name := map[jiratest.BodyFault]string{jiratest.HTMLBody: "html", jiratest.TruncatedBody: "truncated json"}[kind]
			t.Run(name, func(t *testing.T) {
				s := newSite(t, dc, 15, 5, jiratest.Options{})
				s.srv.BadBody(search, 2, kind) // retried
				s.mustSync()
				s.check("after a retried bad body")
				s.srv.Mutate(func(d *jiratest.Dataset) { edit(d, keysByID(d)[1], s.clock.now().Add(time.Hour)) })
				s.srv.BadBody(search, 10, kind)
				_, err := s.sync(ingest.SyncOptions{})
				var be *httpretry.BodyError
				if !errors.As(err, &be) {
					t.Fatalf("sync error = %v, want a BodyError", err)
				}
				want := []string{"HTTP 200 reply is not JSON", search}
				if kind == jiratest.HTMLBody {
					want = append(want, "text/html", "<!DOCTYPE html>")
				} else {
					want = append(want, "application/json", "cut short")
				}
				for _, w := range want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not name %q", err, w)
					}
				}
				s.srv.ClearBodyFaults()
				s.mustSync()
				s.check("after the next sync")
			})
		}
		t.Run("story points of another type", func(t *testing.T) {
			s := newSite(t, dc, 15, 5, jiratest.Options{})
			odd := map[string]any{}
			s.srv.Mutate(func(d *jiratest.Dataset) {
				for i, v := range []any{"3", jiratest.Object{"value": 3}, true} {
					k := keysByID(d)[i]
					d.Issue(k).Fields[jiratest.StoryPointsField] = v
					odd[k] = v
				}
			})
			// And fields of an unexpected shape: a sprint that is not one, an estimate as text.
			var sprintKey, estimateKey string
			s.srv.Mutate(func(d *jiratest.Dataset) {
				ks := keysByID(d)
				sprintKey, estimateKey = ks[5], ks[6]
				d.Issue(sprintKey).Fields[jiratest.SprintField] = []any{"not a sprint"}
				d.Issue(estimateKey).Fields["timeoriginalestimate"] = "3h"
			})
			r := s.mustSync()
			s.check("after the sync")
			if r.Problems != len(odd)+2 {
				t.Errorf("run problems = %d, want %d", r.Problems, len(odd)+2)
			}
			for key, col := range map[string]string{sprintKey: jiratest.SprintField, estimateKey: "timeoriginalestimate"} {
				if n := count(t, s.db, "SELECT count(*) FROM ingest_problems WHERE item_key = ? AND column_name = ?", key, col); n != 1 {
					t.Errorf("%s: %d problems naming %s, want 1", key, n, col)
				}
			}
			for k := range odd {
				if n := count(t, s.db, "SELECT count(*) FROM work_items WHERE key = ? AND story_points IS NULL", k); n != 1 {
					t.Errorf("%s: story points not NULL", k)
				}
				if n := count(t, s.db, "SELECT count(*) FROM ingest_problems WHERE item_key = ? AND column_name = ? AND reason LIKE 'story points: want a number%'", k, jiratest.StoryPointsField); n != 1 {
					t.Errorf("%s: %d problems naming the story points field, want 1", k, n)
				}
			}
		})
	})
}

// The retry policy is shared: a sync canceled during a long (allowed) wait
// stops at once.
func TestCancelDuringAllowedWait(t *testing.T) {
	s := newSite(t, false, 15, 5, jiratest.Options{})
	s.srv.Throttle("/rest/api/3/search/jql", 1, 100*time.Second)
	c, err := jira.New(jira.Config{BaseURL: s.srv.BaseURL(), Email: jiratest.DefaultEmail, Token: jiratest.DefaultToken, JQL: "project = AB"}, jira.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := c.Sync(ctx, "", func(context.Context, ingest.Batch) error { return nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("sync error = %v, want the context's", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("sync took %v to notice cancellation", d)
	}
}
