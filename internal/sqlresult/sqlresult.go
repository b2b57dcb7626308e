// Package sqlresult is the answer of an ad-hoc SQL query as Throughline
// hands it out: columns with DuckDB's type names, rows of JSON-native values
// (nil, bool, string, json.Number, []any, map[string]any), and the encoders
// that write it as JSON, CSV, Arrow IPC, Parquet, an aligned table or JSON
// lines. The SQL API, its worker processes and `throughline sql` share it, so
// a result reads the same whichever way it travelled. It knows nothing of
// DuckDB: the warehouse converts DuckDB's values before they arrive here.
package sqlresult

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Column is one result column: its name and DuckDB's name of its type.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Result is a whole answer held in memory (the JSON body of POST
// /api/v1/sql). Encoders stream; Result is for callers that want the rows.
type Result struct {
	Columns   []Column `json:"columns"`
	Rows      [][]any  `json:"rows"`
	RowCount  int      `json:"row_count"`
	Truncated bool     `json:"truncated"`
}

// A Sink receives a result: Columns once, then Row for each row. The values
// of a row are only valid during the call. Row returns ErrFull when the sink
// takes no more rows (the result is then truncated, not failed).
type Sink interface {
	Columns(cols []Column) error
	Row(vals []any) error
}

// ErrFull is returned by Sink.Row when a limit is reached.
var ErrFull = errors.New("result limit reached")

// Limits bound a result. A result that reaches one is truncated.
type Limits struct {
	MaxRows  int   // 0: no limit
	MaxBytes int64 // 0: no limit; counted with Size
}

// Limited passes rows to a sink until a limit is reached.
type Limited struct {
	limits    Limits
	next      Sink
	rows      int
	bytes     int64
	truncated bool
}

// Limit wraps next with limits.
func Limit(l Limits, next Sink) *Limited { return &Limited{limits: l, next: next} }

// Columns passes the columns on.
func (l *Limited) Columns(cols []Column) error { return l.next.Columns(cols) }

// Row passes the row on unless it would exceed a limit; then it reports
// ErrFull and the result is truncated.
func (l *Limited) Row(vals []any) error {
	if l.truncated {
		return ErrFull
	}
	n := RowSize(vals)
	if (l.limits.MaxRows > 0 && l.rows >= l.limits.MaxRows) || (l.limits.MaxBytes > 0 && l.bytes+n > l.limits.MaxBytes) {
		l.truncated = true
		return ErrFull
	}
	if err := l.next.Row(vals); err != nil {
		return err
	}
	l.rows++
	l.bytes += n
	return nil
}

// RowCount is the number of rows passed on.
func (l *Limited) RowCount() int { return l.rows }

// Bytes is the size of the rows passed on, as RowSize counts it.
func (l *Limited) Bytes() int64 { return l.bytes }

// Truncated reports whether a row was refused.
func (l *Limited) Truncated() bool { return l.truncated }

// RowSize is about the size of a row in the JSON answer: string lengths,
// number digits and a few bytes of punctuation per value. The byte budget of
// the SQL API counts it, so the same rows fit whatever the format.
func RowSize(vals []any) int64 {
	n := int64(2)
	for _, v := range vals {
		n += valueSize(v) + 1
	}
	return n
}

func valueSize(v any) int64 {
	switch x := v.(type) {
	case nil:
		return 4
	case bool:
		return 5
	case string:
		return int64(len(x)) + 2
	case json.Number:
		return int64(len(x))
	case []any:
		return RowSize(x)
	case map[string]any:
		n := int64(2)
		for k, e := range x {
			n += int64(len(k)) + 4 + valueSize(e)
		}
		return n
	default:
		return int64(len(fmt.Sprint(x)))
	}
}

// Collector is a Sink that keeps every row (for `throughline sql` and tests).
type Collector struct{ Result Result }

// Columns records the columns.
func (c *Collector) Columns(cols []Column) error {
	c.Result.Columns = append([]Column(nil), cols...)
	c.Result.Rows = [][]any{}
	return nil
}

// Row keeps a copy of the row.
func (c *Collector) Row(vals []any) error {
	c.Result.Rows = append(c.Result.Rows, append([]any(nil), vals...))
	c.Result.RowCount = len(c.Result.Rows)
	return nil
}

// Replay sends a held result to a sink.
func (r *Result) Replay(s Sink) error {
	if err := s.Columns(r.Columns); err != nil {
		return err
	}
	for _, row := range r.Rows {
		if err := s.Row(row); err != nil {
			return err
		}
	}
	return nil
}

// TextCell is a value as CSV text: nested values as JSON.
func TextCell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
}
