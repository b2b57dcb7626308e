package asana

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/throughline/throughline/connectors/internal/httpretry"
)

// APIError is a non-2xx reply of the Asana API. Match it with errors.As.
type APIError struct {
	Status     int
	RetryAfter time.Duration // from the Retry-After header (429), zero when absent
	Path       string        // request path, without the query
	Message    string        // errors[0].message of the reply body

	syncToken string // the fresh events sync token of a 412 reply
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("asana %s: HTTP %d", e.Path, e.Status)
	}
	return fmt.Sprintf("asana %s: HTTP %d: %s", e.Path, e.Status, e.Message)
}

// client is a thin Asana API 1.0 client: Bearer auth, {"data":…} envelope,
// limit/offset pagination, and retries through the shared policy (httpretry).
type client struct {
	base     string // without trailing slash
	token    string
	tokenEnv string // named in credential errors
	hc       *httpretry.Client
	logger   *slog.Logger
	limit    int

	// date is the Date header of the last 2xx or 412 reply: the server's
	// clock, zero when absent.
	date time.Time
}

type errorBody struct {
	Errors []struct {
		Message string `json:"message"`
	} `json:"errors"`
	Sync string `json:"sync"` // 412 replies of /events
}

// event is one record of GET /events (compact resource and parent).
type event struct {
	Resource struct {
		GID          string `json:"gid"`
		ResourceType string `json:"resource_type"`
	} `json:"resource"`
	Type   string `json:"type"`
	Action string `json:"action"`
	Parent *struct {
		GID          string `json:"gid"`
		ResourceType string `json:"resource_type"`
	} `json:"parent"`
}

type eventsBody struct {
	Data    []event `json:"data"`
	Sync    string  `json:"sync"`
	HasMore bool    `json:"has_more"`
}

// errSyncExpired is the 412 of /events: the token was missing, invalid or
// too old; Token is the fresh one the reply carries.
type errSyncExpired struct{ Token string }

func (e *errSyncExpired) Error() string { return "asana events: sync token invalid or too old" }

// events reads one page (at most 100 events) of resource's events after
// token. An empty, invalid or expired token gives *errSyncExpired.
func (c *client) events(ctx context.Context, resource, token string) (eventsBody, error) {
	q := url.Values{"resource": {resource}}
	if token != "" {
		q.Set("sync", token)
	}
	body, err := c.get(ctx, "/events", q)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusPreconditionFailed {
		if ae.syncToken == "" {
			return eventsBody{}, fmt.Errorf("asana /events: 412 without a sync token: %w", ae)
		}
		return eventsBody{}, &errSyncExpired{Token: ae.syncToken}
	}
	if err != nil {
		return eventsBody{}, err
	}
	var eb eventsBody
	if err := json.Unmarshal(body, &eb); err != nil {
		return eventsBody{}, fmt.Errorf("asana /events: decode: %w", err)
	}
	if eb.Sync == "" {
		return eventsBody{}, errors.New("asana /events: reply without a sync token")
	}
	return eb, nil
}

// one fetches a single record ({"data": {...}}).
func (c *client) one(ctx context.Context, path string, q url.Values) (json.RawMessage, error) {
	body, err := c.get(ctx, path, q)
	if err != nil {
		return nil, err
	}
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("%s: decode: %w", path, err)
	}
	return env.Data, nil
}

type pageBody struct {
	Data     []json.RawMessage `json:"data"`
	NextPage *struct {
		Offset string `json:"offset"`
	} `json:"next_page"`
}

// list walks every page of a list endpoint, calling fn with each page's
// records and whether it is the last page. Offsets live only in this loop.
func (c *client) list(ctx context.Context, path string, q url.Values, fn func(data []json.RawMessage, last bool) error) error {
	q = cloneValues(q)
	q.Set("limit", strconv.Itoa(c.limit))
	for page := 1; ; page++ {
		body, err := c.get(ctx, path, q)
		if err != nil {
			return fmt.Errorf("list %s page %d: %w", path, page, err)
		}
		var p pageBody
		if err := json.Unmarshal(body, &p); err != nil {
			return fmt.Errorf("list %s page %d: decode: %w", path, page, err)
		}
		last := p.NextPage == nil || p.NextPage.Offset == ""
		c.logger.Debug("asana page", "path", path, "page", page, "records", len(p.Data))
		if err := fn(p.Data, last); err != nil {
			return err
		}
		if last {
			return nil
		}
		q.Set("offset", p.NextPage.Offset)
	}
}

// listAll collects every record of a list endpoint.
func (c *client) listAll(ctx context.Context, path string, q url.Values) ([]json.RawMessage, error) {
	var all []json.RawMessage
	err := c.list(ctx, path, q, func(data []json.RawMessage, _ bool) error {
		all = append(all, data...)
		return nil
	})
	return all, err
}

// get fetches one URL (retried as httpretry says) and returns the body of
// a 2xx reply; other replies become *APIError, with what to do for 401,
// 403 and 402.
func (c *client) get(ctx context.Context, path string, q url.Values) ([]byte, error) {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	rep, err := c.hc.Do(ctx, httpretry.Request{Method: http.MethodGet, URL: u, Path: path, JSON: true,
		Header: http.Header{"Authorization": {"Bearer " + c.token}, "Accept": {"application/json"}}})
	if err != nil {
		return nil, err
	}
	if rep.Status/100 == 2 || rep.Status == http.StatusPreconditionFailed {
		if d, err := http.ParseTime(rep.Header.Get("Date")); err == nil {
			c.date = d.UTC()
		}
	}
	if rep.Status/100 == 2 {
		return rep.Body, nil
	}
	apiErr := &APIError{Status: rep.Status, Path: path, RetryAfter: rep.RetryAfter}
	var eb errorBody
	if json.Unmarshal(rep.Body, &eb) == nil && len(eb.Errors) > 0 {
		apiErr.Message = eb.Errors[0].Message
		apiErr.syncToken = eb.Sync
	}
	switch rep.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return nil, fmt.Errorf("asana rejected the token in $%s (HTTP %d): check that the variable holds a current personal access token or service-account token with access to the configured workspace and projects: %w",
			c.tokenEnv, apiErr.Status, apiErr)
	case http.StatusPaymentRequired:
		return nil, fmt.Errorf("asana %s is a premium-only feature (HTTP 402): the workspace's plan does not include it: %w", path, apiErr)
	}
	return nil, apiErr
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}

var errNoToken = errors.New("token is empty")
