package httpretry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// script serves the replies in order, then 200 {"ok":true}.
type script []func(w http.ResponseWriter)

func reply(status int, header map[string]string, body string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
}

func serve(t *testing.T, s script) (*httptest.Server, *int) {
	t.Helper()
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		i := n
		n++
		mu.Unlock()
		if i < len(s) {
			s[i](w)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

type waits struct{ d []time.Duration }

func (w *waits) sleep(ctx context.Context, d time.Duration) error {
	w.d = append(w.d, d)
	return ctx.Err()
}

func TestDo(t *testing.T) {
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	html := map[string]string{"Content-Type": "text/html"}
	for _, tc := range []struct {
		name     string
		script   script
		max      time.Duration
		status   int             // the final reply's, when no error
		waits    []time.Duration // exact, when not jittered
		jittered int             // waits in [0.5 s, 1 s] doubling, when jittered
		err      string          // substring of the error
	}{
		{"429 waits Retry-After", script{reply(429, map[string]string{"Retry-After": "7"}, "")}, 0, 200, []time.Duration{7 * time.Second}, 0, ""},
		{"Retry-After as a date", script{reply(429, map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)}, "")}, 0, 200,
			[]time.Duration{90 * time.Second}, 0, ""},
		{"503 honours Retry-After", script{reply(503, map[string]string{"Retry-After": "3"}, "")}, 0, 200, []time.Duration{3 * time.Second}, 0, ""},
		{"500 backs off with jitter", script{reply(500, nil, ""), reply(502, nil, "")}, 0, 200, nil, 2, ""},
		{"Retry-After above the cap stops", script{reply(429, map[string]string{"Retry-After": "3600"}, "")}, 0, 0, []time.Duration{}, 0,
			"HTTP 429 asks to wait 1h0m0s before retrying (Retry-After), more than max_retry_after 2m0s"},
		{"a raised cap waits", script{reply(429, map[string]string{"Retry-After": "3600"}, "")}, 2 * time.Hour, 200, []time.Duration{time.Hour}, 0, ""},
		{"HTML once is retried", script{reply(200, html, "<html>maintenance</html>")}, 0, 200, nil, 1, ""},
		{"HTML every time", script{reply(200, html, "<html><title>Site maintenance</title></html>"), reply(200, html, "<html/>"), reply(200, html, "<html/>"),
			reply(200, html, "<html/>"), reply(200, html, "<html><title>Down</title></html>")}, 0, 0, nil, 4,
			`GET /x: HTTP 200 reply is not JSON (content type text/html, 32 bytes, starting "<html><title>Down</title></html>")`},
		{"truncated JSON", script{reply(200, nil, `{"a":`), reply(200, nil, `{"a":`), reply(200, nil, `{"a":`), reply(200, nil, `{"a":`), reply(200, nil, `{"a":`)}, 0, 0, nil, 4,
			"body cut short"},
		{"404 is returned", script{reply(404, nil, `{"errorMessages":["gone"]}`)}, 0, 404, []time.Duration{}, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := serve(t, tc.script)
			w := &waits{}
			c := New(Policy{Name: "vendor", MaxRetryAfter: tc.max}, Options{Now: func() time.Time { return now }, Sleep: w.sleep})
			rep, err := c.Do(t.Context(), Request{Method: http.MethodGet, URL: srv.URL + "/x?q=secret", Path: "/x", JSON: true})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error %q shows the query", err)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if rep.Status != tc.status {
				t.Errorf("status = %d, want %d", rep.Status, tc.status)
			}
			if tc.jittered > 0 {
				if len(w.d) != tc.jittered {
					t.Fatalf("waits = %v, want %d", w.d, tc.jittered)
				}
				for i, d := range w.d {
					if hi := time.Second << i; d < hi/2 || d > hi {
						t.Errorf("wait %d = %v, want %v–%v", i, d, hi/2, hi)
					}
				}
				return
			}
			if tc.waits != nil {
				if diff := cmp.Diff(tc.waits, append([]time.Duration{}, w.d...)); diff != "" {
					t.Errorf("waits (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestRetryAfterErrorIsTyped(t *testing.T) {
	srv, _ := serve(t, script{reply(429, map[string]string{"Retry-After": "600"}, "")})
	c := New(Policy{Name: "asana"}, Options{Sleep: (&waits{}).sleep})
	_, err := c.Do(t.Context(), Request{Method: http.MethodGet, URL: srv.URL, Path: "/tasks"})
	var ra *RetryAfterError
	if !errors.As(err, &ra) || ra.Wait != 10*time.Minute || ra.Max != DefaultMaxRetryAfter || ra.Status != 429 || ra.Path != "/tasks" {
		t.Errorf("err = %#v, want a RetryAfterError of 10m over the default cap", err)
	}
}

type resetTransport struct{ left int }

func (r *resetTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if r.left > 0 {
		r.left--
		return nil, fmt.Errorf("read tcp: %w", syscall.ECONNRESET)
	}
	return http.DefaultTransport.RoundTrip(req)
}

func TestTransportErrorsRetried(t *testing.T) {
	srv, _ := serve(t, nil)
	w := &waits{}
	c := New(Policy{Name: "jira"}, Options{HTTPClient: &http.Client{Transport: &resetTransport{left: 2}}, Sleep: w.sleep})
	rep, err := c.Do(t.Context(), Request{Method: http.MethodGet, URL: srv.URL, Path: "/x"})
	if err != nil || rep.Status != 200 || len(w.d) != 2 {
		t.Errorf("Do = %v, %v after waits %v; want 200 after 2 retried resets", rep, err, w.d)
	}
	c = New(Policy{Name: "jira"}, Options{HTTPClient: &http.Client{Transport: &resetTransport{left: 9}}, Sleep: w.sleep})
	if _, err := c.Do(t.Context(), Request{Method: http.MethodGet, URL: srv.URL, Path: "/x"}); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("Do after resets beyond the retries = %v, want ECONNRESET", err)
	}
}

// TestDecode: a Decode request retries a body that is not JSON as the JSON
// check does, leaves the value untouched by the bodies it rejected, and
// fails a body of the wrong shape at once.
func TestDecode(t *testing.T) {
	type v struct {
		A  int  `json:"a"`
		OK bool `json:"ok"`
	}
	for _, tc := range []struct {
		name    string
		script  script
		calls   int    // requests sent
		want    v      // the decoded value
		err     string // substring of the error
		bodyErr bool   // the error is a *BodyError
	}{
		{"decoded once", script{reply(200, nil, `{"a":3}`)}, 1, v{A: 3}, "", false},
		{"truncated, then whole", script{reply(200, nil, `{"a":1,"ok":`)}, 2, v{OK: true}, "", false},
		{"HTML, then JSON", script{reply(200, map[string]string{"Content-Type": "text/html"}, "<html/>")}, 2, v{OK: true}, "", false},
		{"truncated every time", script{reply(200, nil, `{"a":`), reply(200, nil, `{"a":`), reply(200, nil, `{"a":`), reply(200, nil, `{"a":`), reply(200, nil, `{"a":`)},
			5, v{}, "body cut short", true},
		{"wrong type is not retried", script{reply(200, nil, `{"a":"three"}`)}, 1, v{}, "decode reply: json: cannot unmarshal string", false},
		{"an error status is not decoded", script{reply(404, nil, `{"a":"x"}`)}, 1, v{}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, n := serve(t, tc.script)
			c := New(Policy{Name: "vendor"}, Options{Sleep: (&waits{}).sleep})
			var got v
			decodes := 0
			_, err := c.Do(t.Context(), Request{Method: http.MethodGet, URL: srv.URL, Path: "/x",
				Decode: func(b []byte) error { decodes++; return json.Unmarshal(b, &got) }})
			if tc.err == "" && err != nil {
				t.Fatal(err)
			}
			if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
			var be *BodyError
			if errors.As(err, &be) != tc.bodyErr {
				t.Errorf("err = %v: BodyError %v, want %v", err, !tc.bodyErr, tc.bodyErr)
			}
			if *n != tc.calls {
				t.Errorf("%d requests, want %d", *n, tc.calls)
			}
			if got != tc.want {
				t.Errorf("decoded %+v, want %+v", got, tc.want)
			}
			if tc.name == "an error status is not decoded" && decodes != 0 {
				t.Errorf("Decode called %d times on a 404", decodes)
			}
		})
	}
}

// TestReadBody: replies read whole whatever the size readBody expected
// (larger than the last one, smaller, with or without Content-Length), cut
// at MaxBody as before, and the sizes of at most maxSizedPaths paths kept.
func TestReadBody(t *testing.T) {
	body := func(n int) string {
		var b strings.Builder
		for i := 0; b.Len() < n; i++ {
			fmt.Fprintf(&b, "%d,", i)
		}
		return b.String()[:n]
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscan(r.URL.Query().Get("n"), &n)
		if r.URL.Query().Get("length") != "" {
			w.Header().Set("Content-Length", fmt.Sprint(n))
		}
		s := body(n)
		// In pieces, flushed: chunked unless the length is set.
		for len(s) > 0 {
			k := min(len(s), 700)
			fmt.Fprint(w, s[:k])
			w.(http.Flusher).Flush()
			s = s[k:]
		}
	}))
	t.Cleanup(srv.Close)
	c := New(Policy{Name: "vendor", MaxBody: 10_000}, Options{Sleep: (&waits{}).sleep})
	for _, tc := range []struct {
		path   string
		n      int
		length bool
		want   int // bytes read
	}{
		{"/a", 3_000, false, 3_000},
		{"/a", 5_000, false, 5_000}, // larger than the last reply
		{"/a", 100, false, 100},     // smaller
		{"/a", 0, false, 0},
		{"/a", 6_000, true, 6_000},
		{"/a", 20_000, false, 10_000}, // cut at MaxBody
		{"/b", 20_000, true, 10_000},
		{"/b", 9_999, false, 9_999},
	} {
		rep, err := c.Do(t.Context(), Request{Method: http.MethodGet, URL: fmt.Sprintf("%s?n=%d&length=%s", srv.URL, tc.n, map[bool]string{true: "1"}[tc.length]), Path: tc.path})
		if err != nil {
			t.Fatal(err)
		}
		if want := body(tc.n)[:tc.want]; string(rep.Body) != want {
			t.Errorf("%s, %d bytes (length %v): read %d bytes, want %d, equal %v", tc.path, tc.n, tc.length, len(rep.Body), tc.want, string(rep.Body) == want)
		}
	}
	// A reply cut before its Content-Length: an error naming the request.
	short := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "5000")
		fmt.Fprint(w, `{"a":1`)
	}))
	t.Cleanup(short.Close)
	if rep, err := c.Do(t.Context(), Request{Method: http.MethodGet, URL: short.URL, Path: "/a"}); err == nil ||
		!strings.Contains(err.Error(), "vendor GET /a: read reply: unexpected EOF") {
		t.Errorf("reply cut short: %v, %v; want the error naming the request", rep, err)
	}
	for i := range 2 * maxSizedPaths {
		if _, err := c.Do(t.Context(), Request{Method: http.MethodGet, URL: srv.URL + "?n=10", Path: fmt.Sprintf("/item/%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.sizes) != maxSizedPaths {
		t.Errorf("sizes of %d paths kept, want %d", len(c.sizes), maxSizedPaths)
	}
}
