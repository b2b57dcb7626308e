package sqlworker

import (
	"context"
	"io"
	"testing"

	"github.com/throughline/throughline/internal/sqlresult"
	"github.com/throughline/throughline/warehouse"
)

const benchQuery = "SELECT team_id, name, wip_limit FROM teams ORDER BY name LIMIT 200"

// BenchmarkPoolRun is one small query through a worker process (one worker,
// so requests do not overlap); BenchmarkInProcess the same query on a
// locked-down connection of this process, the baseline: the difference is
// the price of the isolation per request.
func BenchmarkPoolRun(b *testing.B) {
	s := newSnapshot(&testing.T{})
	p, err := New(Options{Snapshot: s.path, Workers: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	p.Publish()
	ctx := context.Background()
	for b.Loop() {
		a, err := p.Run(ctx, Request{SQL: benchQuery, Format: sqlresult.JSON, MaxRows: 100_000})
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, a.Body)
		a.Close()
	}
}

func BenchmarkInProcess(b *testing.B) {
	s := newSnapshot(&testing.T{})
	ctx := context.Background()
	db, err := warehouse.OpenSnapshot(ctx, s.path, warehouse.Options{Threads: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	g, err := warehouse.NewGuard(ctx, db.DB)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		c, err := db.Conn(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := encode(ctx, c, g, Request{SQL: benchQuery, Format: sqlresult.JSON, MaxRows: 100_000}); err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}
