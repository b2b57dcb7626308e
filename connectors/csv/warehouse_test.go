package csv_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/warehouse"
	"github.com/throughline/throughline/warehouse/warehousetest"
)

const warehouseSource = "files"

// rowCounts are the rows a fixture import leaves in the warehouse.
type rowCounts struct {
	Items, StatusChanges, Worklogs, Problems, People, Milestones int
}

func countRows(t *testing.T, db *warehouse.DB) rowCounts {
	t.Helper()
	var c rowCounts
	for _, q := range []struct {
		table string
		dst   *int
	}{
		{"work_items", &c.Items},
		{"status_changes", &c.StatusChanges},
		{"worklogs", &c.Worklogs},
		{"ingest_problems", &c.Problems},
		{"people", &c.People},
		{"milestones", &c.Milestones},
	} {
		if err := db.QueryRow("SELECT count(*) FROM " + q.table + " WHERE " + sourceFilter(q.table)).Scan(q.dst); err != nil {
			t.Fatalf("count %s: %v", q.table, err)
		}
	}
	return c
}

func sourceFilter(table string) string {
	switch table {
	case "status_changes", "worklogs":
		return "item_id LIKE '" + warehouseSource + ":%'"
	}
	return "source_id = '" + warehouseSource + "'"
}

// runStatuses lists the statuses of the source's sync runs, oldest first.
func runStatuses(t *testing.T, db *warehouse.DB) []string {
	t.Helper()
	rows, err := db.Query("SELECT status FROM sync_runs WHERE source_id = ? ORDER BY run_id", warehouseSource)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func syncFolder(t *testing.T, db *warehouse.DB, st ingest.Store, dir string) (ingest.Run, error) {
	t.Helper()
	return ingest.Sync(t.Context(), st, db, warehouseSource, newFolderConnector(t, dir), ingest.SyncOptions{})
}

// cleanImport is what importing fixtureFiles into an empty warehouse leaves.
var cleanImport = rowCounts{Items: 24, StatusChanges: 48, Worklogs: 6, Problems: 4, People: 3, Milestones: 2}

// TestWarehouseSync imports, changes and re-imports the fixture, row by
// row (several batches) and in bulk (one).
func TestWarehouseSync(t *testing.T) {
	for _, bulk := range []bool{false, true} {
		t.Run(map[bool]string{false: "row by row", true: "bulk"}[bulk], func(t *testing.T) { testWarehouseSync(t, bulk) })
	}
}

func testWarehouseSync(t *testing.T, bulk bool) {
	dir := t.TempDir()
	files := fixtureFiles()
	writeFiles(t, dir, files)
	db := warehousetest.Open(t, "")
	if err := db.RegisterSource(t.Context(), warehouseSource, "csv", dir); err != nil {
		t.Fatal(err)
	}

	var st ingest.Store = rowByRow{db}
	if bulk {
		st = db
	}
	r, err := syncFolder(t, db, st, dir)
	if err != nil {
		t.Fatalf("first sync: %v", err)
	}
	if !bulk && r.Batches < 3 {
		t.Errorf("first sync committed %d batches, want at least 3", r.Batches)
	}
	if bulk && r.Batches != 1 {
		t.Errorf("first bulk sync committed %d batches, want 1", r.Batches)
	}
	if diff := cmp.Diff(cleanImport, countRows(t, db)); diff != "" {
		t.Errorf("rows after the first sync (-want +got):\n%s", diff)
	}

	// Edit one title and add one item (shape 1: two transitions, no worklog).
	files["items.csv"] = strings.Replace(files["items.csv"], ",Item 12,", ",Item 12 renamed,", 1) + fixtureItem(25) + "\n"
	files["status_changes.csv"] += strings.Join(fixtureChanges("Q-25", 25), "\n") + "\n"
	writeFiles(t, dir, files)
	if _, err := syncFolder(t, db, st, dir); err != nil {
		t.Fatalf("second sync: %v", err)
	}
	want := cleanImport
	want.Items++
	want.StatusChanges += 2
	if diff := cmp.Diff(want, countRows(t, db)); diff != "" {
		t.Errorf("rows after the second sync (-want +got):\n%s", diff)
	}

	titles := []struct{ key, want string }{
		{"P-12", "Item 12 renamed"},
		{"P-3", "Item 3 (edited)"}, // the later of two rows with one key
		{"Q-25", "Item 25"},
	}
	for _, tt := range titles {
		var got string
		if err := db.QueryRow("SELECT title FROM work_items WHERE item_id = ?", warehouseSource+":"+tt.key).Scan(&got); err != nil {
			t.Errorf("title of %s: %v", tt.key, err)
			continue
		}
		if got != tt.want {
			t.Errorf("title of %s = %q, want %q", tt.key, got, tt.want)
		}
	}
	var dupHistory int
	if err := db.QueryRow(`SELECT count(*) FROM (SELECT item_id, seq FROM status_changes GROUP BY ALL HAVING count(*) > 1)`).Scan(&dupHistory); err != nil {
		t.Fatal(err)
	}
	if dupHistory > 0 {
		t.Errorf("%d (item, seq) pairs of status_changes occur more than once", dupHistory)
	}
	if diff := cmp.Diff([]string{"ok", "ok"}, runStatuses(t, db)); diff != "" {
		t.Errorf("sync_runs statuses (-want +got):\n%s", diff)
	}
	// A third run with nothing changed commits nothing and changes nothing.
	r, err = syncFolder(t, db, st, dir)
	if err != nil {
		t.Fatalf("third sync: %v", err)
	}
	if r.Batches != 0 {
		t.Errorf("sync of unchanged files committed %d batches, want 0", r.Batches)
	}
	if diff := cmp.Diff(want, countRows(t, db)); diff != "" {
		t.Errorf("rows after a sync of unchanged files (-want +got):\n%s", diff)
	}
}

var errCommit = errors.New("commit refused")

// failingStore fails the failOn-th Commit and records the cursors committed.
type failingStore struct {
	ingest.Store
	failOn    int
	calls     int
	committed []ingest.Cursor
}

func (s *failingStore) Commit(ctx context.Context, source string, b ingest.Batch) error {
	s.calls++
	if s.calls == s.failOn {
		return errCommit
	}
	if err := s.Store.Commit(ctx, source, b); err != nil {
		return err
	}
	s.committed = append(s.committed, b.Cursor)
	return nil
}

func TestWarehouseSyncResumesAfterFailure(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, fixtureFiles())
	db := warehousetest.Open(t, "")
	if err := db.RegisterSource(t.Context(), warehouseSource, "csv", dir); err != nil {
		t.Fatal(err)
	}

	st := &failingStore{Store: db, failOn: 2}
	r, err := syncFolder(t, db, st, dir)
	if !errors.Is(err, errCommit) {
		t.Fatalf("sync with a failing commit = %v, want %v", err, errCommit)
	}
	if r.Status != "failed" || r.Batches != 1 {
		t.Errorf("failed run: status %q after %d batches, want failed after 1", r.Status, r.Batches)
	}
	if len(st.committed) != 1 {
		t.Fatalf("%d batches committed before the failure, want 1", len(st.committed))
	}
	cur, err := db.Cursor(t.Context(), warehouseSource)
	if err != nil {
		t.Fatal(err)
	}
	if cur != st.committed[0] {
		t.Errorf("stored cursor = %s, want the first batch's %s", cur, st.committed[0])
	}
	if got := countRows(t, db).Items; got != fixtureBatchItems {
		t.Errorf("%d items stored by the failed run, want the first batch's %d", got, fixtureBatchItems)
	}

	r, err = syncFolder(t, db, db, dir)
	if err != nil {
		t.Fatalf("resumed sync: %v", err)
	}
	if r.Cursor == cur {
		t.Errorf("resumed sync left the cursor at %s", cur)
	}
	if diff := cmp.Diff(cleanImport, countRows(t, db)); diff != "" {
		t.Errorf("rows after the resumed sync, compared with a clean import (-clean +resumed):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"failed", "ok"}, runStatuses(t, db)); diff != "" {
		t.Errorf("sync_runs statuses (-want +got):\n%s", diff)
	}
}

// The reported case: time_off.csv holds one absence, a line is added and
// the folder synced again: two absences, not three (the first counted twice).
func TestTimeOffEditedThenSynced(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("items.csv", "key,created_at\nA-1,2026-11-02\n")
	write("people.csv", "person,email,hours_per_week\nana,ana@example.com,40\n")
	write("time_off.csv", "person,date,hours\nana,2026-11-24,7\n")
	db := warehousetest.Open(t, "")
	if _, err := syncFolder(t, db, db, dir); err != nil {
		t.Fatal(err)
	}
	write("time_off.csv", "person,date,hours\nana,2026-11-24,7\nana,2026-11-25,4\n")
	if _, err := syncFolder(t, db, db, dir); err != nil {
		t.Fatal(err)
	}
	var rows []string
	r, err := db.Query("SELECT person_id || ' ' || strftime(day, '%Y-%m-%d') || ' ' || hours FROM time_off ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for r.Next() {
		var s string
		if err := r.Scan(&s); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, s)
	}
	want := []string{"person:ana@example.com 2026-11-24 7.0", "person:ana@example.com 2026-11-25 4.0"}
	if d := cmp.Diff(want, rows); d != "" {
		t.Errorf("time_off (-want +got):\n%s", d)
	}
}

