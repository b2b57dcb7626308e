package demo

import (
	"cmp"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"time"
)

// gen holds the organisation while it is generated.
type gen struct {
	seed     int64
	r        *rand.Rand // the current phase's stream
	cal      *calendar
	teams    []*team
	people   []*person // people.csv, in output order
	byEmail  map[string]*person
	projects []*project
	items    []*item
	ms       []*milestone
	worklogs []worklog
}

// milestone is a release (fix version) of a project.
type milestone struct {
	name      string
	proj      *project
	start     time.Time
	due       time.Time
	baseline  time.Time
	completed time.Time // zero: not released
	kind      string    // released, overdue, at_risk, on_track
	epics     int       // how many epics to create
	items     []*item
}

// stream returns the random stream of one generation phase, so that a change
// in one phase leaves the others' draws alone.
func (g *gen) stream(phase string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(phase))
	return rand.New(rand.NewPCG(uint64(g.seed), h.Sum64()))
}

func build(opt Options) *gen {
	g := &gen{seed: opt.Seed, cal: newCalendar(opt.Now.UTC().Truncate(time.Second)), byEmail: map[string]*person{}}
	g.organisation()
	g.r = g.stream("time-off")
	g.timeOff(g.r)
	g.r = g.stream("milestones")
	g.schedule()
	epics := 0
	for _, m := range g.ms {
		epics += m.epics
	}
	g.r = g.stream("items")
	g.arrivals(opt.Items - epics)
	g.r = g.stream("releases")
	g.assignMilestones()
	g.r = g.stream("epics")
	g.epics()
	g.r = g.stream("assignees")
	g.assign()
	g.r = g.stream("attributes")
	g.attributes()
	g.overrides()
	g.r = g.stream("worklogs")
	g.logWork()
	g.number()
	return g
}

func (g *gen) organisation() {
	for _, td := range teamDefs {
		t := &team{teamDef: td}
		for _, m := range td.members {
			p := &person{email: m.local + "@" + emailDomain, team: t, hours: m.hours}
			t.members = append(t.members, p)
			g.people = append(g.people, p)
		}
		g.teams = append(g.teams, t)
	}
	g.people = append(g.people, &person{email: contractorEmail, hours: 24})
	for _, p := range g.people {
		g.byEmail[p.email] = p
	}
	for _, pd := range projectDefs {
		p := &project{projectDef: pd}
		for _, t := range g.teams {
			if t.name == pd.team {
				p.team = t
			}
		}
		g.projects = append(g.projects, p)
	}
}

func (g *gen) project(key string) *project {
	if p := g.lookup(key); p != nil {
		return p
	}
	panic("demo: unknown project " + key)
}

func (g *gen) lookup(key string) *project {
	for _, p := range g.projects {
		if p.key == key {
			return p
		}
	}
	return nil
}

// releaseTime is a weekday afternoon at or before d.
func (g *gen) releaseTime(d time.Time) time.Time {
	for !g.cal.workday(d) {
		d = d.AddDate(0, 0, -1)
	}
	return d.Add(time.Duration(13*3600+g.r.IntN(3*3600)) * time.Second)
}

