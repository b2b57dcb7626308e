package asana_test

// Tests of a busy Asana: time entries deleted without an event, tasks
// deleted or moved out of scope or between projects, listings that shift
// between page requests, a long Retry-After, odd characters. Each checks
// the warehouse equals the fake's truth (truth_test.go) after the sync and
// after the next.

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/throughline/throughline/connectors/asana"
	"github.com/throughline/throughline/connectors/asana/asanatest"
	"github.com/throughline/throughline/connectors/internal/httpretry"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/ingest/ingesttest"
	"github.com/throughline/throughline/warehouse"
)

const (
	opsGID   = "1200000000000002" // the second configured project
	otherGID = "1200000000000003" // a project out of scope
)

var opsSections = []obj{
	{"gid": "1100000000000011", "resource_type": "section", "name": "Queue"},
	{"gid": "1100000000000012", "resource_type": "section", "name": "Doing"},
	{"gid": "1100000000000013", "resource_type": "section", "name": "Closed"},
}

// opsProject is a second project of n tasks (gids 17…), in its own
// sections, some moved once, every third with a time entry.
func opsProject(n int) asanatest.Project {
	p := asanatest.Project{GID: opsGID, Name: "Operations", Sections: opsSections,
		Subtasks: map[string][]obj{}, Stories: map[string][]obj{}, Entries: map[string][]obj{}}
	ref := obj{"gid": opsGID, "resource_type": "project", "name": "Operations"}
	base := time.Date(2026, 2, 2, 9, 0, 0, 0, time.UTC)
	for i := range n {
		gid := fmt.Sprintf("17%014d", i)
		created := base.Add(time.Duration(i) * time.Hour)
		sec := opsSections[i%2]
		t := obj{"gid": gid, "resource_type": "task", "name": fmt.Sprintf("Ops %d", i), "resource_subtype": "default_task",
			"completed": false, "completed_at": nil, "created_at": asanatest.Timestamp(created), "modified_at": asanatest.Timestamp(created),
			"due_on": nil, "due_at": nil, "assignee": asanatest.Users[i%2], "parent": nil, "num_subtasks": 0,
			"memberships": []obj{{"project": ref, "section": sec}}}
		if i%2 == 1 {
			at := created.Add(2 * time.Hour)
			p.Stories[gid] = []obj{{"gid": fmt.Sprintf("18%014d", i), "resource_type": "story", "type": "system", "resource_subtype": "section_changed",
				"created_at": asanatest.Timestamp(at), "created_by": asanatest.Users[0], "old_section": opsSections[0], "new_section": opsSections[1]}}
			t["modified_at"] = asanatest.Timestamp(at)
		}
		if i%3 == 0 {
			p.Entries[gid] = []obj{{"gid": fmt.Sprintf("19%014d", i), "resource_type": "time_tracking_entry", "duration_minutes": 15 * (1 + i%4),
				"entered_on": created.Format(time.DateOnly), "created_by": asanatest.Users[i%2], "created_at": asanatest.Timestamp(created)}}
		}
		p.Tasks = append(p.Tasks, t)
	}
	return p
}

