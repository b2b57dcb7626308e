package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/throughline/throughline/connectors/csv"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/metrics"
	"github.com/throughline/throughline/warehouse"
)

// The pandas comparison: the cycle-time percentiles and weekly throughput a
// PMO would compute with pandas from a CSV export, against Throughline
// importing the same CSV folder and computing its metrics.
//
// Input (the throughline CSV layout): items.csv with an explicit team and
// work_class on every item (so attribution is not a question: the team
// column wins when the team is configured, the work_class column wins over
// every rule) and status_changes.csv with the history, THROUGHLINE_BENCH_CHANGES
// changes per item on average (creation included). The history has no false
// starts and no reopens: To Do → In Progress, round trips among the started
// statuses, → Done. On such histories Throughline's item_flow rules and the
// straightforward pandas definitions (S = first start, F = last entry into
// done, completed = done now) give the same S and F, so every number must be
// equal; with reopens they would differ by definition, not by bug.
const (
	pandasZone = "Europe/Berlin" // days and ISO weeks; with DST, so local days matter
	pandasWin  = 90
)

var (
	pandasNow    = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	pandasTeams  = []string{"web", "pay", "app", "ops"}
	pandasStarts = []string{"In Progress", "In Review", "Blocked"}
)

// writeFlowFolder writes items.csv and status_changes.csv for n items with
// about changes status changes per item (creation included; at least 2.7),
// deterministically, all at or before pandasNow. It returns the number of
// status_changes.csv rows.
//
// Of the items, 10 % stay in To Do, 10 % are in progress and 80 % are done;
// a started item makes j moves among the started statuses, j uniform on
// 0..2J, with J chosen so that 1 + 0.8·(2+J) + 0.1·(1+J) = changes.
func writeFlowFolder(dir string, n int, changes float64) (int, error) {
	return writeFlowFiles(dir, flowFolder{items: n, changes: changes})
}

// flowFolder describes a folder writeFlowFiles writes.
type flowFolder struct {
	items   int
	changes float64
	// people writes people.csv: the 200 assignees, each in a team.
	people bool
	// refresh writes the same folder after a sync that changed 1 % of the
	// items (see writeFlowFiles).
	refresh bool
}

// refreshed is what a refresh changes in item i (kind ≥ 0 for 1 % of the
// items): 0 a new transition (started, finished or reopened), 1 deleted, 2
// another team, 3 worklogs logged.
func refreshed(i int) int {
	if i%100 != 50 {
		return -1
	}
	return (i / 100) % 4
}

