package metrics

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// SyncHealth is the pipeline state of one source.
type SyncHealth struct {
	LastSuccess time.Time
	Duration    time.Duration
	Up          bool
	Errors      map[string]float64 // reason → count
	// RetryAfterExceeded counts syncs stopped by a Retry-After above the cap.
	RetryAfterExceeded float64
}

// JobHealth is the state of one scheduled task (compute).
type JobHealth struct {
	LastSuccess time.Time
	Duration    time.Duration
	Success     bool
}

// SyncErrorReasons are the reason label values of throughline_sync_errors_total.
var SyncErrorReasons = []string{"error", "canceled", "config"}

// Build identifies the binary.
type Build struct{ Version, Revision, GoVersion string }

// Collector exposes the latest snapshot and pipeline health. A scrape only
// reads memory: no SQL runs at scrape time. SaveState and Resume keep the
// pipeline health in the warehouse, so a restart changes nothing /metrics says.
type Collector struct {
	build prometheus.Metric

	mu           sync.RWMutex
	snap         *Snapshot
	syncs        map[string]*SyncHealth
	jobs         map[string]*JobHealth
	requests     map[[2]string]float64 // (source, code) → requests
	servingSince time.Time             // when serve first exposed this warehouse; zero: never
}

var _ prometheus.Collector = (*Collector)(nil)

// NewCollector returns a collector with no snapshot yet.
func NewCollector(b Build) *Collector {
	return &Collector{
		build:    prometheus.MustNewConstMetric(BuildInfo.Desc(), prometheus.GaugeValue, 1, b.Version, b.Revision, b.GoVersion),
		syncs:    map[string]*SyncHealth{},
		jobs:     map[string]*JobHealth{},
		requests: map[[2]string]float64{},
	}
}

// SetSnapshot swaps in a new snapshot.
func (c *Collector) SetSnapshot(s *Snapshot) {
	c.mu.Lock()
	c.snap = s
	c.mu.Unlock()
}

// Snapshot returns the current snapshot (nil before the first compute).
func (c *Collector) Snapshot() *Snapshot {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.snap
}

// syncHealth returns the source's state, created with every error reason
// at 0 (so increase() sees the first failure). c.mu is held.
func (c *Collector) syncHealth(source string) *SyncHealth {
	h := c.syncs[source]
	if h == nil {
		h = &SyncHealth{Errors: map[string]float64{}}
		for _, r := range SyncErrorReasons {
			h.Errors[r] = 0
		}
		c.syncs[source] = h
	}
	return h
}

// ObserveSync records a sync outcome. reason is empty on success.
func (c *Collector) ObserveSync(source string, at time.Time, d time.Duration, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.syncHealth(source)
	h.Duration = d
	h.Up = reason == ""
	if reason == "" {
		h.LastSuccess = stateTime(at)
	} else {
		h.Errors[reason]++
	}
}

// ObserveRetryAfterExceeded counts a sync of source that stopped because a
// reply asked to wait longer than max_retry_after; call it with the
// failure's ObserveSync.
func (c *Collector) ObserveRetryAfterExceeded(source string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h := c.syncs[source]; h != nil {
		h.RetryAfterExceeded++
	}
}

// ObserveRequest counts one HTTP request to a source's API; code is the
// reply's status code, or "error" when no reply came.
func (c *Collector) ObserveRequest(source, code string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests[[2]string{source, code}]++
}

// ObserveJob records the outcome of a scheduled task (compute).
func (c *Collector) ObserveJob(job string, at time.Time, d time.Duration, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.jobs[job]
	if h == nil {
		h = &JobHealth{}
		c.jobs[job] = h
	}
	h.Duration, h.Success = d, ok
	if ok {
		h.LastSuccess = stateTime(at)
	}
}

// Describe sends every descriptor of the catalogue.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range Catalog {
		ch <- d.Desc()
	}
}

func seconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Collect emits the pipeline health and the snapshot.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ch <- c.build
	c.mu.RLock()
	defer c.mu.RUnlock()
	gauge := func(d Def, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d.Desc(), d.Type, v, labels...)
	}
	for source, h := range c.syncs {
		if !h.LastSuccess.IsZero() {
			gauge(SyncLastSuccess, seconds(h.LastSuccess), source)
		}
		gauge(SyncDuration, h.Duration.Seconds(), source)
		gauge(Up, boolValue(h.Up), source)
		for reason, n := range h.Errors {
			gauge(SyncErrors, n, source, reason)
		}
		gauge(SyncRetryAfter, h.RetryAfterExceeded, source)
	}
	for k, n := range c.requests {
		gauge(SyncRequests, n, k[0], k[1])
	}
	for task, h := range c.jobs {
		for _, d := range [][3]Def{{TaskLastSuccess, TaskDuration, TaskSuccess}, {JobLastSuccess, JobDuration, JobSuccess}} {
			if !h.LastSuccess.IsZero() {
				gauge(d[0], seconds(h.LastSuccess), task)
			}
			gauge(d[1], h.Duration.Seconds(), task)
			gauge(d[2], boolValue(h.Success), task)
		}
	}
	if c.snap != nil {
		collectFlow(c.snap, ch, gauge)
		collectDelivery(c.snap, gauge)
		collectCapacity(c.snap, gauge)
	}
}

type gaugeFunc func(d Def, v float64, labels ...string)

func collectFlow(s *Snapshot, ch chan<- prometheus.Metric, gauge gaugeFunc) {
	for _, k := range s.Counters {
		l := []string{k.Team, k.Project, k.WorkClass, k.ItemType}
		gauge(ItemsCreated, k.Created, l...)
		gauge(ItemsStarted, k.Started, l...)
		gauge(ItemsCompleted, k.Completed, l...)
		gauge(ItemsReopened, k.Reopened, l...)
		gauge(ItemsDiscarded, k.Discarded, l...)
	}
	for _, h := range s.Histograms {
		ch <- prometheus.MustNewConstHistogram(CycleTime.Desc(), h.Count, h.Sum, h.Buckets, h.Team, h.WorkClass)
	}
	for _, q := range s.Cycle {
		ch <- prometheus.MustNewConstSummary(CycleTimeWindow.Desc(), uint64(q.Items), q.SumSeconds, q.Quantiles, q.Team, q.WorkClass)
		gauge(SLE, q.SLESeconds, q.Team, q.WorkClass)
		gauge(SLEAttainment, q.SLEAttainment, q.Team, q.WorkClass)
		switch {
		case q.Team != "*" && q.WorkClass != "*":
			gauge(CycleTimeWindowItems, float64(q.Items), q.Team, q.WorkClass)
			for p, v := range q.Quantiles {
				gauge(CycleTimeWindowPercentile, v, q.Team, q.WorkClass, Percentile(p))
			}
			for i, d := range CycleBucketsDays {
				n := 0.0
				if q.Distribution != nil {
					n = q.Distribution[i]
				}
				gauge(CycleTimeWindowDistribution, n, q.Team, q.WorkClass, MaxDays(d))
			}
			gauge(CycleTimeWindowDistribution, float64(q.Items), q.Team, q.WorkClass, "+Inf")
		case q.Team != "*":
			for p, v := range q.Quantiles {
				gauge(TeamCycleTimeWindowPercentile, v, q.Team, Percentile(p))
			}
			gauge(TeamSLE, q.SLESeconds, q.Team, q.SLESource)
			gauge(TeamSLEAttainment, q.SLEAttainment, q.Team)
		}
	}
	for _, l := range s.Lead {
		switch {
		case l.Team != "*" && l.WorkClass != "*":
			for p, v := range l.Quantiles {
				gauge(LeadTimeWindowPercentile, v, l.Team, l.WorkClass, Percentile(p))
			}
		case l.Team != "*":
			for p, v := range l.Quantiles {
				gauge(TeamLeadTimeWindowPercentile, v, l.Team, Percentile(p))
			}
		}
	}
	for _, w := range s.WIP {
		gauge(WIPItems, w.Items, w.Team, w.WorkClass, w.Stage)
	}
	for team, lim := range s.WIPLimits {
		gauge(WIPLimit, lim, team)
	}
	for _, a := range s.Ages {
		ch <- prometheus.MustNewConstSummary(WIPAge.Desc(), a.Count, a.SumSeconds, a.Quantiles, a.Team, a.WorkClass)
		for p, v := range a.Quantiles {
			gauge(WIPAgePercentile, v, a.Team, a.WorkClass, Percentile(p))
		}
	}
	for _, g := range s.OverSLE {
		gauge(WIPOverSLE, g.Value, g.Team, g.WorkClass)
	}
	for _, e := range s.Efficiency {
		gauge(FlowEfficiency, e.Value, e.Team, e.WorkClass)
	}
	for _, t := range s.Throughput {
		gauge(ThroughputWeekly, t.Items, t.Team, t.Project, t.WorkClass, strconv.Itoa(t.WeekOffset))
	}
	for _, d := range s.Quality {
		gauge(DataQuality, d.Items, d.Source, d.Check)
	}
	for _, t := range s.TeamNames {
		gauge(TeamInfo, 1, t)
	}
	for _, p := range s.Projects {
		gauge(ProjectInfo, 1, p.Key, p.Name, p.Team, p.Source)
	}
}

