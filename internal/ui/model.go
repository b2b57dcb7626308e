package ui

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"github.com/throughline/throughline/dashboards"
	"slices"
	"strings"
	"time"

	"github.com/throughline/throughline/metrics"
	"github.com/throughline/throughline/metrics/plan"
)

// Querier is what loading the page model needs; *sql.DB satisfies it.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Bounds on what the model holds, so that pages stay fast whatever the
// warehouse size: requests read the model, never the warehouse.
const (
	// ThroughputWeeks is how many complete weeks of throughput the pages show.
	ThroughputWeeks = 26
	// FlowDays is how many days of WIP and cumulative flow the team page shows.
	FlowDays = 180
	// MaxFinishedPerTeam bounds the cycle-time scatter: the most recent
	// finished items of the window.
	MaxFinishedPerTeam = 5000
	// MaxAgingPerTeam bounds the aging chart and list: the oldest open items.
	MaxAgingPerTeam = 1000
	// MaxProblems bounds the ingest problems listed (newest first).
	MaxProblems = 500
	// MaxRuns bounds the sync and compute runs listed.
	MaxRuns = 50
	// BurnUpWeeks is how many weeks a burn-up chart reaches back.
	BurnUpWeeks = 52
	// capacityPast and capacityAhead are the weeks of the capacity heat map.
	capacityPast, capacityAhead = 8, 6
)

// Source is a configured source: how to link its items to their pages.
type Source struct {
	Name, Kind string
	BaseURL    string // Jira site; Asana API base (its host serves the app)
	Workspace  string // Asana workspace gid
}

// Params are the inputs of Load besides the warehouse.
type Params struct {
	Now        time.Time
	Location   *time.Location
	WindowDays int
	Sources    []Source
	// Firing are the planning alerts whose conditions hold on the
	// compute's snapshot (dashboards.PlanningFiring): the alert list.
	Firing []dashboards.Firing
	// Started lists the started statuses in workflow order (config
	// workflow.started): the columns of the aging chart.
	Started []string
	// Trials and Seed are the forecasts' (metrics.forecast), for the planner.
	Trials int
	Seed   uint64
	// ForecastMode is metrics.forecast.mode.
	ForecastMode string
}

// Model is everything the pages show, loaded once after each compute.
// It is never modified after Load returns.
type Model struct {
	LoadedAt   time.Time
	ComputedAt time.Time // the compute's end (job_runs), else LoadedAt
	Location   *time.Location
	Today      time.Time // midnight UTC of today in Location
	WindowDays int

	Teams      []*Team
	Milestones []*Milestone
	Capacity   []CapacityWeek // team × week, past and ahead
	Available  []ProjectCapacity
	Quality    []QualityRow
	Problems   []Problem
	// ProblemsTotal counts every ingest problem (Problems holds the newest).
	ProblemsTotal int
	Syncs         []Run // newest first
	Computes      []Run // newest first
	Sources       []SourceStatus
	Alerts        []Alert
	Schema        []Table
	Projects      []string // project keys with items
	WorkClasses   []string
	// Backtest is the forecast accuracy per project and model; project "*"
	// is every project together.
	Backtest []Accuracy
	// ForecastMode is the model of the milestone forecasts.
	ForecastMode string
	// Plan are the assignment planner's inputs.
	Plan         *plan.Inputs
	LoadDuration time.Duration
	started      []string // workflow order of started statuses
}

// Accuracy is one row of forecast_backtest_summary.
type Accuracy struct {
	Project, Model                 string
	Milestones, Checkpoints, Known int
	HitP50, HitP85, HitP95         float64
	MAEDays, BiasDays              float64
	Since                          time.Time
}

// Accuracy returns the backtest of a project ("*": all) in the configured
// model, or nil.
func (m *Model) Accuracy(project string) *Accuracy {
	for i, a := range m.Backtest {
		if a.Project == project && a.Model == m.ForecastMode {
			return &m.Backtest[i]
		}
	}
	return nil
}

// Team is one team's flow.
type Team struct {
	Name     string
	WIPLimit int // 0: none
	// Cycle holds the window statistics per work class; "*" is all classes.
	Cycle  map[string]CycleStat
	Weekly []WeekCount // complete weeks, oldest first, every class
	// WIP is the current WIP per work class.
	WIP      map[string]int
	WIPDaily []DayCount // FlowDays days per class, oldest first
	CFD      []StageCount
	// Finished are the window's finished items with a cycle time, newest
	// first, at most MaxFinishedPerTeam; FinishedTotal counts them all.
	Finished      []Item
	FinishedTotal int
	// Aging are the open started items, oldest first, at most
	// MaxAgingPerTeam; AgingTotal and OverSLE count them all.
	Aging      []Item
	AgingTotal int
	OverSLE    int
	// Allocation is this week's planned load ÷ capacity (HasAllocation).
	Allocation    float64
	HasAllocation bool
	// Logged is last complete week's logged utilization (HasLogged).
	Logged    float64
	HasLogged bool
	// Available is the project capacity left for the next 4 weeks, hours.
	Available    float64
	HasAvailable bool
}

