// Package config loads and validates Throughline's YAML configuration. It is
// strict: unknown keys are errors that name the line. Defaults and checks are
// applied once, in Load; nothing reads the file lazily.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/robfig/cron/v3"
	"github.com/throughline/throughline/metrics"
	"go.yaml.in/yaml/v3"
)

// Config is the whole file.
type Config struct {
	Warehouse Warehouse `yaml:"warehouse"`
	Timezone  string    `yaml:"timezone"`
	Server    Server    `yaml:"server"`
	Schedules Schedules `yaml:"schedules"`
	Sources   []Source  `yaml:"sources"`
	Teams     []Team    `yaml:"teams"`
	Workflow  Workflow  `yaml:"workflow"`
	WorkClass WorkClass `yaml:"work_class"`
	Metrics   Metrics   `yaml:"metrics"`
	Alerts    Alerts    `yaml:"alerts"`

	// Path is the file the config was read from; relative paths in it are
	// resolved against its folder.
	Path     string         `yaml:"-"`
	Location *time.Location `yaml:"-"`
}

// DefaultListen is server.listen when the config has none: port 8467 is
// outside the ranges of Prometheus' default port allocations (its wiki page
// "Default port allocations": 9090–9099 for Prometheus' own components,
// 9100–9999 for exporters, full since 2023, continued from 10000). Until
// this release the default was 127.0.0.1:9187, postgres_exporter's port.
const DefaultListen = "127.0.0.1:8467"

// Warehouse is the DuckDB file.
type Warehouse struct {
	Path        string `yaml:"path"`
	MemoryLimit string `yaml:"memory_limit"`
	Threads     int    `yaml:"threads"`
}

// Server is the HTTP side of `serve`.
type Server struct {
	Listen      string `yaml:"listen"`
	SQLTokenEnv string `yaml:"sql_token_env"`
	// AdminTokenEnv names the variable holding the token of POST
	// /api/v1/sync (the SQL token cannot start a sync).
	AdminTokenEnv string `yaml:"admin_token_env"`
	// SQLTimeout bounds each request of the SQL API, from its arrival to
	// its last byte sent (a Go duration; default DefaultSQLTimeout).
	SQLTimeout string `yaml:"sql_timeout"`
	// SQLMaxBytes bounds the rows of one answer (a size; default 256MB):
	// a larger result is truncated like one over the row limit.
	SQLMaxBytes string `yaml:"sql_max_bytes"`
	// SQLWorkers is the number of worker processes that run API queries
	// (default 4).
	SQLWorkers int `yaml:"sql_workers"`
	// SQLWorkerMemory is the memory one worker may use for a query (a
	// size; default 1GB): DuckDB gets half as its memory_limit, and the
	// process's address space may grow by this much.
	SQLWorkerMemory string `yaml:"sql_worker_memory"`
	// SQLClientConcurrency is how many queries one client (address) may
	// run at once; more wait (default 2).
	SQLClientConcurrency int `yaml:"sql_client_concurrency"`
	// MaxConnections caps open HTTP connections; idle ones are closed to
	// admit new ones (default 1024).
	MaxConnections int `yaml:"max_connections"`
	// SyncMinInterval is the least time between two syncs started through
	// the API (default 30s; 0s: no limit).
	SyncMinInterval string `yaml:"sync_min_interval"`
}

// Defaults of Server.
const (
	DefaultSQLMaxBytes          = "256MB"
	DefaultSQLWorkers           = 4
	DefaultSQLWorkerMemory      = "1GB"
	DefaultSQLClientConcurrency = 2
	DefaultMaxConnections       = 1024
	DefaultSyncMinInterval      = "30s"
)

// MaxResultBytes is server.sql_max_bytes in bytes.
func (s Server) MaxResultBytes() int64 {
	n, _ := ParseSize(s.SQLMaxBytes)
	return n
}

// WorkerMemoryBytes is server.sql_worker_memory in bytes.
func (s Server) WorkerMemoryBytes() int64 {
	n, _ := ParseSize(s.SQLWorkerMemory)
	return n
}

// SyncInterval is server.sync_min_interval.
func (s Server) SyncInterval() time.Duration {
	d, _ := time.ParseDuration(s.SyncMinInterval)
	return d
}

