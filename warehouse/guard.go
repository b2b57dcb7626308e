package warehouse

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
)

// Untrusted SQL (the SQL API's workers, `throughline sql`) passes these
// defences, each enough on its own for the attacks it names:
//
//  1. Guard (this file): DuckDB parses the text (json_serialize_sql); it must
//     be exactly one SELECT (WITH … SELECT, VALUES, FROM …, DESCRIBE,
//     SUMMARIZE, SHOW), and its tree may call only reviewed functions and
//     may not call a function (or a macro over one) or name a relation that
//     reads files, runs SQL from a string, sleeps, changes session or server
//     state or reveals configuration; no part of a table name may be a file.
//  2. Query (query.go): the prepared statement must type as SELECT, and it
//     runs in a READ ONLY transaction, with the caller's time-out and limits,
//     on a database opened read-only and locked down (OpenSnapshot,
//     Lockdown): external access off, configuration locked.
//
// The SQL API adds process isolation and limits: internal/sqlworker.

// QueryError is a statement refused or failed because of its text: the
// client's mistake, with a code the SQL API answers.
type QueryError struct {
	Code string // one of the Code constants
	Msg  string
}

func (e *QueryError) Error() string { return e.Msg }

// Codes of QueryError.
const (
	CodeParse      = "parse"       // not valid SQL
	CodeBadRequest = "bad_request" // valid SQL that cannot run (unknown table, bad cast, …)
	CodeReadOnly   = "read_only"   // not a query
	CodeForbidden  = "forbidden"   // a query that reads files, runs SQL from strings, changes or reveals server state
	CodeTimeout    = "timeout"     // interrupted at the time-out

	CodeResourceLimit = "resource_limit" // needs more memory than the query may use
)

func queryErrorf(code, format string, args ...any) *QueryError {
	return &QueryError{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// allowedTableFunctions are the only table functions (and table macros) a
// query may call: generators, unnesting and the catalogue of tables, views
// and columns. Everything else (read_*, glob, query, checkpoint,
// enable_logging, duckdb_settings, duckdb_secrets, …) is refused.
var allowedTableFunctions = map[string]bool{
	"range": true, "generate_series": true, "unnest": true, "repeat": true, "repeat_row": true,
	"json_each": true, "json_tree": true,
	"duckdb_tables": true, "duckdb_columns": true, "duckdb_views": true, "duckdb_schemas": true,
	"duckdb_types": true, "duckdb_functions": true, "duckdb_constraints": true, "duckdb_indexes": true,
	"duckdb_keywords": true, "duckdb_sequences": true, "pragma_table_info": true,
	"pg_timezone_names": true, "icu_calendar_names": true,
}

// deniedFunctions are refused wherever they appear (scalar position
// included): they reveal configuration or environment, change data or
// session state, sleep, or run SQL given as a string.
var deniedFunctions = map[string]string{
	"setseed":                     "fixes the random numbers of the session",
	"sleep_ms":                    "sleeps",
	"pg_sleep":                    "sleeps",
	"currval":                     "reads a sequence's session state",
	"write_log":                   "writes to the server log",
	"current_setting":             "reveals server configuration",
	"getenv":                      "reveals the environment",
	"getvariable":                 "reveals session variables",
	"nextval":                     "changes a sequence",
	"json_execute_serialized_sql": "runs SQL given as a string",
	"json_serialize_plan":         "plans SQL given as a string (planning reads the files it names)",
	"query":                       "runs SQL given as a string",
	"query_table":                 "reads tables named by a string",
	"glob":                        "lists files",
	"sniff_csv":                   "reads files",
	"which_secret":                "reveals secrets",
	"checkpoint":                  "changes server state",
	"force_checkpoint":            "changes server state",
	"enable_logging":              "changes server state",
	"disable_logging":             "changes server state",
	"truncate_duckdb_logs":        "changes server state",
	"enable_profiling":            "changes server state",
	"disable_profiling":           "changes server state",
	"enable_peg_parser":           "changes server state",
	"disable_peg_parser":          "changes server state",
	"duckdb_settings":             "reveals server configuration",
	"duckdb_secrets":              "reveals secrets",
	"duckdb_databases":            "reveals file paths",
	"duckdb_extensions":           "reveals file paths",
	"duckdb_temporary_files":      "reveals file paths",
	"duckdb_logs":                 "reveals server logs",
	"duckdb_log_contexts":         "reveals server logs",
	"duckdb_variables":            "reveals session variables",
	"duckdb_external_file_cache":  "reveals file paths",
}

// deniedFunctionPrefixes and suffixes catch families (read_csv_auto,
// parquet_metadata, pragma_database_size, postgres_scan, …).
var (
	deniedFunctionPrefixes = []string{"read_", "parquet_", "pragma_", "iceberg_", "delta_", "sqlite_", "postgres_", "mysql_", "duckdb_secret", "duckdb_log"}
	deniedFunctionSuffixes = []string{"_scan"}
)

// reviewedFunctions are the built-in scalar, aggregate, window and macro
// functions of this DuckDB build that were reviewed for the SQL API
// (guard_functions.txt, one name a line): a function not in it is refused,
// so a function a DuckDB upgrade adds stays refused until someone reads
// what it does. TestGuardFunctionInventory fails when the build's list and
// the file differ; deniedFunctions and the macro check still apply to the
// reviewed names.
var reviewedFunctions = func() map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(guardFunctions, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			m[l] = true
		}
	}
	return m
}()

