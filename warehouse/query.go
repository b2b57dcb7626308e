package warehouse

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/throughline/throughline/internal/sqlresult"
)

// Query runs one untrusted statement on c and streams its rows to sink:
// checked by g, typed as SELECT by DuckDB, in a READ ONLY transaction that
// is rolled back. maxRows (0: none) lets DuckDB stop after that many rows
// and one more; the sink enforces the limits (a sink that answers
// sqlresult.ErrFull ends the result without an error). The caller bounds
// the time with ctx. Errors the query's text caused are *QueryError.
func (g *Guard) Query(ctx context.Context, c *sql.Conn, query string, maxRows int, sink sqlresult.Sink) (err error) {
	defer func() { err = classifyQueryError(ctx, err) }()
	if err := g.Check(ctx, c, query); err != nil {
		return err
	}
	// DuckDB's Go driver materializes a result before the first row is
	// read: let DuckDB stop after maxRows+1 rows by wrapping the statement
	// in a LIMIT, when the wrapped text passes the same checks. The sink
	// enforces the limits either way; this only saves memory.
	run := query
	if maxRows > 0 {
		wrapped := "SELECT * FROM (\n" + trimStatement(query) + "\n) AS throughline_query LIMIT " + strconv.Itoa(maxRows+1)
		if g.Check(ctx, c, wrapped) == nil {
			run = wrapped
		}
	}
	// Second opinion from the prepared statement; run is one statement
	// (checked above), so preparing it executes nothing.
	typ, err := statementType(ctx, c, run)
	if err != nil {
		return err
	}
	if typ != duckdb.STATEMENT_TYPE_SELECT {
		return queryErrorf(CodeReadOnly, "only SELECT statements are allowed")
	}
	if _, err := c.ExecContext(ctx, "BEGIN TRANSACTION READ ONLY"); err != nil {
		return err
	}
	defer func() {
		if _, rerr := c.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
			// Do not hand a connection in an unknown state to the next query.
			c.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	rows, err := c.QueryContext(ctx, run)
	if err != nil {
		return err
	}
	defer rows.Close()
	return streamRows(rows, sink)
}

// trimStatement is query without the spaces, comments and semicolons after
// its last token. Strings, quoted names and dollar-quoted text are skipped
// whole, so a "--" or ";" inside one stays.
func trimStatement(q string) string {
	end := 0
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case strings.HasPrefix(q[i:], "--"):
			if j := strings.IndexByte(q[i:], '\n'); j >= 0 {
				i += j + 1
			} else {
				i = len(q)
			}
		case strings.HasPrefix(q[i:], "/*"):
			depth := 0
			for i < len(q) {
				if strings.HasPrefix(q[i:], "/*") {
					depth++
					i += 2
				} else if strings.HasPrefix(q[i:], "*/") {
					depth--
					i += 2
					if depth == 0 {
						break
					}
				} else {
					i++
				}
			}
		case c == '\'' || c == '"':
			escapes := c == '\'' && i > 0 && (q[i-1] == 'e' || q[i-1] == 'E')
			j := i + 1
			for j < len(q) {
				if escapes && q[j] == '\\' {
					j += 2
					continue
				}
				if q[j] == c {
					if j+1 < len(q) && q[j+1] == c {
						j += 2
						continue
					}
					break
				}
				j++
			}
			i = min(j+1, len(q))
			end = i
		case c == '$':
			tag := dollarTag.FindString(q[i:])
			if tag == "" {
				i++
				end = i
				break
			}
			if j := strings.Index(q[i+len(tag):], tag); j >= 0 {
				i += len(tag) + j + len(tag)
			} else {
				i = len(q)
			}
			end = i
		case c == ';' || c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		default:
			i++
			end = i
		}
	}
	return q[:end]
}

var dollarTag = regexp.MustCompile(`^\$[A-Za-z_]*\$`)