func otherProject() asanatest.Project {
	return asanatest.Project{GID: otherGID, Name: "Elsewhere", Sections: []obj{{"gid": "1100000000000021", "resource_type": "section", "name": "Inbox"}}}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// asite is a fake Asana with two configured projects (the fake's and ops)
// and one out of scope, a warehouse, and the connector's clock.
type asite struct {
	t          *testing.T
	srv        *asanatest.Server
	db         *warehouse.DB
	clock      *clock
	configured []string
	sl         *sleeps
}

func newASite(t *testing.T, tasks, opsTasks int) *asite {
	t.Helper()
	return &asite{t: t, srv: asanatest.NewWith(t, asanatest.GenerateProject(tasks), opsProject(opsTasks), otherProject()),
		db: openWarehouse(t), clock: &clock{t: time.Now()}, configured: []string{asanatest.ProjectGID, opsGID}, sl: &sleeps{}}
}

// sync runs a sync a day after the last (a reconciliation is due).
func (s *asite) sync() (ingest.Run, error) {
	s.clock.advance(24 * time.Hour)
	c, err := asana.New(asana.Config{BaseURL: s.srv.BaseURL(), Workspace: "1000000000000000", Projects: s.configured,
		TokenEnv: "ASANA_TOKEN", Token: asanatest.Token}, asana.Options{Now: s.clock.now, Sleep: s.sl.sleep})
	if err != nil {
		s.t.Fatal(err)
	}
	return ingest.Sync(s.t.Context(), s.db, s.db, whSource, c, ingest.SyncOptions{Now: s.clock.now})
}

func (s *asite) mustSync() ingest.Run {
	s.t.Helper()
	r, err := s.sync()
	if err != nil {
		s.t.Fatalf("sync: %v", err)
	}
	return r
}

func (s *asite) check(when string, excused ...string) aTruth {
	s.t.Helper()
	return checkAsana(s.t, when, s.db, s.srv, s.configured, excused...)
}

// Finding 10: a deleted time entry stayed (and counted in utilization), as
// did the entries of deleted tasks and of tasks moved out of scope.
func TestAsanaTimeEntriesFollowTheSource(t *testing.T) {
	s := newASite(t, 30, 12)
	s.mustSync()
	s.check("after the first sync")
	const (
		entryGone = "1500000000000001" // task 0's first entry, deleted without an event
		deleted   = "1300000000000010" // task 10, with two entries, deleted
		movedOut  = "1700000000000003" // ops task 3, with an entry, moved out of scope
	)
	if !s.srv.DeleteTimeEntry(entryGone) {
		t.Fatal("no entry " + entryGone)
	}
	s.srv.DeleteTask(deleted)
	s.srv.MoveTask(movedOut, otherGID)
	s.mustSync()
	s.check("after the sync")
	for _, id := range []string{entryGone, "1500000000000003", "1500000000000004", "1900000000000003"} {
		if n := count(t, s.db, "SELECT count(*) FROM worklogs WHERE worklog_id = ?", "asana:"+id); n != 0 {
			t.Errorf("time entry %s still stored", id)
		}
	}
	s.mustSync()
	s.check("after the next sync")
}

// Finding 10: a task moved from the second configured project to the first
// was stored under the second, status "To Do", until it changed again.
func TestAsanaTaskTakesItsCurrentProject(t *testing.T) {
	s := newASite(t, 30, 12)
	s.mustSync()
	const task = "1700000000000005" // in ops, section Doing
	// Changed in ops (an event there), then moved to the first project's In Progress.
	s.srv.UpdateTask(task, func(t obj) { t["name"] = "Renamed in ops" })
	s.srv.MoveTask(task, asanatest.ProjectGID)
	s.srv.UpdateTask(task, func(t obj) {
		t["memberships"] = []obj{{"project": projectRef, "section": asanatest.Sections[1]}}
	})
	s.mustSync()
	s.check("after the sync")
	it := queryItem(t, s.db, task)
	var proj string
	if err := s.db.QueryRow("SELECT project_id FROM work_items WHERE key = ?", task).Scan(&proj); err != nil {
		t.Fatal(err)
	}
	if proj != "asana:"+asanatest.ProjectGID || it.Status != "In Progress" {
		t.Errorf("moved task: project %s, status %q; want the first project, In Progress", proj, it.Status)
	}
	s.mustSync()
	s.check("after the next sync")
}

// A listing paged by position skips a task moved up between two page
// requests; a reconciliation listing must not mark a task deleted that one
// listing missed, and must catch one deleted during it.
func TestAsanaListingDrift(t *testing.T) {
	s := newASite(t, 250, 12)
	var moved string
	s.srv.Drift(func(e asanatest.Edit, c asanatest.ListCall) {
		if c.Path == "/tasks" && c.Offset && moved == "" {
			p := e.Projects()[0]
			moved = sv(p.Tasks[len(p.Tasks)-1]["gid"]) // from the last page to the top
			e.MoveToTop(moved)
		}
	})
	s.mustSync()
	s.srv.Drift(nil)
	if moved == "" {
		t.Fatal("the drift hook never ran")
	}
	s.check("after the first sync")

	const gone = "1300000000000020"
	var flaky obj
	listings := 0
	s.srv.Drift(func(e asanatest.Edit, c asanatest.ListCall) {
		if c.Path != "/tasks" || c.Query["opt_fields"][0] != liveFields || c.Query["project"][0] != asanatest.ProjectGID {
			return
		}
		listings++
		p := e.Projects()[0]
		switch listings {
		case 2: // the first listing's second page: a task of page 1 is deleted, one of page 2 hides
			e.DeleteTask(gone)
			i := slices.IndexFunc(p.Tasks, func(t obj) bool { return t["gid"] == "1300000000000150" })
			flaky = p.Tasks[i]
			p.Tasks = slices.Delete(p.Tasks, i, i+1)
		case 3:
			p.Tasks = append(p.Tasks, flaky)
		}
	})
	s.mustSync()
	s.srv.Drift(nil)
	if listings < 4 {
		t.Fatalf("%d reconciliation pages of the first project, want two listings of several", listings)
	}
	s.check("after the sync")
	if it := queryItem(t, s.db, gone); !it.Deleted {
		t.Errorf("%s deleted during the listing is live", gone)
	}
	s.mustSync()
	s.check("after the next sync")
}

// Finding 8: a 429 asking to wait an hour stops the sync, naming the wait.
func TestAsanaLongRetryAfterStops(t *testing.T) {
	s := newASite(t, 30, 12)
	s.mustSync()
	cur, _ := s.db.Cursor(t.Context(), whSource)
	s.srv.UpdateTask("1300000000000003", func(t obj) { t["name"] = "Changed" })
	s.srv.Throttle("/events", 3600)
	_, err := s.sync()
	var ra *httpretry.RetryAfterError
	if !errors.As(err, &ra) || ra.Wait != time.Hour || ra.Name != "asana" {
		t.Fatalf("sync error = %v, want an asana RetryAfterError of 1h", err)
	}
	if len(s.sl.got()) != 0 {
		t.Errorf("waited %v", s.sl.got())
	}
	if now, _ := s.db.Cursor(t.Context(), whSource); now != cur {
		t.Errorf("cursor moved: %s → %s", cur, now)
	}
	s.mustSync()
	s.check("after the next sync")
}

// Finding 4, Asana: a lone surrogate in a task name is stored, repaired and named.
func TestAsanaOddCharacters(t *testing.T) {
	s := newASite(t, 30, 12)
	s.srv.Mutate(func(p *asanatest.Project) { p.Tasks[7]["name"] = rawJSON(`"x\ud83d y"`) })
	r := s.mustSync()
	s.check("after the sync")
	if r.Problems != 1 {
		t.Errorf("run problems = %d, want 1", r.Problems)
	}
	if n := count(t, s.db, "SELECT count(*) FROM ingest_problems WHERE item_key = '1300000000000007' AND column_name = 'name'"); n != 1 {
		t.Errorf("%d problems naming task 7's name, want 1", n)
	}
	s.mustSync()
	s.check("after the next sync")
}

func count(t *testing.T, db *warehouse.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// TestAsanaRandomizedBusySite is the Jira randomized test's twin: rounds
// of random renames, section moves, completions, deletions, moves between
// projects (and out of scope), reorderings and time entries, a busy sync
// while the site keeps changing between list page requests (with 429s,
// 500s, and now and then expired events tokens: polling), then a quiet
// sync; the warehouse equals the truth (all of it after the quiet sync).
// THROUGHLINE_BUSY_ROUNDS and THROUGHLINE_BUSY_SEED as for Jira.
func TestAsanaRandomizedBusySite(t *testing.T) {
	rounds, seed := 6, uint64(1)
	if v := os.Getenv("THROUGHLINE_BUSY_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("THROUGHLINE_BUSY_ROUNDS=%q", v)
		}
		rounds = n
	}
	if v := os.Getenv("THROUGHLINE_BUSY_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("THROUGHLINE_BUSY_SEED=%q", v)
		}
		seed = n
	}
	start := time.Now()
	rng := rand.New(rand.NewPCG(seed, 3))
	s := newASite(t, 120, 40)
	s.mustSync()
	s.check("after the first sync")
	var checked struct{ items, changes, worklogs int }
	tally := func(w aTruth) {
		i, c, wl := w.Sizes()
		checked.items, checked.changes, checked.worklogs = checked.items+i, checked.changes+c, checked.worklogs+wl
	}
	next := 0
	for round := 1; round <= rounds; round++ {
		where := fmt.Sprintf("seed %d round %d", seed, round)
		s.srv.Do(time.Now(), func(e asanatest.Edit) {
			for range 1 + rng.IntN(10) {
				next++
				randomAsanaChange(rng, e, next)
			}
		})
		if rng.IntN(5) == 0 {
			s.srv.ExpireSyncTokens() // this sync polls from the watermark
		}
		last := asanaTruth(s.srv, s.configured...)
		var changed []string
		s.srv.Drift(func(e asanatest.Edit, c asanatest.ListCall) {
			switch rng.IntN(15) {
			case 0:
				s.srv.Throttle(c.Path, rng.IntN(30))
			case 1:
				s.srv.FailOnce(c.Path)
			}
			if rng.IntN(4) == 0 {
				next++
				randomAsanaChange(rng, e, next)
				now := asanaTruthFrom(e.Projects(), s.configured...)
				changed = append(changed, ingesttest.Touched(last, now)...)
				last = now
			}
		})
		if _, err := s.sync(); err != nil {
			t.Fatalf("%s: busy sync: %v", where, err)
		}
		s.srv.Drift(nil)
		tally(s.check(where+", after the busy sync", changed...))
		s.mustSync()
		tally(s.check(where + ", after the quiet sync"))
		if t.Failed() {
			t.Fatalf("%s: stopping at the first round that differs", where)
		}
	}
	t.Logf("%d rounds (seed %d): checked %d items, %d transitions, %d worklogs in %v",
		rounds, seed, checked.items, checked.changes, checked.worklogs, time.Since(start).Round(time.Millisecond))
}