//go:embed guard_functions.txt
var guardFunctions string

// allowedSettings may be read with current_setting('…').
var allowedSettings = map[string]bool{"timezone": true, "calendar": true}

// deniedRelations are views (or bare table-function names) that reveal
// paths, settings or logs. NewGuard adds every internal view whose
// definition calls a refused function.
var deniedRelations = []string{"duckdb_databases", "pragma_database_list", "pg_settings", "pg_database",
	"duckdb_logs", "duckdb_settings", "duckdb_secrets", "duckdb_extensions", "duckdb_temporary_files"}

// Guard classifies untrusted statements before they run.
type Guard struct {
	off             bool            // Unguarded
	deniedRelations map[string]bool // views and table names that reveal paths, settings or logs
	deniedMacros    map[string]string
	// schemas are the catalog.schema pairs a qualified name may use.
	schemas map[string]bool
}

// Unguarded returns a guard that lets every statement through, for tests
// of the other defences alone.
func Unguarded() *Guard { return &Guard{off: true} }

// Querier is what the guard needs: *sql.DB or *sql.Conn.
type Querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// NewGuard builds a guard; it reads DuckDB's internal views and table
// functions so that views over refused functions are refused too.
func NewGuard(ctx context.Context, q Querier) (*Guard, error) {
	g := &Guard{deniedRelations: map[string]bool{}, deniedMacros: map[string]string{}, schemas: map[string]bool{}}
	for _, r := range deniedRelations {
		g.deniedRelations[r] = true
	}
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT lower(function_name) FROM duckdb_functions()
		WHERE function_type IN ('table', 'table_macro')`)
	if err != nil {
		return nil, fmt.Errorf("sql guard: list table functions: %w", err)
	}
	refused := []string{}
	for name := range deniedFunctions {
		refused = append(refused, name)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sql guard: list table functions: %w", err)
		}
		if !allowedTableFunctions[name] {
			refused = append(refused, name)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sql guard: list table functions: %w", err)
	}
	if err := g.loadSchemas(ctx, q); err != nil {
		return nil, err
	}
	rows, err = q.QueryContext(ctx, "SELECT lower(view_name), lower(sql) FROM duckdb_views() WHERE internal")
	if err != nil {
		return nil, fmt.Errorf("sql guard: list internal views: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			return nil, fmt.Errorf("sql guard: list internal views: %w", err)
		}
		for _, f := range refused {
			if strings.Contains(def, f+"(") {
				g.deniedRelations[name] = true
				break
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sql guard: list internal views: %w", err)
	}
	if err := g.loadMacros(ctx, q); err != nil {
		return nil, err
	}
	return g, nil
}

// loadMacros refuses every built-in macro whose body the guard would refuse
// (get_block_size() reads pragma_database_size(), pg_sleep() calls
// sleep_ms()): DuckDB parses each body and the guard walks it, until no
// macro changes (a macro over a refused macro is refused). A body DuckDB
// cannot parse alone is refused too.
func (g *Guard) loadMacros(ctx context.Context, q Querier) error {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT lower(function_name), json_serialize_sql('SELECT ' || macro_definition)::VARCHAR
		FROM duckdb_functions() WHERE function_type = 'macro' AND macro_definition IS NOT NULL ORDER BY ALL`)
	if err != nil {
		return fmt.Errorf("sql guard: list macros: %w", err)
	}
	type macro struct {
		name string
		tree any
	}
	var macros []macro
	for rows.Next() {
		var name, raw string
		if err := rows.Scan(&name, &raw); err != nil {
			rows.Close()
			return fmt.Errorf("sql guard: list macros: %w", err)
		}
		var s serialized
		if err := json.Unmarshal([]byte(raw), &s); err != nil || s.Error || len(s.Statements) != 1 {
			g.deniedMacros[name] = "a body the guard cannot read"
			continue
		}
		macros = append(macros, macro{name, s.Statements[0]})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sql guard: list macros: %w", err)
	}
	for changed := true; changed; {
		changed = false
		for _, m := range macros {
			if g.deniedMacros[m.name] != "" {
				continue
			}
			if err := g.walk(m.tree); err != nil {
				var qe *QueryError
				if !errors.As(err, &qe) {
					return err
				}
				g.deniedMacros[m.name] = qe.Msg
				changed = true
			}
		}
	}
	return nil
}

