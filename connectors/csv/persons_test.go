package csv_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/warehouse/warehousetest"
)

// TestPeopleMappedOnBothPaths: an account the CSV names (people.csv's
// person) becomes the person of its email, person:<lower-case email>, in
// every column that references a person, on the row-by-row and the bulk
// path alike; a person without an email is <source>:<person>. The values are
// the documented ids (docs/schema.md, people.person_id), not the code's.
func TestPeopleMappedOnBothPaths(t *testing.T) {
	files := map[string]string{
		"items.csv": "key,project,title,type,status,assignee,created_at,resolved_at\n" +
			"P-1,P,One,Story,Done,ann,2026-01-05,2026-01-07\n" +
			"P-2,P,Two,Story,To Do,bob,2026-01-05,\n" +
			"P-3,P,Three,Story,To Do,,2026-01-05,\n",
		"people.csv":   "person,email,team,hours_per_week\nann,Ann@Example.com,,\nbob,,,\n",
		"worklogs.csv": "key,person,started_at,hours\nP-1,ann,2026-01-06,2\nP-2,bob,2026-01-06,1\n",
	}
	want := map[string]string{
		"item P-1":       "person:ann@example.com",
		"item P-2":       warehouseSource + ":bob",
		"item P-3":       "",
		"worklog P-1":    "person:ann@example.com",
		"worklog P-2":    warehouseSource + ":bob",
		"account ann":    "person:ann@example.com",
		"account bob":    warehouseSource + ":bob",
		"people ann@...": "person:ann@example.com",
	}
	for _, bulk := range []bool{false, true} {
		t.Run(map[bool]string{false: "row by row", true: "bulk"}[bulk], func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, files)
			db := warehousetest.Open(t, "")
			if err := db.RegisterSource(t.Context(), warehouseSource, "csv", dir); err != nil {
				t.Fatal(err)
			}
			var st ingest.Store = rowByRow{db}
			if bulk {
				st = db
			}
			if _, err := syncFolder(t, db, st, dir); err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			rows, err := db.Query(`SELECT 'item ' || key, coalesce(assignee_id, '') FROM work_items
				UNION ALL SELECT 'worklog ' || w.key, l.person_id FROM worklogs l JOIN work_items w USING (item_id)
				UNION ALL SELECT 'account ' || external_id, person_id FROM person_accounts
				UNION ALL SELECT 'people ann@...', person_id FROM people WHERE email = 'Ann@Example.com' OR email = 'ann@example.com'`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var k, v string
				if err := rows.Scan(&k, &v); err != nil {
					t.Fatal(err)
				}
				got[k] = v
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("person references (-want +got):\n%s", diff)
			}
		})
	}
}
