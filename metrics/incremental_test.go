package metrics_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/metrics"
	"github.com/throughline/throughline/warehouse"
	"github.com/throughline/throughline/warehouse/warehousetest"
)

// The equivalence of incremental and full compute: two warehouses receive
// the same sequence of random syncs (new transitions, reopenings, new
// items, deletions and reconciliations, moves, worklogs added, changed,
// moved and deleted, a person changing team, a project changing team,
// epics and re-parenting, milestones, time off) while the clock moves on
// across midnights and the spring DST change of Europe/Berlin. After each
// sync one warehouse computes incrementally, the other recomputes every
// item; every table must then hold the same rows.
//
// THROUGHLINE_EQUIV_STEPS sets the number of syncs (default 25: about half
// a minute) and THROUGHLINE_EQUIV_SEED the seed (default 1), for longer runs.
func TestIncrementalComputeEqualsFull(t *testing.T) {
	steps := envInt(t, "THROUGHLINE_EQUIV_STEPS", 25)
	seed := envInt(t, "THROUGHLINE_EQUIV_SEED", 1)
	ctx := context.Background()
	inc := warehousetest.Open(t, equivZone)
	full := warehousetest.Open(t, equivZone)
	m := newEquivModel(uint64(seed))
	incremental := 0 // computes that recomputed only the changed items
	clockOnly := 0   // syncs that changed nothing but the clock
	// Tables that held rows at some step (the comparison is not vacuous).
	held := map[string]bool{"item_flow": false, "wip_daily": false, "cumulative_flow": false, "cycle_time_stats": false,
		"utilization_weekly": false, "flow_counters": false, "data_quality": false, "aging_wip": false,
		"planner_weeks": false, "milestone_forecasts": false, "forecast_backtest_summary": false}

	commit := func(b ingest.Batch) {
		t.Helper()
		for _, db := range []*warehouse.DB{inc, full} {
			if err := db.Commit(ctx, "t", b); err != nil {
				t.Fatalf("commit: %v", err)
			}
		}
	}
	compute := func(step int, what string) {
		t.Helper()
		p := m.params()
		ri, err := metrics.Compute(ctx, inc.DB, p)
		if err != nil {
			t.Fatalf("step %d (%s): incremental compute: %v", step, what, err)
		}
		p.Full = true
		if _, err := metrics.Compute(ctx, full.DB, p); err != nil {
			t.Fatalf("step %d (%s): full compute: %v", step, what, err)
		}
		if step > 0 && !ri.Full {
			incremental++
		} else if step > 0 {
			t.Logf("step %d (%s): recomputed every item: %s", step, what, ri.Reason)
		}
		a, b := equivDump(t, inc), equivDump(t, full)
		if d := cmp.Diff(b, a); d != "" {
			t.Fatalf("step %d (%s, now %s, %d items recomputed): incremental compute differs from a full one (-full +incremental):\n%s",
				step, what, p.Now.Format(time.RFC3339), ri.Items, d)
		}
		for table := range held {
			if len(a[table]) > 0 {
				held[table] = true
			}
		}
	}

	commit(m.initial())
	compute(0, "initial import")
	for step := 1; step <= steps; step++ {
		b, what := m.change()
		if what == "clock only" {
			clockOnly++
		}
		commit(b)
		compute(step, what)
	}
	// A sync that changes most items is recomputed whole (the comparison
	// then proves little): in this small model a team's membership or an
	// account's email touches most items, so half the syncs at least must
	// be incremental.
	if incremental < steps/2 {
		t.Errorf("%d of %d computes recomputed only the changed items, want at least half", incremental, steps)
	}
	for table, ok := range held {
		if !ok {
			t.Errorf("%s never held a row: the comparison proves little", table)
		}
	}
	if clockOnly == 0 {
		t.Errorf("no sync changed only the clock: extend the steps")
	}
	if !m.crossedDST {
		t.Errorf("the clock never crossed the DST change (now %s): extend the steps", m.now)
	}
}

