package warehouse

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// SyncRun is one row of sync_runs (GET /api/v1/sync-runs).
type SyncRun struct {
	RunID      int64      `json:"run_id"`
	SourceID   string     `json:"source_id"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	Status     string     `json:"status"`
	Items      *int64     `json:"items"`
	Batches    *int64     `json:"batches"`
	Problems   *int64     `json:"problems"`
	Error      *string    `json:"error"`
	Cursor     *string    `json:"cursor"`
}

// SyncRuns lists the latest limit runs, newest first. q is the warehouse or
// one of its read pools.
func SyncRuns(ctx context.Context, q Querier, limit int) ([]SyncRun, error) {
	rows, err := q.QueryContext(ctx, `SELECT run_id, source_id, started_at, finished_at, status, items, batches, problems, error, cursor
		FROM sync_runs ORDER BY run_id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list sync runs: %w", err)
	}
	defer rows.Close()
	runs := []SyncRun{}
	for rows.Next() {
		var s SyncRun
		var finished sql.NullTime
		if err := rows.Scan(&s.RunID, &s.SourceID, &s.StartedAt, &finished, &s.Status, &s.Items, &s.Batches, &s.Problems, &s.Error, &s.Cursor); err != nil {
			return nil, fmt.Errorf("list sync runs: %w", err)
		}
		s.StartedAt = s.StartedAt.UTC()
		if finished.Valid {
			t := finished.Time.UTC()
			s.FinishedAt = &t
		}
		runs = append(runs, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sync runs: %w", err)
	}
	return runs, nil
}