// CycleStat is one row of cycle_time_stats.
type CycleStat struct {
	Items                   int
	P50, P70, P85, P95, SLE int // flow days; 0 when the window is empty
	Attainment              float64
	HasStats                bool
}

// WeekCount is items per week and work class.
type WeekCount struct {
	Week      time.Time
	WorkClass string
	Items     int
}

// DayCount is items per day and work class.
type DayCount struct {
	Day       time.Time
	WorkClass string
	Items     int
}

// StageCount is items per day and stage (cumulative flow).
type StageCount struct {
	Day   time.Time
	Stage string
	Items int
}

// Item is a work item shown on a page.
type Item struct {
	Key, Title, Project, WorkClass, ItemType, Status, StageClass string
	URL                                                          string // the source's page; "" when it has none
	Started, Finished                                            time.Time
	Days                                                         int  // flow days (finished) or age (open)
	OverSLE                                                      bool // open items: older than the SLE
	SLE                                                          int
}

// Milestone is one milestone with its forecast and history.
type Milestone struct {
	ID, Name, Project, Status   string
	Due, Baseline               time.Time // zero when none
	Scope, Completed, Remaining int
	DueChanges                  int
	SlipDays, BaselineVariance  int // P85 − due; due − baseline
	HasSlip, HasVariance        bool
	OnTime                      float64
	HasOnTime                   bool
	P50, P70, P85, P95          time.Time // zero when unknown
	ForecastAt                  time.Time
	ForecastStart               time.Time
	Trials                      int
	Percentiles                 []int // completion day (1 = ForecastStart) at percentiles 1..100
	// Model is the forecast's model (portfolio or independent); in the
	// portfolio model Share is s, Position the place in the project's queue
	// (1 = first), Ahead the items of the milestones before it, and
	// AheadOf those milestones, first first.
	Model           string
	Share           float64
	Position, Ahead int
	AheadOf         []*Milestone
	DeliverySlip    int
	HasDeliverySlip bool
	LastCompletion  time.Time
	BurnUp          []BurnUpWeek
	DueHistory      []DueChange
}

// BurnUpWeek is a milestone's scope and completed items at the end of a week.
type BurnUpWeek struct {
	Week             time.Time
	Scope, Completed int
}

// DueChange is one move of a milestone's due date.
type DueChange struct {
	At       time.Time
	Old, New time.Time
	Origin   string
}

// CapacityWeek is one team-week of the capacity page.
type CapacityWeek struct {
	Team                                               string
	Week                                               time.Time
	Offset                                             int // weeks from this week
	Capacity, Logged                                   float64
	Planned                                            float64 // this week and ahead only (HasPlanned)
	HasPlanned                                         bool
	Ratio                                              float64 // logged ÷ capacity (past) or planned ÷ capacity (now and ahead)
	HasRatio                                           bool
	PlannedProject, PlannedOperational, PlannedUnclass float64
	LoggedProject, LoggedOperational, LoggedUnclass    float64
}

// ProjectCapacity is one row of project_capacity.
type ProjectCapacity struct {
	Team                                         string
	Weeks                                        int
	Capacity, OperationalP85, PlannedProject, Av float64
}

// QualityRow is one row of data_quality.
type QualityRow struct {
	Source, Check string
	Items         int
	Examples      string
}

// Problem is one row of ingest_problems.
type Problem struct {
	Source, File, Column, Key, Reason string
	Line                              int
	At                                time.Time
}

// Run is a sync or compute run.
type Run struct {
	Source, Status, Error string
	Started, Finished     time.Time
	Items, Problems       int
}

// SourceStatus is the latest run and the latest successful run of a source.
type SourceStatus struct {
	Name, Kind string
	Last       Run
	LastOK     time.Time
}

// Alert is an alert rule's condition that holds now.
type Alert struct {
	Name    string // the rule's name (ThroughlineWipOverLimit, ...)
	Subject string // team, or project/milestone
	Link    string // page of the subject
	Detail  string
}

// Table is a public table with its columns, for the SQL console.
type Table struct {
	Name, Comment string
	Columns       []Column
}

// Column is a column of a public table.
type Column struct{ Name, Type, Comment string }

