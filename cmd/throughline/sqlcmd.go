package main

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/internal/sqlresult"
)

func runSQL(ctx context.Context, g *globals, args []string) error {
	fs := g.flags("sql")
	cfgPath := fs.String("config", "throughline.yaml", "config file")
	format := fs.String("format", "table", "output: table, csv, json, arrow (an Arrow IPC stream) or parquet")
	out := fs.String("out", "", "write to this file instead of standard output (required for arrow and parquet)")
	if err := g.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef(`want exactly one query argument, e.g. throughline sql "SELECT * FROM cycle_time_stats"`)
	}
	switch *format {
	case "table", "csv", "json":
	case "arrow", "parquet":
		if *out == "" {
			return usagef("--format %s writes binary: name the file with --out FILE", *format)
		}
	default:
		return usagef("--format %q: want table, csv, json, arrow or parquet", *format)
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	// A running server owns the file: ask its SQL API; else open the file.
	res, err := queryServer(ctx, cfg, fs.Arg(0))
	if errors.Is(err, errNoServer) {
		g.logger.Debug("no server at server.listen; reading the warehouse file", "listen", cfg.Server.Listen)
		res, err = queryFile(ctx, cfg, fs.Arg(0))
	}
	if err != nil {
		return err
	}
	w := g.stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return fmt.Errorf("open --out: %w", err)
		}
		defer f.Close()
		w = f
	}
	if res.Truncated {
		fmt.Fprintf(g.stderr, "throughline sql: result truncated to %d rows (the SQL row limit or server.sql_max_bytes); filter or aggregate in the query\n", res.RowCount)
	}
	return sqlresult.Write(w, res, cliFormat(*format))
}

// cliFormat is the encoder of a --format value.
func cliFormat(f string) sqlresult.Format {
	if f == "json" {
		return sqlresult.JSONLines
	}
	return sqlresult.Format(f)
}

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0 {
			return x.Format("2006-01-02")
		}
		return x.Format(time.RFC3339)
	case []byte:
		return string(x)
	case float64:
		return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.4f", x), "0"), ".")
	default:
		return fmt.Sprint(x)
	}
}

func writeRows(w io.Writer, rows *sql.Rows, format string) error {
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	switch format {
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write(cols)
		rec := make([]string, len(cols))
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			for i, v := range vals {
				rec[i] = cell(v)
			}
			cw.Write(rec)
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
	case "json":
		enc := json.NewEncoder(w)
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			m := make(map[string]any, len(cols))
			for i, c := range cols {
				switch x := vals[i].(type) {
				case []byte:
					m[c] = string(x)
				default:
					m[c] = x
				}
			}
			if err := enc.Encode(m); err != nil {
				return err
			}
		}
	default:
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(cols, "\t"))
		n := 0
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			rec := make([]string, len(cols))
			for i, v := range vals {
				rec[i] = cell(v)
			}
			fmt.Fprintln(tw, strings.Join(rec, "\t"))
			n++
		}
		tw.Flush()
		fmt.Fprintf(w, "(%d rows)\n", n)
	}
	return rows.Err()
}

func runCheck(ctx context.Context, g *globals, args []string) error {
	fs := g.flags("check")
	cfgPath := fs.String("config", "throughline.yaml", "config file")
	if err := g.parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "config %s: ok (%d sources, %d teams, time zone %s)\n", cfg.Path, len(cfg.Sources), len(cfg.Teams), cfg.Timezone)
	for _, src := range cfg.Sources {
		if src.Kind == "csv" {
			fmt.Fprintf(g.stdout, "  source %s (%s): zone-less times are read in %s (set the source's timezone if the files were written in another)\n",
				src.Name, src.Layout, cmp.Or(src.Timezone, cfg.Timezone))
		}
	}
	if _, err := os.Stat(cfg.Warehouse.Path); err != nil {
		fmt.Fprintf(g.stdout, "warehouse %s: not created yet (run `throughline sync`)\n", cfg.Warehouse.Path)
		return nil
	}
	db, err := openWarehouse(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer db.Close()
	const examples = 20
	h, err := db.Health(ctx, examples)
	if err != nil {
		return err
	}
	fmt.Fprintln(g.stdout, "\nlast runs:")
	for _, s := range h.Syncs {
		fmt.Fprintf(g.stdout, "  sync %s: %s at %s %s\n", s.Source, s.Status, s.StartedAt.UTC().Format(time.RFC3339), s.Error)
	}
	if h.Compute == nil {
		fmt.Fprintln(g.stdout, "  compute: none recorded (run `throughline compute`)")
	} else {
		fmt.Fprintf(g.stdout, "  compute: %s at %s %s\n", h.Compute.Status, h.Compute.StartedAt.UTC().Format(time.RFC3339), h.Compute.Error)
	}
	fmt.Fprintln(g.stdout, "\ndata quality (from the last compute):")
	rows, err := db.QueryContext(ctx, `SELECT source, "check", items, example_keys FROM data_quality ORDER BY source, "check"`)
	if err != nil {
		return fmt.Errorf("read data_quality: %w", err)
	}
	if err := writeRows(g.stdout, rows, "table"); err != nil {
		return err
	}
	rows.Close()
	rejected := h.Problems[ingest.ProblemRejected]
	fmt.Fprintf(g.stdout, "\ninput problems: %d rejected (records not stored), %d repaired (stored without or with a corrected value), %d notes (stored as read)\n",
		rejected, h.Problems[ingest.ProblemRepaired], h.Problems[ingest.ProblemNote])
	for _, a := range []string{ingest.ProblemRejected, ingest.ProblemRepaired, ingest.ProblemNote} {
		if len(h.Examples[a]) == 0 {
			continue
		}
		fmt.Fprintf(g.stdout, "%s (first %d; all rows are in the ingest_problems table):\n", a, examples)
		for _, p := range h.Examples[a] {
			fmt.Fprintf(g.stdout, "  %s: %s\n", p.Source, p.Problem)
		}
	}
	failed := h.Failed()
	if rejected > 0 {
		failed = append(failed, fmt.Sprintf("%d input records were rejected (listed above)", rejected))
	}
	if len(failed) > 0 {
		return errors.New(strings.Join(failed, "; "))
	}
	return nil
}