// writeFlowFiles writes the folder f describes (see writeFlowFolder). The
// refresh changes 1 % of the items without moving the random stream of
// the others: a transition after the item's last (To Do → In Progress, a
// started item → Done, Done → In Progress), a deletion, a change of team,
// two worklogs (worklogs.csv); it adds n/400 new items and moves one
// person to another team in people.csv.
func writeFlowFiles(dir string, f flowFolder) (int, error) {
	n, changes := f.items, f.changes
	fi, err := os.Create(filepath.Join(dir, "items.csv"))
	if err != nil {
		return 0, err
	}
	defer fi.Close()
	fc, err := os.Create(filepath.Join(dir, "status_changes.csv"))
	if err != nil {
		return 0, err
	}
	defer fc.Close()
	wi, wc := bufio.NewWriterSize(fi, 1<<20), bufio.NewWriterSize(fc, 1<<20)
	wi.WriteString("key,project,title,type,status,assignee,created_at,resolved_at,resolution,team,work_class\n")
	wc.WriteString("key,changed_at,from_status,to_status\n")
	var worklogs []string
	r := rand.New(rand.NewPCG(8, 8))
	moves := max(0, (changes-2.7)/0.9)
	projects := []string{"WEB", "PAY", "APP", "OPS", "HELP", "DATA"}
	types := []string{"Story", "Bug", "Task", "Incident"}
	const rfc = "2006-01-02T15:04:05Z"
	span := int64(10 * 365 * 24 * 3600)
	base := pandasNow.Add(-time.Duration(span) * time.Second)
	rows := 0
	item := func(r *rand.Rand, i int, key string) {
		kind := -1
		if f.refresh && i < n {
			kind = refreshed(i)
		}
		created := base.Add(time.Duration(r.Int64N(span)) * time.Second)
		// The path: to-do items have no change; the others start, move
		// among started statuses, and 8 in 9 finish. Changes after now are
		// dropped (the item stops where now finds it).
		fate := r.IntN(10)
		var path []string
		if fate > 0 {
			path = append(path, "In Progress")
			cur := "In Progress"
			for range int(r.Float64() * (2*moves + 1)) {
				next := pandasStarts[r.IntN(len(pandasStarts))]
				for next == cur {
					next = pandasStarts[r.IntN(len(pandasStarts))]
				}
				path = append(path, next)
				cur = next
			}
			if fate > 1 {
				path = append(path, "Done")
			}
		}
		var lines []string
		status, from, at, resolved := "To Do", "To Do", created, ""
		for k, to := range path {
			// The start within 10 days, then minutes to 3 days per move.
			step := time.Duration(60+r.Int64N(3*24*3600)) * time.Second
			if k == 0 {
				step = time.Duration(1+r.Int64N(10*24*3600)) * time.Second
			}
			at = at.Add(step)
			if at.After(pandasNow) {
				break
			}
			lines = append(lines, fmt.Sprintf("%s,%s,%s,%s\n", key, at.Format(rfc), from, to))
			status, from = to, to
			if to == "Done" {
				resolved = at.Format(rfc)
			}
		}
		class := "project"
		if r.IntN(10) < 3 {
			class = "operational"
		}
		person := r.IntN(200)
		team := pandasTeams[r.IntN(len(pandasTeams))]
		switch kind {
		case 0: // one more transition, an hour after the last (at the latest now)
			if at = at.Add(time.Hour); at.After(pandasNow) {
				at = pandasNow
			}
			to := map[string]string{"To Do": "In Progress", "Done": "In Progress"}[status]
			if to == "" {
				to = "Done"
			}
			lines = append(lines, fmt.Sprintf("%s,%s,%s,%s\n", key, at.Format(rfc), status, to))
			status, resolved = to, ""
			if to == "Done" {
				resolved = at.Format(rfc)
			}
		case 1: // deleted
			return
		case 2: // moved to the next team
			team = pandasTeams[(slices.Index(pandasTeams, team)+1)%len(pandasTeams)]
		case 3: // time logged
			for d := range 2 {
				worklogs = append(worklogs, fmt.Sprintf("%s,person%d@example.com,%s,2\n", key, person, created.Add(time.Duration(d+1)*24*time.Hour).Format(rfc)))
			}
		}
		for _, l := range lines {
			wc.WriteString(l)
		}
		rows += len(lines)
		resolution := ""
		if status == "Done" {
			resolution = "Done"
		}
		fmt.Fprintf(wi, "%s,%s,Item number %d of the benchmark,%s,%s,person%d@example.com,%s,%s,%s,%s,%s\n",
			key, projects[i%len(projects)], i, types[i%len(types)], status, person, created.Format(rfc), resolved, resolution,
			team, class)
	}
	for i := range n {
		item(r, i, fmt.Sprintf("K-%d", i))
	}
	if f.refresh {
		// New items, from a random stream of their own.
		r2 := rand.New(rand.NewPCG(9, 9))
		for i := range n / 400 {
			item(r2, n+i, fmt.Sprintf("N-%d", i))
		}
	}
	if err := wi.Flush(); err != nil {
		return 0, err
	}
	if err := wc.Flush(); err != nil {
		return 0, err
	}
	if err := fi.Close(); err != nil {
		return 0, err
	}
	if err := fc.Close(); err != nil {
		return 0, err
	}
	if len(worklogs) > 0 {
		if err := os.WriteFile(filepath.Join(dir, "worklogs.csv"), []byte("key,person,started_at,hours\n"+strings.Join(worklogs, "")), 0o644); err != nil {
			return 0, err
		}
	}
	if f.people {
		var b strings.Builder
		b.WriteString("person,email,team\n")
		for p := range 200 {
			team := pandasTeams[p%len(pandasTeams)]
			if f.refresh && p == 7 {
				team = pandasTeams[(p+1)%len(pandasTeams)]
			}
			fmt.Fprintf(&b, "person%d@example.com,person%d@example.com,%s\n", p, p, team)
		}
		if err := os.WriteFile(filepath.Join(dir, "people.csv"), []byte(b.String()), 0o644); err != nil {
			return 0, err
		}
	}
	return rows, nil
}