// statementType prepares query on c; query must be a single statement
// (DuckDB executes every statement but the last while preparing).
func statementType(ctx context.Context, c *sql.Conn, query string) (duckdb.StmtType, error) {
	typ := duckdb.STATEMENT_TYPE_INVALID
	err := c.Raw(func(dc any) error {
		conn, ok := dc.(*duckdb.Conn)
		if !ok {
			return fmt.Errorf("not a DuckDB connection: %T", dc)
		}
		st, err := conn.PrepareContext(ctx, query)
		if err != nil {
			return err
		}
		defer st.Close()
		ds, ok := st.(*duckdb.Stmt)
		if !ok {
			return fmt.Errorf("not a DuckDB statement: %T", st)
		}
		typ, err = ds.StatementType()
		return err
	})
	return typ, err
}

// streamRows converts each row to JSON-native values and hands it to sink.
func streamRows(rows *sql.Rows, sink sqlresult.Sink) error {
	cts, err := rows.ColumnTypes()
	if err != nil {
		return err
	}
	cols := make([]sqlresult.Column, len(cts))
	for i, ct := range cts {
		cols[i] = sqlresult.Column{Name: ct.Name(), Type: ct.DatabaseTypeName()}
	}
	if err := sink.Columns(cols); err != nil {
		return err
	}
	vals := make([]any, len(cts))
	ptrs := make([]any, len(cts))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	row := make([]any, len(cts))
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, v := range vals {
			row[i] = jsonValue(v, cols[i].Type)
		}
		if err := sink.Row(row); err != nil {
			if errors.Is(err, sqlresult.ErrFull) {
				return nil
			}
			return err
		}
	}
	return rows.Err()
}

// classifyQueryError turns DuckDB's errors into client errors with a code.
func classifyQueryError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var qe *QueryError
	if errors.As(err, &qe) {
		return qe
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return queryErrorf(CodeTimeout, "the query did not finish within its time-out and was interrupted")
	}
	if errors.Is(err, context.Canceled) {
		return err // the client went away
	}
	var de *duckdb.Error
	if !errors.As(err, &de) {
		return fmt.Errorf("query: %w", err)
	}
	msg := CleanMessage(de.Msg)
	switch de.Type {
	case duckdb.ErrorTypeParser, duckdb.ErrorTypeSyntax:
		return queryErrorf(CodeParse, "%s", msg)
	case duckdb.ErrorTypePermission:
		return queryErrorf(CodeForbidden, "%s", msg)
	case duckdb.ErrorTypeTransaction:
		if strings.Contains(msg, "read-only") {
			return queryErrorf(CodeReadOnly, "%s", msg)
		}
	case duckdb.ErrorTypeInterrupt:
		return queryErrorf(CodeTimeout, "%s", msg)
	case duckdb.ErrorTypeOutOfMemory:
		return queryErrorf(CodeResourceLimit, "the query needs more memory than a SQL query may use: filter, aggregate or add a LIMIT (%s)", firstLine(msg))
	case duckdb.ErrorTypeInternal, duckdb.ErrorTypeFatal, duckdb.ErrorTypeConnection:
		return fmt.Errorf("query: %w", err)
	}
	// Binder, catalog, conversion, …: the query is wrong; DuckDB says how.
	return queryErrorf(CodeBadRequest, "%s", msg)
}

var (
	// stackTrace starts the C++ stack DuckDB appends to some errors.
	stackTrace = regexp.MustCompile(`(?s)\s*Stack Trace:.*`)
	// absPath is an absolute file path of two or more parts.
	absPath = regexp.MustCompile(`(^|[\s'"(=])/[^\s'"/]+(/[^\s'"]*)+`)
)

