package warehouse_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/warehouse"
	"github.com/throughline/throughline/warehouse/warehousetest"
)

func tm(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func count(t *testing.T, db *warehouse.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestMigrationsRecorded(t *testing.T) {
	db := warehousetest.Open(t, "")
	ms, err := warehouse.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	v, err := db.SchemaVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if v != ms[len(ms)-1].Version {
		t.Errorf("schema version = %d, want %d", v, ms[len(ms)-1].Version)
	}
	if n := count(t, db, "SELECT count(*) FROM schema_migrations"); n != len(ms) {
		t.Errorf("schema_migrations rows = %d, want %d", n, len(ms))
	}
}

func TestReopenDoesNotReapplyMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.duckdb")
	ctx := context.Background()
	for i := range 2 {
		db, err := warehouse.Open(ctx, warehouse.Options{Path: path})
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		ms, _ := warehouse.Migrations()
		if n := count(t, db, "SELECT count(*) FROM schema_migrations"); n != len(ms) {
			t.Errorf("open %d: %d migration rows, want %d", i, n, len(ms))
		}
		db.Close()
	}
}

func batch(cursor string) ingest.Batch {
	return ingest.Batch{
		Items: []ingest.Item{
			{Key: "A-1", Project: "A", Title: "first", Type: "Story", Status: "Done", CreatedAt: tm("2026-01-05T09:00:00Z"), Assignee: "ann@x"},
			{Key: "A-2", Project: "A", Title: "second", Type: "Bug", Status: "To Do", CreatedAt: tm("2026-01-06T09:00:00Z")},
		},
		Transitions: []ingest.Transition{
			{ItemKey: "A-1", At: tm("2026-01-05T09:00:00Z"), To: "To Do"},
			{ItemKey: "A-1", At: tm("2026-01-06T09:00:00Z"), From: "To Do", To: "Done"},
			{ItemKey: "A-2", At: tm("2026-01-06T09:00:00Z"), To: "To Do"},
		},
		People:   []ingest.Person{{ExternalID: "ann@x", Email: "ann@x", DisplayName: "Ann"}},
		Worklogs: []ingest.Worklog{{ID: "w1", ItemKey: "A-1", Person: "ann@x", StartedAt: tm("2026-01-05T10:00:00Z"), Seconds: 3600}},
		Raw:      []ingest.RawPayload{{Entity: "row", ExternalID: "A-1", Payload: []byte(`{"k":"A-1"}`)}},
		Problems: []ingest.Problem{{File: "items.csv", Line: 3, Column: "created_at", Reason: "bad date"}},
		Reread:   []string{"items.csv"},
		Milestones: []ingest.Milestone{
			{Name: "R1", Project: "A", DueDate: tm("2026-03-01T00:00:00Z")},
		},
		Cursor: ingest.Cursor(cursor),
	}
}

func TestCommitIsIdempotent(t *testing.T) {
	db := warehousetest.Open(t, "")
	ctx := context.Background()
	for i := range 3 {
		if err := db.Commit(ctx, "src", batch("c1")); err != nil {
			t.Fatalf("commit %d: %v", i, err)
		}
	}
	got := map[string]int{}
	for _, tbl := range []string{"work_items", "status_changes", "people", "worklogs", "raw_payloads", "ingest_problems", "milestones", "projects", "milestone_due_changes"} {
		got[tbl] = count(t, db, "SELECT count(*) FROM "+tbl)
	}
	want := map[string]int{"work_items": 2, "status_changes": 3, "people": 1, "worklogs": 1, "raw_payloads": 1,
		"ingest_problems": 1, "milestones": 1, "projects": 1, "milestone_due_changes": 0}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("row counts after 3 identical commits (-want +got):\n%s", d)
	}
	cur, err := db.Cursor(ctx, "src")
	if err != nil || cur != "c1" {
		t.Errorf("cursor = %q, %v; want c1", cur, err)
	}
}

