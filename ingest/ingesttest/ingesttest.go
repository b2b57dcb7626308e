// Package ingesttest holds the contract every connector passes
// (TestConnector), an in-memory ingest.Store (MemStore), and the
// comparison of a warehouse with a fake source's truth (Truth, Diff,
// Touched, Check). It imports neither the warehouse nor a database driver.
package ingesttest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/throughline/throughline/ingest"
)

// Factory returns a fresh connector reading the same source data each time.
type Factory func(t *testing.T) ingest.Connector

// source is the source name the contract commits under.
const source = "contract"

// cancelWait bounds how long a connector may take to notice cancellation.
const cancelWait = 5 * time.Second

// errStop is what the contract's emit returns to stop a sync.
var errStop = errors.New("ingesttest: emit stopped the sync")

// reference is the outcome of the full sync the other checks compare with.
type reference struct {
	batches     []ingest.Batch
	snap        Snapshot
	keys        []string // item keys, sorted
	transitions int
}

// TestConnector checks the contract every connector must pass. The
// factory's source must hold at least one item; sources big enough for two
// or more batches also exercise resuming between batches.
//
// Subtests:
//   - full: a sync from the empty cursor emits at least one batch; each has
//     a cursor, unique item keys, and every item history it carries starts
//     with the creation transition (From empty) and runs oldest first.
//   - resync-no-duplicates: syncing again from the final cursor, and again
//     from the empty cursor, leaves the store as the first sync left it.
//   - resume: an error emit returns stops the sync and comes back from it;
//     a sync resumed from the cursor of the last stored batch ends with the
//     store a full sync makes.
//   - cancel: a context canceled inside emit stops the sync within 5s with
//     context.Canceled, and emit is not called again.
//   - ordering: no item's history appears twice in one batch, and the final
//     cursor makes the next sync emit nothing new.
func TestConnector(t *testing.T, newConnector Factory) {
	t.Helper()
	var ref *reference
	t.Run("full", func(t *testing.T) {
		st := NewMemStore()
		bs, err := syncInto(t.Context(), newConnector(t), "", st)
		if err != nil {
			t.Fatalf("Sync from the empty cursor: %v", err)
		}
		if len(bs) == 0 {
			t.Fatal("Sync from the empty cursor emitted no batch")
		}
		snap := st.Snapshot()
		r := &reference{batches: bs, snap: snap, keys: slices.Sorted(maps.Keys(snap.Items))}
		for _, h := range snap.Transitions {
			r.transitions += len(h)
		}
		for i, b := range bs {
			checkBatch(t, i+1, b)
		}
		if len(r.keys) == 0 {
			t.Error("the full sync stored no item: the factory's source must hold some")
		}
		if got, want := mustCursor(t, st), bs[len(bs)-1].Cursor; got != want {
			t.Errorf("stored cursor = %q, want the last batch's %q", got, want)
		}
		t.Logf("full sync: %d batches, %d items, %d transitions, %d worklogs, %d problems",
			len(bs), len(r.keys), r.transitions, len(snap.Worklogs), snap.Problems)
		ref = r
	})
	if ref == nil {
		t.Fatal("the full sync failed; the other subtests need its result")
	}

	t.Run("resync-no-duplicates", func(t *testing.T) {
		st := NewMemStore()
		if _, err := syncInto(t.Context(), newConnector(t), "", st); err != nil {
			t.Fatalf("first sync: %v", err)
		}
		first := st.Snapshot()
		if diff := cmp.Diff(ref.snap, first); diff != "" {
			t.Fatalf("two full syncs of the same data differ (-first +second):\n%s", diff)
		}
		tests := []struct {
			name string
			from func() ingest.Cursor
		}{
			{"from-final-cursor", func() ingest.Cursor { return mustCursor(t, st) }},
			{"from-empty-cursor", func() ingest.Cursor { return "" }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				bs, err := syncInto(t.Context(), newConnector(t), tt.from(), st)
				if err != nil {
					t.Fatalf("Sync: %v", err)
				}
				for i, b := range bs {
					checkBatch(t, i+1, b)
				}
				if diff := cmp.Diff(first, st.Snapshot()); diff != "" {
					t.Errorf("store changed by a re-sync of unchanged data (-after first sync +after re-sync):\n%s", diff)
				}
			})
		}
	})

	t.Run("resume", func(t *testing.T) {
		t.Run("error-on-first-batch", func(t *testing.T) {
			st := NewMemStore()
			var calls atomic.Int32
			err := newConnector(t).Sync(t.Context(), "", func(ctx context.Context, b ingest.Batch) error {
				calls.Add(1)
				return errStop
			})
			if !errors.Is(err, errStop) {
				t.Errorf("Sync = %v, want the error emit returned (errors.Is)", err)
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("emit called %d times, want once: a connector stops at the first error emit returns", n)
			}
			if n := st.Commits(); n != 0 {
				t.Errorf("%d batches stored, want none", n)
			}
		})
		if len(ref.batches) < 2 {
			t.Logf("the source fits one batch: resuming between batches is not exercised")
		}
		for k := 1; k < len(ref.batches); k++ {
			t.Run(fmt.Sprintf("after-batch-%d", k), func(t *testing.T) {
				st := NewMemStore()
				calls := 0
				err := newConnector(t).Sync(t.Context(), "", func(ctx context.Context, b ingest.Batch) error {
					calls++
					if calls > k {
						return errStop
					}
					return st.Commit(ctx, source, cloneBatch(b))
				})
				if !errors.Is(err, errStop) {
					t.Fatalf("Sync = %v, want the error emit returned on batch %d (errors.Is)", err, k+1)
				}
				if calls != k+1 {
					t.Errorf("emit called %d times, want %d: a connector stops at the first error emit returns", calls, k+1)
				}
				bs, err := syncInto(t.Context(), newConnector(t), mustCursor(t, st), st)
				if err != nil {
					t.Fatalf("resumed Sync: %v", err)
				}
				for i, b := range bs {
					checkBatch(t, i+1, b)
				}
				if diff := cmp.Diff(ref.snap, st.Snapshot()); diff != "" {
					t.Errorf("resumed sync ends with other records than a full sync (-full +resumed):\n%s", diff)
				}
			})
		}
	})

	t.Run("cancel", func(t *testing.T) {
		t.Run("in-emit", func(t *testing.T) {
			st := NewMemStore()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var calls, late atomic.Int32
			ok, err := syncWithin(cancelWait, func() error {
				return newConnector(t).Sync(ctx, "", func(ectx context.Context, b ingest.Batch) error {
					if calls.Add(1) > 1 {
						late.Add(1)
						return ectx.Err()
					}
					if err := st.Commit(ectx, source, cloneBatch(b)); err != nil {
						return err
					}
					cancel()
					return nil
				})
			})
			if !ok {
				t.Fatalf("Sync still running %v after its context was canceled", cancelWait)
			}
			switch {
			case errors.Is(err, context.Canceled):
			case err == nil && len(ref.batches) == 1:
				// The only batch was emitted: nothing was left to cancel.
			default:
				t.Errorf("Sync = %v, want an error matching context.Canceled (errors.Is)", err)
			}
			if n := late.Load(); n > 0 {
				t.Errorf("emit called %d more times after the context was canceled", n)
			}
			bs, err := syncInto(t.Context(), newConnector(t), mustCursor(t, st), st)
			if err != nil {
				t.Fatalf("Sync resumed after the cancel: %v", err)
			}
			for i, b := range bs {
				checkBatch(t, i+1, b)
			}
			if diff := cmp.Diff(ref.snap, st.Snapshot()); diff != "" {
				t.Errorf("sync resumed after a cancel ends with other records than a full sync (-full +resumed):\n%s", diff)
			}
		})
		t.Run("before-start", func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			var calls atomic.Int32
			ok, err := syncWithin(cancelWait, func() error {
				return newConnector(t).Sync(ctx, "", func(ctx context.Context, b ingest.Batch) error {
					calls.Add(1)
					return ctx.Err()
				})
			})
			if !ok {
				t.Fatalf("Sync with a canceled context still running after %v", cancelWait)
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Sync with a canceled context = %v, want an error matching context.Canceled", err)
			}
			if n := calls.Load(); n > 0 {
				t.Errorf("emit called %d times with a canceled context, want none", n)
			}
		})
	})

	t.Run("ordering", func(t *testing.T) {
		for i, b := range ref.batches {
			checkHistories(t, i+1, b)
		}
		st := NewMemStore()
		for _, b := range ref.batches {
			if err := st.Commit(t.Context(), source, b); err != nil {
				t.Fatal(err)
			}
		}
		n := 0
		err := newConnector(t).Sync(t.Context(), mustCursor(t, st), func(ctx context.Context, b ingest.Batch) error {
			n++
			checkBatch(t, n, b)
			before := st.Snapshot()
			if err := st.Commit(ctx, source, cloneBatch(b)); err != nil {
				return err
			}
			if diff := cmp.Diff(before, st.Snapshot()); diff != "" {
				t.Errorf("Sync from the final cursor emitted batch %d with records not stored yet (-stored +after the batch):\n%s", n, diff)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("Sync from the final cursor: %v", err)
		}
		t.Logf("Sync from the final cursor emitted %d batches", n)
	})
}

// syncInto runs c from from, committing each batch to st, and returns the
// batches emitted (copies: a connector may reuse its slices).
func syncInto(ctx context.Context, c ingest.Connector, from ingest.Cursor, st *MemStore) ([]ingest.Batch, error) {
	var bs []ingest.Batch
	err := c.Sync(ctx, from, func(ctx context.Context, b ingest.Batch) error {
		b = cloneBatch(b)
		if err := st.Commit(ctx, source, b); err != nil {
			return err
		}
		bs = append(bs, b)
		return nil
	})
	return bs, err
}

// syncWithin runs f and waits for it at most d; ok is false on a timeout
// (f then keeps running: it is a connector that ignores its context).
func syncWithin(d time.Duration, f func() error) (ok bool, err error) {
	done := make(chan error, 1)
	go func() { done <- f() }()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case err := <-done:
		return true, err
	case <-timer.C:
		return false, nil
	}
}

