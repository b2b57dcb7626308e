package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/throughline/throughline/internal/sqlresult"
	"github.com/throughline/throughline/internal/web"
	"github.com/throughline/throughline/warehouse"
)

func TestSyncTriggerConflict(t *testing.T) {
	a := New(Options{Trigger: func() bool { return false }, Logger: slog.New(slog.DiscardHandler)})
	srv := web.New(web.Options{})
	a.Register(srv)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/sync", nil))
	var e web.ErrorBody
	json.Unmarshal(rec.Body.Bytes(), &e)
	if rec.Code != http.StatusConflict || e.Code != "conflict" {
		t.Errorf("busy writer: %d %+v; want 409 conflict", rec.Code, e)
	}
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		accept string
		want   sqlresult.Format
		status int
	}{
		{"", sqlresult.JSON, 0},
		{"*/*", sqlresult.JSON, 0},
		{"text/csv", sqlresult.CSV, 0},
		{"text/csv;q=0.9, application/json", sqlresult.CSV, 0},
		{"application/json; charset=utf-8", sqlresult.JSON, 0},
		{"application/vnd.apache.parquet", sqlresult.Parquet, 0},
		{"application/x-parquet", sqlresult.Parquet, 0},
		{"application/vnd.apache.arrow.stream, application/json;q=0.5", sqlresult.Arrow, 0},
		{"application/vnd.apache.arrow.stream;q=0", "", http.StatusNotAcceptable},
		{"image/png", "", http.StatusNotAcceptable},
	}
	for _, tt := range tests {
		got, err := Negotiate(tt.accept)
		status := 0
		var re *requestError
		if errors.As(err, &re) {
			status = re.status
		}
		if got != tt.want || status != tt.status {
			t.Errorf("Negotiate(%q) = %q, %v; want %q, %d", tt.accept, got, err, tt.want, tt.status)
		}
	}
}

func TestSyncRateLimit(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	now := t0
	started := 0
	a := New(Options{Trigger: func() bool { started++; return true }, SyncInterval: 30 * time.Second, Now: func() time.Time { return now }})
	srv := web.New(web.Options{})
	a.Register(srv)
	post := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/sync", nil))
		return rec
	}
	steps := []struct {
		at         time.Duration // after t0
		want       int
		retryAfter string
	}{
		{0, http.StatusAccepted, ""},
		{10 * time.Second, http.StatusTooManyRequests, "20"},
		{29 * time.Second, http.StatusTooManyRequests, "1"},
		{30 * time.Second, http.StatusAccepted, ""},
	}
	for _, s := range steps {
		now = t0.Add(s.at)
		rec := post()
		if rec.Code != s.want || rec.Header().Get("Retry-After") != s.retryAfter {
			t.Errorf("at +%s: %d Retry-After %q; want %d %q", s.at, rec.Code, rec.Header().Get("Retry-After"), s.want, s.retryAfter)
		}
	}
	if started != 2 {
		t.Errorf("%d syncs started, want 2", started)
	}
}

func TestClientSlots(t *testing.T) {
	c := newClientSlots(2)
	ctx := context.Background()
	r1, err1 := c.acquire(ctx, "10.0.0.1")
	r2, err2 := c.acquire(ctx, "10.0.0.1")
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	// Another client is not held up.
	r3, err := c.acquire(ctx, "10.0.0.2")
	if err != nil {
		t.Fatalf("another client: %v", err)
	}
	r3()
	// The first client's third request waits, and times out as a time-out.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = c.acquire(short, "10.0.0.1")
	var qe *warehouse.QueryError
	if !errors.As(err, &qe) || qe.Code != warehouse.CodeTimeout {
		t.Errorf("third request: %v; want a time-out", err)
	}
	got := make(chan error, 1)
	go func() {
		r, err := c.acquire(ctx, "10.0.0.1")
		if err == nil {
			r()
		}
		got <- err
	}()
	r1()
	if err := <-got; err != nil {
		t.Errorf("after a release: %v", err)
	}
	r2()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.slots) != 0 || len(c.users) != 0 {
		t.Errorf("clients left behind: %v %v", c.slots, c.users)
	}
}

func TestFailuresPerClient(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	f := &failures{now: func() time.Time { return now }, at: map[string][]time.Time{}}
	for i := range failuresAllowed {
		if w := f.wait("a"); w != 0 {
			t.Fatalf("after %d failures: wait %s", i, w)
		}
		f.add("a")
		now = now.Add(time.Second)
	}
	// Five in the last minute: wait until the first is a minute old.
	if w := f.wait("a"); w != 55*time.Second {
		t.Errorf("wait = %s, want 55s", w)
	}
	if w := f.wait("b"); w != 0 {
		t.Errorf("another client waits %s", w)
	}
	now = now.Add(55 * time.Second)
	if w := f.wait("a"); w != 0 {
		t.Errorf("a minute after the first failure: wait %s", w)
	}
}