// CleanMessage strips what a client must not learn from a DuckDB message:
// stack traces (they name the binary's path) and absolute file paths.
func CleanMessage(msg string) string {
	msg = stackTrace.ReplaceAllString(msg, "")
	return absPath.ReplaceAllString(msg, "$1<path>")
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// jsonValue converts a scanned DuckDB value to a JSON-native one. dbType is
// the column's type name ("" inside structs and maps).
func jsonValue(v any, dbType string) any {
	switch x := v.(type) {
	case nil, bool, string:
		return x
	case int:
		return json.Number(strconv.FormatInt(int64(x), 10))
	case int8:
		return json.Number(strconv.FormatInt(int64(x), 10))
	case int16:
		return json.Number(strconv.FormatInt(int64(x), 10))
	case int32:
		return json.Number(strconv.FormatInt(int64(x), 10))
	case int64:
		return json.Number(strconv.FormatInt(x, 10))
	case uint8:
		return json.Number(strconv.FormatUint(uint64(x), 10))
	case uint16:
		return json.Number(strconv.FormatUint(uint64(x), 10))
	case uint32:
		return json.Number(strconv.FormatUint(uint64(x), 10))
	case uint64:
		return json.Number(strconv.FormatUint(x, 10))
	case float32:
		return floatValue(float64(x), 32)
	case float64:
		return floatValue(x, 64)
	case *big.Int:
		if x == nil {
			return nil
		}
		return json.Number(x.String())
	case duckdb.Decimal:
		if x.Value == nil {
			return nil
		}
		return json.Number(x.String())
	case duckdb.Interval:
		return intervalString(x)
	case time.Time:
		switch {
		case dbType == "DATE":
			return x.Format("2006-01-02")
		case strings.HasPrefix(dbType, "TIME") && !strings.HasPrefix(dbType, "TIMESTAMP"):
			return x.Format("15:04:05.999999")
		case strings.HasPrefix(dbType, "TIMESTAMP") && dbType != "TIMESTAMPTZ":
			return x.Format("2006-01-02T15:04:05.999999999")
		}
		return x.UTC().Format(time.RFC3339Nano)
	case []byte:
		if dbType == "UUID" && len(x) == 16 {
			h := hex.EncodeToString(x)
			return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
		}
		return blobString(x)
	case duckdb.UUID:
		return x.String()
	case []any:
		elem := strings.TrimSuffix(dbType, "[]")
		if elem == dbType {
			elem = ""
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e, elem)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonValue(e, "")
		}
		return out
	case duckdb.OrderedMap:
		keys, values := x.Keys(), x.Values()
		out := make([]any, len(keys))
		for i := range keys {
			out[i] = map[string]any{"key": jsonValue(keys[i], ""), "value": jsonValue(values[i], "")}
		}
		return out
	case duckdb.Map:
		out := make([]any, 0, len(x))
		for k, e := range x {
			out = append(out, map[string]any{"key": jsonValue(k, ""), "value": jsonValue(e, "")})
		}
		return out
	case duckdb.Union:
		return jsonValue(x.Value, "")
	default:
		return fmt.Sprint(x)
	}
}

func floatValue(f float64, bits int) any {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, bits))
}

// intervalString writes an interval as an ISO 8601 duration (P1M2DT3.5S).
func intervalString(iv duckdb.Interval) string {
	var b strings.Builder
	b.WriteByte('P')
	if iv.Months != 0 {
		fmt.Fprintf(&b, "%dM", iv.Months)
	}
	if iv.Days != 0 {
		fmt.Fprintf(&b, "%dD", iv.Days)
	}
	if iv.Micros != 0 || b.Len() == 1 {
		b.WriteString("T" + strconv.FormatFloat(float64(iv.Micros)/1e6, 'f', -1, 64) + "S")
	}
	return b.String()
}

// blobString writes bytes as DuckDB prints a BLOB: printable ASCII as is,
// everything else as \xHH.
func blobString(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		if c >= 0x20 && c < 0x7f && c != '\\' {
			s.WriteByte(c)
		} else {
			fmt.Fprintf(&s, `\x%02X`, c)
		}
	}
	return s.String()
}
