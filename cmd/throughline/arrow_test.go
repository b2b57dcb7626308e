package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/google/go-cmp/cmp"
	"github.com/throughline/throughline/internal/sqlresult"
	"github.com/throughline/throughline/internal/web/api"
	"github.com/throughline/throughline/warehouse"
)

// arrowTypesQuery has one row of values and one of NULLs.
const arrowTypesQuery = `SELECT * FROM (
	SELECT 1 AS i, 2.5::DOUBLE AS d, 'a' AS s, DATE '2024-01-02' AS dt,
		TIMESTAMPTZ '2024-01-02 03:04:05.123456+00' AS ts, true AS b,
		1.25::DECIMAL(10,2) AS dec, 9000000000::BIGINT AS big, [1, 2] AS l
	UNION ALL
	SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
) ORDER BY i NULLS LAST`

var arrowTypesTS = time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC)

// readArrow decodes an Arrow IPC stream into its schema and rows.
func readArrow(t *testing.T, b []byte) (*arrow.Schema, [][]any, int) {
	t.Helper()
	rr, err := ipc.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("read the Arrow stream: %v", err)
	}
	defer rr.Release()
	var rows [][]any
	batches := 0
	for rr.Next() {
		rec := rr.RecordBatch()
		batches++
		for r := 0; r < int(rec.NumRows()); r++ {
			row := make([]any, rec.NumCols())
			for c, col := range rec.Columns() {
				row[c] = arrowCell(col, r)
			}
			rows = append(rows, row)
		}
	}
	if err := rr.Err(); err != nil {
		t.Fatalf("read the Arrow stream: %v", err)
	}
	return rr.Schema(), rows, batches
}

func arrowCell(a arrow.Array, i int) any {
	if a.IsNull(i) {
		return nil
	}
	switch x := a.(type) {
	case *array.Int32:
		return x.Value(i)
	case *array.Int64:
		return x.Value(i)
	case *array.Float64:
		return x.Value(i)
	case *array.String:
		return x.Value(i)
	case *array.Boolean:
		return x.Value(i)
	case *array.Date32:
		return x.Value(i).ToTime().Format("2006-01-02")
	case *array.Timestamp:
		return x.Value(i).ToTime(arrow.Microsecond)
	}
	return a.ValueStr(i)
}

