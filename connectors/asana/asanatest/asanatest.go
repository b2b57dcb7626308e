// Package asanatest is a fake Asana API 1.0 server for tests, built from the
// shapes of the vendor's OpenAPI examples. It serves a project — the
// deterministic one of NewProject, or any Project with its own gid, name and
// sections — and, given more, several (tasks are listed in each project they
// belong to; NewServer starts one outside a test, as `throughline demo` does,
// with the token SetToken gives). It can inject faults: a 429 with
// Retry-After, a 500, an expired offset, a 401, a 402 (premium-only) and
// expired events sync tokens; and a Drift hook runs between list page
// requests, with an Edit to change the data as a busy workspace does (tasks
// edited, moved between projects, reordered, deleted).
//
// It also serves the events API (GET /events?resource={project gid}): the
// first call answers 412 with a sync token, later calls return the events
// recorded for that project since (at most 100 per call, has_more). Events
// are recorded by the mutation helpers (UpdateTask, AddStory, AddTask,
// DeleteTask, MoveTask); Mutate changes the data without an event, like a
// missed one, and time tracking entries (AddTimeEntry, DeleteTimeEntry)
// record none (tasks render actual_time_minutes, their sum).
package asanatest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Token is the Bearer token the fake accepts.
const Token = "test-token"

// Fixed identifiers of the fake project.
const (
	ProjectGID  = "1200000000000001"
	ProjectName = "Website Relaunch"
	// NumTasks is the number of tasks listed in the project (two pages at limit 100).
	NumTasks = 105
	// ReopenedGID is completed, reopened, and completed again.
	ReopenedGID = "1300000000000000"
	// ParentGID has two subtasks (not listed in the project).
	ParentGID = "1300000000000005"
	// MilestoneGID is a completed milestone.
	MilestoneGID = "1300000000000104"
	// NumSubtasks is the number of subtasks in the project.
	NumSubtasks = 2
	// EstimateFieldGID and PointsFieldGID are the gids of the number custom
	// fields "Estimate (hours)" and "Story points" every task carries.
	EstimateFieldGID = "1600000000000001"
	PointsFieldGID   = "1600000000000002"
	EstimateField    = "Estimate (hours)"
	PointsField      = "Story points"
)

// Sections of the fake project, board order.
var Sections = []Object{
	{"gid": "1100000000000001", "resource_type": "section", "name": "To Do"},
	{"gid": "1100000000000002", "resource_type": "section", "name": "In Progress"},
	{"gid": "1100000000000003", "resource_type": "section", "name": "Review"},
	{"gid": "1100000000000004", "resource_type": "section", "name": "Done"},
}

// Users of the fake workspace.
var Users = []Object{
	{"gid": "1000000000000001", "resource_type": "user", "name": "Ada Lovelace", "email": "ada@example.com"},
	{"gid": "1000000000000002", "resource_type": "user", "name": "Greg Sanchez", "email": "greg@example.com"},
}

// Object is a JSON object as the API renders it.
type Object = map[string]any

// Project is the data a fake serves.
type Project struct {
	// GID, Name and Sections identify the project and its board columns
	// (in board order); empty: ProjectGID, ProjectName and Sections.
	GID      string
	Name     string
	Sections []Object
	Tasks    []Object            // listed in the project, in priority order
	Subtasks map[string][]Object // by parent gid
	Stories  map[string][]Object // by task gid, oldest first
	Entries  map[string][]Object // time tracking entries by task gid
}

func (p *Project) gid() string {
	if p.GID == "" {
		return ProjectGID
	}
	return p.GID
}

func (p *Project) name() string {
	if p.Name == "" {
		return ProjectName
	}
	return p.Name
}

func (p *Project) sections() []Object {
	if p.Sections == nil {
		return Sections
	}
	return p.Sections
}

// Request is one request the fake received.
type Request struct {
	Path  string
	Query map[string][]string
	Auth  string
}

// Server is a fake Asana API.
type Server struct {
	*httptest.Server
	// projects are the projects served, the first one the primary (the
	// one NewWith, Mutate, AddTask and Data name).
	projects []*Project

	// dmu guards the projects and the event logs; handlers read under RLock.
	dmu    sync.RWMutex
	events map[string][]Object // per project gid: every event recorded, oldest first
	epoch  int                 // sync tokens of older epochs are expired
	drift  func(e Edit, c ListCall)
	driftN int

	mu           sync.Mutex
	token        string // the Bearer token accepted (Token unless SetToken)
	requests     []Request
	payment      map[string]bool // path → 402 on every call
	throttle     map[string]int  // path → Retry-After seconds, on its next call
	fail         map[string]bool
	expireOffset bool
	unauthorized bool
	failPaged    map[string]bool // path → 500 on every call carrying an offset
}

