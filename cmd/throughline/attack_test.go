package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/throughline/throughline/internal/web"
	"github.com/throughline/throughline/internal/web/api"
)

// attackCommand runs the slow cases too.
const attackCommand = "THROUGHLINE_ATTACK=1 go test -run TestHostileClients -v -timeout 20m ./cmd/throughline/"

// attackTimeout is server.sql_timeout of the attacked server.
const attackTimeout = 3 * time.Second

// TestHostileClients is issue #16's attack on the SQL API, each finding a
// case, against a real serve (HTTP server, worker pool, snapshot) over a
// demo warehouse. The quick cases always run; the slow ones (20,000
// connections, clients that never read) with THROUGHLINE_ATTACK=1. Figures
// are logged (-v).
func TestHostileClients(t *testing.T) {
	logs := &lockedBuffer{}
	s := startAPIServerWith(t, "sql_timeout: "+attackTimeout.String()+", sql_max_bytes: 16MB", slog.New(slog.NewTextHandler(logs, nil)))
	slow := os.Getenv("THROUGHLINE_ATTACK") == "1"
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", lastLogLines(logs.String(), 40))
		}
	})

	t.Run("1 a crash query costs one request: probes, metrics and other clients keep answering", func(t *testing.T) {
		var stop atomic.Bool
		var wg sync.WaitGroup
		var failures atomic.Int64
		var answered atomic.Int64
		bystander := func(path, body string, from byte) {
			c := clientFrom(from)
			for !stop.Load() {
				code, b, err := s.request(c, path, body, "")
				if err != nil || code != http.StatusOK {
					failures.Add(1)
					t.Errorf("%s during the crashes: %d %v %.200s", path, code, err, b)
				}
				answered.Add(1)
			}
		}
		wg.Go(func() { bystander("/healthz", "", 21) })
		wg.Go(func() { bystander("/metrics", "", 22) })
		wg.Go(func() { bystander("/api/v1/sql", `{"sql": "SELECT count(*) FROM item_flow"}`, 23) })
		attacker := clientFrom(24)
		for range 3 {
			code, b, err := s.request(attacker, "/api/v1/sql", `{"sql": "SELECT json_structure(repeat('[', 200000) || repeat(']', 200000))"}`, "")
			var e web.ErrorBody
			json.Unmarshal(b, &e)
			if err != nil || code != http.StatusInternalServerError || e.Code != "internal" || !strings.Contains(e.Error, "error id ") {
				t.Errorf("crash query: %d %v %s; want 500 with an error id", code, err, b)
				continue
			}
			id := e.Error[strings.Index(e.Error, "error id ")+len("error id "):][:12]
			if !strings.Contains(logs.String(), id) {
				t.Errorf("error id %s is not in the server log", id)
			}
		}
		stop.Store(true)
		wg.Wait()
		t.Logf("3 crash queries; %d bystander requests answered meanwhile, %d failed", answered.Load(), failures.Load())
		for _, path := range []string{"/healthz", "/metrics"} {
			if code, _, _ := s.do(t, "GET", path, ""); code != http.StatusOK {
				t.Errorf("%s after the crashes: %d", path, code)
			}
		}
		if got := s.count(t, "item_flow"); got != "400" {
			t.Errorf("after the crashes: item_flow = %s", got)
		}
	})

	t.Run("1 a client that keeps crashing workers is held off", func(t *testing.T) {
		attacker := clientFrom(25)
		crash := `{"sql": "SELECT json_structure(repeat('[', 200000) || repeat(']', 200000))"}`
		for i := range 5 {
			if code, b, err := s.request(attacker, "/api/v1/sql", crash, ""); err != nil || code != http.StatusInternalServerError {
				t.Fatalf("crash %d: %d %v %s", i+1, code, err, b)
			}
		}
		code, b, err := s.request(attacker, "/api/v1/sql", `{"sql": "SELECT 1"}`, "")
		if err != nil || code != http.StatusTooManyRequests {
			t.Errorf("after five crashes: %d %v %s; want 429", code, err, b)
		}
		if code, _, _ := s.request(clientFrom(26), "/api/v1/sql", `{"sql": "SELECT 1"}`, ""); code != http.StatusOK {
			t.Errorf("another client: %d", code)
		}
	})

	join150 := func() string {
		var from []string
		for i := range 150 {
			from = append(from, fmt.Sprintf("teams t%d", i))
		}
		b, _ := json.Marshal(api.Request{SQL: "SELECT count(*) FROM " + strings.Join(from, ", ")})
		return string(b)
	}()

	t.Run("2 a 150-way join is answered within the time-out + 2 s", func(t *testing.T) {
		start := time.Now()
		code, b, err := s.request(clientFrom(31), "/api/v1/sql", join150, "")
		d := time.Since(start)
		if err != nil || (code != http.StatusGatewayTimeout && code != http.StatusUnprocessableEntity) {
			t.Errorf("150-way join: %d %v %s; want 504 (or 422 when its planner runs out of memory first)", code, err, b)
		}
		if d > attackTimeout+2*time.Second {
			t.Errorf("answered after %s; the time-out is %s", d, attackTimeout)
		}
		t.Logf("150-way join: %d after %s (time-out %s): %s", code, d.Round(time.Millisecond), attackTimeout, b)
	})

	t.Run("2 four 150-way joins from one client leave workers for the others", func(t *testing.T) {
		var wg sync.WaitGroup
		attacker := clientFrom(32)
		for range 4 {
			wg.Go(func() { s.request(attacker, "/api/v1/sql", join150, "") })
		}
		// Two run (server.sql_client_concurrency), two wait.
		waitBusy(t, s.p, 2)
		start := time.Now()
		code, b, err := s.request(clientFrom(33), "/api/v1/sql", `{"sql": "SELECT count(*) FROM item_flow"}`, "")
		d := time.Since(start)
		wg.Wait()
		if err != nil || code != http.StatusOK {
			t.Errorf("another client's query during four joins: %d %v %s", code, err, b)
		}
		if d > attackTimeout/2 {
			t.Errorf("another client waited %s", d)
		}
		t.Logf("another client's query during one client's four 150-way joins: %s", d.Round(time.Millisecond))
	})

	t.Run("2 a client that disconnects stops its query", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		// A long scan that needs no memory: the 150-way join's planner may run
		// out of memory and answer 422 before the client gives up.
		long := `{"sql": "SELECT sum(x) FROM range(1000000000000) t(x)"}`
		req, _ := http.NewRequestWithContext(ctx, "POST", s.base+"/api/v1/sql", strings.NewReader(long))
		req.Header.Set("Authorization", "Bearer "+apiTestToken)
		if resp, err := clientFrom(34).Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("no disconnect: %d", resp.StatusCode)
		}
		gone := time.Now()
		// Interrupted, or killed a moment later when DuckDB does not listen.
		for s.p.pool.Busy() > 0 {
			if time.Since(gone) > 2*time.Second {
				t.Fatalf("the abandoned query still holds a worker after %s", time.Since(gone))
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Logf("the abandoned query's worker was free %s after the client left", time.Since(gone).Round(time.Millisecond))
	})

	t.Run("3 wide rows and the row-limit bypass: the server's memory stays flat", func(t *testing.T) {
		rss := watchRSS()
		tests := []struct {
			name, sql string
			want      []int
			rows      int // -1: any
		}{
			// 2 GB of rows: the worker runs out of memory (or time), not the server.
			{"2 GB of wide rows", "SELECT repeat('x', 1000000) AS s FROM range(2000)", []int{422, 504}, -1},
			// 50 MB of rows, over a 16 MB byte budget: truncated while streaming.
			{"wide rows over the byte budget", "SELECT repeat('x', 100000) AS s FROM range(500)", []int{200}, 159},
			// A trailing comment once defeated the row limit: 9.1 GB.
			{"a billion rows after a comment", "SELECT x FROM range(1000000000) t(x); -- c", []int{200}, api.DefaultMaxRows},
		}
		for _, tt := range tests {
			body, _ := json.Marshal(api.Request{SQL: tt.sql})
			start := time.Now()
			code, h, n, err := s.stream(clientFrom(41), "/api/v1/sql", string(body))
			ok := false
			for _, w := range tt.want {
				ok = ok || code == w
			}
			if err != nil || !ok {
				t.Errorf("%s: %d %v; want one of %v", tt.name, code, err, tt.want)
			}
			if code == 200 && (h.Get("X-Throughline-Truncated") != "true" || (tt.rows >= 0 && h.Get("X-Throughline-Row-Count") != strconv.Itoa(tt.rows))) {
				t.Errorf("%s: %s rows, truncated %s", tt.name, h.Get("X-Throughline-Row-Count"), h.Get("X-Throughline-Truncated"))
			}
			t.Logf("%s: %d, %s rows, %d bytes, %s", tt.name, code, h.Get("X-Throughline-Row-Count"), n, time.Since(start).Round(time.Millisecond))
		}
		growth := rss()
		if growth > 1<<30 {
			t.Errorf("server RSS grew by %d MB", growth>>20)
		}
		t.Logf("server RSS growth while they ran: %d MB", growth>>20)
	})

	t.Run("4 sleeping is refused", func(t *testing.T) {
		for _, q := range []string{"SELECT sleep_ms(60000)", "SELECT pg_sleep(60)"} {
			if code, e := s.refused(t, q); code != http.StatusForbidden || e.Code != "forbidden" {
				t.Errorf("%s: %d %+v", q, code, e)
			}
		}
	})

	t.Run("4 an unauthenticated trickled body is cut off at its 401", func(t *testing.T) {
		c, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprint(c, "POST /api/v1/sql HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n{\"sql\": ")
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		start := time.Now()
		b, _ := io.ReadAll(c)
		if !bytes.HasPrefix(b, []byte("HTTP/1.1 401")) || time.Since(start) > 2*time.Second {
			t.Errorf("after %s: %.80q; want a 401 and the connection closed", time.Since(start), b)
		}
	})

	t.Run("5 setseed is refused", func(t *testing.T) {
		if code, e := s.refused(t, "SELECT setseed(0.42)"); code != http.StatusForbidden {
			t.Errorf("setseed: %d %+v", code, e)
		}
		// And without the guard it would not reach the next query:
		// internal/sqlworker TestWorkerDefencesWithoutTheGuard.
	})

	t.Run("6 file names, macros and state-changing functions are refused", func(t *testing.T) {
		dir := s.dir
		for _, q := range []string{
			`SELECT * FROM "` + dir + `/data/items".csv`,
			`SELECT * FROM "` + dir + `/w.snapshot".duckdb`,
			`SELECT * FROM "` + dir + `/w".duckdb`,
			`SELECT * FROM "` + dir + `/x".parquet`,
			`SELECT * FROM "` + dir + `/x".json`,
			"SELECT * FROM items.csv",
			"SELECT get_block_size('w')",
			"SELECT * FROM checkpoint()",
			"SELECT * FROM enable_logging()",
			"SELECT * FROM enable_profiling()",
			"SELECT * FROM duckdb_settings()",
			"SELECT current_setting('temp_directory')",
			"SELECT * FROM duckdb_databases()",
		} {
			if code, e := s.refused(t, q); code != http.StatusForbidden || e.Code != "forbidden" {
				t.Errorf("%s: %d %+v; want 403 forbidden", q, code, e)
			}
		}
		// Each layer alone: warehouse TestQueryRefuses (the guard),
		// internal/sqlworker TestWorkerDefencesWithoutTheGuard (the worker).
	})

	t.Run("7 client mistakes are 400 and internal errors 500 with an id, without paths", func(t *testing.T) {
		for _, q := range []string{"SELECT $1", "SELECT ?"} {
			if code, e := s.refused(t, q); code != http.StatusBadRequest || e.Code != "bad_request" {
				t.Errorf("%s: %d %+v; want 400", q, code, e)
			}
		}
		code, e := s.refused(t, "SELECT * FROM repeat_row(1, num_rows := -1)")
		if code != http.StatusInternalServerError || !strings.Contains(e.Error, "error id ") ||
			strings.Contains(e.Error, "Stack Trace") || strings.Contains(e.Error, "/") {
			t.Errorf("internal error: %d %+v; want 500 with an id, no stack trace or path", code, e)
		}
		code, e = s.refused(t, "SELECT * FROM no_such_table")
		if code != http.StatusBadRequest || strings.Contains(e.Error, s.dir) {
			t.Errorf("unknown table: %d %+v", code, e)
		}
	})

	t.Run("8 the read token cannot start a sync", func(t *testing.T) {
		code, _, b := s.do(t, "POST", "/api/v1/sync", "")
		if code != http.StatusForbidden {
			t.Errorf("POST /api/v1/sync with the SQL token: %d %s", code, b)
		}
	})

	t.Run("4 20,000 idle connections: /healthz, /metrics and SQL still answer", func(t *testing.T) {
		if !slow {
			t.Skip("slow; run with " + attackCommand)
		}
		fds0 := openFDs()
		addr := strings.TrimPrefix(s.base, "http://")
		// The client side needs 20,000 descriptors: two helper processes
		// (the hard limit per process here is 20,000), from two addresses.
		var holders []*connHolder
		for i, from := range []string{"127.0.0.2", "127.0.0.3"} {
			h, err := startConnHolder(addr, from, 10_000)
			if err != nil {
				t.Fatalf("holder %d: %v", i, err)
			}
			defer h.stop()
			holders = append(holders, h)
		}
		held := 0
		for _, h := range holders {
			n, err := h.wait()
			if err != nil {
				t.Fatal(err)
			}
			held += n
		}
		fds := openFDs()
		for _, path := range []string{"/healthz", "/metrics"} {
			start := time.Now()
			code, _, err := s.request(clientFrom(51), path, "", "")
			if err != nil || code != http.StatusOK || time.Since(start) > 2*time.Second {
				t.Errorf("%s with 20,000 idle connections: %d %v after %s", path, code, err, time.Since(start))
			}
		}
		start := time.Now()
		code, b, err := s.request(clientFrom(52), "/api/v1/sql", `{"sql": "SELECT count(*) FROM item_flow"}`, "")
		if err != nil || code != http.StatusOK {
			t.Errorf("SQL with 20,000 idle connections: %d %v %s", code, err, b)
		}
		if held < 19_000 || fds-fds0 > 1024+64 {
			t.Errorf("%d connections held by clients; the server's descriptors grew by %d (cap 1024)", held, fds-fds0)
		}
		t.Logf("%d idle connections opened (one GET /healthz each); server descriptors +%d; SQL answered in %s", held, fds-fds0, time.Since(start).Round(time.Millisecond))
	})

	t.Run("3 three clients that never read their answers hold nothing for long", func(t *testing.T) {
		if !slow {
			t.Skip("slow; run with " + attackCommand)
		}
		rss := watchRSS()
		body, _ := json.Marshal(api.Request{SQL: "SELECT repeat('x', 1000000) AS s FROM range(20)"})
		var conns []net.Conn
		for i := range 3 {
			// A 4 KB receive buffer: the answer cannot hide in the kernel.
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(61+i))}, Control: func(_, _ string, rc syscall.RawConn) error {
				var serr error
				err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
				return errors.Join(err, serr)
			}}
			c, err := d.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			fmt.Fprintf(c, "POST /api/v1/sql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", apiTestToken, len(body), body)
			conns = append(conns, c)
		}
		start := time.Now()
		for i, c := range conns {
			// Read the status line and headers, then nothing more.
			c.SetReadDeadline(time.Now().Add(attackTimeout + 5*time.Second))
			r := bufio.NewReaderSize(c, 16)
			status, err := r.ReadString('\n')
			for line := status; err == nil && line != "\r\n"; line, err = r.ReadString('\n') {
			}
			if err != nil || !strings.HasPrefix(status, "HTTP/1.1 200") {
				t.Fatalf("non-reader %d: %q %v", i, status, err)
			}
		}
		held := s.p.pool.Busy()

		// Other clients are served meanwhile, by the fourth worker.
		var wg sync.WaitGroup
		var slowest atomic.Int64
		for i := range 4 {
			wg.Go(func() {
				t0 := time.Now()
				code, b, err := s.request(clientFrom(byte(71+i)), "/api/v1/sql", `{"sql": "SELECT count(*) FROM item_flow"}`, "")
				if err != nil || code != http.StatusOK {
					t.Errorf("query beside the non-readers: %d %v %s", code, err, b)
				}
				if d := time.Since(t0); int64(d) > slowest.Load() {
					slowest.Store(int64(d))
				}
			})
		}
		wg.Wait()
		// A non-reader's worker is stopped at the time-out (and its second
		// of grace for sending), and replaced (unless the kernel's buffers
		// took the whole answer and it was free already).
		deadline := start.Add(attackTimeout + 5*time.Second)
		for s.p.pool.Busy() > 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		freed := time.Since(start)
		growth := rss()
		if s.p.pool.Busy() > 0 || freed > attackTimeout+2*time.Second {
			t.Errorf("the non-readers' workers were free after %s (%d still busy); the time-out is %s", freed, s.p.pool.Busy(), attackTimeout)
		}
		if growth > 1<<30 {
			t.Errorf("server RSS grew by %d MB", growth>>20)
		}
		t.Logf("3 clients read only the headers of their 15 MB answers (20 MB of rows, truncated at the byte budget), holding %d workers: released %s after the requests (time-out %s); four other clients' queries meanwhile, the slowest in %s; server RSS growth %d MB",
			held, freed.Round(time.Millisecond), attackTimeout, time.Duration(slowest.Load()).Round(time.Millisecond), growth>>20)
	})
}