// parquetRows reads a Parquet file with DuckDB.
func parquetRows(t *testing.T, path, query string) [][]any {
	t.Helper()
	ctx := context.Background()
	db, err := warehouse.Open(ctx, warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, strings.ReplaceAll(query, "$path", "'"+path+"'"))
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSQLAPIArrowParquet(t *testing.T) {
	s := startAPIServer(t)
	post := func(t *testing.T, query string, maxRows int, accept string) (http.Header, []byte) {
		t.Helper()
		body, _ := json.Marshal(api.Request{SQL: query, MaxRows: maxRows})
		code, h, b := s.do(t, "POST", "/api/v1/sql", string(body), "Accept", accept)
		if code != http.StatusOK {
			t.Fatalf("%s as %s: %d %s", query, accept, code, b)
		}
		return h, b
	}
	writeTemp := func(t *testing.T, b []byte) string {
		t.Helper()
		path := filepath.Join(t.TempDir(), "r.parquet")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	parquetQuery := `SELECT i, d, s, dt::VARCHAR, epoch_us(ts), b, dec, big, l, typeof(ts) FROM read_parquet($path) ORDER BY i NULLS LAST`
	wantParquet := [][]any{
		{int32(1), 2.5, "a", "2024-01-02", arrowTypesTS.UnixMicro(), true, 1.25, int64(9000000000), "[1,2]", "TIMESTAMP WITH TIME ZONE"},
		{nil, nil, nil, nil, nil, nil, nil, nil, nil, "TIMESTAMP WITH TIME ZONE"},
	}

	t.Run("arrow", func(t *testing.T) {
		h, b := post(t, arrowTypesQuery, 0, sqlresult.MediaArrow)
		if ct := h.Get("Content-Type"); ct != sqlresult.MediaArrow {
			t.Errorf("Content-Type %q", ct)
		}
		schema, rows, _ := readArrow(t, b)
		var types []string
		for _, f := range schema.Fields() {
			if !f.Nullable {
				t.Errorf("%s is not nullable", f.Name)
			}
			types = append(types, f.Name+" "+f.Type.String())
		}
		wantTypes := []string{"i int32", "d float64", "s utf8", "dt date32", "ts timestamp[us, tz=UTC]", "b bool", "dec float64", "big int64", "l utf8"}
		if d := cmp.Diff(wantTypes, types); d != "" {
			t.Errorf("schema (-want +got):\n%s", d)
		}
		want := [][]any{
			{int32(1), 2.5, "a", "2024-01-02", arrowTypesTS, true, 1.25, int64(9000000000), "[1,2]"},
			make([]any, 9),
		}
		if d := cmp.Diff(want, rows); d != "" {
			t.Errorf("rows (-want +got):\n%s", d)
		}
	})

	t.Run("parquet", func(t *testing.T) {
		for _, accept := range []string{sqlresult.MediaParquet, "application/x-parquet"} {
			h, b := post(t, arrowTypesQuery, 0, accept)
			if ct := h.Get("Content-Type"); ct != sqlresult.MediaParquet {
				t.Errorf("Content-Type %q", ct)
			}
			if d := cmp.Diff(wantParquet, parquetRows(t, writeTemp(t, b), parquetQuery)); d != "" {
				t.Errorf("%s rows (-want +got):\n%s", accept, d)
			}
		}
	})

	t.Run("row limit", func(t *testing.T) {
		q := "SELECT range AS n FROM range(5)"
		h, b := post(t, q, 2, sqlresult.MediaArrow)
		if h.Get("X-Throughline-Truncated") != "true" || h.Get("X-Throughline-Row-Count") != "2" {
			t.Errorf("arrow headers: %v", h)
		}
		if _, rows, _ := readArrow(t, b); len(rows) != 2 {
			t.Errorf("arrow: %d rows, want 2", len(rows))
		}
		h, b = post(t, q, 2, sqlresult.MediaParquet)
		if h.Get("X-Throughline-Truncated") != "true" || h.Get("X-Throughline-Row-Count") != "2" {
			t.Errorf("parquet headers: %v", h)
		}
		if got := parquetRows(t, writeTemp(t, b), "SELECT count(*), sum(n)::BIGINT FROM read_parquet($path)"); !cmp.Equal(got, [][]any{{int64(2), int64(1)}}) {
			t.Errorf("parquet count, sum: %v; want 2, 1", got)
		}
		// More rows than one batch: two record batches, nothing lost.
		h, b = post(t, "SELECT range AS n FROM range(70000)", 0, sqlresult.MediaArrow)
		_, rows, batches := readArrow(t, b)
		if h.Get("X-Throughline-Truncated") != "false" || len(rows) != 70000 || batches != 2 || rows[69999][0] != int64(69999) {
			t.Errorf("70000 rows: truncated %s, %d rows in %d batches", h.Get("X-Throughline-Truncated"), len(rows), batches)
		}
	})

	t.Run("cli through the server and through the file", func(t *testing.T) {
		dir := t.TempDir()
		for _, f := range []string{"arrow", "parquet"} {
			code, _, errs := runCmd(t, "sql", "--config", s.cfgPath, "--format", f, arrowTypesQuery)
			if code != exitUsage || !strings.Contains(errs, "--out FILE") {
				t.Errorf("--format %s without --out: exit %d %q", f, code, errs)
			}
		}
		run := func(f, via string) []byte {
			out := filepath.Join(dir, via+"."+f)
			if code, stdout, errs := runCmd(t, "sql", "--config", s.cfgPath, "--format", f, "--out", out, arrowTypesQuery); code != 0 || stdout != "" {
				t.Fatalf("--format %s via the %s: exit %d %q %s", f, via, code, stdout, errs)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		viaServer := map[string][]byte{"arrow": run("arrow", "server"), "parquet": run("parquet", "server")}
		s.stop() // the file is free: the same command reads it
		for _, f := range []string{"arrow", "parquet"} {
			if b := run(f, "file"); !bytes.Equal(b, viaServer[f]) {
				t.Errorf("--format %s: the server's and the file's outputs differ", f)
			}
		}
		if _, rows, _ := readArrow(t, viaServer["arrow"]); len(rows) != 2 || !cmp.Equal(rows[0][4], arrowTypesTS) {
			t.Errorf("arrow via the CLI: %v", rows)
		}
		if d := cmp.Diff(wantParquet, parquetRows(t, filepath.Join(dir, "file.parquet"), parquetQuery)); d != "" {
			t.Errorf("parquet via the CLI (-want +got):\n%s", d)
		}
	})
}
