package jira

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/throughline/throughline/connectors/internal/httpretry"
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

// client is a thin Jira REST client: one auth header, JSON in and out,
// retries through the shared policy (httpretry) and a cap on requests in flight.
type client struct {
	base     string // without trailing slash
	auth     string // Authorization header value
	credName string // what the credential is, for 401/403 messages
	hc       *httpretry.Client
}

func newClient(base, email, token, tokenEnv string, hc *httpretry.Client) *client {
	c := &client{base: strings.TrimRight(base, "/"), hc: hc}
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

// call sends one request (retried as httpretry says) and decodes a 2xx
// reply into out; other replies become *APIError, with what to do for
// 401, 403 and 410.
func (c *client) call(ctx context.Context, method, path string, q url.Values, body []byte, out any) error {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	h := http.Header{"Authorization": {c.auth}, "Accept": {"application/json"}}
	if body != nil {
		h.Set("Content-Type", "application/json")
	}
	req := httpretry.Request{Method: method, URL: u, Path: path, Header: h, Body: body}
	if out != nil {
		req.Decode = func(b []byte) error {
			if p, ok := out.(*searchPage); ok {
				return decodePage(b, p)
			}
			return json.Unmarshal(b, out)
		}
	}
	rep, err := c.hc.Do(ctx, req)
	if err != nil {
		return err
	}
	if rep.Status/100 == 2 {
		return nil
	}
	apiErr := &APIError{Method: method, Path: path, Status: rep.Status, RetryAfter: rep.RetryAfter}
	var eb errorBody
	if json.Unmarshal(rep.Body, &eb) == nil {
		apiErr.Messages = append(apiErr.Messages, eb.ErrorMessages...)
		for k, v := range eb.Errors {
			apiErr.Messages = append(apiErr.Messages, k+": "+v)
		}
	}
	switch {
	case rep.Status == http.StatusTooManyRequests:
		return fmt.Errorf("still rate limited after %d retries: %w", rep.Retries, apiErr)
	case rep.Status >= 500:
		return fmt.Errorf("gave up after %d retries: %w", rep.Retries, apiErr)
	case rep.Status == http.StatusUnauthorized:
		return fmt.Errorf("jira rejected %s (HTTP 401 on %s): the token may have expired or been revoked (Atlassian API tokens expire within a year); "+
			"a scoped API token needs base_url https://api.atlassian.com/ex/jira/{cloudId}: %w", c.credName, path, apiErr)
	case rep.Status == http.StatusForbidden:
		return fmt.Errorf("jira refused %s access to %s (HTTP 403): check that the account can browse the projects in the JQL (and, for boards, view the board): %w",
			c.credName, path, apiErr)
	case rep.Status == http.StatusGone:
		return fmt.Errorf("jira %s is removed on this site (HTTP 410): %w", path, apiErr)
	}
	return apiErr
}
