package jira_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/throughline/throughline/connectors/jira/jiratest"
	"github.com/throughline/throughline/warehouse"
)

// TestRawPayloadsAreCompressed syncs a fake site into a warehouse file and
// checks how the vendor records are stored: a new file uses the storage
// format of warehouse.StorageVersion, in which DuckDB compresses the long
// JSON payloads when it checkpoints (DuckDB's default format stores them
// as they are, ~98 % of the file after a Jira sync).
func TestRawPayloadsAreCompressed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.duckdb")
	db, err := warehouse.Open(t.Context(), warehouse.Options{Path: path, TimeZone: "UTC", MemoryLimit: "1GB", Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.RegisterSource(t.Context(), "jira", "jira", "https://example.atlassian.net"); err != nil {
		t.Fatal(err)
	}
	d := jiratest.Generate(jiratest.GenOptions{Issues: 3000, ChangesPerIssue: 10, Seed: 5})
	srv := jiratest.NewTest(t, d, jiratest.Options{})
	sync1(t, db, newConnector(t, srv, setup{email: jiratest.DefaultEmail}, nil))
	if _, err := db.ExecContext(t.Context(), "CHECKPOINT"); err != nil {
		t.Fatal(err)
	}

	var version string
	if err := db.QueryRow(`SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = current_database()`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version != warehouse.StorageVersion+"+" {
		t.Errorf("storage version %q, want %q", version, warehouse.StorageVersion+"+")
	}
	payloads := count(t, db, "SELECT count(*) FROM raw_payloads WHERE entity = 'issue'")
	bytes := count(t, db, "SELECT sum(strlen(payload::VARCHAR)) FROM raw_payloads")
	compressed := count(t, db, `SELECT count(*) FROM pragma_storage_info('raw_payloads')
		WHERE column_name = 'payload' AND segment_type <> 'VALIDITY' AND compression NOT IN ('Uncompressed', 'Constant')`)
	plain := count(t, db, `SELECT count(*) FROM pragma_storage_info('raw_payloads')
		WHERE column_name = 'payload' AND segment_type <> 'VALIDITY' AND compression = 'Uncompressed'`)
	if payloads != 3000 || compressed == 0 || plain > 0 {
		t.Errorf("%d issue payloads, %d compressed segments, %d uncompressed; want 3000, some, none", payloads, compressed, plain)
	}
	// The JSON reads back as stored.
	if n := count(t, db, `SELECT count(*) FROM raw_payloads r JOIN work_items w ON w.external_id = r.external_id
		WHERE r.entity = 'issue' AND json_extract_string(r.payload, '$.key') = w.key`); n != 3000 {
		t.Errorf("%d payloads name their item's key, want 3000", n)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// Uncompressed, the file would hold at least the payloads' bytes.
	if fi.Size() > int64(bytes)/3 {
		t.Errorf("warehouse file %d bytes for %d bytes of payloads: not compressed", fi.Size(), bytes)
	}
	t.Logf("%d bytes of payloads, warehouse file %d bytes", bytes, fi.Size())
}