// TestConfigChangeRecomputesEverything: a compute after a change of the
// workflow, the teams or the work-class rules recomputes every item by
// itself, and one with the same config only the changed ones.
func TestConfigChangeRecomputesEverything(t *testing.T) {
	ctx := context.Background()
	m := newEquivModel(7)
	base := m.params()
	tests := []struct {
		name   string
		change func(*metrics.Params)
		full   bool
	}{
		{"same config", func(*metrics.Params) {}, false},
		{"workflow", func(p *metrics.Params) { p.Wait = []string{"Blocked"} }, true},
		{"team members", func(p *metrics.Params) { p.Teams[0].Members = append(p.Teams[0].Members, "eve@example.com") }, true},
		{"work-class rules", func(p *metrics.Params) { p.OperationalTypes = []string{"Bug"} }, true},
		{"window", func(p *metrics.Params) { p.WindowDays = 30 }, true},
		{"time zone", func(p *metrics.Params) { p.Location = time.UTC }, true},
		{"clock only", func(p *metrics.Params) { p.Now = p.Now.Add(36 * time.Hour) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := warehousetest.Open(t, equivZone)
			if err := db.Commit(ctx, "t", newEquivModel(7).initial()); err != nil {
				t.Fatal(err)
			}
			if _, err := metrics.Compute(ctx, db.DB, base); err != nil {
				t.Fatal(err)
			}
			p := base
			p.Teams = slices.Clone(base.Teams)
			p.Teams[0].Members = slices.Clone(base.Teams[0].Members)
			tt.change(&p)
			res, err := metrics.Compute(ctx, db.DB, p)
			if err != nil {
				t.Fatal(err)
			}
			if res.Full != tt.full {
				t.Errorf("full = %v (%s), want %v", res.Full, res.Reason, tt.full)
			}
			// Whichever way, the tables equal a full compute's.
			ref := warehousetest.Open(t, equivZone)
			if err := ref.Commit(ctx, "t", newEquivModel(7).initial()); err != nil {
				t.Fatal(err)
			}
			if _, err := metrics.Compute(ctx, ref.DB, base); err != nil {
				t.Fatal(err)
			}
			pf := p
			pf.Full = true
			if _, err := metrics.Compute(ctx, ref.DB, pf); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(equivDump(t, ref), equivDump(t, db)); d != "" {
				t.Errorf("after the change (-full +this compute):\n%s", d)
			}
		})
	}
}

// TestUnchangedTablesKeepChangedAt: an incremental compute writes a
// rebuilt table only when its rows differ (compute_tables keeps the
// changed_at of the others): a minute later nothing that depends on the
// day changes; a day later the ages of work in progress and the daily
// series do.
func TestUnchangedTablesKeepChangedAt(t *testing.T) {
	ctx := context.Background()
	db := warehousetest.Open(t, equivZone)
	m := newEquivModel(5)
	if err := db.Commit(ctx, "t", m.initial()); err != nil {
		t.Fatal(err)
	}
	p := m.params()
	changedAt := func() map[string]time.Time {
		t.Helper()
		out := map[string]time.Time{}
		rows, err := db.Query("SELECT table_name, changed_at FROM compute_tables")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var n string
			var at time.Time
			if err := rows.Scan(&n, &at); err != nil {
				t.Fatal(err)
			}
			out[n] = at
		}
		return out
	}
	stable := []string{"cycle_time_stats", "lead_time_stats", "throughput_daily", "throughput_weekly", "wip_daily",
		"cumulative_flow", "status_map", "aging_wip", "data_quality"}
	for i, step := range []struct {
		later   time.Duration
		changed []string // tables this compute must mark; the other stable ones must keep their mark
	}{
		{0, stable}, // the first compute writes every table
		{time.Minute, nil},
		{24 * time.Hour, []string{"aging_wip", "throughput_daily", "wip_daily", "cumulative_flow"}}, // a new day
	} {
		q := p
		q.Now = p.Now.Add(step.later)
		res, err := metrics.Compute(ctx, db.DB, q)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && res.Full {
			t.Fatalf("step %d recomputed every item (%s)", i, res.Reason)
		}
		var wip int
		if err := db.QueryRow("SELECT count(*) FROM aging_wip").Scan(&wip); err != nil {
			t.Fatal(err)
		}
		if wip == 0 {
			t.Fatal("no work in progress: the day-later step proves nothing")
		}
		got := changedAt()
		for _, table := range stable {
			want := !slices.Contains(step.changed, table)
			if kept := !got[table].Equal(q.Now); kept != want {
				t.Errorf("step %d (now + %v): %s changed_at %v, kept = %v, want %v", i, step.later, table, got[table], kept, want)
			}
		}
	}
}

