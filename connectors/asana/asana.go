// Package asana syncs Asana projects (API 1.0): tasks and their subtasks,
// section moves and completions from stories, time tracking entries,
// assignees, milestones and their due-date history, custom-field estimates
// and deletions. After a first polling pass it follows each project's
// events (sync tokens), falling back to modified_since polling when a token
// expires or the events API is unavailable.
package asana

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/throughline/throughline/connectors/internal/httpretry"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/internal/config"
)

// DefaultBaseURL is Asana's API root.
const DefaultBaseURL = "https://app.asana.com/api/1.0"

// Overlap is how far before the stored watermark an incremental sync starts
// re-reading, so tasks modified while the previous sync ran are not missed.
const Overlap = 5 * time.Minute

// ReconcileEvery is how often a sync lists every task gid of the projects
// to mark the tasks deleted at the source (or moved out of scope) deleted.
// Events reporting a deletion trigger one at once.
const ReconcileEvery = 24 * time.Hour

// Status names the connector makes up; every other status is a section name.
const (
	StatusCompleted = "Completed"
	StatusNoSection = "To Do"
	CategoryDone    = "done"
)

// opt_fields per endpoint: exactly the fields the mapping reads.
const (
	taskFields    = "name,resource_subtype,completed,completed_at,created_at,modified_at,due_on,due_at,assignee.name,assignee.email,memberships.project.name,memberships.section.name,parent.name,num_subtasks"
	customFields  = "custom_fields.name,custom_fields.gid,custom_fields.number_value,custom_fields.resource_subtype"
	storyFields   = "created_at,created_by.name,created_by.email,resource_subtype,type,old_section.name,new_section.name,old_dates.due_on,old_dates.due_at,new_dates.due_on,new_dates.due_at"
	liveFields    = "gid,num_subtasks,actual_time_minutes"
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
	// EstimateField names the number custom field (by name, any case, or
	// gid) holding the estimate; empty: no estimates. EstimateUnit is its
	// unit: hours (default) or minutes (Asana's built-in "Estimated time"
	// field counts minutes).
	EstimateField string `yaml:"estimate_field"`
	EstimateUnit  string `yaml:"estimate_unit"`
	// StoryPointsField names the number custom field (name or gid) holding
	// story points; empty: none.
	StoryPointsField string `yaml:"story_points_field"`
	// MaxRetryAfter is the longest Retry-After the sync waits; a reply
	// asking for longer ends it with *httpretry.RetryAfterError (default
	// httpretry.DefaultMaxRetryAfter).
	MaxRetryAfter time.Duration `yaml:"-"`
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
	switch c.EstimateUnit {
	case "", "hours", "minutes":
	default:
		return fmt.Errorf("estimate_unit %q: want hours or minutes", c.EstimateUnit)
	}
	if c.MaxRetryAfter < 0 {
		return fmt.Errorf("max_retry_after %s: want a positive duration", c.MaxRetryAfter)
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
	cfg        Config
	c          *client
	logger     *slog.Logger
	now        func() time.Time
	taskFields string

	// eventsOff: /events answered 402 (logged once); polling from then on.
	eventsOff bool
	// secs caches each project's sections during one sync.
	secs map[string]map[string]string
}

var _ ingest.Connector = (*Connector)(nil)

// FromSource builds a connector from a configured source, reading the token
// from the environment variable src.TokenEnv names.
func FromSource(src config.Source, opt Options) (*Connector, error) {
	tok := os.Getenv(src.TokenEnv)
	if tok == "" {
		return nil, fmt.Errorf("asana: environment variable %s is empty or unset: set it to an Asana personal access token", src.TokenEnv)
	}
	return New(Config{BaseURL: src.BaseURL, Workspace: src.Workspace, Projects: src.Projects, TokenEnv: src.TokenEnv, Token: tok,
		EstimateField: src.EstimateField, EstimateUnit: src.EstimateUnit, StoryPointsField: src.StoryPointsField,
		MaxRetryAfter: src.RetryAfterCap()}, opt)
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
	cfg.EstimateField = strings.TrimSpace(cfg.EstimateField)
	cfg.StoryPointsField = strings.TrimSpace(cfg.StoryPointsField)
	if cfg.PageSize == 0 {
		cfg.PageSize = 100
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	hc := httpretry.New(httpretry.Policy{Name: "asana", MaxRetryAfter: cfg.MaxRetryAfter, RateLimitRetries: 8, ServerRetries: 4,
		MaxBackoff: 30 * time.Second, MaxBody: 32 << 20},
		httpretry.Options{HTTPClient: opt.HTTPClient, Logger: opt.Logger, Now: opt.Now, Sleep: opt.Sleep})
	c := &client{
		base: strings.TrimRight(cfg.BaseURL, "/"), token: cfg.Token, tokenEnv: cfg.TokenEnv,
		hc: hc, logger: opt.Logger, limit: cfg.PageSize,
	}
	fields := taskFields
	if cfg.EstimateField != "" || cfg.StoryPointsField != "" {
		fields += "," + customFields
	}
	return &Connector{cfg: cfg, c: c, logger: opt.Logger, now: opt.Now, taskFields: fields}, nil
}
