package warehouse_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/throughline/throughline/internal/sqlresult"
	"github.com/throughline/throughline/warehouse"
	"github.com/throughline/throughline/warehouse/warehousetest"
)

// guarded is a locked-down in-memory warehouse with a guard.
type guarded struct {
	db    *warehouse.DB
	guard *warehouse.Guard
}

func openGuarded(t *testing.T) *guarded {
	t.Helper()
	ctx := context.Background()
	db := warehousetest.Open(t, "Europe/Berlin")
	if _, err := db.ExecContext(ctx, `INSERT INTO teams (team_id, name, wip_limit, sle_days) VALUES ('platform', 'platform', 8, 10), ('mobile', 'mobile', 5, 12)`); err != nil {
		t.Fatal(err)
	}
	if err := db.Lockdown(ctx); err != nil {
		t.Fatal(err)
	}
	g, err := warehouse.NewGuard(ctx, db.DB)
	if err != nil {
		t.Fatal(err)
	}
	return &guarded{db: db, guard: g}
}

// query runs one untrusted statement with a row limit and collects it.
func (g *guarded) query(ctx context.Context, t *testing.T, query string, maxRows int) (*sqlresult.Result, error) {
	t.Helper()
	c, err := g.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var col sqlresult.Collector
	lim := sqlresult.Limit(sqlresult.Limits{MaxRows: maxRows}, &col)
	if err := g.guard.Query(ctx, c, query, maxRows, lim); err != nil {
		return nil, err
	}
	col.Result.Truncated = lim.Truncated()
	return &col.Result, nil
}

func num(s string) json.Number { return json.Number(s) }

func TestQueryResults(t *testing.T) {
	g := openGuarded(t)
	tests := []struct {
		name    string
		sql     string
		maxRows int
		want    sqlresult.Result
	}{
		{"count", "SELECT count(*) AS n FROM teams", 0, sqlresult.Result{
			Columns: cols("n", "BIGINT"), Rows: [][]any{{num("2")}}, RowCount: 1}},
		{"types", `SELECT 1::INTEGER AS i, 2.5::DOUBLE AS d, 1.25::DECIMAL(5,2) AS dec, 'x' AS s, true AS b, NULL::VARCHAR AS n,
			DATE '2026-03-02' AS day, TIMESTAMPTZ '2026-03-02 10:30:00+00' AS ts, [1, 2] AS l, {'k': 'v'} AS st,
			INTERVAL 36 HOUR AS iv, 12345678901234567890::HUGEINT AS h`, 0, sqlresult.Result{
			Columns: cols("i", "INTEGER", "d", "DOUBLE", "dec", "DECIMAL(5,2)", "s", "VARCHAR", "b", "BOOLEAN", "n", "VARCHAR", "day", "DATE", "ts", "TIMESTAMPTZ", "l", "INTEGER[]", "st", `STRUCT("k" VARCHAR)`, "iv", "INTERVAL", "h", "HUGEINT"),
			Rows: [][]any{{num("1"), num("2.5"), num("1.25"), "x", true, nil, "2026-03-02", "2026-03-02T10:30:00Z",
				[]any{num("1"), num("2")}, map[string]any{"k": "v"}, "PT129600S", num("12345678901234567890")}},
			RowCount: 1}},
		{"more types", `SELECT '6ba7b810-9dad-11d1-80b4-00c04fd430c8'::UUID AS u, 'a\xAA'::BLOB AS b, [DATE '2024-01-02'] AS ld,
			MAP {'k': 1} AS m, 'NaN'::DOUBLE AS nan, TIME '10:11:12' AS t, TIMESTAMP '2024-01-01 10:00:00' AS ts, 1.5::FLOAT AS f`, 0, sqlresult.Result{
			Columns: cols("u", "UUID", "b", "BLOB", "ld", "DATE[]", "m", "MAP(VARCHAR, INTEGER)", "nan", "DOUBLE", "t", "TIME", "ts", "TIMESTAMP", "f", "FLOAT"),
			Rows: [][]any{{"6ba7b810-9dad-11d1-80b4-00c04fd430c8", `a\xAA`, []any{"2024-01-02"}, []any{map[string]any{"key": "k", "value": num("1")}},
				"NaN", "10:11:12", "2024-01-01T10:00:00", num("1.5")}},
			RowCount: 1}},
		{"order kept under the row limit", "SELECT x FROM range(10) t(x) ORDER BY x DESC", 3, sqlresult.Result{
			Columns: cols("x", "BIGINT"), Rows: [][]any{{num("9")}, {num("8")}, {num("7")}}, RowCount: 3, Truncated: true}},
		{"exactly the row limit", "SELECT x FROM range(3) t(x) ORDER BY x", 3, sqlresult.Result{
			Columns: cols("x", "BIGINT"), Rows: [][]any{{num("0")}, {num("1")}, {num("2")}}, RowCount: 3}},
		{"trailing semicolon and comment", "SELECT 42 AS answer; -- the answer", 0, sqlresult.Result{
			Columns: cols("answer", "INTEGER"), Rows: [][]any{{num("42")}}, RowCount: 1}},
		{"with and values", "WITH v(a) AS (VALUES (1), (2)) SELECT sum(a) AS s FROM v", 0, sqlresult.Result{
			Columns: cols("s", "HUGEINT"), Rows: [][]any{{num("3")}}, RowCount: 1}},
		{"cte named like a table function", "WITH summary AS (SELECT 1 AS x) SELECT x FROM summary", 0, sqlresult.Result{
			Columns: cols("x", "INTEGER"), Rows: [][]any{{num("1")}}, RowCount: 1}},
		{"time zone setting", "SELECT current_setting('TimeZone') AS tz", 0, sqlresult.Result{
			Columns: cols("tz", "VARCHAR"), Rows: [][]any{{"Europe/Berlin"}}, RowCount: 1}},
		{"qualified names", "SELECT (SELECT count(*) FROM memory.main.teams) + (SELECT count(*) FROM main.teams) + (SELECT count(*) FROM memory.teams) AS n", 0, sqlresult.Result{
			Columns: cols("n", "BIGINT"), Rows: [][]any{{num("6")}}, RowCount: 1}},
		{"harmless macros", "SELECT pg_typeof(1) AS t, list_histogram([1, 1, 2]) AS h", 0, sqlresult.Result{
			Columns: cols("t", "VARCHAR", "h", "MAP(INTEGER, UBIGINT)"), Rows: [][]any{{"integer", []any{map[string]any{"key": num("1"), "value": num("2")}, map[string]any{"key": num("2"), "value": num("1")}}}}, RowCount: 1}},
		{"catalogue", "SELECT column_name FROM duckdb_columns() WHERE table_name = 'teams' AND column_name = 'wip_limit'", 0, sqlresult.Result{
			Columns: cols("column_name", "VARCHAR"), Rows: [][]any{{"wip_limit"}}, RowCount: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := g.query(context.Background(), t, tt.sql, tt.maxRows)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(&tt.want, res); d != "" {
				t.Errorf("result (-want +got):\n%s", d)
			}
		})
	}
}