// schedule lays out each project's releases: completed ones every cadence
// days back from the last release, then the open ones defined per project.
func (g *gen) schedule() {
	r, c := g.r, g.cal
	outcomes := []string{"on_time", "slipped", "on_time", "late", "slipped_late"}
	for pi, p := range g.projects {
		if p.cadence == 0 {
			continue
		}
		var releases []time.Time
		for d := c.today.AddDate(0, 0, -p.lastRelease); d.After(c.first.AddDate(0, 0, p.cadence/2)); {
			releases = append(releases, g.releaseTime(d))
			d = d.AddDate(0, 0, -int(float64(p.cadence)*uniform(r, 0.8, 1.2)))
		}
		slices.Reverse(releases)
		version := p.msFirst
		prev := c.first.AddDate(0, 0, -p.cadence/2)
		for i, rel := range releases {
			m := &milestone{name: p.msName + strconv.Itoa(version), proj: p, start: maxTime(prev.AddDate(0, 0, 1), c.first),
				completed: rel, kind: "released", epics: 1 + r.IntN(3)}
			rd := midnight(rel)
			switch outcomes[(i+pi)%len(outcomes)] {
			case "on_time":
				m.due = rd.AddDate(0, 0, r.IntN(4))
				m.baseline = m.due
			case "slipped": // moved once, then met the new date
				m.due = rd.AddDate(0, 0, r.IntN(3))
				m.baseline = rd.AddDate(0, 0, -7-r.IntN(15))
			case "late":
				m.due = rd.AddDate(0, 0, -2-r.IntN(9))
				m.baseline = m.due
			case "slipped_late":
				m.due = rd.AddDate(0, 0, -2-r.IntN(6))
				m.baseline = m.due.AddDate(0, 0, -10-r.IntN(15))
			}
			// A plan is made after the release starts.
			m.baseline = maxTime(m.baseline, minTime(m.start.AddDate(0, 0, 7), m.due))
			p.ms = append(p.ms, m)
			prev = rd
			version++
		}
		for i, od := range p.open {
			m := &milestone{name: p.msName + strconv.Itoa(version), proj: p, kind: od.kind,
				due: c.today.AddDate(0, 0, od.due), baseline: c.today.AddDate(0, 0, od.baseline), epics: 1 + r.IntN(2)}
			m.start = prev.AddDate(0, 0, 1+10*i)
			p.ms = append(p.ms, m)
			version++
		}
		g.ms = append(g.ms, p.ms...)
	}
	ops := g.project("OPS")
	m := &milestone{name: migrationName, proj: ops, kind: "on_track", epics: 1,
		start:    c.today.AddDate(0, 0, -migrationStartDays),
		due:      c.today.AddDate(0, 0, migrationDue),
		baseline: c.today.AddDate(0, 0, migrationBaseline)}
	ops.ms = append(ops.ms, m)
	g.ms = append(g.ms, m)
}

// arrivals creates n items (epics come later) with arrival rates that differ
// by project and drift over the year, and generates their histories.
func (g *gen) arrivals(n int) {
	r, c := g.r, g.cal
	var days []time.Time
	for d := c.first; d.Add(2 * time.Hour).Before(c.now); d = d.AddDate(0, 0, 1) {
		days = append(days, d)
	}
	counts := make([]int, len(g.projects))
	left := n - migrationTasks
	for i, p := range g.projects {
		counts[i] = int(math.Round(p.share * float64(n-migrationTasks)))
		left -= counts[i]
	}
	counts[len(counts)-1] += left // HELP takes the rounding
	for pi, p := range g.projects {
		cum := make([]float64, len(days))
		var sum float64
		for i, d := range days {
			sum += g.arrivalWeight(p, i, len(days), d)
			cum[i] = sum
		}
		for range counts[pi] {
			i := sort.SearchFloat64s(cum, r.Float64()*sum)
			it := &item{proj: p, typ: pick(r, p.types)}
			it.created = g.createdAt(days[min(i, len(days)-1)], it.typ)
			g.addItem(it)
		}
	}
	ops := g.project("OPS")
	lo := c.today.AddDate(0, 0, -migrationStartDays+3)
	step := (migrationStartDays - 10) / migrationTasks
	for i := range migrationTasks {
		d := lo.AddDate(0, 0, i*step+r.IntN(step))
		it := &item{proj: ops, typ: typeTask, migration: true, title: migrationTitles[i]}
		if i >= migrationTasks-migrationTodo {
			it.fate = fateBacklog
		}
		it.created = g.createdAt(d, typeTask)
		g.addItem(it)
	}
}

func (g *gen) addItem(it *item) {
	if it.title == "" {
		it.title = g.title(it.proj, it.typ)
	}
	pr := profileFor(it.proj, it.typ)
	if it.migration {
		pr = profileFor(g.project("WEB"), typeTask)
		pr.workMed *= 1.2
	}
	g.history(it, pr)
	it.proj.items = append(it.proj.items, it)
	g.items = append(g.items, it)
}