// ParseSize reads a size as DuckDB writes memory limits: 512MB, 2GB, 1.5GiB
// (KB, MB, GB, TB are powers of 1000; KiB, MiB, GiB, TiB of 1024).
func ParseSize(s string) (int64, error) {
	m := sizePattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("size %q: want a number and a unit, like 512MB or 2GB", s)
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: %w", s, err)
	}
	unit := map[string]float64{"b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
		"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}[strings.ToLower(m[2])]
	return int64(f * unit), nil
}

var sizePattern = regexp.MustCompile(`^(\d+(?:\.\d+)?)\s*((?i)B|KB|KiB|MB|MiB|GB|GiB|TB|TiB)$`)

// DefaultSQLTimeout is the SQL API's statement time-out when
// server.sql_timeout is not set.
const DefaultSQLTimeout = 30 * time.Second

// StatementTimeout is server.sql_timeout, or DefaultSQLTimeout.
func (s Server) StatementTimeout() time.Duration {
	d, err := time.ParseDuration(s.SQLTimeout)
	if err != nil || d <= 0 {
		return DefaultSQLTimeout
	}
	return d
}

// Schedules are cron specs (5 fields, or @every / @hourly descriptors).
type Schedules struct {
	Sync    string `yaml:"sync"`
	Compute string `yaml:"compute"`
	Jitter  string `yaml:"jitter"`
}

// Source is one connector instance. Keys not used by a kind are rejected
// by that kind's validation.
type Source struct {
	Name      string   `yaml:"name"`
	Kind      string   `yaml:"kind"`
	BaseURL   string   `yaml:"base_url"`
	Email     string   `yaml:"email"`
	TokenEnv  string   `yaml:"token_env"`
	JQL       string   `yaml:"jql"`
	Boards    []int    `yaml:"boards"`
	Workspace string   `yaml:"workspace"`
	Projects  []string `yaml:"projects"`
	Layout    string   `yaml:"layout"`
	Path      string   `yaml:"path"`
	// Columns renames columns of a csv source: canonical items.csv column →
	// header in the file (for exports from other tools, or export headers
	// the reader does not know).
	Columns map[string]string `yaml:"columns"`
	// StatusIDs names the status ids of a Jira export's Time in Status
	// field (id → status name) that the file cannot tell.
	StatusIDs map[string]string `yaml:"status_ids"`
	// Timezone overrides the global zone for zone-less timestamps of this source.
	Timezone string `yaml:"timezone"`
	// Concurrency caps an HTTP source's requests in flight (default 4).
	Concurrency int `yaml:"concurrency"`
	// MaxRetryAfter is the longest Retry-After an HTTP source's sync waits
	// (a Go duration; default 2m, the HTTP connectors' own); a rate limit
	// asking for longer ends the sync with an error naming the wait.
	MaxRetryAfter string `yaml:"max_retry_after"`
	// EstimateField and StoryPointsField name Asana number custom fields
	// (name or gid); EstimateUnit is hours (default) or minutes.
	EstimateField    string `yaml:"estimate_field"`
	EstimateUnit     string `yaml:"estimate_unit"`
	StoryPointsField string `yaml:"story_points_field"`

	line int
}

// RetryAfterCap is max_retry_after, or 0 when not set (the connector's
// default, connectors/internal/httpretry.DefaultMaxRetryAfter).
func (s Source) RetryAfterCap() time.Duration {
	d, err := time.ParseDuration(s.MaxRetryAfter)
	if err != nil || d <= 0 {
		return 0
	}
	return d
}

// Team is a group of people with a capacity.
type Team struct {
	Name         string   `yaml:"name"`
	Members      []string `yaml:"members"`
	HoursPerWeek float64  `yaml:"hours_per_week"`
	WIPLimit     int      `yaml:"wip_limit"`
	SLEDays      int      `yaml:"sle_days"`
	Projects     []string `yaml:"projects"`
}

// Workflow maps status names to stages.
type Workflow struct {
	Started              []string `yaml:"started"`
	Wait                 []string `yaml:"wait"`
	Done                 []string `yaml:"done"`
	Todo                 []string `yaml:"todo"`
	DiscardedResolutions []string `yaml:"discarded_resolutions"`
}

