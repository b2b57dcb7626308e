// Package jira syncs Jira Cloud (REST v3) and Jira Data Center (REST v2):
// issues with their complete status history, fix versions and epics as
// milestones, worklogs, sprints, and deletions. See README.md.
package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/throughline/throughline/connectors/internal/httpretry"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/internal/config"
)

// Overlap is how far before the stored watermark an incremental search
// starts: JQL dates have minute precision and the search index lags writes.
const Overlap = 5 * time.Minute

// ReconcileEvery is how often a sync lists every issue id in scope to mark
// issues that were deleted or moved out of scope.
const ReconcileEvery = 24 * time.Hour

// DefaultConcurrency is the number of requests in flight per source.
const DefaultConcurrency = 4

// Config is the jira source configuration.
type Config struct {
	BaseURL  string // https://your-site.atlassian.net, https://api.atlassian.com/ex/jira/{cloudId} or a Data Center root
	Email    string // Cloud: the account of the API token (Basic auth); empty: Bearer (Data Center PAT, OAuth)
	TokenEnv string // the variable the token was read from (named in errors, never the token)
	Token    string // never from a file
	JQL      string // the scope; must restrict the search (Jira rejects unbounded JQL)
	Boards   []int  // agile boards: sprints and their estimation field
	// Concurrency caps requests in flight (default DefaultConcurrency).
	Concurrency int
	// PageSize is the issues per search page (default 100, Jira's cap with fields).
	PageSize int
	// BatchSize is the most issues one committed batch carries (default
	// 1000: ten pages. A batch costs ~35 statements whatever its size:
	// 10,000 issues synced at a median 73 % of the replay ceiling against
	// 68 % with 500, docs/performance.md).
	BatchSize int
	// MaxRetryAfter is the longest Retry-After the sync waits; a reply
	// asking for longer ends it with *httpretry.RetryAfterError (default
	// httpretry.DefaultMaxRetryAfter).
	MaxRetryAfter time.Duration
}

// Validate checks the config.
func (c Config) Validate() error {
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("base_url %q: want the site URL such as https://your-site.atlassian.net", c.BaseURL)
	}
	if strings.TrimSpace(c.JQL) == "" {
		return errors.New(`jql: required: Jira rejects unbounded searches; give the scope, e.g. "project in (WEB, OPS)"`)
	}
	if c.Token == "" {
		return fmt.Errorf("$%s is empty: set it to a Jira API token (Cloud) or personal access token (Data Center)", c.TokenEnv)
	}
	if c.Concurrency < 0 || c.Concurrency > 64 {
		return fmt.Errorf("concurrency %d: want 1–64", c.Concurrency)
	}
	if c.MaxRetryAfter < 0 {
		return fmt.Errorf("max_retry_after %s: want a positive duration", c.MaxRetryAfter)
	}
	return nil
}

// Options are the connector's dependencies.
type Options struct {
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time
	// Sleep waits between retries; tests inject one that records.
	Sleep func(context.Context, time.Duration) error
}

// Connector syncs one Jira site.
type Connector struct {
	cfg    Config
	c      *client
	logger *slog.Logger
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
}

var _ ingest.Connector = (*Connector)(nil)

// FromSource builds a connector from a configured source, reading the token
// from the environment variable src.TokenEnv names.
func FromSource(src config.Source, opt Options) (*Connector, error) {
	tok := os.Getenv(src.TokenEnv)
	if tok == "" {
		return nil, fmt.Errorf("jira: environment variable %s is empty or unset: set it to a Jira API token (Cloud) or personal access token (Data Center)", src.TokenEnv)
	}
	return New(Config{BaseURL: src.BaseURL, Email: src.Email, TokenEnv: src.TokenEnv, Token: tok, JQL: src.JQL,
		Boards: src.Boards, Concurrency: src.Concurrency, MaxRetryAfter: src.RetryAfterCap()}, opt)
}