func envInt(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, s, err)
	}
	return n
}

// equivDump is every table, without what differs by construction between
// two warehouses fed the same batches: the wall-clock times of commits and
// compute runs.
func equivDump(t *testing.T, db *warehouse.DB) map[string][]string {
	skip := map[string]bool{
		"sources.cursor_updated_at": true, "raw_payloads.fetched_at": true, "ingest_problems.observed_at": true,
		"milestone_due_changes.observed_at": true,
	}
	return dumpTablesWith(t, db, func(table, column, typ string) string {
		if table == "job_runs" || table == "schema_migrations" || table == "compute_tables" || skip[table+"."+column] {
			return ""
		}
		return `"` + column + `"`
	})
}

const equivZone = "Europe/Berlin"

var equivStatuses = []struct{ name, category string }{
	{"To Do", "new"}, {"In Progress", "indeterminate"}, {"In Review", "indeterminate"}, {"Blocked", "indeterminate"},
	{"Done", "done"}, {"Won't Do", "done"},
	{"Limbo", ""}, // in no workflow list and without a category: unmapped
	{"", ""},      // no status: stored as (unknown)
}

func equivCategory(status string) string {
	for _, s := range equivStatuses {
		if s.name == status {
			return s.category
		}
	}
	return ""
}

var (
	equivPeople   = []string{"ann@example.com", "bob@example.com", "carl@example.com", "dora@example.com", "eve@example.com"}
	equivProjects = []string{"WEB", "PAY", "OPS", "APP"}
	equivTypes    = []string{"Story", "Bug", "Incident", "Task", "Epic"}
)

// equivModel is what the source holds; each change returns the batch that
// tells the warehouse.
type equivModel struct {
	r          *rand.Rand
	now        time.Time
	items      map[string]*ingest.Item
	hist       map[string][]ingest.Transition
	keys       []string // in creation order
	worklogs   map[string]ingest.Worklog
	moved      map[string]bool // keys an item moved away from
	emails     int             // changes of eve's email
	next       int
	crossedDST bool
}

func newEquivModel(seed uint64) *equivModel {
	return &equivModel{
		r: rand.New(rand.NewPCG(seed, 15)),
		// 21:00 in Berlin, three days before the clocks go forward.
		now:   time.Date(2026, 3, 26, 20, 0, 0, 0, time.UTC),
		items: map[string]*ingest.Item{}, hist: map[string][]ingest.Transition{}, worklogs: map[string]ingest.Worklog{},
		moved: map[string]bool{},
	}
}

func (m *equivModel) params() metrics.Params {
	loc, _ := time.LoadLocation(equivZone)
	return metrics.Params{
		Now: m.now, Location: loc, WindowDays: 60,
		Teams: []metrics.Team{
			{Name: "web", Members: []string{"ann@example.com", "bob@example.com"}, Projects: []string{"WEB"}, HoursPerWeek: 40, WIPLimit: 3},
			{Name: "pay", Members: []string{"carl@example.com"}, Projects: []string{"PAY"}, HoursPerWeek: 32, SLEDays: 5},
			{Name: "ops", HoursPerWeek: 40},
		},
		Todo: []string{"To Do"}, Started: []string{"In Progress", "In Review", "Blocked"}, Wait: []string{"In Review", "Blocked"},
		Done: []string{"Done", "Won't Do"}, DiscardedResolutions: []string{"Won't Do"},
		OperationalTypes: []string{"Incident"}, ProjectProjects: []string{"PAY"},
		Trials: 200, Seed: 3,
	}
}

