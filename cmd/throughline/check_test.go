package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// check says what was rejected and what was repaired, exits 0 when input
// was only repaired or noted, and 1 when a record was rejected or the last
// sync failed.
func TestCheckSignals(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "t.yaml")
	os.WriteFile(cfg, []byte("warehouse: {path: w.duckdb}\ntimezone: Europe/Berlin\nsources:\n  - {name: files, kind: csv, path: data}\n"), 0o644)
	items := func(body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(data, "items.csv"), []byte("key,project,title,status,created_at,resolved_at,work_class\n"+body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	step := func(want int, args ...string) string {
		t.Helper()
		code, out, errs := runCmd(t, append(args, "--config", cfg)...)
		if code != want {
			t.Fatalf("%s: exit %d, want %d\n%s\n%s", args[0], code, want, out, errs)
		}
		return out + errs
	}

	// A value repaired (work_class ignored) and a note (a row one field long): exit 0.
	items("A-1,WEB,one,Done,2026-03-01,2026-03-02,bogus\nA-2,WEB,two,To Do,2026-03-01,,,extra\n")
	step(0, "sync")
	step(0, "compute")
	out := step(0, "check")
	for _, want := range []string{
		"source files (throughline): zone-less times are read in Europe/Berlin",
		"sync files: ok", "compute: ok",
		"input problems: 0 rejected (records not stored), 1 repaired (stored without or with a corrected value), 1 notes (stored as read)",
		`files: items.csv:2: column work_class: A-1: work_class "bogus": want project or operational; ignored`,
		"files: items.csv:3: 8 fields, header has 7; read by position",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}

	// A rejected row: exit 1, and the row is named.
	items("A-1,WEB,one,Done,2026-03-01,2026-03-02,project\n,WEB,no key,To Do,2026-03-01,,\n")
	step(0, "sync")
	out = step(1, "check")
	for _, want := range []string{"input problems: 1 rejected", "files: items.csv:3: column key: empty key; row skipped", "1 input records were rejected"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}

	// A failed sync: exit 1, however clean the data that is stored.
	items("A-1,WEB,one,Done,2026-03-01,2026-03-02,project\n")
	os.Rename(data, data+".moved")
	step(1, "sync")
	out = step(1, "check")
	if !strings.Contains(out, "the last sync of files failed") {
		t.Errorf("check output does not name the failed sync:\n%s", out)
	}
}
