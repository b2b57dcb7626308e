package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/throughline/throughline/warehouse"
)

func TestExportReadsBackAsHivePartitionedLake(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	if code, out, errs := runCmd(t, "demo", "--once", "--dir", dir, "--items", "400", "--log-level", "warn"); code != 0 {
		t.Fatalf("demo --once exit %d\n%s\n%s", code, out, errs)
	}
	cfg := filepath.Join(dir, "throughline.yaml")
	want := warehouseCounts(t, filepath.Join(dir, "throughline.duckdb"))
	if _, ok := want["item_flow"]; !ok {
		t.Fatalf("warehouse lacks item_flow; tables: %v", want)
	}
	delete(want, "schema_migrations")
	delete(want, "raw_payloads") // only with --raw

	for _, format := range []string{"parquet", "csv"} {
		t.Run(format, func(t *testing.T) {
			lake := filepath.Join(t.TempDir(), "lake")
			code, out, errs := runCmd(t, "export", "--config", cfg, "--dir", lake, "--format", format)
			if code != 0 {
				t.Fatalf("export exit %d\n%s\n%s", code, out, errs)
			}
			if !strings.Contains(out, "exported ") || strings.Count(errs, `msg="exported table"`) != len(want) {
				t.Errorf("want a summary and one log line per table (%d):\n%s\n%s", len(want), out, errs)
			}
			m := readManifest(t, lake)
			if m.Format != format || m.SchemaVersion < 1 || m.ExportedAt.IsZero() || m.Incomplete {
				t.Errorf("manifest header: %+v", m)
			}
			listed := map[string]exportedTable{}
			for _, tb := range m.Tables {
				listed[tb.Name] = tb
			}
			for name := range want {
				if _, ok := listed[name]; !ok {
					t.Errorf("manifest lacks table %s", name)
				}
			}
			if _, ok := listed["raw_payloads"]; ok {
				t.Error("raw_payloads exported without --raw")
			}
			if _, ok := listed["schema_migrations"]; ok {
				t.Error("schema_migrations exported")
			}
			for _, p := range []string{"item_flow/source=demo-csv", "work_items/source_id=demo-csv", "teams/data." + format} {
				if _, err := os.Stat(filepath.Join(lake, p)); err != nil {
					t.Errorf("missing %s: %v", p, err)
				}
			}
			for _, tb := range []string{"status_changes", "worklogs", "throughput_daily", "wip_daily", "cumulative_flow"} {
				if ms, _ := filepath.Glob(filepath.Join(lake, tb, "month=????-??")); len(ms) == 0 {
					t.Errorf("%s has no month=YYYY-MM partitions", tb)
				}
			}

			// A fresh DuckDB reads every table back with the counts the warehouse holds.
			mem, err := warehouse.Open(context.Background(), warehouse.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer mem.Close()
			for name, n := range want {
				tb := listed[name]
				if tb.Rows != n {
					t.Errorf("%s: manifest rows %d, warehouse %d", name, tb.Rows, n)
				}
				if len(tb.Columns) == 0 {
					t.Errorf("%s: manifest lists no columns", name)
				}
				if n == 0 && len(tb.PartitionBy) > 0 {
					continue // an empty partitioned table writes no files
				}
				glob := filepath.Join(lake, name, "**", "*."+format)
				var got int64
				q := "SELECT count(*) FROM read_" + format + "(" + quoteString(glob) + ", hive_partitioning=true)"
				if err := mem.QueryRow(q).Scan(&got); err != nil {
					t.Errorf("%s: read back: %v", name, err)
					continue
				}
				if got != n {
					t.Errorf("%s: read back %d rows, warehouse holds %d", name, got, n)
				}
			}
			// Partition columns come back from the paths.
			var src string
			// The demo ingests through the CSV, Jira and Asana connectors.
			q := "SELECT string_agg(DISTINCT source, ',' ORDER BY source) FROM read_" + format + "(" + quoteString(filepath.Join(lake, "item_flow", "**", "*."+format)) + ", hive_partitioning=true)"
			if err := mem.QueryRow(q).Scan(&src); err != nil || src != "demo-asana,demo-csv,demo-jira" {
				t.Errorf("item_flow source from the partition path: %q, %v", src, err)
			}

			// Exporting again replaces the earlier export; a foreign non-empty dir is refused.
			if code, out, errs := runCmd(t, "export", "--config", cfg, "--dir", lake, "--format", format, "--log-level", "warn"); code != 0 {
				t.Errorf("re-export exit %d\n%s\n%s", code, out, errs)
			}
			if code, _, errs := runCmd(t, "export", "--config", cfg, "--dir", dir, "--log-level", "warn"); code != exitUsage || !strings.Contains(errs, "not empty") {
				t.Errorf("export into the demo dir: exit %d %q, want a refusal", code, errs)
			}
		})
	}

	t.Run("refused while a server holds the file", func(t *testing.T) {
		if testing.Short() {
			t.Skip("starts a helper process")
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestExportHelperHoldsWarehouse$")
		cmd.Env = append(os.Environ(), "TL_EXPORT_HOLD="+filepath.Join(dir, "throughline.duckdb"))
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { stdin.Close(); cmd.Wait() }()
		sc := bufio.NewScanner(stdout)
		for sc.Scan() && sc.Text() != "holding" {
		}
		code, _, errs := runCmd(t, "export", "--config", cfg, "--dir", filepath.Join(t.TempDir(), "lake"))
		if code != exitRuntime || !strings.Contains(errs, "is held by") || !strings.Contains(errs, "stop the server for the export") {
			t.Errorf("export beside a writer: exit %d %q", code, errs)
		}
	})
}

// TestExportHelperHoldsWarehouse is the process that holds the warehouse
// open for writing (as serve does) until its stdin closes.
func TestExportHelperHoldsWarehouse(t *testing.T) {
	path := os.Getenv("TL_EXPORT_HOLD")
	if path == "" {
		t.Skip("helper process for TestExportReadsBackAsHivePartitionedLake")
	}
	db, err := warehouse.Open(context.Background(), warehouse.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	os.Stdout.WriteString("holding\n")
	bufio.NewReader(os.Stdin).ReadString('\n')
}

// warehouseCounts opens the warehouse file read-only and counts every table in main.
func warehouseCounts(t *testing.T, path string) map[string]int64 {
	t.Helper()
	db, err := warehouse.Open(context.Background(), warehouse.Options{Path: path, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT table_name FROM information_schema.tables
		WHERE table_catalog = current_database() AND table_schema = 'main' AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	rows.Close()
	counts := map[string]int64{}
	for _, n := range names {
		var c int64
		if err := db.QueryRow("SELECT count(*) FROM " + quoteIdent(n)).Scan(&c); err != nil {
			t.Fatal(err)
		}
		counts[n] = c
	}
	return counts
}

func readManifest(t *testing.T, dir string) exportManifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		t.Fatal(err)
	}
	var m exportManifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest: %v", err)
	}
	return m
}
