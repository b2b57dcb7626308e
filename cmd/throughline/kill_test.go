package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/throughline/throughline/internal/demo"
)

// killItems is the size of the import killed in TestKill9DuringSyncResumes:
// four 50,000-item batches, so the kill lands after the first commit and
// before the last.
const killItems = 200_000

// TestKill9DuringSyncResumes kills `throughline sync` with SIGKILL and
// restarts it, then checks that the warehouse opens and holds every row
// once. Row by row (a file the bulk path declines: one short row), the kill
// lands after the first committed batch and the import resumes from the
// stored cursor; in bulk (a clean file, one batch) it lands during the
// import's only commit, which leaves nothing, and the rerun imports it all.
func TestKill9DuringSyncResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and imports 200,000 rows four times; skipped in -short")
	}
	start := time.Now()
	dir := t.TempDir()
	bin := filepath.Join(dir, "throughline")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built in %v", time.Since(start).Round(time.Millisecond))
	for _, bulk := range []bool{false, true} {
		t.Run(map[bool]string{false: "row by row", true: "bulk"}[bulk], func(t *testing.T) { testKill9(t, bin, bulk) })
	}
}

func testKill9(t *testing.T, bin string, bulk bool) {
	start := time.Now()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	transitions := writeKillItems(t, data, killItems, !bulk)
	cfgPath := filepath.Join(dir, "throughline.yaml")
	if err := os.WriteFile(cfgPath, []byte(demo.Config(data, filepath.Join(dir, "w.duckdb"))), 0o644); err != nil {
		t.Fatal(err)
	}

	// First run: SIGKILL once a batch is committed. The log is read from a
	// pipe line by line as the process writes it (no polling of a file), so
	// the kill follows the line at once.
	killedLog := filepath.Join(dir, "killed.log")
	logf, err := os.Create(killedLog)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	first := exec.Command(bin, "sync", "--config", cfgPath, "--log-level", "debug")
	first.Stderr = pw
	first.Stdout = pw
	t0 := time.Now()
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close() // the child holds its copy
	killAfter := `msg="batch committed"`
	if bulk {
		killAfter = `msg="bulk import"`
	}
	seen := make(chan struct{})
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		signalled := false
		for sc.Scan() {
			fmt.Fprintln(logf, sc.Text())
			if !signalled && strings.Contains(sc.Text(), killAfter) {
				signalled = true
				close(seen)
			}
		}
	}()
	exited := make(chan error, 1)
	go func() { exited <- first.Wait() }()
	select {
	case err := <-exited:
		<-logged
		t.Fatalf("first sync exited (%v) before its first batch was committed:\n%s", err, readFile(t, killedLog))
	case <-time.After(60 * time.Second):
		first.Process.Kill()
		<-exited
		<-logged
		t.Fatalf("no batch committed within 60 s:\n%s", readFile(t, killedLog))
	case <-seen:
	}
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	<-logged
	killed := readFile(t, killedLog)
	t.Logf("killed after %v, %d batch(es) committed", time.Since(t0).Round(time.Millisecond), strings.Count(killed, `msg="batch committed"`))
	if strings.Contains(killed, `msg="sync done"`) {
		t.Fatalf("the first sync finished before the kill; make the import larger:\n%s", killed)
	}

	// Second run: resumes and finishes.
	t1 := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "sync", "--config", cfgPath, "--log-level", "debug").CombinedOutput()
	if err != nil {
		t.Fatalf("second sync: %v\n%s", err, out)
	}
	resumed := string(out)
	t.Logf("second sync took %v", time.Since(t1).Round(time.Millisecond))
	if !strings.Contains(resumed, `msg="sync done"`) {
		t.Fatalf("second sync did not log sync done:\n%s", resumed)
	}
	// A full import is killItems/50,000 batches plus the final (empty)
	// one; the resumed import skips what the killed run committed, no more
	// and no less.
	full := killItems/50_000 + 1
	n := strings.Count(resumed, `msg="batch committed"`)
	switch {
	case bulk && (n != 1 || strings.Contains(killed, `msg="batch committed"`)):
		t.Errorf("bulk: killed run committed %d batches, second %d; want 0 and 1:\n%s\n%s", strings.Count(killed, `msg="batch committed"`), n, killed, resumed)
	case !bulk && (n == 0 || n >= full):
		t.Errorf("second sync committed %d batches, want 1..%d (a resumed import):\n%s", n, full-1, resumed)
	}
	before, after := lastRecords(killed, `msg="batch committed"`), lastRecords(resumed, `msg="sync done"`)
	if bulk && after != killItems { // a bulk batch counts the CSV records it read
		t.Errorf("the rerun of the bulk import read %d records, want %d", after, killItems)
	}
	if !bulk && (before <= 0 || after <= 0 || before+after != killItems+transitions) {
		t.Errorf("killed run committed %d records, resumed run %d: want them to add up to %d (items and transitions)",
			before, after, killItems+transitions)
	}

	// The warehouse opens and holds every item once.
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	db, err := openWarehouse(context.Background(), cfg, true)
	if err != nil {
		t.Fatalf("open the warehouse after the kill: %v", err)
	}
	defer db.Close()
	for _, c := range []struct {
		name, query string
		want        int64
	}{
		{"work_items rows", "SELECT count(*) FROM work_items", killItems},
		{"distinct work_items.item_id", "SELECT count(DISTINCT item_id) FROM work_items", killItems},
		{"creation transitions", "SELECT count(*) FROM status_changes WHERE from_status IS NULL", killItems},
		{"items with a creation transition", "SELECT count(DISTINCT item_id) FROM status_changes WHERE from_status IS NULL", killItems},
		{"items with two creation transitions", "SELECT count(*) FROM (SELECT item_id FROM status_changes WHERE from_status IS NULL GROUP BY 1 HAVING count(*) > 1)", 0},
		{"duplicate (item_id, seq) in status_changes", "SELECT count(*) FROM (SELECT item_id, seq FROM status_changes GROUP BY ALL HAVING count(*) > 1)", 0},
		{"status_changes rows", "SELECT count(*) FROM status_changes", transitions},
	} {
		var got int64
		if err := db.QueryRowContext(context.Background(), c.query).Scan(&got); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got != c.want {
			t.Errorf("%s = %d, want %d", c.name, got, c.want)
		}
	}

	// The killed run is marked died (no end time) when the next run starts; the resumed one is ok
	// and ends at a cursor without an in-flight import.
	rows, err := db.QueryContext(context.Background(), "SELECT status, finished_at IS NULL, coalesce(batches, -1), coalesce(cursor, '') FROM sync_runs ORDER BY run_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var runs []string
	for rows.Next() {
		var status, cursor string
		var open bool
		var batches int
		if err := rows.Scan(&status, &open, &batches, &cursor); err != nil {
			t.Fatal(err)
		}
		runs = append(runs, fmt.Sprintf("%s open=%t batches=%d in-flight=%t", status, open, batches, strings.Contains(cursor, `"target"`)))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{"died open=true batches=-1 in-flight=false", fmt.Sprintf("ok open=false batches=%d in-flight=false", strings.Count(resumed, `msg="batch committed"`))}
	if strings.Join(runs, "\n") != strings.Join(want, "\n") {
		t.Errorf("sync_runs:\n%s\nwant:\n%s", strings.Join(runs, "\n"), strings.Join(want, "\n"))
	}
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}

// writeKillItems writes dir/items.csv with n items (keys K-000001 on): a
// third done, a third in progress, a third to do. It returns the number of
// status transitions the CSV connector derives from them: creation plus one
// change for done and in-progress items, creation only for the rest. With
// short, the last row (a to-do item) lacks its empty trailing fields.
func writeKillItems(t *testing.T, dir string, n int, short bool) (transitions int64) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "items.csv"))
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	w := csv.NewWriter(bw)
	w.Write([]string{"key", "project", "title", "type", "status", "created_at", "started_at", "resolved_at"})
	base := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	for i := 1; i <= n; i++ {
		created := base.Add(time.Duration(i%5000) * time.Minute)
		rec := []string{fmt.Sprintf("K-%06d", i), "KILL", "item " + strconv.Itoa(i), "Task", "", created.Format(time.RFC3339), "", ""}
		switch i % 3 {
		case 0:
			rec[4] = "Done"
			rec[7] = created.Add(72 * time.Hour).Format(time.RFC3339)
			transitions += 2
		case 1:
			rec[4] = "In Progress"
			rec[6] = created.Add(24 * time.Hour).Format(time.RFC3339)
			transitions += 2
		default:
			rec[4] = "To Do"
			transitions++
		}
		if short && i == n {
			if i%3 != 2 {
				t.Fatalf("the short row must be a to-do item (n %% 3 == 2), n = %d", n)
			}
			rec = rec[:6]
		}
		w.Write(rec)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return transitions
}

// lastRecords is the records=N of the last log line with msg, or -1.
func lastRecords(log, msg string) int64 {
	m := regexp.MustCompile(regexp.QuoteMeta(msg)+`.* records=(\d+)`).FindAllStringSubmatch(log, -1)
	if m == nil {
		return -1
	}
	n, _ := strconv.ParseInt(m[len(m)-1][1], 10, 64)
	return n
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
