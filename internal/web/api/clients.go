package api

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/throughline/throughline/warehouse"
)

// clientSlots lets each client run at most n SQL requests at once, so one
// client cannot hold every worker; the others wait in line, within their
// time-out.
type clientSlots struct {
	n     int
	mu    sync.Mutex
	slots map[string]chan struct{}
	users map[string]int // requests holding or waiting for a client's slots
}

func newClientSlots(n int) *clientSlots {
	return &clientSlots{n: n, slots: map[string]chan struct{}{}, users: map[string]int{}}
}

// acquire waits for one of client's slots; release gives it back.
func (c *clientSlots) acquire(ctx context.Context, client string) (release func(), err error) {
	if c.n <= 0 {
		return func() {}, nil
	}
	c.mu.Lock()
	ch, ok := c.slots[client]
	if !ok {
		ch = make(chan struct{}, c.n)
		c.slots[client] = ch
	}
	c.users[client]++
	c.mu.Unlock()
	done := func() {
		c.mu.Lock()
		if c.users[client]--; c.users[client] == 0 {
			delete(c.users, client)
			delete(c.slots, client)
		}
		c.mu.Unlock()
	}
	select {
	case ch <- struct{}{}:
		return func() { <-ch; done() }, nil
	case <-ctx.Done():
		done()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, &warehouse.QueryError{Code: warehouse.CodeTimeout,
				Msg: "the query waited for this client's earlier queries (server.sql_client_concurrency) and its time ran out"}
		}
		return nil, ctx.Err()
	}
}

// Each query that costs a worker (a crash, running out of memory) counts
// against its client: more than failuresAllowed in failureWindow and the
// client's next queries are refused until the window has passed, so one
// client cannot keep the server restarting workers.
const (
	failuresAllowed = 5
	failureWindow   = time.Minute
)

// failures counts, per client, the queries that cost a worker.
type failures struct {
	mu  sync.Mutex
	now func() time.Time
	at  map[string][]time.Time
}

// add records one for client.
func (f *failures) add(client string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.at[client] = append(f.recent(client), f.now())
}

// wait is how long client must wait before its next query (0: none).
func (f *failures) wait(client string) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.recent(client)
	if len(r) == 0 {
		delete(f.at, client)
		return 0
	}
	f.at[client] = r
	if len(r) < failuresAllowed {
		return 0
	}
	return r[0].Add(failureWindow).Sub(f.now())
}

// recent drops the client's failures older than the window.
func (f *failures) recent(client string) []time.Time {
	r := f.at[client]
	cut := f.now().Add(-failureWindow)
	for len(r) > 0 && !r[0].After(cut) {
		r = r[1:]
	}
	return r
}

// clientKey identifies a client: its address without the port.
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
