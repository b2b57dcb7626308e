package warehouse

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
)

// ReadPool returns a second connection pool over the same database, for
// reads beside the writer (serve's GET /api/v1/sync-runs): its connections
// never queue behind the writer's pool, and the writer never waits for them.
// Close closes it (closing it earlier is fine and leaves the warehouse open).
func (db *DB) ReadPool(maxConns int) *sql.DB {
	// sql.DB.Close closes a connector that is an io.Closer; this one must
	// outlive the pool, so hide its Close.
	p := sql.OpenDB(noCloseConnector{db.connector})
	p.SetMaxOpenConns(maxConns)
	p.SetMaxIdleConns(maxConns)
	db.mu.Lock()
	db.pools = append(db.pools, p)
	db.mu.Unlock()
	return p
}

type noCloseConnector struct{ driver.Connector }

// Lockdown turns off file and network access from SQL (read_csv, COPY,
// ATTACH, INSTALL, LOAD, …) and locks the configuration (SET, RESET and
// PRAGMA settings fail), for every connection of this database, until the
// process exits: DuckDB cannot turn either back on. The database file, its
// WAL and the temporary directory stay usable, so the Appender, compute and
// checkpoints keep working. Calling it again is a no-op.
func (db *DB) Lockdown(ctx context.Context) error {
	var locked bool
	if err := db.QueryRowContext(ctx, "SELECT current_setting('lock_configuration')").Scan(&locked); err != nil {
		return fmt.Errorf("lock down warehouse %s: %w", db.opts.Path, err)
	}
	if locked {
		return nil
	}
	for _, s := range []string{
		"SET GLOBAL enable_external_access = false",
		"SET GLOBAL lock_configuration = true", // last: it forbids further SETs
	} {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("lock down warehouse %s: %s: %w", db.opts.Path, s, err)
		}
	}
	return nil
}
