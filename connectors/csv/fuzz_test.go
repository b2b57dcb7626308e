package csv

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/internal/config"
	"github.com/throughline/throughline/metrics"
	"github.com/throughline/throughline/warehouse"
)

// FuzzImportThenCompute imports random rows through each layout and
// asserts that compute succeeds: a value it cannot use goes to
// data_quality, never an error, whatever one row holds. A sync may refuse
// a file as a whole (no header it can read); compute must then still run
// over what the warehouse holds.
//
// Run it with: go test ./connectors/csv -run '^$' -fuzz FuzzImportThenCompute -fuzztime 60s
func FuzzImportThenCompute(f *testing.F) {
	seed := func(layout uint8, file string, body string) { f.Add(layout, file, []byte(body)) }
	for name, body := range map[string]string{
		fileItems: "key,project,title,type,status,assignee,created_at,resolved_at,resolution,due_date,story_points,estimate_hours,milestone,parent,team,work_class\n" +
			"P-1,WEB,a,Story,Done,ann,2026-03-01 09:00,2026-03-04,Done,2026-03-10,3,4,R1,,core,project\n" +
			"P-2,OPS,b,Incident,In Progress,bob@example.com,2026-03-02T10:00:00+02:00,,,,,,,P-1,,operational\n",
		fileChanges:   "key,changed_at,from_status,to_status\nP-1,2026-03-02,To Do,In Progress\nP-1,2026-03-04,In Progress,Done\n",
		fileMilestone: "name,project,start_date,due_date,baseline_due_date,completed_at\nR1,WEB,2026-03-01,2026-04-01,2026-03-20,\n",
		fileWorklogs:  "key,person,started_at,hours\nP-1,ann,2026-03-02,8\n",
		filePeople:    "person,email,team,hours_per_week\nann,ann@example.com,core,40\n",
		fileTimeOff:   "person,date,hours\nann,2026-03-05,8\n",
	} {
		seed(uint8(0), strings.Repeat("x", slices.Index(layoutFiles, name)), body)
	}
	seed(0, fileItems, "key,status,created_at,resolved_at\nA,,2026-03-01,2026-02-01\nB,Done,2026-03-01,\n")
	seed(0, fileWorklogs, "key,person,started_at,hours\nP-1,ann,2026-03-01,25\nP-1,ann,2026-03-01,-1\n")
	for _, sh := range corpusShapes {
		dir := filepath.Join("testdata", "exports", sh.dir)
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				f.Fatal(err)
			}
			layout := uint8(1)
			if sh.layout == LayoutAsanaExport {
				layout = 2
			}
			seed(layout, "export.csv", string(b))
		}
	}
	seed(2, "export.csv", "Task ID,Created At,Completed At,Last Modified,Name,Section/Column,Projects,Parent task\n1001,2025-01-02,2025-01-05,2025-01-05,Parent,Done,Proj,\n1002,2025-01-03,,2025-01-04,Child,,,Parent\n")

	var once sync.Once
	var db *warehouse.DB
	var openErr error
	f.Fuzz(func(t *testing.T, layout uint8, file string, body []byte) {
		once.Do(func() {
			// One warehouse per fuzzing process: each input replaces the
			// source's content (a snapshot), so runs do not leak into each other.
			db, openErr = warehouse.Open(context.Background(), warehouse.Options{TimeZone: "Europe/Berlin", MemoryLimit: "1GB", Threads: 1})
		})
		if openErr != nil {
			t.Fatal(openErr)
		}
		dir := t.TempDir()
		lay := []string{LayoutThroughline, LayoutJiraExport, LayoutAsanaExport}[int(layout)%3]
		name := "export.csv"
		if lay == LayoutThroughline {
			name = layoutFiles[len(file)%len(layoutFiles)]
			if name != fileItems {
				// The other files need items to refer to.
				os.WriteFile(filepath.Join(dir, fileItems), []byte("key,status,created_at\nP-1,To Do,2026-03-01\nK1,Done,2026-03-02\n"), 0o644)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
		loc := time.FixedZone("UTC-3", -3*3600)
		c, err := New(Config{Layout: lay, Path: dir, Location: loc}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		// The connector alone (row by row, nothing stored) may refuse the
		// file as a whole; when it does not, storing it must not fail either
		// (the store, and the bulk path's SQL, take any content).
		refused := c.Sync(ctx, "", func(context.Context, ingest.Batch) error { return nil })
		if _, err := ingest.Sync(ctx, db, db, "fz", c, ingest.SyncOptions{Full: true}); err != nil && refused == nil {
			t.Fatalf("sync %s %s: %v", lay, name, err)
		}
		if _, err := metrics.Compute(ctx, db.DB, metrics.Params{Now: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), Location: loc,
			Started: []string{"Doing"}, Done: []string{"Shipped"}, DiscardedResolutions: config.DefaultDiscarded}); err != nil {
			t.Fatalf("compute after importing %s %s: %v\n%q", lay, name, err, body)
		}
	})
}