// New validates cfg and returns a connector.
func New(cfg Config, opt Options) (*Connector, error) {
	if cfg.TokenEnv == "" {
		cfg.TokenEnv = "token_env"
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("jira: %w", err)
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 100
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 1000
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	hc := httpretry.New(httpretry.Policy{Name: "jira", MaxRetryAfter: cfg.MaxRetryAfter, RateLimitRetries: 10, ServerRetries: 4,
		MaxBackoff: 60 * time.Second, Concurrency: cfg.Concurrency},
		httpretry.Options{HTTPClient: opt.HTTPClient, Logger: opt.Logger, Now: opt.Now, Sleep: opt.Sleep})
	c := newClient(cfg.BaseURL, cfg.Email, cfg.Token, cfg.TokenEnv, hc)
	if opt.Sleep == nil {
		opt.Sleep = httpretry.Sleep
	}
	return &Connector{cfg: cfg, c: c, logger: opt.Logger, now: opt.Now, sleep: opt.Sleep}, nil
}

// cursor is the resume point. Page tokens are never stored (they expire),
// and no pass relies on them: each search page is a fresh query for the
// issues after the last id committed (keyset paging).
type cursor struct {
	Version int `json:"v"`
	// Updated is the watermark: the next pass reads the issues updated
	// since it (minus Overlap). It is the start of the last complete pass
	// on the server's clock, so it never passes an issue the pass did not
	// store; empty, the pass reads the whole scope. (Cursors written before
	// keyset paging hold the newest update committed: read the same way.)
	Updated string `json:"updated,omitempty"`
	// Complete is set once a pass over the scope has committed.
	Complete bool `json:"complete,omitempty"`
	// PassStart is when the pass in progress (or the last one) began, on
	// the server's clock.
	PassStart string `json:"pass_start,omitempty"`
	// AfterID is the highest issue id the pass in progress committed: it
	// resumes with the issues after it.
	AfterID int64 `json:"after_id,omitempty"`
	// WorklogsSince and DeletedSince are the /worklog/updated and
	// /worklog/deleted checkpoints (epoch ms, the `until` of the last page).
	WorklogsSince int64 `json:"worklogs_since,omitempty"`
	DeletedSince  int64 `json:"deleted_since,omitempty"`
	// Projects are the project keys seen in scope (for versions).
	Projects []string `json:"projects,omitempty"`
	// Reconciled is when the last reconciliation committed.
	Reconciled string `json:"reconciled,omitempty"`
}

func parseCursor(c ingest.Cursor) (cursor, error) {
	var cur cursor
	if c == "" {
		return cur, nil
	}
	if err := json.Unmarshal([]byte(c), &cur); err != nil {
		return cur, fmt.Errorf("jira cursor %.40q: %w", string(c), err)
	}
	if cur.Version != 1 {
		return cur, fmt.Errorf("jira cursor %.40q: version %d unknown", string(c), cur.Version)
	}
	return cur, nil
}

func (c cursor) encode() ingest.Cursor {
	c.Version = 1
	c.Projects = slices.Clone(c.Projects)
	b, _ := json.Marshal(c)
	return ingest.Cursor(b)
}

func timeOf(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// Sync runs one pass: issues updated since the watermark (all of them the
// first time, or after a full re-sync), then versions and sprints, then the
// worklog change feeds, then a reconciliation of the ids in scope when one
// is due (once a day, and after every pass over the whole scope).
func (c *Connector) Sync(ctx context.Context, from ingest.Cursor, emit func(context.Context, ingest.Batch) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	cur, err := parseCursor(from)
	if err != nil {
		return err
	}
	s, err := c.setup(ctx)
	if err != nil {
		return err
	}
	if cur.PassStart == "" || cur.Complete {
		cur.PassStart = s.serverNow.UTC().Format(time.RFC3339Nano)
		cur.AfterID = 0
	}
	cur.Complete = false
	full := cur.Updated == ""
	if err := s.issuePass(ctx, &cur, emit); err != nil {
		return err
	}
	// Versions and board sprints, with the pass's end.
	b := ingest.Batch{}
	if err := s.versions(ctx, cur.Projects, &b); err != nil {
		return err
	}
	if err := s.boardSprints(ctx, &b); err != nil {
		return err
	}
	feeds := cur.WorklogsSince != 0 && !full
	if full {
		// A pass over the whole scope read every worklog through its
		// issues: the feeds start where it began.
		since := timeOf(cur.PassStart).Add(-Overlap).UnixMilli()
		cur.WorklogsSince, cur.DeletedSince = since, since
	}
	// The pass is complete: the next one reads what changed since it began.
	cur.Complete, cur.Updated, cur.AfterID = true, cur.PassStart, 0
	b.Cursor = cur.encode()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := emit(ctx, b); err != nil {
		return err
	}
	if feeds {
		if err := s.worklogFeeds(ctx, &cur, emit); err != nil {
			return err
		}
	}
	if last := timeOf(cur.Reconciled); full || c.now().Sub(last) >= ReconcileEvery {
		if err := s.reconcile(ctx, &cur, emit); err != nil {
			return err
		}
	}
	return nil
}

// Reconcile lists every issue in scope now and marks the others deleted,
// whatever the time of the last reconciliation.
func (c *Connector) Reconcile(ctx context.Context, from ingest.Cursor, emit func(context.Context, ingest.Batch) error) error {
	cur, err := parseCursor(from)
	if err != nil {
		return err
	}
	s, err := c.setup(ctx)
	if err != nil {
		return err
	}
	return s.reconcile(ctx, &cur, emit)
}