func TestQueryRefuses(t *testing.T) {
	g := openGuarded(t)
	dir := t.TempDir()
	tests := []struct {
		name, sql string
		code      string
		msg       string // part of the error
	}{
		{"read_csv", "SELECT * FROM read_csv('/etc/passwd')", "forbidden", "read_csv"},
		{"read_text", "SELECT * FROM read_text('/etc/passwd')", "forbidden", "read_text"},
		{"file as table", "SELECT * FROM '/etc/passwd'", "forbidden", "reading files"},
		{"nested read_parquet", "SELECT * FROM (SELECT * FROM read_parquet('" + dir + "/w.duckdb')) x", "forbidden", "read_parquet"},
		{"glob", "SELECT * FROM glob('/etc/*')", "forbidden", "glob"},
		{"copy", "COPY work_items TO '" + dir + "/x.csv'", "read_only", "COPY statements are not allowed"},
		{"copy select", "COPY (SELECT 1) TO '" + dir + "/x2.csv'", "read_only", "COPY"},
		{"attach", "ATTACH '" + dir + "/y.duckdb' AS y", "read_only", "ATTACH"},
		{"install", "INSTALL httpfs", "read_only", "INSTALL"},
		{"load", "LOAD httpfs", "read_only", "LOAD"},
		{"set", "SET memory_limit='1GB'", "read_only", "SET"},
		{"set global", "SET GLOBAL enable_external_access = true", "read_only", "SET"},
		{"reset", "RESET TimeZone", "read_only", "RESET"},
		{"pragma", "PRAGMA database_list", "read_only", "PRAGMA"},
		{"pragma view", "SELECT * FROM pragma_database_list", "forbidden", "pragma_database_list"},
		{"call", "CALL pragma_version()", "read_only", "CALL"},
		{"create", "CREATE TABLE t(x int)", "read_only", "CREATE"},
		{"create macro", "CREATE MACRO m(x) AS x", "read_only", "CREATE"},
		{"drop", "DROP TABLE work_items", "read_only", "DROP"},
		{"delete", "DELETE FROM work_items", "read_only", "DELETE"},
		{"update", "UPDATE work_items SET title = 'x'", "read_only", "UPDATE"},
		{"insert", "INSERT INTO teams VALUES ('t', 't', 1, 1)", "read_only", "INSERT"},
		{"cte insert", "WITH a AS (SELECT 1) INSERT INTO teams SELECT 't', 't', 1, 1", "read_only", "not allowed"},
		{"export", "EXPORT DATABASE '" + dir + "/z'", "read_only", "EXPORT"},
		{"checkpoint statement", "CHECKPOINT", "read_only", "CHECKPOINT"},
		{"begin", "BEGIN TRANSACTION", "read_only", "BEGIN"},
		{"detach", "DETACH w", "read_only", "DETACH"},
		{"explain analyze", "EXPLAIN ANALYZE SELECT 1", "read_only", "EXPLAIN"},
		{"two selects", "SELECT 1; SELECT 2", "bad_request", "2 statements"},
		{"select then drop", "SELECT 1; DROP TABLE work_items", "read_only", "not allowed"},
		{"syntax", "SELEC 1", "parse", "syntax error"},
		{"empty", "  -- nothing\n", "bad_request", "empty"},
		{"secrets", "SELECT * FROM duckdb_secrets()", "forbidden", "duckdb_secrets"},
		{"which_secret", "SELECT * FROM which_secret('s3://b/x', 's3')", "forbidden", "which_secret"},
		{"settings", "SELECT * FROM duckdb_settings()", "forbidden", "duckdb_settings"},
		{"settings without parentheses", "SELECT * FROM duckdb_settings", "forbidden", "duckdb_settings"},
		{"pg_settings view", "SELECT * FROM pg_catalog.pg_settings", "forbidden", "pg_settings"},
		{"databases view", "SELECT path FROM duckdb_databases", "forbidden", "duckdb_databases"},
		// Internal views no static list names, refused because their
		// definitions call refused table functions (NewGuard's scan).
		{"internal view over a refused function", "SELECT * FROM pg_catalog.pg_depend", "forbidden", "pg_depend"},
		{"internal view over prepared statements", "SELECT * FROM pg_catalog.pg_prepared_statements", "forbidden", "pg_prepared_statements"},
		{"extensions", "SELECT * FROM duckdb_extensions()", "forbidden", "duckdb_extensions"},
		{"getenv", "SELECT getenv('HOME')", "forbidden", "getenv"},
		{"current_setting of a path", "SELECT current_setting('temp_directory')", "forbidden", "current_setting"},
		{"current_setting computed", "SELECT current_setting(lower('TIMEZONE'))", "forbidden", "current_setting"},
		{"current_setting in a cte", "WITH s AS (SELECT current_setting('home_directory') AS h) SELECT h FROM s", "forbidden", "current_setting"},
		{"getvariable", "SELECT getvariable('x')", "forbidden", "getvariable"},
		{"query from a string", "SELECT * FROM query('SELECT * FROM duckdb_settings()')", "forbidden", "query"},
		{"serialized sql", "SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT 1'))", "forbidden", "json_execute_serialized_sql"},
		{"checkpoint function", "SELECT * FROM checkpoint()", "forbidden", "checkpoint"},
		{"enable_logging", "SELECT * FROM enable_logging()", "forbidden", "enable_logging"},
		{"nextval", "SELECT nextval('sync_run_ids')", "forbidden", "nextval"},
		{"summarize a file", "SUMMARIZE SELECT * FROM read_csv('/etc/passwd')", "forbidden", "read_csv"},
		{"unknown table", "SELECT * FROM no_such_table", "bad_request", "no_such_table"},
		// Issue #16: state, sleep, file names in qualified names, macros, parameters.
		{"setseed", "SELECT setseed(0.42)", "forbidden", "setseed"},
		{"sleep_ms", "SELECT sleep_ms(10)", "forbidden", "sleep_ms"},
		{"pg_sleep (a macro)", "SELECT pg_sleep(0.01)", "forbidden", "pg_sleep"},
		{"write_log", "SELECT write_log('x')", "forbidden", "write_log"},
		{"currval", "SELECT currval('sync_run_ids')", "forbidden", "currval"},
		{"plan from a string", "SELECT json_serialize_plan('SELECT * FROM read_csv(''/etc/passwd'')')", "forbidden", "json_serialize_plan"},
		{"macro over a refused table function", "SELECT get_block_size('memory')", "forbidden", "get_block_size"},
		{"schema-qualified csv", `SELECT * FROM "` + dir + `/items".csv`, "forbidden", "reading files"},
		{"schema-qualified parquet", `SELECT * FROM "` + dir + `/items".parquet`, "forbidden", "reading files"},
		{"schema-qualified json", `SELECT * FROM "` + dir + `/items".json`, "forbidden", "reading files"},
		{"schema-qualified duckdb", `SELECT * FROM "` + dir + `/w".duckdb`, "forbidden", "reading files"},
		{"catalog-qualified file", `SELECT * FROM "` + dir + `".items.csv`, "forbidden", "reading files"},
		{"relative file as schema.table", "SELECT * FROM items.csv", "forbidden", "no such schema"},
		{"unknown catalog", "SELECT * FROM elsewhere.main.teams", "forbidden", "no such schema"},
		{"parameter $1", "SELECT $1", "bad_request", "parameters"},
		{"parameter ?", "SELECT ?", "bad_request", "parameters"},
		{"named parameter", "SELECT $x", "bad_request", "parameters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := g.query(context.Background(), t, tt.sql, 0)
			var qe *warehouse.QueryError
			if !errors.As(err, &qe) || qe.Code != tt.code || !strings.Contains(qe.Msg, tt.msg) {
				t.Errorf("%s: %v; want a %q error containing %q", tt.sql, err, tt.code, tt.msg)
			}
		})
	}
	var n int
	if err := g.db.QueryRow("SELECT count(*) FROM teams").Scan(&n); err != nil || n != 2 {
		t.Errorf("teams after the refused statements: %d rows (%v), want 2", n, err)
	}
	for _, f := range []string{"x.csv", "x2.csv", "y.duckdb", "z"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s was created", f)
		}
	}
}