// loadSchemas records the catalog.schema pairs of the database.
func (g *Guard) loadSchemas(ctx context.Context, q Querier) error {
	rows, err := q.QueryContext(ctx, "SELECT DISTINCT lower(database_name), lower(schema_name) FROM duckdb_schemas()")
	if err != nil {
		return fmt.Errorf("sql guard: list schemas: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var db, schema string
		if err := rows.Scan(&db, &schema); err != nil {
			return fmt.Errorf("sql guard: list schemas: %w", err)
		}
		g.schemas[db+"."+schema] = true
		g.schemas["."+schema] = true
		g.schemas[db+"."] = true
	}
	return rows.Err()
}

// serialized is json_serialize_sql's answer.
type serialized struct {
	Error        bool   `json:"error"`
	ErrorType    string `json:"error_type"`
	ErrorMessage string `json:"error_message"`
	Statements   []any  `json:"statements"`
}

// parse asks DuckDB for the parse tree of query.
func (g *Guard) parse(ctx context.Context, q Querier, query string) (*serialized, error) {
	var raw string
	if err := q.QueryRowContext(ctx, "SELECT json_serialize_sql(?::VARCHAR)::VARCHAR", query).Scan(&raw); err != nil {
		return nil, fmt.Errorf("parse query: %w", err)
	}
	var s serialized
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return nil, fmt.Errorf("parse query: decode the parse tree: %w", err)
	}
	return &s, nil
}

// Check refuses anything but one SELECT that calls only harmless functions.
// It returns a *QueryError, or another error when DuckDB could not be asked.
func (g *Guard) Check(ctx context.Context, q Querier, query string) error {
	if g.off {
		return nil
	}
	if strings.TrimSpace(query) == "" {
		return queryErrorf(CodeBadRequest, "empty query: send one SELECT statement")
	}
	s, err := g.parse(ctx, q, query)
	if err != nil {
		return err
	}
	if s.Error {
		switch s.ErrorType {
		case "parser":
			return queryErrorf(CodeParse, "Parser Error: %s", s.ErrorMessage)
		case "not implemented":
			// DuckDB serializes SELECT statements only.
			return queryErrorf(CodeReadOnly,
				"%s statements are not allowed: the SQL API runs one read-only query (SELECT, WITH … SELECT, VALUES, FROM …, DESCRIBE, SUMMARIZE or SHOW)",
				statementKeyword(query))
		default:
			return queryErrorf(CodeParse, "%s", s.ErrorMessage)
		}
	}
	switch len(s.Statements) {
	case 0:
		return queryErrorf(CodeBadRequest, "empty query: send one SELECT statement")
	case 1:
	default:
		return queryErrorf(CodeBadRequest, "%d statements: send exactly one statement per request", len(s.Statements))
	}
	return g.walk(s.Statements[0])
}

// statementKeyword is the first word of query (after comments and
// parentheses), for messages only: the decision is DuckDB's.
func statementKeyword(query string) string {
	s := query
	for {
		s = strings.TrimLeftFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '(' })
		switch {
		case strings.HasPrefix(s, "--"):
			if i := strings.IndexByte(s, '\n'); i >= 0 {
				s = s[i+1:]
				continue
			}
			s = ""
		case strings.HasPrefix(s, "/*"):
			if i := strings.Index(s, "*/"); i >= 0 {
				s = s[i+2:]
				continue
			}
			s = ""
		}
		break
	}
	end := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && r != '_' })
	if end < 0 {
		end = len(s)
	}
	w := strings.ToUpper(s[:end])
	switch w {
	case "", "SELECT", "WITH", "VALUES", "FROM", "TABLE", "DESCRIBE", "SUMMARIZE", "SHOW":
		// A SELECT followed by another kind of statement.
		return "Non-SELECT"
	}
	return w
}

// walk checks every node of a parse tree.
func (g *Guard) walk(v any) error {
	switch x := v.(type) {
	case []any:
		for _, c := range x {
			if err := g.walk(c); err != nil {
				return err
			}
		}
	case map[string]any:
		if err := g.checkNode(x); err != nil {
			return err
		}
		// Sorted: the same query always reports the same refusal.
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if err := g.walk(x[k]); err != nil {
				return err
			}
		}
	}
	return nil
}

