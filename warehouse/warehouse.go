// Package warehouse owns the DuckDB file: opening it with the configured
// limits, applying the embedded migrations, and storing connector batches.
// It is one of the two packages that import the cgo driver.
package warehouse

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options configure Open.
type Options struct {
	Path        string // file path, or "" for an in-memory warehouse
	MemoryLimit string // e.g. 2GB; "" leaves DuckDB's default (80% of RAM)
	TimeZone    string // IANA zone for day and week boundaries; "" means UTC
	Threads     int    // 0 leaves DuckDB's default
	ReadOnly    bool
}

// StorageVersion is the oldest DuckDB whose storage format new warehouse
// files use (DuckDB's default is v0.10.2, for files older DuckDBs can read).
// From v1.2.0 on, DuckDB compresses long strings with zstd when it writes a
// checkpoint: the raw payloads of a Jira sync (8 KB of JSON per issue) take
// 24.5 MiB instead of 411.5 MiB for 50,000 issues, the final checkpoint
// 0.37–0.43 s instead of 1.5–1.9 s (docs/performance.md). The published
// snapshot is a copy of the file: tools that open it need DuckDB 1.2 or later.
const StorageVersion = "v1.2.0"

// DB is an open warehouse.
type DB struct {
	*sql.DB
	connector *duckdb.Connector
	opts      Options

	mu    sync.Mutex
	pools []*sql.DB // ReadPool pools, closed by Close
}

// ErrLocked reports that another process holds the warehouse file.
var ErrLocked = errors.New("warehouse is locked by another process")

// LockError explains a held lock.
type LockError struct {
	Path string
	PID  int // 0 when unknown
	Err  error
}

func (e *LockError) Error() string {
	who := "another process"
	if e.PID > 0 {
		who = "process " + strconv.Itoa(e.PID)
	}
	return fmt.Sprintf("warehouse %s is held by %s (probably `throughline serve`): DuckDB allows one writer and no readers beside it; "+
		"stop it first, or query through its SQL API (`throughline sql` does when server.listen in the config points at the server)", e.Path, who)
}

func (e *LockError) Unwrap() []error { return []error{ErrLocked, e.Err} }

var lockPID = regexp.MustCompile(`(?i)conflicting lock is held in .*\(PID (\d+)\)`)

