package metrics

import (
	"bufio"
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// BackfillHoldOff is how far before now Backfill stops by default: the
// recent past belongs to the live exporter (and to Prometheus's head block).
const BackfillHoldOff = 3 * time.Hour

// BackfillOptions configure Backfill.
type BackfillOptions struct {
	// Since: the first sample is at the end of Since's local day. Zero: the
	// day before the earliest event in the warehouse, so every counter
	// starts from a zero sample.
	Since time.Time
	// Until: nothing at or after it is written. Zero: Now - BackfillHoldOff,
	// or, when earlier, the time serve first exposed this warehouse (from
	// then on Prometheus has scraped the live values).
	Until time.Time
	// Step between samples. 0 or 24h: one sample at the end of every local
	// calendar day (the local midnight that ends it, DST aware); otherwise
	// every Step from the start of Since's local day. At least a minute.
	Step time.Duration
	// Location of day and ISO-week boundaries (the config time zone); nil: UTC.
	Location *time.Location
	// Now is the present, for the default Until; zero: time.Now().
	Now time.Time
	// Labels are the target labels Prometheus adds to what it scrapes (job,
	// instance and any others of the scrape config), written on every
	// sample so that backfilled and scraped samples are one series.
	Labels map[string]string
}

// BackfillStats describe what Backfill wrote.
type BackfillStats struct {
	Families, Series, Samples int       // Samples: sample lines (a histogram point is buckets + sum + count)
	First, Last               time.Time // earliest and latest sample; zero when nothing was written
	Until                     time.Time // the exclusive end used
}

// Backfill reconstructs daily history from the warehouse and writes it to
// w as OpenMetrics text with timestamps (seconds), ending with "# EOF", for
// `promtool tsdb create-blocks-from openmetrics`: the flow counters and the
// cycle-time histogram, WIP per stage class, WIP limits, capacity, logged
// utilization, the rolling-week allocation, weekly throughput and the stored
// milestone forecasts. Names and labels are the live collector's (the
// catalogue), plus opt.Labels (job, instance), so imported history and
// scraped samples form one series.
//
// The value at a sample time T is the state at T: events strictly before T
// (an event at local midnight belongs to the day it starts). Counters and the
// histogram come from the ledger the live ones sum (counter_events): each
// event at the time it happened, with the labels it was counted with, and
// only events counted before serving began, so the last backfilled value
// never exceeds the first scraped one (no counter reset at the hand-over).
// Nothing the warehouse does not keep is invented: planned load per week
// has no history, allocation_daily (rolling week) has it from its first
// compute on.
func Backfill(ctx context.Context, q Querier, w io.Writer, opt BackfillOptions) (BackfillStats, error) {
	var st BackfillStats
	if opt.Location == nil {
		opt.Location = time.UTC
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	serving, err := ServingSince(ctx, q)
	if err != nil {
		return st, fmt.Errorf("backfill: %w", err)
	}
	if opt.Until.IsZero() {
		opt.Until = opt.Now.Add(-BackfillHoldOff)
		if !serving.IsZero() && serving.Before(opt.Until) {
			opt.Until = serving
		}
	}
	st.Until = opt.Until
	for name := range opt.Labels {
		if !labelName.MatchString(name) || name == "__name__" {
			return st, fmt.Errorf("backfill: label name %q is not a Prometheus label name", name)
		}
	}
	switch {
	case opt.Step == 0:
		opt.Step = 24 * time.Hour
	case opt.Step < time.Minute:
		return st, fmt.Errorf("backfill: step %s: want at least 1m", opt.Step)
	}
	if opt.Since.IsZero() {
		first, ok, err := backfillEarliest(ctx, q)
		if err != nil {
			return st, err
		}
		if ok {
			y, m, d := first.In(opt.Location).Date()
			opt.Since = time.Date(y, m, d-1, 12, 0, 0, 0, opt.Location)
		} else {
			opt.Since = opt.Until
		}
	}
	b := &backfill{q: q, opt: opt, grid: backfillGrid(opt), counted: time.Unix(1<<40, 0)}
	if !serving.IsZero() {
		// Events counted after serving began are in the live counters only:
		// the last backfilled value never exceeds the first scraped one.
		b.counted = serving
		if opt.Until.After(serving) {
			b.counted = opt.Until
		}
	}
	var fams []bfFamily
	if len(b.grid) > 0 {
		steps := []func(context.Context) ([]bfFamily, error){b.counters, b.cycleTime, b.wip, b.wipLimits, b.capacity, b.allocation, b.throughput}
		for _, step := range steps {
			fs, err := step(ctx)
			if err != nil {
				return st, fmt.Errorf("backfill: %w", err)
			}
			fams = append(fams, fs...)
		}
	}
	fs, err := b.forecasts(ctx)
	if err != nil {
		return st, fmt.Errorf("backfill: %w", err)
	}
	fams = append(fams, fs...)

	bw := bufio.NewWriterSize(w, 1<<16)
	first, last := int64(math.MaxInt64), int64(math.MinInt64)
	for _, f := range fams {
		if len(f.series) == 0 {
			continue
		}
		st.Families++
		st.Series += len(f.series)
		n, lo, hi := writeBackfillFamily(bw, f, opt.Labels)
		st.Samples += n
		first, last = min(first, lo), max(last, hi)
	}
	bw.WriteString("# EOF\n")
	if err := bw.Flush(); err != nil {
		return st, fmt.Errorf("backfill: write: %w", err)
	}
	if st.Samples > 0 {
		st.First, st.Last = time.UnixMilli(first), time.UnixMilli(last)
	}
	return st, nil
}

// backfillEarliest is the earliest instant anything in the warehouse refers to.
func backfillEarliest(ctx context.Context, q Querier) (time.Time, bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT least(
		(SELECT min(created_at) FROM item_flow),
		(SELECT min(s.changed_at) FROM status_changes s JOIN item_flow f ON f.item_id = s.item_id),
		(SELECT CAST(min(week_start) AS TIMESTAMPTZ) FROM utilization_weekly),
		(SELECT min(computed_at) FROM milestone_forecasts))`)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("backfill: earliest event: %w", err)
	}
	defer rows.Close()
	var t sql.NullTime
	for rows.Next() {
		if err := rows.Scan(&t); err != nil {
			return time.Time{}, false, fmt.Errorf("backfill: earliest event: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return time.Time{}, false, fmt.Errorf("backfill: earliest event: %w", err)
	}
	return t.Time, t.Valid, nil
}

// backfillGrid lists the sample times (Unix ms), ascending, before Until.
func backfillGrid(opt BackfillOptions) []int64 {
	y, m, d := opt.Since.In(opt.Location).Date()
	var out []int64
	prev := int64(math.MinInt64)
	for i := 1; ; i++ {
		var t time.Time
		if opt.Step == 24*time.Hour {
			t = time.Date(y, m, d+i, 0, 0, 0, 0, opt.Location)
		} else {
			t = time.Date(y, m, d, 0, 0, 0, 0, opt.Location).Add(time.Duration(i) * opt.Step)
		}
		if !t.Before(opt.Until) {
			return out
		}
		if ms := t.UnixMilli(); ms > prev {
			out = append(out, ms)
			prev = ms
		}
	}
}

type backfill struct {
	q       Querier
	opt     BackfillOptions
	grid    []int64   // sample times, Unix ms
	counted time.Time // counter events counted after it are not written
}

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// bfFamily is one metric family: its catalogue entry and its series.
type bfFamily struct {
	def    Def
	series []bfSeries
}

// bfSeries is one label set (values in def.Labels order) with its points:
// vals[c][i] is component c at ts[i]. Counters and gauges have one
// component; histograms the cumulative buckets, then count, then sum.
type bfSeries struct {
	labels []string
	ts     []int64
	vals   [][]float64
}

// bfAcc turns per-sample deltas into cumulative series over the grid.
type bfAcc struct {
	n, comps int
	rows     map[string]*bfAccRow
}

type bfAccRow struct {
	labels []string
	diff   [][]float64
	first  int // first sample index with a delta; n when none
}

func newBFAcc(n, comps int) *bfAcc { return &bfAcc{n: n, comps: comps, rows: map[string]*bfAccRow{}} }

// add records delta v of component c at sample index k (it counts from k on).
func (a *bfAcc) add(labels []string, k, c int, v float64) {
	if v == 0 {
		return
	}
	a.touch(labels, k, c, v)
}

// touch starts the series at sample index k, with a delta of v (0: a
// series that exists with value 0).
func (a *bfAcc) touch(labels []string, k, c int, v float64) {
	if k < 0 || k >= a.n {
		return
	}
	key := strings.Join(labels, "\xff")
	r := a.rows[key]
	if r == nil {
		r = &bfAccRow{labels: slices.Clone(labels), diff: make([][]float64, a.comps), first: a.n}
		for i := range r.diff {
			r.diff[i] = make([]float64, a.n)
		}
		a.rows[key] = r
	}
	r.diff[c][k] += v
	r.first = min(r.first, k)
}

// series returns the cumulative series, each starting lead samples before
// its first delta (a zero sample lets increase() count the first day).
func (a *bfAcc) series(grid []int64, lead int) []bfSeries {
	out := make([]bfSeries, 0, len(a.rows))
	for _, r := range a.rows {
		start := max(r.first-lead, 0)
		s := bfSeries{labels: r.labels, ts: grid[start:], vals: make([][]float64, a.comps)}
		for c, d := range r.diff {
			sum := 0.0
			for k := range d {
				sum += d[k]
				d[k] = sum
			}
			s.vals[c] = d[start:]
		}
		out = append(out, s)
	}
	return out
}

// gridCTE is a CTE g(k, t) of the sample indexes and times (Unix ms); an
// event at ms counts from the first sample after it: ASOF JOIN g ON ms < g.t.
func (b *backfill) gridCTE() string {
	var sb strings.Builder
	sb.WriteString("g AS (SELECT CAST(row_number() OVER (ORDER BY t) - 1 AS INTEGER) AS k, t FROM (SELECT unnest(CAST([")
	for i, t := range b.grid {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.FormatInt(t, 10))
	}
	sb.WriteString("] AS BIGINT[])) AS t))")
	return sb.String()
}

func (b *backfill) each(ctx context.Context, what, query string, scan func(*sql.Rows) error, args ...any) error {
	rows, err := b.q.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// counters writes the five throughline_items_*_total counters from the
// ledger the live counters sum (counter_events), each event at the time it
// happened, with the labels it was counted with: at the hand-over the last
// backfilled value is the live one, minus the events after that sample. An
// event without a time counts before the first sample.
func (b *backfill) counters(ctx context.Context) ([]bfFamily, error) {
	defs := []Def{ItemsCreated, ItemsStarted, ItemsCompleted, ItemsReopened, ItemsDiscarded}
	acc := newBFAcc(len(b.grid), len(defs))
	query := `WITH ` + b.gridCTE() + `,
	ev AS (
		SELECT team, project, work_class, item_type,
			CASE event WHEN 'created' THEN 0 WHEN 'started' THEN 1 WHEN 'completed' THEN 2 WHEN 'reopened' THEN 3 ELSE 4 END AS c,
			coalesce(epoch_ms(happened_at), -9000000000000000) AS ms
		FROM counter_events WHERE counted_at <= ?)
	SELECT ev.team, ev.project, ev.work_class, ev.item_type, ev.c, g.k, count(*)
	FROM ev ASOF JOIN g ON ev.ms < g.t
	GROUP BY ALL`
	err := b.each(ctx, "counters", query, func(r *sql.Rows) error {
		l := make([]string, 4)
		var c, k int
		var n float64
		if err := r.Scan(&l[0], &l[1], &l[2], &l[3], &c, &k, &n); err != nil {
			return err
		}
		acc.add(l, k, c, n)
		return nil
	}, b.counted)
	if err != nil {
		return nil, err
	}
	// The five families share their label sets and starts, like the live
	// flow_counters rows (a zero counter is exposed too).
	series := acc.series(b.grid, 1)
	out := make([]bfFamily, len(defs))
	for i, d := range defs {
		out[i].def = d
		for _, s := range series {
			out[i].series = append(out[i].series, bfSeries{labels: s.labels, ts: s.ts, vals: [][]float64{s.vals[i]}})
		}
	}
	return out, nil
}

// cycleTime writes throughline_cycle_time_seconds from the counted
// completions (counter_events), each at the time it happened with the cycle
// time it was observed with, like the live histogram.
func (b *backfill) cycleTime(ctx context.Context) ([]bfFamily, error) {
	nb := len(CycleBucketsDays)
	acc := newBFAcc(len(b.grid), nb+2)
	query := `WITH ` + b.gridCTE() + `,
	e AS (SELECT team, work_class, cycle_seconds, coalesce(epoch_ms(happened_at), -9000000000000000) AS ms
		FROM counter_events WHERE event = 'completed' AND cycle_seconds IS NOT NULL AND counted_at <= ?)
	SELECT e.team, e.work_class, g.k, ` + bucketCounts("e.cycle_seconds") + `, count(*), CAST(sum(e.cycle_seconds) AS DOUBLE)
	FROM e ASOF JOIN g ON e.ms < g.t
	GROUP BY ALL`
	err := b.each(ctx, "cycle time", query, func(r *sql.Rows) error {
		l := make([]string, 2)
		var k int
		v := make([]float64, nb+2)
		dest := []any{&l[0], &l[1], &k}
		for i := range v {
			dest = append(dest, &v[i])
		}
		if err := r.Scan(dest...); err != nil {
			return err
		}
		for c, x := range v {
			acc.add(l, k, c, x)
		}
		return nil
	}, b.counted)
	if err != nil {
		return nil, err
	}
	return []bfFamily{{def: CycleTime, series: acc.series(b.grid, 1)}}, nil
}

// wip rebuilds throughline_wip_items from the status history: an item is in
// WIP at T when its last transition before T entered a started stage, with
// that status's stage class (active or wait), as the live gauge classifies
// the current status. Summed over classes it is wip_daily. Like the live
// gauge, every team and class has both stage classes, zeros included, from
// the sample after its first item was created.
func (b *backfill) wip(ctx context.Context) ([]bfFamily, error) {
	acc := newBFAcc(len(b.grid), 1)
	query := `WITH ` + b.gridCTE() + `,
	iv AS (
		SELECT f.team, f.work_class, s.to_stage, coalesce(m.stage_class, 'active') AS stage_class,
			epoch_ms(s.changed_at) AS s_ms,
			epoch_ms(lead(s.changed_at) OVER (PARTITION BY s.item_id ORDER BY s.seq)) AS e_ms
		FROM status_changes s
		JOIN item_flow f ON f.item_id = s.item_id
		LEFT JOIN status_map m ON m.source_id = f.source AND m.status = s.to_status AND m.category IS NOT DISTINCT FROM s.to_category),
	d AS (
		SELECT team, work_class, stage_class, s_ms AS ms, 1 AS delta FROM iv WHERE to_stage = 'started'
		UNION ALL
		SELECT team, work_class, stage_class, e_ms, -1 FROM iv WHERE to_stage = 'started' AND e_ms IS NOT NULL)
	SELECT d.team, d.work_class, d.stage_class, g.k, sum(d.delta)
	FROM d ASOF JOIN g ON d.ms < g.t
	GROUP BY ALL`
	err := b.each(ctx, "wip", query, func(r *sql.Rows) error {
		l := make([]string, 3)
		var k int
		var v float64
		if err := r.Scan(&l[0], &l[1], &l[2], &k, &v); err != nil {
			return err
		}
		acc.add(l, k, 0, v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = b.each(ctx, "wip groups", `WITH `+b.gridCTE()+`,
	f AS (SELECT team, work_class, coalesce(epoch_ms(min(created_at)), -9000000000000000) AS ms FROM item_flow GROUP BY ALL)
	SELECT f.team, f.work_class, g.k FROM f ASOF JOIN g ON f.ms < g.t`, func(r *sql.Rows) error {
		var team, class string
		var k int
		if err := r.Scan(&team, &class, &k); err != nil {
			return err
		}
		for _, sc := range StageClasses {
			acc.touch([]string{team, class, sc}, k, 0, 0)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return []bfFamily{{def: WIPItems, series: acc.series(b.grid, 0)}}, nil
}

// wipLimits writes each team's WIP limit of the config as it is now, on
// every sample (the warehouse keeps no history of the config).
func (b *backfill) wipLimits(ctx context.Context) ([]bfFamily, error) {
	fam := bfFamily{def: WIPLimit}
	err := b.each(ctx, "wip limits", `SELECT team_id, wip_limit FROM teams WHERE wip_limit IS NOT NULL ORDER BY 1`, func(r *sql.Rows) error {
		var team string
		var lim float64
		if err := r.Scan(&team, &lim); err != nil {
			return err
		}
		s := bfSeries{labels: []string{team}, ts: b.grid, vals: [][]float64{make([]float64, len(b.grid))}}
		for i := range s.vals[0] {
			s.vals[0][i] = lim
		}
		fam.series = append(fam.series, s)
		return nil
	})
	return []bfFamily{fam}, err
}

// sampleDays are the local days the samples close (a sample at local
// midnight holds the state at the end of the day before).
func (b *backfill) sampleDays() []time.Time {
	days := make([]time.Time, len(b.grid))
	for i, t := range b.grid {
		y, m, d := time.UnixMilli(t - 1).In(b.opt.Location).Date()
		days[i] = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	return days
}

// allocation writes throughline_allocation_rolling_week_ratio from
// allocation_daily: at each sample, the ratio computed on the day it closes
// (days without a compute have none).
func (b *backfill) allocation(ctx context.Context) ([]bfFamily, error) {
	type key struct{ team, day string }
	ratio := map[key]float64{}
	var teams []string
	err := b.each(ctx, "allocation", `SELECT team, day, allocation_ratio FROM allocation_daily
		WHERE allocation_ratio IS NOT NULL ORDER BY team, day`, func(r *sql.Rows) error {
		var team string
		var day time.Time
		var v float64
		if err := r.Scan(&team, &day, &v); err != nil {
			return err
		}
		if len(teams) == 0 || teams[len(teams)-1] != team {
			teams = append(teams, team)
		}
		ratio[key{team, day.Format(time.DateOnly)}] = v
		return nil
	})
	if err != nil {
		return nil, err
	}
	days := b.sampleDays()
	fam := bfFamily{def: AllocationRollingWeek}
	for _, team := range teams {
		s, ok := b.lookup([]string{team}, func(i int) (float64, bool) {
			v, ok := ratio[key{team, days[i].Format(time.DateOnly)}]
			return v, ok
		})
		if ok {
			fam.series = append(fam.series, s)
		}
	}
	return []bfFamily{fam}, nil
}

// lookup is a gauge series with the value of each sample (index i of the
// grid) where value has one; ok is false when it has none.
func (b *backfill) lookup(labels []string, value func(i int) (float64, bool)) (bfSeries, bool) {
	s := bfSeries{labels: labels, vals: [][]float64{nil}}
	for i, t := range b.grid {
		if v, ok := value(i); ok {
			s.ts = append(s.ts, t)
			s.vals[0] = append(s.vals[0], v)
		}
	}
	return s, len(s.ts) > 0
}

// backfillThroughputWeeks are the week_offset values of
// throughline_throughput_weekly_items the backfill writes: the current week
// and the last complete one (what a graph over time shows; the older
// offsets repeat the same weeks shifted, 13 times the samples).
const backfillThroughputWeeks = 2

// throughput writes throughline_throughput_weekly_items for week_offset 0
// and -1: at each sample, the completions of the ISO week of the day it
// closes (up to that day) and of the week before, from today's item_flow
// (final finish, today's attribution and discards), zeros included, from
// the sample after the label set's first item was created.
func (b *backfill) throughput(ctx context.Context) ([]bfFamily, error) {
	type set struct{ team, project, class string }
	var sets []set
	first := map[set]int{}
	err := b.each(ctx, "throughput sets", `WITH `+b.gridCTE()+`,
	f AS (SELECT team, coalesce(project, '') AS project, work_class, coalesce(epoch_ms(min(created_at)), -9000000000000000) AS ms
		FROM item_flow GROUP BY ALL)
	SELECT f.team, f.project, f.work_class, g.k FROM f ASOF JOIN g ON f.ms < g.t ORDER BY 1, 2, 3`, func(r *sql.Rows) error {
		var s set
		var k int
		if err := r.Scan(&s.team, &s.project, &s.class, &k); err != nil {
			return err
		}
		sets = append(sets, s)
		first[s] = k
		return nil
	})
	if err != nil {
		return nil, err
	}
	daily := map[set]map[time.Time]float64{}
	err = b.each(ctx, "throughput", `SELECT team, coalesce(project, ''), work_class, finish_day, count(*) FROM item_flow
		WHERE completed AND NOT discarded GROUP BY ALL`, func(r *sql.Rows) error {
		var s set
		var day time.Time
		var n float64
		if err := r.Scan(&s.team, &s.project, &s.class, &day, &n); err != nil {
			return err
		}
		if daily[s] == nil {
			daily[s] = map[time.Time]float64{}
		}
		daily[s][day.UTC()] = n
		return nil
	})
	if err != nil {
		return nil, err
	}
	days := b.sampleDays()
	fam := bfFamily{def: ThroughputWeekly}
	for _, st := range sets {
		series := make([]bfSeries, backfillThroughputWeeks)
		for off := range series {
			series[off] = bfSeries{labels: []string{st.team, st.project, st.class, strconv.Itoa(-off)}, vals: [][]float64{nil}}
		}
		for i := first[st]; i < len(b.grid); i++ {
			day := days[i]
			monday := day.AddDate(0, 0, -(int(day.Weekday())+6)%7)
			for off := range series {
				from := monday.AddDate(0, 0, -7*off)
				n := 0.0
				for d := from; d.Before(from.AddDate(0, 0, 7)) && !d.After(day); d = d.AddDate(0, 0, 1) {
					n += daily[st][d]
				}
				series[off].ts = append(series[off].ts, b.grid[i])
				series[off].vals[0] = append(series[off].vals[0], n)
			}
		}
		for _, s := range series {
			if len(s.ts) > 0 {
				fam.series = append(fam.series, s)
			}
		}
	}
	return []bfFamily{fam}, nil
}

// capacity writes throughline_capacity_seconds{week_offset="0"} (the
// capacity of the sample day's ISO week) and throughline_logged_utilization_ratio
// (of the week before it, the last complete week, as the live gauge), from
// utilization_weekly. Planned load per week is not stored per past week:
// allocation writes the rolling-week ratio, which is.
func (b *backfill) capacity(ctx context.Context) ([]bfFamily, error) {
	type key struct {
		team string
		week string
	}
	capH := map[key]float64{}
	util := map[key]float64{}
	var teams []string
	seen := map[string]bool{}
	err := b.each(ctx, "capacity", `SELECT team, week_start, capacity_hours * 3600, logged_utilization FROM utilization_weekly ORDER BY team, week_start`,
		func(r *sql.Rows) error {
			var team string
			var week time.Time
			var c float64
			var u sql.NullFloat64
			if err := r.Scan(&team, &week, &c, &u); err != nil {
				return err
			}
			k := key{team, week.Format(time.DateOnly)}
			capH[k] = c
			if u.Valid {
				util[k] = u.Float64
			}
			if !seen[team] {
				seen[team] = true
				teams = append(teams, team)
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	// The ISO week (Monday) of each sample's day: the day that ends at T.
	weeks := b.sampleDays()
	for i, day := range weeks {
		weeks[i] = day.AddDate(0, 0, -(int(day.Weekday())+6)%7)
	}
	gauge := func(team string, vals map[key]float64, back int) (bfSeries, bool) {
		return b.lookup([]string{team}, func(i int) (float64, bool) {
			v, ok := vals[key{team, weeks[i].AddDate(0, 0, -7*back).Format(time.DateOnly)}]
			return v, ok
		})
	}
	capFam := bfFamily{def: CapacitySeconds}
	utilFam := bfFamily{def: LoggedUtilization}
	for _, team := range teams {
		if s, ok := gauge(team, capH, 0); ok {
			s.labels = []string{team, "0"}
			capFam.series = append(capFam.series, s)
		}
		if s, ok := gauge(team, util, 1); ok {
			utilFam.series = append(utilFam.series, s)
		}
	}
	return []bfFamily{capFam, utilFam}, nil
}

// forecasts writes every stored milestone forecast at its computed_at: the
// P50/P70/P85/P95 dates and the on-time probability (unknown forecasts have
// neither).
func (b *backfill) forecasts(ctx context.Context) ([]bfFamily, error) {
	y, m, d := b.opt.Since.In(b.opt.Location).Date()
	from := time.Date(y, m, d, 0, 0, 0, 0, b.opt.Location)
	dates := map[string]*bfSeries{}
	probs := map[string]*bfSeries{}
	put := func(into map[string]*bfSeries, labels []string, ms int64, v float64) {
		k := strings.Join(labels, "\xff")
		s := into[k]
		if s == nil {
			s = &bfSeries{labels: labels, vals: [][]float64{nil}}
			into[k] = s
		}
		if n := len(s.ts); n > 0 && s.ts[n-1] == ms {
			s.vals[0][n-1] = v // same millisecond: the later row wins
			return
		}
		s.ts = append(s.ts, ms)
		s.vals[0] = append(s.vals[0], v)
	}
	err := b.each(ctx, "milestone forecasts", `SELECT coalesce(ms.project, ''), ms.name, f.computed_at,
			f.p50_date, f.p70_date, f.p85_date, f.p95_date, f.on_time_probability
		FROM milestone_forecasts f JOIN milestone_status ms ON ms.milestone_id = f.milestone_id
		WHERE f.computed_at >= ? AND f.computed_at < ?
		ORDER BY 1, 2, 3`, func(r *sql.Rows) error {
		var project, name string
		var at time.Time
		p := make([]sql.NullTime, 4)
		var prob sql.NullFloat64
		if err := r.Scan(&project, &name, &at, &p[0], &p[1], &p[2], &p[3], &prob); err != nil {
			return err
		}
		ms := at.UnixMilli()
		for i, q := range Quantiles {
			if p[i].Valid {
				put(dates, []string{project, name, strconv.FormatFloat(q, 'f', -1, 64)}, ms, seconds(p[i].Time))
			}
		}
		if prob.Valid {
			put(probs, []string{project, name}, ms, prob.Float64)
		}
		return nil
	}, from.UTC(), b.opt.Until.UTC())
	if err != nil {
		return nil, err
	}
	list := func(m map[string]*bfSeries) []bfSeries {
		out := make([]bfSeries, 0, len(m))
		for _, s := range m {
			out = append(out, *s)
		}
		return out
	}
	return []bfFamily{{def: MilestoneForecast, series: list(dates)}, {def: MilestoneOnTime, series: list(probs)}}, nil
}

// writeBackfillFamily writes one family: HELP and TYPE once, then every
// series in label order with its points in time order. It returns the
// sample lines written and the first and last sample time (ms).
func writeBackfillFamily(w *bufio.Writer, f bfFamily, target map[string]string) (n int, first, last int64) {
	first, last = math.MaxInt64, math.MinInt64
	name := f.def.FQName()
	family := name
	if f.def.Kind == "counter" {
		family = strings.TrimSuffix(name, "_total")
	}
	w.WriteString("# HELP " + family + " " + escapeOM(f.def.Help) + "\n")
	w.WriteString("# TYPE " + family + " " + f.def.Kind + "\n")

	// Labels are written sorted by name, as client_golang exposes them; the
	// target labels join them (a metric label of the same name wins, as
	// Prometheus keeps it with honor_labels).
	names := slices.Clone(f.def.Labels)
	for _, k := range sortedKeys(target) {
		if !slices.Contains(f.def.Labels, k) {
			names = append(names, k)
		}
	}
	order := make([]int, len(names))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(names[a], names[b]) })
	type keyed struct {
		key []string // label values in name order
		s   bfSeries
	}
	series := make([]keyed, len(f.series))
	for i, s := range f.series {
		values := append(slices.Clone(s.labels), make([]string, len(names)-len(s.labels))...)
		for j := len(s.labels); j < len(names); j++ {
			values[j] = target[names[j]]
		}
		k := make([]string, len(order))
		for j, o := range order {
			k[j] = values[o]
		}
		s.labels = values
		series[i] = keyed{k, s}
	}
	slices.SortFunc(series, func(a, b keyed) int { return slices.Compare(a.key, b.key) })

	var buckets []string
	if f.def.Kind == "histogram" {
		for _, d := range CycleBucketsDays {
			buckets = append(buckets, formatOMFloat(d*86400))
		}
		buckets = append(buckets, "+Inf")
	}
	for _, ks := range series {
		s := ks.s
		var lb strings.Builder
		for i, o := range order {
			if i > 0 {
				lb.WriteByte(',')
			}
			lb.WriteString(names[o] + `="` + escapeOM(s.labels[o]) + `"`)
		}
		labels := lb.String()
		if len(s.ts) > 0 {
			first, last = min(first, s.ts[0]), max(last, s.ts[len(s.ts)-1])
		}
		for i, t := range s.ts {
			ts := formatOMTimestamp(t)
			switch f.def.Kind {
			case "histogram":
				count := s.vals[len(buckets)-1][i]
				for bi, le := range buckets {
					v := count
					if bi < len(buckets)-1 {
						v = s.vals[bi][i]
					}
					sep := ","
					if labels == "" {
						sep = ""
					}
					w.WriteString(name + "_bucket{" + labels + sep + `le="` + le + `"} ` + strconv.FormatUint(uint64(v), 10) + " " + ts + "\n")
				}
				w.WriteString(name + "_sum{" + labels + "} " + formatOMFloat(s.vals[len(buckets)][i]) + " " + ts + "\n")
				w.WriteString(name + "_count{" + labels + "} " + strconv.FormatUint(uint64(count), 10) + " " + ts + "\n")
				n += len(buckets) + 2
			default:
				w.WriteString(name + "{" + labels + "} " + formatOMFloat(s.vals[0][i]) + " " + ts + "\n")
				n++
			}
		}
	}
	return n, first, last
}

// formatOMFloat formats a value as client_golang's OpenMetrics encoder
// does, so bucket bounds (le) match the live exposition exactly.
func formatOMFloat(f float64) string {
	switch {
	case f == 1:
		return "1.0"
	case f == 0:
		return "0.0"
	case f == -1:
		return "-1.0"
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, +1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, "e.") {
		s += ".0"
	}
	return s
}

// formatOMTimestamp writes Unix ms as seconds: integral when whole.
func formatOMTimestamp(ms int64) string {
	if ms%1000 == 0 {
		return strconv.FormatInt(ms/1000, 10)
	}
	return strconv.FormatFloat(float64(ms)/1000, 'f', 3, 64)
}

// escapeOM escapes backslash, newline and double quote (HELP and label values).
func escapeOM(s string) string {
	if !strings.ContainsAny(s, "\\\n\"") {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '"':
			b.WriteString(`\"`)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// sortedKeys lists a map's keys in order (stable exposition and tests).
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
