package warehouse_test

import (
	"context"
	"flag"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/throughline/throughline/warehouse"
	"github.com/throughline/throughline/warehouse/warehousetest"
)

var update = flag.Bool("update", false, "rewrite generated files (docs/schema.md)")

const schemaDocPath = "../docs/schema.md"

func TestSchemaDoc(t *testing.T) {
	db := warehousetest.Open(t, "")
	checkComments(t, db)
	got, err := warehouse.SchemaDoc(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	again, err := warehouse.SchemaDoc(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if got != again {
		t.Fatalf("SchemaDoc is not deterministic (-first +second):\n%s", cmp.Diff(got, again))
	}
	if *update {
		if err := os.WriteFile(schemaDocPath, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(schemaDocPath)
	if err != nil {
		t.Fatalf("read %s: %v; generate it with: go test ./warehouse -run TestSchemaDoc -update", schemaDocPath, err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("docs/schema.md is stale; regenerate it with: go test ./warehouse -run TestSchemaDoc -update\n(-committed +generated):\n%s", diff)
	}
}

// checkComments checks that every table and column of the main schema
// carries a COMMENT ON (the schema doc is made of them).
func checkComments(t *testing.T, db *warehouse.DB) {
	t.Helper()
	tests := []struct {
		name, query string
	}{
		{"tables", `SELECT table_name, '' FROM duckdb_tables()
			WHERE database_name = current_database() AND schema_name = 'main' AND NOT temporary
			AND table_name <> 'schema_migrations' AND coalesce(trim(comment), '') = ''
			ORDER BY table_name`},
		{"columns", `SELECT c.table_name, c.column_name FROM duckdb_columns() c JOIN duckdb_tables() t ON t.table_oid = c.table_oid
			WHERE t.database_name = current_database() AND t.schema_name = 'main' AND NOT t.temporary
			AND t.table_name <> 'schema_migrations' AND coalesce(trim(c.comment), '') = ''
			ORDER BY c.table_name, c.column_index`},
	}
	for _, tt := range tests {
		t.Run("comments/"+tt.name, func(t *testing.T) {
			rows, err := db.Query(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var table, column string
				if err := rows.Scan(&table, &column); err != nil {
					t.Fatal(err)
				}
				if column == "" {
					t.Errorf("table %s has no comment: add COMMENT ON TABLE %s IS '...' to its migration", table, table)
				} else {
					t.Errorf("column %s.%s has no comment: add COMMENT ON COLUMN %s.%s IS '...' to its migration", table, column, table, column)
				}
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
		})
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()
		AND schema_name = 'main' AND NOT temporary AND table_name <> 'schema_migrations'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Error("no tables found in schema main: the catalog query is wrong")
	}
}
