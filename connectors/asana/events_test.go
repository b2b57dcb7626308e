package asana_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/throughline/throughline/connectors/asana"
	"github.com/throughline/throughline/connectors/asana/asanatest"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/ingest/ingesttest"
	"github.com/throughline/throughline/warehouse"
)

type obj = asanatest.Object

// Keys of the fake project used below (task i is gid 13…i).
const (
	task2      = "1300000000000002" // To Do, no stories
	task7      = "1300000000000007"
	task9      = "1300000000000009"
	task11     = "1300000000000011"
	task13     = "1300000000000013"
	subtask501 = "1300000000000501" // open subtask of ParentGID
)

var projectRef = obj{"gid": asanatest.ProjectGID, "resource_type": "project", "name": asanatest.ProjectName}

// storedCursor decodes the source's stored cursor.
func storedCursor(t *testing.T, db *warehouse.DB) (sync map[string]string, raw map[string]any) {
	t.Helper()
	c, err := db.Cursor(t.Context(), whSource)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Sync map[string]string `json:"sync"`
	}
	if err := json.Unmarshal([]byte(c), &v); err != nil {
		t.Fatalf("cursor %s: %v", c, err)
	}
	if err := json.Unmarshal([]byte(c), &raw); err != nil {
		t.Fatal(err)
	}
	return v.Sync, raw
}

type whItem struct {
	Title, Status string
	Deleted       bool
	Transitions   int
}

func queryItem(t *testing.T, db *warehouse.DB, key string) whItem {
	t.Helper()
	var it whItem
	if err := db.QueryRow(`SELECT title, status, deleted, (SELECT count(*) FROM status_changes s WHERE s.item_id = w.item_id)
		FROM work_items w WHERE key = ?`, key).Scan(&it.Title, &it.Status, &it.Deleted, &it.Transitions); err != nil {
		t.Fatalf("work item %s: %v", key, err)
	}
	return it
}

// requestsSince returns the requests the fake received after the first n.
func requestsSince(srv *asanatest.Server, n int) []asanatest.Request {
	return srv.Requests()[n:]
}

func paths(rs []asanatest.Request) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Path)
	}
	return out
}

// noPremium fails when a request went to a premium-only endpoint (search,
// workspace events, portfolios).
func noPremium(t *testing.T, rs []asanatest.Request) {
	t.Helper()
	for _, r := range rs {
		if strings.Contains(r.Path, "search") || strings.HasPrefix(r.Path, "/workspaces") || strings.HasPrefix(r.Path, "/portfolios") {
			t.Errorf("requested the premium-only endpoint %s", r.Path)
		}
	}
}

