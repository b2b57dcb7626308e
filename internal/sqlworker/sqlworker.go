// Package sqlworker runs untrusted SQL for the SQL API and hands back
// encoded answers.
package sqlworker

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"time"

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

// Local runs queries in this process on a pool of connections (the
// connections must be locked down: warehouse.DB.Lockdown).
type Local struct {
	DB      *sql.DB
	Guard   *warehouse.Guard
	Timeout time.Duration // 0: none
}

// Run answers req.
func (l *Local) Run(ctx context.Context, req Request) (*Answer, error) {
	if l.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, l.Timeout)
		defer cancel()
	}
	c, err := l.DB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	a, body, err := encode(ctx, c, l.Guard, req)
	if err != nil {
		return nil, err
	}
	a.Body = bytes.NewReader(body)
	return a, nil
}
