package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/throughline/throughline/internal/config"
	"github.com/throughline/throughline/internal/demo"
)

const apiTestToken = "t0ken-for-tests"

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
		"sql_token_env: THROUGHLINE_SQL_TOKEN}": "sql_token_env: TL_API_TEST_TOKEN, sql_timeout: 1s}",
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
	ctx, cancel := context.WithCancel(context.Background())
	db, err := openWarehouse(ctx, cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	p := newPipeline(cfg, db, slog.New(slog.DiscardHandler))
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
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+apiTestToken)
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// sql posts a query as JSON and decodes the answer.
func (s *apiServer) sql(t *testing.T, query string, maxRows int, header ...string) (int, http.Header, *queryResult, apiError) {
	t.Helper()
	body, _ := json.Marshal(sqlRequest{SQL: query, MaxRows: maxRows})
	code, h, b := s.do(t, "POST", "/api/v1/sql", string(body), header...)
	var res queryResult
	var e apiError
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

	t.Run("lockdown in effect", func(t *testing.T) {
		var external, locked bool
		err := s.p.db.QueryRow("SELECT current_setting('enable_external_access'), current_setting('lock_configuration')").Scan(&external, &locked)
		if err != nil || external || !locked {
			t.Errorf("enable_external_access=%v lock_configuration=%v (%v); want false, true", external, locked, err)
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
			want    queryResult
		}{
			{"count", "SELECT count(*) AS n FROM item_flow", 0, queryResult{
				Columns: []resultColumn{{"n", "BIGINT"}}, Rows: [][]any{{num("400")}}, RowCount: 1}},
			{"types", `SELECT 1::INTEGER AS i, 2.5::DOUBLE AS d, 1.25::DECIMAL(5,2) AS dec, 'x' AS s, true AS b, NULL::VARCHAR AS n,
				DATE '2026-03-02' AS day, TIMESTAMPTZ '2026-03-02 10:30:00+00' AS ts, [1, 2] AS l, {'k': 'v'} AS st,
				INTERVAL 36 HOUR AS iv, 12345678901234567890::HUGEINT AS h`, 0, queryResult{
				Columns: []resultColumn{{"i", "INTEGER"}, {"d", "DOUBLE"}, {"dec", "DECIMAL(5,2)"}, {"s", "VARCHAR"}, {"b", "BOOLEAN"},
					{"n", "VARCHAR"}, {"day", "DATE"}, {"ts", "TIMESTAMPTZ"}, {"l", "INTEGER[]"}, {"st", `STRUCT("k" VARCHAR)`},
					{"iv", "INTERVAL"}, {"h", "HUGEINT"}},
				Rows: [][]any{{num("1"), num("2.5"), num("1.25"), "x", true, nil, "2026-03-02", "2026-03-02T10:30:00Z",
					[]any{num("1"), num("2")}, map[string]any{"k": "v"}, "PT129600S", num("12345678901234567890")}},
				RowCount: 1}},
			{"more types", `SELECT '6ba7b810-9dad-11d1-80b4-00c04fd430c8'::UUID AS u, 'a\xAA'::BLOB AS b, [DATE '2024-01-02'] AS ld,
				MAP {'k': 1} AS m, 'NaN'::DOUBLE AS nan, TIME '10:11:12' AS t, TIMESTAMP '2024-01-01 10:00:00' AS ts, 1.5::FLOAT AS f`, 0, queryResult{
				Columns: []resultColumn{{"u", "UUID"}, {"b", "BLOB"}, {"ld", "DATE[]"}, {"m", "MAP(VARCHAR, INTEGER)"}, {"nan", "DOUBLE"},
					{"t", "TIME"}, {"ts", "TIMESTAMP"}, {"f", "FLOAT"}},
				Rows: [][]any{{"6ba7b810-9dad-11d1-80b4-00c04fd430c8", `a\xAA`, []any{"2024-01-02"}, []any{map[string]any{"key": "k", "value": num("1")}},
					"NaN", "10:11:12", "2024-01-01T10:00:00", num("1.5")}},
				RowCount: 1}},
			{"order kept under the row limit", "SELECT x FROM range(10) t(x) ORDER BY x DESC", 3, queryResult{
				Columns: []resultColumn{{"x", "BIGINT"}}, Rows: [][]any{{num("9")}, {num("8")}, {num("7")}}, RowCount: 3, Truncated: true}},
			{"trailing semicolon and comment", "SELECT 42 AS answer; -- the answer", 0, queryResult{
				Columns: []resultColumn{{"answer", "INTEGER"}}, Rows: [][]any{{num("42")}}, RowCount: 1}},
			{"with and values", "WITH v(a) AS (VALUES (1), (2)) SELECT sum(a) AS s FROM v", 0, queryResult{
				Columns: []resultColumn{{"s", "HUGEINT"}}, Rows: [][]any{{num("3")}}, RowCount: 1}},
			{"cte named like a table function", "WITH summary AS (SELECT 1 AS x) SELECT x FROM summary", 0, queryResult{
				Columns: []resultColumn{{"x", "INTEGER"}}, Rows: [][]any{{num("1")}}, RowCount: 1}},
			{"time zone setting", "SELECT current_setting('TimeZone') AS tz", 0, queryResult{
				Columns: []resultColumn{{"tz", "VARCHAR"}}, Rows: [][]any{{"Europe/Berlin"}}, RowCount: 1}},
			{"catalogue", "SELECT column_name FROM duckdb_columns() WHERE table_name = 'teams' AND column_name = 'wip_limit'", 0, queryResult{
				Columns: []resultColumn{{"column_name", "VARCHAR"}}, Rows: [][]any{{"wip_limit"}}, RowCount: 1}},
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
		if code != http.StatusOK || res.RowCount != sqlMaxRows || len(res.Rows) != sqlMaxRows || !res.Truncated || h.Get("X-Throughline-Truncated") != "true" {
			t.Errorf("%d %+v; want %d rows, truncated", code, e, sqlMaxRows)
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
			{"read_text", "SELECT * FROM read_text('/etc/passwd')", 403, "forbidden", "read_text"},
			{"file as table", "SELECT * FROM '/etc/passwd'", 403, "forbidden", "reading files"},
			{"nested read_parquet", "SELECT * FROM (SELECT * FROM read_parquet('" + dir + "/w.duckdb')) x", 403, "forbidden", "read_parquet"},
			{"glob", "SELECT * FROM glob('/etc/*')", 403, "forbidden", "glob"},
			{"copy", "COPY work_items TO '" + dir + "/x.csv'", 403, "read_only", "COPY statements are not allowed"},
			{"copy select", "COPY (SELECT 1) TO '" + dir + "/x2.csv'", 403, "read_only", "COPY"},
			{"attach", "ATTACH '" + dir + "/y.duckdb' AS y", 403, "read_only", "ATTACH"},
			{"install", "INSTALL httpfs", 403, "read_only", "INSTALL"},
			{"load", "LOAD httpfs", 403, "read_only", "LOAD"},
			{"set", "SET memory_limit='1GB'", 403, "read_only", "SET"},
			{"set global", "SET GLOBAL enable_external_access = true", 403, "read_only", "SET"},
			{"reset", "RESET TimeZone", 403, "read_only", "RESET"},
			{"pragma", "PRAGMA database_list", 403, "read_only", "PRAGMA"},
			{"pragma view", "SELECT * FROM pragma_database_list", 403, "forbidden", "pragma_database_list"},
			{"call", "CALL pragma_version()", 403, "read_only", "CALL"},
			{"create", "CREATE TABLE t(x int)", 403, "read_only", "CREATE"},
			{"create macro", "CREATE MACRO m(x) AS x", 403, "read_only", "CREATE"},
			{"drop", "DROP TABLE work_items", 403, "read_only", "DROP"},
			{"delete", "DELETE FROM work_items", 403, "read_only", "DELETE"},
			{"update", "UPDATE work_items SET title = 'x'", 403, "read_only", "UPDATE"},
			{"insert", "INSERT INTO teams VALUES ('t', 't', 1, 1)", 403, "read_only", "INSERT"},
			{"cte insert", "WITH a AS (SELECT 1) INSERT INTO teams SELECT 't', 't', 1, 1", 403, "read_only", "not allowed"},
			{"export", "EXPORT DATABASE '" + dir + "/z'", 403, "read_only", "EXPORT"},
			{"checkpoint statement", "CHECKPOINT", 403, "read_only", "CHECKPOINT"},
			{"begin", "BEGIN TRANSACTION", 403, "read_only", "BEGIN"},
			{"detach", "DETACH w", 403, "read_only", "DETACH"},
			{"explain analyze", "EXPLAIN ANALYZE SELECT 1", 403, "read_only", "EXPLAIN"},
			{"two selects", "SELECT 1; SELECT 2", 400, "bad_request", "2 statements"},
			{"select then drop", "SELECT 1; DROP TABLE work_items", 403, "read_only", "not allowed"},
			{"syntax", "SELEC 1", 400, "parse", "syntax error"},
			{"empty", "  -- nothing\n", 400, "bad_request", "empty"},
			{"secrets", "SELECT * FROM duckdb_secrets()", 403, "forbidden", "duckdb_secrets"},
			{"which_secret", "SELECT * FROM which_secret('s3://b/x', 's3')", 403, "forbidden", "which_secret"},
			{"settings", "SELECT * FROM duckdb_settings()", 403, "forbidden", "duckdb_settings"},
			{"settings without parentheses", "SELECT * FROM duckdb_settings", 403, "forbidden", "duckdb_settings"},
			{"pg_settings view", "SELECT * FROM pg_catalog.pg_settings", 403, "forbidden", "pg_settings"},
			{"databases view", "SELECT path FROM duckdb_databases", 403, "forbidden", "duckdb_databases"},
			{"extensions", "SELECT * FROM duckdb_extensions()", 403, "forbidden", "duckdb_extensions"},
			{"getenv", "SELECT getenv('HOME')", 403, "forbidden", "getenv"},
			{"current_setting of a path", "SELECT current_setting('temp_directory')", 403, "forbidden", "current_setting"},
			{"current_setting computed", "SELECT current_setting(lower('TIMEZONE'))", 403, "forbidden", "current_setting"},
			{"current_setting in a cte", "WITH s AS (SELECT current_setting('home_directory') AS h) SELECT h FROM s", 403, "forbidden", "current_setting"},
			{"getvariable", "SELECT getvariable('x')", 403, "forbidden", "getvariable"},
			{"query from a string", "SELECT * FROM query('SELECT * FROM duckdb_settings()')", 403, "forbidden", "query"},
			{"serialized sql", "SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT 1'))", 403, "forbidden", "json_execute_serialized_sql"},
			{"checkpoint function", "SELECT * FROM checkpoint()", 403, "forbidden", "checkpoint"},
			{"enable_logging", "SELECT * FROM enable_logging()", 403, "forbidden", "enable_logging"},
			{"nextval", "SELECT nextval('sync_run_ids')", 403, "forbidden", "nextval"},
			{"summarize a file", "SUMMARIZE SELECT * FROM read_csv('/etc/passwd')", 403, "forbidden", "read_csv"},
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
		for _, f := range []string{"x.csv", "x2.csv", "y.duckdb", "z"} {
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
		runs := func() []syncRun {
			code, _, b := s.do(t, "GET", "/api/v1/sync-runs", "")
			var rs []syncRun
			if code != http.StatusOK || json.Unmarshal(b, &rs) != nil {
				t.Fatalf("sync-runs: %d %s", code, b)
			}
			return rs
		}
		before := runs()
		if len(before) != 1 || before[0].SourceID != "demo-csv" || before[0].Status != "ok" || before[0].FinishedAt == nil {
			t.Fatalf("sync runs after startup: %+v", before)
		}
		if code, _, b := s.do(t, "POST", "/api/v1/sync", ""); code != http.StatusAccepted {
			t.Fatalf("POST /api/v1/sync: %d %s", code, b)
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

func TestSyncTriggerConflict(t *testing.T) {
	a := &sqlAPI{trigger: func() bool { return false }, logger: slog.New(slog.DiscardHandler)}
	mux := http.NewServeMux()
	a.register(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/sync", nil))
	var e apiError
	json.Unmarshal(rec.Body.Bytes(), &e)
	if rec.Code != http.StatusConflict || e.Code != "conflict" {
		t.Errorf("busy writer: %d %+v; want 409 conflict", rec.Code, e)
	}
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		accept, want string
		status       int
	}{
		{"", mediaJSON, 0},
		{"*/*", mediaJSON, 0},
		{"text/csv", mediaCSV, 0},
		{"text/csv;q=0.9, application/json", mediaCSV, 0},
		{"application/json; charset=utf-8", mediaJSON, 0},
		{"application/vnd.apache.parquet", mediaParquet, 0},
		{"application/x-parquet", mediaParquet, 0},
		{"application/vnd.apache.arrow.stream, application/json;q=0.5", mediaArrow, 0},
		{"application/vnd.apache.arrow.stream;q=0", "", http.StatusNotAcceptable},
		{"image/png", "", http.StatusNotAcceptable},
	}
	for _, tt := range tests {
		got, err := negotiate(tt.accept)
		status := 0
		if qe, ok := err.(*queryError); ok {
			status = qe.Status
		}
		if got != tt.want || status != tt.status {
			t.Errorf("negotiate(%q) = %q, %v; want %q, %d", tt.accept, got, err, tt.want, tt.status)
		}
	}
}