func TestWarehouseEventsFetchChangedTasks(t *testing.T) {
	srv := asanatest.New(t)
	db := openWarehouse(t)
	if _, err := syncWarehouse(t, db, db, srv); err != nil {
		t.Fatalf("full sync: %v", err)
	}
	tokens, _ := storedCursor(t, db)
	oldTok := tokens[asanatest.ProjectGID]
	if oldTok == "" {
		t.Fatalf("cursor after the full sync holds no sync token for the project: %v", tokens)
	}

	// Task 2 moves from To Do to Review; subtask 501 (not listed in the
	// project) is completed: a subtask-only change.
	srv.AddStory(task2, obj{"gid": "1490000000000001", "type": "system", "resource_subtype": "section_changed",
		"created_by": asanatest.Users[1], "old_section": asanatest.Sections[0], "new_section": asanatest.Sections[2]})
	srv.UpdateTask(task2, func(t obj) {
		t["memberships"] = []obj{{"project": projectRef, "section": asanatest.Sections[2]}}
	})
	srv.AddStory(subtask501, obj{"gid": "1490000000000002", "type": "system", "resource_subtype": "marked_complete",
		"created_by": asanatest.Users[0]})
	srv.UpdateTask(subtask501, func(t obj) {
		t["completed"], t["completed_at"] = true, time.Now().UTC().Format(time.RFC3339Nano)
	})

	n := len(srv.Requests())
	r, err := syncWarehouse(t, db, db, srv)
	if err != nil {
		t.Fatalf("events sync: %v", err)
	}
	if r.Batches != 1 {
		t.Errorf("events sync committed %d batches, want 1 (one page of events)", r.Batches)
	}
	rs := requestsSince(srv, n)
	noPremium(t, rs)
	got := map[string]int{}
	for _, q := range rs {
		got[q.Path]++
		if q.Path == "/tasks" {
			t.Errorf("events sync listed the project's tasks (%v): it must fetch the changed ones only", q.Query)
		}
		if q.Path == "/events" && !slices.Equal(q.Query["sync"], []string{oldTok}) {
			t.Errorf("/events sync = %v, want the stored token %s", q.Query["sync"], oldTok)
		}
	}
	for _, gid := range []string{task2, subtask501, asanatest.ParentGID} {
		for _, suffix := range []string{"", "/stories", "/time_tracking_entries"} {
			if got["/tasks/"+gid+suffix] != 1 {
				t.Errorf("/tasks/%s%s requested %d times, want once (the changed task, the changed subtask and its parent)", gid, suffix, got["/tasks/"+gid+suffix])
			}
		}
	}
	if n := got["/tasks/"+task7]; n != 0 {
		t.Errorf("an unchanged task was fetched %d times", n)
	}

	want := cleanSync
	want.StatusChanges += 2 // task 2: → Review; subtask 501: → Completed
	if diff := cmp.Diff(want, countWarehouse(t, db)); diff != "" {
		t.Errorf("rows after the events sync (-want +got):\n%s", diff)
	}
	if it := queryItem(t, db, task2); it.Status != "Review" || it.Transitions != 2 {
		t.Errorf("task 2 = %+v, want status Review with 2 transitions", it)
	}
	if it := queryItem(t, db, subtask501); it.Status != asana.StatusCompleted || it.Transitions != 2 {
		t.Errorf("subtask 501 = %+v, want Completed with 2 transitions", it)
	}
	tokens, _ = storedCursor(t, db)
	if tokens[asanatest.ProjectGID] == oldTok || tokens[asanatest.ProjectGID] == "" {
		t.Errorf("sync token after the events sync = %q, want a new one", tokens[asanatest.ProjectGID])
	}

	// Nothing changed since: one events call, nothing else.
	n = len(srv.Requests())
	if _, err := syncWarehouse(t, db, db, srv); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"/events"}, paths(requestsSince(srv, n))); diff != "" {
		t.Errorf("sync of unchanged data requested (-want +got):\n%s", diff)
	}
}

// failingStore fails the commit number fail (1-based).
type failingStore struct {
	ingest.Store
	n, fail int
}

var errCommit = errors.New("commit failed")

func (s *failingStore) Commit(ctx context.Context, source string, b ingest.Batch) error {
	s.n++
	if s.n == s.fail {
		return errCommit
	}
	return s.Store.Commit(ctx, source, b)
}

