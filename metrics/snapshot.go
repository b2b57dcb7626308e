package metrics

import (
	"context"
	"database/sql"
	"fmt"
	"math"
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

// CycleStat is one row of cycle_time_stats.
type CycleStat struct {
	Team, WorkClass string
	Items           int64
	Quantiles       map[float64]float64 // seconds, nearest rank
	SLESeconds      float64
	SLEAttainment   float64
	SumSeconds      float64
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
	OverSLE         float64
	Count           uint64
	SumSeconds      float64
}

// Efficiency is the flow efficiency over the window.
type Efficiency struct {
	Team, WorkClass string
	Ratio           float64
}

// Quality is one data_quality row.
type Quality struct {
	Source, Check string
	Items         float64
}

// Milestone is one milestone exposed with labels (open, or done within 30 days).
type Milestone struct {
	Project, Name, Status string
	Due, Baseline         time.Time // zero when none
	Forecast              map[float64]time.Time
	OnTime                float64
	HasOnTime             bool
	Remaining             float64
	SlipDays              float64
	HasSlip               bool
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
	WIP        []WIP
	WIPLimits  map[string]float64
	Ages       []Age
	Efficiency []Efficiency
	Quality    []Quality
	Milestones []Milestone
	Capacity   []Load // capacity and allocation per team and week offset
	Planned    []Load // planned load per team, class and week offset
	LoggedUtil map[string]float64
	Available  map[string]float64 // project capacity available, seconds
	// Summary figures for people.
	Items, Teams int64
}

// LoadSnapshot reads the metric tables once (at compute time, not at scrape).
func LoadSnapshot(ctx context.Context, q Querier, now time.Time) (*Snapshot, error) {
	s := &Snapshot{ComputedAt: now, WIPLimits: map[string]float64{}, LoggedUtil: map[string]float64{}, Available: map[string]float64{}}
	each := func(query string, scan func(*sql.Rows) error, args ...any) error {
		rows, err := q.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("load snapshot: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return fmt.Errorf("load snapshot: %w", err)
			}
		}
		return rows.Err()
	}
	err := each(`SELECT team, project, work_class, item_type, created, started, completed, reopened, discarded FROM flow_counters`, func(r *sql.Rows) error {
		var c Counter
		err := r.Scan(&c.Team, &c.Project, &c.WorkClass, &c.ItemType, &c.Created, &c.Started, &c.Completed, &c.Reopened, &c.Discarded)
		s.Counters = append(s.Counters, c)
		return err
	})
	if err != nil {
		return nil, err
	}
	// Cumulative bucket counts are aggregated in SQL: one row per team and
	// class, not one per completed item.
	var buckets []string
	for _, d := range CycleBucketsDays {
		buckets = append(buckets, fmt.Sprintf("count(*) FILTER (WHERE cycle_seconds <= %g)", d*86400))
	}
	err = each(`SELECT team, work_class, count(*), sum(cycle_seconds), `+strings.Join(buckets, ", ")+`
		FROM item_flow WHERE completed AND NOT discarded AND cycle_seconds IS NOT NULL
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
	if err != nil {
		return nil, err
	}
	err = each(`SELECT team, work_class, items, p50_seconds, p70_seconds, p85_seconds, p95_seconds, sle_days, sle_attainment, cycle_seconds_sum
		FROM cycle_time_stats`, func(r *sql.Rows) error {
		var c CycleStat
		var p50, p70, p85, p95, sle float64
		err := r.Scan(&c.Team, &c.WorkClass, &c.Items, &p50, &p70, &p85, &p95, &sle, &c.SLEAttainment, &c.SumSeconds)
		c.Quantiles = map[float64]float64{0.5: p50, 0.7: p70, 0.85: p85, 0.95: p95}
		c.SLESeconds = sle * 86400
		s.Cycle = append(s.Cycle, c)
		return err
	})
	if err != nil {
		return nil, err
	}
	err = each(`SELECT team, work_class, items, p50_seconds, p70_seconds, p85_seconds, p95_seconds, lead_seconds_sum FROM lead_time_stats`,
		func(r *sql.Rows) error {
			var l LeadStat
			var p50, p70, p85, p95 float64
			err := r.Scan(&l.Team, &l.WorkClass, &l.Items, &p50, &p70, &p85, &p95, &l.SumSeconds)
			l.Quantiles = map[float64]float64{0.5: p50, 0.7: p70, 0.85: p85, 0.95: p95}
			s.Lead = append(s.Lead, l)
			return err
		})
	if err != nil {
		return nil, err
	}
	err = each(`SELECT f.team, f.work_class, coalesce(m.stage_class, 'active'), count(*)
		FROM item_flow f JOIN work_items w USING (item_id)
		LEFT JOIN status_map m ON m.source_id = w.source_id AND m.status = w.status AND m.category IS NOT DISTINCT FROM w.status_category
		WHERE f.stage = 'started' GROUP BY ALL ORDER BY ALL`, func(r *sql.Rows) error {
		var w WIP
		err := r.Scan(&w.Team, &w.WorkClass, &w.Stage, &w.Items)
		s.WIP = append(s.WIP, w)
		return err
	})
	if err != nil {
		return nil, err
	}
	err = each(`SELECT team_id, wip_limit FROM teams WHERE wip_limit IS NOT NULL`, func(r *sql.Rows) error {
		var team string
		var lim float64
		err := r.Scan(&team, &lim)
		s.WIPLimits[team] = lim
		return err
	})
	if err != nil {
		return nil, err
	}
	err = each(`SELECT team, work_class, count(*) FILTER (WHERE over_sle),
			list_sort(list(age_days)) AS a, count(*) AS n
		FROM aging_wip GROUP BY ALL ORDER BY ALL`, func(r *sql.Rows) error {
		var a Age
		var ages []any
		var n int
		if err := r.Scan(&a.Team, &a.WorkClass, &a.OverSLE, &ages, &n); err != nil {
			return err
		}
		a.Quantiles = map[float64]float64{}
		a.Count = uint64(n)
		for _, v := range ages {
			a.SumSeconds += toFloat(v) * 86400
		}
		for _, q := range Quantiles {
			rank := int(math.Ceil(q * float64(n)))
			if rank < 1 {
				rank = 1
			}
			a.Quantiles[q] = toFloat(ages[rank-1]) * 86400
		}
		s.Ages = append(s.Ages, a)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = each(`SELECT team, work_class, flow_efficiency FROM cycle_time_stats
		WHERE team <> '*' AND work_class <> '*' AND flow_efficiency IS NOT NULL ORDER BY ALL`, func(r *sql.Rows) error {
		var e Efficiency
		err := r.Scan(&e.Team, &e.WorkClass, &e.Ratio)
		s.Efficiency = append(s.Efficiency, e)
		return err
	})
	if err != nil {
		return nil, err
	}
	err = each(`SELECT source, "check", items FROM data_quality ORDER BY ALL`, func(r *sql.Rows) error {
		var d Quality
		err := r.Scan(&d.Source, &d.Check, &d.Items)
		s.Quality = append(s.Quality, d)
		return err
	})
	if err != nil {
		return nil, err
	}
	err = each(`SELECT coalesce(ms.project, ''), ms.name, ms.status, ms.due_date, ms.baseline_due_date,
			f.p50_date, f.p70_date, f.p85_date, f.p95_date, ms.on_time_probability, ms.remaining, ms.slip_days
		FROM milestone_status ms
		LEFT JOIN (SELECT * FROM milestone_forecasts QUALIFY row_number() OVER (PARTITION BY milestone_id ORDER BY computed_at DESC) = 1) f
			ON f.milestone_id = ms.milestone_id AND ms.status <> 'done'
		WHERE ms.status <> 'done' OR coalesce(ms.last_completion, CAST(ms.completed_at AS DATE)) >= CAST(? AS DATE) - 30
		ORDER BY ALL`, func(r *sql.Rows) error {
		var m Milestone
		var due, base, p50, p70, p85, p95 sql.NullTime
		var prob, slip sql.NullFloat64
		if err := r.Scan(&m.Project, &m.Name, &m.Status, &due, &base, &p50, &p70, &p85, &p95, &prob, &m.Remaining, &slip); err != nil {
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
		s.Milestones = append(s.Milestones, m)
		return nil
	}, now)
	if err != nil {
		return nil, err
	}
	err = each(`SELECT team, week_offset, capacity_hours * 3600, allocation_ratio FROM capacity_outlook ORDER BY ALL`, func(r *sql.Rows) error {
		var l Load
		var ratio sql.NullFloat64
		err := r.Scan(&l.Team, &l.WeekOffset, &l.Seconds, &ratio)
		l.Ratio, l.HasRatio = ratio.Float64, ratio.Valid
		s.Capacity = append(s.Capacity, l)
		return err
	})
	if err != nil {
		return nil, err
	}
	err = each(`SELECT team, 'project', week_offset, planned_project_hours * 3600 FROM capacity_outlook
		UNION ALL SELECT team, 'operational', week_offset, planned_operational_hours * 3600 FROM capacity_outlook
		UNION ALL SELECT team, 'unclassified', week_offset, planned_unclassified_hours * 3600 FROM capacity_outlook
		ORDER BY ALL`, func(r *sql.Rows) error {
		var l Load
		err := r.Scan(&l.Team, &l.WorkClass, &l.WeekOffset, &l.Seconds)
		s.Planned = append(s.Planned, l)
		return err
	})
	if err != nil {
		return nil, err
	}
	err = each(`SELECT team, logged_utilization FROM utilization_weekly
		WHERE week_start = (SELECT week_start FROM capacity_outlook WHERE week_offset = 0 LIMIT 1) - 7 AND logged_utilization IS NOT NULL`, func(r *sql.Rows) error {
		var team string
		var v float64
		err := r.Scan(&team, &v)
		s.LoggedUtil[team] = v
		return err
	})
	if err != nil {
		return nil, err
	}
	err = each(`SELECT team, available_hours * 3600 FROM project_capacity`, func(r *sql.Rows) error {
		var team string
		var v float64
		err := r.Scan(&team, &v)
		s.Available[team] = v
		return err
	})
	if err != nil {
		return nil, err
	}
	err = each(`SELECT (SELECT count(*) FROM item_flow), (SELECT count(DISTINCT team) FROM item_flow WHERE team <> 'unassigned')`, func(r *sql.Rows) error {
		return r.Scan(&s.Items, &s.Teams)
	})
	if err != nil {
		return nil, err
	}
	return s, nil
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
