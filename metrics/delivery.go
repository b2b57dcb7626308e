package metrics

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/throughline/throughline/metrics/forecast"
)

// forecastStep runs the Monte Carlo forecasts of open milestones, stores
// them with their inputs (one per milestone per day), and records the
// calibration of stored forecasts of milestones that completed. It runs
// inside the compute transaction, between the SQL steps.
func forecastStep(ctx context.Context, c *sql.Conn, p Params) error {
	today := dateOf(p.Now.In(p.Location))
	start := today.AddDate(0, 0, 1)
	window := p.WindowDays

	daily := map[string]map[time.Time]int{}
	rows, err := c.QueryContext(ctx, "SELECT project, day, items FROM ms_project_daily")
	if err != nil {
		return fmt.Errorf("forecast: read throughput: %w", err)
	}
	for rows.Next() {
		var proj string
		var day time.Time
		var n int
		if err := rows.Scan(&proj, &day, &n); err != nil {
			rows.Close()
			return fmt.Errorf("forecast: read throughput: %w", err)
		}
		if daily[proj] == nil {
			daily[proj] = map[time.Time]int{}
		}
		daily[proj][dateOf(day)] = n
	}
	rows.Close()
	samplesOf := func(proj string) []int {
		s := make([]int, window)
		for i := range window {
			s[i] = daily[proj][today.AddDate(0, 0, i-window+1)]
		}
		return s
	}

	type open struct {
		id, project string
		due         sql.NullTime
		remaining   int
	}
	var opens []open
	type doneMs struct {
		id   string
		last time.Time
	}
	var dones []doneMs
	rows, err = c.QueryContext(ctx, `SELECT milestone_id, coalesce(project, ''), due_date, remaining, scope, last_completion FROM ms_scope`)
	if err != nil {
		return fmt.Errorf("forecast: read milestones: %w", err)
	}
	for rows.Next() {
		var o open
		var scope int
		var last sql.NullTime
		if err := rows.Scan(&o.id, &o.project, &o.due, &o.remaining, &scope, &last); err != nil {
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

	for _, o := range opens {
		samples := samplesOf(o.project)
		in := forecast.Input{Samples: samples, Remaining: o.remaining, Start: start, Trials: p.Trials, Seed: p.Seed}
		if o.due.Valid {
			in.Due = dateOf(o.due.Time)
		}
		r := forecast.When(in)
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
		_, err := c.ExecContext(ctx, `INSERT INTO milestone_forecasts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS INTEGER[]), CAST(? AS INTEGER[]))`,
			o.id, p.Now.UTC(), int64(p.Seed), p.Trials, o.remaining, optDate(r.P50), optDate(r.P70), optDate(r.P85), optDate(r.P95),
			prob, r.Known, start, due, window, intList(samples), percentileList(r.Days))
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
