// Package asana syncs Asana projects (API 1.0): tasks and their subtasks,
// section moves and completions from stories, time tracking entries,
// assignees and milestones.
package asana

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/internal/config"
)

// DefaultBaseURL is Asana's API root.
const DefaultBaseURL = "https://app.asana.com/api/1.0"

// Overlap is how far before the stored watermark an incremental sync starts
// re-reading, so tasks modified while the previous sync ran are not missed.
const Overlap = 5 * time.Minute

// Status names the connector makes up; every other status is a section name.
const (
	StatusCompleted = "Completed"
	StatusNoSection = "To Do"
	CategoryDone    = "done"
)

// opt_fields per endpoint: exactly the fields the mapping reads.
const (
	taskFields    = "name,resource_subtype,completed,completed_at,created_at,modified_at,due_on,due_at,assignee.name,assignee.email,memberships.project.name,memberships.section.name,parent.name,num_subtasks"
	storyFields   = "created_at,created_by.name,created_by.email,resource_subtype,type,old_section.name,new_section.name,old_dates.due_on,new_dates.due_on"
	entryFields   = "duration_minutes,entered_on,created_at,created_by.name,created_by.email"
	sectionFields = "name"
)

// Config is the asana source configuration.
type Config struct {
	BaseURL   string   `yaml:"base_url"`
	Workspace string   `yaml:"workspace"` // gid; informational (named in errors)
	Projects  []string `yaml:"projects"`  // project gids
	TokenEnv  string   `yaml:"token_env"` // the variable the token was read from
	// Token is the Bearer token (never in a file: read from TokenEnv).
	Token string `yaml:"-"`
	// PageSize is the limit sent with list requests (1–100, default 100).
	PageSize int `yaml:"-"`
}

// Validate checks the config.
func (c Config) Validate() error {
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("base_url %q: want an http(s) URL such as %s", c.BaseURL, DefaultBaseURL)
		}
	}
	if len(c.Projects) == 0 {
		return errors.New("projects: at least one project gid is required")
	}
	for _, p := range c.Projects {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return fmt.Errorf("projects: %q is not a project gid (digits, from the project URL)", p)
		}
	}
	if c.Token == "" {
		return fmt.Errorf("$%s: %w (set it to an Asana personal access token)", c.TokenEnv, errNoToken)
	}
	if c.PageSize < 0 || c.PageSize > 100 {
		return fmt.Errorf("page size %d: want 1–100", c.PageSize)
	}
	return nil
}

// Options are the connector's dependencies.
type Options struct {
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time
	// Sleep waits between retries; tests inject one that records and returns.
	Sleep func(context.Context, time.Duration) error
}

// Connector syncs Asana projects.
type Connector struct {
	cfg    Config
	c      *client
	logger *slog.Logger
	now    func() time.Time
}

var _ ingest.Connector = (*Connector)(nil)

// FromSource builds a connector from a configured source, reading the token
// from the environment variable src.TokenEnv names.
func FromSource(src config.Source, opt Options) (*Connector, error) {
	tok := os.Getenv(src.TokenEnv)
	if tok == "" {
		return nil, fmt.Errorf("asana: environment variable %s is empty or unset: set it to an Asana personal access token", src.TokenEnv)
	}
	return New(Config{BaseURL: src.BaseURL, Workspace: src.Workspace, Projects: src.Projects, TokenEnv: src.TokenEnv, Token: tok}, opt)
}

// New validates cfg and returns a connector.
func New(cfg Config, opt Options) (*Connector, error) {
	if cfg.TokenEnv == "" {
		cfg.TokenEnv = "token_env"
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("asana: %w", err)
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = 100
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
		opt.Sleep = sleepCtx
	}
	c := &client{
		base: strings.TrimRight(cfg.BaseURL, "/"), token: cfg.Token, tokenEnv: cfg.TokenEnv,
		hc: opt.HTTPClient, sleep: opt.Sleep, logger: opt.Logger, limit: cfg.PageSize,
	}
	return &Connector{cfg: cfg, c: c, logger: opt.Logger, now: opt.Now}, nil
}