// New starts a fake serving NewProject's data; it stops with the test.
func New(t testing.TB) *Server { return NewWith(t, NewProject()) }

// NewWith starts a fake serving p (see GenerateProject) and, after it, the
// others (projects with their own GID); it stops with the test.
func NewWith(t testing.TB, p Project, others ...Project) *Server {
	s := NewServer(p, others...)
	t.Cleanup(s.Close)
	return s
}

// NewServer starts a fake serving p (and others) outside a test (the demo's
// in-process Asana); the caller stops it with Close. It accepts Token until
// SetToken.
func NewServer(p Project, others ...Project) *Server {
	s := &Server{events: map[string][]Object{}, token: Token, throttle: map[string]int{}, fail: map[string]bool{}, failPaged: map[string]bool{}, payment: map[string]bool{}}
	for _, q := range append([]Project{p}, others...) {
		q := q
		if q.Subtasks == nil {
			q.Subtasks = map[string][]Object{}
		}
		if q.Stories == nil {
			q.Stories = map[string][]Object{}
		}
		if q.Entries == nil {
			q.Entries = map[string][]Object{}
		}
		s.projects = append(s.projects, &q)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// SetToken makes the fake accept tok (instead of Token) as the Bearer token.
func (s *Server) SetToken(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = tok
}

// BaseURL returns the base URL to configure (the API root).
func (s *Server) BaseURL() string { return s.URL + "/api/1.0" }

// Throttle makes the next call of path answer 429 with Retry-After seconds.
func (s *Server) Throttle(path string, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle[path] = retryAfter
}

// FailOnce makes the next call of path answer 500.
func (s *Server) FailOnce(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[path] = true
}

// FailPagesAfterFirst makes every call of path carrying an offset (the
// second page on) answer 500, until ClearFailPages.
func (s *Server) FailPagesAfterFirst(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failPaged[path] = true
}

// ClearFailPages undoes FailPagesAfterFirst for every path.
func (s *Server) ClearFailPages() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.failPaged)
}

// ExpireOffsets makes every request carrying an offset answer 400 "expired".
func (s *Server) ExpireOffsets() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireOffset = true
}

// Unauthorized makes every request answer 401.
func (s *Server) Unauthorized() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unauthorized = true
}

// PaymentRequired makes every call of path answer 402, as premium-only
// endpoints (task search, events on some plans) do on a free workspace.
func (s *Server) PaymentRequired(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.payment[path] = true
}

