package metrics

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"
)

// StateStore is the warehouse as the collector's saved state needs it;
// *sql.DB satisfies it.
type StateStore interface {
	Querier
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// Names of exporter_state.metric.
const (
	stateSyncLastSuccess = "sync_last_success"
	stateSyncDuration    = "sync_duration"
	stateSyncUp          = "sync_up"
	stateSyncErrors      = "sync_errors"
	stateSyncRequests    = "sync_requests"
	stateSyncRetryAfter  = "sync_retry_after_exceeded"
	stateTaskLastSuccess = "task_last_success"
	stateTaskDuration    = "task_duration"
	stateTaskSuccess     = "task_success"
	stateComputedAt      = "snapshot_computed_at"
	stateServingSince    = "serving_since"
)

// Times go through exporter_state as float seconds: whole microseconds
// survive that exactly (a float64 holds today's Unix time to 0.24 µs), so
// observed times are kept to the microsecond.
func stateTime(t time.Time) time.Time { return t.Truncate(time.Microsecond) }

func fromSeconds(v float64) time.Time {
	return time.UnixMicro(int64(math.Round(v * 1e6)))
}

type stateRow struct {
	metric, name, detail string
	value                float64
}

// SaveState writes the pipeline health (syncs, tasks, request and error
// counters), the time of the snapshot's compute and when serving began to
// exporter_state, replacing what was there. Resume reads it back.
func (c *Collector) SaveState(ctx context.Context, db StateStore) error {
	c.mu.RLock()
	var rows []stateRow
	add := func(metric, name, detail string, v float64) {
		rows = append(rows, stateRow{metric, name, detail, v})
	}
	for source, h := range c.syncs {
		if !h.LastSuccess.IsZero() {
			add(stateSyncLastSuccess, source, "", seconds(h.LastSuccess))
		}
		add(stateSyncDuration, source, "", h.Duration.Seconds())
		add(stateSyncUp, source, "", boolValue(h.Up))
		for reason, n := range h.Errors {
			add(stateSyncErrors, source, reason, n)
		}
		add(stateSyncRetryAfter, source, "", h.RetryAfterExceeded)
	}
	for k, n := range c.requests {
		add(stateSyncRequests, k[0], k[1], n)
	}
	for task, h := range c.jobs {
		if !h.LastSuccess.IsZero() {
			add(stateTaskLastSuccess, task, "", seconds(h.LastSuccess))
		}
		add(stateTaskDuration, task, "", h.Duration.Seconds())
		add(stateTaskSuccess, task, "", boolValue(h.Success))
	}
	if c.snap != nil {
		add(stateComputedAt, "", "", seconds(stateTime(c.snap.ComputedAt)))
	}
	if !c.servingSince.IsZero() {
		add(stateServingSince, "", "", seconds(c.servingSince))
	}
	c.mu.RUnlock()

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save exporter state: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "DELETE FROM exporter_state"); err != nil {
		return fmt.Errorf("save exporter state: %w", err)
	}
	if len(rows) > 0 {
		var args []any
		for _, r := range rows {
			args = append(args, r.metric, r.name, r.detail, r.value)
		}
		q := "INSERT INTO exporter_state VALUES " + strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?), ", len(rows)), ", ")
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("save exporter state: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save exporter state: %w", err)
	}
	return nil
}

// Resume prepares a collector of a starting server: unless it already
// holds a snapshot, it loads what SaveState saved and the snapshot of the
// last compute, so /metrics after a restart is /metrics before it, before any
// sync or compute. Sources synced by a version that did not save state get
// their health from sync_runs. The first Resume of a warehouse records now
// as the time serving began (backfill stops there by default).
func (c *Collector) Resume(ctx context.Context, db StateStore, now time.Time) error {
	rows, err := readState(ctx, db)
	if err != nil {
		return err
	}
	c.mu.Lock()
	fresh := c.snap == nil && len(c.syncs) == 0 && len(c.jobs) == 0
	var computedAt time.Time
	for _, r := range rows {
		switch r.metric {
		case stateServingSince:
			c.servingSince = fromSeconds(r.value)
		case stateComputedAt:
			computedAt = fromSeconds(r.value)
		}
		if fresh {
			c.restore(r)
		}
	}
	record := c.servingSince.IsZero()
	if record {
		c.servingSince = stateTime(now)
	}
	c.mu.Unlock()
	if fresh {
		if err := c.resumeSyncRuns(ctx, db); err != nil {
			return err
		}
		if err := c.resumeSnapshot(ctx, db, computedAt, now); err != nil {
			return err
		}
	}
	if record {
		return c.SaveState(ctx, db)
	}
	return nil
}

