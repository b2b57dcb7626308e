package metrics

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/throughline/throughline/metrics/forecast"
)

// BacktestDays is the backtest period: milestones completed in the last
// BacktestDays days are scored.
const BacktestDays = 365

// backtestModels are the models every backtest scores, whatever the
// configured mode: the comparison is what tells a PMO which to trust.
var backtestModels = []string{ModePortfolio, ModeIndependent}

// backtestStep re-runs the forecasts of the milestones completed in the
// backtest period as of the Mondays of their lives (forecast.Backtest) per
// project and model, stores every checkpoint (forecast_backtest) and the
// accuracy per project and over all (forecast_backtest_summary). A project
// whose inputs hash the same as at the last compute keeps its stored
// checkpoints: same inputs, seed and version give the same answers.
func backtestStep(ctx context.Context, c *sql.Conn, p Params) error {
	today := dateOf(p.Now.In(p.Location))
	since := today.AddDate(0, 0, -BacktestDays+1)
	hs, err := readHistories(ctx, c, today, since)
	if err != nil {
		return fmt.Errorf("backtest: %w", err)
	}
	stored := map[[2]string]string{} // project, model → inputs hash
	rows, err := c.QueryContext(ctx, `SELECT project, model, inputs_hash FROM forecast_backtest_summary
		WHERE project <> '*' AND inputs_hash IS NOT NULL`)
	if err != nil {
		return fmt.Errorf("backtest: read the last summary: %w", err)
	}
	for rows.Next() {
		var proj, model, hash string
		if err := rows.Scan(&proj, &model, &hash); err != nil {
			rows.Close()
			return fmt.Errorf("backtest: read the last summary: %w", err)
		}
		stored[[2]string{proj, model}] = hash
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("backtest: read the last summary: %w", err)
	}

	// Projects without a scored milestone any more lose their checkpoints.
	var keep []string
	for _, h := range hs {
		keep = append(keep, h.project)
	}
	var gone []string
	rows, err = c.QueryContext(ctx, `SELECT DISTINCT project FROM forecast_backtest`)
	if err != nil {
		return fmt.Errorf("backtest: %w", err)
	}
	for rows.Next() {
		var proj string
		if err := rows.Scan(&proj); err != nil {
			rows.Close()
			return fmt.Errorf("backtest: %w", err)
		}
		if !slices.Contains(keep, proj) {
			gone = append(gone, proj)
		}
	}
	rows.Close()
	for _, proj := range gone {
		if _, err := c.ExecContext(ctx, `DELETE FROM forecast_backtest WHERE project = ?`, proj); err != nil {
			return fmt.Errorf("backtest %s: %w", proj, err)
		}
	}

	type summary struct {
		project, model, hash string
		acc                  forecast.Accuracy
	}
	var sums []summary
	all := map[string][]forecast.Checkpoint{}
	for _, h := range hs {
		for _, model := range backtestModels {
			o := forecast.BacktestOptions{Independent: model == ModeIndependent, Window: p.WindowDays, Trials: p.Trials, Seed: p.Seed}
			hash, err := inputsHash(h.History, o)
			if err != nil {
				return fmt.Errorf("backtest %s: %w", h.project, err)
			}
			var cps []forecast.Checkpoint
			if stored[[2]string{h.project, model}] == hash {
				cps, err = readCheckpoints(ctx, c, h.project, model)
			} else {
				cps = forecast.Backtest(h.History, o)
				err = storeCheckpoints(ctx, c, h.project, model, cps)
			}
			if err != nil {
				return fmt.Errorf("backtest %s (%s): %w", h.project, model, err)
			}
			all[model] = append(all[model], cps...)
			sums = append(sums, summary{h.project, model, hash, forecast.Summarize(cps)})
		}
	}
	for _, model := range backtestModels {
		sums = append(sums, summary{"*", model, "", forecast.Summarize(all[model])})
	}
	if _, err := c.ExecContext(ctx, `DELETE FROM forecast_backtest_summary`); err != nil {
		return fmt.Errorf("backtest: %w", err)
	}
	for _, s := range sums {
		a := s.acc
		var rates [5]any
		if a.Checkpoints > a.Unknown {
			rates = [5]any{a.HitP50, a.HitP85, a.HitP95, a.MAE, a.Bias}
		}
		var hash any
		if s.hash != "" {
			hash = s.hash
		}
		_, err := c.ExecContext(ctx, `INSERT INTO forecast_backtest_summary VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			s.project, s.model, since, a.Milestones, a.Checkpoints, a.Unknown, rates[0], rates[1], rates[2], rates[3], rates[4],
			p.WindowDays, p.Trials, int64(p.Seed), forecast.Version, hash, p.Now.UTC())
		if err != nil {
			return fmt.Errorf("backtest: store the summary of %s: %w", s.project, err)
		}
	}
	return nil
}

// projectHistory is a project's backtest input.
type projectHistory struct {
	project string
	forecast.History
}

// readHistories reads, per project with a milestone completed between since
// and today, its daily completions up to today and every milestone with
// items (scope items' creation and finish days, due-date history).
func readHistories(ctx context.Context, c *sql.Conn, today, since time.Time) ([]projectHistory, error) {
	l := loader{ctx: ctx, q: c}
	type ms struct {
		forecast.PastMilestone
		project string
	}
	byID := map[string]*ms{}
	var order []*ms
	scored := map[string]bool{}
	err := l.each(`SELECT s.milestone_id, s.name, s.project, s.start_date, s.done,
			coalesce(s.last_completion, CAST(s.completed_at AS DATE)), s.baseline_due_date
		FROM ms_scope s WHERE s.project IS NOT NULL AND s.scope > 0 ORDER BY s.milestone_id`, func(r *sql.Rows) error {
		m := &ms{}
		var start, finished, baseline sql.NullTime
		var done bool
		if err := r.Scan(&m.ID, &m.Name, &m.project, &start, &done, &finished, &baseline); err != nil {
			return err
		}
		if start.Valid {
			m.Start = dateOf(start.Time)
		}
		if done && finished.Valid {
			m.Finished = dateOf(finished.Time)
			m.Scored = !m.Finished.Before(since) && !m.Finished.After(today)
		}
		var base time.Time
		if baseline.Valid {
			base = dateOf(baseline.Time)
		}
		m.Due = []forecast.DueFrom{{Due: base}}
		if m.Scored {
			scored[m.project] = true
		}
		byID[m.ID] = m
		order = append(order, m)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read milestones: %w", err)
	}
	// Only the projects with a scored milestone are read further; with
	// none, nothing is (the reads below join item_flow with work_items:
	// 0.04 s at 200k items).
	if len(scored) == 0 {
		return nil, nil
	}
	var projects rows
	for _, p := range slices.Sorted(maps.Keys(scored)) {
		projects.add(p)
	}
	if _, err := c.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE bt_projects (project VARCHAR)`); err != nil {
		return nil, err
	}
	if len(projects.args) > 0 {
		if _, err := c.ExecContext(ctx, `INSERT INTO bt_projects VALUES `+strings.Join(projects.tuples, ", "), projects.args...); err != nil {
			return nil, err
		}
	}
	err = l.each(`SELECT w.milestone_id, CAST(f.created_at AS DATE), CASE WHEN f.completed THEN f.finish_day END
		FROM work_items w JOIN item_flow f USING (item_id)
		WHERE w.milestone_id IS NOT NULL AND NOT w.deleted AND f.created_at IS NOT NULL
		  AND w.milestone_id IN (SELECT milestone_id FROM ms_scope WHERE project IN (SELECT project FROM bt_projects))`, func(r *sql.Rows) error {
		var id string
		var created time.Time
		var finished sql.NullTime
		if err := r.Scan(&id, &created, &finished); err != nil {
			return err
		}
		if m := byID[id]; m != nil {
			it := forecast.PastItem{Created: dateOf(created)}
			if finished.Valid {
				it.Finished = dateOf(finished.Time)
			}
			m.Items = append(m.Items, it)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read milestone items: %w", err)
	}
	err = l.each(`SELECT milestone_id, CAST(observed_at AS DATE), new_due_date FROM milestone_due_changes
		ORDER BY milestone_id, observed_at`, func(r *sql.Rows) error {
		var id string
		var at time.Time
		var due sql.NullTime
		if err := r.Scan(&id, &at, &due); err != nil {
			return err
		}
		if m := byID[id]; m != nil {
			d := forecast.DueFrom{From: dateOf(at)}
			if due.Valid {
				d.Due = dateOf(due.Time)
			}
			m.Due = append(m.Due, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read due-date changes: %w", err)
	}

	out := map[string]*projectHistory{}
	for _, m := range order {
		if !scored[m.project] || len(m.Items) == 0 {
			continue
		}
		slices.SortFunc(m.Items, func(a, b forecast.PastItem) int {
			return cmp.Or(a.Created.Compare(b.Created), a.Finished.Compare(b.Finished))
		})
		if m.Start.IsZero() {
			m.Start = m.Items[0].Created // no start date: the first item's creation
		}
		h := out[m.project]
		if h == nil {
			h = &projectHistory{project: m.project}
			out[m.project] = h
		}
		h.Milestones = append(h.Milestones, m.PastMilestone)
	}
	type day struct {
		d    time.Time
		n, m int
	}
	days := map[string][]day{}
	err = l.each(`SELECT f.project, f.finish_day, count(*), count(w.milestone_id)
		FROM item_flow f LEFT JOIN work_items w USING (item_id)
		WHERE f.completed AND NOT f.discarded AND f.project IN (SELECT project FROM bt_projects) AND f.finish_day <= ?
		GROUP BY ALL ORDER BY ALL`, func(r *sql.Rows) error {
		var proj string
		var x day
		if err := r.Scan(&proj, &x.d, &x.n, &x.m); err != nil {
			return err
		}
		if out[proj] != nil {
			x.d = dateOf(x.d)
			days[proj] = append(days[proj], x)
		}
		return nil
	}, today)
	if err != nil {
		return nil, fmt.Errorf("read completions: %w", err)
	}
	err = l.each(`SELECT project, min(CAST(created_at AS DATE)) FROM item_flow WHERE project IN (SELECT project FROM bt_projects) GROUP BY project`, func(r *sql.Rows) error {
		var proj string
		var since sql.NullTime
		if err := r.Scan(&proj, &since); err != nil {
			return err
		}
		if h := out[proj]; h != nil && since.Valid {
			h.Since = dateOf(since.Time)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the first items: %w", err)
	}
	var hs []projectHistory
	for _, proj := range slices.Sorted(maps.Keys(out)) {
		h := out[proj]
		h.First = today
		if ds := days[proj]; len(ds) > 0 {
			h.First = ds[0].d
		}
		n := int(today.Sub(h.First).Hours()/24) + 1
		h.Completions, h.MilestoneCompletions = make([]int, n), make([]int, n)
		for _, x := range days[proj] {
			i := int(x.d.Sub(h.First).Hours() / 24)
			h.Completions[i], h.MilestoneCompletions[i] = x.n, x.m
		}
		hs = append(hs, *h)
	}
	return hs, nil
}

// inputsHash identifies a backtest's inputs: its history, options and the
// algorithm version.
func inputsHash(h forecast.History, o forecast.BacktestOptions) (string, error) {
	b, err := json.Marshal(struct {
		H forecast.History
		O forecast.BacktestOptions
		V int
	}{h, o, forecast.Version})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16]), nil
}

const checkpointColumns = `milestone_id, checkpoint, remaining, ahead_items, milestone_share, known, p50_date, p85_date, p95_date,
	actual_date, hit_p50, hit_p85, hit_p95, p85_error_days`

// storeCheckpoints replaces a project's checkpoints of a model.
func storeCheckpoints(ctx context.Context, c *sql.Conn, project, model string, cps []forecast.Checkpoint) error {
	if _, err := c.ExecContext(ctx, `DELETE FROM forecast_backtest WHERE project = ? AND model = ?`, project, model); err != nil {
		return err
	}
	// Multi-row INSERTs: one statement per row costs about a millisecond.
	const batch = 200
	for lo := 0; lo < len(cps); lo += batch {
		var r rows
		for _, cp := range cps[lo:min(lo+batch, len(cps))] {
			var hits [4]any
			if cp.Known {
				hits = [4]any{cp.HitP50, cp.HitP85, cp.HitP95, cp.ErrorDays}
			}
			r.add(project, model, cp.Milestone, cp.Date, cp.Remaining, cp.Ahead, cp.Share, cp.Known,
				optDate(cp.P50), optDate(cp.P85), optDate(cp.P95), cp.Actual, hits[0], hits[1], hits[2], hits[3])
		}
		if _, err := c.ExecContext(ctx, `INSERT INTO forecast_backtest (project, model, `+checkpointColumns+`) VALUES `+
			strings.Join(r.tuples, ", "), r.args...); err != nil {
			return err
		}
	}
	return nil
}

// readCheckpoints reads a project's stored checkpoints of a model.
func readCheckpoints(ctx context.Context, c *sql.Conn, project, model string) ([]forecast.Checkpoint, error) {
	var out []forecast.Checkpoint
	l := loader{ctx: ctx, q: c}
	err := l.each(`SELECT `+checkpointColumns+` FROM forecast_backtest WHERE project = ? AND model = ?
		ORDER BY checkpoint`, func(r *sql.Rows) error {
		var cp forecast.Checkpoint
		var p50, p85, p95 sql.NullTime
		var h50, h85, h95 sql.NullBool
		var errDays sql.NullInt64
		if err := r.Scan(&cp.Milestone, &cp.Date, &cp.Remaining, &cp.Ahead, &cp.Share, &cp.Known, &p50, &p85, &p95,
			&cp.Actual, &h50, &h85, &h95, &errDays); err != nil {
			return err
		}
		cp.Date, cp.Actual = dateOf(cp.Date), dateOf(cp.Actual)
		for _, d := range []struct {
			from sql.NullTime
			to   *time.Time
		}{{p50, &cp.P50}, {p85, &cp.P85}, {p95, &cp.P95}} {
			if d.from.Valid {
				*d.to = dateOf(d.from.Time)
			}
		}
		cp.HitP50, cp.HitP85, cp.HitP95, cp.ErrorDays = h50.Bool, h85.Bool, h95.Bool, int(errDays.Int64)
		out = append(out, cp)
		return nil
	}, project, model)
	return out, err
}
