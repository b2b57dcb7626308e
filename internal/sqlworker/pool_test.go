package sqlworker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/throughline/throughline/internal/sqlresult"
	"github.com/throughline/throughline/warehouse"
)

// TestMain lets the test binary serve as the workers' program.
func TestMain(m *testing.M) {
	if IsWorker() {
		os.Exit(Main())
	}
	os.Exit(m.Run())
}

// snapshot is a warehouse with two teams and its published snapshot.
type snapshot struct {
	db   *warehouse.DB
	path string // of the snapshot
	dir  string
}

func newSnapshot(t *testing.T) *snapshot {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := warehouse.Open(ctx, warehouse.Options{Path: filepath.Join(dir, "w.duckdb"), MemoryLimit: "1GB", Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.ExecContext(ctx, `INSERT INTO teams (team_id, name, wip_limit, sle_days) VALUES ('platform', 'platform', 8, 10), ('mobile', 'mobile', 5, 12)`); err != nil {
		t.Fatal(err)
	}
	s := &snapshot{db: db, path: warehouse.SnapshotPath(filepath.Join(dir, "w.duckdb")), dir: dir}
	s.publish(t)
	return s
}

func (s *snapshot) publish(t *testing.T) {
	t.Helper()
	if _, err := s.db.PublishSnapshot(context.Background(), s.path); err != nil {
		t.Fatal(err)
	}
}

func newPool(t *testing.T, s *snapshot, o Options) *Pool {
	t.Helper()
	o.Snapshot = s.path
	if o.Workers == 0 {
		o.Workers = 2
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	o.TimeZone = "Europe/Berlin"
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	p.Publish()
	return p
}

// run answers query as JSON and decodes it.
func run(ctx context.Context, t *testing.T, p *Pool, query string, maxRows int, maxBytes int64) (*sqlresult.Result, error) {
	t.Helper()
	a, err := p.Run(ctx, Request{SQL: query, Format: sqlresult.JSON, MaxRows: maxRows, MaxBytes: maxBytes})
	if err != nil {
		return nil, err
	}
	defer a.Close()
	b, err := io.ReadAll(a.Body)
	if err != nil {
		return nil, err
	}
	if int64(len(b)) != a.Size {
		t.Errorf("%s: read %d bytes, answer said %d", query, len(b), a.Size)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var res sqlresult.Result
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("%s: decode %q: %v", query, b, err)
	}
	if res.RowCount != a.RowCount || res.Truncated != a.Truncated {
		t.Errorf("%s: body says %d rows, truncated %v; head %d, %v", query, res.RowCount, res.Truncated, a.RowCount, a.Truncated)
	}
	return &res, nil
}

func mustRun(t *testing.T, p *Pool, query string) *sqlresult.Result {
	t.Helper()
	res, err := run(context.Background(), t, p, query, 0, 0)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return res
}

func code(err error) string {
	var qe *warehouse.QueryError
	var ie *InternalError
	switch {
	case errors.As(err, &qe):
		return qe.Code
	case errors.As(err, &ie):
		return "internal"
	case err == nil:
		return ""
	}
	return err.Error()
}

func TestPoolAnswersAndLimits(t *testing.T) {
	s := newSnapshot(t)
	p := newPool(t, s, Options{})
	res := mustRun(t, p, "SELECT name, current_setting('TimeZone') AS tz FROM teams ORDER BY name")
	want := &sqlresult.Result{Columns: []sqlresult.Column{{Name: "name", Type: "VARCHAR"}, {Name: "tz", Type: "VARCHAR"}},
		Rows: [][]any{{"mobile", "Europe/Berlin"}, {"platform", "Europe/Berlin"}}, RowCount: 2}
	if d := cmp.Diff(want, res); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	tests := []struct {
		name      string
		sql       string
		maxRows   int
		maxBytes  int64
		rows      int
		truncated bool
	}{
		{"row limit", "SELECT range FROM range(10)", 4, 0, 4, true},
		{"byte budget", "SELECT repeat('x', 1000) AS s FROM range(100)", 0, 10_000, 9, true}, // 1,007 bytes a row
		{"limit bypass: a comment after the semicolon", "SELECT x FROM range(1000000) t(x); -- c", 5, 0, 5, true},
		{"within both", "SELECT range FROM range(3)", 10, 1000, 3, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := run(context.Background(), t, p, tt.sql, tt.maxRows, tt.maxBytes)
			if err != nil {
				t.Fatal(err)
			}
			if res.RowCount != tt.rows || len(res.Rows) != tt.rows || res.Truncated != tt.truncated {
				t.Errorf("%d rows, truncated %v; want %d, %v", res.RowCount, res.Truncated, tt.rows, tt.truncated)
			}
		})
	}
	if _, err := run(context.Background(), t, p, "SELECT * FROM read_csv('/etc/passwd')", 0, 0); code(err) != warehouse.CodeForbidden {
		t.Errorf("read_csv: %v; want forbidden", err)
	}
	if started, died := p.Stats(); started != 2 || died != 0 {
		t.Errorf("workers started %d, died %d; want 2, 0", started, died)
	}
}

func TestPoolReadsTheNewestSnapshot(t *testing.T) {
	s := newSnapshot(t)
	p := newPool(t, s, Options{Workers: 1})
	count := func() string {
		return mustRun(t, p, "SELECT count(*) FROM teams").Rows[0][0].(json.Number).String()
	}
	if got := count(); got != "2" {
		t.Fatalf("teams = %s, want 2", got)
	}
	if _, err := s.db.Exec("INSERT INTO teams (team_id, name) VALUES ('data', 'data')"); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != "2" {
		t.Errorf("before publishing: teams = %s, want 2", got)
	}
	s.publish(t)
	p.Publish()
	if got := count(); got != "3" {
		t.Errorf("after publishing: teams = %s, want 3", got)
	}
}

func TestPoolCrashCostsOneQuery(t *testing.T) {
	s := newSnapshot(t)
	p := newPool(t, s, Options{Workers: 1})
	// A stack overflow in DuckDB's JSON parser (finding 1 of issue #16).
	_, err := run(context.Background(), t, p, "SELECT json_structure(repeat('[', 200000) || repeat(']', 200000))", 0, 0)
	var ie *InternalError
	if !errors.As(err, &ie) || ie.ID == "" || !strings.Contains(err.Error(), "crashed its SQL worker") {
		t.Fatalf("crash query: %v; want an internal error with an id", err)
	}
	if res := mustRun(t, p, "SELECT count(*) AS n FROM teams"); res.Rows[0][0] != json.Number("2") {
		t.Errorf("after the crash: %v", res.Rows)
	}
	if started, died := p.Stats(); started != 2 || died != 1 {
		t.Errorf("workers started %d, died %d; want 2, 1", started, died)
	}
}

func TestPoolTimeouts(t *testing.T) {
	s := newSnapshot(t)
	p := newPool(t, s, Options{Workers: 1, Timeout: time.Second})
	// The planner of a 150-way join does not listen for interrupts: the
	// worker is killed (finding 2).
	var from []string
	for i := range 150 {
		from = append(from, "teams t"+strings.Repeat("x", i%3)+string(rune('a'+i%26))+strings.Repeat("0", i/26))
	}
	tests := []struct{ name, sql string }{
		{"execution", "SELECT count(*) FROM range(1000000000) a, range(1000) b"},
		{"planning a 150-way join", "SELECT count(*) FROM " + strings.Join(from, ", ")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := run(context.Background(), t, p, tt.sql, 0, 0)
			// The join's planner may also run out of the worker's memory
			// first; either way the answer comes in time.
			if c := code(err); c != warehouse.CodeTimeout && c != warehouse.CodeResourceLimit {
				t.Errorf("%v; want a time-out", err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("answered after %s with a 1 s time-out", d)
			}
			if res := mustRun(t, p, "SELECT 1 AS x"); res.RowCount != 1 {
				t.Errorf("next query: %v", res)
			}
		})
	}
}

func TestPoolClientGoneStopsTheQuery(t *testing.T) {
	s := newSnapshot(t)
	p := newPool(t, s, Options{Workers: 1, Timeout: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := run(ctx, t, p, "SELECT count(*) FROM range(1000000000) a, range(1000) b", 0, 0)
	if !errors.Is(err, context.DeadlineExceeded) && code(err) != warehouse.CodeTimeout {
		t.Errorf("canceled query: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("canceled query returned after %s", d)
	}
	if res := mustRun(t, p, "SELECT 1 AS x"); res.RowCount != 1 {
		t.Errorf("next query: %v", res)
	}
}

func TestPoolClientGoneInterruptsTheQuery(t *testing.T) {
	s := newSnapshot(t)
	// A grace long enough that only DuckDB's interrupt can answer in time,
	// however loaded the machine: the worker must not need killing. The
	// planner of the 150-table join below reached the default memory_limit
	// (512MB) before the client left at 300 ms in 2 of 5 runs on a fast
	// machine (an out-of-memory error, not an interrupt): this worker may
	// use more (20 of 20 runs interrupted).
	p := newPool(t, s, Options{Workers: 1, Timeout: time.Minute, KillGrace: 30 * time.Second, MemoryLimit: "1536MB"})
	var from []string
	for i := range 150 {
		from = append(from, fmt.Sprintf("teams t%d", i))
	}
	for _, q := range []string{
		"SELECT count(*) FROM range(1000000000) a, range(1000) b",
		"SELECT count(*) FROM " + strings.Join(from, ", "), // planning
	} {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(300*time.Millisecond, cancel)
		start := time.Now()
		_, err := run(ctx, t, p, q, 0, 0)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%.40s: %v; want context.Canceled", q, err)
		}
		// Interrupted (not killed: see KillGrace).
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%.40s: returned after %s", q, d)
		}
		if res := mustRun(t, p, "SELECT 1 AS x"); res.RowCount != 1 {
			t.Errorf("next query: %v", res)
		}
	}
	// DuckDB listened: the worker did not need replacing.
	if started, died := p.Stats(); started != 1 || died != 0 {
		t.Errorf("workers started %d, died %d; want 1, 0", started, died)
	}
}

func TestPoolMemoryLimit(t *testing.T) {
	s := newSnapshot(t)
	p := newPool(t, s, Options{Workers: 1, MemoryLimit: "256MB", AddressSpace: 512 << 20})
	// 2 GB of result rows (finding 3): the worker runs out, not the server.
	_, err := run(context.Background(), t, p, "SELECT repeat('x', 1000000) AS s FROM range(2000)", 0, 0)
	if code(err) != warehouse.CodeResourceLimit {
		t.Errorf("wide rows: %v; want resource_limit", err)
	}
	if res := mustRun(t, p, "SELECT count(*) AS n FROM teams"); res.Rows[0][0] != json.Number("2") {
		t.Errorf("after running out of memory: %v", res.Rows)
	}
}