// arrivalWeight is the relative arrival rate of project p on day d (index i of n).
func (g *gen) arrivalWeight(p *project, i, n int, d time.Time) float64 {
	x := float64(i) / float64(n)
	w := 1.0
	switch {
	case d.Weekday() == time.Saturday || d.Weekday() == time.Sunday:
		w = 0.04
		if p.operational {
			w = 0.3
		}
	case g.cal.holidays[d]:
		w = 0.1
	}
	m, dd := d.Month(), d.Day()
	if m == time.December && dd >= 22 || m == time.January && dd <= 2 {
		w *= 0.35
	}
	if m == time.July && dd >= 15 || m == time.August {
		w *= 0.8
	}
	switch p.key {
	case "WEB":
		w *= 1 + 0.2*math.Sin(2*math.Pi*float64(i)/120)
	case "DATA":
		w *= 0.6 + 0.8*x
	case "PAY":
		w *= 0.8 + 0.3*math.Sin(2*math.Pi*float64(i)/90+1)
		if m == time.October || m == time.November {
			w *= 1.3
		}
	case "APP":
		if n-i <= 56 {
			w *= 1.8 // release crunch
		}
	case "OPS":
		w *= math.Exp(0.6 * g.r.NormFloat64()) // incident bursts
	case "HELP":
		w *= 0.7 + 0.6*x
		if d.Weekday() == time.Monday {
			w *= 1.35
		}
	}
	return w
}

// createdAt picks a time of day on day d: office hours for planned work,
// around the clock (mostly daytime) for incidents. Never later than an hour
// before now.
func (g *gen) createdAt(d time.Time, typ string) time.Time {
	r := g.r
	var h float64
	if typ == typeInc && r.Float64() < 0.35 {
		h = r.Float64() * 24
	} else {
		h = min(max(12.5+2.5*r.NormFloat64(), 6.5), 18.5)
	}
	t := d.Add(time.Duration(h * float64(time.Hour))).Truncate(time.Second)
	if limit := g.cal.now.Add(-time.Hour); t.After(limit) {
		t = d.Add(time.Duration(r.Int64N(int64(limit.Sub(d)/time.Second))) * time.Second)
	}
	return t
}

// assignMilestones puts project work into releases: finished items into the
// release after their finish, open items into the open milestones (overdue
// ones get stuck work, at-risk ones slightly less than the recent throughput
// can finish by the due date, on-track ones little), the rest stays unplanned.
func (g *gen) assignMilestones() {
	r, c := g.r, g.cal
	for _, p := range g.projects {
		if p.cadence == 0 {
			for _, it := range p.items {
				if it.migration {
					g.addToMilestone(it, p.ms[0])
				}
			}
			continue
		}
		var released, open []*milestone
		for _, m := range p.ms {
			if m.completed.IsZero() {
				open = append(open, m)
			} else {
				released = append(released, m)
			}
		}
		// Some WEB bugs were hotfixed straight to production, outside any
		// release; they carry work_class=operational explicitly.
		if p.key == "WEB" {
			var bugs []*item
			for _, it := range p.items {
				if it.typ == typeBug && it.done() && !it.discarded() {
					bugs = append(bugs, it)
				}
			}
			for _, i := range r.Perm(len(bugs))[:min(hotfixes, len(bugs))] {
				bugs[i].workClass = "operational"
			}
		}
		recent := 0
		var openItems []*item
		for _, it := range p.items {
			if it.done() && !it.discarded() && it.resolved.After(c.now.Add(-90*day)) {
				recent++
			}
			if !it.done() {
				openItems = append(openItems, it)
				continue
			}
			if it.workClass != "" || it.typ == typeBug && r.Float64() < 0.05 {
				continue // fixed without a fix version
			}
			i, _ := slices.BinarySearchFunc(released, it.resolved, func(m *milestone, t time.Time) int { return m.completed.Compare(t) })
			switch {
			case i < len(released):
				g.addToMilestone(it, released[i])
			case len(open) > 1 && it.resolved.After(open[0].due.Add(day)) && r.Float64() < 0.7:
				g.addToMilestone(it, open[1])
			default:
				g.addToMilestone(it, open[0])
			}
		}
		throughput := float64(recent) / 90
		// Started work first (oldest first), then the backlog in random order.
		slices.SortStableFunc(openItems, func(a, b *item) int {
			switch {
			case !a.started.IsZero() && !b.started.IsZero():
				return a.started.Compare(b.started)
			case !a.started.IsZero():
				return -1
			case !b.started.IsZero():
				return 1
			}
			return 0
		})
		todo := 0
		for todo < len(openItems) && !openItems[todo].started.IsZero() {
			todo++
		}
		backlog := openItems[todo:]
		r.Shuffle(len(backlog), func(i, j int) { backlog[i], backlog[j] = backlog[j], backlog[i] })
		for _, m := range open {
			days := float64(m.due.Sub(c.today) / day)
			var n int
			switch m.kind {
			case "overdue":
				n = 5 + r.IntN(5)
			case "at_risk":
				n = int(math.Round(0.95*throughput*days)) - m.epics
			default:
				n = min(int(math.Round(0.35*throughput*days)), 40)
			}
			n = max(min(n, len(openItems)), 0)
			for _, it := range openItems[:n] {
				g.addToMilestone(it, m)
			}
			openItems = openItems[n:]
		}
	}
}