// clientFrom is an HTTP client whose connections come from 127.0.0.n: a
// client of its own for the per-client limits.
func clientFrom(n byte) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, n)}}
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
}

// request GETs path, or POSTs body (JSON), with the SQL token.
func (s *apiServer) request(c *http.Client, path, body, accept string) (int, []byte, error) {
	method := "GET"
	if body != "" {
		method = "POST"
	}
	code, _, b, err := s.send(c, method, path, body, "Accept", accept)
	return code, b, err
}

// stream POSTs body and counts the answer's bytes without keeping them.
func (s *apiServer) stream(c *http.Client, path, body string) (int, http.Header, int64, error) {
	req, err := http.NewRequest("POST", s.base+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+apiTestToken)
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header, n, err
}

// refused posts a query that must fail and decodes the error.
func (s *apiServer) refused(t *testing.T, query string) (int, web.ErrorBody) {
	t.Helper()
	code, _, _, e := s.sql(t, query, 0)
	return code, e
}

// waitBusy waits until n SQL workers are busy.
func waitBusy(t *testing.T, p *pipeline, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for p.pool.Busy() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d workers busy after 10 s, want %d", p.pool.Busy(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// watchRSS samples this process's resident set (the server's: the test
// client discards what it reads) every 20 ms; the function it returns
// stops and reports the largest growth over the first sample.
func watchRSS() func() int64 {
	base := rssBytes()
	var peak atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if g := rssBytes() - base; g > peak.Load() {
				peak.Store(g)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() int64 {
		close(stop)
		<-done
		return peak.Load()
	}
}

func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			f := strings.Fields(rest)
			kb, _ := strconv.ParseInt(f[0], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func openFDs() int {
	entries, _ := os.ReadDir("/proc/self/fd")
	return len(entries)
}

func lastLogLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// lockedBuffer is a log sink for tests.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Environment of a connection-holder process (this test binary again).
const (
	holdEnvAddr = "THROUGHLINE_ATTACK_HOLD_ADDR"
	holdEnvFrom = "THROUGHLINE_ATTACK_HOLD_FROM"
	holdEnvN    = "THROUGHLINE_ATTACK_HOLD_N"
)

// connHolder is a process that opens connections and keeps them.
type connHolder struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

func startConnHolder(addr, from string, n int) (*connHolder, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), holdEnvAddr+"="+addr, holdEnvFrom+"="+from, holdEnvN+"="+strconv.Itoa(n))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &connHolder{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}, nil
}

// wait returns how many connections the holder opened and holds.
func (h *connHolder) wait() (int, error) {
	line, err := h.out.ReadString('\n')
	if err != nil {
		return 0, fmt.Errorf("connection holder: %w", err)
	}
	var n, failed int
	if _, err := fmt.Sscanf(line, "held %d failed %d", &n, &failed); err != nil {
		return 0, fmt.Errorf("connection holder said %q", line)
	}
	return n, nil
}

func (h *connHolder) stop() {
	h.stdin.Close()
	h.cmd.Wait()
}

// holdConnections is the body of a holder process: it opens n connections
// from the address from, sends one GET /healthz on each (keep-alive), reads
// the answer, reports and keeps them until its standard input closes.
func holdConnections() int {
	addr, from := os.Getenv(holdEnvAddr), os.Getenv(holdEnvFrom)
	n, _ := strconv.Atoi(os.Getenv(holdEnvN))
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	var conns []net.Conn
	failed := 0
	for range n {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			failed++
			continue
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprint(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			failed++
			c.Close()
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		conns = append(conns, c)
	}
	fmt.Printf("held %d failed %d\n", len(conns), failed)
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
	return 0
}
