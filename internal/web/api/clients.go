package api

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"

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

// clientKey identifies a client: its address without the port.
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
