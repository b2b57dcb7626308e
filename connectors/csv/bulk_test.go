package csv_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/throughline/throughline/connectors/csv"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/warehouse"
	"github.com/throughline/throughline/warehouse/warehousetest"
)

// rowByRow hides the warehouse's bulk loading: the connector reads the
// files row by row in Go.
type rowByRow struct{ ingest.Store }

// dumpTables renders every table a CSV import writes, sorted, without the
// columns that record when (observed_at).
func dumpTables(t *testing.T, db *warehouse.DB) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, q := range []struct{ table, sql string }{
		{"work_items", "SELECT * FROM work_items"},
		{"status_changes", "SELECT * FROM status_changes"},
		{"worklogs", "SELECT * FROM worklogs"},
		{"people", "SELECT * FROM people"},
		{"person_accounts", "SELECT * FROM person_accounts"},
		{"projects", "SELECT * FROM projects"},
		{"milestones", "SELECT * FROM milestones"},
		{"milestone_due_changes", "SELECT * EXCLUDE (observed_at) FROM milestone_due_changes"},
		{"time_off", "SELECT * FROM time_off"},
		{"ingest_problems", "SELECT * EXCLUDE (observed_at) FROM ingest_problems"},
		{"sources", "SELECT source_id, cursor FROM sources"},
	} {
		rows, err := db.Query(q.sql + " ORDER BY ALL")
		if err != nil {
			t.Fatalf("dump %s: %v", q.table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for i, v := range vals {
				if tm, ok := v.(time.Time); ok {
					v = tm.UTC().Format(time.RFC3339Nano)
				}
				fmt.Fprintf(&b, "%s=%v ", cols[i], v)
			}
			out[q.table] = append(out[q.table], b.String())
		}
		rows.Close()
	}
	return out
}

// fiveItems are clean items.csv rows (two row-by-row batches with the row before them).
const fiveItems = "B-1,B,t,Story,To Do,,2026-01-02,,,,,,,,,\nB-2,B,t,Story,To Do,,2026-01-02,,,,,,,,,\n" +
	"B-3,B,t,Story,To Do,,2026-01-02,,,,,,,,,\nB-4,B,t,Story,To Do,,2026-01-02,,,,,,,,,\nB-5,B,t,Story,To Do,,2026-01-02,,,,,,,,,\n"

const bulkItemsHeader = "key,project,title,type,status,assignee,created_at,resolved_at,resolution,due_date,story_points,estimate_hours,milestone,parent,team,work_class"

