package jira

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// APIError is a non-2xx reply of the Jira API. Match it with errors.As.
type APIError struct {
	Method     string
	Path       string // request path, without the query
	Status     int
	RetryAfter time.Duration // from Retry-After, zero when absent
	Messages   []string      // errorMessages and errors of the reply body
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("jira %s %s: HTTP %d", e.Method, e.Path, e.Status)
	if len(e.Messages) > 0 {
		s += ": " + strings.Join(e.Messages, "; ")
	}
	return s
}

// Retry bounds.
const (
	maxRateLimitRetries = 10
	maxServerRetries    = 4
	maxBackoff          = 60 * time.Second
	maxBody             = 64 << 20
)

// client is a thin Jira REST client: one auth header, JSON in and out,
// retries for 429, 5xx and transport errors, and a cap on requests in flight.
type client struct {
	base     string // without trailing slash
	auth     string // Authorization header value
	credName string // what the credential is, for 401/403 messages
	hc       *http.Client
	sleep    func(context.Context, time.Duration) error
	logger   *slog.Logger
	sem      chan struct{}
}

func newClient(base, email, token, tokenEnv string, concurrency int, hc *http.Client, sleep func(context.Context, time.Duration) error, logger *slog.Logger) *client {
	c := &client{base: strings.TrimRight(base, "/"), hc: hc, sleep: sleep, logger: logger, sem: make(chan struct{}, concurrency)}
	if email != "" {
		c.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(email+":"+token))
		c.credName = fmt.Sprintf("email %s with the API token in $%s", email, tokenEnv)
	} else {
		c.auth = "Bearer " + token
		c.credName = fmt.Sprintf("the personal access token in $%s", tokenEnv)
	}
	return c
}

// errorBody is Jira's ErrorCollection.
type errorBody struct {
	ErrorMessages []string          `json:"errorMessages"`
	Errors        map[string]string `json:"errors"`
}

// get fetches path with query q and decodes the JSON reply into out.
func (c *client) get(ctx context.Context, path string, q url.Values, out any) error {
	return c.call(ctx, http.MethodGet, path, q, nil, out)
}

// post sends body as JSON to path and decodes the JSON reply into out.
func (c *client) post(ctx context.Context, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("jira POST %s: encode: %w", path, err)
	}
	return c.call(ctx, http.MethodPost, path, nil, b, out)
}

// call sends one request, retrying 429 (after Retry-After, else capped
// exponential backoff with jitter), 5xx and transport errors a bounded
// number of times.
func (c *client) call(ctx context.Context, method, path string, q url.Values, body []byte, out any) error {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var throttled, failed int
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		raw, apiErr, err := c.do(ctx, method, u, path, body)
		var wait time.Duration
		switch {
		case err == nil && apiErr == nil:
			if out == nil {
				return nil
			}
			if err := json.Unmarshal(raw, out); err != nil {
				return fmt.Errorf("jira %s %s: decode reply: %w", method, path, err)
			}
			return nil
		case err != nil:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if failed >= maxServerRetries || !retryable(err) {
				return fmt.Errorf("jira %s %s: %w", method, path, err)
			}
			failed++
			wait = backoff(failed)
			c.logger.Warn("jira request failed, retrying", "method", method, "path", path, "attempt", failed, "err", err)
		case apiErr.Status == http.StatusTooManyRequests:
			if throttled >= maxRateLimitRetries {
				return fmt.Errorf("still rate limited after %d retries: %w", throttled, apiErr)
			}
			throttled++
			wait = apiErr.RetryAfter
			if wait <= 0 {
				wait = backoff(throttled)
			}
			c.logger.Info("jira rate limit, waiting", "path", path, "wait", wait)
		case apiErr.Status >= 500:
			if failed >= maxServerRetries {
				return fmt.Errorf("gave up after %d retries: %w", failed, apiErr)
			}
			failed++
			wait = apiErr.RetryAfter
			if wait <= 0 {
				wait = backoff(failed)
			}
			c.logger.Warn("jira server error, retrying", "method", method, "path", path, "status", apiErr.Status, "attempt", failed)
		case apiErr.Status == http.StatusUnauthorized:
			return fmt.Errorf("jira rejected %s (HTTP 401 on %s): the token may have expired or been revoked (Atlassian API tokens expire within a year); "+
				"a scoped API token needs base_url https://api.atlassian.com/ex/jira/{cloudId}: %w", c.credName, path, apiErr)
		case apiErr.Status == http.StatusForbidden:
			return fmt.Errorf("jira refused %s access to %s (HTTP 403): check that the account can browse the projects in the JQL (and, for boards, view the board): %w",
				c.credName, path, apiErr)
		case apiErr.Status == http.StatusGone:
			return fmt.Errorf("jira %s is removed on this site (HTTP 410): %w", path, apiErr)
		default:
			return apiErr
		}
		if err := c.sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// do sends one request under the in-flight cap. A non-2xx reply is
// returned as apiErr.
func (c *client) do(ctx context.Context, method, u, path string, body []byte) (raw []byte, apiErr *APIError, err error) {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	defer func() { <-c.sem }()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	raw, err = io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, nil, fmt.Errorf("read reply: %w", err)
	}
	if resp.StatusCode/100 == 2 {
		return raw, nil, nil
	}
	e := &APIError{Method: method, Path: path, Status: resp.StatusCode}
	if s := strings.TrimSpace(resp.Header.Get("Retry-After")); s != "" {
		if n, perr := strconv.Atoi(s); perr == nil && n >= 0 {
			e.RetryAfter = time.Duration(n) * time.Second
		}
	}
	var eb errorBody
	if json.Unmarshal(raw, &eb) == nil {
		e.Messages = append(e.Messages, eb.ErrorMessages...)
		for k, v := range eb.Errors {
			e.Messages = append(e.Messages, k+": "+v)
		}
	}
	return nil, e, nil
}

// retryable reports whether a transport error is worth another attempt.
func retryable(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || strings.Contains(err.Error(), "connection reset")
}

// backoff is capped exponential backoff with full jitter in [d/2, d].
func backoff(n int) time.Duration {
	d := min(time.Second<<min(n-1, 10), maxBackoff)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