// randomAsanaChange applies one random change; n makes new gids unique.
func randomAsanaChange(rng *rand.Rand, e asanatest.Edit, n int) {
	type at struct {
		p *asanatest.Project
		t obj
	}
	var all []at
	for _, p := range e.Projects() {
		for _, t := range p.Tasks {
			all = append(all, at{p, t})
		}
	}
	if len(all) == 0 {
		return
	}
	pick := all[rng.IntN(len(all))]
	gid := sv(pick.t["gid"])
	secs := pick.p.Sections
	if secs == nil {
		secs = asanatest.Sections
	}
	ref := obj{"gid": pick.p.GID, "resource_type": "project", "name": pick.p.Name}
	if pick.p.GID == "" {
		ref = projectRef
	}
	story := func(subtype string, extra obj) obj {
		st := obj{"gid": fmt.Sprintf("16%014d", n), "type": "system", "resource_subtype": subtype, "created_by": asanatest.Users[n%2]}
		for k, v := range extra {
			st[k] = v
		}
		return st
	}
	switch op := rng.IntN(100); {
	case op < 20:
		e.UpdateTask(gid, func(t obj) { t["name"] = fmt.Sprintf("Renamed %d", n) })
	case op < 40: // a section move in its project
		if pick.t["completed"] == true {
			return
		}
		to := secs[rng.IntN(len(secs))]
		var from obj
		for _, m := range list(pick.t["memberships"]) {
			if sv(ov(m["project"])["gid"]) == sv(ref["gid"]) {
				from = ov(m["section"])
			}
		}
		e.AddStory(gid, story("section_changed", obj{"old_section": from, "new_section": to}))
		e.UpdateTask(gid, func(t obj) { t["memberships"] = []obj{{"project": ref, "section": to}} })
	case op < 52: // complete or reopen
		done := pick.t["completed"] == true
		sub := "marked_complete"
		if done {
			sub = "marked_incomplete"
		}
		e.AddStory(gid, story(sub, nil))
		e.UpdateTask(gid, func(t obj) {
			t["completed"] = !done
			if done {
				t["completed_at"] = nil
			} else {
				t["completed_at"] = asanatest.Timestamp(time.Now())
			}
		})
	case op < 58:
		if pick.t["resource_subtype"] != "milestone" {
			e.DeleteTask(gid)
		}
	case op < 68: // to another project (the out-of-scope one now and then)
		if pick.t["resource_subtype"] == "milestone" {
			return
		}
		to := []string{asanatest.ProjectGID, opsGID, otherGID}[rng.IntN(3)]
		if to != sv(ref["gid"]) {
			e.MoveTask(gid, to)
		}
	case op < 75:
		e.MoveToTop(gid)
	case op < 88: // log time (no event)
		e.AddTimeEntry(gid, obj{"gid": fmt.Sprintf("15%014d", 50000+n), "resource_type": "time_tracking_entry",
			"duration_minutes": 15 * (1 + rng.IntN(8)), "entered_on": time.Now().Format(time.DateOnly),
			"created_by": asanatest.Users[n%2], "created_at": asanatest.Timestamp(time.Now())})
	default: // delete an entry (no event)
		for _, p := range e.Projects() {
			if es := p.Entries[gid]; len(es) > 0 {
				e.DeleteTimeEntry(sv(es[rng.IntN(len(es))]["gid"]))
				return
			}
		}
	}
}