// A throughline folder in another encoding: the bulk reader refuses it,
// the row reader replaces the invalid bytes, says so, and stores the rows.
func TestThroughlineInvalidUTF8(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "items.csv"), []byte("key,title,created_at\nK\xe91,Caf\xe9,2026-03-01\nK2,ok,2026-03-01\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	db := warehousetest.Open(t, "")
	if _, err := syncFolder(t, db, db, dir); err != nil {
		t.Fatal(err)
	}
	var keys, reason string
	if err := db.QueryRow("SELECT string_agg(key || '=' || title, ',' ORDER BY key) FROM work_items").Scan(&keys); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT line || ':' || action || ':' || reason FROM ingest_problems").Scan(&reason); err != nil {
		t.Fatal(err)
	}
	if keys != "K2=ok,K\uFFFD1=Caf\uFFFD" || reason != "2:repaired:invalid UTF-8 bytes replaced by U+FFFD (is the file UTF-8?)" {
		t.Errorf("items %q, problem %q", keys, reason)
	}
}

// TestBulkSyncKeepsInsertOrderSetting: the bulk import keeps file order
// while it reads (SET SESSION preserve_insertion_order), and leaves the
// database's setting as the warehouse set it. A plain SET or RESET of
// this option changes it for every connection in DuckDB: every later
// insert of the process (the compute's included) would keep insertion
// order, on one thread where its source cannot number its batches.
func TestBulkSyncKeepsInsertOrderSetting(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, fixtureFiles())
	db := warehousetest.Open(t, "")
	if _, err := syncFolder(t, db, db, dir); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(cleanImport, countRows(t, db)); diff != "" {
		t.Errorf("rows after the sync (-want +got):\n%s", diff)
	}
	// Several connections: the pool may hand out the store's or another.
	for i := range 3 {
		c, err := db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var keep bool
		if err := c.QueryRowContext(t.Context(), "SELECT current_setting('preserve_insertion_order')").Scan(&keep); err != nil {
			t.Fatal(err)
		}
		if keep {
			t.Errorf("connection %d: preserve_insertion_order = true after a bulk sync, want the warehouse's false", i)
		}
	}
}