// WorkClass holds the classification rules.
type WorkClass struct {
	Operational ClassRule `yaml:"operational"`
	Project     ClassRule `yaml:"project"`
}

// ClassRule matches items by type, project or label.
type ClassRule struct {
	ItemTypes []string `yaml:"item_types"`
	Projects  []string `yaml:"projects"`
}

// Metrics tunes the computations.
type Metrics struct {
	WindowDays int      `yaml:"window_days"`
	PerPerson  bool     `yaml:"per_person"`
	Forecast   Forecast `yaml:"forecast"`
}

// Forecast tunes Monte Carlo runs.
type Forecast struct {
	Trials int   `yaml:"trials"`
	Seed   int64 `yaml:"seed"`
	// Mode is the model of the milestone forecasts: portfolio (default; the
	// open milestones of a project together, in due-date order) or
	// independent (each alone with all of the project's throughput).
	Mode string `yaml:"mode"`
}

// Alerts sets the _config of the generated Prometheus rules and Grafana
// dashboards (`throughline dashboards`): the selector of Throughline's
// series, the thresholds of the alerts, the runbook URL. Every key is
// optional: an unset one takes the generator's default
// (dashboards.DefaultConfig). Durations are Prometheus durations (30m, 6h, 1d).
type Alerts struct {
	Selector          string   `yaml:"selector"`            // label matchers of Throughline's series (default job="throughline")
	InstanceLabels    []string `yaml:"instance_labels"`     // labels that tell installations apart (default job, instance)
	AllocationRatio   float64  `yaml:"allocation_ratio"`    // ThroughlineTeamOverallocated above it (default 1)
	OverallocatedFor  string   `yaml:"overallocated_for"`   // default 6h
	LoggedUtilization float64  `yaml:"logged_utilization"`  // ThroughlineTeamOverLogged above it (default 1)
	WIPOverLimitFor   string   `yaml:"wip_over_limit_for"`  // default 1d
	AgingShare        float64  `yaml:"aging_share"`         // ThroughlineWorkAgingPastSLE above it (default 0.25)
	AgingMinItems     int      `yaml:"aging_min_items"`     // …with at least this many open items and SLE sample (default 5)
	AgingFor          string   `yaml:"aging_for"`           // default 1d
	OnTimeProbability float64  `yaml:"on_time_probability"` // ThroughlineMilestoneAtRisk below it (default 0.85, the at_risk status)
	StalledFor        string   `yaml:"stalled_for"`         // ThroughlineMilestoneStalled (default 1d)
	SyncFailingFor    string   `yaml:"sync_failing_for"`    // default 30m
	ExporterDownFor   string   `yaml:"exporter_down_for"`   // ThroughlineExporterDown (default 5m)
	RateLimitedShare  float64  `yaml:"rate_limited_share"`  // ThroughlineSyncRateLimited above it (default 0.1)
	KeepFiringFor     string   `yaml:"keep_firing_for"`     // every alert, through an exporter restart (default 10m)
	PlanningSeverity  string   `yaml:"planning_severity"`   // default warning
	OperatorSeverity  string   `yaml:"operator_severity"`   // default critical
	RunbookBaseURL    string   `yaml:"runbook_base_url"`    // default this repository's docs/runbooks on GitHub
}

// Error is a configuration error; it names the file and, when known, the line.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Load reads, decodes strictly, applies defaults and validates.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data)
}

var unknownField = regexp.MustCompile(`line (\d+): field (\S+) not found in type (\S+)`)