func mustCursor(t *testing.T, st *MemStore) ingest.Cursor {
	t.Helper()
	c, err := st.Cursor(t.Context(), source)
	if err != nil {
		t.Fatalf("read stored cursor: %v", err)
	}
	return c
}

// checkBatch checks what every batch must hold: a cursor, item keys unique
// in the batch, worklog ids, and histories that start with the creation
// transition and run oldest first.
func checkBatch(t *testing.T, n int, b ingest.Batch) {
	t.Helper()
	if b.Cursor == "" {
		t.Errorf("batch %d has an empty cursor", n)
	}
	seen := map[string]bool{}
	for _, it := range b.Items {
		switch {
		case it.Key == "":
			t.Errorf("batch %d: an item has an empty key", n)
		case seen[it.Key]:
			t.Errorf("batch %d: item %s appears twice", n, it.Key)
		}
		seen[it.Key] = true
	}
	for _, w := range b.Worklogs {
		if w.ID == "" {
			t.Errorf("batch %d: a worklog of item %s has an empty id", n, w.ItemKey)
		}
	}
	for _, key := range historyKeys(b) {
		h := history(b, key)
		if key == "" {
			t.Errorf("batch %d: %d transitions have an empty item key", n, len(h))
			continue
		}
		if h[0].From != "" {
			t.Errorf("batch %d: history of %s starts with %q -> %q, want the creation transition (From empty)", n, key, h[0].From, h[0].To)
		}
		for i := 1; i < len(h); i++ {
			if h[i].At.Before(h[i-1].At) {
				t.Errorf("batch %d: history of %s goes back in time: transition %d (%s -> %s at %s) is before transition %d (at %s)",
					n, key, i, h[i].From, h[i].To, h[i].At.Format(time.RFC3339), i-1, h[i-1].At.Format(time.RFC3339))
				break
			}
		}
	}
}

