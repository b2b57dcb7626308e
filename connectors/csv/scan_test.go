package csv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestScanCSV(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		unclean string  // substring of the reason; "" for clean
		records int     // when clean
		lines   []int32 // when clean: nil = record i on line 2+i
		padded  []bool
	}{
		{name: "plain", body: "a,b\n1,2\n3,4\n", records: 2},
		{name: "no final line end", body: "a,b\n1,2\n3,4", records: 2},
		{name: "CR LF and BOM (in the header)", body: "\uFEFFa,b\r\n1,2\r\n", records: 1},
		{name: "quoted comma and escaped quote", body: "a,b\n\"x,y\",\"say \"\"hi\"\"\"\n", records: 1},
		{name: "multi-line cell", body: "a,b\n\"two\nlines\",2\n3,4\n", records: 2, lines: []int32{2, 4}},
		{name: "blank lines skipped", body: "a,b\n1,2\n\n3,4\n", records: 2, lines: []int32{2, 4}},
		{name: "padding marks the column", body: "a,b,c\n1, 2,3\n", records: 1, padded: []bool{false, true}},
		{name: "non-ASCII end may be a space", body: "a,b\ncafé,2\n", records: 1, padded: []bool{true}},
		{name: "bare quote", body: "a,b\n1,x\"y\n", unclean: "line 2: bare quote"},
		{name: "text after a closing quote", body: "a,b\n\"bad\"quote,2\n", unclean: "line 2: extraneous quote"},
		{name: "short row", body: "a,b,c\n1,2\n", unclean: "line 2: 2 fields, header has 3"},
		{name: "unterminated quote", body: "a,b\n\"open,2\n", unclean: "quoted field not closed"},
		{name: "lone CR", body: "a,b\n1,2\r3,4\n", unclean: "carriage return without a line feed"},
		{name: "CR LF inside quotes", body: "a,b\r\n\"x\r\ny\",2\r\n", unclean: "CR LF inside a quoted field"},
		{name: "mixed line ends", body: "a,b\r\n1,2\n", unclean: "mixed CR LF and LF"},
		{name: "invalid UTF-8", body: "a,b\n\xff,2\n", unclean: "invalid UTF-8"},
		{name: "empty", body: "", unclean: "empty file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f.csv")
			if err := os.WriteFile(path, []byte(tt.body), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := scanCSV(path)
			if err != nil {
				t.Fatal(err)
			}
			if tt.unclean != "" {
				if !strings.Contains(got.unclean, tt.unclean) {
					t.Errorf("unclean = %q, want it to say %q", got.unclean, tt.unclean)
				}
				return
			}
			if got.unclean != "" {
				t.Fatalf("unclean = %q, want clean", got.unclean)
			}
			if got.records != tt.records || got.headerLines != 1 {
				t.Errorf("records %d, header lines %d; want %d, 1", got.records, got.headerLines, tt.records)
			}
			if d := cmp.Diff(tt.lines, got.lines); d != "" {
				t.Errorf("lines (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.padded, got.padded); d != "" {
				t.Errorf("padded (-want +got):\n%s", d)
			}
		})
	}
}