// restore applies one saved row. c.mu is held.
func (c *Collector) restore(r stateRow) {
	task := func() *JobHealth {
		h := c.jobs[r.name]
		if h == nil {
			h = &JobHealth{}
			c.jobs[r.name] = h
		}
		return h
	}
	switch r.metric {
	case stateSyncLastSuccess:
		c.syncHealth(r.name).LastSuccess = fromSeconds(r.value)
	case stateSyncDuration:
		c.syncHealth(r.name).Duration = time.Duration(math.Round(r.value * 1e9))
	case stateSyncUp:
		c.syncHealth(r.name).Up = r.value == 1
	case stateSyncErrors:
		c.syncHealth(r.name).Errors[r.detail] = r.value
	case stateSyncRetryAfter:
		c.syncHealth(r.name).RetryAfterExceeded = r.value
	case stateSyncRequests:
		c.requests[[2]string{r.name, r.detail}] = r.value
	case stateTaskLastSuccess:
		task().LastSuccess = fromSeconds(r.value)
	case stateTaskDuration:
		task().Duration = time.Duration(math.Round(r.value * 1e9))
	case stateTaskSuccess:
		task().Success = r.value == 1
	}
}

func readState(ctx context.Context, db Querier) ([]stateRow, error) {
	q, err := db.QueryContext(ctx, `SELECT metric, name, detail, value FROM exporter_state ORDER BY ALL`)
	if err != nil {
		return nil, fmt.Errorf("read exporter state: %w", err)
	}
	defer q.Close()
	var rows []stateRow
	for q.Next() {
		var r stateRow
		if err := q.Scan(&r.metric, &r.name, &r.detail, &r.value); err != nil {
			return nil, fmt.Errorf("read exporter state: %w", err)
		}
		rows = append(rows, r)
	}
	if err := q.Err(); err != nil {
		return nil, fmt.Errorf("read exporter state: %w", err)
	}
	return rows, nil
}

// resumeSyncRuns fills in sources without saved state from sync_runs: the
// last successful run, and the last finished run's outcome and duration.
func (c *Collector) resumeSyncRuns(ctx context.Context, db Querier) error {
	q, err := db.QueryContext(ctx, `SELECT source_id,
			max(finished_at) FILTER (WHERE status = 'ok'),
			arg_max(status, run_id) FILTER (WHERE finished_at IS NOT NULL),
			arg_max(epoch(finished_at) - epoch(started_at), run_id) FILTER (WHERE finished_at IS NOT NULL)
		FROM sync_runs GROUP BY source_id ORDER BY source_id`)
	if err != nil {
		return fmt.Errorf("read sync runs: %w", err)
	}
	defer q.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	for q.Next() {
		var source string
		var last sql.NullTime
		var status sql.NullString
		var d sql.NullFloat64
		if err := q.Scan(&source, &last, &status, &d); err != nil {
			return fmt.Errorf("read sync runs: %w", err)
		}
		if _, saved := c.syncs[source]; saved || !status.Valid {
			continue
		}
		h := c.syncHealth(source)
		h.LastSuccess = stateTime(last.Time)
		h.Up = status.String == "ok"
		h.Duration = time.Duration(d.Float64 * float64(time.Second))
	}
	return q.Err()
}

// resumeSnapshot loads the last compute's snapshot: at its saved time, or,
// for a warehouse computed by a version that did not save it, at now.
func (c *Collector) resumeSnapshot(ctx context.Context, db Querier, computedAt, now time.Time) error {
	if computedAt.IsZero() {
		var n int64
		if err := scanOne(ctx, db, `SELECT count(*) FROM item_flow`, &n); err != nil || n == 0 {
			return err
		}
		computedAt = now
	}
	snap, err := LoadSnapshot(ctx, db, computedAt)
	if err != nil {
		return err
	}
	c.SetSnapshot(snap)
	return nil
}

func scanOne(ctx context.Context, db Querier, query string, dest ...any) error {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("%s: %w", query, err)
	}
	defer rows.Close()
	if rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("%s: %w", query, err)
		}
	}
	return rows.Err()
}

// ServingSince reads when serve first exposed the warehouse (zero: never).
func ServingSince(ctx context.Context, db Querier) (time.Time, error) {
	var v sql.NullFloat64
	if err := scanOne(ctx, db, `SELECT max(value) FROM exporter_state WHERE metric = '`+stateServingSince+`'`, &v); err != nil {
		return time.Time{}, err
	}
	if !v.Valid {
		return time.Time{}, nil
	}
	return fromSeconds(v.Float64), nil
}
