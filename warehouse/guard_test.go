package warehouse_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/throughline/throughline/warehouse/warehousetest"
)

const inventoryHeader = `# The built-in scalar, aggregate, window and macro functions of this DuckDB
# build that the SQL API's guard was reviewed against. A function missing
# here is refused. When a DuckDB upgrade changes the list, TestGuardFunctionInventory
# fails: read what each new function does, add any that reads files,
# sleeps, or changes or reveals session or server state to deniedFunctions
# in guard.go, then run go test ./warehouse -run TestGuardFunctionInventory -update.
`

func TestGuardFunctionInventory(t *testing.T) {
	db := warehousetest.Open(t, "")
	rows, err := db.QueryContext(context.Background(), `SELECT DISTINCT lower(function_name) FROM duckdb_functions()
		WHERE function_type NOT IN ('table', 'table_macro', 'pragma') ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	b.WriteString(inventoryHeader)
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		b.WriteString(name + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	const path = "guard_functions.txt"
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(string(want), b.String()); d != "" {
		t.Errorf("%s differs from this build's functions (-file +build); review the new ones, then -update:\n%s", path, d)
	}
}
