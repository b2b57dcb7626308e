package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/throughline/throughline/warehouse"
)

// manifestName is the file export writes last, describing the tables.
const manifestName = "_manifest.json"

// monthColumn names, per large table, the timestamp or date its month
// partition (month=YYYY-MM, in the configured time zone) is taken from.
var monthColumn = map[string]string{
	"status_changes":   "changed_at",
	"worklogs":         "started_at",
	"throughput_daily": "day",
	"wip_daily":        "day",
	"cumulative_flow":  "day",
}

// exportManifest is DIR/_manifest.json.
type exportManifest struct {
	Format        string          `json:"format"`
	ExportedAt    time.Time       `json:"exported_at"`
	SchemaVersion int             `json:"schema_version"`
	Warehouse     string          `json:"warehouse"`
	Incomplete    bool            `json:"incomplete,omitempty"` // set while the export runs
	Tables        []exportedTable `json:"tables"`
}

type exportedTable struct {
	Name        string         `json:"name"`
	Path        string         `json:"path"` // relative to DIR: a directory, or the one file
	Rows        int64          `json:"rows"`
	PartitionBy []string       `json:"partition_by,omitempty"`
	Columns     []exportColumn `json:"columns"`
}

type exportColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

func runExport(ctx context.Context, g *globals, args []string) error {
	fs := g.flags("export")
	cfgPath := fs.String("config", "throughline.yaml", "config file")
	dir := fs.String("dir", "", "directory to write (required); a previous export there is replaced")
	format := fs.String("format", "parquet", "file format: parquet or csv")
	raw := fs.Bool("raw", false, "also export raw_payloads (the vendor records; large)")
	if err := g.parse(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return usagef("--dir DIR is required, e.g. throughline export --dir lake")
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *format != "parquet" && *format != "csv" {
		return usagef("--format %q: want parquet or csv", *format)
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if _, err := os.Stat(cfg.Warehouse.Path); err != nil {
		return fmt.Errorf("warehouse %s does not exist yet: run `throughline sync` and `throughline compute` first", cfg.Warehouse.Path)
	}
	if err := prepareExportDir(*dir); err != nil {
		return err
	}
	// The server locks its database down (no file access from SQL), so the
	// export cannot run inside it: open the file read-only here instead.
	db, err := openWarehouse(ctx, cfg, true)
	if err != nil {
		var le *warehouse.LockError
		if errors.As(err, &le) {
			return fmt.Errorf("%w; export reads the file itself, so stop the server for the export (or export a copy of the file)", err)
		}
		return err
	}
	defer db.Close()

	start := time.Now()
	m, err := exportTables(ctx, g, db, *dir, *format, *raw)
	if err != nil {
		return err
	}
	m.Warehouse = cfg.Warehouse.Path
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*dir, manifestName), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	var rows int64
	for _, t := range m.Tables {
		rows += t.Rows
	}
	fmt.Fprintf(g.stdout, "exported %d tables, %d rows as %s to %s in %.1fs (schema version %d)\n",
		len(m.Tables), rows, *format, *dir, time.Since(start).Seconds(), m.SchemaVersion)
	for _, t := range m.Tables {
		part := ""
		if len(t.PartitionBy) > 0 {
			part = "  by " + strings.Join(t.PartitionBy, ", ")
		}
		fmt.Fprintf(g.stdout, "  %-24s %9d rows%s\n", t.Name, t.Rows, part)
	}
	fmt.Fprintf(g.stdout, "read back: SELECT * FROM read_%s('%s/item_flow/**/*.%s', hive_partitioning=true)\n", *format, *dir, *format)
	return nil
}

// prepareExportDir creates dir, or clears the tables of an earlier export in
// it so no stale partition survives. It refuses a non-empty directory that
// holds no manifest: that is not an export this command may overwrite.
func prepareExportDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create --dir: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("read --dir: %w", err)
	}
	if len(entries) == 0 {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if errors.Is(err, os.ErrNotExist) {
		return usagef("--dir %s is not empty and holds no %s from an earlier export; pick an empty or new directory", dir, manifestName)
	}
	if err != nil {
		return fmt.Errorf("read earlier manifest: %w", err)
	}
	var old exportManifest
	if err := json.Unmarshal(b, &old); err != nil {
		return fmt.Errorf("read earlier manifest %s: %w", filepath.Join(dir, manifestName), err)
	}
	for _, t := range old.Tables {
		// Only the table's own folder, never a path the manifest points elsewhere.
		if t.Name == "" || strings.ContainsAny(t.Name, `/\.`) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, t.Name)); err != nil {
			return fmt.Errorf("remove earlier export of %s: %w", t.Name, err)
		}
	}
	return os.Remove(filepath.Join(dir, manifestName))
}