// ExpireSyncTokens makes every events sync token issued so far invalid:
// the next events call with one answers 412 with a fresh token.
func (s *Server) ExpireSyncTokens() {
	s.dmu.Lock()
	defer s.dmu.Unlock()
	s.epoch++
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Data returns the primary project's data (shared: do not modify, and do
// not read while a mutation helper runs).
func (s *Server) Data() Project { return *s.projects[0] }

// Read calls f with every project served (the primary first) under the
// data lock; f must not change them.
func (s *Server) Read(f func(ps []*Project)) {
	s.dmu.RLock()
	defer s.dmu.RUnlock()
	f(s.projects)
}

// Now is the time the mutation helpers stamp modified_at and events with.
func Now() time.Time { return time.Now().UTC() }

// Edit changes the served data and records the events Asana would; its
// methods are the mutation helpers' (UpdateTask, AddStory, AddTask,
// DeleteTask, MoveTask, DeleteTimeEntry). A Drift hook gets one; Do gives
// one outside.
type Edit struct {
	s   *Server // dmu held
	now time.Time
}

// Do calls f with an Edit stamping changes at now, under the data lock.
func (s *Server) Do(now time.Time, f func(e Edit)) {
	s.dmu.Lock()
	defer s.dmu.Unlock()
	f(Edit{s: s, now: now.UTC()})
}

// Projects returns every project served (the primary first).
func (e Edit) Projects() []*Project { return e.s.projects }

// ListCall describes a list request about to be served, for a Drift hook.
type ListCall struct {
	N      int    // 1 for the first list request since the hook was set
	Path   string // /tasks, /tasks/{gid}/subtasks, …
	Query  map[string][]string
	Offset bool // a next page (the request carries an offset)
}

// Drift sets a hook run before each list request (/tasks,
// /tasks/{gid}/subtasks) is served, under the data lock: the site
// changing while a sync pages through it (tasks edited, moved, reordered,
// deleted between two page requests). nil removes it.
func (s *Server) Drift(f func(e Edit, c ListCall)) {
	s.dmu.Lock()
	defer s.dmu.Unlock()
	s.drift, s.driftN = f, 0
}

// findTask returns the task or subtask gid, its project and, for a
// subtask, its parent gid.
func (s *Server) findTask(gid string) (t Object, proj *Project, parent string) {
	for _, p := range s.projects {
		for _, t := range p.Tasks {
			if t["gid"] == gid {
				return t, p, ""
			}
		}
	}
	for _, p := range s.projects {
		for par, subs := range p.Subtasks {
			for _, t := range subs {
				if t["gid"] == gid {
					return t, p, par
				}
			}
		}
	}
	return nil, nil, ""
}

// project returns the served project gid, or nil.
func (s *Server) project(gid string) *Project {
	for _, p := range s.projects {
		if p.gid() == gid {
			return p
		}
	}
	return nil
}

// holders are the projects a task is listed in (a subtask: its parent's).
func (s *Server) holders(gid string) []*Project {
	var out []*Project
	for _, p := range s.projects {
		for _, t := range p.Tasks {
			if t["gid"] == gid {
				out = append(out, p)
			}
		}
	}
	if len(out) == 0 {
		if _, p, parent := s.findTask(gid); p != nil && parent != "" {
			return s.holders(parent)
		}
	}
	return out
}

// stories, entries and subtasks of a task, wherever they are kept.
func (s *Server) stories(gid string) []Object {
	var out []Object
	for _, p := range s.projects {
		out = append(out, p.Stories[gid]...)
	}
	return out
}

func (s *Server) entries(gid string) []Object {
	var out []Object
	for _, p := range s.projects {
		out = append(out, p.Entries[gid]...)
	}
	return out
}

func (s *Server) subtasks(gid string) []Object {
	var out []Object
	for _, p := range s.projects {
		out = append(out, p.Subtasks[gid]...)
	}
	return out
}

func compact(t Object) Object {
	return Object{"gid": t["gid"], "resource_type": "task", "name": t["name"], "resource_subtype": t["resource_subtype"]}
}

func projectRef(p *Project) Object {
	return Object{"gid": p.gid(), "resource_type": "project", "name": p.name()}
}

// record appends an event to the project's stream (dmu held).
func (s *Server) record(proj string, typ, action string, resource, parent Object, at time.Time) {
	ev := Object{"user": Object{"gid": Users[0]["gid"], "resource_type": "user", "name": Users[0]["name"]},
		"resource": resource, "type": typ, "action": action, "parent": parent, "created_at": ts(at)}
	s.events[proj] = append(s.events[proj], ev)
}

// Mutate changes the primary project's data without recording an event
// (an event Asana failed to deliver, or a change the events do not show).
func (s *Server) Mutate(f func(p *Project)) {
	s.dmu.Lock()
	defer s.dmu.Unlock()
	f(s.projects[0])
}

// UpdateTask applies f to the task or subtask gid, sets its modified_at to
// Now and records a task "changed" event. It panics when gid is unknown.
func (s *Server) UpdateTask(gid string, f func(t Object)) {
	s.Do(Now(), func(e Edit) { e.UpdateTask(gid, f) })
}

// UpdateTask is Server.UpdateTask at the Edit's time.
func (e Edit) UpdateTask(gid string, f func(t Object)) {
	t, _, _ := e.s.findTask(gid)
	if t == nil {
		panic("asanatest: UpdateTask: unknown task " + gid)
	}
	f(t)
	t["modified_at"] = ts(e.now)
	for _, p := range e.s.holders(gid) {
		e.s.record(p.gid(), "task", "changed", compact(t), nil, e.now)
	}
}

// AddStory appends st (gid, created_at and the like set by the caller) to
// the stories of task gid, sets the task's modified_at to Now (adding a
// story modifies a task) and records a story "added" event whose parent is
// the task.
func (s *Server) AddStory(gid string, st Object) {
	s.Do(Now(), func(e Edit) { e.AddStory(gid, st) })
}

// AddStory is Server.AddStory at the Edit's time.
func (e Edit) AddStory(gid string, st Object) {
	t, p, _ := e.s.findTask(gid)
	if t == nil {
		panic("asanatest: AddStory: unknown task " + gid)
	}
	if st["created_at"] == nil {
		st["created_at"] = ts(e.now)
	}
	st["resource_type"] = "story"
	p.Stories[gid] = append(p.Stories[gid], st)
	t["modified_at"] = ts(e.now)
	for _, h := range e.s.holders(gid) {
		e.s.record(h.gid(), "story", "added", Object{"gid": st["gid"], "resource_type": "story", "resource_subtype": st["resource_subtype"]},
			Object{"gid": gid, "resource_type": "task", "name": t["name"]}, e.now)
	}
}

// AddTask adds t to the primary project (parent empty) or as a subtask of
// parent, and records a task "added" event (parent: the project or the
// parent task).
func (s *Server) AddTask(t Object, parent string) {
	s.Do(Now(), func(e Edit) { e.AddTask(s.projects[0].gid(), t, parent) })
}

// AddTask adds t to the project proj (parent empty) or as a subtask of parent.
func (e Edit) AddTask(proj string, t Object, parent string) {
	if parent == "" {
		p := e.s.project(proj)
		if p == nil {
			panic("asanatest: AddTask: unknown project " + proj)
		}
		p.Tasks = append(p.Tasks, t)
		e.s.record(p.gid(), "task", "added", compact(t), projectRef(p), e.now)
		return
	}
	pt, p, _ := e.s.findTask(parent)
	if pt == nil {
		panic("asanatest: AddTask: unknown parent " + parent)
	}
	t["parent"] = Object{"gid": parent, "resource_type": "task", "name": pt["name"]}
	p.Subtasks[parent] = append(p.Subtasks[parent], t)
	pt["num_subtasks"] = len(e.s.subtasks(parent))
	for _, h := range e.s.holders(parent) {
		e.s.record(h.gid(), "task", "added", compact(t), Object{"gid": parent, "resource_type": "task", "name": pt["name"]}, e.now)
	}
}

// DeleteTask removes the task or subtask gid (and its subtasks) and records
// a task "deleted" event. It panics when gid is unknown.
func (s *Server) DeleteTask(gid string) {
	s.Do(Now(), func(e Edit) { e.DeleteTask(gid) })
}

// DeleteTask is Server.DeleteTask at the Edit's time.
func (e Edit) DeleteTask(gid string) {
	t, _, parent := e.s.findTask(gid)
	if t == nil {
		panic("asanatest: DeleteTask: unknown task " + gid)
	}
	holders := e.s.holders(gid)
	for _, p := range e.s.projects {
		p.Tasks = slices.DeleteFunc(p.Tasks, func(o Object) bool { return o["gid"] == gid })
		if parent != "" {
			p.Subtasks[parent] = slices.DeleteFunc(p.Subtasks[parent], func(o Object) bool { return o["gid"] == gid })
		}
		delete(p.Subtasks, gid)
	}
	if parent != "" {
		if pt, _, _ := e.s.findTask(parent); pt != nil {
			pt["num_subtasks"] = len(e.s.subtasks(parent))
		}
	}
	for _, h := range holders {
		e.s.record(h.gid(), "task", "deleted", compact(t), nil, e.now)
	}
}

// MoveTask moves the top-level task gid out of every project into the
// project to, in that project's first section, as a user removing it from
// one project and adding it to another does: a task "removed" event in
// each project it leaves, "added" in the one it joins, modified_at now.
// It panics when gid or to is unknown.
func (s *Server) MoveTask(gid, to string) {
	s.Do(Now(), func(e Edit) { e.MoveTask(gid, to) })
}

// MoveTask is Server.MoveTask at the Edit's time.
func (e Edit) MoveTask(gid, to string) {
	t, _, parent := e.s.findTask(gid)
	dst := e.s.project(to)
	if t == nil || parent != "" || dst == nil {
		panic("asanatest: MoveTask: unknown top-level task " + gid + " or project " + to)
	}
	for _, p := range e.s.holders(gid) {
		p.Tasks = slices.DeleteFunc(p.Tasks, func(o Object) bool { return o["gid"] == gid })
		e.s.record(p.gid(), "task", "removed", compact(t), projectRef(p), e.now)
	}
	t["memberships"] = []Object{{"project": projectRef(dst), "section": dst.sections()[0]}}
	t["modified_at"] = ts(e.now)
	dst.Tasks = append(dst.Tasks, t)
	e.s.record(dst.gid(), "task", "added", compact(t), projectRef(dst), e.now)
}

// MoveToTop moves the task gid to the top of each project listing it (a
// change of priority order: no event, modified_at unchanged).
func (e Edit) MoveToTop(gid string) {
	for _, p := range e.s.projects {
		if i := slices.IndexFunc(p.Tasks, func(o Object) bool { return o["gid"] == gid }); i > 0 {
			t := p.Tasks[i]
			p.Tasks = slices.Insert(slices.Delete(p.Tasks, i, i+1), 0, t)
		}
	}
}

// AddTimeEntry logs an entry on task gid. Asana's events show no time
// tracking [inf]: nothing is recorded and modified_at stays.
func (e Edit) AddTimeEntry(gid string, entry Object) {
	_, p, _ := e.s.findTask(gid)
	if p == nil {
		panic("asanatest: AddTimeEntry: unknown task " + gid)
	}
	p.Entries[gid] = append(p.Entries[gid], entry)
}

// DeleteTimeEntry deletes the time tracking entry gid; like AddTimeEntry
// it records no event and leaves modified_at (only the task's
// actual_time_minutes shows it). It reports whether the entry existed.
func (e Edit) DeleteTimeEntry(gid string) bool {
	for _, p := range e.s.projects {
		for task, es := range p.Entries {
			if i := slices.IndexFunc(es, func(o Object) bool { return o["gid"] == gid }); i >= 0 {
				p.Entries[task] = slices.Delete(es, i, i+1)
				return true
			}
		}
	}
	return false
}

// DeleteTimeEntry is Edit.DeleteTimeEntry under the lock.
func (s *Server) DeleteTimeEntry(gid string) (ok bool) {
	s.Do(Now(), func(e Edit) { ok = e.DeleteTimeEntry(gid) })
	return ok
}

// Events returns the number of events recorded so far (every project).
func (s *Server) Events() int {
	s.dmu.RLock()
	defer s.dmu.RUnlock()
	n := 0
	for _, evs := range s.events {
		n += len(evs)
	}
	return n
}

func syncToken(epoch, pos int) string {
	return fmt.Sprintf("%08x%08x", epoch, pos)
}

// serveEvents answers GET /events (dmu read-held).
func (s *Server) serveEvents(w http.ResponseWriter, q map[string][]string) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	p := s.project(get("resource"))
	if p == nil {
		writeError(w, http.StatusBadRequest, "resource: Not a recognized ID: "+get("resource"))
		return
	}
	events := s.events[p.gid()]
	tok := get("sync")
	var epoch, pos int
	if len(tok) == 16 {
		e, err1 := strconv.ParseInt(tok[:8], 16, 64)
		n, err2 := strconv.ParseInt(tok[8:], 16, 64)
		if err1 == nil && err2 == nil {
			epoch, pos = int(e), int(n)
		} else {
			tok = ""
		}
	} else {
		tok = ""
	}
	if tok == "" || epoch != s.epoch || pos > len(events) {
		writeJSON(w, http.StatusPreconditionFailed, Object{
			"errors": []Object{{"message": "Sync token invalid or too old. If you are attempting to keep resources in sync, you must fetch the full dataset for this query now and use the new sync token for the next sync."}},
			"sync":   syncToken(s.epoch, len(events)),
		})
		return
	}
	end := min(pos+100, len(events))
	writeJSON(w, http.StatusOK, Object{"data": events[pos:end], "sync": syncToken(s.epoch, end), "has_more": end < len(events)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	e := Object{"message": msg, "help": "For more information on API status codes and how to handle them, read the docs on errors: https://developers.asana.com/docs/errors"}
	if status >= 500 {
		e["phrase"] = "6 sad squid snuggle softly"
	}
	writeJSON(w, status, Object{"errors": []Object{e}})
}

// withTime renders a task with actual_time_minutes: the sum of its entries.
func (s *Server) withTime(t Object) Object {
	var sum float64
	for _, e := range s.entries(fmt.Sprint(t["gid"])) {
		v, _ := strconv.ParseFloat(fmt.Sprint(e["duration_minutes"]), 64)
		sum += v
	}
	out := make(Object, len(t)+1)
	for k, v := range t {
		out[k] = v
	}
	out["actual_time_minutes"] = sum
	return out
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, "/api/1.0")
	q := r.URL.Query()
	s.mu.Lock()
	s.requests = append(s.requests, Request{Path: path, Query: q, Auth: r.Header.Get("Authorization")})
	retry, throttled := s.throttle[path]
	delete(s.throttle, path)
	fail := s.fail[path] || (s.failPaged[path] && q.Get("offset") != "")
	delete(s.fail, path)
	expire, unauthorized, token := s.expireOffset, s.unauthorized, s.token
	payment := s.payment[path]
	s.mu.Unlock()

	switch {
	case !ok || r.Method != http.MethodGet:
		writeError(w, http.StatusNotFound, "Unknown object or path")
		return
	case unauthorized || r.Header.Get("Authorization") != "Bearer "+token:
		writeError(w, http.StatusUnauthorized, "Not Authorized")
		return
	case throttled:
		w.Header().Set("Retry-After", strconv.Itoa(retry))
		writeError(w, http.StatusTooManyRequests, "You've made too many requests and hit a rate limit. Please retry after the given amount of time.")
		return
	case fail:
		writeError(w, http.StatusInternalServerError, "Server Error")
		return
	case payment:
		writeError(w, http.StatusPaymentRequired, "This feature is only available to premium users.")
		return
	case expire && q.Get("offset") != "":
		writeError(w, http.StatusBadRequest, "offset: Your pagination token has expired.")
		return
	}

	parts := strings.Split(strings.Trim(path, "/"), "/")
	isList := len(parts) == 1 && parts[0] == "tasks" || len(parts) == 3 && parts[0] == "tasks" && parts[2] == "subtasks"
	if isList {
		s.dmu.Lock()
		if s.drift != nil {
			s.driftN++
			s.drift(Edit{s: s, now: Now()}, ListCall{N: s.driftN, Path: path, Query: q, Offset: q.Get("offset") != ""})
		}
		s.dmu.Unlock()
	}
	s.dmu.RLock()
	defer s.dmu.RUnlock()
	var list []Object
	switch {
	case len(parts) == 1 && parts[0] == "events":
		s.serveEvents(w, q)
		return
	case len(parts) == 2 && parts[0] == "tasks":
		t, _, _ := s.findTask(parts[1])
		if t == nil {
			writeError(w, http.StatusNotFound, "task: Unknown object: "+parts[1])
			return
		}
		fields := []string{"name", "resource_subtype"}
		if f := q.Get("opt_fields"); f != "" {
			fields = strings.Split(f, ",")
		}
		if slices.Contains(fields, "actual_time_minutes") {
			t = s.withTime(t)
		}
		writeJSON(w, http.StatusOK, Object{"data": project(t, fields)})
		return
	case len(parts) == 3 && parts[0] == "projects" && parts[2] == "sections":
		p := s.project(parts[1])
		if p == nil {
			writeError(w, http.StatusNotFound, "project: Unknown object: "+parts[1])
			return
		}
		list = p.sections()
	case len(parts) == 1 && parts[0] == "tasks":
		if q.Get("project") == "" {
			writeError(w, http.StatusBadRequest, "Must specify exactly one of project, tag, section, user task list, or assignee + workspace")
			return
		}
		p := s.project(q.Get("project"))
		if p == nil {
			writeError(w, http.StatusNotFound, "project: Unknown object: "+q.Get("project"))
			return
		}
		v := q.Get("modified_since")
		var since time.Time
		if v != "" {
			var err error
			if since, err = time.Parse(time.RFC3339, v); err != nil {
				writeError(w, http.StatusBadRequest, "modified_since: Not a valid date-time: "+v)
				return
			}
		}
		if v == "" {
			list = p.Tasks
			break
		}
		for _, t := range p.Tasks {
			if m, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(t["modified_at"])); !m.Before(since) {
				list = append(list, t)
			}
		}
	case len(parts) == 3 && parts[0] == "tasks" && parts[2] == "subtasks":
		list = s.subtasks(parts[1])
	case len(parts) == 3 && parts[0] == "tasks" && parts[2] == "stories":
		list = s.stories(parts[1])
	case len(parts) == 3 && parts[0] == "tasks" && parts[2] == "time_tracking_entries":
		list = s.entries(parts[1])
	default:
		writeError(w, http.StatusNotFound, "Unknown object or path")
		return
	}
	s.page(w, r, path, list)
}