func TestCommitReplacesHistoryAndTracksDueChanges(t *testing.T) {
	db := warehousetest.Open(t, "")
	ctx := context.Background()
	if err := db.Commit(ctx, "src", batch("c1")); err != nil {
		t.Fatal(err)
	}
	b := batch("c2")
	b.Items = b.Items[:1]
	b.Transitions = []ingest.Transition{
		{ItemKey: "A-1", At: tm("2026-01-05T09:00:00Z"), To: "To Do"},
		{ItemKey: "A-1", At: tm("2026-01-05T12:00:00Z"), From: "To Do", To: "In Progress"},
		{ItemKey: "A-1", At: tm("2026-01-06T09:00:00Z"), From: "In Progress", To: "Done"},
	}
	b.Milestones[0].DueDate = tm("2026-03-15T00:00:00Z")
	if err := db.Commit(ctx, "src", b); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "SELECT count(*) FROM status_changes WHERE item_id = 'src:A-1'"); n != 3 {
		t.Errorf("A-1 history rows = %d, want 3 (replaced, not appended)", n)
	}
	if n := count(t, db, "SELECT count(*) FROM status_changes WHERE item_id = 'src:A-2'"); n != 1 {
		t.Errorf("A-2 history rows = %d, want 1 (untouched)", n)
	}
	var base, due time.Time
	if err := db.QueryRow("SELECT baseline_due_date, due_date FROM milestones").Scan(&base, &due); err != nil {
		t.Fatal(err)
	}
	if base.Format("2006-01-02") != "2026-03-01" || due.Format("2006-01-02") != "2026-03-15" {
		t.Errorf("baseline, due = %s, %s; want 2026-03-01, 2026-03-15", base, due)
	}
	if n := count(t, db, "SELECT count(*) FROM milestone_due_changes WHERE old_due_date = DATE '2026-03-01' AND new_due_date = DATE '2026-03-15'"); n != 1 {
		t.Errorf("due changes = %d, want 1", n)
	}
}

func TestFailedCommitLeavesNothing(t *testing.T) {
	db := warehousetest.Open(t, "")
	ctx := context.Background()
	if err := db.Commit(ctx, "src", batch("c1")); err != nil {
		t.Fatal(err)
	}
	b := batch("c2")
	b.Items[0].Title = "changed"
	ctx2, cancel := context.WithCancel(ctx)
	cancel()
	err := db.Commit(ctx2, "src", b)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("commit with canceled ctx: err = %v, want context.Canceled", err)
	}
	var title string
	db.QueryRow("SELECT title FROM work_items WHERE key = 'A-1'").Scan(&title)
	cur, _ := db.Cursor(ctx, "src")
	if title != "first" || cur != "c1" {
		t.Errorf("after failed commit: title %q cursor %q; want first, c1", title, cur)
	}
}

func TestLockedFileExplained(t *testing.T) {
	// A second writer in the same process does not conflict in DuckDB; the
	// lock message is classified from the driver's text instead.
	err := warehouse.WarehouseOpenError("IO Error: Could not set lock on file \"/x/w.duckdb\": Conflicting lock is held in /usr/bin/throughline (PID 4242) by user root.")
	var le *warehouse.LockError
	if !errors.As(err, &le) || le.PID != 4242 || !errors.Is(err, warehouse.ErrLocked) {
		t.Fatalf("err = %v, want LockError with PID 4242", err)
	}
}