func exportTables(ctx context.Context, g *globals, db *warehouse.DB, dir, format string, raw bool) (*exportManifest, error) {
	version, err := db.SchemaVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("read schema version: %w", err)
	}
	m := &exportManifest{Format: format, ExportedAt: time.Now().UTC(), SchemaVersion: version}
	rows, err := db.QueryContext(ctx, `SELECT t.table_name, c.column_name, c.data_type
		FROM information_schema.tables t
		JOIN information_schema.columns c USING (table_catalog, table_schema, table_name)
		WHERE t.table_catalog = current_database() AND t.table_schema = 'main' AND t.table_type = 'BASE TABLE'
		ORDER BY t.table_name, c.ordinal_position`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	var tables []*exportedTable
	for rows.Next() {
		var table string
		var col exportColumn
		if err := rows.Scan(&table, &col.Name, &col.Type); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list tables: %w", err)
		}
		if table == "schema_migrations" || (table == "raw_payloads" && !raw) {
			continue
		}
		if len(tables) == 0 || tables[len(tables)-1].Name != table {
			tables = append(tables, &exportedTable{Name: table})
		}
		t := tables[len(tables)-1]
		t.Columns = append(t.Columns, col)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	// A provisional manifest first: a run that fails midway leaves a
	// directory the next export recognises and clears.
	pending := &exportManifest{Format: format, ExportedAt: m.ExportedAt, SchemaVersion: version, Incomplete: true}
	for _, t := range tables {
		pending.Tables = append(pending.Tables, exportedTable{Name: t.Name, Path: t.Name})
	}
	if b, err := json.Marshal(pending); err != nil {
		return nil, err
	} else if err := os.WriteFile(filepath.Join(dir, manifestName), b, 0o644); err != nil {
		return nil, fmt.Errorf("write manifest: %w", err)
	}
	// On a terminal: tables done, rows/s and an ETA; log lines either way.
	bar := newProgress(isTerminal(os.Stderr), "export")
	var exported int64
	for i, t := range tables {
		if err := exportTable(ctx, g, db, abs, format, t); err != nil {
			bar.done()
			return nil, err
		}
		exported += t.Rows
		bar.step(i+1, len(tables), "tables", exported)
		m.Tables = append(m.Tables, *t)
	}
	bar.done()
	return m, nil
}

// exportTable writes one table with COPY: partitioned by its source column
// (and month for the large tables) into DIR/<table>/, else into
// DIR/<table>/data.<format>.
func exportTable(ctx context.Context, g *globals, db *warehouse.DB, dir, format string, t *exportedTable) error {
	start := time.Now()
	has := map[string]bool{}
	for _, c := range t.Columns {
		has[c.Name] = true
	}
	sel := "SELECT *"
	for _, c := range []string{"source_id", "source"} {
		if has[c] {
			t.PartitionBy = append(t.PartitionBy, c)
			break
		}
	}
	if col, ok := monthColumn[t.Name]; ok && has[col] && !has["month"] {
		sel += fmt.Sprintf(", strftime(%s, '%%Y-%%m') AS month", quoteIdent(col))
		t.PartitionBy = append(t.PartitionBy, "month")
	}
	from := " FROM " + quoteIdent(t.Name)
	if err := db.QueryRowContext(ctx, "SELECT count(*)"+from).Scan(&t.Rows); err != nil {
		return fmt.Errorf("export %s: count: %w", t.Name, err)
	}
	target := filepath.Join(dir, t.Name)
	if err := os.MkdirAll(target, 0o755); err != nil {
		return fmt.Errorf("export %s: %w", t.Name, err)
	}
	opts := "FORMAT " + format
	if format == "csv" {
		opts += ", HEADER true"
	}
	t.Path = t.Name
	if len(t.PartitionBy) > 0 {
		quoted := make([]string, len(t.PartitionBy))
		for i, p := range t.PartitionBy {
			quoted[i] = quoteIdent(p)
		}
		opts += ", PARTITION_BY (" + strings.Join(quoted, ", ") + "), OVERWRITE_OR_IGNORE"
	} else {
		target = filepath.Join(target, "data."+format)
		t.Path = t.Name + "/data." + format
	}
	// An empty table partitions into no files; readers then find none.
	if t.Rows > 0 || len(t.PartitionBy) == 0 {
		q := fmt.Sprintf("COPY (%s%s) TO %s (%s)", sel, from, quoteString(target), opts)
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("export %s: %w", t.Name, err)
		}
	}
	g.logger.Info("exported table", "table", t.Name, "rows", t.Rows,
		"seconds", fmt.Sprintf("%.2f", time.Since(start).Seconds()))
	return nil
}

func quoteIdent(s string) string  { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