// page serves list with limit/offset pagination and opt_fields.
func (s *Server) page(w http.ResponseWriter, r *http.Request, path string, list []Object) {
	q := r.URL.Query()
	var fields []string
	if f := q.Get("opt_fields"); f != "" {
		fields = strings.Split(f, ",")
	} else {
		fields = []string{"name", "resource_subtype"}
	}
	start, limit := 0, len(list)
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 100 {
			writeError(w, http.StatusBadRequest, "limit: Must be between 1 and 100")
			return
		}
		limit = n
	}
	if o := q.Get("offset"); o != "" {
		b, err := base64.RawURLEncoding.DecodeString(o)
		p, n, _ := strings.Cut(string(b), "|")
		i, aerr := strconv.Atoi(n)
		if err != nil || aerr != nil || p != path || i < 0 {
			writeError(w, http.StatusBadRequest, "offset: Invalid offset")
			return
		}
		start = min(i, len(list)) // a list that shrank since: the rest is empty
	}
	end := min(start+limit, len(list))
	data := make([]any, 0, end-start)
	withTime := slices.Contains(fields, "actual_time_minutes")
	for _, o := range list[start:end] {
		if withTime {
			o = s.withTime(o)
		}
		data = append(data, project(o, fields))
	}
	resp := Object{"data": data}
	if q.Get("limit") != "" {
		if end < len(list) {
			off := base64.RawURLEncoding.EncodeToString([]byte(path + "|" + strconv.Itoa(end)))
			nq := r.URL.Query()
			nq.Set("offset", off)
			resp["next_page"] = Object{"offset": off, "path": path + "?" + nq.Encode(), "uri": s.BaseURL() + path + "?" + nq.Encode()}
		} else {
			resp["next_page"] = nil
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

// project keeps gid, resource_type and the requested (dotted) fields; an
// object named without sub-fields renders compact.
func project(v any, fields []string) any {
	switch x := v.(type) {
	case Object:
		out := Object{}
		for _, k := range []string{"gid", "resource_type"} {
			if val, ok := x[k]; ok {
				out[k] = val
			}
		}
		sub := map[string][]string{}
		for _, f := range fields {
			head, rest, _ := strings.Cut(f, ".")
			if _, ok := sub[head]; !ok {
				sub[head] = nil
			}
			if rest != "" {
				sub[head] = append(sub[head], rest)
			}
		}
		for k, rest := range sub {
			if val, ok := x[k]; ok {
				out[k] = project(val, rest)
			}
		}
		return out
	case []Object:
		out := make([]any, len(x))
		for i, o := range x {
			out[i] = project(o, fields)
		}
		return out
	default:
		return v
	}
}

var base = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// Estimate returns the "Estimate (hours)" value of task gid(13, n): n%8
// half-hours, unset (null) when n%7 == 6.
func Estimate(n int) *float64 {
	if n%7 == 6 {
		return nil
	}
	v := float64(n%8) / 2
	return &v
}

// Points returns the "Story points" value of task gid(13, n).
func Points(n int) float64 { return []float64{1, 2, 3, 5, 8}[n%5] }

// CustomFields renders the custom fields of task gid(13, n): the two number
// fields and a text field (which a connector must ignore).
func CustomFields(n int) []Object {
	var est any
	if e := Estimate(n); e != nil {
		est = *e
	}
	display := func(v any) any {
		if v == nil {
			return nil
		}
		return strconv.FormatFloat(v.(float64), 'f', -1, 64)
	}
	return []Object{
		{"gid": EstimateFieldGID, "resource_type": "custom_field", "name": EstimateField, "resource_subtype": "number", "type": "number",
			"number_value": est, "display_value": display(est), "precision": 1, "enabled": true},
		{"gid": PointsFieldGID, "resource_type": "custom_field", "name": PointsField, "resource_subtype": "number", "type": "number",
			"number_value": Points(n), "display_value": display(Points(n)), "precision": 0, "enabled": true},
		{"gid": "1600000000000003", "resource_type": "custom_field", "name": "Notes", "resource_subtype": "text", "type": "text",
			"text_value": "n/a", "display_value": "n/a", "enabled": true},
	}
}

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// Timestamp renders t as Asana renders date-times (UTC, milliseconds).
func Timestamp(t time.Time) string { return ts(t) }

func gid(prefix, n int) string { return fmt.Sprintf("%d%014d", prefix, n) }

// NewProject builds the fake project: NumTasks tasks cycling through four
// patterns (done after moves, in progress, untouched, in progress with a
// comment and a due date change), ReopenedGID reopened, ParentGID with two
// subtasks, MilestoneGID a milestone, and time entries on every tenth task.
func NewProject() Project { return GenerateProject(NumTasks) }

// GenerateProject builds a project like NewProject's with n tasks (n > 5),
// deterministically: the last task is the milestone, task 0 the reopened
// one, task 5 the parent of the NumSubtasks subtasks.
func GenerateProject(n int) Project {
	p := Project{Subtasks: map[string][]Object{}, Stories: map[string][]Object{}, Entries: map[string][]Object{}}
	proj := Object{"gid": ProjectGID, "resource_type": "project", "name": ProjectName}
	storyN := 0
	story := func(at time.Time, by Object, subtype string, extra Object) Object {
		storyN++
		o := Object{"gid": gid(14, storyN), "resource_type": "story", "created_at": ts(at), "created_by": by,
			"type": "system", "resource_subtype": subtype}
		for k, v := range extra {
			o[k] = v
		}
		return o
	}
	move := func(at time.Time, by Object, from, to int) Object {
		return story(at, by, "section_changed", Object{
			"text":        fmt.Sprintf("moved this Task from %q to %q in %s", Sections[from]["name"], Sections[to]["name"], ProjectName),
			"old_section": Sections[from], "new_section": Sections[to]})
	}
	mkTask := func(n int, name string, created time.Time) Object {
		return Object{
			"gid": gid(13, n), "resource_type": "task", "name": name, "resource_subtype": "default_task",
			"created_by": Object{"gid": Users[0]["gid"], "resource_type": "user"},
			"completed":  false, "completed_at": nil, "created_at": ts(created), "modified_at": ts(created),
			"due_on": nil, "due_at": nil, "assignee": nil, "parent": nil, "num_subtasks": 0,
			"permalink_url": "https://app.asana.com/1/1/task/" + gid(13, n),
			"workspace":     Object{"gid": "1000000000000000", "resource_type": "workspace", "name": "Example Co"},
			"custom_fields": CustomFields(n),
		}
	}
	finish := func(t Object, stories []Object, section int) {
		last := t["created_at"].(string)
		for _, s := range stories {
			last = s["created_at"].(string)
		}
		t["modified_at"] = last
		if section >= 0 {
			t["memberships"] = []Object{{"project": proj, "section": Sections[section]}}
		}
		p.Stories[t["gid"].(string)] = stories
	}
	subBase := 500 // subtask gids follow the tasks'
	if n > subBase {
		subBase = n
	}
	entryN := 0
	for i := range n {
		created := base.Add(time.Duration(i) * time.Hour)
		t := mkTask(i, fmt.Sprintf("Task %d", i), created)
		u := Users[i%2]
		t["assignee"] = u
		day := 24 * time.Hour
		var stories []Object
		section := 0
		switch {
		case i == 0:
			stories = []Object{
				move(created.Add(day), u, 0, 1),
				story(created.Add(2*day), u, "marked_complete", Object{"text": "marked this task complete"}),
				story(created.Add(3*day), Users[1], "marked_incomplete", Object{"text": "marked this task incomplete"}),
				story(created.Add(4*day), u, "marked_complete", Object{"text": "marked this task complete"}),
			}
			section = 1
			t["completed"], t["completed_at"] = true, ts(created.Add(4*day))
		case i == n-1:
			t["resource_subtype"] = "milestone"
			t["name"] = "Beta launch"
			t["due_on"] = "2026-03-31"
			stories = []Object{
				story(created.Add(time.Hour), u, "due_date_changed", Object{"text": "changed the due date to March 15",
					"old_dates": Object{"due_on": nil, "due_at": nil, "start_on": nil}, "new_dates": Object{"due_on": "2026-03-15", "due_at": nil, "start_on": nil}}),
				story(created.Add(day), u, "due_date_changed", Object{"text": "changed the due date to March 31",
					"old_dates": Object{"due_on": "2026-03-15", "due_at": nil, "start_on": nil}, "new_dates": Object{"due_on": "2026-03-31", "due_at": nil, "start_on": nil}}),
				story(created.Add(2*day), u, "marked_complete", Object{"text": "marked this milestone complete"}),
			}
			t["completed"], t["completed_at"] = true, ts(created.Add(2*day))
		case i%4 == 0:
			stories = []Object{move(created.Add(day), u, 0, 1), move(created.Add(2*day), u, 1, 2),
				move(created.Add(3*day), u, 2, 3),
				story(created.Add(3*day+time.Minute), u, "marked_complete", Object{"text": "marked this task complete"})}
			section = 3
			t["completed"], t["completed_at"] = true, ts(created.Add(3*day+time.Minute))
		case i%4 == 1:
			stories = []Object{move(created.Add(day), u, 0, 1)}
			section = 1
		case i%4 == 2:
		case i%4 == 3:
			stories = []Object{
				story(created.Add(time.Hour), u, "comment_added", Object{"type": "comment", "text": "Looks good."}),
				move(created.Add(day), u, 0, 1),
				story(created.Add(2*day), u, "due_date_changed", Object{"text": "changed the due date",
					"old_dates": Object{"due_on": nil}, "new_dates": Object{"due_on": "2026-02-20"}}),
			}
			t["due_on"] = "2026-02-20"
			section = 1
		}
		if i == 5 {
			t["num_subtasks"] = NumSubtasks
			for j := range NumSubtasks {
				st := mkTask(subBase+j, fmt.Sprintf("Subtask %d of task 5", j), created.Add(time.Duration(j+1)*time.Hour))
				st["parent"] = Object{"gid": t["gid"], "resource_type": "task", "name": t["name"]}
				var ss []Object
				if j == 0 {
					at := created.Add(time.Duration(j+1)*time.Hour + day)
					ss = []Object{story(at, u, "marked_complete", Object{"text": "marked this task complete"})}
					st["completed"], st["completed_at"] = true, ts(at)
				}
				finish(st, ss, -1)
				p.Subtasks[t["gid"].(string)] = append(p.Subtasks[t["gid"].(string)], st)
			}
		}
		if i%10 == 0 {
			for k := range 2 {
				entryN++
				p.Entries[t["gid"].(string)] = append(p.Entries[t["gid"].(string)], Object{
					"gid": gid(15, entryN), "resource_type": "time_tracking_entry",
					"duration_minutes": 30 * (k + 1), "entered_on": created.Add(time.Duration(k) * 24 * time.Hour).Format(time.DateOnly),
					"created_by": Users[k], "created_at": ts(created.Add(time.Duration(k)*24*time.Hour + 8*time.Hour)),
					"task":            Object{"gid": t["gid"], "resource_type": "task", "name": t["name"], "resource_subtype": t["resource_subtype"]},
					"attributable_to": proj, "approval_status": "DRAFT", "billable_status": "billable",
				})
			}
		}
		finish(t, stories, section)
		p.Tasks = append(p.Tasks, t)
	}
	return p
}
