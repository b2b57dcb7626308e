package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/throughline/throughline/internal/config"
	"github.com/throughline/throughline/internal/demo"
	"github.com/throughline/throughline/internal/web/api"
	"github.com/throughline/throughline/warehouse"
)

const loadCommand = "THROUGHLINE_LOAD=1 THROUGHLINE_LOAD_SECONDS=60 go test -run TestLoadSQLAndScrapesDuringSync -v -timeout 10m ./cmd/throughline/"

// loadEnv is the positive number in the environment variable name, else def.
func loadEnv(t *testing.T, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		t.Fatalf("%s %q: want a positive number", name, s)
	}
	return n
}

// TestLoadSQLAndScrapesDuringSync runs 50 SQL clients and 20 /metrics
// scrapers against a real serve while a writer grows and edits the CSV
// source and triggers syncs. Every request must succeed and no item may be
// lost or doubled. Opt-in: see loadCommand; .ci/run runs it small.
func TestLoadSQLAndScrapesDuringSync(t *testing.T) {
	if os.Getenv("THROUGHLINE_LOAD") != "1" {
		t.Skip("load test; run it with: " + loadCommand)
	}
	seconds := loadEnv(t, "THROUGHLINE_LOAD_SECONDS", 60)
	const (
		token      = "load-test-token"
		adminToken = "load-test-admin-token"
	)
	// CI runs it small (THROUGHLINE_LOAD_CLIENTS=5, _SCRAPERS=2, 10 s).
	sqlClients, scrapers := loadEnv(t, "THROUGHLINE_LOAD_CLIENTS", 50), loadEnv(t, "THROUGHLINE_LOAD_SCRAPERS", 20)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if _, err := demo.Generate(data, demo.Options{Now: time.Now(), Seed: 7, Items: 2000}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	yaml := demo.Config(data, filepath.Join(dir, "w.duckdb"))
	for old, repl := range map[string]string{
		config.DefaultListen: ln.Addr().String(),
		// The writer triggers syncs back to back, as before the rate limit.
		"sql_token_env: THROUGHLINE_SQL_TOKEN}": "sql_token_env: TL_LOAD_TEST_TOKEN, admin_token_env: TL_LOAD_TEST_ADMIN, sync_min_interval: 0s}",
	} {
		if !strings.Contains(yaml, old) {
			t.Fatalf("demo config lacks %q", old)
		}
		yaml = strings.Replace(yaml, old, repl, 1)
	}
	cfgPath := filepath.Join(dir, "throughline.yaml")
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("TL_LOAD_TEST_TOKEN", token)
	t.Setenv("TL_LOAD_TEST_ADMIN", adminToken)
	ctx, cancel := context.WithCancel(context.Background())
	db, err := openWarehouse(ctx, cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	p := newPipeline(cfg, db, slog.New(slog.DiscardHandler))
	p.progress = false
	served := make(chan error, 1)
	go func() { served <- p.serveOn(ctx, ln, true) }()
	defer func() {
		cancel()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("serve returned %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop within 30 s")
		}
		db.Close()
	}()

	base := "http://" + ln.Addr().String()
	client := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: sqlClients + scrapers + 4},
	}
	// Each SQL client is a PMO on its own machine: its own source address
	// (127.0.0.10, …), as server.sql_client_concurrency counts per address.
	sqlClient := func(i int) *http.Client { return clientFrom(byte(10 + i)) }
	doWith := func(client *http.Client, method, path, body string) (int, []byte, error) {
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if method == "POST" && path == "/api/v1/sync" {
			req.Header.Set("Authorization", "Bearer "+adminToken)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	do := func(method, path, body string) (int, []byte, error) { return doWith(client, method, path, body) }
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(120 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 120 s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor("/readyz", func() bool { code, _, _ := do("GET", "/readyz", ""); return code == http.StatusOK })

	var (
		mu      sync.Mutex
		errs    []string
		nErrs   atomic.Int64
		sqlLat  []time.Duration
		scrLat  []time.Duration
		syncs   atomic.Int64
		busy    atomic.Int64
		stopped atomic.Bool
	)
	fail := func(format string, args ...any) {
		if nErrs.Add(1) <= 20 {
			mu.Lock()
			errs = append(errs, fmt.Sprintf(format, args...))
			mu.Unlock()
		}
	}
	queries := []string{
		`SELECT key, team, work_class, status, stage FROM item_flow ORDER BY key LIMIT 200`,
		`SELECT * FROM cycle_time_stats ORDER BY ALL`,
		`SELECT * FROM throughput_weekly ORDER BY week_start DESC LIMIT 100`,
		`SELECT team, work_class, count(*) AS items, count(DISTINCT project) AS projects FROM item_flow GROUP BY ALL ORDER BY ALL`,
		`SELECT status, count(*) AS n FROM work_items GROUP BY 1 ORDER BY 2 DESC`,
	}
	var wg sync.WaitGroup
	for i := range sqlClients {
		wg.Go(func() {
			c := sqlClient(i)
			var lat []time.Duration
			for n := i; !stopped.Load(); n++ {
				q := queries[n%len(queries)]
				body, _ := json.Marshal(api.Request{SQL: q})
				start := time.Now()
				code, b, err := doWith(c, "POST", "/api/v1/sql", string(body))
				lat = append(lat, time.Since(start))
				switch {
				case err != nil:
					fail("sql %q: %v", q, err)
				case code != http.StatusOK:
					fail("sql %q: %d %s", q, code, b)
				}
			}
			mu.Lock()
			sqlLat = append(sqlLat, lat...)
			mu.Unlock()
		})
	}
	for range scrapers {
		wg.Go(func() {
			var lat []time.Duration
			for !stopped.Load() {
				start := time.Now()
				code, b, err := do("GET", "/metrics", "")
				lat = append(lat, time.Since(start))
				switch {
				case err != nil:
					fail("/metrics: %v", err)
				case code != http.StatusOK || !bytes.Contains(b, []byte("throughline_up{")):
					fail("/metrics: %d, %d bytes", code, len(b))
				}
			}
			mu.Lock()
			scrLat = append(scrLat, lat...)
			mu.Unlock()
		})
	}

	// The writer: grow and edit items.csv, sync, wait for the run to end.
	src, err := readItemsCSV(filepath.Join(data, "items.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lastRun := func() (int64, string) {
		code, b, err := do("GET", "/api/v1/sync-runs", "")
		if err != nil || code != http.StatusOK {
			fail("sync-runs: %d %v %s", code, err, b)
			return 0, ""
		}
		var runs []warehouse.SyncRun
		if err := json.Unmarshal(b, &runs); err != nil || len(runs) == 0 {
			fail("sync-runs %s: %v", b, err)
			return 0, ""
		}
		return runs[0].RunID, runs[0].Status
	}
	// syncOnce triggers a sync (retrying while busy) and waits until the
	// run it started has ended.
	syncOnce := func() {
		prev, _ := lastRun()
		for {
			code, b, err := do("POST", "/api/v1/sync", "")
			if err != nil {
				fail("sync: %v", err)
				return
			}
			if code == http.StatusAccepted {
				break
			}
			if code != http.StatusConflict {
				fail("sync: %d %s", code, b)
				return
			}
			busy.Add(1)
			time.Sleep(20 * time.Millisecond)
		}
		syncs.Add(1)
		waitFor("the triggered sync run", func() bool {
			id, status := lastRun()
			if id > prev && status != "running" {
				if status != "ok" {
					fail("sync run %d ended %s", id, status)
				}
				return true
			}
			return false
		})
	}
	start := time.Now()
	end := start.Add(time.Duration(seconds) * time.Second)
	round := 0
	var lastTitleKey, lastTitle string
	for time.Now().Before(end) {
		round++
		for range 25 {
			src.add(fmt.Sprintf("LOAD-%06d", src.next), fmt.Sprintf("load item %d", src.next))
		}
		lastTitleKey, lastTitle = src.retitle(round, fmt.Sprintf("retitled in round %d", round))
		if err := src.write(); err != nil {
			t.Fatal(err)
		}
		syncOnce()
	}
	stopped.Store(true)
	wg.Wait()
	elapsed := time.Since(start)

	// Final sync and compute: the first sync reads the last file; the
	// second is accepted only once the first's compute has finished.
	syncOnce()
	syncOnce()
	sqlRow := func(q string) []any {
		body, _ := json.Marshal(api.Request{SQL: q})
		code, b, err := do("POST", "/api/v1/sql", string(body))
		if err != nil || code != http.StatusOK {
			t.Fatalf("%s: %d %v %s", q, code, err, b)
		}
		var res struct{ Rows [][]any }
		if err := json.Unmarshal(b, &res); err != nil || len(res.Rows) != 1 {
			t.Fatalf("%s: %s: %v", q, b, err)
		}
		return res.Rows[0]
	}
	counts := sqlRow(`SELECT count(*), count(DISTINCT item_id), count(DISTINCT key) FROM work_items`)
	want := float64(len(src.keys))
	if counts[0] != want || counts[1] != want || counts[2] != want {
		t.Errorf("work_items rows, distinct item_id, distinct key = %v, want %v each (distinct keys written)", counts, want)
	}
	if got := sqlRow(fmt.Sprintf(`SELECT title FROM work_items WHERE key = '%s'`, lastTitleKey)); got[0] != lastTitle {
		t.Errorf("title of %s = %v, want %q (the last rewrite)", lastTitleKey, got[0], lastTitle)
	}
	flow := sqlRow(`SELECT count(*) FROM item_flow`)

	mu.Lock()
	defer mu.Unlock()
	t.Logf("%v under load: %d SQL requests (%.0f/s) p50 %v p99 %v max %v; %d scrapes (%.0f/s) p50 %v p99 %v max %v",
		elapsed.Round(time.Millisecond),
		len(sqlLat), float64(len(sqlLat))/elapsed.Seconds(), quantile(sqlLat, 0.50), quantile(sqlLat, 0.99), quantile(sqlLat, 1),
		len(scrLat), float64(len(scrLat))/elapsed.Seconds(), quantile(scrLat, 0.50), quantile(scrLat, 0.99), quantile(scrLat, 1))
	t.Logf("writer: %d rounds, %d syncs accepted, %d answered 409 busy; %d items written (%d new), work_items %v, item_flow %v",
		round, syncs.Load(), busy.Load(), len(src.keys), src.next-1, counts[0], flow[0])
	if n := nErrs.Load(); n > 0 {
		t.Errorf("%d failed requests; first ones:\n%s", n, strings.Join(errs, "\n"))
	}
}

// quantile is the q-quantile (nearest rank) of ds; it sorts ds.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(q*float64(len(ds))+0.5) - 1
	return ds[max(0, min(i, len(ds)-1))].Round(100 * time.Microsecond)
}

// itemsCSV is an items.csv held in memory and rewritten whole.
type itemsCSV struct {
	path   string
	header []string
	rows   [][]string
	keys   map[string]bool
	col    map[string]int
	next   int // number of the next added item
}

func readItemsCSV(path string) (*itemsCSV, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s := &itemsCSV{path: path, header: recs[0], rows: recs[1:], keys: map[string]bool{}, col: map[string]int{}, next: 1}
	for i, c := range s.header {
		s.col[c] = i
	}
	for _, c := range []string{"key", "title", "parent"} {
		if _, ok := s.col[c]; !ok {
			return nil, fmt.Errorf("%s: no %s column", path, c)
		}
	}
	for _, r := range s.rows {
		s.keys[r[s.col["key"]]] = true
	}
	return s, nil
}

// add appends a copy of the first row under a new key.
func (s *itemsCSV) add(key, title string) {
	r := slices.Clone(s.rows[0])
	r[s.col["key"]], r[s.col["title"]], r[s.col["parent"]] = key, title, ""
	s.rows = append(s.rows, r)
	s.keys[key] = true
	s.next++
}

// retitle changes the title of an existing row and returns its key.
func (s *itemsCSV) retitle(n int, title string) (key, newTitle string) {
	r := s.rows[n%len(s.rows)]
	r[s.col["title"]] = title
	return r[s.col["key"]], title
}

// write replaces the file atomically (a sync never reads half a file).
func (s *itemsCSV) write() error {
	tmp := s.path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write(s.header)
	w.WriteAll(s.rows)
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, s.path)
}