// cursor is the resume point. ModifiedSince is the newest modified_at of a
// completed pass; while a pass is in progress, Done lists the projects it
// finished and Newest the newest modified_at it has seen. Offsets are never
// stored: they expire.
type cursor struct {
	ModifiedSince string   `json:"modified_since,omitempty"`
	Done          []string `json:"done,omitempty"`
	Newest        string   `json:"newest,omitempty"`
	Version       int      `json:"v"`
}

func parseCursor(c ingest.Cursor) (cursor, time.Time, error) {
	var cur cursor
	if c == "" {
		return cur, time.Time{}, nil
	}
	if err := json.Unmarshal([]byte(c), &cur); err != nil {
		return cur, time.Time{}, fmt.Errorf("asana cursor %.40q: %w", string(c), err)
	}
	if cur.Version != 1 {
		return cur, time.Time{}, fmt.Errorf("asana cursor %.40q: version %d unknown", string(c), cur.Version)
	}
	var since time.Time
	if cur.ModifiedSince != "" {
		t, err := time.Parse(time.RFC3339Nano, cur.ModifiedSince)
		if err != nil {
			return cur, time.Time{}, fmt.Errorf("asana cursor modified_since: %w", err)
		}
		since = t
	}
	return cur, since, nil
}

func (c cursor) encode() ingest.Cursor {
	c.Version = 1
	b, _ := json.Marshal(c)
	return ingest.Cursor(b)
}

// Sync reads the tasks of each configured project modified since from
// (minus Overlap), emitting one batch per page of tasks.
func (c *Connector) Sync(ctx context.Context, from ingest.Cursor, emit func(context.Context, ingest.Batch) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	cur, since, err := parseCursor(from)
	if err != nil {
		return err
	}
	newest := since
	if cur.Newest != "" {
		if t, err := time.Parse(time.RFC3339Nano, cur.Newest); err == nil && t.After(newest) {
			newest = t
		}
	}
	done := map[string]bool{}
	for _, p := range cur.Done {
		done[p] = true
	}
	var q url.Values
	if !since.IsZero() {
		q = url.Values{"modified_since": {since.Add(-Overlap).UTC().Format(time.RFC3339)}}
	}
	for i, proj := range c.cfg.Projects {
		if done[proj] {
			continue
		}
		lastProject := true // no project left after this one
		for _, p := range c.cfg.Projects[i+1:] {
			if !done[p] {
				lastProject = false
			}
		}
		sections, err := c.sections(ctx, proj)
		if err != nil {
			return err
		}
		tq := cloneValues(q)
		tq.Set("project", proj)
		tq.Set("opt_fields", taskFields)
		page := 0
		err = c.c.list(ctx, "/tasks", tq, func(data []json.RawMessage, last bool) error {
			page++
			b, pageNewest, err := c.page(ctx, proj, sections, data)
			if err != nil {
				return fmt.Errorf("project %s tasks page %d: %w", proj, page, err)
			}
			if pageNewest.After(newest) {
				newest = pageNewest
			}
			next := cursor{ModifiedSince: cur.ModifiedSince, Done: cur.Done}
			if last {
				next.Done = append(append([]string(nil), cur.Done...), proj)
			}
			if !newest.IsZero() {
				next.Newest = newest.UTC().Format(time.RFC3339Nano)
			}
			if last && lastProject {
				next = cursor{ModifiedSince: next.Newest}
			}
			b.Cursor = next.encode()
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := emit(ctx, b); err != nil {
				return err
			}
			if last {
				cur.Done = next.Done
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// sections maps a project's section gids to their names.
func (c *Connector) sections(ctx context.Context, proj string) (map[string]string, error) {
	data, err := c.c.listAll(ctx, "/projects/"+proj+"/sections", url.Values{"opt_fields": {sectionFields}})
	if err != nil {
		return nil, fmt.Errorf("project %s sections: %w", proj, err)
	}
	out := make(map[string]string, len(data))
	for _, d := range data {
		var s ref
		if err := json.Unmarshal(d, &s); err != nil {
			return nil, fmt.Errorf("project %s sections: decode: %w", proj, err)
		}
		out[s.GID] = s.Name
	}
	return out, nil
}