// checkHistories checks that each item's history appears once in a batch:
// contiguous, with one creation transition.
func checkHistories(t *testing.T, n int, b ingest.Batch) {
	t.Helper()
	last := map[string]int{}
	for i, tr := range b.Transitions {
		if j, ok := last[tr.ItemKey]; ok && j != i-1 {
			t.Errorf("batch %d: history of %s is split (transitions %d and %d, with other items' between)", n, tr.ItemKey, j, i)
		}
		last[tr.ItemKey] = i
	}
	for _, key := range historyKeys(b) {
		creations := 0
		for _, tr := range history(b, key) {
			if tr.From == "" {
				creations++
			}
		}
		if creations > 1 {
			t.Errorf("batch %d: history of %s appears %d times (%d creation transitions)", n, key, creations, creations)
		}
	}
}

// historyKeys lists the item keys of b's transitions in order of first appearance.
func historyKeys(b ingest.Batch) []string {
	var keys []string
	seen := map[string]bool{}
	for _, tr := range b.Transitions {
		if !seen[tr.ItemKey] {
			seen[tr.ItemKey] = true
			keys = append(keys, tr.ItemKey)
		}
	}
	return keys
}

func history(b ingest.Batch, key string) []ingest.Transition {
	var h []ingest.Transition
	for _, tr := range b.Transitions {
		if tr.ItemKey == key {
			h = append(h, tr)
		}
	}
	return h
}

// cloneBatch copies b's slices, so that b survives a connector reusing them.
func cloneBatch(b ingest.Batch) ingest.Batch {
	b.Projects = slices.Clone(b.Projects)
	b.Items = slices.Clone(b.Items)
	b.Transitions = slices.Clone(b.Transitions)
	b.People = slices.Clone(b.People)
	b.TimeOff = slices.Clone(b.TimeOff)
	b.Worklogs = slices.Clone(b.Worklogs)
	b.Milestones = slices.Clone(b.Milestones)
	for i := range b.Milestones {
		b.Milestones[i].DueChanges = slices.Clone(b.Milestones[i].DueChanges)
	}
	b.Raw = slices.Clone(b.Raw)
	for i := range b.Raw {
		b.Raw[i].Payload = slices.Clone(b.Raw[i].Payload)
	}
	b.Problems = slices.Clone(b.Problems)
	b.Reread = slices.Clone(b.Reread)
	return b
}