func TestCommitSprintsMovesAndReconciliation(t *testing.T) {
	db := warehousetest.Open(t, "")
	ctx := context.Background()
	at := tm("2024-01-01T00:00:00Z")
	items := []ingest.Item{
		{Key: "WEB-1", ExternalID: "101", Project: "WEB", CreatedAt: at},
		{Key: "WEB-2", ExternalID: "102", Project: "WEB", CreatedAt: at},
		{Key: "WEB-3", ExternalID: "103", Project: "WEB", CreatedAt: at},
	}
	b := ingest.Batch{Items: items,
		Sprints: []ingest.Sprint{{ID: "sprint:1", Board: "8", Name: "S1", State: "closed", StartAt: at, CompleteAt: at.Add(240 * time.Hour)},
			{ID: "sprint:2", Board: "8", Name: "S2", State: "active", StartAt: at.Add(240 * time.Hour)}},
		Memberships: []ingest.SprintMembership{{ItemKey: "WEB-1", Sprints: []string{"sprint:1", "sprint:2"}}, {ItemKey: "WEB-2", Sprints: []string{"sprint:2"}}},
		Cursor:      "c1"}
	if err := db.Commit(ctx, "jira", b); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "SELECT count(*) FROM sprint_items"); n != 3 {
		t.Errorf("sprint_items = %d, want 3", n)
	}
	if n := count(t, db, "SELECT count(*) FROM sprints WHERE sprint_id = 'jira:sprint:1' AND board_id = '8' AND state = 'closed'"); n != 1 {
		t.Errorf("sprint 1 rows = %d", n)
	}
	// Membership replaces per item: WEB-1 left sprint 2, WEB-2 left every sprint.
	b = ingest.Batch{Memberships: []ingest.SprintMembership{{ItemKey: "WEB-1", Sprints: []string{"sprint:1"}}, {ItemKey: "WEB-2"}}, Cursor: "c2"}
	if err := db.Commit(ctx, "jira", b); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "SELECT count(*) FROM sprint_items"); n != 1 {
		t.Errorf("sprint_items after replace = %d, want 1", n)
	}
	// WEB-3 moved to OPS-9 (same vendor id): the old key is deleted.
	b = ingest.Batch{Items: []ingest.Item{{Key: "OPS-9", ExternalID: "103", Project: "OPS", CreatedAt: at}}, Cursor: "c3"}
	if err := db.Commit(ctx, "jira", b); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "SELECT count(*) FROM work_items WHERE deleted"); n != 1 {
		t.Errorf("deleted after move = %d, want 1", n)
	}
	if n := count(t, db, "SELECT count(*) FROM work_items WHERE key = 'WEB-3' AND deleted"); n != 1 {
		t.Error("WEB-3 not marked deleted after the move")
	}
	// Reconciliation: WEB-2 vanished; WEB-3 is back in scope.
	b = ingest.Batch{Live: &ingest.Live{Keys: []string{"WEB-1", "WEB-3", "OPS-9"}}, Cursor: "c4"}
	if err := db.Commit(ctx, "jira", b); err != nil {
		t.Fatal(err)
	}
	var got []string
	rows, err := db.Query("SELECT key FROM work_items WHERE deleted ORDER BY key")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		_ = rows.Scan(&k)
		got = append(got, k)
	}
	if diff := cmp.Diff([]string{"WEB-2"}, got); diff != "" {
		t.Errorf("deleted after reconciliation (-want +got):\n%s", diff)
	}
	// Another source's items are untouched by this source's reconciliation.
	if err := db.Commit(ctx, "asana", ingest.Batch{Items: []ingest.Item{{Key: "1", CreatedAt: at}}, Cursor: "a"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Commit(ctx, "jira", ingest.Batch{Live: &ingest.Live{Keys: []string{"WEB-1"}}, Cursor: "c5"}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "SELECT count(*) FROM work_items WHERE source_id = 'asana' AND deleted"); n != 0 {
		t.Errorf("asana items deleted by a jira reconciliation: %d", n)
	}
	if n := count(t, db, "SELECT count(*) FROM work_items WHERE source_id = 'jira' AND NOT deleted"); n != 1 {
		t.Errorf("live jira items = %d, want 1", n)
	}
}

func TestRawPayloadStoredAsDocument(t *testing.T) {
	db := warehousetest.Open(t, "")
	b := ingest.Batch{Raw: []ingest.RawPayload{{Entity: "issue", ExternalID: "1", Payload: []byte(`{"key":"WEB-1","fields":{"summary":"x"}}`)}}, Cursor: "c"}
	if err := db.Commit(context.Background(), "jira", b); err != nil {
		t.Fatal(err)
	}
	var typ, key string
	if err := db.QueryRow("SELECT json_type(payload), payload->>'key' FROM raw_payloads").Scan(&typ, &key); err != nil {
		t.Fatal(err)
	}
	if typ != "OBJECT" || key != "WEB-1" {
		t.Errorf("payload type %s, key %q; want OBJECT, WEB-1", typ, key)
	}
}

// An item's history sent twice back to back (an issue on two adjacent
// pages) is stored once: a copy starts where the creation transition repeats.
func TestRepeatedHistoryStoredOnce(t *testing.T) {
	db := warehousetest.Open(t, "")
	h := []ingest.Transition{
		{ItemKey: "A-1", At: tm("2026-01-05T09:00:00Z"), To: "To Do"},
		{ItemKey: "A-1", At: tm("2026-01-05T12:00:00Z"), From: "To Do", To: "In Progress"},
	}
	longer := append(append([]ingest.Transition(nil), h...), ingest.Transition{ItemKey: "A-1", At: tm("2026-01-06T09:00:00Z"), From: "In Progress", To: "Done"})
	b := ingest.Batch{Items: []ingest.Item{{Key: "A-1", CreatedAt: tm("2026-01-05T09:00:00Z")}, {Key: "A-1", CreatedAt: tm("2026-01-05T09:00:00Z")}},
		Transitions: append(append([]ingest.Transition(nil), h...), longer...), Cursor: "c"}
	if err := db.Commit(context.Background(), "src", b); err != nil {
		t.Fatal(err)
	}
	var got []string
	rows, err := db.Query("SELECT seq || ':' || coalesce(from_status, '') || '>' || to_status FROM status_changes ORDER BY seq")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		got = append(got, s)
	}
	if d := cmp.Diff([]string{"0:>To Do", "1:To Do>In Progress", "2:In Progress>Done"}, got); d != "" {
		t.Errorf("history (-want +got), the later copy wins:\n%s", d)
	}
}