// Team returns the named team, or nil.
func (m *Model) Team(name string) *Team {
	for _, t := range m.Teams {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Milestone returns the milestone with the id, or nil.
func (m *Model) Milestone(id string) *Milestone {
	for _, ms := range m.Milestones {
		if ms.ID == id {
			return ms
		}
	}
	return nil
}

// Load reads the page model from the metric tables (after a compute).
func Load(ctx context.Context, q Querier, p Params) (*Model, error) {
	start := time.Now()
	if p.Location == nil {
		p.Location = time.UTC
	}
	if p.WindowDays <= 0 {
		p.WindowDays = 90
	}
	local := p.Now.In(p.Location)
	if p.ForecastMode == "" {
		p.ForecastMode = metrics.ModePortfolio
	}
	m := &Model{LoadedAt: p.Now, ComputedAt: p.Now, Location: p.Location, WindowDays: p.WindowDays,
		Today: time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC), started: p.Started, ForecastMode: p.ForecastMode}
	l := &loader{ctx: ctx, q: q, m: m, p: p, links: newLinker(p.Sources)}
	for _, step := range []struct {
		name string
		f    func() error
	}{
		{"runs", l.runs}, {"teams", l.teams}, {"throughput", l.throughput}, {"wip", l.wip},
		{"finished", l.finished}, {"aging", l.aging}, {"milestones", l.milestones}, {"burn-up", l.burnUp},
		{"capacity", l.capacity}, {"quality", l.quality}, {"schema", l.schema}, {"lists", l.lists},
		{"backtest", l.backtest}, {"planner", l.planner},
	} {
		if err := step.f(); err != nil {
			return nil, fmt.Errorf("load pages (%s): %w", step.name, err)
		}
	}
	m.Alerts = alerts(m, p.Firing)
	m.LoadDuration = time.Since(start)
	return m, nil
}

type loader struct {
	ctx    context.Context
	q      Querier
	m      *Model
	p      Params
	links  linker
	byTeam map[string]*Team
}

// each runs query and calls scan for every row.
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

// team returns the team of a row, creating it for teams the config does
// not name (unassigned).
func (l *loader) team(name string) *Team {
	if t, ok := l.byTeam[name]; ok {
		return t
	}
	t := &Team{Name: name, Cycle: map[string]CycleStat{}, WIP: map[string]int{}}
	l.byTeam[name] = t
	l.m.Teams = append(l.m.Teams, t)
	return t
}

func (l *loader) runs() error {
	err := l.each(`SELECT source_id, status, coalesce(error, ''), started_at, finished_at, coalesce(items, 0), coalesce(problems, 0)
		FROM sync_runs ORDER BY run_id DESC LIMIT ?`, func(r *sql.Rows) error {
		var run Run
		var fin sql.NullTime
		err := r.Scan(&run.Source, &run.Status, &run.Error, &run.Started, &fin, &run.Items, &run.Problems)
		run.Finished = fin.Time
		l.m.Syncs = append(l.m.Syncs, run)
		return err
	}, MaxRuns)
	if err != nil {
		return err
	}
	err = l.each(`SELECT job, status, coalesce(error, ''), started_at, finished_at FROM job_runs ORDER BY started_at DESC LIMIT ?`, func(r *sql.Rows) error {
		var run Run
		var fin sql.NullTime
		err := r.Scan(&run.Source, &run.Status, &run.Error, &run.Started, &fin)
		run.Finished = fin.Time
		l.m.Computes = append(l.m.Computes, run)
		return err
	}, MaxRuns)
	if err != nil {
		return err
	}
	for _, c := range l.m.Computes {
		if c.Status == "ok" && !c.Finished.IsZero() {
			l.m.ComputedAt = c.Finished
			break
		}
	}
	return l.each(`SELECT s.source_id, s.kind, r.status, coalesce(r.error, ''), r.started_at, r.finished_at, coalesce(r.items, 0),
			(SELECT max(finished_at) FROM sync_runs o WHERE o.source_id = s.source_id AND o.status = 'ok')
		FROM sources s LEFT JOIN (SELECT * FROM sync_runs QUALIFY row_number() OVER (PARTITION BY source_id ORDER BY run_id DESC) = 1) r
			USING (source_id)
		ORDER BY s.source_id`, func(r *sql.Rows) error {
		var s SourceStatus
		var status, errText sql.NullString
		var started, fin, ok sql.NullTime
		err := r.Scan(&s.Name, &s.Kind, &status, &errText, &started, &fin, &s.Last.Items, &ok)
		s.Last.Source, s.Last.Status, s.Last.Error = s.Name, status.String, errText.String
		s.Last.Started, s.Last.Finished, s.LastOK = started.Time, fin.Time, ok.Time
		l.m.Sources = append(l.m.Sources, s)
		return err
	})
}

// teams reads the configured teams (unassigned last), their window
// statistics, current WIP and capacity figures.
func (l *loader) teams() error {
	l.byTeam = map[string]*Team{}
	err := l.each(`SELECT team_id, coalesce(wip_limit, 0) FROM teams WHERE team_id <> 'unassigned' ORDER BY team_id`, func(r *sql.Rows) error {
		var name string
		var limit int
		if err := r.Scan(&name, &limit); err != nil {
			return err
		}
		l.team(name).WIPLimit = limit
		return nil
	})
	if err != nil {
		return err
	}
	err = l.each(`SELECT team, work_class, items, coalesce(p50_days, 0), coalesce(p70_days, 0), coalesce(p85_days, 0),
			coalesce(p95_days, 0), coalesce(sle_days, 0), coalesce(sle_attainment, 0), p85_days IS NOT NULL
		FROM cycle_time_stats WHERE team <> '*' ORDER BY team = 'unassigned', team, work_class`, func(r *sql.Rows) error {
		var team, class string
		var c CycleStat
		if err := r.Scan(&team, &class, &c.Items, &c.P50, &c.P70, &c.P85, &c.P95, &c.SLE, &c.Attainment, &c.HasStats); err != nil {
			return err
		}
		l.team(team).Cycle[class] = c
		return nil
	})
	if err != nil {
		return err
	}
	err = l.each(`SELECT team, work_class, count(*) FROM item_flow WHERE stage = 'started' GROUP BY ALL`, func(r *sql.Rows) error {
		var team, class string
		var n int
		if err := r.Scan(&team, &class, &n); err != nil {
			return err
		}
		l.team(team).WIP[class] = n
		return nil
	})
	if err != nil {
		return err
	}
	err = l.each(`SELECT team, allocation_ratio FROM capacity_outlook WHERE week_offset = 0 AND allocation_ratio IS NOT NULL`, func(r *sql.Rows) error {
		var team string
		var v float64
		if err := r.Scan(&team, &v); err != nil {
			return err
		}
		t := l.team(team)
		t.Allocation, t.HasAllocation = v, true
		return nil
	})
	if err != nil {
		return err
	}
	err = l.each(`SELECT team, logged_utilization FROM utilization_weekly
		WHERE week_start = CAST(? AS DATE) - 7 AND logged_utilization IS NOT NULL`, func(r *sql.Rows) error {
		var team string
		var v float64
		if err := r.Scan(&team, &v); err != nil {
			return err
		}
		t := l.team(team)
		t.Logged, t.HasLogged = v, true
		return nil
	}, weekStart(l.m.Today))
	if err != nil {
		return err
	}
	return l.each(`SELECT team, available_hours FROM project_capacity`, func(r *sql.Rows) error {
		var team string
		var v float64
		if err := r.Scan(&team, &v); err != nil {
			return err
		}
		t := l.team(team)
		t.Available, t.HasAvailable = v, true
		return nil
	})
}

// weekStart is the Monday of the ISO week of day.
func weekStart(day time.Time) time.Time {
	wd := (int(day.Weekday()) + 6) % 7 // Monday 0
	return day.AddDate(0, 0, -wd)
}

func (l *loader) throughput() error {
	thisWeek := weekStart(l.m.Today)
	first := thisWeek.AddDate(0, 0, -7*ThroughputWeeks)
	return l.each(`SELECT team, week_start, work_class, items FROM throughput_weekly
		WHERE week_start >= CAST(? AS DATE) AND week_start < CAST(? AS DATE) ORDER BY team, week_start, work_class`, func(r *sql.Rows) error {
		var team string
		var w WeekCount
		if err := r.Scan(&team, &w.Week, &w.WorkClass, &w.Items); err != nil {
			return err
		}
		t := l.team(team)
		t.Weekly = append(t.Weekly, w)
		return nil
	}, first, thisWeek)
}

func (l *loader) wip() error {
	from := l.m.Today.AddDate(0, 0, -FlowDays+1)
	err := l.each(`SELECT team, day, work_class, items FROM wip_daily WHERE day >= CAST(? AS DATE) ORDER BY team, day, work_class`, func(r *sql.Rows) error {
		var team string
		var d DayCount
		if err := r.Scan(&team, &d.Day, &d.WorkClass, &d.Items); err != nil {
			return err
		}
		t := l.team(team)
		t.WIPDaily = append(t.WIPDaily, d)
		return nil
	}, from)
	if err != nil {
		return err
	}
	return l.each(`SELECT team, day, stage, items FROM cumulative_flow WHERE day >= CAST(? AS DATE) ORDER BY team, day, stage`, func(r *sql.Rows) error {
		var team string
		var s StageCount
		if err := r.Scan(&team, &s.Day, &s.Stage, &s.Items); err != nil {
			return err
		}
		t := l.team(team)
		t.CFD = append(t.CFD, s)
		return nil
	}, from)
}

// finished reads the window's finished items (the cycle-time scatter).
func (l *loader) finished() error {
	from := l.m.Today.AddDate(0, 0, -l.m.WindowDays+1)
	err := l.each(`SELECT team, count(*) FROM item_flow
		WHERE completed AND NOT discarded AND flow_days IS NOT NULL AND finish_day >= CAST(? AS DATE) AND finish_day <= CAST(? AS DATE)
		GROUP BY team`, func(r *sql.Rows) error {
		var team string
		var n int
		if err := r.Scan(&team, &n); err != nil {
			return err
		}
		l.team(team).FinishedTotal = n
		return nil
	}, from, l.m.Today)
	if err != nil {
		return err
	}
	return l.each(`SELECT f.team, f.source, f.key, coalesce(w.title, ''), coalesce(f.project, ''), f.work_class, coalesce(f.item_type, ''),
			f.start_day, f.finish_day, f.flow_days
		FROM item_flow f JOIN work_items w USING (item_id)
		WHERE f.completed AND NOT f.discarded AND f.flow_days IS NOT NULL AND f.finish_day >= CAST(? AS DATE) AND f.finish_day <= CAST(? AS DATE)
		QUALIFY row_number() OVER (PARTITION BY f.team ORDER BY f.finished_at DESC, f.key) <= ?
		ORDER BY f.team, f.finished_at DESC, f.key`, func(r *sql.Rows) error {
		var team, source string
		var it Item
		if err := r.Scan(&team, &source, &it.Key, &it.Title, &it.Project, &it.WorkClass, &it.ItemType, &it.Started, &it.Finished, &it.Days); err != nil {
			return err
		}
		it.URL = l.links.url(source, it.Project, it.Key)
		t := l.team(team)
		t.Finished = append(t.Finished, it)
		return nil
	}, from, l.m.Today, MaxFinishedPerTeam)
}

// aging reads the open started items, oldest first.
func (l *loader) aging() error {
	err := l.each(`SELECT team, count(*), count(*) FILTER (WHERE over_sle) FROM aging_wip GROUP BY team`, func(r *sql.Rows) error {
		var team string
		var n, over int
		if err := r.Scan(&team, &n, &over); err != nil {
			return err
		}
		t := l.team(team)
		t.AgingTotal, t.OverSLE = n, over
		return nil
	})
	if err != nil {
		return err
	}
	return l.each(`SELECT a.team, f.source, a.key, coalesce(w.title, ''), coalesce(f.project, ''), a.work_class, coalesce(f.item_type, ''),
			coalesce(a.status, ''), coalesce(a.stage_class, ''), a.started_at, a.age_days, a.over_sle, coalesce(a.sle_days, 0)
		FROM aging_wip a JOIN item_flow f USING (item_id) JOIN work_items w USING (item_id)
		QUALIFY row_number() OVER (PARTITION BY a.team ORDER BY a.age_days DESC, a.key) <= ?
		ORDER BY a.team, a.age_days DESC, a.key`, func(r *sql.Rows) error {
		var team, source string
		var it Item
		if err := r.Scan(&team, &source, &it.Key, &it.Title, &it.Project, &it.WorkClass, &it.ItemType, &it.Status, &it.StageClass,
			&it.Started, &it.Days, &it.OverSLE, &it.SLE); err != nil {
			return err
		}
		it.URL = l.links.url(source, it.Project, it.Key)
		t := l.team(team)
		t.Aging = append(t.Aging, it)
		return nil
	}, MaxAgingPerTeam)
}

func (l *loader) milestones() error {
	byID := map[string]*Milestone{}
	err := l.each(`SELECT s.milestone_id, s.name, coalesce(s.project, ''), s.status, s.due_date, s.baseline_due_date,
			s.scope, s.completed, s.remaining, s.due_date_changes, s.slip_days, s.baseline_variance_days, s.on_time_probability,
			s.delivery_slip_days, s.last_completion,
			f.p50_date, f.p70_date, f.p85_date, f.p95_date, f.computed_at, f.start_date, f.trials, f.day_percentiles,
			coalesce(f.model, ''), coalesce(f.milestone_share, 1), coalesce(f.queue_position, 0), coalesce(f.ahead_items, 0)
		FROM milestone_status s
		LEFT JOIN (SELECT * FROM milestone_forecasts QUALIFY row_number() OVER (PARTITION BY milestone_id ORDER BY computed_at DESC) = 1) f
			ON f.milestone_id = s.milestone_id AND s.status <> 'done'
		ORDER BY s.project, s.due_date, s.name`, func(r *sql.Rows) error {
		ms := &Milestone{}
		var due, base, last, p50, p70, p85, p95, at, fstart sql.NullTime
		var slip, variance, dslip, trials sql.NullInt64
		var onTime sql.NullFloat64
		var pcts any
		if err := r.Scan(&ms.ID, &ms.Name, &ms.Project, &ms.Status, &due, &base, &ms.Scope, &ms.Completed, &ms.Remaining,
			&ms.DueChanges, &slip, &variance, &onTime, &dslip, &last, &p50, &p70, &p85, &p95, &at, &fstart, &trials, &pcts,
			&ms.Model, &ms.Share, &ms.Position, &ms.Ahead); err != nil {
			return err
		}
		ms.Due, ms.Baseline, ms.LastCompletion = due.Time, base.Time, last.Time
		ms.SlipDays, ms.HasSlip = int(slip.Int64), slip.Valid
		ms.BaselineVariance, ms.HasVariance = int(variance.Int64), variance.Valid
		ms.DeliverySlip, ms.HasDeliverySlip = int(dslip.Int64), dslip.Valid
		ms.OnTime, ms.HasOnTime = onTime.Float64, onTime.Valid
		ms.P50, ms.P70, ms.P85, ms.P95 = p50.Time, p70.Time, p85.Time, p95.Time
		ms.ForecastAt, ms.ForecastStart, ms.Trials = at.Time, fstart.Time, int(trials.Int64)
		if list, ok := pcts.([]any); ok {
			for _, v := range list {
				ms.Percentiles = append(ms.Percentiles, int(toInt(v)))
			}
		}
		l.m.Milestones = append(l.m.Milestones, ms)
		byID[ms.ID] = ms
		return nil
	})
	if err != nil {
		return err
	}
	// The portfolio queue of each project: the milestones before each.
	queues := map[string][]*Milestone{}
	for _, ms := range l.m.Milestones {
		if ms.Model == "portfolio" && ms.Position > 0 {
			queues[ms.Project] = append(queues[ms.Project], ms)
		}
	}
	for _, q := range queues {
		slices.SortFunc(q, func(a, b *Milestone) int { return cmp.Compare(a.Position, b.Position) })
		for i, ms := range q {
			ms.AheadOf = q[:i:i]
		}
	}
	slices.SortStableFunc(l.m.Milestones, func(a, b *Milestone) int {
		return cmp.Or(cmp.Compare(statusRank(a.Status), statusRank(b.Status)), compareOnTime(a, b),
			compareTime(a.Due, b.Due), cmp.Compare(a.Project, b.Project), cmp.Compare(a.Name, b.Name))
	})
	return l.each(`SELECT c.milestone_id, c.observed_at, c.old_due_date, c.new_due_date, c.origin
		FROM milestone_due_changes c JOIN milestone_status s USING (milestone_id)
		ORDER BY c.milestone_id, c.observed_at`, func(r *sql.Rows) error {
		var id string
		var d DueChange
		var oldDue, newDue sql.NullTime
		if err := r.Scan(&id, &d.At, &oldDue, &newDue, &d.Origin); err != nil {
			return err
		}
		d.Old, d.New = oldDue.Time, newDue.Time
		if ms := byID[id]; ms != nil {
			ms.DueHistory = append(ms.DueHistory, d)
		}
		return nil
	})
}

// statusRank orders milestone statuses worst first.
func statusRank(s string) int {
	switch s {
	case "overdue":
		return 0
	case "off_track":
		return 1
	case "at_risk":
		return 2
	case "unknown":
		return 3
	case "no_due_date":
		return 4
	case "on_track":
		return 5
	}
	return 6 // done
}

func compareOnTime(a, b *Milestone) int {
	switch {
	case a.HasOnTime && b.HasOnTime:
		return cmp.Compare(a.OnTime, b.OnTime)
	case a.HasOnTime:
		return -1
	case b.HasOnTime:
		return 1
	}
	return 0
}

func compareTime(a, b time.Time) int {
	switch {
	case a.IsZero() && b.IsZero():
		return 0
	case a.IsZero():
		return 1
	case b.IsZero():
		return -1
	}
	return a.Compare(b)
}

// burnUp reads, for open milestones and those done in the last 90 days,
// scope and completed items at the end of each of the last BurnUpWeeks
// weeks. Scope is today's membership: sources do not give its history.
func (l *loader) burnUp() error {
	byID := map[string]*Milestone{}
	for _, ms := range l.m.Milestones {
		byID[ms.ID] = ms
	}
	thisWeek := weekStart(l.m.Today)
	first := thisWeek.AddDate(0, 0, -7*(BurnUpWeeks-1))
	return l.each(`WITH ms AS (
			SELECT milestone_id FROM milestone_status
			WHERE status <> 'done' OR coalesce(last_completion, CAST(completed_at AS DATE)) >= CAST(? AS DATE) - 90
		), it AS (
			SELECT w.milestone_id, greatest(date_trunc('week', CAST(f.created_at AS DATE)), CAST(? AS DATE)) AS created_week,
				CASE WHEN f.completed AND NOT f.discarded THEN greatest(date_trunc('week', f.finish_day), CAST(? AS DATE)) END AS done_week
			FROM work_items w JOIN item_flow f USING (item_id)
			WHERE NOT w.deleted AND w.milestone_id IN (SELECT milestone_id FROM ms)
		), weeks AS (
			SELECT CAST(unnest(generate_series(CAST(? AS DATE), CAST(? AS DATE), INTERVAL 7 DAY)) AS DATE) AS week
		), created AS (SELECT milestone_id, created_week AS week, count(*) AS n FROM it GROUP BY ALL
		), done AS (SELECT milestone_id, done_week AS week, count(*) AS n FROM it WHERE done_week IS NOT NULL GROUP BY ALL)
		SELECT ms.milestone_id, weeks.week,
			CAST(sum(coalesce(c.n, 0)) OVER (PARTITION BY ms.milestone_id ORDER BY weeks.week) AS BIGINT),
			CAST(sum(coalesce(d.n, 0)) OVER (PARTITION BY ms.milestone_id ORDER BY weeks.week) AS BIGINT)
		FROM ms CROSS JOIN weeks
		LEFT JOIN created c ON c.milestone_id = ms.milestone_id AND c.week = weeks.week
		LEFT JOIN done d ON d.milestone_id = ms.milestone_id AND d.week = weeks.week
		ORDER BY ms.milestone_id, weeks.week`, func(r *sql.Rows) error {
		var id string
		var w BurnUpWeek
		if err := r.Scan(&id, &w.Week, &w.Scope, &w.Completed); err != nil {
			return err
		}
		if ms := byID[id]; ms != nil {
			ms.BurnUp = append(ms.BurnUp, w)
		}
		return nil
	}, l.m.Today, first, first, first, thisWeek)
}

func (l *loader) capacity() error {
	thisWeek := weekStart(l.m.Today)
	first := thisWeek.AddDate(0, 0, -7*capacityPast)
	last := thisWeek.AddDate(0, 0, 7*(capacityAhead-1))
	idx := map[string]int{}
	key := func(team string, week time.Time) string { return team + "\x00" + week.Format(time.DateOnly) }
	err := l.each(`SELECT team, week_start, capacity_hours, logged_hours, planned_hours, allocation_ratio, logged_utilization
		FROM utilization_weekly WHERE week_start >= CAST(? AS DATE) AND week_start <= CAST(? AS DATE)
		ORDER BY team = 'unassigned', team, week_start`, func(r *sql.Rows) error {
		var c CapacityWeek
		var planned, alloc, util sql.NullFloat64
		if err := r.Scan(&c.Team, &c.Week, &c.Capacity, &c.Logged, &planned, &alloc, &util); err != nil {
			return err
		}
		c.Offset = int(c.Week.Sub(thisWeek).Hours() / (24 * 7))
		c.Planned, c.HasPlanned = planned.Float64, planned.Valid && c.Offset >= 0
		if c.Offset < 0 {
			c.Ratio, c.HasRatio = util.Float64, util.Valid
		} else {
			c.Ratio, c.HasRatio = alloc.Float64, alloc.Valid
		}
		idx[key(c.Team, c.Week)] = len(l.m.Capacity)
		l.m.Capacity = append(l.m.Capacity, c)
		return nil
	}, first, last)
	if err != nil {
		return err
	}
	err = l.each(`SELECT team, week_start, planned_project_hours, planned_operational_hours, planned_unclassified_hours FROM capacity_outlook`, func(r *sql.Rows) error {
		var team string
		var week time.Time
		var p, o, u float64
		if err := r.Scan(&team, &week, &p, &o, &u); err != nil {
			return err
		}
		if i, ok := idx[key(team, week)]; ok {
			c := &l.m.Capacity[i]
			c.PlannedProject, c.PlannedOperational, c.PlannedUnclass = p, o, u
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = l.each(`SELECT team, week_start, work_class, logged_hours FROM work_class_share
		WHERE week_start >= CAST(? AS DATE) AND week_start <= CAST(? AS DATE)`, func(r *sql.Rows) error {
		var team, class string
		var week time.Time
		var h float64
		if err := r.Scan(&team, &week, &class, &h); err != nil {
			return err
		}
		if i, ok := idx[key(team, week)]; ok {
			c := &l.m.Capacity[i]
			switch class {
			case "project":
				c.LoggedProject += h
			case "operational":
				c.LoggedOperational += h
			default:
				c.LoggedUnclass += h
			}
		}
		return nil
	}, first, last)
	if err != nil {
		return err
	}
	return l.each(`SELECT team, weeks, capacity_hours, operational_p85_weekly_hours, planned_project_hours, available_hours
		FROM project_capacity ORDER BY team = 'unassigned', team`, func(r *sql.Rows) error {
		var p ProjectCapacity
		err := r.Scan(&p.Team, &p.Weeks, &p.Capacity, &p.OperationalP85, &p.PlannedProject, &p.Av)
		l.m.Available = append(l.m.Available, p)
		return err
	})
}

// backtest reads the forecast accuracy (forecast_backtest_summary).
func (l *loader) backtest() error {
	return l.each(`SELECT project, model, milestones, checkpoints, checkpoints - unknown_checkpoints, coalesce(hit_rate_p50, 0),
			coalesce(hit_rate_p85, 0), coalesce(hit_rate_p95, 0), coalesce(p85_mae_days, 0), coalesce(p85_bias_days, 0), since
		FROM forecast_backtest_summary ORDER BY project = '*', project, model`, func(r *sql.Rows) error {
		var a Accuracy
		err := r.Scan(&a.Project, &a.Model, &a.Milestones, &a.Checkpoints, &a.Known, &a.HitP50, &a.HitP85, &a.HitP95, &a.MAEDays, &a.BiasDays, &a.Since)
		l.m.Backtest = append(l.m.Backtest, a)
		return err
	})
}

// planner loads the assignment planner's inputs.
func (l *loader) planner() error {
	in, err := plan.Load(l.ctx, l.q, plan.Params{Now: l.p.Now, Location: l.p.Location, WindowDays: l.p.WindowDays, Trials: l.p.Trials, Seed: l.p.Seed})
	l.m.Plan = in
	return err
}

func (l *loader) quality() error {
	err := l.each(`SELECT source, "check", items, coalesce(example_keys, '') FROM data_quality ORDER BY items DESC, source, "check"`, func(r *sql.Rows) error {
		var q QualityRow
		err := r.Scan(&q.Source, &q.Check, &q.Items, &q.Examples)
		l.m.Quality = append(l.m.Quality, q)
		return err
	})
	if err != nil {
		return err
	}
	err = l.each(`SELECT count(*) FROM ingest_problems`, func(r *sql.Rows) error { return r.Scan(&l.m.ProblemsTotal) })
	if err != nil {
		return err
	}
	return l.each(`SELECT source_id, coalesce(file, ''), coalesce(line, 0), coalesce(column_name, ''), coalesce(item_key, ''), reason, observed_at
		FROM ingest_problems ORDER BY observed_at DESC, source_id, file, line LIMIT ?`, func(r *sql.Rows) error {
		var p Problem
		err := r.Scan(&p.Source, &p.File, &p.Line, &p.Column, &p.Key, &p.Reason, &p.At)
		l.m.Problems = append(l.m.Problems, p)
		return err
	}, MaxProblems)
}

// schema reads the public tables and columns with their comments (the
// catalogue docs/schema.md is generated from).
func (l *loader) schema() error {
	tables := map[string]*Table{}
	err := l.each(`SELECT table_name, coalesce(comment, '') FROM duckdb_tables()
		WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal AND NOT temporary AND table_name <> 'schema_migrations'
		ORDER BY table_name`, func(r *sql.Rows) error {
		var t Table
		if err := r.Scan(&t.Name, &t.Comment); err != nil {
			return err
		}
		l.m.Schema = append(l.m.Schema, t)
		return nil
	})
	if err != nil {
		return err
	}
	for i := range l.m.Schema {
		tables[l.m.Schema[i].Name] = &l.m.Schema[i]
	}
	return l.each(`SELECT table_name, column_name, data_type, coalesce(comment, '') FROM duckdb_columns()
		WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal
		ORDER BY table_name, column_index`, func(r *sql.Rows) error {
		var table string
		var c Column
		if err := r.Scan(&table, &c.Name, &c.Type, &c.Comment); err != nil {
			return err
		}
		if t := tables[table]; t != nil {
			t.Columns = append(t.Columns, c)
		}
		return nil
	})
}

func (l *loader) lists() error {
	err := l.each(`SELECT DISTINCT project FROM item_flow WHERE project IS NOT NULL ORDER BY project`, func(r *sql.Rows) error {
		var p string
		err := r.Scan(&p)
		l.m.Projects = append(l.m.Projects, p)
		return err
	})
	if err != nil {
		return err
	}
	err = l.each(`SELECT DISTINCT work_class FROM item_flow ORDER BY work_class`, func(r *sql.Rows) error {
		var c string
		err := r.Scan(&c)
		l.m.WorkClasses = append(l.m.WorkClasses, c)
		return err
	})
	if err != nil {
		return err
	}
	// Teams without a name in the config sort last (unassigned).
	slices.SortStableFunc(l.m.Teams, func(a, b *Team) int {
		return cmp.Or(cmp.Compare(boolInt(a.Name == "unassigned"), boolInt(b.Name == "unassigned")), strings.Compare(a.Name, b.Name))
	})
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int32:
		return int64(x)
	case int64:
		return x
	case int:
		return int64(x)
	case float64:
		return int64(x)
	}
	return 0
}