// rawJSON is a value the fake renders exactly as given.
func rawJSON(text string) json.RawMessage { return json.RawMessage(text) }

// Finding 9, Asana: an estimate of an unexpected type is a problem, not a
// failed sync nor a silent NULL.
func TestAsanaEstimateOfAnotherType(t *testing.T) {
	srv := asanatest.New(t)
	srv.Mutate(func(p *asanatest.Project) {
		for _, f := range list(p.Tasks[3]["custom_fields"]) {
			if f["name"] == asanatest.EstimateField {
				f["number_value"] = "1.5"
			}
		}
	})
	db := openWarehouse(t)
	c, err := asana.New(asana.Config{BaseURL: srv.BaseURL(), Projects: []string{asanatest.ProjectGID}, Token: asanatest.Token,
		EstimateField: asanatest.EstimateField}, asana.Options{Sleep: (&sleeps{}).sleep})
	if err != nil {
		t.Fatal(err)
	}
	r, err := ingest.Sync(t.Context(), db, db, whSource, c, ingest.SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Problems != 1 {
		t.Errorf("run problems = %d, want 1", r.Problems)
	}
	if n := count(t, db, "SELECT count(*) FROM ingest_problems WHERE item_key = '1300000000000003' AND column_name = ? AND reason LIKE '%not a number%'",
		"custom_fields."+asanatest.EstimateField); n != 1 {
		t.Errorf("%d problems naming the estimate of task 3, want 1", n)
	}
	if n := count(t, db, "SELECT count(*) FROM work_items WHERE key = '1300000000000003' AND estimate_seconds IS NULL"); n != 1 {
		t.Error("task 3's estimate is not NULL")
	}
}