// MemStore is an in-memory ingest.Store with the warehouse's semantics:
// records are upserted by key (the last one in a batch wins), an item's
// history is replaced by the transitions a batch carries for it, deleted
// worklogs are removed, and the problems of the files a batch re-reads are
// replaced. It holds one source's records; cursors are kept per source.
// It is safe for concurrent use.
type MemStore struct {
	mu       sync.Mutex
	cursors  map[string]ingest.Cursor
	data     Snapshot
	problems map[string][]ingest.Problem // by file
	commits  int
}

var _ ingest.Store = (*MemStore)(nil)

// Snapshot is a copy of a MemStore's records, for comparisons with cmp.Diff.
type Snapshot struct {
	Projects    map[string]ingest.Project      // by key
	Items       map[string]ingest.Item         // by key
	Transitions map[string][]ingest.Transition // history by item key
	People      map[string]ingest.Person       // by external id
	TimeOff     map[string]ingest.TimeOff      // by person "/" date
	Worklogs    map[string]ingest.Worklog      // by id
	Milestones  map[string]ingest.Milestone    // by project "/" name
	Raw         map[string]ingest.RawPayload   // by entity "/" external id
	Problems    int                            // problems currently stored
}

func newSnapshot() Snapshot {
	return Snapshot{
		Projects:    map[string]ingest.Project{},
		Items:       map[string]ingest.Item{},
		Transitions: map[string][]ingest.Transition{},
		People:      map[string]ingest.Person{},
		TimeOff:     map[string]ingest.TimeOff{},
		Worklogs:    map[string]ingest.Worklog{},
		Milestones:  map[string]ingest.Milestone{},
		Raw:         map[string]ingest.RawPayload{},
	}
}

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{cursors: map[string]ingest.Cursor{}, data: newSnapshot(), problems: map[string][]ingest.Problem{}}
}

// Cursor returns the cursor stored for source ("" when none).
func (s *MemStore) Cursor(ctx context.Context, source string) (ingest.Cursor, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursors[source], nil
}

// Commit stores b's records and cursor.
func (s *MemStore) Commit(ctx context.Context, source string, b ingest.Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := &s.data
	for _, p := range b.Projects {
		d.Projects[p.Key] = p
	}
	for _, p := range b.People {
		d.People[p.ExternalID] = p
	}
	for _, t := range b.TimeOff {
		d.TimeOff[t.Person+"/"+t.Date.Format("2006-01-02")] = t
	}
	for _, it := range b.Items {
		d.Items[it.Key] = it
	}
	// Like the warehouse, every transition the batch carries for an item
	// makes up its new history: an item sent twice in one batch shows up.
	histories := map[string][]ingest.Transition{}
	for _, t := range b.Transitions {
		histories[t.ItemKey] = append(histories[t.ItemKey], t)
	}
	maps.Copy(d.Transitions, histories)
	for _, w := range b.Worklogs {
		if w.Deleted {
			delete(d.Worklogs, w.ID)
			continue
		}
		d.Worklogs[w.ID] = w
	}
	for _, m := range b.Milestones {
		m.DueChanges = slices.Clone(m.DueChanges)
		d.Milestones[m.Project+"/"+m.Name] = m
	}
	for _, r := range b.Raw {
		r.Payload = slices.Clone(r.Payload)
		d.Raw[r.Entity+"/"+r.ExternalID] = r
	}
	for _, f := range b.Reread {
		delete(s.problems, f)
	}
	for _, p := range b.Problems {
		s.problems[p.File] = append(s.problems[p.File], p)
	}
	s.cursors[source] = b.Cursor
	s.commits++
	return nil
}

// Commits is the number of successful Commit calls.
func (s *MemStore) Commits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commits
}

// Snapshot returns a copy of the stored records.
func (s *MemStore) Snapshot() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.data
	out := Snapshot{
		Projects:    maps.Clone(d.Projects),
		Items:       maps.Clone(d.Items),
		Transitions: make(map[string][]ingest.Transition, len(d.Transitions)),
		People:      maps.Clone(d.People),
		TimeOff:     maps.Clone(d.TimeOff),
		Worklogs:    maps.Clone(d.Worklogs),
		Milestones:  maps.Clone(d.Milestones),
		Raw:         maps.Clone(d.Raw),
	}
	for k, h := range d.Transitions {
		out.Transitions[k] = slices.Clone(h)
	}
	for _, ps := range s.problems {
		out.Problems += len(ps)
	}
	return out
}
