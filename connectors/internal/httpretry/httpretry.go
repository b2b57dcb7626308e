// Package httpretry is the one retry client of the HTTP connectors (Jira,
// Asana): it sends a request, retries rate limits (429), server errors
// (5xx), transport failures and 2xx replies whose body is not the JSON the
// caller expects, and hands back the final reply. The rules are the same for
// every connector:
//
//   - A Retry-After header (seconds or an HTTP date) on a 429 or 5xx reply
//     is honoured up to MaxRetryAfter (default DefaultMaxRetryAfter); a
//     longer wait ends the request with *RetryAfterError instead of
//     sleeping (a sync asked to wait an hour stops and says so).
//   - Without Retry-After the wait is capped exponential backoff with full
//     jitter in [d/2, d], d doubling from 1 s to MaxBackoff.
//   - Transport errors are retried when they are timeouts, resets or an
//     early end of the body (matched with errors.Is/As, never by text).
//   - Retries are logged at Debug; the runner's request counter tells the story.
package httpretry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"
)

// DefaultMaxRetryAfter is the longest Retry-After a sync waits by default.
const DefaultMaxRetryAfter = 120 * time.Second

// Policy is what differs between connectors: their name, retry counts and caps.
type Policy struct {
	Name             string        // the vendor, first word of every error ("jira", "asana")
	MaxRetryAfter    time.Duration // longest Retry-After honoured (default DefaultMaxRetryAfter)
	RateLimitRetries int           // retries of 429 replies (default 10)
	ServerRetries    int           // retries of 5xx, transport errors and bad bodies (default 4)
	MaxBackoff       time.Duration // cap of the backoff without Retry-After (default 60 s)
	MaxBody          int64         // bytes read of a reply (default 64 MiB)
	Concurrency      int           // requests in flight (0: no cap)
}

// Options are the client's dependencies.
type Options struct {
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time                           // reads Retry-After dates
	Sleep      func(context.Context, time.Duration) error // waits between attempts; tests record
}

// Client sends requests with the policy's retries.
type Client struct {
	p   Policy
	hc  *http.Client
	log *slog.Logger
	now func() time.Time
	slp func(context.Context, time.Duration) error
	sem chan struct{}

	mu    sync.Mutex
	sizes map[string]int // the last reply's size per path (readBody)
}

// New returns a client; zero fields of p and opt take their defaults.
func New(p Policy, opt Options) *Client {
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if p.RateLimitRetries <= 0 {
		p.RateLimitRetries = 10
	}
	if p.ServerRetries <= 0 {
		p.ServerRetries = 4
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = 60 * time.Second
	}
	if p.MaxBody <= 0 {
		p.MaxBody = 64 << 20
	}
	if opt.HTTPClient == nil {
		opt.HTTPClient = &http.Client{Timeout: 2 * time.Minute}
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Sleep == nil {
		opt.Sleep = Sleep
	}
	c := &Client{p: p, hc: opt.HTTPClient, log: opt.Logger, now: opt.Now, slp: opt.Sleep}
	if p.Concurrency > 0 {
		c.sem = make(chan struct{}, p.Concurrency)
	}
	return c
}

// Request is one request to send.
type Request struct {
	Method string
	URL    string // absolute
	Path   string // named in errors and logs (no query: it may hold search text)
	Header http.Header
	Body   []byte
	// JSON: a 2xx reply must carry a JSON body; one that does not (an HTML
	// page from a proxy, a body cut short) is retried like a server error,
	// then fails with *BodyError.
	JSON bool
	// Decode, when set, decodes a 2xx reply's body (with encoding/json)
	// instead of the JSON check: it implies JSON, and the body is scanned
	// once, by the decoder. A body that is not JSON (a *json.SyntaxError:
	// Unmarshal reports it before it stores anything) is retried like a
	// server error, then fails with *BodyError; any other error of Decode
	// (a value of the wrong type) fails the request unretried. Each body
	// is a fresh slice that nothing writes to afterwards: Decode may keep
	// parts of it.
	Decode func(body []byte) error
}

// Reply is the final reply to a request, whatever its status.
type Reply struct {
	Status  int
	Header  http.Header
	Body    []byte
	Retries int // attempts before this one
	// RetryAfter is the Retry-After the reply carried (zero when none).
	RetryAfter time.Duration
}

// RetryAfterError is a reply that asked to wait longer than MaxRetryAfter
// before retrying. The request is not retried: the sync ends with it, and
// the next run resumes from its last committed batch.
type RetryAfterError struct {
	Name, Method, Path string
	Status             int
	Wait, Max          time.Duration
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%s %s %s: HTTP %d asks to wait %s before retrying (Retry-After), more than max_retry_after %s: "+
		"stopped instead of waiting; the next sync resumes from the last committed batch (raise max_retry_after to wait longer)",
		e.Name, e.Method, e.Path, e.Status, e.Wait, e.Max)
}