func TestQueryErrorsAreCleaned(t *testing.T) {
	g := openGuarded(t)
	// An internal error (C++ assertion, stack trace) is not the client's:
	// it is not a QueryError, so the API answers 500 with an id.
	_, err := g.query(context.Background(), t, "SELECT * FROM repeat_row(1, num_rows := -1)", 0)
	var qe *warehouse.QueryError
	if err == nil || errors.As(err, &qe) {
		t.Errorf("repeat_row(num_rows := -1): %v; want an internal error", err)
	}
	tests := []struct{ in, want string }{
		{"Binder Error: x\n\nStack Trace:\n\n/usr/bin/throughline(duckdb::Exception) [0x1]\n", "Binder Error: x"},
		{"IO Error: Cannot open file \"/var/lib/throughline/w.duckdb\": denied", "IO Error: Cannot open file \"<path>\": denied"},
		{"Conversion Error: Could not convert string '1/2' to INT32", "Conversion Error: Could not convert string '1/2' to INT32"},
	}
	for _, tt := range tests {
		if got := warehouse.CleanMessage(tt.in); got != tt.want {
			t.Errorf("CleanMessage(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestQueryTimeout(t *testing.T) {
	g := openGuarded(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := g.query(ctx, t, "SELECT count(*) FROM range(1000000000) a, range(1000) b", 0)
	var qe *warehouse.QueryError
	if !errors.As(err, &qe) || qe.Code != warehouse.CodeTimeout {
		t.Errorf("slow query: %v; want a timeout", err)
	}
	if _, err := g.query(context.Background(), t, "SELECT 1", 0); err != nil {
		t.Errorf("after the time-out: %v", err)
	}
}

// cols lists columns as name, type pairs.
func cols(nameType ...string) []sqlresult.Column {
	var cs []sqlresult.Column
	for i := 0; i+1 < len(nameType); i += 2 {
		cs = append(cs, sqlresult.Column{Name: nameType[i], Type: nameType[i+1]})
	}
	return cs
}

func TestQueryRowLimitHoldsAfterAComment(t *testing.T) {
	g := openGuarded(t)
	// The trailing comment once defeated the LIMIT wrapper and a billion
	// rows were materialized (issue #16, finding 3).
	for _, q := range []string{
		"SELECT x FROM range(1000000000) t(x); -- c",
		"SELECT x FROM range(1000000000) t(x) /* a /* nested */ comment */ ;",
		"SELECT x, '--;' AS s, $$ ; -- $$ AS d FROM range(1000000000) t(x);\n-- done",
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		res, err := g.query(ctx, t, q, 3)
		cancel()
		if err != nil || res.RowCount != 3 || !res.Truncated {
			t.Errorf("%q: %v, %+v; want 3 rows, truncated", q, err, res)
		}
	}
}