func TestWarehouseEventsPagingResumes(t *testing.T) {
	srv := asanatest.New(t)
	db := openWarehouse(t)
	if _, err := syncWarehouse(t, db, db, srv); err != nil {
		t.Fatalf("full sync: %v", err)
	}
	// 104 renames (the milestone keeps its name: milestones are keyed by
	// name), then 10 more of task 7: 114 events, two pages (100 + 14).
	for _, task := range srv.Data().Tasks {
		if task["gid"] == asanatest.MilestoneGID {
			continue
		}
		srv.UpdateTask(task["gid"].(string), func(t obj) { t["name"] = "Renamed " + t["gid"].(string) })
	}
	for i := range 10 {
		srv.UpdateTask(task7, func(t obj) { t["name"] = fmt.Sprintf("Task 7, take %d", i) })
	}

	// The second batch fails to commit: the first page's token is stored.
	n := len(srv.Requests())
	if _, err := syncWarehouse(t, db, &failingStore{Store: db, fail: 2}, srv); !errors.Is(err, errCommit) {
		t.Fatalf("sync = %v, want the commit error", err)
	}
	var evs []asanatest.Request
	for _, q := range requestsSince(srv, n) {
		if q.Path == "/events" {
			evs = append(evs, q)
		}
	}
	if len(evs) != 2 {
		t.Fatalf("%d /events calls, want 2 (has_more after the first 100 events)", len(evs))
	}
	var renamed int
	if err := db.QueryRow("SELECT count(*) FROM work_items WHERE title LIKE 'Renamed %'").Scan(&renamed); err != nil {
		t.Fatal(err)
	}
	if renamed != 99 { // tasks 0–99 less task 7, already at its last name
		t.Errorf("%d tasks renamed after the first page of events, want 99", renamed)
	}
	tokens, _ := storedCursor(t, db)
	if tok, want := tokens[asanatest.ProjectGID], evs[1].Query["sync"][0]; tok != want {
		t.Errorf("stored token %s, want the one the first page returned (%s)", tok, want)
	}

	// The resumed sync reads the second page only, from the stored token.
	n = len(srv.Requests())
	if _, err := syncWarehouse(t, db, db, srv); err != nil {
		t.Fatalf("resumed sync: %v", err)
	}
	var fetched []string
	for _, q := range requestsSince(srv, n) {
		if q.Path == "/events" && q.Query["sync"][0] != evs[1].Query["sync"][0] {
			t.Errorf("resumed /events from %v, want %s", q.Query["sync"], evs[1].Query["sync"][0])
		}
		if gid, ok := strings.CutPrefix(q.Path, "/tasks/"); ok && !strings.Contains(gid, "/") {
			fetched = append(fetched, gid)
		}
	}
	if want := []string{"1300000000000100", "1300000000000101", "1300000000000102", "1300000000000103", task7}; !cmp.Equal(want, fetched) {
		t.Errorf("resumed sync fetched %v, want %v", fetched, want)
	}
	if err := db.QueryRow("SELECT count(*) FROM work_items WHERE title LIKE 'Renamed %'").Scan(&renamed); err != nil {
		t.Fatal(err)
	}
	if renamed != asanatest.NumTasks-2 {
		t.Errorf("%d tasks renamed, want %d", renamed, asanatest.NumTasks-2)
	}
	if it := queryItem(t, db, task7); it.Title != "Task 7, take 9" {
		t.Errorf("task 7 title = %q, want its last name", it.Title)
	}
	if diff := cmp.Diff(cleanSync, countWarehouse(t, db)); diff != "" {
		t.Errorf("rows (-clean +after renames):\n%s", diff)
	}
}