// BodyError is a 2xx reply whose body is not the JSON expected, after retries.
type BodyError struct {
	Name, Method, Path string
	Status             int
	ContentType        string
	Size               int
	Snippet            string // the start of the body, printable
	Err                error
}

func (e *BodyError) Error() string {
	ct := e.ContentType
	if ct == "" {
		ct = "none"
	}
	return fmt.Sprintf("%s %s %s: HTTP %d reply is not JSON (content type %s, %d bytes, starting %q): %v",
		e.Name, e.Method, e.Path, e.Status, ct, e.Size, e.Snippet, e.Err)
}

func (e *BodyError) Unwrap() error { return e.Err }

// Do sends req and retries it as the policy says. It returns the final
// reply (any status: the caller turns non-2xx replies into its own
// errors) or an error when no usable reply came: the context's, a
// transport failure after retries, *RetryAfterError or *BodyError.
func (c *Client) Do(ctx context.Context, req Request) (*Reply, error) {
	var throttled, failed int
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rep, err := c.once(ctx, req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if failed >= c.p.ServerRetries || !Retryable(err) {
				var be *BodyError
				if errors.As(err, &be) {
					return nil, err
				}
				return nil, fmt.Errorf("%s %s %s: %w", c.p.Name, req.Method, req.Path, err)
			}
			failed++
			c.log.Debug(c.p.Name+" request failed, retrying", "method", req.Method, "path", req.Path, "attempt", failed, "err", err)
			if err := c.slp(ctx, Backoff(failed, c.p.MaxBackoff)); err != nil {
				return nil, err
			}
			continue
		}
		rep.Retries = throttled + failed
		var wait time.Duration
		switch {
		case rep.Status == http.StatusTooManyRequests:
			if throttled >= c.p.RateLimitRetries {
				return rep, nil
			}
			throttled++
			wait = Backoff(throttled, c.p.MaxBackoff)
		case rep.Status >= 500:
			if failed >= c.p.ServerRetries {
				return rep, nil
			}
			failed++
			wait = Backoff(failed, c.p.MaxBackoff)
		default:
			return rep, nil
		}
		if rep.RetryAfter > c.p.MaxRetryAfter {
			return nil, &RetryAfterError{Name: c.p.Name, Method: req.Method, Path: req.Path, Status: rep.Status, Wait: rep.RetryAfter, Max: c.p.MaxRetryAfter}
		}
		if rep.RetryAfter > 0 {
			wait = rep.RetryAfter
		}
		c.log.Debug(c.p.Name+" retrying", "method", req.Method, "path", req.Path, "status", rep.Status, "wait", wait)
		if err := c.slp(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// once sends one attempt under the in-flight cap.
func (c *Client) once(ctx context.Context, req Request) (*Reply, error) {
	if c.sem != nil {
		select {
		case c.sem <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		defer func() { <-c.sem }()
	}
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL, body)
	if err != nil {
		return nil, err
	}
	for k, v := range req.Header {
		hr.Header[k] = v
	}
	resp, err := c.hc.Do(hr)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := c.readBody(resp, req.Path)
	if err != nil {
		return nil, fmt.Errorf("read reply: %w", err)
	}
	rep := &Reply{Status: resp.StatusCode, Header: resp.Header, Body: raw, RetryAfter: c.retryAfter(resp.Header)}
	if rep.Status/100 != 2 || !req.JSON && req.Decode == nil {
		return rep, nil
	}
	notJSON := func(err error) error {
		return &BodyError{Name: c.p.Name, Method: req.Method, Path: req.Path, Status: rep.Status,
			ContentType: resp.Header.Get("Content-Type"), Size: len(raw), Snippet: snippet(raw), Err: err}
	}
	if req.Decode == nil {
		if err := checkJSON(raw); err != nil {
			return nil, notJSON(err)
		}
		return rep, nil
	}
	if err := req.Decode(raw); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			if cerr := checkJSON(raw); cerr != nil {
				err = cerr // names a body cut short
			}
			return nil, notJSON(err)
		}
		return nil, fmt.Errorf("decode reply: %w", err)
	}
	return rep, nil
}

