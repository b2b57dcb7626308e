// Package warehousetest opens migrated in-memory warehouses for tests.
package warehousetest

import (
	"context"
	"testing"

	"github.com/throughline/throughline/warehouse"
)

// Open returns a migrated in-memory warehouse closed at the end of the test.
// tz is the time zone for day boundaries ("" = UTC).
func Open(t testing.TB, tz string) *warehouse.DB {
	t.Helper()
	db, err := warehouse.Open(context.Background(), warehouse.Options{TimeZone: tz, MemoryLimit: "1GB", Threads: 2})
	if err != nil {
		t.Fatalf("open warehouse: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
