package metrics

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/throughline/throughline/metrics/forecast"
)

// Forecast models (metrics.forecast.mode).
const (
	// ModePortfolio forecasts the open milestones of a project together, in
	// due-date order, on the throughput thinned to milestone work.
	ModePortfolio = "portfolio"
	// ModeIndependent forecasts each milestone alone with all of its
	// project's throughput.
	ModeIndependent = "independent"
)

// forecastStep runs the Monte Carlo forecasts of open milestones in the
// configured model, stores them with their inputs (one per milestone per
// day), and records the calibration of stored forecasts of milestones that
// completed. It runs inside the compute transaction, between the SQL steps.
func forecastStep(ctx context.Context, c *sql.Conn, p Params) error {
	today := dateOf(p.Now.In(p.Location))
	start := today.AddDate(0, 0, 1)
	window := p.WindowDays

	type daily struct{ all, milestone map[time.Time]int }
	byProject := map[string]daily{}
	rows, err := c.QueryContext(ctx, "SELECT project, day, items, milestone_items FROM ms_project_daily")
	if err != nil {
		return fmt.Errorf("forecast: read throughput: %w", err)
	}
	for rows.Next() {
		var proj string
		var day time.Time
		var n, m int
		if err := rows.Scan(&proj, &day, &n, &m); err != nil {
			rows.Close()
			return fmt.Errorf("forecast: read throughput: %w", err)
		}
		d, ok := byProject[proj]
		if !ok {
			d = daily{map[time.Time]int{}, map[time.Time]int{}}
			byProject[proj] = d
		}
		d.all[dateOf(day)], d.milestone[dateOf(day)] = n, m
	}
	rows.Close()
	samplesOf := func(proj string) []int {
		s := make([]int, window)
		for i := range window {
			s[i] = byProject[proj].all[today.AddDate(0, 0, i-window+1)]
		}
		return s
	}

	type open struct {
		id, name, project string
		due               sql.NullTime
		remaining         int
	}
	var opens []open
	type doneMs struct {
		id   string
		last time.Time
	}
	var dones []doneMs
	rows, err = c.QueryContext(ctx, `SELECT milestone_id, name, coalesce(project, ''), due_date, remaining, scope, last_completion FROM ms_scope`)
	if err != nil {
		return fmt.Errorf("forecast: read milestones: %w", err)
	}
	for rows.Next() {
		var o open
		var scope int
		var last sql.NullTime
		if err := rows.Scan(&o.id, &o.name, &o.project, &o.due, &o.remaining, &scope, &last); err != nil {
			rows.Close()
			return fmt.Errorf("forecast: read milestones: %w", err)
		}
		switch {
		case o.remaining > 0:
			opens = append(opens, o)
		case scope > 0 && last.Valid:
			dones = append(dones, doneMs{o.id, dateOf(last.Time)})
		}
	}
	rows.Close()
	// One queue per project, in order (forecast.QueueKey).
	key := func(o open) forecast.QueueKey {
		k := forecast.QueueKey{Name: o.name, ID: o.id}
		if o.due.Valid {
			k.Due = dateOf(o.due.Time)
		}
		return k
	}
	slices.SortFunc(opens, func(a, b open) int { return cmp.Or(strings.Compare(a.project, b.project), key(a).Compare(key(b))) })

	// One forecast per open milestone, with the model's inputs. In the
	// portfolio model the open milestones of a project are one queue.
	type stored struct {
		o      open
		r      forecast.Result
		share  float64
		pos    any // queue position; nil in the independent model
		ahead  int
		sample []int
	}
	var out []stored
	for lo := 0; lo < len(opens); {
		hi := lo + 1
		for hi < len(opens) && opens[hi].project == opens[lo].project {
			hi++
		}
		project := opens[lo].project
		samples := samplesOf(project)
		if p.ForecastMode == ModeIndependent {
			for _, o := range opens[lo:hi] {
				in := forecast.Input{Samples: samples, Remaining: o.remaining, Start: start, Trials: p.Trials, Seed: p.Seed}
				if o.due.Valid {
					in.Due = dateOf(o.due.Time)
				}
				out = append(out, stored{o: o, r: forecast.When(in), share: 1, sample: samples})
			}
			lo = hi
			continue
		}
		share := milestoneShare(byProject[project].all, byProject[project].milestone)
		in := forecast.PortfolioInput{Samples: samples, Share: share, Start: start, Trials: p.Trials, Seed: p.Seed}
		for _, o := range opens[lo:hi] {
			m := forecast.Milestone{Remaining: o.remaining}
			if o.due.Valid {
				m.Due = dateOf(o.due.Time)
			}
			in.Milestones = append(in.Milestones, m)
		}
		ahead := 0
		for k, r := range forecast.Portfolio(in) {
			o := opens[lo+k]
			out = append(out, stored{o: o, r: r, share: share, pos: k + 1, ahead: ahead, sample: samples})
			ahead += o.remaining
		}
		lo = hi
	}
	for _, f := range out {
		o, r := f.o, f.r
		if _, err := c.ExecContext(ctx, `DELETE FROM milestone_forecasts WHERE milestone_id = ? AND start_date = ?`, o.id, start); err != nil {
			return fmt.Errorf("forecast %s: %w", o.id, err)
		}
		var due, prob any
		if o.due.Valid {
			due = dateOf(o.due.Time)
			prob = r.OnTimeProbability
		}
		if !r.Known {
			prob = nil
		}
		_, err := c.ExecContext(ctx, `INSERT INTO milestone_forecasts (milestone_id, computed_at, seed, trials, remaining,
				p50_date, p70_date, p85_date, p95_date, on_time_probability, known, start_date, due_date, window_days, samples, day_percentiles,
				model, forecast_version, milestone_share, queue_position, ahead_items)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS INTEGER[]), CAST(? AS INTEGER[]), ?, ?, ?, ?, ?)`,
			o.id, p.Now.UTC(), int64(p.Seed), p.Trials, o.remaining, optDate(r.P50), optDate(r.P70), optDate(r.P85), optDate(r.P95),
			prob, r.Known, start, due, window, intList(f.sample), percentileList(r.Days),
			p.ForecastMode, forecast.Version, f.share, f.pos, f.ahead)
		if err != nil {
			return fmt.Errorf("store forecast %s: %w", o.id, err)
		}
	}

	for _, d := range dones {
		if _, err := c.ExecContext(ctx, "DELETE FROM forecast_calibration WHERE milestone_id = ?", d.id); err != nil {
			return fmt.Errorf("calibration %s: %w", d.id, err)
		}
		// Where the actual date fell in each stored forecast made before it.
		_, err := c.ExecContext(ctx, `INSERT INTO forecast_calibration
			SELECT milestone_id, computed_at, CAST(? AS DATE),
				CAST(len(list_filter(day_percentiles, x -> x <= CAST(? AS DATE) - start_date + 1)) AS DOUBLE) / 100
			FROM milestone_forecasts
			WHERE milestone_id = ? AND known AND day_percentiles IS NOT NULL AND start_date <= CAST(? AS DATE)`,
			d.last, d.last, d.id, d.last)
		if err != nil {
			return fmt.Errorf("calibration %s: %w", d.id, err)
		}
	}
	return nil
}

// milestoneShare is s of the window's completions (forecast.Share).
func milestoneShare(all, milestone map[time.Time]int) float64 {
	n, m := 0, 0
	for _, v := range all {
		n += v
	}
	for _, v := range milestone {
		m += v
	}
	return forecast.Share(n, m)
}

func dateOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func optDate(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return dateOf(t)
}

func intList(v []int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, x := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(x))
	}
	b.WriteByte(']')
	return b.String()
}

// percentileList is the completion day at percentiles 1..100 (nearest rank).
func percentileList(days []int32) any {
	if len(days) == 0 {
		return nil
	}
	out := make([]int, 100)
	for q := 1; q <= 100; q++ {
		rank := int(math.Ceil(float64(q) / 100 * float64(len(days))))
		out[q-1] = int(days[rank-1])
	}
	return intList(out)
}