// Parse decodes data as if read from path.
func Parse(path string, data []byte) (*Config, error) {
	// Defaults that an explicit zero must not replace are set before
	// decoding: a key absent keeps them, `window_days: 0` is then an error.
	c := Config{Metrics: Metrics{WindowDays: 90, Forecast: Forecast{Trials: 10000}}}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: path, Msg: "empty config file"}
		}
		var te *yaml.TypeError
		if errors.As(err, &te) {
			var msgs []string
			for _, m := range te.Errors {
				if sm := unknownField.FindStringSubmatch(m); sm != nil {
					msgs = append(msgs, fmt.Sprintf("%s:%s: unknown key %q (check spelling; see `throughline init` for every key)", path, sm[1], sm[2]))
					continue
				}
				msgs = append(msgs, path+": "+strings.TrimPrefix(m, "yaml: "))
			}
			return nil, &Error{File: path, Msg: "invalid config:\n  " + strings.Join(msgs, "\n  ")}
		}
		return nil, &Error{File: path, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	// Source lines, for messages.
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err == nil {
		annotateLines(&root, &c)
	}
	c.Path = path
	if err := c.defaults(); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func annotateLines(root *yaml.Node, c *Config) {
	if len(root.Content) == 0 {
		return
	}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "sources" {
			for j, s := range m.Content[i+1].Content {
				if j < len(c.Sources) {
					c.Sources[j].line = s.Line
				}
			}
		}
	}
}

func (c *Config) defaults() error {
	base := filepath.Dir(c.Path)
	if c.Warehouse.Path == "" {
		c.Warehouse.Path = "throughline.duckdb"
	}
	if c.Warehouse.Path != ":memory:" && !filepath.IsAbs(c.Warehouse.Path) {
		c.Warehouse.Path = filepath.Join(base, c.Warehouse.Path)
	}
	if c.Warehouse.MemoryLimit == "" {
		c.Warehouse.MemoryLimit = "2GB"
	}
	if c.Timezone == "" {
		c.Timezone = "UTC"
	}
	if c.Server.Listen == "" {
		c.Server.Listen = DefaultListen
	}
	c.Server.defaults()
	if c.Schedules.Sync == "" {
		c.Schedules.Sync = "*/15 * * * *"
	}
	if c.Schedules.Compute == "" {
		c.Schedules.Compute = "*/15 * * * *"
	}
	for i := range c.Sources {
		s := &c.Sources[i]
		if s.Kind == "csv" && s.Path != "" && !filepath.IsAbs(s.Path) {
			s.Path = filepath.Join(base, s.Path)
		}
		if s.Kind == "csv" && s.Layout == "" {
			s.Layout = "throughline"
		}
	}
	if c.Metrics.Forecast.Seed == 0 {
		c.Metrics.Forecast.Seed = 1
	}
	if c.Metrics.Forecast.Mode == "" {
		c.Metrics.Forecast.Mode = metrics.ModePortfolio
	}
	if len(c.Workflow.DiscardedResolutions) == 0 {
		c.Workflow.DiscardedResolutions = DefaultDiscarded
	}
	return nil
}

func (s *Server) defaults() {
	if s.SQLMaxBytes == "" {
		s.SQLMaxBytes = DefaultSQLMaxBytes
	}
	if s.SQLWorkers == 0 {
		s.SQLWorkers = DefaultSQLWorkers
	}
	if s.SQLWorkerMemory == "" {
		s.SQLWorkerMemory = DefaultSQLWorkerMemory
	}
	if s.SQLClientConcurrency == 0 {
		s.SQLClientConcurrency = DefaultSQLClientConcurrency
	}
	if s.MaxConnections == 0 {
		s.MaxConnections = DefaultMaxConnections
	}
	if s.SyncMinInterval == "" {
		s.SyncMinInterval = DefaultSyncMinInterval
	}
}

// DefaultDiscarded are the resolutions and statuses whose finished items
// are discarded (not throughput) when workflow.discarded_resolutions is not
// set: cancelled, rejected and duplicate work in English and, as Jira's
// other languages name the default resolutions and statuses, in Spanish,
// Brazilian Portuguese, German, French, Italian, Dutch and Polish.
var DefaultDiscarded = []string{
	"Won't Do", "Won't Fix", "Duplicate", "Cannot Reproduce", "Cancelled", "Canceled", "Aborted", "Rejected", "Obsolete",
	"No se hará", "Duplicado", "Cancelado", "Cancelada", "Rechazado",
	"Não será feito", "Rejeitado",
	"Wird nicht erledigt", "Duplikat", "Abgebrochen", "Abgelehnt",
	"Ne sera pas fait", "Doublon", "Annulé", "Rejeté",
	"Non verrà fatto", "Duplicato", "Annullato", "Rifiutato",
	"Wordt niet gedaan", "Dubbel", "Geannuleerd", "Afgewezen",
	"Nie zostanie wykonane", "Anulowane", "Odrzucone",
}