const tableFunctionMark = "\x00table_function"

func (g *Guard) checkNode(m map[string]any) error {
	typ, _ := m["type"].(string)
	if typ == "TABLE_FUNCTION" {
		if fn, ok := m["function"].(map[string]any); ok {
			name, _ := fn["function_name"].(string)
			name = strings.ToLower(name)
			if !allowedTableFunctions[name] {
				return queryErrorf(CodeForbidden,
					"table function %s is not allowed in the SQL API: it reads files, runs SQL, changes server state or reveals configuration (allowed: %s)",
					name, strings.Join(slices.Sorted(maps.Keys(allowedTableFunctions)), ", "))
			}
			fn[tableFunctionMark] = true
		}
	}
	if m["class"] == "PARAMETER" {
		return queryErrorf(CodeBadRequest, "parameters ($1, ?, $name) are not supported: write the values into the query")
	}
	if name, ok := m["function_name"].(string); ok && m[tableFunctionMark] == nil {
		if err := g.checkFunction(strings.ToLower(name), m); err != nil {
			return err
		}
	}
	if name, ok := m["table_name"].(string); ok && (typ == "BASE_TABLE" || typ == "SHOW_REF") {
		catalog, _ := m["catalog_name"].(string)
		schema, _ := m["schema_name"].(string)
		if err := g.checkRelation(catalog, schema, name); err != nil {
			return err
		}
	}
	return nil
}

func (g *Guard) checkFunction(name string, node map[string]any) error {
	if name == "current_setting" {
		if setting, ok := constantString(node); ok && allowedSettings[strings.ToLower(setting)] {
			return nil
		}
		return queryErrorf(CodeForbidden,
			"current_setting is not allowed in the SQL API except for current_setting('TimeZone') and current_setting('Calendar'): settings reveal server paths")
	}
	why, denied := deniedFunctions[name]
	if !denied {
		for _, p := range deniedFunctionPrefixes {
			if strings.HasPrefix(name, p) {
				why, denied = "reads files or reveals server state", true
			}
		}
		for _, s := range deniedFunctionSuffixes {
			if strings.HasSuffix(name, s) {
				why, denied = "reads files or other databases", true
			}
		}
	}
	if denied && !allowedTableFunctions[name] {
		return queryErrorf(CodeForbidden, "function %s is not allowed in the SQL API: it %s", name, why)
	}
	if f := g.deniedMacros[name]; f != "" {
		return queryErrorf(CodeForbidden, "function %s is not allowed in the SQL API: it is a macro whose body is refused (%s)", name, f)
	}
	if !reviewedFunctions[name] && !allowedTableFunctions[name] {
		return queryErrorf(CodeForbidden, "function %s is not allowed in the SQL API: it is not one of the reviewed built-in functions", name)
	}
	return nil
}

// constantString is the single constant string argument of a function node.
func constantString(node map[string]any) (string, bool) {
	children, _ := node["children"].([]any)
	if len(children) != 1 {
		return "", false
	}
	c, _ := children[0].(map[string]any)
	if c == nil || c["class"] != "CONSTANT" {
		return "", false
	}
	v, _ := c["value"].(map[string]any)
	s, ok := v["value"].(string)
	return s, ok
}

// checkRelation refuses a table name that is a file (a path, a name with
// an extension, in any part of a qualified name) or in a schema the
// database does not have (DuckDB reads `items.csv` as the file when no
// schema items exists), and the relations that reveal server state.
func (g *Guard) checkRelation(catalog, schema, name string) error {
	n := strings.ToLower(strings.Trim(name, `"`))
	full := strings.Trim(strings.Join([]string{catalog, schema, name}, "."), ".")
	for _, part := range []string{catalog, schema, name} {
		if strings.ContainsAny(part, `/\.:~*?`) {
			return queryErrorf(CodeForbidden,
				"reading files (%q) is not allowed in the SQL API: query the warehouse tables", full)
		}
	}
	c, s := strings.ToLower(catalog), strings.ToLower(schema)
	known := g.schemas[c+"."+s]
	if c == "" && s != "" {
		known = g.schemas["."+s] || g.schemas[s+"."] // schema.table or catalog.table
	}
	if (c != "" || s != "") && !known {
		return queryErrorf(CodeForbidden,
			"%q: no such schema in the warehouse (a name with a dot may be read as a file, which the SQL API does not allow)", full)
	}
	if g.deniedRelations[n] {
		return queryErrorf(CodeForbidden,
			"%s is not allowed in the SQL API: it reveals server paths, settings or logs", name)
	}
	return nil
}