// maxSizedPaths bounds the paths whose reply size readBody remembers
// (paths that name an item are many; a sync's large replies come from a
// few).
const maxSizedPaths = 64

// readBody reads a reply (at most MaxBody bytes) into one buffer sized from
// its Content-Length, else from the last reply to the same path (the pages
// of a listing are alike; replies are mostly chunked, often compressed).
// io.ReadAll grows its buffer step by step: it allocated 994 MB for the
// ~430 MB of replies of a 50,000-issue Jira sync.
func (c *Client) readBody(resp *http.Response, path string) ([]byte, error) {
	n := resp.ContentLength
	if n < 0 {
		c.mu.Lock()
		n = int64(c.sizes[path])
		c.mu.Unlock()
		n += n / 8
	}
	// Room for the read that meets the end, as io.ReadAll keeps.
	buf := make([]byte, 0, min(max(n, 511), c.p.MaxBody)+1)
	r := io.LimitReader(resp.Body, c.p.MaxBody)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		m, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err == io.EOF {
			break
		}
		if err != nil {
			return buf, err
		}
	}
	c.mu.Lock()
	if _, ok := c.sizes[path]; ok || len(c.sizes) < maxSizedPaths {
		if c.sizes == nil {
			c.sizes = map[string]int{}
		}
		c.sizes[path] = len(buf)
	}
	c.mu.Unlock()
	return buf, nil
}

// checkJSON reports why raw is not one JSON value (nil when it is).
func checkJSON(raw []byte) error {
	if json.Valid(raw) {
		return nil
	}
	var v any
	err := json.Unmarshal(raw, &v)
	if err == nil { // Valid and Unmarshal disagree only on odd input
		return errors.New("invalid JSON")
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "unexpected end of JSON input") {
		return fmt.Errorf("body cut short: %w", io.ErrUnexpectedEOF)
	}
	return err
}

// snippet is the start of a body, for error messages.
func snippet(raw []byte) string {
	const n = 80
	if len(raw) > n {
		raw = raw[:n]
	}
	for len(raw) > 0 && !utf8.Valid(raw) {
		raw = raw[:len(raw)-1]
	}
	return strings.Join(strings.Fields(string(raw)), " ")
}

// retryAfter reads Retry-After: delta seconds or an HTTP date.
func (c *Client) retryAfter(h http.Header) time.Duration {
	s := strings.TrimSpace(h.Get("Retry-After"))
	if s == "" {
		return 0
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(min(n, int64(1<<33))) * time.Second
	}
	if t, err := http.ParseTime(s); err == nil {
		return max(t.Sub(c.now()), 0)
	}
	return 0
}

// Retryable reports whether a transport error is worth another attempt:
// timeouts, resets, refused or aborted connections, a body cut short, and
// 2xx bodies that were not JSON.
func Retryable(err error) bool {
	var ne net.Error
	var be *BodyError
	switch {
	case errors.As(err, &be):
		return true
	case errors.As(err, &ne):
		return true
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return true
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE):
		return true
	}
	return false
}

// Backoff is the n-th (from 1) wait without Retry-After: capped
// exponential backoff with full jitter in [d/2, d].
func Backoff(n int, maxWait time.Duration) time.Duration {
	d := min(time.Second<<min(n-1, 20), maxWait)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// Sleep waits d or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
