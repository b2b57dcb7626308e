package dashboards

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// Config is the mixin's _config: everything the alert rules, the recording
// rules and the dashboards are generated from, so they can be vendored into
// an existing Prometheus and Grafana. `throughline dashboards` writes the
// effective one next to them (_config.json); the config file's alerts:
// section sets it (internal/config), DefaultConfig fills the rest.
type Config struct {
	// Selector is the label matchers that select Throughline's series in
	// your Prometheus (its scrape job), put into every query: job="throughline".
	Selector string `json:"selector"`
	// InstanceLabels tell one Throughline installation from another: every
	// rule keeps them, every dashboard has one variable each and shows one
	// installation at a time, so two installations never add up.
	InstanceLabels []string `json:"instanceLabels"`
	// RunbookBaseURL prefixes runbook_url (…/<AlertName>.md): an absolute
	// URL, so the link works in Alertmanager.
	RunbookBaseURL string `json:"runbookBaseURL"`
	// Severities: planning data never pages; the pipeline is the operator's.
	PlanningSeverity string `json:"planningSeverity"`
	OperatorSeverity string `json:"operatorSeverity"`
	// KeepFiringFor keeps every alert firing through a gap this short (an
	// exporter restart), so it neither resolves nor notifies again.
	KeepFiringFor model.Duration `json:"keepFiringFor"`

	AllocationRatio   float64        `json:"allocationRatio"`   // ThroughlineTeamOverallocated: the rolling week's allocation above it…
	OverallocatedFor  model.Duration `json:"overallocatedFor"`  // …for this long
	LoggedUtilization float64        `json:"loggedUtilization"` // ThroughlineTeamOverLogged: last week's logged utilization above it
	WIPOverLimitFor   model.Duration `json:"wipOverLimitFor"`   // ThroughlineWipOverLimit
	AgingShare        float64        `json:"agingShare"`        // ThroughlineWorkAgingPastSLE: share of open started items older than the SLE above it…
	AgingMinItems     int            `json:"agingMinItems"`     // …with at least this many open started items and SLE sample
	AgingFor          model.Duration `json:"agingFor"`          // …for this long
	OnTimeProbability float64        `json:"onTimeProbability"` // ThroughlineMilestoneAtRisk: on-time probability below it (0.85: the at_risk status)
	StalledFor        model.Duration `json:"stalledFor"`        // ThroughlineMilestoneStalled: forecast unknown for this long
	SyncFailingFor    model.Duration `json:"syncFailingFor"`    // ThroughlineSyncFailing: the last sync failed for this long
	ExporterDownFor   model.Duration `json:"exporterDownFor"`   // ThroughlineExporterDown
	RateLimitedShare  float64        `json:"rateLimitedShare"`  // ThroughlineSyncRateLimited: share of requests answered 429 above it
	// SyncSchedule and ComputeSchedule are the cron specs of schedules:
	// ThroughlineSyncStale and ThroughlineComputeStale fire after two of
	// their periods without success.
	SyncSchedule    string `json:"syncSchedule"`
	ComputeSchedule string `json:"computeSchedule"`
	// Timezone is the config's: days, weeks and due dates are dates there,
	// and the dashboards show it.
	Timezone string `json:"timezone"`
}

// DefaultRunbookBaseURL is where runbook_url points by default: the
// runbooks of this repository.
const DefaultRunbookBaseURL = "https://github.com/throughline/throughline/blob/main/docs/runbooks"

// DefaultConfig is the _config without a config file: the defaults of every
// threshold, stated once.
func DefaultConfig() Config {
	return Config{
		Selector:          `job="throughline"`,
		InstanceLabels:    []string{"job", "instance"},
		RunbookBaseURL:    DefaultRunbookBaseURL,
		PlanningSeverity:  "warning",
		OperatorSeverity:  "critical",
		KeepFiringFor:     model.Duration(10 * time.Minute),
		AllocationRatio:   1,
		OverallocatedFor:  model.Duration(6 * time.Hour),
		LoggedUtilization: 1,
		WIPOverLimitFor:   model.Duration(24 * time.Hour),
		AgingShare:        0.25,
		AgingMinItems:     5,
		AgingFor:          model.Duration(24 * time.Hour),
		OnTimeProbability: 0.85,
		StalledFor:        model.Duration(24 * time.Hour),
		SyncFailingFor:    model.Duration(30 * time.Minute),
		ExporterDownFor:   model.Duration(5 * time.Minute),
		RateLimitedShare:  0.1,
		SyncSchedule:      "*/15 * * * *",
		ComputeSchedule:   "*/15 * * * *",
		Timezone:          "UTC",
	}
}

var (
	labelNameRe = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	matcher     = `\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"\s*`
	selectorRe  = regexp.MustCompile(`^` + matcher + `(,` + matcher + `)*,?\s*$`)
)

// Validate checks the config and returns every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.Selector != "" && !selectorRe.MatchString(c.Selector) {
		errs = append(errs, fmt.Errorf(`selector %q: want PromQL label matchers separated by commas, like job="throughline"`, c.Selector))
	}
	if len(c.InstanceLabels) == 0 {
		errs = append(errs, errors.New("instance labels: want at least one (job, instance)"))
	}
	for _, l := range c.InstanceLabels {
		if !labelNameRe.MatchString(l) || strings.HasPrefix(l, "__") {
			errs = append(errs, fmt.Errorf("instance label %q: not a label name", l))
		}
	}
	if c.AllocationRatio <= 0 || c.LoggedUtilization <= 0 {
		errs = append(errs, errors.New("allocation and logged utilization thresholds must be positive"))
	}
	for name, v := range map[string]float64{"on-time probability": c.OnTimeProbability, "aging share": c.AgingShare, "rate-limited share": c.RateLimitedShare} {
		if v <= 0 || v > 1 {
			errs = append(errs, fmt.Errorf("%s threshold %v: want a share in (0, 1]", name, v))
		}
	}
	if c.AgingMinItems < 1 {
		errs = append(errs, fmt.Errorf("aging minimum items %d: want at least 1", c.AgingMinItems))
	}
	for _, d := range []model.Duration{c.KeepFiringFor, c.OverallocatedFor, c.WIPOverLimitFor, c.AgingFor, c.StalledFor, c.SyncFailingFor, c.ExporterDownFor} {
		if d < 0 {
			errs = append(errs, errors.New("alert durations must not be negative"))
			break
		}
	}
	for _, s := range []string{c.PlanningSeverity, c.OperatorSeverity} {
		if s == "" {
			errs = append(errs, errors.New("severities must not be empty"))
			break
		}
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		errs = append(errs, fmt.Errorf("timezone %q: %w", c.Timezone, err))
	}
	for _, s := range []string{c.SyncSchedule, c.ComputeSchedule} {
		if _, err := SchedulePeriod(s, nil); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// location is the config's time zone (UTC when it does not load; Validate
// reports that).
func (c Config) location() *time.Location {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// JSON renders the config as _config.json.
func (c Config) JSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("encode _config: %w", err)
	}
	return b.Bytes(), nil
}
