package warehouse

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/throughline/throughline/ingest"
)

// Health is what `throughline check` reports besides data_quality: how the
// last sync of each source and the last compute ended, and the input
// problems by what was done about them.
type Health struct {
	Syncs   []SyncHealth
	Compute *JobRun // the last compute; nil when none was recorded
	// Problems counts input problems by action (ingest.ProblemRejected,
	// ProblemRepaired, ProblemNote).
	Problems map[string]int
	// Examples holds the first problems of each action (by source, file, line).
	Examples map[string][]SourceProblem
}

// SyncHealth is the last sync run of a source.
type SyncHealth struct {
	Source, Status, Error string
	StartedAt             time.Time
}

// JobRun is one recorded compute run.
type JobRun struct {
	Status, Error       string
	StartedAt, Finished time.Time
}

// SourceProblem is an input problem of a source.
type SourceProblem struct {
	Source string
	ingest.Problem
}

// Failed lists what makes the warehouse unfit to trust as it is: a source
// whose last sync did not end ok, a last compute that failed.
func (h Health) Failed() []string {
	var out []string
	for _, s := range h.Syncs {
		if s.Status != "ok" && s.Status != "running" {
			out = append(out, fmt.Sprintf("the last sync of %s %s: %s", s.Source, s.Status, s.Error))
		}
	}
	if h.Compute != nil && h.Compute.Status != "ok" {
		out = append(out, "the last compute failed: "+h.Compute.Error)
	}
	return out
}

// Health reads the last runs and the input problems, with up to examples
// problems of each action.
func (db *DB) Health(ctx context.Context, examples int) (Health, error) {
	h := Health{Problems: map[string]int{}, Examples: map[string][]SourceProblem{}}
	rows, err := db.QueryContext(ctx, `SELECT source_id, status, coalesce(error, ''), started_at FROM (
		SELECT *, row_number() OVER (PARTITION BY source_id ORDER BY run_id DESC) AS rn FROM sync_runs) WHERE rn = 1 ORDER BY source_id`)
	if err != nil {
		return h, fmt.Errorf("read sync runs: %w", err)
	}
	for rows.Next() {
		var s SyncHealth
		if err := rows.Scan(&s.Source, &s.Status, &s.Error, &s.StartedAt); err != nil {
			rows.Close()
			return h, fmt.Errorf("read sync runs: %w", err)
		}
		h.Syncs = append(h.Syncs, s)
	}
	rows.Close()
	var j JobRun
	var fin sql.NullTime
	err = db.QueryRowContext(ctx, `SELECT status, coalesce(error, ''), started_at, finished_at FROM job_runs
		WHERE job = 'compute' ORDER BY started_at DESC LIMIT 1`).Scan(&j.Status, &j.Error, &j.StartedAt, &fin)
	switch {
	case err == nil:
		j.Finished = fin.Time
		h.Compute = &j
	case err != sql.ErrNoRows:
		return h, fmt.Errorf("read job runs: %w", err)
	}
	rows, err = db.QueryContext(ctx, `SELECT action, count(*) FROM (SELECT coalesce(action, 'repaired') AS action FROM ingest_problems) GROUP BY ALL`)
	if err != nil {
		return h, fmt.Errorf("read ingest_problems: %w", err)
	}
	for rows.Next() {
		var a string
		var n int
		if err := rows.Scan(&a, &n); err != nil {
			rows.Close()
			return h, fmt.Errorf("read ingest_problems: %w", err)
		}
		h.Problems[a] = n
	}
	rows.Close()
	rows, err = db.QueryContext(ctx, `SELECT source_id, coalesce(file, ''), coalesce(line, 0), coalesce(column_name, ''), coalesce(item_key, ''), reason, action FROM (
		SELECT *, coalesce(action, 'repaired') AS a,
			row_number() OVER (PARTITION BY coalesce(action, 'repaired') ORDER BY source_id, file, line) AS rn FROM ingest_problems)
		WHERE rn <= ? ORDER BY a, source_id, file, line`, examples)
	if err != nil {
		return h, fmt.Errorf("read ingest_problems: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p SourceProblem
		var action sql.NullString
		if err := rows.Scan(&p.Source, &p.File, &p.Line, &p.Column, &p.Key, &p.Reason, &action); err != nil {
			return h, fmt.Errorf("read ingest_problems: %w", err)
		}
		p.Action = action.String
		if p.Action == "" {
			p.Action = ingest.ProblemRepaired
		}
		h.Examples[p.Action] = append(h.Examples[p.Action], p)
	}
	return h, rows.Err()
}
