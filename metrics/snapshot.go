package metrics

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"
)

// Querier is what loading a snapshot needs; *sql.DB satisfies it.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// CycleBucketsDays are the upper bounds of the cycle-time histogram, in days.
var CycleBucketsDays = []float64{1, 2, 3, 5, 8, 13, 21, 34, 55, 89}

// Quantiles exported for window cycle time and WIP age.
var Quantiles = []float64{0.5, 0.7, 0.85, 0.95}

// ThroughputWeeks is how many complete ISO weeks before the current one
// throughline_throughput_weekly_items covers (week_offset -1 … -ThroughputWeeks).
const ThroughputWeeks = 12

// StageClasses are the workflow_stage values of throughline_wip_items.
var StageClasses = []string{"active", "wait"}

// Counter is one label set of the event counters.
type Counter struct {
	Team, Project, WorkClass, ItemType               string
	Created, Started, Completed, Reopened, Discarded float64
}

// Histogram is the cycle-time histogram of one team and class.
type Histogram struct {
	Team, WorkClass string
	Count           uint64
	Sum             float64            // seconds
	Buckets         map[float64]uint64 // upper bound in seconds → cumulative count
}

// CycleStat is one row of cycle_time_stats; Team or WorkClass is "*" on the
// total rows.
type CycleStat struct {
	Team, WorkClass string
	Items           int64
	Quantiles       map[float64]float64 // seconds, nearest rank
	SLESeconds      float64
	SLESource       string // config or p85
	SLEAttainment   float64
	SumSeconds      float64
	// Distribution: window items with a cycle time of at most each of
	// CycleBucketsDays (cumulative; per team and class rows only).
	Distribution []float64
}

// LeadStat is one row of lead_time_stats.
type LeadStat struct {
	Team, WorkClass string
	Items           int64
	Quantiles       map[float64]float64 // seconds, nearest rank
	SumSeconds      float64
}

// WIP is the current work in progress of one label set.
type WIP struct {
	Team, WorkClass, Stage string
	Items                  float64
}

// Age is the WIP age distribution of one team and class.
type Age struct {
	Team, WorkClass string
	Quantiles       map[float64]float64 // seconds
	Count           uint64
	SumSeconds      float64
}

// Group is a value per team and work class.
type Group struct {
	Team, WorkClass string
	Value           float64
}

// Efficiency is the flow efficiency over the window.
type Efficiency = Group

// Quality is one data_quality row.
type Quality struct {
	Source, Check string
	Items         float64
}

// Throughput is completed, non-discarded items of one label set in the ISO
// week at WeekOffset (0: the current week so far, -1 the last complete one).
type Throughput struct {
	Team, Project, WorkClass string
	WeekOffset               int
	Items                    float64
}

// Project describes one project (throughline_project_info).
type Project struct {
	Key, Name, Team, Source string
}

// Milestone is one milestone exposed with labels (open, or done within 30 days).
type Milestone struct {
	Project, Name, Status string
	Team, Source, URL     string    // throughline_milestone_info
	Due, Baseline         time.Time // zero when none
	Forecast              map[float64]time.Time
	OnTime                float64
	HasOnTime             bool
	Remaining             float64
	Scope, Completed      float64
	SlipDays              float64
	HasSlip               bool
}

// Accuracy is one row of forecast_backtest_summary.
type Accuracy struct {
	Project string // "*": every project together
	Model   string
	// Known is the number of scored checkpoints with a forecast; the rates
	// and errors exist when it is above 0.
	Known                  int
	HitP50, HitP85, HitP95 float64
	MAEDays, BiasDays      float64
}

// MilestoneStatuses is the state set of throughline_milestone_status.
var MilestoneStatuses = []string{"done", "overdue", "off_track", "at_risk", "on_track", "unknown", "no_due_date"}

// Load is planned load or capacity of one label set.
type Load struct {
	Team, WorkClass string
	WeekOffset      int
	Seconds         float64
	Ratio           float64
	HasRatio        bool
}