// The rules of a busy site, in the store: worklogs replaced per item, the
// worklogs of deleted items dropped, children following a moved parent,
// milestones replaced by vendor id, problems of API items replaced.
func TestStoreFollowsTheSource(t *testing.T) {
	db := warehousetest.Open(t, "")
	ctx := context.Background()
	at := tm("2026-01-05T09:00:00Z")
	commit := func(b ingest.Batch) {
		t.Helper()
		if err := db.Commit(ctx, "jira", b); err != nil {
			t.Fatal(err)
		}
	}
	commit(ingest.Batch{
		Items: []ingest.Item{
			{Key: "AB-1", ExternalID: "1", Project: "AB", Type: "Epic", CreatedAt: at},
			{Key: "AB-2", ExternalID: "2", Project: "AB", Parent: "AB-1", Milestone: "AB-1", CreatedAt: at},
			{Key: "CD-3", ExternalID: "3", Project: "CD", Parent: "AB-1", Milestone: "v1", CreatedAt: at},
			{Key: "AB-4", ExternalID: "4", Project: "AB", Milestone: "v1", CreatedAt: at},
		},
		Worklogs: []ingest.Worklog{{ID: "w1", ItemKey: "AB-2", StartedAt: at, Seconds: 60}, {ID: "w2", ItemKey: "AB-2", StartedAt: at, Seconds: 60},
			{ID: "w3", ItemKey: "AB-4", StartedAt: at, Seconds: 60}},
		Milestones: []ingest.Milestone{{ExternalID: "issue:1", Name: "AB-1", Project: "AB", DueDate: tm("2026-03-01T00:00:00Z")},
			{ExternalID: "version:9", Name: "v1", Project: "AB", DueDate: tm("2026-04-01T00:00:00Z")}},
		Problems: []ingest.Problem{{Key: "AB-2", Column: "fields.summary", Reason: "odd"}},
		Cursor:   "c1"})

	// AB-2 re-read: one worklog left, no problem any more; the epic moved to
	// CD (CD-9), the version renamed; AB-4 deleted at the source.
	commit(ingest.Batch{
		Items: []ingest.Item{
			{Key: "AB-2", ExternalID: "2", Project: "AB", Parent: "AB-1", Milestone: "AB-1", CreatedAt: at},
			{Key: "CD-9", ExternalID: "1", Project: "CD", Type: "Epic", CreatedAt: at},
		},
		Worklogs:   []ingest.Worklog{{ID: "w1", ItemKey: "AB-2", StartedAt: at, Seconds: 120}},
		WorklogsOf: []string{"AB-2"},
		Milestones: []ingest.Milestone{{ExternalID: "issue:1", Name: "CD-9", Project: "CD", DueDate: tm("2026-03-15T00:00:00Z")},
			{ExternalID: "version:9", Name: "v1 (renamed)", Project: "AB", DueDate: tm("2026-04-01T00:00:00Z")}},
		Live:   &ingest.Live{Keys: []string{"AB-2", "CD-3", "CD-9"}},
		Cursor: "c2"})

	type row struct{ Key, Parent, Milestone string }
	var got []row
	rows, err := db.Query("SELECT key, coalesce(parent_id, ''), coalesce(milestone_id, '') FROM work_items WHERE NOT deleted ORDER BY key")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var r row
		_ = rows.Scan(&r.Key, &r.Parent, &r.Milestone)
		got = append(got, r)
	}
	rows.Close()
	want := []row{
		// Children follow the epic to CD-9 (CD-3 was not re-read); those
		// in AB lose it as a milestone (another project now).
		{"AB-2", "jira:CD-9", ""},
		{"CD-3", "jira:CD-9", "jira:CD:v1"},
		{"CD-9", "", ""},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("items (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]int{"w1": 120}, worklogSeconds(t, db)); d != "" {
		t.Errorf("worklogs (-want +got):\n%s", d)
	}
	var ms []string
	rows, err = db.Query("SELECT milestone_id || ' ' || external_id || ' ' || strftime(baseline_due_date, '%Y-%m-%d') FROM milestones ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		ms = append(ms, s)
	}
	rows.Close()
	if d := cmp.Diff([]string{"jira:AB:v1 (renamed) version:9 2026-04-01", "jira:CD:CD-9 issue:1 2026-03-01"}, ms); d != "" {
		t.Errorf("milestones (-want +got): renamed in place, baselines kept:\n%s", d)
	}
	if n := count(t, db, "SELECT count(*) FROM milestone_due_changes WHERE milestone_id = 'jira:CD:CD-9' AND new_due_date = DATE '2026-03-15'"); n != 1 {
		t.Errorf("the moved epic's due change is not recorded under its new id")
	}
	if n := count(t, db, "SELECT count(*) FROM ingest_problems"); n != 0 {
		t.Errorf("%d problems after AB-2 was re-read without one, want 0", n)
	}
}