func collectDelivery(s *Snapshot, gauge gaugeFunc) {
	for _, m := range s.Milestones {
		gauge(MilestoneInfo, 1, m.Project, m.Name, m.Team, m.Source, m.URL)
		if !m.Due.IsZero() {
			gauge(MilestoneDue, seconds(m.Due), m.Project, m.Name)
		}
		if !m.Baseline.IsZero() {
			gauge(MilestoneBaselineDue, seconds(m.Baseline), m.Project, m.Name)
		}
		for q, d := range m.Forecast {
			gauge(MilestoneForecast, seconds(d), m.Project, m.Name, strconv.FormatFloat(q, 'f', -1, 64))
		}
		if m.HasOnTime {
			gauge(MilestoneOnTime, m.OnTime, m.Project, m.Name)
		}
		gauge(MilestoneRemaining, m.Remaining, m.Project, m.Name)
		gauge(MilestoneScope, m.Scope, m.Project, m.Name)
		gauge(MilestoneCompleted, m.Completed, m.Project, m.Name)
		if m.HasSlip {
			gauge(MilestoneSlip, m.SlipDays*86400, m.Project, m.Name)
		}
		for _, st := range MilestoneStatuses {
			gauge(MilestoneStatus, boolValue(st == m.Status), m.Project, m.Name, st)
		}
	}
	for _, a := range s.Backtest {
		if a.Known == 0 {
			continue // no forecast was scored: no rates to tell
		}
		hit, mae, bias, n := ForecastBacktestHit, ForecastBacktestError, ForecastBacktestBias, ForecastBacktestSample
		labels := []string{a.Project, a.Model}
		if a.Project == "*" {
			hit, mae, bias, n = BacktestOverallHit, BacktestOverallError, BacktestOverallBias, BacktestOverallSample
			labels = labels[1:]
		}
		for _, h := range []struct {
			pct string
			v   float64
		}{{"50", a.HitP50}, {"85", a.HitP85}, {"95", a.HitP95}} {
			gauge(hit, h.v, append(labels, h.pct)...)
		}
		gauge(mae, a.MAEDays*86400, labels...)
		gauge(bias, a.BiasDays*86400, labels...)
		gauge(n, float64(a.Known), labels...)
	}
}

func collectCapacity(s *Snapshot, gauge gaugeFunc) {
	for _, l := range s.Capacity {
		off := strconv.Itoa(l.WeekOffset)
		gauge(CapacitySeconds, l.Seconds, l.Team, off)
		if l.HasRatio {
			gauge(AllocationRatio, l.Ratio, l.Team, off)
		}
	}
	for _, l := range s.Planned {
		gauge(PlannedLoad, l.Seconds, l.Team, l.WorkClass, strconv.Itoa(l.WeekOffset))
	}
	for team, v := range s.Rolling {
		gauge(AllocationRollingWeek, v, team)
	}
	for team, v := range s.LoggedUtil {
		gauge(LoggedUtilization, v, team)
	}
	for team, v := range s.Available {
		gauge(ProjectCapacityAvailable, v, team)
	}
}