// pandasPython finds a python3 that imports pandas: THROUGHLINE_BENCH_PYTHON,
// else python3 on PATH, else /usr/bin/python3 (Debian's python3-pandas
// installs there, which a pyenv or venv python3 first on PATH does not see).
func pandasPython() (string, error) {
	cands := []string{"python3", "/usr/bin/python3"}
	if p := os.Getenv("THROUGHLINE_BENCH_PYTHON"); p != "" {
		cands = []string{p}
	}
	var errs []string
	for _, c := range cands {
		p, err := exec.LookPath(c)
		if err != nil {
			errs = append(errs, c+": not found")
			continue
		}
		if out, err := exec.Command(p, "-c", "import pandas").CombinedOutput(); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %s", p, lastLine(out)))
			continue
		}
		return p, nil
	}
	return "", fmt.Errorf("no python3 with pandas (%s); install Debian's python3-pandas or set THROUGHLINE_BENCH_PYTHON", strings.Join(errs, "; "))
}

func lastLine(b []byte) string {
	l := strings.Split(strings.TrimSpace(string(b)), "\n")
	return l[len(l)-1]
}

// pandasScript is scripts/pandas_flow.py of this source tree.
func pandasScript() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "scripts", "pandas_flow.py")
}

// cycleRow is one cycle_time_stats row, as both sides report it.
type cycleRow struct {
	Team      string `json:"team"`
	WorkClass string `json:"work_class"`
	Items     int64  `json:"items"`
	P50Days   int64  `json:"p50_days"`
	P70Days   int64  `json:"p70_days"`
	P85Days   int64  `json:"p85_days"`
	P95Days   int64  `json:"p95_days"`
	P50Secs   int64  `json:"p50_seconds"`
	P70Secs   int64  `json:"p70_seconds"`
	P85Secs   int64  `json:"p85_seconds"`
	P95Secs   int64  `json:"p95_seconds"`
}

type weekRow struct {
	WeekStart string `json:"week_start"`
	Team      string `json:"team"`
	WorkClass string `json:"work_class"`
	Items     int64  `json:"items"`
}

type flowNumbers struct {
	Cycle  []cycleRow `json:"cycle_time"`
	Weekly []weekRow  `json:"throughput_weekly"`
}

type pandasOutput struct {
	flowNumbers
	ReadSeconds    float64 `json:"read_seconds"`
	ComputeSeconds float64 `json:"compute_seconds"`
	Seconds        float64 `json:"seconds"`
	Items          int     `json:"items"`
	StatusChanges  int     `json:"status_changes"`
	PeakRSS        float64 `json:"peak_rss_bytes"`
}