func (m *equivModel) pick(xs []string) string { return xs[m.r.IntN(len(xs))] }

// at is a random time in [from, to].
func (m *equivModel) at(from, to time.Time) time.Time {
	if !to.After(from) {
		return from
	}
	return from.Add(time.Duration(m.r.Int64N(int64(to.Sub(from)/time.Minute)+1)) * time.Minute)
}

// newItem creates an item with a random history up to now (sometimes one
// change a little after now, as a skewed clock gives).
func (m *equivModel) newItem() string {
	m.next++
	key := fmt.Sprintf("K-%d", m.next)
	created := m.at(m.now.Add(-50*24*time.Hour), m.now.Add(-time.Hour))
	it := &ingest.Item{Key: key, ExternalID: "x" + strconv.Itoa(m.next), Project: m.pick(equivProjects), Type: m.pick(equivTypes),
		Title: "Item " + key, CreatedAt: created, UpdatedAt: created}
	if m.r.IntN(6) > 0 {
		it.Assignee = m.pick(equivPeople)
	}
	if m.r.IntN(3) == 0 {
		it.Milestone = "R" + strconv.Itoa(1+m.r.IntN(2))
	}
	if m.r.IntN(2) == 0 {
		est := int64(3600 * (1 + m.r.IntN(20)))
		it.EstimateSeconds = &est
	}
	if m.r.IntN(4) == 0 {
		it.DueDate = time.Date(2026, 4, 1+m.r.IntN(20), 0, 0, 0, 0, time.UTC)
	}
	m.items[key] = it
	m.keys = append(m.keys, key)
	m.hist[key] = []ingest.Transition{{ItemKey: key, At: created, To: "To Do", ToCategory: "new"}}
	for range m.r.IntN(6) {
		m.step(key, false)
	}
	if m.r.IntN(12) == 0 {
		m.step(key, true)
	}
	for range m.r.IntN(3) {
		m.addWorklog(key)
	}
	return key
}

// step appends a transition to a random status (future: after now).
func (m *equivModel) step(key string, future bool) {
	h := m.hist[key]
	last := h[len(h)-1]
	from := last.To
	to := m.pick([]string{"In Progress", "In Progress", "In Review", "Blocked", "Done", "Done", "To Do", "Won't Do", "Limbo", ""})
	for to == from {
		to = m.pick([]string{"In Progress", "Done", "To Do"})
	}
	at := m.at(last.At, m.now)
	if future {
		at = m.now.Add(time.Duration(1+m.r.IntN(40)) * time.Hour)
	}
	// Now and then two changes within the same minute, or near midnight in Berlin.
	switch m.r.IntN(8) {
	case 0:
		at = last.At.Add(time.Minute)
	case 1:
		if d := time.Date(at.Year(), at.Month(), at.Day(), 22, 59, 0, 0, time.UTC); d.After(last.At) && !d.After(m.now) {
			at = d
		}
	}
	m.hist[key] = append(h, ingest.Transition{ItemKey: key, At: at, From: from, To: to, FromCategory: equivCategory(from), ToCategory: equivCategory(to)})
	it := m.items[key]
	it.Status, it.StatusCategory = to, equivCategory(to)
	if it.Status == "" {
		it.Status = ingest.UnknownStatus
	}
	it.Resolution = ""
	it.ResolvedAt = time.Time{}
	if to == "Won't Do" {
		it.Resolution = "Won't Do"
	}
	if equivCategory(to) == "done" {
		it.ResolvedAt = at
	}
	if at.After(it.UpdatedAt) {
		it.UpdatedAt = at
	}
}