// TestBulkMatchesRowByRow imports the same folders through both paths into
// two warehouses and compares every table: the bulk SQL must apply the
// row-by-row rules exactly, problems and their lines included.
func TestBulkMatchesRowByRow(t *testing.T) {
	hostile := map[string]string{
		"items.csv": "\uFEFF" + bulkItemsHeader + ",started_at\r\n" + strings.Join([]string{
			`A-1,A,"multi` + "\n" + `line ""title""",Story,,a@example.com,2026-01-02,,,,3,1.5,R1,,web,Project,`,
			`A-2,A,t,Bug,In Review,b@example.com,2026-01-02 10:00,02/01/2026,,2026-13-01,lots,-2,,,,ops,2026-01-03T09:00`,
			`A-3,A,t,Story,To Do,,yesterday,,,,,,,,,,`,
			`,A,empty key,Story,To Do,,2026-01-02,,,,,,,,,,`,
			strings.Repeat("K", 256) + `,A,long key,Story,To Do,,2026-01-02,,,,,,,,,,`,
			`A-4,A,resolved early,Story,Done,c,2026-01-05T10:00:00Z,2026-01-04T10:00:00+02:00,Done,2026-02-01,1e400,2e6,R1,A-1,,operational,`,
			`A-5,B,first,Task,,,2026-01-02T08:00:00.123456Z,2026-01-09,Fixed,2026-02-01T00:00:00,0,0,,,,,2026-01-03`,
			`A-6,B,no status started,Task,,,2026-01-02,,,,1_000,NaN,,,,,2026-01-03 10:30:00`,
			`A-5,B,second wins,Task,,,2026-01-02T08:00:00Z,,,,,,,,,,`,
			`A-7,B, padded ,  Story ,In Progress,,  2026-01-02  ,,,,,,,,,,`,
			`A-8,B,t,Story,Closed,,2026-01-02,2026-01-10,,,,,,,,,2026-01-04`,
		}, "\r\n") + "\r\n\r\n",
		"status_changes.csv": "key,changed_at,from_status,to_status\n" + strings.Join([]string{
			"A-1,2026-01-03,To Do,In Progress",
			"A-1,2026-01-03,In Progress,Blocked",
			"A-1,2026-01-02T12:00:00Z,,Selected",
			",2026-01-03,To Do,Done",
			"A-2,not a time,To Do,Done",
			"A-2,2026-01-04,To Do,",
			"GHOST-1,2026-01-04,To Do,Done",
			"GHOST-1,2026-01-03,To Do,Done",
			"A-7,2026-01-05 08:00,Backlog,Doing",
			"A-7,2026-01-06 08:00,Doing,in progress",
		}, "\n") + "\n",
		"worklogs.csv": "key,person,started_at,hours\n" + strings.Join([]string{
			"A-1,a@example.com,2026-01-03T09:00:00Z,2",
			"A-1,a@example.com,2026-01-03T09:00:00Z,1",
			"A-1,a@example.com,2026-01-03 09:00,0.5",
			"A-1,,2026-01-04,1",
			"GHOST-1,a@example.com,2026-01-03,1",
			"A-2,b@example.com,soon,1",
			"A-2,b@example.com,2026-01-03,25",
			"A-2,b@example.com,2026-01-03,zero",
		}, "\n"),
		"milestones.csv": "name,project,start_date,due_date,baseline_due_date,completed_at\nR1,A,2026-01-01,2026-03-01,2026-02-01,\n",
		"time_off.csv":   "person,date,hours\na@example.com,2026-01-05,8\n",
	}
	tests := []struct {
		name       string
		files      map[string]string
		zone       string
		dbZone     string // the warehouse's session zone
		rowBatches int    // batches of the row-by-row import (4 items each)
		unclean    bool   // the bulk path must decline: both imports go row by row
	}{
		{name: "fixture", files: fixtureFiles(), rowBatches: 7},
		{name: "hostile but clean", files: hostile, rowBatches: 3},
		{name: "hostile in Europe/Berlin", files: hostile, zone: "Europe/Berlin", rowBatches: 3},
		{name: "hostile, warehouse session in America/New_York", files: hostile, zone: "Europe/Berlin", dbZone: "America/New_York", rowBatches: 3},
		{name: "bare quote: row by row", unclean: true, rowBatches: 2, files: map[string]string{
			"items.csv": bulkItemsHeader + "\nA-1,A,\"bad\"quote,Story,To Do,,2026-01-02,,,,,,,,,\n" + fiveItems,
		}},
		{name: "short row: row by row", unclean: true, rowBatches: 2, files: map[string]string{
			"items.csv":    bulkItemsHeader + "\nA-1,A,t,Story,To Do,,2026-01-02\n" + fiveItems,
			"worklogs.csv": "key,person,started_at,hours\nA-1,p,2026-01-02,1\n",
		}},
		{name: "3 MB cell", rowBatches: 2, files: map[string]string{
			"items.csv": bulkItemsHeader + "\nA-1,A," + strings.Repeat("x", 3<<20) + ",Story,To Do,,2026-01-02,,,,,,,,,\n" + fiveItems,
		}},
		{name: "items only, assignees become people", rowBatches: 1, files: map[string]string{
			"items.csv": bulkItemsHeader + "\nX-1,X,t,Story,Done,p@example.com,2026-03-29 02:30,2026-10-25 02:30,,,,,,,,\nX-2,X,t,Story,,q,2026-03-29,,,,,,,,,",
		}, zone: "Europe/Berlin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			loc := time.UTC
			if tt.zone != "" {
				var err error
				if loc, err = time.LoadLocation(tt.zone); err != nil {
					t.Fatal(err)
				}
			}
			run := func(bulk bool) (map[string][]string, ingest.Run) {
				db := warehousetest.Open(t, tt.dbZone)
				c, err := csv.New(csv.Config{Layout: csv.LayoutThroughline, Path: dir, BatchItems: 4, Location: loc},
					csv.Options{Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					t.Fatal(err)
				}
				var st ingest.Store = db
				if !bulk {
					st = rowByRow{db}
				}
				r, err := ingest.Sync(t.Context(), st, db, warehouseSource, c, ingest.SyncOptions{})
				if err != nil {
					t.Fatalf("sync (bulk %v): %v", bulk, err)
				}
				return dumpTables(t, db), r
			}
			want, rowRun := run(false)
			got, bulkRun := run(true)
			wantBulk := 1
			if tt.unclean {
				wantBulk = tt.rowBatches
			}
			if bulkRun.Batches != wantBulk || rowRun.Batches != tt.rowBatches {
				t.Errorf("batches: bulk %d (want %d), row by row %d (want %d)", bulkRun.Batches, wantBulk, rowRun.Batches, tt.rowBatches)
			}
			if bulkRun.Problems != rowRun.Problems {
				t.Errorf("run problems: bulk %d, row by row %d", bulkRun.Problems, rowRun.Problems)
			}
			if len(want["work_items"]) == 0 || len(want["status_changes"]) == 0 {
				t.Fatalf("row-by-row import stored nothing: %v", want)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("bulk import differs from the row-by-row import (-row by row +bulk):\n%s", d)
			}
		})
	}
}
