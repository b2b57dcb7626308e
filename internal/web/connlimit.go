package web

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// connLimiter is a listener that keeps at most max connections open. When a
// connection arrives at the cap, the one that has waited longest without a
// request in progress (an idle keep-alive, or a new one that sent nothing)
// is closed to make room; when every connection has a request in progress
// (each bounded by the server's time-outs), the new one is closed. So
// thousands of idle clients cannot exhaust the file descriptors, and a
// probe of /healthz still gets in.
type connLimiter struct {
	net.Listener
	max int

	mu    sync.Mutex
	conns map[*limitedConn]bool
}

// limitedConn is an accepted connection and what the server is doing on it.
type limitedConn struct {
	net.Conn
	l     *connLimiter
	once  sync.Once
	state http.ConnState
	since time.Time // of the last state change
}

func newConnLimiter(ln net.Listener, max int) *connLimiter {
	return &connLimiter{Listener: ln, max: max, conns: map[*limitedConn]bool{}}
}

func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		lc := &limitedConn{Conn: c, l: l, state: http.StateNew, since: time.Now()}
		l.mu.Lock()
		var victim *limitedConn
		if len(l.conns) >= l.max {
			for o := range l.conns {
				if o.state != http.StateActive && (victim == nil || o.since.Before(victim.since)) {
					victim = o
				}
			}
		}
		full := len(l.conns) >= l.max && victim == nil
		if !full {
			l.conns[lc] = true
		}
		l.mu.Unlock()
		if victim != nil {
			victim.Close()
		}
		if full {
			c.Close()
			continue
		}
		return lc, nil
	}
}

// track is the server's ConnState hook.
func (l *connLimiter) track(c net.Conn, st http.ConnState) {
	lc, ok := c.(*limitedConn)
	if !ok {
		return
	}
	if st == http.StateClosed || st == http.StateHijacked {
		l.forget(lc)
		return
	}
	l.mu.Lock()
	lc.state, lc.since = st, time.Now()
	l.mu.Unlock()
}

func (l *connLimiter) forget(lc *limitedConn) {
	l.mu.Lock()
	delete(l.conns, lc)
	l.mu.Unlock()
}

func (c *limitedConn) Close() error {
	var err error
	c.once.Do(func() {
		c.l.forget(c)
		err = c.Conn.Close()
	})
	return err
}