func worklogSeconds(t *testing.T, db *warehouse.DB) map[string]int {
	t.Helper()
	out := map[string]int{}
	rows, err := db.Query("SELECT split_part(worklog_id, ':', 2), seconds FROM worklogs")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var s int
		_ = rows.Scan(&id, &s)
		out[id] = s
	}
	return out
}

// A batch carrying a key twice stores its last copy, in every keyed table
// (items, worklogs, raw payloads, sprint memberships, accounts).
func TestLastCopyOfAKeyWins(t *testing.T) {
	db := warehousetest.Open(t, "")
	b := ingest.Batch{
		Items: []ingest.Item{{Key: "A-1", Title: "first"}, {Key: "A-2", Title: "other"}, {Key: "A-1", Title: "last"}},
		Worklogs: []ingest.Worklog{{ID: "w1", ItemKey: "A-1", Seconds: 60, StartedAt: tm("2026-01-05T09:00:00Z")},
			{ID: "w1", ItemKey: "A-2", Seconds: 120, StartedAt: tm("2026-01-05T09:00:00Z")}},
		Raw: []ingest.RawPayload{{Entity: "issue", ExternalID: "1", Payload: []byte(`{"v":1}`)},
			{Entity: "issue", ExternalID: "1", Payload: []byte(`{"v":2}`)}},
		Sprints:     []ingest.Sprint{{ID: "s1", Name: "Sprint 1"}},
		Memberships: []ingest.SprintMembership{{ItemKey: "A-1", Sprints: []string{"s1", "s1"}}},
		People:      []ingest.Person{{ExternalID: "u1", DisplayName: "Ann"}, {ExternalID: "u1", DisplayName: "Anne"}},
		Cursor:      "c",
	}
	if err := db.Commit(context.Background(), "src", b); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for name, q := range map[string]string{
		"items":       "SELECT string_agg(key || '=' || title, ',' ORDER BY key) FROM work_items",
		"worklogs":    "SELECT string_agg(worklog_id || '@' || item_id || '=' || seconds, ',') FROM worklogs",
		"raw":         "SELECT string_agg(payload::VARCHAR, ',') FROM raw_payloads",
		"memberships": "SELECT string_agg(sprint_id || '/' || item_id, ',') FROM sprint_items",
		"accounts":    "SELECT string_agg(account_id || '=' || display_name, ',') FROM person_accounts",
		"people":      "SELECT string_agg(person_id || '=' || display_name, ',') FROM people",
	} {
		var s string
		if err := db.QueryRow(q).Scan(&s); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got[name] = s
	}
	want := map[string]string{
		"items":       "A-1=last,A-2=other",
		"worklogs":    "src:w1@src:A-2=120",
		"raw":         `{"v":2}`,
		"memberships": "src:s1/src:A-1",
		"accounts":    "src:u1=Anne",
		"people":      "src:u1=Anne",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("rows after a batch carrying keys twice (-want +got):\n%s", d)
	}
}