var memoryLimit = regexp.MustCompile(`^(?i)\d+(\.\d+)?\s*(B|KB|KiB|MB|MiB|GB|GiB|TB|TiB)$`)

func (c *Config) validate() error {
	var errs []string
	add := func(line int, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if line > 0 {
			msg = fmt.Sprintf("%s:%d: %s", c.Path, line, msg)
		} else {
			msg = c.Path + ": " + msg
		}
		errs = append(errs, msg)
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		add(0, "timezone %q: not an IANA time zone name (e.g. Europe/Berlin)", c.Timezone)
	} else {
		c.Location = loc
	}
	if !memoryLimit.MatchString(c.Warehouse.MemoryLimit) {
		add(0, "warehouse.memory_limit %q: want a size like 2GB or 512MB", c.Warehouse.MemoryLimit)
	}
	if _, _, err := net.SplitHostPort(c.Server.Listen); err != nil {
		add(0, "server.listen %q: want host:port", c.Server.Listen)
	}
	if c.Server.SQLTokenEnv != "" && !envName.MatchString(c.Server.SQLTokenEnv) {
		add(0, "server.sql_token_env %q: must name an environment variable, not hold the token", c.Server.SQLTokenEnv)
	}
	if c.Server.SQLTimeout != "" {
		if d, err := time.ParseDuration(c.Server.SQLTimeout); err != nil || d < 100*time.Millisecond || d > 24*time.Hour {
			add(0, "server.sql_timeout %q: want a duration from 100ms to 24h, like 30s or 5m", c.Server.SQLTimeout)
		}
	}
	c.Server.validate(add)
	parser := cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	for name, spec := range map[string]string{"sync": c.Schedules.Sync, "compute": c.Schedules.Compute} {
		if _, err := parser.Parse(spec); err != nil {
			add(0, "schedules.%s %q: %v", name, spec, err)
		}
	}
	if c.Schedules.Jitter != "" {
		if _, err := time.ParseDuration(c.Schedules.Jitter); err != nil {
			add(0, "schedules.jitter %q: want a duration like 30s", c.Schedules.Jitter)
		}
	}
	names := map[string]bool{}
	for i, s := range c.Sources {
		where := fmt.Sprintf("sources[%d]", i)
		if s.Name == "" {
			add(s.line, "%s: name is required", where)
		} else if names[s.Name] {
			add(s.line, "%s: duplicate source name %q", where, s.Name)
		}
		names[s.Name] = true
		if s.TokenEnv != "" && !envName.MatchString(s.TokenEnv) {
			add(s.line, "%s (%s): token_env %q must name an environment variable, not hold the token", where, s.Name, s.TokenEnv)
		}
		if s.Timezone != "" {
			if _, err := time.LoadLocation(s.Timezone); err != nil {
				add(s.line, "%s (%s): timezone %q is not an IANA zone", where, s.Name, s.Timezone)
			}
		}
		if err := ValidateSource(s); err != nil {
			add(s.line, "%s (%s): %v", where, s.Name, err)
		}
	}
	teams := map[string]bool{}
	for i, t := range c.Teams {
		if t.Name == "" || t.Name == "*" || t.Name == "unassigned" {
			add(0, "teams[%d]: name %q is empty or reserved", i, t.Name)
		}
		if teams[t.Name] {
			add(0, "teams[%d]: duplicate team %q", i, t.Name)
		}
		teams[t.Name] = true
		if t.HoursPerWeek < 0 || t.HoursPerWeek > 168 {
			add(0, "teams[%d] (%s): hours_per_week %v out of range 0..168", i, t.Name, t.HoursPerWeek)
		}
		if t.WIPLimit < 0 || t.SLEDays < 0 {
			add(0, "teams[%d] (%s): wip_limit and sle_days must not be negative", i, t.Name)
		}
	}
	if c.Metrics.WindowDays < 1 || c.Metrics.WindowDays > 3650 {
		add(0, "metrics.window_days %d: want 1..3650", c.Metrics.WindowDays)
	}
	if c.Metrics.Forecast.Trials < 100 || c.Metrics.Forecast.Trials > 1_000_000 {
		add(0, "metrics.forecast.trials %d: want 100..1000000", c.Metrics.Forecast.Trials)
	}
	if m := c.Metrics.Forecast.Mode; m != metrics.ModePortfolio && m != metrics.ModeIndependent {
		add(0, "metrics.forecast.mode %q: want %s (the open milestones of a project forecast together, the default) or %s (each milestone alone)",
			m, metrics.ModePortfolio, metrics.ModeIndependent)
	}
	a := c.Alerts
	if a.AllocationRatio < 0 || a.LoggedUtilization < 0 {
		add(0, "alerts.allocation_ratio and alerts.logged_utilization must be positive (1 = 100 %% of capacity)")
	}
	for _, f := range []struct {
		key string
		v   float64
	}{{"on_time_probability", a.OnTimeProbability}, {"aging_share", a.AgingShare}, {"rate_limited_share", a.RateLimitedShare}} {
		if f.v < 0 || f.v > 1 {
			add(0, "alerts.%s %v: want a share in 0..1 (0.5 = 50 %%)", f.key, f.v)
		}
	}
	if a.AgingMinItems < 0 {
		add(0, "alerts.aging_min_items %d: want a positive number of items", a.AgingMinItems)
	}
	for _, d := range [][2]string{{"overallocated_for", a.OverallocatedFor}, {"wip_over_limit_for", a.WIPOverLimitFor},
		{"aging_for", a.AgingFor}, {"stalled_for", a.StalledFor}, {"sync_failing_for", a.SyncFailingFor},
		{"exporter_down_for", a.ExporterDownFor}, {"keep_firing_for", a.KeepFiringFor}} {
		if d[1] == "" {
			continue
		}
		if _, err := model.ParseDuration(d[1]); err != nil {
			add(0, "alerts.%s %q: want a Prometheus duration like 30m, 6h or 1d", d[0], d[1])
		}
	}
	for _, l := range a.InstanceLabels {
		if !labelName.MatchString(l) {
			add(0, "alerts.instance_labels: %q is not a Prometheus label name", l)
		}
	}
	if len(errs) > 0 {
		return &Error{File: c.Path, Msg: "invalid config:\n  " + strings.Join(errs, "\n  ")}
	}
	return nil
}

