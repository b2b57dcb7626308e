package warehouse

import (
	"context"
	"fmt"
	"time"
)

// RecordJobRun stores one run of a job (compute) in job_runs: ok, or failed
// with its error. It records a canceled run too (as failed), so it does not
// use ctx's cancellation.
func (db *DB) RecordJobRun(ctx context.Context, job string, started, finished time.Time, runErr error) error {
	status, msg := "ok", any(nil)
	if runErr != nil {
		status, msg = "failed", runErr.Error()
	}
	_, err := db.ExecContext(context.WithoutCancel(ctx), `INSERT INTO job_runs (job, started_at, finished_at, status, error) VALUES (?, ?, ?, ?, ?)`,
		job, started.UTC(), finished.UTC(), status, msg)
	if err != nil {
		return fmt.Errorf("record %s run: %w", job, err)
	}
	return nil
}