// bulkStatements are a minimal Bulk hand-over: one item with one change.
// key is the item's key as SQL (NULL breaks the insert into work_items).
func bulkStatements(key string) []string {
	return []string{
		`CREATE OR REPLACE TEMP TABLE bulk_items AS SELECT ` + key + ` AS key, 'P' AS project, 'Title' AS title, 'Task' AS type,
			'To Do' AS status, 'new' AS status_category, '' AS assignee, '' AS resolution, '' AS milestone, '' AS parent, '' AS team,
			CAST(NULL AS VARCHAR) AS work_class, TIMESTAMPTZ '2026-01-05 10:00:00+00' AS created_at, CAST(NULL AS TIMESTAMPTZ) AS resolved_at,
			TIMESTAMPTZ '2026-01-05 10:00:00+00' AS updated_at, CAST(NULL AS DATE) AS due_date, CAST(NULL AS DOUBLE) AS story_points,
			CAST(NULL AS BIGINT) AS estimate_seconds`,
		`CREATE OR REPLACE TEMP VIEW bulk_transitions AS SELECT key, 0 AS seq, created_at AS changed_at, CAST(NULL AS VARCHAR) AS from_status,
			'To Do' AS to_status, CAST(NULL AS VARCHAR) AS from_category, 'new' AS to_category FROM temp.main.bulk_items`,
		`CREATE OR REPLACE TEMP TABLE bulk_worklogs (id VARCHAR, key VARCHAR, person VARCHAR, started_at TIMESTAMPTZ, seconds BIGINT)`,
		`CREATE OR REPLACE TEMP TABLE bulk_people (external_id VARCHAR, email VARCHAR, display_name VARCHAR)`,
		`CREATE OR REPLACE TEMP TABLE bulk_problems (file VARCHAR, line INTEGER, col VARCHAR, key VARCHAR, reason VARCHAR, action VARCHAR)`,
	}
}

