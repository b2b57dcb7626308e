package csv

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/throughline/throughline/metrics"
	"github.com/throughline/throughline/warehouse"
	"github.com/throughline/throughline/warehouse/warehousetest"
)

// fingerprintItems is an items.csv of K1 to K3 (K3 resolved, no changes).
const fingerprintItems = itemsHeader + `
K1,A,t,Story,Done,ann,2026-03-02 09:00,2026-03-06 10:00,,,,,,,core,project
K2,A,t,Story,In Progress,ann,2026-03-02 09:00,,,,,,,,core,project
K3,A,t,Story,Done,ann,2026-03-03 09:00,2026-03-05 09:00,,,,,,,core,project
`

// storedHistory is an item's stored status history, one "seq to_status" per change.
func storedHistory(t *testing.T, db *warehouse.DB, item string) []string {
	t.Helper()
	return dumpRows(t, db, "SELECT seq, from_status, to_status FROM status_changes WHERE item_id = 'src:"+item+"' ORDER BY seq")
}

func fingerprints(t *testing.T, db *warehouse.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM history_fingerprints WHERE source_id = 'src'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A re-read folder rebuilds the histories whose inputs changed and only
// those: two changes of K1 at the same time swap places in the file (its
// history changes: same-time changes keep the file's order), K2's and
// K3's rows stay. K2's stored history is altered behind the store's back
// before the re-read: it stays altered, because a history whose
// fingerprint did not change is neither built nor read.
func TestResyncRebuildsOnlyChangedHistories(t *testing.T) {
	dir := t.TempDir()
	changes := func(k1 ...string) string {
		return "key,changed_at,from_status,to_status\n" + strings.Join(k1, "\n") +
			"\nK2,2026-03-04 10:00,To Do,In Progress\n"
	}
	a, b := "K1,2026-03-04 10:00,To Do,In Progress", "K1,2026-03-04 10:00,In Progress,Done"
	db := warehousetest.Open(t, "Europe/Berlin")
	writeFiles(t, dir, map[string]string{fileItems: fingerprintItems, fileChanges: changes(a, b)})
	resyncSync(t, db, LayoutThroughline, dir)
	if n := fingerprints(t, db); n != 3 {
		t.Fatalf("after the first import: %d fingerprints, want 3", n)
	}
	before := storedHistory(t, db, "K1")
	// A compute: the store records what changes from now on.
	if _, err := metrics.Compute(context.Background(), db.DB, metrics.Params{Now: time.Date(2026, 3, 21, 10, 0, 0, 0, time.UTC),
		Location: time.UTC, WindowDays: 30, Started: []string{"In Progress"}, Done: []string{"Done"}, Trials: 100}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE status_changes SET to_status = 'Altered' WHERE item_id = 'src:K2' AND seq = 1"); err != nil {
		t.Fatal(err)
	}

	writeFiles(t, dir, map[string]string{fileItems: fingerprintItems, fileChanges: changes(b, a)})
	resyncSync(t, db, LayoutThroughline, dir)
	fresh := warehousetest.Open(t, "Europe/Berlin")
	resyncSync(t, fresh, LayoutThroughline, dir)
	if got, want := storedHistory(t, db, "K1"), storedHistory(t, fresh, "K1"); !slices.Equal(got, want) || slices.Equal(got, before) {
		t.Errorf("K1's history after its same-time changes swapped: %q, want %q (before: %q)", got, want, before)
	}
	if got := storedHistory(t, db, "K2"); !slices.ContainsFunc(got, func(r string) bool { return strings.HasSuffix(r, "| Altered") }) {
		t.Errorf("K2's history was rebuilt though its inputs did not change: %q", got)
	}
	if got := dumpRows(t, db, "SELECT DISTINCT item_id FROM compute_dirty"); !slices.Equal(got, []string{"src:K1"}) {
		t.Errorf("items recorded for the compute: %q, want only src:K1", got)
	}
	if n := fingerprints(t, db); n != 3 {
		t.Errorf("after the re-read: %d fingerprints, want 3", n)
	}
}

// Fingerprints describe what the last bulk import built: an import row by
// row in between (a file the bulk path declines) drops them, so that the
// next bulk import compares every history. Without that, a history changed
// by the row-by-row import and changed back in the files would keep the
// row-by-row version (its fingerprint would match the stale one).
func TestRowByRowImportDropsFingerprints(t *testing.T) {
	dir := t.TempDir()
	clean := map[string]string{fileItems: fingerprintItems,
		fileChanges: "key,changed_at,from_status,to_status\nK1,2026-03-04 10:00,To Do,In Progress\nK1,2026-03-05 10:00,In Progress,Done\n"}
	// K1 back in progress, and a short row: the bulk path declines.
	unclean := map[string]string{fileItems: strings.Replace(fingerprintItems, "K3,A,t,Story,Done,ann,2026-03-03 09:00,2026-03-05 09:00,,,,,,,core,project",
		"K3,A,t,Story,Done,ann,2026-03-03 09:00", 1),
		fileChanges: "key,changed_at,from_status,to_status\nK1,2026-03-04 10:00,To Do,In Progress\nK1,2026-03-05 10:00,In Progress,Blocked\n"}
	db := warehousetest.Open(t, "Europe/Berlin")
	for step, files := range []map[string]string{clean, unclean, clean} {
		writeFiles(t, dir, files)
		resyncSync(t, db, LayoutThroughline, dir)
		want := 3
		if step == 1 {
			want = 0
		}
		if n := fingerprints(t, db); n != want {
			t.Fatalf("step %d: %d fingerprints, want %d", step, n, want)
		}
		if step == 1 && !slices.ContainsFunc(storedHistory(t, db, "K1"), func(r string) bool { return strings.HasSuffix(r, "| Blocked") }) {
			t.Fatalf("step 1: the row-by-row import did not store K1's new history: %q", storedHistory(t, db, "K1"))
		}
	}
	fresh := warehousetest.Open(t, "Europe/Berlin")
	resyncSync(t, fresh, LayoutThroughline, dir)
	if d := cmp.Diff(dumpTables(t, fresh), dumpTables(t, db)); d != "" {
		t.Errorf("after bulk, row by row, bulk: the warehouse differs from a fresh import (-fresh +resynced):\n%s", d)
	}
}
