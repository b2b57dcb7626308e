package sqlresult

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Format names an encoding of a result.
type Format string

// The formats. JSON, CSV, Arrow and Parquet are what the SQL API answers;
// Table and JSONLines are for people at a terminal (`throughline sql`).
const (
	JSON      Format = "json"    // {"columns": …, "rows": […], "row_count": n, "truncated": b}
	CSV       Format = "csv"     // a header row, then one line per row
	Arrow     Format = "arrow"   // an Arrow IPC stream
	Parquet   Format = "parquet" // a Parquet file
	Table     Format = "table"   // aligned columns and a row count
	JSONLines Format = "jsonl"   // one object per row
)

// Media types of the API formats.
const (
	MediaJSON    = "application/json"
	MediaCSV     = "text/csv"
	MediaArrow   = "application/vnd.apache.arrow.stream"
	MediaParquet = "application/vnd.apache.parquet"
)

// ContentType is the Content-Type header of an API answer in format f.
func (f Format) ContentType() string {
	switch f {
	case CSV:
		return MediaCSV + "; charset=utf-8"
	case Arrow:
		return MediaArrow
	case Parquet:
		return MediaParquet
	}
	return MediaJSON
}

// An Encoder writes a result in one format as its rows arrive.
type Encoder interface {
	Sink
	// Close ends the output. truncated says a limit cut the result short.
	Close(truncated bool) error
}

// NewEncoder returns an encoder of format f writing to w.
func NewEncoder(f Format, w io.Writer) (Encoder, error) {
	switch f {
	case JSON:
		return &jsonEncoder{w: w}, nil
	case CSV:
		return &csvEncoder{w: csv.NewWriter(w)}, nil
	case Arrow:
		return &arrowEncoder{w: w}, nil
	case Parquet:
		return &arrowEncoder{w: w, parquet: true}, nil
	case Table:
		return &tableEncoder{out: w, w: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}, nil
	case JSONLines:
		return &jsonLinesEncoder{w: w}, nil
	}
	return nil, fmt.Errorf("no result format %q", f)
}

// Write encodes a held result.
func Write(w io.Writer, res *Result, f Format) error {
	e, err := NewEncoder(f, w)
	if err != nil {
		return err
	}
	if err := res.Replay(e); err != nil {
		return err
	}
	return e.Close(res.Truncated)
}

// marshal is json.Marshal without HTML escaping.
func marshal(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	return nil
}

type jsonEncoder struct {
	w    io.Writer
	buf  bytes.Buffer
	rows int
}

func (e *jsonEncoder) Columns(cols []Column) error {
	e.buf.Reset()
	e.buf.WriteString(`{"columns":`)
	if cols == nil {
		cols = []Column{}
	}
	if err := marshal(&e.buf, cols); err != nil {
		return err
	}
	e.buf.WriteString(`,"rows":[`)
	_, err := e.w.Write(e.buf.Bytes())
	return err
}

func (e *jsonEncoder) Row(vals []any) error {
	e.buf.Reset()
	if e.rows > 0 {
		e.buf.WriteByte(',')
	}
	if err := marshal(&e.buf, vals); err != nil {
		return err
	}
	e.rows++
	_, err := e.w.Write(e.buf.Bytes())
	return err
}

func (e *jsonEncoder) Close(truncated bool) error {
	_, err := fmt.Fprintf(e.w, `],"row_count":%d,"truncated":%t}`+"\n", e.rows, truncated)
	return err
}

type csvEncoder struct {
	w   *csv.Writer
	rec []string
}

func (e *csvEncoder) Columns(cols []Column) error {
	e.rec = make([]string, len(cols))
	for i, c := range cols {
		e.rec[i] = c.Name
	}
	return e.w.Write(e.rec)
}

func (e *csvEncoder) Row(vals []any) error {
	for i, v := range vals {
		e.rec[i] = TextCell(v)
	}
	return e.w.Write(e.rec)
}

func (e *csvEncoder) Close(bool) error {
	e.w.Flush()
	return e.w.Error()
}

type tableEncoder struct {
	out  io.Writer
	w    *tabwriter.Writer
	rec  []string
	rows int
}

func (e *tableEncoder) Columns(cols []Column) error {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	e.rec = make([]string, len(cols))
	_, err := fmt.Fprintln(e.w, strings.Join(names, "\t"))
	return err
}

func (e *tableEncoder) Row(vals []any) error {
	for i, v := range vals {
		e.rec[i] = tableCell(v)
	}
	e.rows++
	_, err := fmt.Fprintln(e.w, strings.Join(e.rec, "\t"))
	return err
}

func (e *tableEncoder) Close(bool) error {
	if err := e.w.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(e.out, "(%d rows)\n", e.rows)
	return err
}

// tableCell is TextCell with fractions rounded to 4 places for reading.
func tableCell(v any) string {
	if n, ok := v.(json.Number); ok && strings.ContainsAny(n.String(), ".eE") {
		if f, err := n.Float64(); err == nil {
			return strings.TrimRight(strings.TrimRight(strconv.FormatFloat(f, 'f', 4, 64), "0"), ".")
		}
	}
	return strings.ReplaceAll(TextCell(v), "\t", " ")
}

type jsonLinesEncoder struct {
	w    io.Writer
	keys [][]byte
	buf  bytes.Buffer
}

func (e *jsonLinesEncoder) Columns(cols []Column) error {
	e.keys = make([][]byte, len(cols))
	for i, c := range cols {
		k, err := json.Marshal(c.Name)
		if err != nil {
			return err
		}
		e.keys[i] = k
	}
	return nil
}

func (e *jsonLinesEncoder) Row(vals []any) error {
	e.buf.Reset()
	e.buf.WriteByte('{')
	for i, v := range vals {
		if i > 0 {
			e.buf.WriteByte(',')
		}
		e.buf.Write(e.keys[i])
		e.buf.WriteByte(':')
		if err := marshal(&e.buf, v); err != nil {
			return err
		}
	}
	e.buf.WriteString("}\n")
	_, err := e.w.Write(e.buf.Bytes())
	return err
}

func (e *jsonLinesEncoder) Close(bool) error { return nil }
