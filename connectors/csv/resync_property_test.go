package csv

import (
	"context"

	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
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

// A changed file replaces exactly what the source's files contributed:
// after any sequence of edits to any file of any layout, each followed by a
// sync, every table equals a fresh import of the final files. The edits
// are random (seeded): rows added, changed, duplicated and removed, files
// rewritten, deleted and created again, values that parse and values that
// do not (so both the bulk and the row-by-row path run).
//
// What a source's history legitimately adds is left out of the comparison:
// when rows were observed (fetched_at, observed_at, sync runs), and a
// milestone's due-date history (milestone_due_changes, and the baseline of
// a milestone whose file gives none: the first due date seen).
func TestResyncEqualsFreshImport(t *testing.T) {
	// 4 sequences per layout (each ≈ 2 s: two warehouses, seven syncs);
	// THROUGHLINE_RESYNC_SEEDS runs more.
	seeds := 4
	if n, err := strconv.Atoi(os.Getenv("THROUGHLINE_RESYNC_SEEDS")); err == nil && n > 0 {
		seeds = n
	} else if testing.Short() {
		seeds = 2
	}
	for _, layout := range []string{LayoutThroughline, LayoutJiraExport, LayoutAsanaExport} {
		for seed := range seeds {
			t.Run(fmt.Sprintf("%s/seed%d", layout, seed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(seed), 13))
				dir := t.TempDir()
				gen := resyncLayouts[layout]
				files := gen.initial(rng)
				writeFiles(t, dir, files)
				inc := warehousetest.Open(t, "Europe/Berlin")
				var log []string
				for step := range 6 {
					resyncSync(t, inc, layout, dir)
					name, what := gen.edit(rng, files)
					log = append(log, fmt.Sprintf("step %d: %s %s", step, what, name))
					writeFiles(t, dir, files)
				}
				resyncSync(t, inc, layout, dir)
				fresh := warehousetest.Open(t, "Europe/Berlin")
				resyncSync(t, fresh, layout, dir)
				a, b := dumpTables(t, inc), dumpTables(t, fresh)
				if d := cmp.Diff(b, a); d != "" {
					t.Errorf("after the edits %s the warehouse differs from a fresh import (-fresh +incremental):\n%s",
						strings.Join(log, ", "), d)
				}
				if len(b["work_items"]) == 0 {
					t.Errorf("the final files import no item: the sequence tests nothing")
				}
			})
		}
	}
}

// A changed folder re-read by the bulk path is stored by difference, and
// only the items that differ are recomputed: after each edit and sync, a
// compute of only those gives the same tables as one that recomputes every
// item (a second warehouse fed the same syncs). Edits that make a file
// unreadable for the bulk path send the import row by row, which
// recomputes everything.
func TestResyncComputesWhatChanged(t *testing.T) {
	seeds := 2
	if n, err := strconv.Atoi(os.Getenv("THROUGHLINE_RESYNC_SEEDS")); err == nil && n > 0 {
		seeds = n
	}
	ctx := context.Background()
	// Counted over all seeds: a sequence of edits can change most items at
	// every step (seed 34 does), so that each compute is a full one.
	incremental := 0
	for seed := range seeds {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 17))
			dir := t.TempDir()
			gen := resyncLayouts[LayoutThroughline]
			files := gen.initial(rng)
			inc, full := warehousetest.Open(t, "Europe/Berlin"), warehousetest.Open(t, "Europe/Berlin")
			now := time.Date(2026, 3, 21, 10, 0, 0, 0, time.UTC)
			for step := range 7 {
				writeFiles(t, dir, files)
				p := metrics.Params{Now: now, Location: time.FixedZone("UTC+1", 3600), WindowDays: 30,
					Teams:   []metrics.Team{{Name: "core", Members: []string{"ann"}, HoursPerWeek: 40}},
					Started: []string{"In Progress", "Blocked"}, Done: []string{"Done", "Shipped"}, DiscardedResolutions: []string{"Won't Do"},
					Trials: 100}
				resyncSync(t, inc, LayoutThroughline, dir)
				res, err := metrics.Compute(ctx, inc.DB, p)
				if err != nil {
					t.Fatal(err)
				}
				if !res.Full {
					incremental++
				}
				resyncSync(t, full, LayoutThroughline, dir)
				p.Full = true
				if _, err := metrics.Compute(ctx, full.DB, p); err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(dumpTables(t, full), dumpTables(t, inc)); d != "" {
					t.Fatalf("step %d (%d items recomputed): the tables differ from a full compute (-full +incremental):\n%s", step, res.Items, d)
				}
				gen.edit(rng, files)
				now = now.Add(9 * time.Hour)
			}
		})
	}
	if incremental == 0 {
		t.Errorf("no compute recomputed only the changed items: the bulk path never stored a re-read by difference")
	}
}