func (g *gen) addToMilestone(it *item, m *milestone) {
	it.milestone = m
	m.items = append(m.items, it)
}

// epics creates each milestone's epics and hangs most of its stories and
// tasks under them. An epic starts with its first child and is done shortly
// after its last child (never after the release).
func (g *gen) epics() {
	r := g.r
	for _, m := range g.ms {
		var epics []*item
		for range m.epics {
			e := &item{proj: m.proj, typ: typeEpic, milestone: m}
			epics = append(epics, e)
		}
		for _, it := range m.items {
			if it.typ == typeBug || it.typ == typeInc || it.typ == typeRequest {
				continue
			}
			if it.migration || it.typ == typeStory && r.Float64() < 0.75 || it.typ == typeTask && r.Float64() < 0.5 {
				e := epics[r.IntN(len(epics))]
				it.parent = e
				e.children = append(e.children, it)
			}
		}
		for i, e := range epics {
			e.title = g.epicTitle(m, i)
			g.epicHistory(e, m)
			m.items = append(m.items, e)
			m.proj.items = append(m.proj.items, e)
			g.items = append(g.items, e)
		}
	}
}

func (g *gen) epicTitle(m *milestone, i int) string {
	if m.name == migrationName {
		return "Replace Nagios with Prometheus and Grafana"
	}
	themes := map[string][]string{
		"WEB":  {"Checkout revamp", "Faster product pages", "Accessibility (WCAG 2.2 AA)", "New account area", "Search relevance", "SEO clean-up"},
		"PAY":  {"PSD2 compliance", "Refund automation", "New payout provider", "Wallet payments", "Dunning process", "Fraud rules engine"},
		"APP":  {"Onboarding 2.0", "Offline orders", "Push campaign tooling", "Tablet layout", "Performance budget", "Accessibility"},
		"DATA": {"Warehouse migration", "Self-service dashboards", "Data contracts", "GDPR tooling", "Real-time events"},
	}[m.proj.key]
	return themes[(len(m.name)*7+i*3+g.r.IntN(len(themes)))%len(themes)] + " (" + m.name + ")"
}