// Snapshot is everything the collector exposes from the last compute.
type Snapshot struct {
	ComputedAt time.Time
	Counters   []Counter
	Histograms []Histogram
	Cycle      []CycleStat
	Lead       []LeadStat
	WIP        []WIP // every team and class with items, both stage classes, zeros included
	WIPLimits  map[string]float64
	Ages       []Age
	OverSLE    []Group // every team and class with items, zeros included
	Efficiency []Efficiency
	Quality    []Quality
	Throughput []Throughput
	TeamNames  []string // every team of the config, and unassigned
	Projects   []Project
	Milestones []Milestone
	Backtest   []Accuracy
	Capacity   []Load             // capacity and allocation per team and week offset
	Planned    []Load             // planned load per team, class and week offset
	Rolling    map[string]float64 // rolling-week allocation ratio per team
	LoggedUtil map[string]float64
	Available  map[string]float64 // project capacity available, seconds
	// Summary figures for people.
	Items, Teams int64
}

// LoadSnapshot reads the metric tables once (at compute time, not at
// scrape), and the canonical tables only for names and links (projects,
// milestones, sources). now is the compute's time: loaded again after a
// restart with the same now, before any sync, the snapshot is the same.
func LoadSnapshot(ctx context.Context, q Querier, now time.Time) (*Snapshot, error) {
	s := &Snapshot{ComputedAt: now, WIPLimits: map[string]float64{}, Rolling: map[string]float64{},
		LoggedUtil: map[string]float64{}, Available: map[string]float64{}}
	l := loader{ctx: ctx, q: q}
	for _, load := range []func(*loader, *Snapshot) error{
		loadCounters, loadHistograms, loadCycle, loadLead, loadWIP, loadAges, loadEfficiency, loadQuality, loadThroughput,
		loadTeams, loadProjects, loadMilestones, loadBacktest, loadCapacity, loadSummary,
	} {
		if err := load(&l, s); err != nil {
			return nil, fmt.Errorf("load snapshot: %w", err)
		}
	}
	return s, nil
}

// loader runs the snapshot's queries.
type loader struct {
	ctx context.Context
	q   Querier
}

