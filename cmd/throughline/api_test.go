package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/throughline/throughline/internal/config"
	"github.com/throughline/throughline/internal/demo"
	"github.com/throughline/throughline/internal/sqlresult"
	"github.com/throughline/throughline/internal/web"
	"github.com/throughline/throughline/internal/web/api"
	"github.com/throughline/throughline/warehouse"
)

const (
	apiTestToken      = "t0ken-for-tests"
	apiTestAdminToken = "adm1n-t0ken-for-tests"
)

// apiServer is a running serve over a 400-item demo warehouse.
type apiServer struct {
	base    string
	cfgPath string
	dir     string
	p       *pipeline
	stop    func() // stops serving and closes the warehouse
}

func startAPIServer(t *testing.T) *apiServer {
	t.Helper()
	return startAPIServerWith(t, "sql_timeout: 1s", slog.New(slog.DiscardHandler))
}

// startAPIServerWith starts serve with more server keys (YAML flow
// mapping entries) and a logger.
func startAPIServerWith(t *testing.T, serverKeys string, logger *slog.Logger) *apiServer {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if _, err := demo.Generate(data, demo.Options{Now: time.Now(), Seed: 3, Items: 400}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	yaml := demo.Config(data, filepath.Join(dir, "w.duckdb"))
	for old, repl := range map[string]string{
		config.DefaultListen:                    ln.Addr().String(),
		"sql_token_env: THROUGHLINE_SQL_TOKEN}": "sql_token_env: TL_API_TEST_TOKEN, admin_token_env: TL_API_TEST_ADMIN, " + serverKeys + "}",
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
	t.Setenv("TL_API_TEST_TOKEN", apiTestToken)
	t.Setenv("TL_API_TEST_ADMIN", apiTestAdminToken)
	ctx, cancel := context.WithCancel(context.Background())
	db, err := openWarehouse(ctx, cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	p := newPipeline(cfg, db, logger)
	p.progress = false
	served := make(chan error, 1)
	go func() { served <- p.serveOn(ctx, ln, true) }()
	s := &apiServer{base: "http://" + ln.Addr().String(), cfgPath: cfgPath, dir: dir, p: p}
	stopped := false
	s.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("serve returned %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop within 15 s")
		}
		db.Close()
	}
	t.Cleanup(s.stop)
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, _, _ := s.do(t, "GET", "/readyz", "")
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still %d after 60 s", code)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s
}

// do sends a request; header pairs follow the body. Without an
// Authorization pair it sends the right token.
func (s *apiServer) do(t *testing.T, method, path, body string, header ...string) (int, http.Header, []byte) {
	t.Helper()
	code, h, b, err := s.send(http.DefaultClient, method, path, body, header...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return code, h, b
}

// send is do with a client of the caller's, returning transport errors.
func (s *apiServer) send(c *http.Client, method, path, body string, header ...string) (int, http.Header, []byte, error) {
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+apiTestToken)
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

// sql posts a query as JSON and decodes the answer.
func (s *apiServer) sql(t *testing.T, query string, maxRows int, header ...string) (int, http.Header, *sqlresult.Result, web.ErrorBody) {
	t.Helper()
	body, _ := json.Marshal(api.Request{SQL: query, MaxRows: maxRows})
	code, h, b := s.do(t, "POST", "/api/v1/sql", string(body), header...)
	var res sqlresult.Result
	var e web.ErrorBody
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if code == http.StatusOK {
		if err := dec.Decode(&res); err != nil {
			t.Fatalf("%s: decode %q: %v", query, b, err)
		}
		return code, h, &res, e
	}
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("%s: %d, decode error body %q: %v", query, code, b, err)
	}
	return code, h, nil, e
}

func (s *apiServer) count(t *testing.T, table string) string {
	t.Helper()
	code, _, res, e := s.sql(t, "SELECT count(*) FROM "+table, 0)
	if code != http.StatusOK {
		t.Fatalf("count %s: %d %+v", table, code, e)
	}
	return res.Rows[0][0].(json.Number).String()
}

func num(s string) json.Number { return json.Number(s) }

func TestSQLAPI(t *testing.T) {
	s := startAPIServer(t)

	t.Run("queries read the snapshot, not the warehouse", func(t *testing.T) {
		// The owner runs only Throughline's own SQL: it is not locked down,
		// so CSV imports take the bulk path inside serve too.
		if !s.p.db.CanLoadFiles(context.Background()) {
			t.Error("the serving warehouse cannot load files")
		}
		code, _, res, e := s.sql(t, "SELECT current_database() AS db", 0)
		if code != http.StatusOK || res.Rows[0][0] != "w" {
			t.Errorf("current_database(): %d %+v %+v", code, res, e)
		}
		if st, err := os.Stat(filepath.Join(s.dir, "w.snapshot.duckdb")); err != nil || st.Mode().Perm() != 0o444 {
			t.Errorf("snapshot file: %v %v", st, err)
		}
	})

	t.Run("auth", func(t *testing.T) {
		tests := []struct {
			name, auth string
			want       int
		}{
			{"no token", "", http.StatusUnauthorized},
			{"wrong token", "Bearer nope", http.StatusUnauthorized},
			{"not bearer", "Basic " + apiTestToken, http.StatusUnauthorized},
			{"right token", "Bearer " + apiTestToken, http.StatusOK},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				for _, path := range []string{"/api/v1/sql", "/api/v1/sync-runs"} {
					method, body := "GET", ""
					if path == "/api/v1/sql" {
						method, body = "POST", `{"sql": "SELECT 1"}`
					}
					code, h, b := s.do(t, method, path, body, "Authorization", tt.auth)
					if code != tt.want {
						t.Errorf("%s %s: %d %s, want %d", method, path, code, b, tt.want)
					}
					if tt.want == http.StatusUnauthorized && (!strings.Contains(string(b), `"code":"unauthorized"`) || h.Get("WWW-Authenticate") == "") {
						t.Errorf("%s %s: 401 body %s, WWW-Authenticate %q", method, path, b, h.Get("WWW-Authenticate"))
					}
				}
			})
		}
		// /metrics and the probes stay open.
		for _, path := range []string{"/metrics", "/healthz", "/readyz"} {
			if code, _, _ := s.do(t, "GET", path, "", "Authorization", ""); code != http.StatusOK {
				t.Errorf("%s without a token: %d", path, code)
			}
		}
	})

	workItems := s.count(t, "work_items")
	if workItems != "400" {
		t.Fatalf("work_items = %s, want 400", workItems)
	}

	t.Run("results", func(t *testing.T) {
		tests := []struct {
			name    string
			sql     string
			maxRows int
			want    sqlresult.Result
		}{
			{"count", "SELECT count(*) AS n FROM item_flow", 0, sqlresult.Result{
				Columns: cols("n", "BIGINT"), Rows: [][]any{{num("400")}}, RowCount: 1}},
			// Every type's value is warehouse TestQueryResults'; here, that
			// they survive the JSON wire.
			{"types over the wire", `SELECT 1.25::DECIMAL(5,2) AS dec, TIMESTAMPTZ '2026-03-02 10:30:00+00' AS ts, [1, 2] AS l, NULL AS n`, 0, sqlresult.Result{
				Columns: cols("dec", "DECIMAL(5,2)", "ts", "TIMESTAMPTZ", "l", "INTEGER[]", "n", "INTEGER"),
				Rows:    [][]any{{num("1.25"), "2026-03-02T10:30:00Z", []any{num("1"), num("2")}, nil}}, RowCount: 1}},
			{"order kept under the row limit", "SELECT x FROM range(10) t(x) ORDER BY x DESC", 3, sqlresult.Result{
				Columns: cols("x", "BIGINT"), Rows: [][]any{{num("9")}, {num("8")}, {num("7")}}, RowCount: 3, Truncated: true}},
			{"time zone setting", "SELECT current_setting('TimeZone') AS tz", 0, sqlresult.Result{
				Columns: cols("tz", "VARCHAR"), Rows: [][]any{{"Europe/Berlin"}}, RowCount: 1}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				code, h, res, e := s.sql(t, tt.sql, tt.maxRows)
				if code != http.StatusOK {
					t.Fatalf("%d %+v", code, e)
				}
				if d := cmp.Diff(&tt.want, res); d != "" {
					t.Errorf("result (-want +got):\n%s", d)
				}
				if got := h.Get("X-Throughline-Truncated"); got != map[bool]string{true: "true", false: "false"}[tt.want.Truncated] {
					t.Errorf("X-Throughline-Truncated = %q", got)
				}
			})
		}
	})

	t.Run("csv", func(t *testing.T) {
		code, h, b := s.do(t, "POST", "/api/v1/sql", `{"sql": "SELECT team, count(*) AS n FROM item_flow GROUP BY team ORDER BY team LIMIT 2"}`, "Accept", "text/csv")
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") || len(lines) != 3 || lines[0] != "team,n" {
			t.Errorf("csv: %d %q %q", code, h.Get("Content-Type"), b)
		}
		code, _, b = s.do(t, "POST", "/api/v1/sql", `SELECT count(*) AS n FROM item_flow`, "Accept", "text/csv", "Content-Type", "application/sql")
		if code != http.StatusOK || string(b) != "n\n400\n" {
			t.Errorf("csv of a raw SQL body: %d %q, want n,400", code, b)
		}
	})

	t.Run("default row limit", func(t *testing.T) {
		code, h, res, e := s.sql(t, "SELECT * FROM range(100005)", 0)
		if code != http.StatusOK || res.RowCount != api.DefaultMaxRows || len(res.Rows) != api.DefaultMaxRows || !res.Truncated || h.Get("X-Throughline-Truncated") != "true" {
			t.Errorf("%d %+v; want %d rows, truncated", code, e, api.DefaultMaxRows)
		}
	})

	t.Run("refused", func(t *testing.T) {
		dir := s.dir
		tests := []struct {
			name, sql string
			status    int
			code      string
			msg       string // part of the error
		}{
			{"read_csv", "SELECT * FROM read_csv('/etc/passwd')", 403, "forbidden", "read_csv"},
			{"copy", "COPY work_items TO '" + dir + "/x.csv'", 403, "read_only", "COPY statements are not allowed"},
			{"attach", "ATTACH '" + dir + "/y.duckdb' AS y", 403, "read_only", "ATTACH"},
			{"delete", "DELETE FROM work_items", 403, "read_only", "DELETE"},
			{"export", "EXPORT DATABASE '" + dir + "/z'", 403, "read_only", "EXPORT"},
			{"two selects", "SELECT 1; SELECT 2", 400, "bad_request", "2 statements"},
			{"syntax", "SELEC 1", 400, "parse", "syntax error"},
			{"settings", "SELECT * FROM duckdb_settings()", 403, "forbidden", "duckdb_settings"},
			{"unknown table", "SELECT * FROM no_such_table", 400, "bad_request", "no_such_table"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				code, _, _, e := s.sql(t, tt.sql, 0)
				if code != tt.status || e.Code != tt.code || !strings.Contains(e.Error, tt.msg) {
					t.Errorf("%s: %d %q %q; want %d %q containing %q", tt.sql, code, e.Code, e.Error, tt.status, tt.code, tt.msg)
				}
			})
		}
		if got := s.count(t, "work_items"); got != workItems {
			t.Errorf("work_items = %s after the refused statements, want %s", got, workItems)
		}
		if got := s.count(t, "teams"); got == "0" {
			t.Error("teams is empty")
		}
		for _, f := range []string{"x.csv", "y.duckdb", "z"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
				t.Errorf("%s was created", f)
			}
		}
	})

	t.Run("not acceptable", func(t *testing.T) {
		code, _, b := s.do(t, "POST", "/api/v1/sql", `{"sql": "SELECT 1"}`, "Accept", "image/png")
		if code != http.StatusNotAcceptable || !strings.Contains(string(b), "application/vnd.apache.arrow.stream") {
			t.Errorf("image/png: %d %s", code, b)
		}
		code, _, b = s.do(t, "POST", "/api/v1/sql", `{"sql": 1}`)
		if code != http.StatusBadRequest || !strings.Contains(string(b), `"code":"bad_request"`) {
			t.Errorf("bad body: %d %s", code, b)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		start := time.Now()
		code, _, _, e := s.sql(t, "SELECT count(*) FROM range(1000000000) a, range(1000) b", 0)
		if code != http.StatusGatewayTimeout || e.Code != "timeout" {
			t.Errorf("slow query: %d %+v; want 504 timeout", code, e)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("slow query took %s with a 1 s time-out", d)
		}
		if got := s.count(t, "item_flow"); got != "400" {
			t.Errorf("after the time-out: item_flow = %s, want 400", got)
		}
	})

	t.Run("sync runs and trigger", func(t *testing.T) {
		runs := func() []warehouse.SyncRun {
			code, _, b := s.do(t, "GET", "/api/v1/sync-runs", "")
			var rs []warehouse.SyncRun
			if code != http.StatusOK || json.Unmarshal(b, &rs) != nil {
				t.Fatalf("sync-runs: %d %s", code, b)
			}
			return rs
		}
		before := runs()
		if len(before) != 1 || before[0].SourceID != "demo-csv" || before[0].Status != "ok" || before[0].FinishedAt == nil {
			t.Fatalf("sync runs after startup: %+v", before)
		}
		// The SQL token reads; only the admin token starts a sync.
		if code, _, b := s.do(t, "POST", "/api/v1/sync", ""); code != http.StatusForbidden || !strings.Contains(string(b), "admin token") {
			t.Errorf("POST /api/v1/sync with the SQL token: %d %s; want 403", code, b)
		}
		if code, _, b := s.do(t, "POST", "/api/v1/sync", "", "Authorization", ""); code != http.StatusUnauthorized {
			t.Errorf("POST /api/v1/sync without a token: %d %s; want 401", code, b)
		}
		admin := []string{"Authorization", "Bearer " + apiTestAdminToken}
		if code, _, b := s.do(t, "POST", "/api/v1/sync", "", admin...); code != http.StatusAccepted {
			t.Fatalf("POST /api/v1/sync: %d %s", code, b)
		}
		// Rate-limited: the next trigger within server.sync_min_interval (30s).
		if code, h, b := s.do(t, "POST", "/api/v1/sync", "", admin...); code != http.StatusTooManyRequests || h.Get("Retry-After") == "" {
			t.Errorf("second POST /api/v1/sync: %d %s, Retry-After %q; want 429", code, b, h.Get("Retry-After"))
		}
		// The admin token reads too.
		if code, _, b := s.do(t, "GET", "/api/v1/sync-runs", "", admin...); code != http.StatusOK {
			t.Errorf("sync-runs with the admin token: %d %s", code, b)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			rs := runs()
			if len(rs) == 2 && rs[0].Status == "ok" && rs[0].RunID > before[0].RunID {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no second finished run within 30 s: %+v", rs)
			}
			time.Sleep(50 * time.Millisecond)
		}
		// The compute after it publishes a new snapshot.
		for s.count(t, "sync_runs") != "2" {
			if time.Now().After(deadline) {
				t.Fatal("the SQL API does not see the second run within 30 s")
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	t.Run("cli through the server and through the file", func(t *testing.T) {
		q := "SELECT team, count(*) AS n, round(avg(flow_days), 3) AS avg_days FROM item_flow GROUP BY team ORDER BY team"
		formats := []string{"csv", "json", "table"}
		viaServer := map[string]string{}
		for _, f := range formats {
			code, out, errs := runCmd(t, "sql", "--config", s.cfgPath, "--format", f, q)
			if code != 0 {
				t.Fatalf("sql --format %s via the server: exit %d %s", f, code, errs)
			}
			viaServer[f] = out
		}
		// Debug logging says when the CLI falls back to the file: it must not.
		if code, out, errs := runCmd(t, "sql", "--config", s.cfgPath, "--log-level", "debug", "--format", "csv", "SELECT count(*) AS n FROM item_flow"); code != 0 || out != "n\n400\n" || errs != "" {
			t.Errorf("count via the server: exit %d %q, stderr %q", code, out, errs)
		}
		code, _, errs := runCmd(t, "sql", "--config", s.cfgPath, "COPY work_items TO '"+s.dir+"/cli.csv'")
		if code != exitRuntime || !strings.Contains(errs, "COPY statements are not allowed") {
			t.Errorf("refused via the server: exit %d %q", code, errs)
		}
		t.Setenv("TL_API_TEST_TOKEN", "wrong")
		if code, _, errs := runCmd(t, "sql", "--config", s.cfgPath, "SELECT 1"); code != exitRuntime || !strings.Contains(errs, "export TL_API_TEST_TOKEN") {
			t.Errorf("wrong token: exit %d %q", code, errs)
		}

		s.stop() // the file is free: the same command reads it
		for _, f := range formats {
			code, out, errs := runCmd(t, "sql", "--config", s.cfgPath, "--format", f, q)
			if code != 0 {
				t.Fatalf("sql --format %s via the file: exit %d %s", f, code, errs)
			}
			if d := cmp.Diff(viaServer[f], out); d != "" {
				t.Errorf("--format %s: server and file differ (-server +file):\n%s", f, d)
			}
		}
		code, _, errs = runCmd(t, "sql", "--config", s.cfgPath, "SELECT * FROM read_csv('/etc/passwd')")
		if code != exitRuntime || !strings.Contains(errs, "read_csv is not allowed") {
			t.Errorf("refused via the file: exit %d %q", code, errs)
		}
	})
}

// cols lists columns as name, type pairs.
func cols(nameType ...string) []sqlresult.Column {
	var cs []sqlresult.Column
	for i := 0; i+1 < len(nameType); i += 2 {
		cs = append(cs, sqlresult.Column{Name: nameType[i], Type: nameType[i+1]})
	}
	return cs
}