func TestWarehouseEventsExpiredTokenFallsBackToPolling(t *testing.T) {
	srv := asanatest.New(t)
	db := openWarehouse(t)
	// The watermark of the first pass is the server's time when it began.
	began := time.Now().Truncate(time.Second)
	if _, err := syncWarehouse(t, db, db, srv); err != nil {
		t.Fatalf("full sync: %v", err)
	}
	ended := time.Now()
	tokens, _ := storedCursor(t, db)
	oldTok := tokens[asanatest.ProjectGID]

	// The token expires; task 9 changes (an event the expired token cannot
	// deliver), and task 11 changes without any event.
	srv.ExpireSyncTokens()
	srv.UpdateTask(task9, func(t obj) { t["name"] = "Changed after expiry" })
	srv.Mutate(func(p *asanatest.Project) {
		for _, t := range p.Tasks {
			if t["gid"] == task11 {
				t["name"] = "Changed without an event"
				t["modified_at"] = asanatest.Now().Format(time.RFC3339Nano)
			}
		}
	})

	n := len(srv.Requests())
	if _, err := syncWarehouse(t, db, db, srv); err != nil {
		t.Fatalf("sync after the expiry: %v", err)
	}
	var since []string
	var events int
	for _, q := range requestsSince(srv, n) {
		switch q.Path {
		case "/tasks":
			since = append(since, q.Query["modified_since"]...)
		case "/events":
			events++
		}
	}
	if events != 1 {
		t.Errorf("%d /events calls, want 1 (the 412)", events)
	}
	// The poll and its check of the listing, from the watermark minus the overlap.
	if len(since) != 2 || since[0] != since[1] {
		t.Errorf("polling sent modified_since %v, want the same twice", since)
	} else if ms, err := time.Parse(time.RFC3339, since[0]); err != nil || ms.Before(began.Add(-asana.Overlap)) || ms.After(ended.Add(-asana.Overlap)) {
		t.Errorf("polling sent modified_since %s, want the first pass's start (%s–%s) minus the overlap", since[0], began, ended)
	}
	if it := queryItem(t, db, task9); it.Title != "Changed after expiry" {
		t.Errorf("task 9 title = %q: the change made while the token expired was lost", it.Title)
	}
	if it := queryItem(t, db, task11); it.Title != "Changed without an event" {
		t.Errorf("task 11 title = %q: the change without an event was lost", it.Title)
	}
	if diff := cmp.Diff(cleanSync, countWarehouse(t, db)); diff != "" {
		t.Errorf("rows (-clean +after the fallback):\n%s", diff)
	}
	tokens, _ = storedCursor(t, db)
	newTok := tokens[asanatest.ProjectGID]
	if newTok == "" || newTok == oldTok {
		t.Fatalf("token after the 412 = %q, want the fresh one of the 412 reply", newTok)
	}

	// The new token works: the next change arrives by events.
	srv.UpdateTask(task13, func(t obj) { t["name"] = "Changed with the new token" })
	n = len(srv.Requests())
	if _, err := syncWarehouse(t, db, db, srv); err != nil {
		t.Fatal(err)
	}
	for _, q := range requestsSince(srv, n) {
		if q.Path == "/tasks" {
			t.Errorf("sync with a fresh token listed the project (%v)", q.Query)
		}
		if q.Path == "/events" && q.Query["sync"][0] != newTok {
			t.Errorf("/events sync = %v, want %s", q.Query["sync"], newTok)
		}
	}
	if it := queryItem(t, db, task13); it.Title != "Changed with the new token" {
		t.Errorf("task 13 title = %q", it.Title)
	}
}

func TestWarehouseDeletedTasks(t *testing.T) {
	srv := asanatest.New(t)
	db := openWarehouse(t)
	if _, err := syncWarehouse(t, db, db, srv); err != nil {
		t.Fatalf("full sync: %v", err)
	}
	_, before := storedCursor(t, db)
	srv.DeleteTask(task9)
	srv.DeleteTask(subtask501)

	n := len(srv.Requests())
	if _, err := syncWarehouse(t, db, db, srv); err != nil {
		t.Fatalf("sync: %v", err)
	}
	rows, err := db.Query("SELECT key FROM work_items WHERE deleted ORDER BY key")
	if err != nil {
		t.Fatal(err)
	}
	var deleted []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		deleted = append(deleted, k)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{task9, subtask501}, deleted); diff != "" {
		t.Errorf("deleted work items (-want +got):\n%s", diff)
	}
	// The reconciliation lists gids (and subtasks of tasks that have any);
	// deleted tasks are not fetched.
	var live, liveSubs int
	for _, q := range requestsSince(srv, n) {
		f := strings.Join(q.Query["opt_fields"], ",")
		switch {
		case q.Path == "/tasks" && f == liveFields:
			live++
		case q.Path == "/tasks/"+asanatest.ParentGID+"/subtasks" && f == liveFields:
			liveSubs++
		case q.Path == "/tasks/"+task9 || q.Path == "/tasks/"+subtask501:
			t.Errorf("fetched the deleted task %s", q.Path)
		}
	}
	// Two listings of two pages; the subtasks once, of the live tasks.
	if live != 4 || liveSubs != 1 {
		t.Errorf("reconciliation: %d pages of gids and %d subtask lists, want 4 and 1", live, liveSubs)
	}
	_, after := storedCursor(t, db)
	if after["reconciled"] == before["reconciled"] {
		t.Errorf("cursor reconciled = %v, unchanged by the reconciliation", after["reconciled"])
	}
	// Deleted items leave the metrics but keep their rows.
	if c := countWarehouse(t, db); c.Items != cleanSync.Items {
		t.Errorf("%d work items, want %d (deleted ones kept)", c.Items, cleanSync.Items)
	}
}