func (s *Server) validate(add func(int, string, ...any)) {
	if s.AdminTokenEnv != "" && !envName.MatchString(s.AdminTokenEnv) {
		add(0, "server.admin_token_env %q: must name an environment variable, not hold the token", s.AdminTokenEnv)
	}
	if s.AdminTokenEnv != "" && s.AdminTokenEnv == s.SQLTokenEnv {
		add(0, "server.admin_token_env and server.sql_token_env name the same variable %s: the admin token must differ from the SQL token", s.AdminTokenEnv)
	}
	worker, werr := ParseSize(s.SQLWorkerMemory)
	if werr != nil || worker < 64<<20 {
		add(0, "server.sql_worker_memory %q: want a size of at least 64MB, like 1GB", s.SQLWorkerMemory)
	}
	if n, err := ParseSize(s.SQLMaxBytes); err != nil || n < 1<<10 {
		add(0, "server.sql_max_bytes %q: want a size of at least 1KB, like 256MB", s.SQLMaxBytes)
	} else if werr == nil && n > worker/2 {
		add(0, "server.sql_max_bytes %s is more than half of server.sql_worker_memory %s: a worker holds the answer while it sends it", s.SQLMaxBytes, s.SQLWorkerMemory)
	}
	if s.SQLWorkers < 1 || s.SQLWorkers > 64 {
		add(0, "server.sql_workers %d: want 1..64", s.SQLWorkers)
	}
	if s.SQLClientConcurrency < 1 || s.SQLClientConcurrency > s.SQLWorkers {
		add(0, "server.sql_client_concurrency %d: want 1..server.sql_workers (%d)", s.SQLClientConcurrency, s.SQLWorkers)
	}
	if s.MaxConnections < 16 || s.MaxConnections > 1<<20 {
		add(0, "server.max_connections %d: want 16..1048576", s.MaxConnections)
	}
	if d, err := time.ParseDuration(s.SyncMinInterval); err != nil || d < 0 {
		add(0, "server.sync_min_interval %q: want a duration like 30s (0s: no limit)", s.SyncMinInterval)
	}
}

