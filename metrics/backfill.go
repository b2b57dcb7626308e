package metrics

import (
	"bufio"
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"io"
	"math"
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
	// Until: nothing at or after it is written. Zero: Now - BackfillHoldOff.
	Until time.Time
	// Step between samples. 0 or 24h: one sample at the end of every local
	// calendar day (the local midnight that ends it, DST aware); otherwise
	// every Step from the start of Since's local day. At least a minute.
	Step time.Duration
	// Location of day and ISO-week boundaries (the config time zone); nil: UTC.
	Location *time.Location
	// Now is the present, for the default Until; zero: time.Now().
	Now time.Time
}

// BackfillStats describe what Backfill wrote.
type BackfillStats struct {
	Families, Series, Samples int       // Samples: sample lines (a histogram point is buckets + sum + count)
	First, Last               time.Time // earliest and latest sample; zero when nothing was written
	Until                     time.Time // the exclusive end used
}

// Backfill reconstructs daily history of the flow counters, the cycle-time
// histogram, WIP per stage class, capacity and logged utilization, and the
// stored milestone forecasts from the warehouse, and writes it to w as
// OpenMetrics text with timestamps (seconds), ending with "# EOF", for
// `promtool tsdb create-blocks-from openmetrics`. Names and labels are the
// live collector's (the catalogue), so imported history and scraped samples
// form one series.
//
// The value at a sample time T is the state at T: events strictly before T
// (an event at local midnight belongs to the day it starts). Counters are
// rebuilt with the rules of flow_counters from each item's status history
// and today's attribution (team, project, class, type), so at the hand-over
// they equal the live counters of the same compute, minus the events after
// the last sample. Nothing that the warehouse does not keep is invented:
// planned load and allocation have no history and are not written.
func Backfill(ctx context.Context, q Querier, w io.Writer, opt BackfillOptions) (BackfillStats, error) {
	var st BackfillStats
	if opt.Location == nil {
		opt.Location = time.UTC
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	if opt.Until.IsZero() {
		opt.Until = opt.Now.Add(-BackfillHoldOff)
	}
	st.Until = opt.Until
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
	b := &backfill{q: q, opt: opt, grid: backfillGrid(opt)}
	var fams []bfFamily
	if len(b.grid) > 0 {
		steps := []func(context.Context) ([]bfFamily, error){b.counters, b.cycleTime, b.wip, b.capacity}
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
		n, lo, hi := writeBackfillFamily(bw, f)
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
	q    Querier
	opt  BackfillOptions
	grid []int64 // sample times, Unix ms
}

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
	if v == 0 || k < 0 || k >= a.n {
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

// counters rebuilds the five throughline_items_*_total counters with the
// rules of flow_counters (80_counters.sql over item_flow's history columns):
// created at created_at; started per todo→started transition; completed per
// entry into done of an item not discarded now; reopened per transition out
// of done; discarded at F of a discarded item. An item without created_at
// counts as created before the first sample.
func (b *backfill) counters(ctx context.Context) ([]bfFamily, error) {
	defs := []Def{ItemsCreated, ItemsStarted, ItemsCompleted, ItemsReopened, ItemsDiscarded}
	acc := newBFAcc(len(b.grid), len(defs))
	query := `WITH ` + b.gridCTE() + `,
	f AS (SELECT item_id, team, coalesce(project, '') AS project, work_class, coalesce(item_type, '') AS item_type,
			discarded, created_at, finished_at FROM item_flow),
	tr AS (
		SELECT f.team, f.project, f.work_class, f.item_type, f.discarded, epoch_ms(s.changed_at) AS ms,
			CASE WHEN coalesce(s.from_stage, 'todo') = 'todo' AND s.to_stage = 'started' THEN 1
			     WHEN coalesce(s.from_stage, 'todo') <> 'done' AND s.to_stage = 'done' THEN 2
			     WHEN s.from_stage = 'done' AND s.to_stage IN ('todo', 'started') THEN 3 END AS c
		FROM status_changes s JOIN f ON f.item_id = s.item_id),
	ev AS (
		SELECT team, project, work_class, item_type, 0 AS c, coalesce(epoch_ms(created_at), -9000000000000000) AS ms FROM f
		UNION ALL
		SELECT team, project, work_class, item_type, c, ms FROM tr WHERE c IN (1, 3) OR (c = 2 AND NOT discarded)
		UNION ALL
		SELECT team, project, work_class, item_type, 4, epoch_ms(finished_at) FROM f WHERE discarded AND finished_at IS NOT NULL)
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
	})
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

// cycleTime rebuilds throughline_cycle_time_seconds: the items the live
// histogram holds (completed, not discarded, with a cycle time), each from
// the sample after its F, with today's cycle time.
func (b *backfill) cycleTime(ctx context.Context) ([]bfFamily, error) {
	nb := len(CycleBucketsDays)
	acc := newBFAcc(len(b.grid), nb+2)
	var cols []string
	for _, d := range CycleBucketsDays {
		cols = append(cols, fmt.Sprintf("count(*) FILTER (WHERE e.cycle_seconds <= %s)", strconv.FormatFloat(d*86400, 'f', -1, 64)))
	}
	query := `WITH ` + b.gridCTE() + `,
	e AS (SELECT team, work_class, cycle_seconds, epoch_ms(finished_at) AS ms FROM item_flow
		WHERE completed AND NOT discarded AND cycle_seconds IS NOT NULL)
	SELECT e.team, e.work_class, g.k, ` + strings.Join(cols, ", ") + `, count(*), CAST(sum(e.cycle_seconds) AS DOUBLE)
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
	})
	if err != nil {
		return nil, err
	}
	return []bfFamily{{def: CycleTime, series: acc.series(b.grid, 1)}}, nil
}

// wip rebuilds throughline_wip_items from the status history: an item is in
// WIP at T when its last transition before T entered a started stage, with
// that status's stage class (active or wait), as the live gauge classifies
// the current status. Summed over classes it is wip_daily. A series starts
// at its first non-zero sample and then goes on, zeros included.
func (b *backfill) wip(ctx context.Context) ([]bfFamily, error) {
	acc := newBFAcc(len(b.grid), 1)
	query := `WITH ` + b.gridCTE() + `,
	iv AS (
		SELECT f.team, f.work_class, s.to_stage, coalesce(m.stage_class, 'active') AS stage_class,
			epoch_ms(s.changed_at) AS s_ms,
			epoch_ms(lead(s.changed_at) OVER (PARTITION BY s.item_id ORDER BY s.seq)) AS e_ms
		FROM status_changes s
		JOIN item_flow f ON f.item_id = s.item_id
		JOIN work_items w ON w.item_id = s.item_id
		LEFT JOIN status_map m ON m.source_id = w.source_id AND m.status = s.to_status AND m.category IS NOT DISTINCT FROM s.to_category),
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
	return []bfFamily{{def: WIPItems, series: acc.series(b.grid, 0)}}, nil
}

// capacity writes throughline_capacity_seconds{week_offset="0"} (the
// capacity of the sample day's ISO week) and throughline_logged_utilization_ratio
// (of the week before it, the last complete week, as the live gauge), from
// utilization_weekly. Planned load and allocation are not stored per past
// week, so they have no history.
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
	weeks := make([]time.Time, len(b.grid))
	for i, t := range b.grid {
		y, m, d := time.UnixMilli(t - 1).In(b.opt.Location).Date()
		day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		weeks[i] = day.AddDate(0, 0, -(int(day.Weekday())+6)%7)
	}
	gauge := func(team string, vals map[key]float64, back int) (bfSeries, bool) {
		s := bfSeries{labels: []string{team}, vals: [][]float64{nil}}
		for i, t := range b.grid {
			v, ok := vals[key{team, weeks[i].AddDate(0, 0, -7*back).Format(time.DateOnly)}]
			if ok {
				s.ts = append(s.ts, t)
				s.vals[0] = append(s.vals[0], v)
			}
		}
		return s, len(s.ts) > 0
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
func writeBackfillFamily(w *bufio.Writer, f bfFamily) (n int, first, last int64) {
	first, last = math.MaxInt64, math.MinInt64
	name := f.def.FQName()
	family := name
	if f.def.Kind == "counter" {
		family = strings.TrimSuffix(name, "_total")
	}
	w.WriteString("# HELP " + family + " " + escapeOM(f.def.Help) + "\n")
	w.WriteString("# TYPE " + family + " " + f.def.Kind + "\n")

	// Labels are written sorted by name, as client_golang exposes them.
	order := make([]int, len(f.def.Labels))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(f.def.Labels[a], f.def.Labels[b]) })
	type keyed struct {
		key []string // label values in name order
		s   bfSeries
	}
	series := make([]keyed, len(f.series))
	for i, s := range f.series {
		k := make([]string, len(order))
		for j, o := range order {
			k[j] = s.labels[o]
		}
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
			lb.WriteString(f.def.Labels[o] + `="` + escapeOM(s.labels[o]) + `"`)
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
