// Package sqlworker runs the SQL API's untrusted queries in worker
// processes (the same program, started with THROUGHLINE_SQL_WORKER=1) that
// read the published snapshot of the warehouse, never the warehouse itself:
// each worker has an address-space and a CPU-time limit, an empty
// environment, a fresh DuckDB session per query, and is killed at the
// request's time-out whatever DuckDB is doing, then replaced. A native crash
// or a runaway query costs one request, never the server.
package sqlworker

import (
	"bytes"
	"context"
	"database/sql"
	"io"

	"github.com/throughline/throughline/internal/sqlresult"
	"github.com/throughline/throughline/warehouse"
)

// Request is one query of the SQL API.
type Request struct {
	SQL     string           `json:"sql"`
	Format  sqlresult.Format `json:"format"`
	MaxRows int              `json:"max_rows"`
	// MaxBytes bounds the rows' size (sqlresult.RowSize); 0: none.
	MaxBytes int64 `json:"max_bytes"`
}

// Answer is an encoded result. Its Body must be read to the end or Closed.
type Answer struct {
	RowCount  int
	Truncated bool
	Size      int64 // bytes of Body
	Body      io.Reader
	close     func()
}

// Close releases what the answer holds.
func (a *Answer) Close() {
	if a.close != nil {
		a.close()
		a.close = nil
	}
}

// encode runs req on c with guard and encodes the result in memory (the
// limits bound it).
func encode(ctx context.Context, c *sql.Conn, guard *warehouse.Guard, req Request) (*Answer, []byte, error) {
	var buf bytes.Buffer
	enc, err := sqlresult.NewEncoder(req.Format, &buf)
	if err != nil {
		return nil, nil, err
	}
	lim := sqlresult.Limit(sqlresult.Limits{MaxRows: req.MaxRows, MaxBytes: req.MaxBytes}, enc)
	if err := guard.Query(ctx, c, req.SQL, req.MaxRows, lim); err != nil {
		return nil, nil, err
	}
	if err := enc.Close(lim.Truncated()); err != nil {
		return nil, nil, err
	}
	a := &Answer{RowCount: lim.RowCount(), Truncated: lim.Truncated(), Size: int64(buf.Len())}
	return a, buf.Bytes(), nil
}