func (m *equivModel) addWorklog(key string) string {
	m.next++
	id := "w" + strconv.Itoa(m.next)
	it := m.items[key]
	secs := int64(600 * (1 + m.r.IntN(30)))
	if m.r.IntN(15) == 0 {
		secs = 3 * 86400 // a weekly timesheet row: long_worklog
	}
	person := m.pick(equivPeople)
	if m.r.IntN(10) == 0 {
		person = ""
	}
	m.worklogs[id] = ingest.Worklog{ID: id, ItemKey: key, Person: person, StartedAt: m.at(it.CreatedAt, m.now), Seconds: secs}
	return id
}

func (m *equivModel) people(teamOfDora string) []ingest.Person {
	var ps []ingest.Person
	for _, p := range equivPeople {
		h := 40.0
		person := ingest.Person{ExternalID: p, Email: p, DisplayName: strings.Split(p, "@")[0], HoursPerWeek: &h}
		if p == "dora@example.com" {
			person.Team = teamOfDora
		}
		ps = append(ps, person)
	}
	return ps
}

func (m *equivModel) milestones(shift int) []ingest.Milestone {
	var ms []ingest.Milestone
	for _, pr := range equivProjects {
		for i, name := range []string{"R1", "R2"} {
			ms = append(ms, ingest.Milestone{Name: name, Project: pr, ExternalID: "v" + pr + name,
				DueDate: time.Date(2026, 4, 10+10*i+shift, 0, 0, 0, 0, time.UTC)})
		}
	}
	return ms
}

// batch carries the given items (rows and whole histories) and worklogs.
func (m *equivModel) batch(keys []string, worklogs []string) ingest.Batch {
	var b ingest.Batch
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		b.Items = append(b.Items, *m.items[k])
		b.Transitions = append(b.Transitions, m.hist[k]...)
	}
	for _, id := range worklogs {
		w, ok := m.worklogs[id]
		if !ok {
			w = ingest.Worklog{ID: id, Deleted: true}
		}
		b.Worklogs = append(b.Worklogs, w)
	}
	return b
}

func (m *equivModel) initial() ingest.Batch {
	for range 120 {
		m.newItem()
	}
	// Some epics with children.
	for _, k := range m.keys {
		if m.items[k].Type != "Epic" && m.r.IntN(5) == 0 {
			if e := m.randomOf("Epic"); e != "" && e != k {
				m.items[k].Parent = e
			}
		}
	}
	b := m.batch(m.keys, slices.Sorted(mapKeys(m.worklogs)))
	b.People = m.people("ops")
	b.Projects = []ingest.Project{{Key: "WEB"}, {Key: "PAY"}, {Key: "OPS", Team: "ops"}, {Key: "APP"}}
	b.Milestones = m.milestones(0)
	b.TimeOff = []ingest.TimeOff{{Person: "ann@example.com", Date: time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC), Hours: 8}}
	return b
}

// randomOf is a random live item of the type ("" for any); "" when none.
func (m *equivModel) randomOf(typ string) string {
	var ks []string
	for _, k := range m.keys {
		if it := m.items[k]; !it.Deleted && (typ == "" || it.Type == typ) {
			ks = append(ks, k)
		}
	}
	if len(ks) == 0 {
		return ""
	}
	return m.pick(ks)
}