func (l *loader) each(query string, scan func(*sql.Rows) error, args ...any) error {
	rows, err := l.q.QueryContext(l.ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// today is the compute's day: throughput_daily runs to it.
const today = `(SELECT max(day) FROM throughput_daily)`

func loadCounters(l *loader, s *Snapshot) error {
	return l.each(`SELECT team, project, work_class, item_type, created, started, completed, reopened, discarded FROM flow_counters ORDER BY ALL`, func(r *sql.Rows) error {
		var c Counter
		err := r.Scan(&c.Team, &c.Project, &c.WorkClass, &c.ItemType, &c.Created, &c.Started, &c.Completed, &c.Reopened, &c.Discarded)
		s.Counters = append(s.Counters, c)
		return err
	})
}

// bucketCounts are count(*) FILTER columns of col at most each bucket bound.
func bucketCounts(col string) string {
	var b []string
	for _, d := range CycleBucketsDays {
		b = append(b, fmt.Sprintf("count(*) FILTER (WHERE %s <= %g)", col, d*86400))
	}
	return strings.Join(b, ", ")
}

// loadHistograms reads the cycle-time histogram from the counted
// completions (counter_events): it only grows, like the counters.
func loadHistograms(l *loader, s *Snapshot) error {
	return l.each(`SELECT team, work_class, count(*), sum(cycle_seconds), `+bucketCounts("cycle_seconds")+`
		FROM counter_events WHERE event = 'completed' AND cycle_seconds IS NOT NULL
		GROUP BY ALL ORDER BY ALL`, func(r *sql.Rows) error {
		h := Histogram{Buckets: map[float64]uint64{}}
		counts := make([]uint64, len(CycleBucketsDays))
		dest := []any{&h.Team, &h.WorkClass, &h.Count, &h.Sum}
		for i := range counts {
			dest = append(dest, &counts[i])
		}
		if err := r.Scan(dest...); err != nil {
			return err
		}
		for i, d := range CycleBucketsDays {
			h.Buckets[d*86400] = counts[i]
		}
		s.Histograms = append(s.Histograms, h)
		return nil
	})
}

// loadCycle reads cycle_time_stats and, per team and class, the window
// distribution (the items of cycle_time_stats, by cycle time).
func loadCycle(l *loader, s *Snapshot) error {
	err := l.each(`SELECT team, work_class, items, p50_seconds, p70_seconds, p85_seconds, p95_seconds, sle_days, sle_source, sle_attainment, cycle_seconds_sum
		FROM cycle_time_stats ORDER BY ALL`, func(r *sql.Rows) error {
		var c CycleStat
		var p50, p70, p85, p95, sle float64
		err := r.Scan(&c.Team, &c.WorkClass, &c.Items, &p50, &p70, &p85, &p95, &sle, &c.SLESource, &c.SLEAttainment, &c.SumSeconds)
		c.Quantiles = map[float64]float64{0.5: p50, 0.7: p70, 0.85: p85, 0.95: p95}
		c.SLESeconds = sle * 86400
		s.Cycle = append(s.Cycle, c)
		return err
	})
	if err != nil {
		return err
	}
	// The window of 40_cycle_time.sql.
	dist := map[[2]string][]float64{}
	err = l.each(`SELECT team, work_class, `+bucketCounts("cycle_seconds")+` FROM item_flow
		WHERE completed AND NOT discarded AND started_at IS NOT NULL AND cycle_seconds >= 0
		  AND finish_day > `+today+` - (SELECT max(window_days) FROM cycle_time_stats) AND finish_day <= `+today+`
		GROUP BY ALL`, func(r *sql.Rows) error {
		var team, class string
		counts := make([]float64, len(CycleBucketsDays))
		dest := []any{&team, &class}
		for i := range counts {
			dest = append(dest, &counts[i])
		}
		err := r.Scan(dest...)
		dist[[2]string{team, class}] = counts
		return err
	})
	for i, c := range s.Cycle {
		s.Cycle[i].Distribution = dist[[2]string{c.Team, c.WorkClass}]
	}
	return err
}

// loadLead reads lead_time_stats: the lead-time percentiles of the window.
func loadLead(l *loader, s *Snapshot) error {
	return l.each(`SELECT team, work_class, items, p50_seconds, p70_seconds, p85_seconds, p95_seconds, lead_seconds_sum FROM lead_time_stats`,
		func(r *sql.Rows) error {
			var ls LeadStat
			var p50, p70, p85, p95 float64
			err := r.Scan(&ls.Team, &ls.WorkClass, &ls.Items, &p50, &p70, &p85, &p95, &ls.SumSeconds)
			ls.Quantiles = map[float64]float64{0.5: p50, 0.7: p70, 0.85: p85, 0.95: p95}
			s.Lead = append(s.Lead, ls)
			return err
		})
}

// flowGroups are the (team, work class) pairs that have items: the label
// sets of the gauges exposed with zeros.
const flowGroups = `(SELECT DISTINCT team, work_class FROM item_flow)`

func loadWIP(l *loader, s *Snapshot) error {
	err := l.each(`SELECT g.team, g.work_class, c.stage_class, count(f.item_id)
		FROM `+flowGroups+` g CROSS JOIN (SELECT unnest(?::VARCHAR[]) AS stage_class) c
		LEFT JOIN (
			SELECT f.item_id, f.team, f.work_class, coalesce(m.stage_class, 'active') AS stage_class
			FROM item_flow f JOIN work_items w USING (item_id)
			LEFT JOIN status_map m ON m.source_id = w.source_id AND m.status = w.status AND m.category IS NOT DISTINCT FROM w.status_category
			WHERE f.stage = 'started'
		) f ON f.team = g.team AND f.work_class = g.work_class AND f.stage_class = c.stage_class
		GROUP BY ALL ORDER BY ALL`, func(r *sql.Rows) error {
		var w WIP
		err := r.Scan(&w.Team, &w.WorkClass, &w.Stage, &w.Items)
		s.WIP = append(s.WIP, w)
		return err
	}, StageClasses)
	if err != nil {
		return err
	}
	return l.each(`SELECT team_id, wip_limit FROM teams WHERE wip_limit IS NOT NULL`, func(r *sql.Rows) error {
		var team string
		var lim float64
		err := r.Scan(&team, &lim)
		s.WIPLimits[team] = lim
		return err
	})
}

func loadAges(l *loader, s *Snapshot) error {
	err := l.each(`SELECT team, work_class, list_sort(list(age_days)) AS a, count(*) AS n
		FROM aging_wip GROUP BY ALL ORDER BY ALL`, func(r *sql.Rows) error {
		var a Age
		var ages []any
		var n int
		if err := r.Scan(&a.Team, &a.WorkClass, &ages, &n); err != nil {
			return err
		}
		a.Quantiles = map[float64]float64{}
		a.Count = uint64(n)
		for _, v := range ages {
			a.SumSeconds += toFloat(v) * 86400
		}
		for _, q := range Quantiles {
			rank := max(int(math.Ceil(q*float64(n))), 1)
			a.Quantiles[q] = toFloat(ages[rank-1]) * 86400
		}
		s.Ages = append(s.Ages, a)
		return nil
	})
	if err != nil {
		return err
	}
	return l.each(`SELECT g.team, g.work_class, count(a.item_id) FILTER (WHERE a.over_sle)
		FROM `+flowGroups+` g LEFT JOIN aging_wip a ON a.team = g.team AND a.work_class = g.work_class
		GROUP BY ALL ORDER BY ALL`, func(r *sql.Rows) error {
		var g Group
		err := r.Scan(&g.Team, &g.WorkClass, &g.Value)
		s.OverSLE = append(s.OverSLE, g)
		return err
	})
}

func loadEfficiency(l *loader, s *Snapshot) error {
	return l.each(`SELECT team, work_class, flow_efficiency FROM cycle_time_stats
		WHERE team <> '*' AND work_class <> '*' AND flow_efficiency IS NOT NULL ORDER BY ALL`, func(r *sql.Rows) error {
		var e Efficiency
		err := r.Scan(&e.Team, &e.WorkClass, &e.Value)
		s.Efficiency = append(s.Efficiency, e)
		return err
	})
}

func loadQuality(l *loader, s *Snapshot) error {
	return l.each(`SELECT source, "check", items FROM data_quality ORDER BY ALL`, func(r *sql.Rows) error {
		var d Quality
		err := r.Scan(&d.Source, &d.Check, &d.Items)
		s.Quality = append(s.Quality, d)
		return err
	})
}

// loadThroughput reads throughput per ISO week (throughput_weekly's rules,
// with the project) for the current week and the ThroughputWeeks before it,
// zeros included, for every team, project and class that has items.
func loadThroughput(l *loader, s *Snapshot) error {
	return l.each(`WITH w AS (SELECT CAST(date_trunc('week', `+today+`) AS DATE) AS this_week),
		o AS (SELECT CAST(-unnest(range(0, ?)) AS INTEGER) AS week_offset),
		g AS (SELECT DISTINCT team, coalesce(project, '') AS project, work_class FROM item_flow),
		c AS (
			SELECT team, coalesce(project, '') AS project, work_class,
				CAST((CAST(date_trunc('week', finish_day) AS DATE) - (SELECT this_week FROM w)) / 7 AS INTEGER) AS week_offset,
				count(*) AS items
			FROM item_flow
			WHERE completed AND NOT discarded AND finish_day >= (SELECT this_week FROM w) - CAST(7 * ? AS INTEGER) AND finish_day <= `+today+`
			GROUP BY ALL)
		SELECT g.team, g.project, g.work_class, o.week_offset, coalesce(c.items, 0)
		FROM g CROSS JOIN o
		LEFT JOIN c ON c.team = g.team AND c.project = g.project AND c.work_class = g.work_class AND c.week_offset = o.week_offset
		ORDER BY ALL`, func(r *sql.Rows) error {
		var t Throughput
		err := r.Scan(&t.Team, &t.Project, &t.WorkClass, &t.WeekOffset, &t.Items)
		s.Throughput = append(s.Throughput, t)
		return err
	}, ThroughputWeeks+1, ThroughputWeeks)
}

func loadTeams(l *loader, s *Snapshot) error {
	return l.each(`SELECT team_id FROM teams ORDER BY 1`, func(r *sql.Rows) error {
		var t string
		err := r.Scan(&t)
		s.TeamNames = append(s.TeamNames, t)
		return err
	})
}

func loadProjects(l *loader, s *Snapshot) error {
	return l.each(`SELECT DISTINCT p.key, coalesce(nullif(p.name, ''), p.key), coalesce(p.team_id, 'unassigned'), p.source_id
		FROM projects p ORDER BY ALL`, func(r *sql.Rows) error {
		var p Project
		err := r.Scan(&p.Key, &p.Name, &p.Team, &p.Source)
		s.Projects = append(s.Projects, p)
		return err
	})
}

// loadMilestones reads the milestones with labels: open, or done within
// the last 30 days. A milestone's team is its project's, else the team of
// most of its scope, else unassigned.
func loadMilestones(l *loader, s *Snapshot) error {
	return l.each(`WITH scope_team AS (
			SELECT milestone_id, first(team ORDER BY n DESC, team) AS team FROM (
				SELECT w.milestone_id, f.team, count(*) AS n FROM work_items w JOIN item_flow f USING (item_id)
				WHERE w.milestone_id IS NOT NULL GROUP BY ALL)
			GROUP BY milestone_id
		), epics AS (
			SELECT DISTINCT source_id, key FROM work_items WHERE lower(item_type) = 'epic'
		)
		SELECT coalesce(ms.project, ''), ms.name, ms.status, ms.due_date, ms.baseline_due_date,
			f.p50_date, f.p70_date, f.p85_date, f.p95_date, ms.on_time_probability, ms.remaining, ms.scope, ms.completed, ms.slip_days,
			coalesce(p.team_id, st.team, 'unassigned'), m.source_id, coalesce(src.kind, ''), coalesce(src.base_url, ''), e.key IS NOT NULL
		FROM milestone_status ms
		LEFT JOIN milestones m ON m.milestone_id = ms.milestone_id
		LEFT JOIN projects p ON p.project_id = m.project_id
		LEFT JOIN sources src ON src.source_id = m.source_id
		LEFT JOIN scope_team st ON st.milestone_id = ms.milestone_id
		LEFT JOIN epics e ON e.source_id = m.source_id AND e.key = ms.name
		LEFT JOIN (SELECT * FROM milestone_forecasts QUALIFY row_number() OVER (PARTITION BY milestone_id ORDER BY computed_at DESC) = 1) f
			ON f.milestone_id = ms.milestone_id AND ms.status <> 'done'
		WHERE ms.status <> 'done' OR coalesce(ms.last_completion, CAST(ms.completed_at AS DATE)) >= `+today+` - 30
		ORDER BY ALL`, func(r *sql.Rows) error {
		var m Milestone
		var due, base, p50, p70, p85, p95 sql.NullTime
		var prob, slip sql.NullFloat64
		var kind, baseURL string
		var epic bool
		if err := r.Scan(&m.Project, &m.Name, &m.Status, &due, &base, &p50, &p70, &p85, &p95, &prob, &m.Remaining, &m.Scope, &m.Completed, &slip,
			&m.Team, &m.Source, &kind, &baseURL, &epic); err != nil {
			return err
		}
		m.Due, m.Baseline = due.Time, base.Time
		m.Forecast = map[float64]time.Time{}
		for q, v := range map[float64]sql.NullTime{0.5: p50, 0.7: p70, 0.85: p85, 0.95: p95} {
			if v.Valid {
				m.Forecast[q] = v.Time
			}
		}
		m.OnTime, m.HasOnTime = prob.Float64, prob.Valid
		m.SlipDays, m.HasSlip = slip.Float64, slip.Valid
		m.URL = milestoneURL(kind, baseURL, m.Project, m.Name, epic)
		s.Milestones = append(s.Milestones, m)
		return nil
	})
}

// loadBacktest reads the forecast accuracy per project and model.
func loadBacktest(l *loader, s *Snapshot) error {
	return l.each(`SELECT project, model, checkpoints - unknown_checkpoints, coalesce(hit_rate_p50, 0), coalesce(hit_rate_p85, 0),
			coalesce(hit_rate_p95, 0), coalesce(p85_mae_days, 0), coalesce(p85_bias_days, 0)
		FROM forecast_backtest_summary ORDER BY project, model`, func(r *sql.Rows) error {
		var a Accuracy
		err := r.Scan(&a.Project, &a.Model, &a.Known, &a.HitP50, &a.HitP85, &a.HitP95, &a.MAEDays, &a.BiasDays)
		s.Backtest = append(s.Backtest, a)
		return err
	})
}

// milestoneURL is where a milestone lives at its source: a Jira epic, the
// issues of a Jira fix version, an Asana project; empty for CSV.
func milestoneURL(kind, base, project, name string, epic bool) string {
	base = strings.TrimSuffix(base, "/")
	switch {
	case base == "" || project == "":
		return ""
	case kind == "jira" && epic:
		return base + "/browse/" + url.PathEscape(name)
	case kind == "jira":
		jql := fmt.Sprintf("project = %q AND fixVersion = %q", project, name)
		return base + "/issues/?jql=" + url.QueryEscape(jql)
	case kind == "asana":
		// The API's base (…/api/1.0) without its path is the web app's.
		web := strings.TrimSuffix(base, "/api/1.0")
		return web + "/0/" + url.PathEscape(project)
	}
	return ""
}

func loadCapacity(l *loader, s *Snapshot) error {
	err := l.each(`SELECT team, week_offset, capacity_hours * 3600, allocation_ratio FROM capacity_outlook ORDER BY ALL`, func(r *sql.Rows) error {
		var c Load
		var ratio sql.NullFloat64
		err := r.Scan(&c.Team, &c.WeekOffset, &c.Seconds, &ratio)
		c.Ratio, c.HasRatio = ratio.Float64, ratio.Valid
		s.Capacity = append(s.Capacity, c)
		return err
	})
	if err != nil {
		return err
	}
	err = l.each(`SELECT team, 'project', week_offset, planned_project_hours * 3600 FROM capacity_outlook
		UNION ALL SELECT team, 'operational', week_offset, planned_operational_hours * 3600 FROM capacity_outlook
		UNION ALL SELECT team, 'unclassified', week_offset, planned_unclassified_hours * 3600 FROM capacity_outlook
		ORDER BY ALL`, func(r *sql.Rows) error {
		var c Load
		err := r.Scan(&c.Team, &c.WorkClass, &c.WeekOffset, &c.Seconds)
		s.Planned = append(s.Planned, c)
		return err
	})
	if err != nil {
		return err
	}
	floats := []struct {
		into  map[string]float64
		query string
	}{
		{s.Rolling, `SELECT team, allocation_ratio FROM allocation_daily
			WHERE day = (SELECT max(day) FROM allocation_daily) AND allocation_ratio IS NOT NULL`},
		{s.LoggedUtil, `SELECT team, logged_utilization FROM utilization_weekly
			WHERE week_start = (SELECT week_start FROM capacity_outlook WHERE week_offset = 0 LIMIT 1) - 7 AND logged_utilization IS NOT NULL`},
		{s.Available, `SELECT team, available_hours * 3600 FROM project_capacity`},
	}
	for _, f := range floats {
		err := l.each(f.query, func(r *sql.Rows) error {
			var team string
			var v float64
			err := r.Scan(&team, &v)
			f.into[team] = v
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func loadSummary(l *loader, s *Snapshot) error {
	return l.each(`SELECT (SELECT count(*) FROM item_flow), (SELECT count(DISTINCT team) FROM item_flow WHERE team <> 'unassigned')`, func(r *sql.Rows) error {
		return r.Scan(&s.Items, &s.Teams)
	})
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	case float64:
		return x
	case int:
		return float64(x)
	}
	return 0
}