func (g *gen) epicHistory(e *item, m *milestone) {
	r, c := g.r, g.cal
	var firstCreated, firstStart, lastDone time.Time
	allDone := true
	for _, ch := range e.children {
		if firstCreated.IsZero() || ch.created.Before(firstCreated) {
			firstCreated = ch.created
		}
		if !ch.started.IsZero() && (firstStart.IsZero() || ch.started.Before(firstStart)) {
			firstStart = ch.started
		}
		if ch.done() {
			lastDone = maxTime(lastDone, ch.resolved)
		} else {
			allDone = false
		}
	}
	add := func(at time.Time, to string) {
		from := statusToDo
		if n := len(e.changes); n > 0 {
			from = e.changes[n-1].to
		}
		e.changes = append(e.changes, change{at: at, from: from, to: to})
		e.status = to
	}
	e.status = statusToDo
	if len(e.children) == 0 {
		// A placeholder epic nobody broke down: closed with its release.
		e.created = maxTime(m.start.Add(10*time.Hour), c.first.Add(9*time.Hour))
		e.created = minTime(e.created, c.now.Add(-time.Hour))
		if !m.completed.IsZero() {
			e.created = minTime(e.created, m.completed.Add(-3*day))
			e.started = e.created.Add(day)
			add(e.started, statusInProgress)
			add(m.completed.Add(-time.Hour), statusDone)
			e.resolution, e.resolved = resDone, m.completed.Add(-time.Hour)
		}
		return
	}
	e.created = firstCreated.Add(-time.Duration(uniform(r, 1, 10) * float64(day))).Truncate(time.Second)
	if lo := c.first.Add(7 * time.Hour); e.created.Before(lo) {
		e.created = firstCreated
		if firstCreated.After(lo) {
			e.created = lo.Add(time.Duration(r.Int64N(int64(firstCreated.Sub(lo)/time.Second))) * time.Second)
		}
	}
	start := e.created
	if !firstStart.IsZero() {
		start = firstStart.Add(-time.Duration(r.IntN(4*3600)) * time.Second)
		if !start.After(e.created) {
			start = e.created.Add(time.Minute)
		}
		add(start, statusInProgress)
		e.started = start
	}
	if !allDone {
		return
	}
	// Every child done: the epic is closed (straight from To Do when no
	// child was ever started).
	end := c.addWork(lastDone, int64(3600+r.IntN(15*3600)))
	if !m.completed.IsZero() && end.After(m.completed) {
		end = lastDone.Add(m.completed.Sub(lastDone) / 2).Truncate(time.Second)
	}
	if end.After(c.now) || !end.After(start) {
		return
	}
	add(end, statusDone)
	e.resolution, e.resolved = resDone, end
}

// assign gives started items to team members, least loaded first, in the
// order they started; unstarted items get a member or stay unassigned.
func (g *gen) assign() {
	r, c := g.r, g.cal
	leaver := &person{email: leaverEmail, left: c.now.Add(-190 * day)}
	order := slices.Clone(g.items)
	slices.SortStableFunc(order, func(a, b *item) int {
		return cmp.Or(a.started.Compare(b.started), a.created.Compare(b.created))
	})
	for _, it := range order {
		t := it.proj.team
		if it.typ == typeEpic {
			if r.Float64() < 0.85 {
				it.assignee = t.members[0]
			}
			continue
		}
		if it.started.IsZero() {
			pUnassigned := 0.03
			switch {
			case it.status == statusToDo && it.proj.key == "HELP":
				pUnassigned = 0.45
			case it.status == statusToDo && t.name == "mobile":
				// The release crunch: mobile's backlog is already handed out,
				// which over-allocates the team in the capacity outlook.
				pUnassigned = 0.1
			case it.status == statusToDo:
				// Backlog is mostly pulled, not pre-assigned.
				pUnassigned = 0.8
			case it.discarded():
				pUnassigned = 0.3
			}
			if r.Float64() >= pUnassigned {
				it.assignee = t.members[r.IntN(len(t.members))]
			}
			continue
		}
		end := c.now
		if it.done() {
			end = it.resolved
		}
		candidates := slices.Clone(t.members)
		if it.proj.key == "DATA" {
			candidates = append(candidates, g.byEmail[contractorEmail])
		}
		if it.proj.team.name == "platform" && end.Before(leaver.left) {
			candidates = append(candidates, leaver)
		}
		var best *person
		bestLoad := math.Inf(1)
		d := midnight(it.started)
		for _, p := range candidates {
			load := r.Float64() * 1.5
			for _, s := range p.spans {
				if s.from.Before(it.started) && s.to.After(it.started) {
					load++
				}
			}
			if p.off[d] > 0 {
				load += 5 // away that day
			}
			if p.email == contractorEmail {
				load -= 1.5 // the contractor was hired for DATA
			}
			if load < bestLoad {
				best, bestLoad = p, load
			}
		}
		best.spans = append(best.spans, span{from: it.started, to: minTime(end, it.started.Add(21*day))})
		it.assignee = best
		it.leaver = best == leaver
	}
}

