package warehouse

import (
	"context"
	"database/sql"
	"fmt"
)

// changed records, in compute_dirty, the items whose stored rows a batch
// changes (its item row, status history or worklogs), in the batch's
// transaction: the next compute recomputes those items only (see
// metrics.Compute). Rows items take attributes from (projects, people,
// epics) are compared by the compute itself. Before the first compute
// nothing is recorded: that compute recomputes every item anyway.
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