// runPandas runs the script; it returns its output, the process's wall time
// (interpreter start and pandas import included) and its peak RSS in bytes
// (the script's own VmHWM: the child's getrusage maxrss would include this
// process's peak, inherited through vfork).
func runPandas(python, dir string) (pandasOutput, time.Duration, float64, error) {
	var out pandasOutput
	cmd := exec.Command(python, pandasScript(), "--dir", dir, "--now", pandasNow.Format(time.RFC3339),
		"--tz", pandasZone, "--window-days", fmt.Sprint(pandasWin))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t0 := time.Now()
	err := cmd.Run()
	wall := time.Since(t0)
	if err != nil {
		return out, wall, 0, fmt.Errorf("%s: %v\n%s", pandasScript(), err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return out, wall, 0, fmt.Errorf("pandas output: %v\n%.500s", err, stdout.String())
	}
	return out, wall, out.PeakRSS, nil
}

// throughlineNumbers reads the same figures from the computed warehouse.
func throughlineNumbers(db *warehouse.DB) (flowNumbers, error) {
	return queryFlowNumbers(db, `SELECT team, work_class, items, p50_days, p70_days, p85_days, p95_days,
		p50_seconds, p70_seconds, p85_seconds, p95_seconds FROM cycle_time_stats ORDER BY team, work_class`,
		`SELECT strftime(week_start, '%Y-%m-%d'), team, work_class, items FROM throughput_weekly
		WHERE items > 0 ORDER BY ALL`)
}

// queryFlowNumbers reads the cycle-time rows and the weekly rows of two
// queries (the columns of cycleRow and weekRow, in order).
func queryFlowNumbers(db *warehouse.DB, cycle, weekly string) (flowNumbers, error) {
	var f flowNumbers
	rows, err := db.Query(cycle)
	if err != nil {
		return f, err
	}
	for rows.Next() {
		var c cycleRow
		if err := rows.Scan(&c.Team, &c.WorkClass, &c.Items, &c.P50Days, &c.P70Days, &c.P85Days, &c.P95Days,
			&c.P50Secs, &c.P70Secs, &c.P85Secs, &c.P95Secs); err != nil {
			rows.Close()
			return f, err
		}
		f.Cycle = append(f.Cycle, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return f, err
	}
	rows, err = db.Query(weekly)
	if err != nil {
		return f, err
	}
	defer rows.Close()
	for rows.Next() {
		var w weekRow
		if err := rows.Scan(&w.WeekStart, &w.Team, &w.WorkClass, &w.Items); err != nil {
			return f, err
		}
		f.Weekly = append(f.Weekly, w)
	}
	return f, rows.Err()
}

// diffNumbers lists the differences between two sets of figures (at most 20).
func diffNumbers(ours, theirs flowNumbers) []string {
	var d []string
	add := func(format string, a ...any) {
		if len(d) < 20 {
			d = append(d, fmt.Sprintf(format, a...))
		}
	}
	cyc := map[[2]string]cycleRow{}
	for _, c := range theirs.Cycle {
		cyc[[2]string{c.Team, c.WorkClass}] = c
	}
	for _, c := range ours.Cycle {
		k := [2]string{c.Team, c.WorkClass}
		p, ok := cyc[k]
		switch {
		case !ok:
			add("cycle_time %v: throughline %+v, pandas has no row", k, c)
		case p != c:
			add("cycle_time %v: throughline %+v, pandas %+v", k, c, p)
		}
		delete(cyc, k)
	}
	for k, p := range cyc {
		add("cycle_time %v: pandas %+v, throughline has no row", k, p)
	}
	wk := map[[3]string]int64{}
	for _, w := range theirs.Weekly {
		wk[[3]string{w.WeekStart, w.Team, w.WorkClass}] = w.Items
	}
	for _, w := range ours.Weekly {
		k := [3]string{w.WeekStart, w.Team, w.WorkClass}
		if p, ok := wk[k]; !ok || p != w.Items {
			add("throughput_weekly %v: throughline %d, pandas %d", k, w.Items, p)
		}
		delete(wk, k)
	}
	rest := slices.SortedFunc(func(yield func([3]string) bool) {
		for k := range wk {
			if !yield(k) {
				return
			}
		}
	}, func(a, b [3]string) int { return strings.Compare(a[0]+a[1]+a[2], b[0]+b[1]+b[2]) })
	for _, k := range rest {
		add("throughput_weekly %v: pandas %d, throughline has no row", k, wk[k])
	}
	return d
}

// BenchmarkPandasComparison generates THROUGHLINE_BENCH_ITEMS items with
// THROUGHLINE_BENCH_CHANGES status changes each on average as CSV, then
// per iteration: Throughline imports the folder (CSV connector, sync) and
// runs the whole compute (flow, delivery, capacity: more than pandas
// computes) into a fresh file warehouse; scripts/pandas_flow.py reads the
// same folder and computes the cycle-time percentiles and weekly throughput.
// The two sets of figures must be equal (a correctness check, not a timing
// one). Reported: both times, the ratio (ours ÷ pandas; > 1 means pandas is
// faster), the pandas process's wall time and peak RSS, and ours.
func BenchmarkPandasComparison(b *testing.B) {
	python, err := pandasPython()
	if err != nil {
		if os.Getenv("CI") != "" {
			b.Fatalf("pandas comparison: %v (CI is set, so this fails instead of skipping)", err)
		}
		b.Skipf("pandas comparison skipped: %v", err)
	}
	loc, err := time.LoadLocation(pandasZone)
	if err != nil {
		b.Fatal(err)
	}
	n := computeItems()
	dir := b.TempDir()
	rows, err := writeFlowFolder(dir, n, benchChanges())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var teams []metrics.Team
	for _, t := range pandasTeams {
		teams = append(teams, metrics.Team{Name: t, HoursPerWeek: 40, WIPLimit: 500})
	}
	p := metrics.Params{Now: pandasNow, Location: loc, WindowDays: pandasWin, Teams: teams, Trials: 10000, Seed: 1,
		Todo: []string{"To Do"}, Started: pandasStarts, Wait: []string{"In Review", "Blocked"}, Done: []string{"Done"}}
	var ours, oursIngest, pandas, pandasRead, pandasWall time.Duration
	var pandasRSS float64
	var windowItems, weeks int64
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		wdir := b.TempDir()
		db, err := warehouse.Open(ctx, warehouse.Options{Path: filepath.Join(wdir, "bench.duckdb"), TimeZone: pandasZone, MemoryLimit: benchMemoryLimit()})
		if err != nil {
			b.Fatal(err)
		}
		c, err := csv.New(csv.Config{Layout: csv.LayoutThroughline, Path: dir, Location: loc, BatchItems: 100_000}, csv.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		if _, err := ingest.Sync(ctx, db, db, "bench", c, ingest.SyncOptions{}); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := metrics.Compute(ctx, db.DB, p); err != nil {
			b.Fatal(err)
		}
		ours += time.Since(t0)
		oursIngest += t1.Sub(t0)
		b.StopTimer()
		var got, changes int
		db.QueryRow("SELECT count(*) FROM work_items").Scan(&got)
		db.QueryRow("SELECT count(*) FROM status_changes").Scan(&changes)
		if got != n || changes != n+rows {
			b.Fatalf("warehouse has %d items and %d status changes, want %d and %d", got, changes, n, n+rows)
		}
		mine, err := throughlineNumbers(db)
		db.Close()
		if err != nil {
			b.Fatal(err)
		}
		out, wall, rss, err := runPandas(python, dir)
		if err != nil {
			b.Fatal(err)
		}
		if out.Items != n || out.StatusChanges != rows {
			b.Fatalf("pandas read %d items and %d status changes, want %d and %d", out.Items, out.StatusChanges, n, rows)
		}
		if d := diffNumbers(mine, out.flowNumbers); len(d) > 0 {
			b.Fatalf("Throughline and pandas disagree (%d+ differences):\n%s", len(d), strings.Join(d, "\n"))
		}
		if len(mine.Cycle) == 0 || len(mine.Weekly) == 0 {
			b.Fatalf("nothing to compare: %d cycle_time rows, %d weekly rows", len(mine.Cycle), len(mine.Weekly))
		}
		for _, c := range mine.Cycle {
			if c.Team == "*" && c.WorkClass == "*" {
				windowItems = c.Items
			}
		}
		weeks = int64(len(mine.Weekly))
		pandas += time.Duration(out.Seconds * float64(time.Second))
		pandasRead += time.Duration(out.ReadSeconds * float64(time.Second))
		pandasWall += wall
		pandasRSS = math.Max(pandasRSS, rss)
		b.StartTimer()
	}
	b.StopTimer()
	k := float64(b.N)
	b.ReportMetric(ours.Seconds()/k, "throughline_s")
	b.ReportMetric(oursIngest.Seconds()/k, "throughline_ingest_s")
	b.ReportMetric(pandas.Seconds()/k, "pandas_s")
	b.ReportMetric(ours.Seconds()/pandas.Seconds(), "ratio")
	b.ReportMetric(pandasRead.Seconds()/k, "pandas_read_s")
	b.ReportMetric(pandasWall.Seconds()/k, "pandas_process_s")
	b.ReportMetric(pandasRSS/1e6, "pandas-peak-RSS-MB")
	b.ReportMetric(float64(n+rows)/float64(n), "changes/item")
	b.ReportMetric(float64(windowItems), "window_items")
	b.ReportMetric(float64(weeks), "week_rows")
	reportPeakRSS(b)
}