// attributes sets estimates, story points and due dates.
func (g *gen) attributes() {
	r := g.r
	fib := []float64{1, 2, 3, 5, 8, 13}
	for _, it := range g.items {
		switch it.typ {
		case typeStory, typeTask, typeBug:
			if it.migration || r.Float64() < 0.82 {
				it.estimate = roundEstimate(it.work * 0.6 * logNormal(r, 1, 0.45))
			}
			if it.typ == typeStory && it.proj.key != "DATA" && r.Float64() < 0.75 || it.typ == typeTask && r.Float64() < 0.15 {
				i := sort.SearchFloat64s([]float64{6, 12, 24, 48, 90}, it.work)
				if x := r.Float64(); x < 0.12 && i > 0 {
					i--
				} else if x > 0.88 && i < len(fib)-1 {
					i++
				}
				it.points = fib[i]
			}
			if it.milestone != nil && r.Float64() < 0.15 {
				due := midnight(it.created).AddDate(0, 0, 5+r.IntN(26))
				it.due = minTime(due, it.milestone.due)
				if it.due.Before(midnight(it.created)) {
					it.due = it.milestone.due
				}
			}
		case typeRequest:
			if r.Float64() < 0.25 {
				it.estimate = roundEstimate(it.work * logNormal(r, 0.8, 0.4))
			}
			if r.Float64() < 0.4 {
				it.due = midnight(it.created).AddDate(0, 0, 2+r.IntN(6))
			}
		}
	}
}

func roundEstimate(h float64) float64 {
	switch {
	case h < 4:
		return max(math.Round(h*2)/2, 0.5)
	case h < 16:
		return math.Round(h)
	}
	return math.Round(h/2) * 2
}

// overrides sets the few explicit team and work_class values of items.csv:
//   - team=payments on 12 DATA items ("Payments reporting: …"), worked by
//     platform people and the contractor but owned by payments;
//   - work_class=project on the OPS observability migration (its tasks and epic);
//   - work_class=operational on 10 WEB bugs without a fix version ("Hotfix: …"),
//     chosen in assignMilestones.
func (g *gen) overrides() {
	r := g.r
	var data []*item
	for _, it := range g.project("DATA").items {
		if it.typ != typeEpic {
			data = append(data, it)
		}
	}
	for _, i := range r.Perm(len(data))[:min(paymentsReporting, len(data))] {
		it := data[i]
		it.team = "payments"
		it.title = "Payments reporting: " + oneOf(r, titleObjects["DATA"])
	}
	for _, it := range g.project("WEB").items {
		if it.workClass == "operational" {
			it.title = "Hotfix: " + it.title
		}
	}
	for _, it := range g.project("OPS").items {
		if it.migration || it.milestone != nil && it.milestone.name == migrationName {
			it.workClass = "project"
		}
	}
}

// number gives items Jira-style keys in creation order per project, with the
// occasional gap of a deleted issue.
func (g *gen) number() {
	r := g.stream("keys")
	slices.SortStableFunc(g.items, func(a, b *item) int { return a.created.Compare(b.created) })
	next := map[*project]int{}
	for _, it := range g.items {
		n := next[it.proj] + 1
		if r.Float64() < 0.02 {
			n++
		}
		next[it.proj] = n
		it.key = it.proj.key + "-" + strconv.Itoa(n)
	}
}