// resyncSync syncs dir as source "src" (the store lets the bulk path run).
func resyncSync(t *testing.T, db *warehouse.DB, layout, dir string) {
	t.Helper()
	c, err := New(Config{Layout: layout, Path: dir, Location: time.FixedZone("UTC+1", 3600)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Sync(context.Background(), db, db, "src", c, ingest.SyncOptions{}); err != nil {
		t.Fatalf("sync: %v", err)
	}
}

// writeFiles makes dir hold exactly files (name → content).
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	old, _ := filepath.Glob(filepath.Join(dir, "*.csv"))
	for _, p := range old {
		if _, keep := files[filepath.Base(p)]; !keep {
			os.Remove(p)
		}
	}
	for n, body := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// volatile columns record when something was observed, not what.
var volatile = map[string][]string{
	"raw_payloads":    {"fetched_at"},
	"ingest_problems": {"observed_at"},
	"sources":         {"cursor_updated_at"},
	"milestones":      {"baseline_due_date"},
}

// dumpTables renders every table of the warehouse as sorted rows, less the
// observation tables and volatile columns.
func dumpTables(t *testing.T, db *warehouse.DB) map[string][]string {
	t.Helper()
	skip := map[string]bool{"sync_runs": true, "schema_migrations": true, "job_runs": true, "milestone_due_changes": true,
		"compute_tables": true} // when a compute wrote, not what
	rows, err := db.Query(`SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND NOT temporary ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		if !skip[n] {
			tables = append(tables, n)
		}
	}
	rows.Close()
	out := map[string][]string{}
	for _, tb := range tables {
		sel := "*"
		if ex := volatile[tb]; len(ex) > 0 {
			sel += " EXCLUDE (" + strings.Join(ex, ", ") + ")"
		}
		q := "SELECT " + sel + " FROM " + tb
		out[tb] = dumpRows(t, db, q)
	}
	return out
}

func dumpRows(t *testing.T, db *warehouse.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(cols))
		for i, v := range vals {
			switch x := v.(type) {
			case nil:
				parts[i] = "∅"
			case time.Time:
				parts[i] = x.UTC().Format(time.RFC3339Nano)
			case []byte:
				parts[i] = string(x)
			case float64:
				// Sums of doubles depend on the order they are added in.
				parts[i] = strconv.FormatFloat(x, 'g', 12, 64)
			default:
				parts[i] = fmt.Sprint(x)
			}
		}
		out = append(out, strings.Join(parts, " | "))
	}
	slices.Sort(out)
	return out
}

// resyncLayout generates a layout's files and edits them.
type resyncLayout struct {
	initial func(rng *rand.Rand) map[string]string
	edit    func(rng *rand.Rand, files map[string]string) (file, what string)
}

// csvTable is a file as a header and rows of cells.
type csvTable struct {
	header string
	row    func(rng *rand.Rand) string
}

func (c csvTable) render(rows []string) string {
	return c.header + "\n" + strings.Join(rows, "\n") + "\n"
}

func pick[T any](rng *rand.Rand, xs ...T) T { return xs[rng.IntN(len(xs))] }

func resyncDate(rng *rand.Rand) string {
	return fmt.Sprintf("2026-03-%02d", 1+rng.IntN(20))
}

func resyncTime(rng *rand.Rand) string {
	return fmt.Sprintf("%s %02d:%02d", resyncDate(rng), rng.IntN(24), pick(rng, 0, 30))
}

// jiraTime renders a day of March 2026 as a Jira export does.
func resyncJiraTime(rng *rand.Rand) string {
	return fmt.Sprintf("%02d/Mar/26 %d:%02d %s", 1+rng.IntN(20), 1+rng.IntN(12), pick(rng, 0, 15, 30), pick(rng, "AM", "PM"))
}

var resyncTables = map[string]csvTable{
	fileItems: {header: "key,project,title,type,status,assignee,created_at,resolved_at,resolution,due_date,story_points,estimate_hours,milestone,parent,team,work_class",
		row: func(rng *rand.Rand) string {
			resolved := pick(rng, "", "", resyncTime(rng), "not a date")
			return strings.Join([]string{
				fmt.Sprintf("K%d", rng.IntN(8)), pick(rng, "WEB", "OPS", ""), pick(rng, "a", "b", `"c, d"`), pick(rng, "Story", "Bug", ""),
				pick(rng, "To Do", "In Progress", "Done", "Blocked", "Cancelled", "Shipped", ""), pick(rng, "ann", "bob@example.com", ""),
				pick(rng, resyncTime(rng), resyncDate(rng), resyncTime(rng), "bad"), resolved, pick(rng, "", "Done", "Won't Do"),
				pick(rng, "", resyncDate(rng)), pick(rng, "", "3", "-1"), pick(rng, "", "2.5"), pick(rng, "", "R1", "R2"),
				pick(rng, "", "K1"), pick(rng, "", "core"), pick(rng, "", "project", "ops!"),
			}, ",")
		}},
	fileChanges: {header: "key,changed_at,from_status,to_status",
		row: func(rng *rand.Rand) string {
			return strings.Join([]string{fmt.Sprintf("K%d", rng.IntN(9)), pick(rng, resyncTime(rng), resyncTime(rng), "soon"),
				pick(rng, "To Do", "In Progress", ""), pick(rng, "In Progress", "Done", "Blocked", "")}, ",")
		}},
	fileMilestone: {header: "name,project,start_date,due_date,baseline_due_date,completed_at",
		row: func(rng *rand.Rand) string {
			return strings.Join([]string{pick(rng, "R1", "R2", "R3", "Renamed"), pick(rng, "WEB", "OPS"), pick(rng, "", resyncDate(rng)),
				pick(rng, "", resyncDate(rng)), pick(rng, "", resyncDate(rng)), pick(rng, "", resyncTime(rng))}, ",")
		}},
	fileWorklogs: {header: "key,person,started_at,hours",
		row: func(rng *rand.Rand) string {
			return strings.Join([]string{fmt.Sprintf("K%d", rng.IntN(9)), pick(rng, "ann", "bob@example.com"), resyncTime(rng),
				pick(rng, "1", "2.5", "8", "25", "0", "800", "x")}, ",")
		}},
	filePeople: {header: "person,email,team,hours_per_week",
		row: func(rng *rand.Rand) string {
			return strings.Join([]string{pick(rng, "ann", "bob@example.com", "cid"), pick(rng, "", "ann@example.com"), pick(rng, "", "core"),
				pick(rng, "", "40", "32", "500")}, ",")
		}},
	fileTimeOff: {header: "person,date,hours",
		row: func(rng *rand.Rand) string {
			return strings.Join([]string{pick(rng, "ann", "bob@example.com"), resyncDate(rng), pick(rng, "8", "4", "7", "30")}, ",")
		}},
}

var jiraResyncTable = csvTable{
	header: "Summary,Issue key,Issue id,Issue Type,Status,Resolution,Assignee,Assignee Id,Created,Updated,Resolved,Fix versions,Log Work,Parent,Status Category",
	row: func(rng *rand.Rand) string {
		n := rng.IntN(6)
		return strings.Join([]string{pick(rng, "x", `"y, z"`), fmt.Sprintf("J-%d", n), fmt.Sprintf("%d", 100+n), pick(rng, "Story", "Bug"),
			pick(rng, "To Do", "In Progress", "Done", "Cancelled", "Weird"), pick(rng, "", "Done", "Won't Do"), pick(rng, "", "Ann"),
			pick(rng, "", "acc-ann"), pick(rng, resyncJiraTime(rng), resyncJiraTime(rng), "bad"), pick(rng, "", resyncJiraTime(rng)),
			pick(rng, "", resyncJiraTime(rng)), pick(rng, "", "1.0", "2.0"), pick(rng, "", ";"+resyncJiraTime(rng)+";acc-ann;3600", ";x;acc;90000"),
			pick(rng, "", "101", "J-2"), pick(rng, "", "To Do", "In Progress", "Done")}, ",")
	},
}

var asanaResyncTable = csvTable{
	header: "Task ID,Created At,Completed At,Last Modified,Name,Section/Column,Assignee,Assignee Email,Projects,Parent task",
	row: func(rng *rand.Rand) string {
		n := rng.IntN(6)
		return strings.Join([]string{fmt.Sprintf("%d", 1000+n), pick(rng, resyncDate(rng), resyncDate(rng), "22/9/2025"), pick(rng, "", resyncDate(rng)),
			resyncDate(rng), fmt.Sprintf("T%d", pick(rng, n, n, 9)), pick(rng, "Doing", "Done", "", "To Do"), pick(rng, "", "Ann"),
			pick(rng, "", "ann@example.com"), pick(rng, "", "P", `"P, Q"`), pick(rng, "", "T1", "T2")}, ",")
	},
}

// tableEdit changes one file of files (table t): rewrite, append, remove
// a row, duplicate a row, or delete the file (when it may go).
func tableEdit(rng *rand.Rand, files map[string]string, name string, t csvTable, mayDelete bool) string {
	body, exists := files[name]
	var rows []string
	if exists {
		rows = strings.Split(strings.TrimSuffix(strings.TrimPrefix(body, t.header+"\n"), "\n"), "\n")
		rows = slices.DeleteFunc(rows, func(r string) bool { return r == "" })
	}
	op := rng.IntN(6)
	switch {
	case !exists:
		op = 0
	case op == 5 && !mayDelete:
		op = 1
	}
	switch op {
	case 0:
		rows = nil
		for range 1 + rng.IntN(6) {
			rows = append(rows, t.row(rng))
		}
		files[name] = t.render(rows)
		return "rewrote"
	case 1, 2:
		files[name] = t.render(append(rows, t.row(rng)))
		return "appended to"
	case 3:
		if len(rows) > 1 {
			i := rng.IntN(len(rows))
			rows = slices.Delete(rows, i, i+1)
		}
		files[name] = t.render(rows)
		return "removed a row of"
	case 4:
		if len(rows) > 0 {
			rows = append(rows, rows[rng.IntN(len(rows))])
		}
		files[name] = t.render(rows)
		return "duplicated a row of"
	default:
		delete(files, name)
		return "deleted"
	}
}

var resyncLayouts = map[string]resyncLayout{
	LayoutThroughline: {
		initial: func(rng *rand.Rand) map[string]string {
			files := map[string]string{}
			for _, n := range layoutFiles {
				tableEdit(rng, files, n, resyncTables[n], false)
			}
			return files
		},
		edit: func(rng *rand.Rand, files map[string]string) (string, string) {
			n := pick(rng, layoutFiles...)
			return n, tableEdit(rng, files, n, resyncTables[n], n != fileItems)
		},
	},
	LayoutJiraExport:  exportFiles2("a.csv", "b.csv", jiraResyncTable),
	LayoutAsanaExport: exportFiles2("p1.csv", "p2.csv", asanaResyncTable),
}

// exportFiles2 is an export layout of two files: the first always there,
// the second deleted and created again by the edits.
func exportFiles2(first, second string, t csvTable) resyncLayout {
	return resyncLayout{
		initial: func(rng *rand.Rand) map[string]string {
			files := map[string]string{}
			tableEdit(rng, files, first, t, false)
			tableEdit(rng, files, second, t, false)
			return files
		},
		edit: func(rng *rand.Rand, files map[string]string) (string, string) {
			n := pick(rng, first, second)
			return n, tableEdit(rng, files, n, t, n != first)
		},
	}
}

// TestResyncRemovesAnOpenItemEverywhere: an item in progress that leaves the
// folder (its rows gone from items.csv and status_changes.csv) is removed
// from the warehouse, and the incremental compute after that sync removes
// it from every table it was in (item_flow, aging_wip, WIP), as a full one
// does.
func TestResyncRemovesAnOpenItemEverywhere(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	items := func(keys ...string) string {
		var b strings.Builder
		b.WriteString(itemsHeader + "\n")
		for _, k := range keys {
			fmt.Fprintf(&b, "%s,A,t,Story,In Progress,ann,2026-03-02 09:00,,,,,,,,core,project\n", k)
		}
		return b.String()
	}
	changes := func(keys ...string) string {
		var b strings.Builder
		b.WriteString("key,changed_at,from_status,to_status\n")
		for _, k := range keys {
			var n int
			fmt.Sscanf(k, "A-%d", &n)
			fmt.Fprintf(&b, "%s,2026-03-%02d 10:00,To Do,In Progress\n", k, 2+n)
		}
		return b.String()
	}
	inc, full := warehousetest.Open(t, "Europe/Berlin"), warehousetest.Open(t, "Europe/Berlin")
	p := metrics.Params{Now: time.Date(2026, 3, 21, 10, 0, 0, 0, time.UTC), Location: time.FixedZone("UTC+1", 3600), WindowDays: 30,
		Teams:   []metrics.Team{{Name: "core", Members: []string{"ann"}, HoursPerWeek: 40}},
		Started: []string{"In Progress"}, Done: []string{"Done"}, Trials: 100}
	count := func(db *warehouse.DB, q string) int {
		t.Helper()
		var n int
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var all []string
	for i := range 10 {
		all = append(all, fmt.Sprintf("A-%d", i+1))
	}
	for step, keys := range [][]string{all, all[1:]} {
		writeFiles(t, dir, map[string]string{fileItems: items(keys...), fileChanges: changes(keys...)})
		resyncSync(t, inc, LayoutThroughline, dir)
		res, err := metrics.Compute(ctx, inc.DB, p)
		if err != nil {
			t.Fatal(err)
		}
		if step == 1 && res.Full {
			t.Fatalf("the compute after the item left recomputed every item (%s): the test proves nothing", res.Reason)
		}
		resyncSync(t, full, LayoutThroughline, dir)
		fp := p
		fp.Full = true
		if _, err := metrics.Compute(ctx, full.DB, fp); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(dumpTables(t, full), dumpTables(t, inc)); d != "" {
			t.Fatalf("step %d: the tables differ from a full compute (-full +incremental):\n%s", step, d)
		}
		if n := count(inc, "SELECT count(*) FROM aging_wip"); n != len(keys) {
			t.Errorf("step %d: aging_wip holds %d items, want the %d in progress", step, n, len(keys))
		}
		p.Now = p.Now.Add(time.Hour)
	}
	if n := count(inc, "SELECT count(*) FROM work_items WHERE key = 'A-1'"); n != 0 {
		t.Errorf("A-1 left the folder but %d work_items rows remain", n)
	}
}