func TestWarehouseDailyReconciliation(t *testing.T) {
	srv := asanatest.New(t)
	db := openWarehouse(t)
	if _, err := syncWarehouse(t, db, db, srv); err != nil {
		t.Fatalf("full sync: %v", err)
	}
	// Task 9 vanishes without an event (a missed one).
	srv.Mutate(func(p *asanatest.Project) {
		p.Tasks = slices.DeleteFunc(p.Tasks, func(o obj) bool { return o["gid"] == task9 })
	})
	sync := func(now time.Time) {
		t.Helper()
		c := newConnector(t, srv, asana.Options{Now: func() time.Time { return now }})
		if _, err := ingest.Sync(t.Context(), db, db, whSource, c, ingest.SyncOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	sync(time.Now())
	if it := queryItem(t, db, task9); it.Deleted {
		t.Fatal("task 9 marked deleted before a reconciliation was due")
	}
	sync(time.Now().Add(asana.ReconcileEvery + time.Hour))
	if it := queryItem(t, db, task9); !it.Deleted {
		t.Error("task 9 not marked deleted by the daily reconciliation")
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM work_items WHERE deleted").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d items deleted, want 1", n)
	}
}

func TestWarehouseCustomFieldEstimates(t *testing.T) {
	srv := asanatest.New(t)
	db := openWarehouse(t)
	c, err := asana.New(asana.Config{
		BaseURL: srv.BaseURL(), Projects: []string{asanatest.ProjectGID}, Token: asanatest.Token,
		EstimateField: "estimate (HOURS)", StoryPointsField: asanatest.PointsFieldGID,
	}, asana.Options{Sleep: (&sleeps{}).sleep})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Sync(t.Context(), db, db, whSource, c, ingest.SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	type est struct {
		Seconds sql.NullInt64
		Points  sql.NullFloat64
	}
	// Task n's estimate is n%8 half-hours (none when n%7 == 6); its points
	// are 1, 2, 3, 5, 8 by n%5.
	want := map[string]est{
		"1300000000000003": {sql.NullInt64{Int64: 5400, Valid: true}, sql.NullFloat64{Float64: 5, Valid: true}}, // 1.5 h
		"1300000000000006": {sql.NullInt64{}, sql.NullFloat64{Float64: 2, Valid: true}},                         // unset
		"1300000000000009": {sql.NullInt64{Int64: 1800, Valid: true}, sql.NullFloat64{Float64: 8, Valid: true}}, // 0.5 h
		"1300000000000500": {sql.NullInt64{Int64: 7200, Valid: true}, sql.NullFloat64{Float64: 1, Valid: true}}, // subtask: 2 h
	}
	got := map[string]est{}
	for k := range want {
		var e est
		if err := db.QueryRow("SELECT estimate_seconds, story_points FROM work_items WHERE key = ?", k).Scan(&e.Seconds, &e.Points); err != nil {
			t.Fatal(err)
		}
		got[k] = e
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("estimates (-want +got):\n%s", diff)
	}
	for _, q := range srv.Requests() {
		if f := strings.Join(q.Query["opt_fields"], ","); f == "gid" || f == liveFields || q.Path != "/tasks" {
			continue // gid listings
		}
		if q.Path == "/tasks" && !strings.HasSuffix(q.Query["opt_fields"][0], ",custom_fields.name,custom_fields.gid,custom_fields.number_value,custom_fields.resource_subtype") {
			t.Errorf("/tasks opt_fields %q lack the custom fields", q.Query["opt_fields"])
		}
	}
}

func TestCustomFieldConfig(t *testing.T) {
	srv := asanatest.New(t)
	f := func(v float64) *float64 { return &v }
	i := func(v int64) *int64 { return &v }
	tests := []struct {
		name                 string
		field, unit, points  string
		wantEst              *int64
		wantPoints           *float64
		wantCustomFieldsSent bool
	}{
		{"none configured", "", "", "", nil, nil, false},
		{"hours by gid", asanatest.EstimateFieldGID, "", "", i(5400), nil, true},
		{"minutes by name", asanatest.EstimateField, "minutes", "", i(90), nil, true},
		{"points only", "", "", asanatest.PointsField, nil, f(5), true},
		{"a text field is no estimate", "Notes", "", "Notes", nil, nil, true},
		{"an unknown field", "Effort", "", "", nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := asana.New(asana.Config{BaseURL: srv.BaseURL(), Projects: []string{asanatest.ProjectGID}, Token: asanatest.Token,
				EstimateField: tt.field, EstimateUnit: tt.unit, StoryPointsField: tt.points}, asana.Options{Sleep: (&sleeps{}).sleep})
			if err != nil {
				t.Fatal(err)
			}
			n := len(srv.Requests())
			st := ingesttest.NewMemStore()
			if _, err := syncAll(t, c, "", st); err != nil {
				t.Fatal(err)
			}
			it := st.Snapshot().Items["1300000000000003"]
			if diff := cmp.Diff(tt.wantEst, it.EstimateSeconds); diff != "" {
				t.Errorf("EstimateSeconds (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantPoints, it.StoryPoints); diff != "" {
				t.Errorf("StoryPoints (-want +got):\n%s", diff)
			}
			for _, q := range requestsSince(srv, n) {
				if f := strings.Join(q.Query["opt_fields"], ","); q.Path == "/tasks" && f != "gid" && f != liveFields {
					if sent := strings.Contains(q.Query["opt_fields"][0], "custom_fields"); sent != tt.wantCustomFieldsSent {
						t.Errorf("/tasks opt_fields %q: custom fields sent = %v, want %v", q.Query["opt_fields"][0], sent, tt.wantCustomFieldsSent)
					}
				}
			}
		})
	}
	if _, err := asana.New(asana.Config{Projects: []string{asanatest.ProjectGID}, Token: "x", EstimateUnit: "days"}, asana.Options{}); err == nil || !strings.Contains(err.Error(), "estimate_unit") {
		t.Errorf("New with estimate_unit days = %v, want an error naming estimate_unit", err)
	}
}

func TestWarehouseMilestoneDueChanges(t *testing.T) {
	srv := asanatest.New(t)
	db := openWarehouse(t)
	if _, err := syncWarehouse(t, db, db, srv); err != nil {
		t.Fatal(err)
	}
	type change struct{ Observed, Old, New, Origin string }
	read := func() (base, due string, changes []change) {
		t.Helper()
		var b, d sql.NullTime
		if err := db.QueryRow("SELECT baseline_due_date, due_date FROM milestones WHERE name = 'Beta launch'").Scan(&b, &d); err != nil {
			t.Fatal(err)
		}
		rows, err := db.Query(`SELECT c.observed_at, c.old_due_date, c.new_due_date, c.origin FROM milestone_due_changes c
			JOIN milestones m USING (milestone_id) WHERE m.name = 'Beta launch' ORDER BY c.observed_at`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var o time.Time
			var old, nw sql.NullTime
			var c change
			if err := rows.Scan(&o, &old, &nw, &c.Origin); err != nil {
				t.Fatal(err)
			}
			c.Observed, c.Old, c.New = o.UTC().Format(time.RFC3339), fmtDate(old), fmtDate(nw)
			changes = append(changes, c)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return fmtDate(b), fmtDate(d), changes
	}
	// The milestone, created 01-09 17:00, was given 03-15 an hour later and
	// moved to 03-31 a day later.
	wantChanges := []change{
		{"2026-01-09T18:00:00Z", "", "2026-03-15", "history"},
		{"2026-01-10T17:00:00Z", "2026-03-15", "2026-03-31", "history"},
	}
	base, due, changes := read()
	if base != "2026-03-15" || due != "2026-03-31" {
		t.Errorf("baseline %s, due %s; want 2026-03-15, 2026-03-31", base, due)
	}
	if diff := cmp.Diff(wantChanges, changes); diff != "" {
		t.Errorf("milestone_due_changes (-want +got):\n%s", diff)
	}

	// A new move arrives by events; the history is not duplicated.
	at := time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)
	srv.AddStory(asanatest.MilestoneGID, obj{"gid": "1490000000000009", "created_at": at.Format(time.RFC3339Nano), "type": "system",
		"resource_subtype": "due_date_changed", "created_by": asanatest.Users[0],
		"old_dates": obj{"due_on": "2026-03-31", "due_at": nil}, "new_dates": obj{"due_on": "2026-04-15", "due_at": nil}})
	srv.UpdateTask(asanatest.MilestoneGID, func(t obj) { t["due_on"] = "2026-04-15" })
	if _, err := syncWarehouse(t, db, db, srv); err != nil {
		t.Fatal(err)
	}
	base, due, changes = read()
	if base != "2026-03-15" || due != "2026-04-15" {
		t.Errorf("after the move: baseline %s, due %s; want 2026-03-15, 2026-04-15", base, due)
	}
	wantChanges = append(wantChanges, change{"2026-02-01T10:00:00Z", "2026-03-31", "2026-04-15", "history"})
	if diff := cmp.Diff(wantChanges, changes); diff != "" {
		t.Errorf("milestone_due_changes after the move (-want +got):\n%s", diff)
	}
}

func fmtDate(t sql.NullTime) string {
	if !t.Valid {
		return ""
	}
	return t.Time.Format(time.DateOnly)
}

// logRecorder is a slog.Handler keeping each record's level and message.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs = append(h.msgs, r.Level.String()+" "+r.Message)
	return nil
}
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logRecorder) WithGroup(string) slog.Handler      { return h }