var (
	envName   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// Source kinds and the keys each accepts besides name and kind.
var sourceKeys = map[string][]string{
	"csv":   {"layout", "path", "columns", "status_ids", "timezone"},
	"jira":  {"base_url", "email", "token_env", "jql", "boards", "timezone", "concurrency", "max_retry_after"},
	"asana": {"base_url", "workspace", "projects", "token_env", "timezone", "estimate_field", "estimate_unit", "story_points_field", "max_retry_after"},
}

// CSVLayouts are the layouts the csv kind reads.
var CSVLayouts = []string{"throughline", "jira-export", "asana-export"}

// ValidateSource checks the keys a source's kind needs and accepts.
func ValidateSource(s Source) error {
	allowed, ok := sourceKeys[s.Kind]
	if !ok {
		kinds := make([]string, 0, len(sourceKeys))
		for k := range sourceKeys {
			kinds = append(kinds, k)
		}
		slices.Sort(kinds)
		return fmt.Errorf("kind %q unknown (want one of %s)", s.Kind, strings.Join(kinds, ", "))
	}
	set := map[string]bool{
		"base_url": s.BaseURL != "", "email": s.Email != "", "token_env": s.TokenEnv != "",
		"jql": s.JQL != "", "boards": len(s.Boards) > 0, "workspace": s.Workspace != "",
		"projects": len(s.Projects) > 0, "layout": s.Layout != "", "path": s.Path != "",
		"columns": len(s.Columns) > 0, "status_ids": len(s.StatusIDs) > 0, "timezone": s.Timezone != "", "concurrency": s.Concurrency != 0,
		"estimate_field": s.EstimateField != "", "estimate_unit": s.EstimateUnit != "", "story_points_field": s.StoryPointsField != "",
		"max_retry_after": s.MaxRetryAfter != "",
	}
	for _, k := range slices.Sorted(mapKeys(set)) {
		if set[k] && !slices.Contains(allowed, k) {
			return fmt.Errorf("key %q does not apply to kind %s", k, s.Kind)
		}
	}
	switch s.Kind {
	case "csv":
		if s.Path == "" {
			return errors.New("path is required (a folder for layout throughline, a file or folder for exports)")
		}
		if !slices.Contains(CSVLayouts, s.Layout) {
			return fmt.Errorf("layout %q unknown (want one of %s)", s.Layout, strings.Join(CSVLayouts, ", "))
		}
		if len(s.StatusIDs) > 0 && s.Layout != "jira-export" {
			return errors.New("status_ids applies to layout jira-export only")
		}
	case "jira", "asana":
		if s.BaseURL == "" {
			return errors.New("base_url is required")
		}
		if s.TokenEnv == "" {
			return errors.New("token_env is required (the name of the environment variable holding the token)")
		}
		if s.Concurrency < 0 || s.Concurrency > 64 {
			return fmt.Errorf("concurrency %d: want 1–64 requests in flight", s.Concurrency)
		}
		if s.MaxRetryAfter != "" {
			if d, err := time.ParseDuration(s.MaxRetryAfter); err != nil || d < time.Second || d > 24*time.Hour {
				return fmt.Errorf("max_retry_after %q: want a duration from 1s to 24h, like 2m", s.MaxRetryAfter)
			}
		}
		if s.Kind == "jira" && strings.TrimSpace(s.JQL) == "" {
			return errors.New(`jql is required: Jira rejects unbounded searches (e.g. jql: "project in (WEB, OPS)")`)
		}
	}
	return nil
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// Line is the config line where the source is defined, or 0.
func (s Source) Line() int { return s.line }

// Team returns the team named name.
func (c *Config) Team(name string) (Team, bool) {
	for _, t := range c.Teams {
		if t.Name == name {
			return t, true
		}
	}
	return Team{}, false
}

// Source returns the source named name.
func (c *Config) Source(name string) (Source, bool) {
	for _, s := range c.Sources {
		if s.Name == name {
			return s, true
		}
	}
	return Source{}, false
}