// TestBulkFailureStoresNothing: a Bulk hand-over's statements run before
// the batch's transaction (they fill temporary tables only). A statement
// that fails, or a batch whose rows the warehouse refuses after them,
// stores nothing and leaves the cursor where it was, with an error that
// names the failing step; the next batch stores normally.
func TestBulkFailureStoresNothing(t *testing.T) {
	ctx := context.Background()
	db := warehousetest.Open(t, "")
	for _, tc := range []struct {
		name       string
		statements []string
		want       string
	}{
		{"a statement fails", append(bulkStatements("'K-1'"), `SELECT error('the file is truncated')`), "bulk statement 6 of 6"},
		{"the rows are refused", bulkStatements("CAST(NULL AS VARCHAR)"), "insert work_items rows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := db.Commit(ctx, "s", ingest.Batch{Snapshot: true, Bulk: &ingest.Bulk{Statements: tc.statements}, Cursor: "after"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("commit: %v, want an error naming %q", err, tc.want)
			}
			var items, changes int
			if err := db.QueryRow("SELECT (SELECT count(*) FROM work_items), (SELECT count(*) FROM status_changes)").Scan(&items, &changes); err != nil {
				t.Fatal(err)
			}
			cur, err := db.Cursor(ctx, "s")
			if err != nil {
				t.Fatal(err)
			}
			if items != 0 || changes != 0 || cur != "" {
				t.Errorf("after the failed batch: %d items, %d status changes, cursor %q; want nothing stored", items, changes, cur)
			}
		})
	}
	if err := db.Commit(ctx, "s", ingest.Batch{Snapshot: true, Bulk: &ingest.Bulk{Statements: bulkStatements("'K-1'")}, Cursor: "after"}); err != nil {
		t.Fatal(err)
	}
	var key string
	var changes int
	if err := db.QueryRow("SELECT any_value(key), (SELECT count(*) FROM status_changes) FROM work_items").Scan(&key, &changes); err != nil {
		t.Fatal(err)
	}
	if cur, _ := db.Cursor(ctx, "s"); key != "K-1" || changes != 1 || cur != "after" {
		t.Errorf("after a good batch: key %q, %d status changes, cursor %q; want K-1, 1, after", key, changes, cur)
	}
}

// TestBulkSnapshotMerge: a bulk snapshot of a source the warehouse holds
// is stored by difference, which reads the histories twice; whether the
// hand-over gives bulk_transitions as a view (computed once, before the
// transaction) or as a table, the changed history replaces the stored one,
// the other item's history stays as it was, and no bulk_ object is left on
// the connection (temporary objects are per connection: the test uses one).
func TestBulkSnapshotMerge(t *testing.T) {
	for _, kind := range []string{"VIEW", "TABLE"} {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			db := warehousetest.Open(t, "")
			db.SetMaxOpenConns(1)
			first := bulkStatements("unnest(['K-1', 'K-2'])")
			if err := db.Commit(ctx, "s", ingest.Batch{Snapshot: true, Bulk: &ingest.Bulk{Statements: first}}); err != nil {
				t.Fatal(err)
			}
			again := bulkStatements("unnest(['K-1', 'K-2'])")
			again[1] = `CREATE OR REPLACE TEMP ` + kind + ` bulk_transitions AS
				SELECT key, 0 AS seq, created_at AS changed_at, CAST(NULL AS VARCHAR) AS from_status,
					'To Do' AS to_status, CAST(NULL AS VARCHAR) AS from_category, 'new' AS to_category FROM temp.main.bulk_items
				UNION ALL SELECT 'K-2', 1, TIMESTAMPTZ '2026-01-06 10:00:00+00', 'To Do', 'In Progress', 'new', 'indeterminate'`
			if err := db.Commit(ctx, "s", ingest.Batch{Snapshot: true, Bulk: &ingest.Bulk{Statements: again}}); err != nil {
				t.Fatal(err)
			}
			got := map[string]int64{}
			rows, err := db.Query(`SELECT item_id || '#' || seq || ' ' || coalesce(from_status, '-') || '>' || to_status, 1 FROM status_changes`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var k string
				var v int64
				rows.Scan(&k, &v)
				got[k] = v
			}
			rows.Close()
			want := map[string]int64{"s:K-1#0 ->To Do": 1, "s:K-2#0 ->To Do": 1, "s:K-2#1 To Do>In Progress": 1}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("status_changes (-want +got):\n%s", d)
			}
			var left int
			if err := db.QueryRow(`SELECT (SELECT count(*) FROM duckdb_views() WHERE temporary AND view_name LIKE 'bulk%')
				+ (SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name LIKE 'bulk%')`).Scan(&left); err != nil {
				t.Fatal(err)
			}
			if left != 0 {
				t.Errorf("%d bulk_ objects left after the batch", left)
			}
		})
	}
}
