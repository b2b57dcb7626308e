package ingest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Run describes one finished sync.
type Run struct {
	ID        int64
	Source    string
	StartedAt time.Time
	Finished  time.Time
	Status    string // ok, failed, canceled
	Items     int    // records committed
	Batches   int
	Problems  int
	Cursor    Cursor
	Err       error
}

// RunLog records sync runs (the warehouse's sync_runs table).
type RunLog interface {
	StartRun(ctx context.Context, source string, at time.Time) (int64, error)
	FinishRun(ctx context.Context, r Run) error
}

// SyncOptions tune Sync.
type SyncOptions struct {
	// Full ignores the stored cursor and re-reads everything (upserts keep it idempotent).
	Full bool
	Now  func() time.Time
	// Progress, if set, is called after each committed batch.
	Progress func(r Run)
}

// Sync runs c from the source's stored cursor and commits every batch with
// its cursor. It returns the run; on failure the cursor stays at the last
// committed batch, so the next run resumes there.
func Sync(ctx context.Context, st Store, log RunLog, source string, c Connector, opt SyncOptions) (Run, error) {
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	r := Run{Source: source, StartedAt: now()}
	if log != nil {
		id, err := log.StartRun(ctx, source, r.StartedAt)
		if err != nil {
			return r, fmt.Errorf("start run for %s: %w", source, err)
		}
		r.ID = id
	}
	var from Cursor
	if !opt.Full {
		cur, err := st.Cursor(ctx, source)
		if err != nil {
			return r, fmt.Errorf("read cursor of %s: %w", source, err)
		}
		from = cur
	}
	r.Cursor = from
	if bl, ok := st.(BulkLoader); ok && bl.CanLoadFiles(ctx) {
		ctx = WithBulk(ctx)
	}
	// Parsing the next batch overlaps committing the previous one: the
	// connector runs in this goroutine, commits in another, one batch ahead
	// at most. The cursor still moves only with a successful commit, in order.
	batches := make(chan Batch, 1)
	commitErr := make(chan error, 1)
	var done sync.WaitGroup
	done.Go(func() {
		defer close(commitErr)
		for b := range batches {
			problems, err := commit(ctx, st, source, b)
			if err != nil {
				commitErr <- fmt.Errorf("commit batch %d of %s: %w", r.Batches+1, source, err)
				for range batches { // drain: the connector stops at its next emit
				}
				return
			}
			r.Batches++
			r.Items += b.Len()
			r.Problems += problems
			r.Cursor = b.Cursor
			if opt.Progress != nil {
				opt.Progress(r)
			}
		}
	})
	var failed error
	err := c.Sync(ctx, from, func(ctx context.Context, b Batch) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Characters the warehouse's JSON type rejects never stop a sync:
		// repaired, and counted as problems of the run.
		b.RepairPayloads()
		select {
		case err, ok := <-commitErr:
			if ok {
				failed = err
				return err
			}
		default:
		}
		select {
		case batches <- b:
			return nil
		case err, ok := <-commitErr:
			if ok {
				failed = err
				return err
			}
			return errors.New("committer stopped")
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(batches)
	done.Wait()
	if failed == nil {
		if cerr, ok := <-commitErr; ok {
			failed = cerr
		}
	}
	if failed != nil {
		// The commit failure is the cause; the connector only saw its echo.
		err = failed
	}
	r.Finished = now()
	switch {
	case err == nil:
		r.Status = "ok"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		r.Status = "canceled"
	default:
		r.Status = "failed"
	}
	r.Err = err
	if log != nil {
		// The run's context may be canceled: record the outcome regardless.
		if ferr := log.FinishRun(context.WithoutCancel(ctx), r); ferr != nil && err == nil {
			err = fmt.Errorf("finish run for %s: %w", source, ferr)
		}
	}
	if err != nil {
		return r, fmt.Errorf("sync %s: %w", source, err)
	}
	return r, nil
}

// WithCreation returns history with a creation transition (From empty) at
// createdAt first, unless history already starts with one. first is the
// status the item was created in.
func WithCreation(key string, createdAt time.Time, first, firstCategory string, history []Transition) []Transition {
	if len(history) > 0 && history[0].From == "" {
		return history
	}
	out := make([]Transition, 0, len(history)+1)
	out = append(out, Transition{ItemKey: key, At: createdAt, To: first, ToCategory: firstCategory})
	return append(out, history...)
}

// commit stores b and returns the number of problems stored with it.
func commit(ctx context.Context, st Store, source string, b Batch) (int, error) {
	if cs, ok := st.(CountingStore); ok {
		return cs.CommitCounted(ctx, source, b)
	}
	return len(b.Problems), st.Commit(ctx, source, b)
}
