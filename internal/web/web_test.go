package web

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// serve runs s on a loopback listener until the test ends.
func serve(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// get sends GET path on conn (keep-alive) and reads the answer.
func get(t *testing.T, c net.Conn, r *bufio.Reader, path string) (int, error) {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func TestConnectionCapClosesIdleConnectionsFirst(t *testing.T) {
	addr := serve(t, New(Options{MaxConns: 16}))
	type conn struct {
		c net.Conn
		r *bufio.Reader
	}
	var idle []conn
	for range 16 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		r := bufio.NewReader(c)
		if code, err := get(t, c, r, "/healthz"); err != nil || code != 200 {
			t.Fatalf("/healthz: %d %v", code, err)
		}
		idle = append(idle, conn{c, r})
	}
	// Four more clients arrive: each gets in; the four longest idle are
	// closed to make room.
	for range 4 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if code, err := get(t, c, bufio.NewReader(c), "/healthz"); err != nil || code != 200 {
			t.Errorf("/healthz at the cap: %d %v", code, err)
		}
	}
	// Exactly four of the sixteen idle connections were closed. Which four
	// is the longest idle by the server's clock, which notes a connection
	// idle after the client has its answer: under load the order can differ
	// from the order the test sent its requests in, so it is not asserted.
	closed := 0
	for _, ic := range idle {
		if _, err := get(t, ic.c, ic.r, "/healthz"); err != nil {
			closed++
		}
	}
	if closed != 4 {
		t.Errorf("%d idle connections closed for 4 new ones; want 4", closed)
	}
}

func TestSlowHeadersAreCutOff(t *testing.T) {
	addr := serve(t, New(Options{ReadHeaderTimeout: 200 * time.Millisecond}))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprint(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n") // never ends the headers
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	_, err = io.ReadAll(c)
	if d := time.Since(start); err != nil || d > 3*time.Second {
		t.Errorf("slow headers: connection closed after %s (%v); want about 200ms", d, err)
	}
}

func TestAuth(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	tests := []struct {
		name       string
		auth       Auth
		admin      bool // RequireAdmin, else Require
		bearer     string
		want       int
		closesConn bool
	}{
		{"read: no tokens configured", Auth{}, false, "", 204, false},
		{"read: sql token", Auth{Token: "s"}, false, "s", 204, false},
		{"read: admin token reads too", Auth{Token: "s", AdminToken: "a"}, false, "a", 204, false},
		{"read: wrong token", Auth{Token: "s", AdminToken: "a"}, false, "x", 401, true},
		{"read: none sent", Auth{Token: "s"}, false, "", 401, true},
		{"read: disabled", Auth{Disabled: "beyond loopback"}, false, "", 401, true},
		{"admin: admin token", Auth{Token: "s", AdminToken: "a"}, true, "a", 204, false},
		{"admin: sql token", Auth{Token: "s", AdminToken: "a"}, true, "s", 403, true},
		{"admin: sql token, no admin token configured", Auth{Token: "s"}, true, "s", 403, true},
		{"admin: wrong token", Auth{Token: "s", AdminToken: "a"}, true, "x", 401, true},
		{"admin: no tokens configured (loopback)", Auth{}, true, "", 204, false},
		{"admin: empty bearer never matches", Auth{AdminToken: "a"}, true, "", 401, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.auth.Require(ok)
			if tt.admin {
				h = tt.auth.RequireAdmin(ok)
			}
			req := httptest.NewRequest("POST", "/x", nil)
			if tt.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+tt.bearer)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want || (rec.Header().Get("Connection") == "close") != tt.closesConn {
				t.Errorf("%d, Connection %q; want %d, close %v", rec.Code, rec.Header().Get("Connection"), tt.want, tt.closesConn)
			}
			if tt.want >= 400 && !strings.Contains(rec.Body.String(), `"code":`) {
				t.Errorf("error body %q", rec.Body.String())
			}
		})
	}
}

func TestUnauthorizedTrickledBodyIsNotWaitedFor(t *testing.T) {
	s := New(Options{})
	s.Handle("POST /api/v1/sql", Auth{Token: "s"}.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	})))
	addr := serve(t, s)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Announces a megabyte and sends ten bytes.
	fmt.Fprint(c, "POST /api/v1/sql HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n0123456789")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	b, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Errorf("read: %v", err)
	}
	if !strings.HasPrefix(string(b), "HTTP/1.1 401") || time.Since(start) > 2*time.Second {
		t.Errorf("after %s: %q; want a 401 and the connection closed", time.Since(start), b)
	}
}
