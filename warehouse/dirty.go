package warehouse

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// changed records, in compute_dirty, the items whose stored rows a batch
// changes (its item row, status history or worklogs), in the batch's
// transaction, and saves the histories and worklogs it replaces as the last
// compute read them (oldHistories, oldWorklogs): the next compute
// recomputes those items only, taking their old contribution out of its
// sums (see metrics.Compute). Rows items take attributes from (projects,
// people, epics) are compared by the compute itself. Before the first
// compute nothing is recorded: that compute recomputes every item anyway.
type changed struct{ on bool }

func newChanged(ctx context.Context, c *sql.Conn) (changed, error) {
	var on bool
	if err := c.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM main.compute_state)").Scan(&on); err != nil {
		return changed{}, fmt.Errorf("read compute state: %w", err)
	}
	return changed{on: on}, nil
}

// items records the item ids query selects (one column).
func (ch changed) items(ctx context.Context, c *sql.Conn, query string, args ...any) error {
	if !ch.on {
		return nil
	}
	if _, err := c.ExecContext(ctx, "INSERT INTO main.compute_dirty "+query, args...); err != nil {
		return fmt.Errorf("record changed items: %w", err)
	}
	return nil
}

// all records that the next compute recomputes every item (a NULL item id).
func (ch changed) all(ctx context.Context, c *sql.Conn) error {
	if !ch.on {
		return nil
	}
	if _, err := c.ExecContext(ctx, "INSERT INTO main.compute_dirty VALUES (NULL)"); err != nil {
		return fmt.Errorf("record changed items: %w", err)
	}
	return nil
}

// MarkChanged tells the next compute that rows were written outside the
// store (by hand, with SQL): it recomputes every item.
func (db *DB) MarkChanged(ctx context.Context) error {
	if _, err := db.ExecContext(ctx, "INSERT INTO main.compute_dirty VALUES (NULL)"); err != nil {
		return fmt.Errorf("mark the warehouse changed: %w", err)
	}
	return nil
}

// onSQL is a SQL condition that holds when ch records changes, for
// statements that record them among others.
func onSQL(ch changed) string {
	if ch.on {
		return "true"
	}
	return "false"
}

// oldHistories saves, for the items query selects (one column, item_id),
// their status history as the last compute read it (compute_old_changes),
// unless a batch since that compute saved it already: the next compute
// takes it out of its sums before it puts the new one in. Call it before
// the histories change.
func (ch changed) oldHistories(ctx context.Context, c *sql.Conn, query string, args ...any) error {
	if !ch.on {
		return nil
	}
	for _, st := range []string{
		`CREATE OR REPLACE TEMP TABLE old_history_items AS SELECT DISTINCT item_id FROM (` + query + `) q
			WHERE item_id IS NOT NULL AND item_id NOT IN (SELECT item_id FROM main.compute_old_histories)`,
		// The source read from those items' rows only: joined with every
		// item, the 7,500 histories of a 1M-item refresh took 0.62 s to
		// read instead of 0.36 s.
		`INSERT INTO main.compute_old_changes
			SELECT s.item_id, w.source_id, s.seq, s.changed_at, s.from_status, s.to_status, s.from_category, s.to_category, s.approximated_from
			FROM main.status_changes s
			JOIN (SELECT item_id, source_id FROM main.work_items WHERE item_id IN (SELECT item_id FROM temp.main.old_history_items)) w ON w.item_id = s.item_id
			WHERE s.item_id IN (SELECT item_id FROM temp.main.old_history_items)`,
		`INSERT INTO main.compute_old_histories SELECT item_id FROM temp.main.old_history_items`,
	} {
		var a []any
		if strings.Contains(st, "?") {
			a = args
		}
		if _, err := c.ExecContext(ctx, st, a...); err != nil {
			return fmt.Errorf("save the histories a batch replaces: %w", err)
		}
	}
	return nil
}

// oldWorklogs saves the worklogs query selects (one column, worklog_id) as
// the last compute read them (compute_old_worklogs; none: they did not
// exist), unless a batch since saved them already. Call it before they
// change.
func (ch changed) oldWorklogs(ctx context.Context, c *sql.Conn, query string, args ...any) error {
	if !ch.on {
		return nil
	}
	if _, err := c.ExecContext(ctx, `INSERT INTO main.compute_old_worklogs
		SELECT k.worklog_id, w.item_id, w.person_id, w.started_at, w.seconds
		FROM (SELECT DISTINCT worklog_id FROM (`+query+`) q WHERE worklog_id IS NOT NULL) k
		LEFT JOIN main.worklogs w ON w.worklog_id = k.worklog_id
		WHERE k.worklog_id NOT IN (SELECT worklog_id FROM main.compute_old_worklogs)`, args...); err != nil {
		return fmt.Errorf("save the worklogs a batch changes: %w", err)
	}
	return nil
}