// Open opens (creating if needed) and migrates the warehouse.
func Open(ctx context.Context, o Options) (*DB, error) {
	dsn := o.Path
	if o.ReadOnly {
		dsn += "?access_mode=READ_ONLY"
	} else {
		// New files (and files ATTACHed without a version) use StorageVersion;
		// an existing file keeps the format it was created with.
		dsn += "?storage_compatibility_version=" + StorageVersion
	}
	tz := o.TimeZone
	if tz == "" {
		tz = "UTC"
	}
	// The session zone governs casts of TIMESTAMPTZ to DATE. SET GLOBAL
	// below reaches every connection, open or opened later; a per-connection
	// SET would fail on new connections once Lockdown locks the configuration.
	c, err := duckdb.NewConnector(dsn, nil)
	if err != nil {
		return nil, classifyOpenError(o.Path, err)
	}
	db := &DB{DB: sql.OpenDB(c), connector: c, opts: o}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, classifyOpenError(o.Path, err)
	}
	settings := []string{
		"SET GLOBAL TimeZone = '" + strings.ReplaceAll(tz, "'", "") + "'",
		// Metric tables are rebuilt with INSERT … SELECT; letting DuckDB write
		// them in parallel matters more than their physical row order (queries
		// that care say ORDER BY).
		"SET GLOBAL preserve_insertion_order = false",
		// The raw payloads of a Jira sync fill the default 16 MB of WAL
		// every four batches, and each automatic checkpoint costs more than
		// the data it adds (likely the tables' partly filled last row
		// groups written again): the commits of a 20,000-issue sync took
		// 11.3–12.5 s with 16 MB, 8.8–9.1 s with 256 MB, final checkpoint
		// included (docs/performance.md).
		"SET GLOBAL checkpoint_threshold = '256MB'",
	}
	if o.MemoryLimit != "" {
		settings = append(settings, "SET GLOBAL memory_limit = '"+strings.ReplaceAll(o.MemoryLimit, "'", "")+"'")
	}
	if o.Threads > 0 {
		settings = append(settings, fmt.Sprintf("SET GLOBAL threads = %d", o.Threads))
	}
	for _, s := range settings {
		if _, err := db.ExecContext(ctx, s); err != nil {
			db.Close()
			return nil, fmt.Errorf("open warehouse %s: %s: %w", o.Path, s, err)
		}
	}
	if !o.ReadOnly {
		if err := db.migrate(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

func classifyOpenError(path string, err error) error {
	msg := err.Error()
	if m := lockPID.FindStringSubmatch(msg); m != nil {
		pid, _ := strconv.Atoi(m[1])
		return &LockError{Path: path, PID: pid, Err: err}
	}
	if strings.Contains(strings.ToLower(msg), "could not set lock") {
		return &LockError{Path: path, Err: err}
	}
	return fmt.Errorf("open warehouse %s: %w", path, err)
}

// Close closes the database and its connector.
func (db *DB) Close() error {
	db.mu.Lock()
	for _, p := range db.pools {
		p.Close()
	}
	db.pools = nil
	db.mu.Unlock()
	err := db.DB.Close()
	if cerr := db.connector.Close(); err == nil {
		err = cerr
	}
	return err
}

// Options returns the options the warehouse was opened with.
func (db *DB) Options() Options { return db.opts }

// Migration is one embedded schema step.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations lists the embedded migrations in order.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		v, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number", name)
		}
		b, err := migrations.ReadFile("migrations/" + name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		out = append(out, Migration{Version: v, Name: name, SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER NOT NULL, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	ms, err := Migrations()
	if err != nil {
		return err
	}
	var current int
	if err := db.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	for _, m := range ms {
		if m.Version <= current {
			continue
		}
		if err := db.apply(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) apply(ctx context.Context, m Migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: begin: %w", m.Name, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return fmt.Errorf("migration %s: %w", m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations VALUES (?, ?, ?)", m.Version, m.Name, time.Now().UTC()); err != nil {
		return fmt.Errorf("migration %s: record version: %w", m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %s: commit: %w", m.Name, err)
	}
	return nil
}

// SchemaVersion is the highest applied migration.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&v)
	return v, err
}

// withConn runs f on one pinned driver connection.
func (db *DB) withConn(ctx context.Context, f func(c *sql.Conn) error) error {
	c, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return f(c)
}

// appendRows bulk-loads rows into table (catalog temp when temp is true) on c.
func appendRows(c *sql.Conn, temp bool, table string, rows [][]driver.Value, columns ...string) error {
	if len(rows) == 0 {
		return nil
	}
	return c.Raw(func(dc any) error {
		catalog := ""
		if temp {
			catalog = "temp"
		}
		var a *duckdb.Appender
		var err error
		if len(columns) > 0 {
			// Only the columns given: the others keep their defaults (NULL)
			// without a value per row crossing into DuckDB.
			a, err = duckdb.NewAppenderWithColumns(dc.(driver.Conn), catalog, "main", table, columns)
		} else {
			a, err = duckdb.NewAppender(dc.(driver.Conn), catalog, "main", table)
		}
		if err != nil {
			return fmt.Errorf("appender %s: %w", table, err)
		}
		for i, r := range rows {
			if err := a.AppendRow(r...); err != nil {
				a.Close()
				return fmt.Errorf("append row %d to %s: %w", i, table, err)
			}
		}
		if err := a.Close(); err != nil {
			return fmt.Errorf("flush %s: %w", table, err)
		}
		return nil
	})
}