func (h *logRecorder) count(sub string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, m := range h.msgs {
		if strings.Contains(m, sub) {
			n++
		}
	}
	return n
}

func TestWarehouseEventsPaymentRequiredFallsBackToPolling(t *testing.T) {
	srv := asanatest.New(t)
	srv.PaymentRequired("/events")
	db := openWarehouse(t)
	logs := &logRecorder{}
	c := newConnector(t, srv, asana.Options{Logger: slog.New(logs)})
	sync := func() {
		t.Helper()
		if _, err := ingest.Sync(t.Context(), db, db, whSource, c, ingest.SyncOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	sync()
	if diff := cmp.Diff(cleanSync, countWarehouse(t, db)); diff != "" {
		t.Errorf("rows after a sync without events (-want +got):\n%s", diff)
	}
	if tokens, _ := storedCursor(t, db); len(tokens) != 0 {
		t.Errorf("cursor holds sync tokens %v without an events API", tokens)
	}
	srv.UpdateTask(task9, func(t obj) { t["name"] = "Polled" })
	n := len(srv.Requests())
	sync()
	var since int
	for _, q := range requestsSince(srv, n) {
		if q.Path == "/events" {
			t.Error("the connector asked /events again after a 402")
		}
		if q.Path == "/tasks" && len(q.Query["modified_since"]) == 1 && strings.Join(q.Query["opt_fields"], ",") != "gid" {
			since++
		}
	}
	if since != 1 {
		t.Errorf("%d polls with modified_since, want 1 (and its check)", since)
	}
	if it := queryItem(t, db, task9); it.Title != "Polled" {
		t.Errorf("task 9 title = %q, want the polled change", it.Title)
	}
	if n := logs.count("HTTP 402"); n != 1 {
		t.Errorf("the 402 of /events was logged %d times, want once:\n%s", n, strings.Join(logs.msgs, "\n"))
	}
	noPremium(t, srv.Requests())
}

func TestFirstCutCursorMovesToEvents(t *testing.T) {
	srv := asanatest.New(t)
	st := ingesttest.NewMemStore()
	// A completed cursor of the first cut: a watermark, no token.
	from := ingest.Cursor(fmt.Sprintf(`{"modified_since":%q,"v":1}`, newestModified(srv).Format(time.RFC3339Nano)))
	bs, err := syncAll(t, newConnector(t, srv, asana.Options{}), from, st)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, q := range srv.Requests() {
		switch q.Path {
		case "/events":
			got = append(got, "/events sync="+strings.Join(q.Query["sync"], ""))
		case "/tasks":
			got = append(got, "/tasks modified_since="+strings.Join(q.Query["modified_since"], "")+" opt_fields="+strings.Join(q.Query["opt_fields"], ""))
		}
	}
	want := []string{
		"/events sync=", // the subscription
		"/tasks modified_since=" + newestModified(srv).Add(-asana.Overlap).UTC().Format(time.RFC3339) + " opt_fields=" + wantTaskFields,
		// The check that the listing missed nothing.
		"/tasks modified_since=" + newestModified(srv).Add(-asana.Overlap).UTC().Format(time.RFC3339) + " opt_fields=gid",
		// No reconciliation stored yet: one is due (two listings of two pages of gids).
		"/tasks modified_since= opt_fields=" + liveFields,
		"/tasks modified_since= opt_fields=" + liveFields,
		"/tasks modified_since= opt_fields=" + liveFields,
		"/tasks modified_since= opt_fields=" + liveFields,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	var cur struct {
		Sync map[string]string `json:"sync"`
	}
	if err := json.Unmarshal([]byte(bs[len(bs)-1].Cursor), &cur); err != nil || cur.Sync[asanatest.ProjectGID] == "" {
		t.Errorf("final cursor %s: want a sync token (%v)", bs[len(bs)-1].Cursor, err)
	}
}

func TestEventsAddedTaskWithSubtask(t *testing.T) {
	srv := asanatest.New(t)
	st := ingesttest.NewMemStore()
	bs, err := syncAll(t, newConnector(t, srv, asana.Options{}), "", st)
	if err != nil {
		t.Fatal(err)
	}
	now := asanatest.Now().Format(time.RFC3339Nano)
	newTask := func(gid, name string) obj {
		return obj{"gid": gid, "resource_type": "task", "name": name, "resource_subtype": "default_task",
			"completed": false, "completed_at": nil, "created_at": now, "modified_at": now, "due_on": nil, "due_at": nil,
			"assignee": asanatest.Users[1], "parent": nil, "num_subtasks": 0}
	}
	const top, sub = "1310000000000001", "1310000000000002"
	tt := newTask(top, "New task")
	tt["memberships"] = []obj{{"project": projectRef, "section": asanatest.Sections[1]}}
	srv.AddTask(tt, "")
	srv.AddTask(newTask(sub, "New subtask"), top)

	if _, err := syncAll(t, newConnector(t, srv, asana.Options{}), bs[len(bs)-1].Cursor, st); err != nil {
		t.Fatal(err)
	}
	snap := st.Snapshot()
	if it := snap.Items[top]; it.Status != "In Progress" || it.Type != "Task" || it.Project != asanatest.ProjectGID {
		t.Errorf("new task = %+v", it)
	}
	if it := snap.Items[sub]; it.Parent != top || it.Type != "Subtask" || it.Status != asana.StatusNoSection {
		t.Errorf("new subtask = %+v, want a To Do subtask of %s", it, top)
	}
	if n := len(snap.Items); n != asanatest.NumTasks+asanatest.NumSubtasks+2 {
		t.Errorf("%d items, want %d", n, asanatest.NumTasks+asanatest.NumSubtasks+2)
	}
}