// change moves the clock on and changes the source; it returns the batch
// and what it did.
func (m *equivModel) change() (ingest.Batch, string) {
	before := m.now
	m.now = m.now.Add(time.Duration(m.r.IntN(14*60)) * time.Minute)
	if before.Before(time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)) && !m.now.Before(time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)) {
		m.crossedDST = true
	}
	var keys, wls, what []string
	var b ingest.Batch
	// One sync in five changes nothing: only the clock moves.
	ops := 1 + m.r.IntN(3)
	if m.r.IntN(5) == 0 {
		ops = 0
	}
	for range ops {
		switch op := m.r.IntN(15); op {
		case 0, 1: // new transitions
			for range 1 + m.r.IntN(4) {
				if k := m.randomOf(""); k != "" {
					m.step(k, m.r.IntN(10) == 0)
					keys = append(keys, k)
				}
			}
			what = append(what, "transitions")
		case 2: // a reopening
			for _, k := range m.keys {
				if it := m.items[k]; !it.Deleted && it.Status == "Done" {
					h := m.hist[k]
					m.hist[k] = append(h, ingest.Transition{ItemKey: k, At: m.at(h[len(h)-1].At, m.now), From: "Done", To: "In Progress",
						FromCategory: "done", ToCategory: "indeterminate"})
					it.Status, it.StatusCategory, it.ResolvedAt, it.Resolution = "In Progress", "indeterminate", time.Time{}, ""
					keys = append(keys, k)
					break
				}
			}
			what = append(what, "reopening")
		case 3: // new items
			for range 1 + m.r.IntN(3) {
				keys = append(keys, m.newItem())
			}
			what = append(what, "new items")
		case 4: // deletion at the source
			if k := m.randomOf(""); k != "" {
				m.items[k].Deleted = true
				keys = append(keys, k)
			}
			what = append(what, "deletion")
		case 5: // a reconciliation: one item gone, a deleted one back
			gone := m.randomOf("")
			back := ""
			for _, k := range m.keys {
				if m.items[k].Deleted && !m.moved[k] && m.r.IntN(3) == 0 {
					back = k
				}
			}
			var live []string
			for _, k := range m.keys {
				it := m.items[k]
				switch {
				case k == gone:
					it.Deleted = true
				case k == back:
					it.Deleted = false
				}
				if !it.Deleted {
					live = append(live, k)
				}
			}
			b.Live = &ingest.Live{Keys: live}
			what = append(what, "reconciliation")
		case 6: // worklogs added, changed, moved, deleted
			for range 1 + m.r.IntN(3) {
				if k := m.randomOf(""); k != "" {
					wls = append(wls, m.addWorklog(k))
				}
			}
			for _, id := range slices.Sorted(mapKeys(m.worklogs)) {
				w := m.worklogs[id]
				switch m.r.IntN(40) {
				case 0:
					w.Seconds += 1800
					m.worklogs[id] = w
					wls = append(wls, id)
				case 1:
					if k := m.randomOf(""); k != "" {
						w.ItemKey = k
						m.worklogs[id] = w
						wls = append(wls, id)
					}
				case 2:
					delete(m.worklogs, id)
					wls = append(wls, id)
				}
			}
			slices.Sort(wls)
			what = append(what, "worklogs")
		case 7: // a person changes team (people.csv)
			b.People = m.people(m.pick([]string{"web", "pay", "ops", ""}))
			what = append(what, "membership")
		case 8: // a project changes team
			b.Projects = []ingest.Project{{Key: "APP", Team: m.pick([]string{"web", "ops", ""})}}
			what = append(what, "project team")
		case 9: // an item becomes an epic, or stops being one; children move
			if k := m.randomOf(""); k != "" {
				it := m.items[k]
				if it.Type == "Epic" {
					it.Type = "Story"
				} else {
					it.Type = "Epic"
				}
				keys = append(keys, k)
				for range 2 {
					if c := m.randomOf("Story"); c != "" && c != k {
						m.items[c].Parent = k
						keys = append(keys, c)
					}
				}
			}
			what = append(what, "epics")
		case 10: // an item moves to another key (same vendor id)
			if k := m.randomOf(""); k != "" {
				it := *m.items[k]
				m.next++
				nk := fmt.Sprintf("M-%d", m.next)
				it.Key = nk
				m.items[k].Deleted = true
				m.moved[k] = true
				m.items[nk] = &it
				m.keys = append(m.keys, nk)
				h := slices.Clone(m.hist[k])
				for i := range h {
					h[i].ItemKey = nk
				}
				m.hist[nk] = h
				keys = append(keys, nk)
			}
			what = append(what, "move")
		case 11: // milestones move, items join them
			b.Milestones = m.milestones(m.r.IntN(5))
			if k := m.randomOf(""); k != "" {
				m.items[k].Milestone = "R2"
				keys = append(keys, k)
			}
			what = append(what, "milestones")
		case 12: // time off
			b.TimeOff = []ingest.TimeOff{{Person: m.pick(equivPeople), Date: m.now.Add(time.Duration(m.r.IntN(10)) * 24 * time.Hour), Hours: 4}}
			what = append(what, "time off")
		case 14: // an account's email changes: its rows move to another person
			m.emails++
			b.People = m.people(m.pick([]string{"web", "pay", "ops", ""}))
			for i := range b.People {
				if b.People[i].ExternalID == "eve@example.com" {
					b.People[i].Email = fmt.Sprintf("eve%d@example.com", m.emails)
				}
			}
			what = append(what, "email")
		case 13: // assignee or project changes
			if k := m.randomOf(""); k != "" {
				m.items[k].Assignee = m.pick(equivPeople)
				m.items[k].Project = m.pick(equivProjects)
				keys = append(keys, k)
			}
			what = append(what, "assignee")
		}
	}
	nb := m.batch(keys, wls)
	nb.People, nb.Projects, nb.Milestones, nb.TimeOff, nb.Live = b.People, b.Projects, b.Milestones, b.TimeOff, b.Live
	if len(what) == 0 {
		what = []string{"clock only"}
	}
	return nb, strings.Join(what, ", ")
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestComputeFailedMidwayRecomputesEverything: the compute commits in
// segments, so one that fails midway leaves the segments it committed (the
// counters' ledger among them) and no state; the next compute then
// recomputes every item and its tables equal those of a warehouse whose
// compute never failed.
func TestComputeFailedMidwayRecomputesEverything(t *testing.T) {
	ctx := context.Background()
	failed := warehousetest.Open(t, equivZone)
	clean := warehousetest.Open(t, equivZone)
	m := newEquivModel(7)
	commit := func(b ingest.Batch) {
		t.Helper()
		for _, db := range []*warehouse.DB{failed, clean} {
			if err := db.Commit(ctx, "t", b); err != nil {
				t.Fatalf("commit: %v", err)
			}
		}
	}
	commit(m.initial())
	for _, db := range []*warehouse.DB{failed, clean} {
		if _, err := metrics.Compute(ctx, db.DB, m.params()); err != nil {
			t.Fatal(err)
		}
	}
	var before int
	if err := failed.QueryRow("SELECT count(*) FROM counter_events").Scan(&before); err != nil {
		t.Fatal(err)
	}
	// Several syncs before the next compute: new starts, completions and
	// items among them (checked below).
	for range 8 {
		b, _ := m.change()
		commit(b)
	}
	p := m.params()
	if _, err := metrics.Compute(ctx, clean.DB, p); err != nil {
		t.Fatal(err)
	}
	// After the counters' segments: the new events are committed.
	restore := metrics.FailAt("85_capacity#1")
	_, err := metrics.Compute(ctx, failed.DB, p)
	restore()
	if err == nil {
		t.Fatal("the compute with a failure injected succeeded")
	}
	var states, failedRuns, after int
	if err := failed.QueryRow(`SELECT (SELECT count(*) FROM compute_state), (SELECT count(*) FROM job_runs WHERE job = 'compute' AND status = 'failed'),
		(SELECT count(*) FROM counter_events)`).Scan(&states, &failedRuns, &after); err != nil {
		t.Fatal(err)
	}
	if states != 0 || failedRuns != 1 {
		t.Errorf("after the failed compute: %d compute_state rows, %d failed runs; want 0 and 1", states, failedRuns)
	}
	if after <= before {
		t.Errorf("counter_events %d → %d: the failure came before the ledger's segment, the test proves little", before, after)
	}
	res, err := metrics.Compute(ctx, failed.DB, p)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Full || res.Reason != "the last compute did not finish" {
		t.Errorf("the compute after a failed one: full %v (%s), want a full one because the last did not finish", res.Full, res.Reason)
	}
	if d := cmp.Diff(equivDump(t, clean), equivDump(t, failed)); d != "" {
		t.Errorf("after a failed compute and a full one, the tables differ from a warehouse that never failed (-clean +failed):\n%s", d)
	}
}
