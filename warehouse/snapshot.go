package warehouse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// SnapshotPath is where the snapshot of the warehouse at path is published:
// next to it, <name>.snapshot.duckdb. DuckDB names a file's catalog after
// the part of its name before the first dot, so queries that name the
// warehouse's catalog (w.main.teams for w.duckdb) read the snapshot too.
func SnapshotPath(warehousePath string) string {
	return strings.TrimSuffix(warehousePath, ".duckdb") + ".snapshot.duckdb"
}

// Published describes one publication.
type Published struct {
	Path     string
	Tables   int
	Bytes    int64
	Duration time.Duration
}

// PublishSnapshot copies the warehouse (every table with its rows, view,
// sequence and comment) into a new DuckDB file and moves it to path in one
// rename: a reader that opens path gets the old snapshot or the new one,
// never a mix. The file is made read-only (0444) so that tools open it
// read-only; processes that still have the old file open keep reading it
// until they close it, and the system frees its space then.
//
// A warehouse file is checkpointed and copied byte for byte (copy_file_range:
// a reflink where the file system has them): the caller must keep every
// write off the warehouse until it returns (serve holds its writer lock);
// reads may go on. An in-memory warehouse is copied table by table
// (ATTACH, COPY FROM DATABASE), which needs file access (not Lockdown).
func (db *DB) PublishSnapshot(ctx context.Context, path string) (Published, error) {
	start := time.Now()
	p := Published{Path: path}
	fail := func(err error) (Published, error) {
		return p, fmt.Errorf("publish snapshot %s: %w", path, err)
	}
	tmp := path + ".tmp"
	for _, f := range []string{tmp, tmp + ".wal"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fail(err)
		}
	}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()").Scan(&p.Tables); err != nil {
		return fail(err)
	}
	copyTo := db.copyFile
	if db.opts.Path == "" {
		copyTo = db.copyTables
	}
	if err := copyTo(ctx, tmp); err != nil {
		os.Remove(tmp)
		os.Remove(tmp + ".wal")
		return fail(err)
	}
	if err := os.Chmod(tmp, 0o444); err != nil {
		return fail(err)
	}
	if err := syncFile(tmp); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fail(err)
	}
	if err := syncFile(filepath.Dir(path)); err != nil {
		return fail(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return fail(err)
	}
	p.Bytes = st.Size()
	p.Duration = time.Since(start)
	return p, nil
}

// copyFile checkpoints the warehouse (its WAL folds into the file) and
// copies the file to tmp.
func (db *DB) copyFile(ctx context.Context, tmp string) error {
	if _, err := db.ExecContext(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if st, err := os.Stat(db.opts.Path + ".wal"); err == nil && st.Size() > 0 {
		return fmt.Errorf("the warehouse's WAL holds %d bytes after a checkpoint: a write is running", st.Size())
	}
	src, err := os.Open(db.opts.Path)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return fmt.Errorf("copy %s: %w", db.opts.Path, err)
	}
	return dst.Close()
}

// copyTables copies every table, view, sequence and comment into a new
// database file at tmp.
func (db *DB) copyTables(ctx context.Context, tmp string) error {
	c, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	var name string
	if err := c.QueryRowContext(ctx, "SELECT current_database()").Scan(&name); err != nil {
		return err
	}
	if _, err := c.ExecContext(ctx, "ATTACH "+quote(tmp)+" AS throughline_publish"); err != nil {
		return err
	}
	if _, err := c.ExecContext(ctx, "COPY FROM DATABASE "+quoteIdent(name)+" TO throughline_publish"); err != nil {
		c.ExecContext(context.WithoutCancel(ctx), "DETACH throughline_publish")
		return err
	}
	// DETACH checkpoints: the file is complete, without a WAL.
	_, err = c.ExecContext(ctx, "DETACH throughline_publish")
	return err
}

// syncFile flushes a file or folder to disk.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// OpenSnapshot opens a published snapshot for untrusted queries: read-only,
// with no spilling to disk (a query that needs more than memoryLimit fails)
// and locked down (Lockdown). path may be relative to the working folder,
// which is then all the queries can learn of where it lives.
func OpenSnapshot(ctx context.Context, path string, o Options) (*DB, error) {
	o.Path, o.ReadOnly = path, true
	db, err := Open(ctx, o)
	if err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, "SET GLOBAL temp_directory = ''"); err != nil {
		db.Close()
		return nil, fmt.Errorf("open snapshot %s: no spilling: %w", path, err)
	}
	if err := db.Lockdown(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// SettingsFingerprint is a digest of every setting of the database (the
// logging and profiling switches included). Functions such as
// enable_logging() change settings although the configuration is locked:
// a worker compares the fingerprint after each query with the one it
// started with and retires when they differ.
func SettingsFingerprint(ctx context.Context, q Querier) (string, error) {
	var s string
	err := q.QueryRowContext(ctx, `SELECT md5(string_agg(name || '=' || coalesce(value, '∅'), ';' ORDER BY name)) FROM duckdb_settings()`).Scan(&s)
	if err != nil {
		return "", fmt.Errorf("read settings: %w", err)
	}
	return s, nil
}
