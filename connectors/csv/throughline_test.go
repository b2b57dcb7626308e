package csv

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/throughline/throughline/ingest"
)

const itemsHeader = "key,project,title,type,status,assignee,created_at,resolved_at,resolution,due_date,story_points,estimate_hours,milestone,parent,team,work_class"

// syncFiles writes files into a folder and syncs it from an empty cursor.
func syncFiles(t *testing.T, files map[string]string) ([]ingest.Batch, error) {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, err := New(Config{Layout: LayoutThroughline, Path: dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out []ingest.Batch
	err = c.Sync(context.Background(), "", func(_ context.Context, b ingest.Batch) error {
		out = append(out, b)
		return nil
	})
	return out, err
}

func merged(bs []ingest.Batch) ingest.Batch {
	var m ingest.Batch
	for _, b := range bs {
		m.Items = append(m.Items, b.Items...)
		m.Transitions = append(m.Transitions, b.Transitions...)
		m.Problems = append(m.Problems, b.Problems...)
		m.Worklogs = append(m.Worklogs, b.Worklogs...)
	}
	return m
}

func TestThroughlineLayoutHostileInput(t *testing.T) {
	huge := strings.Repeat("x", 10<<20)
	tests := []struct {
		name      string
		items     string
		wantErr   string   // whole-file error
		wantKeys  []string // items loaded, in order
		wantProbs []string // Problem.String() of each problem
	}{
		{name: "empty file", items: "", wantErr: "items.csv: empty file"},
		{name: "wrong columns", items: "id,title\nA-1,x\n", wantErr: "items.csv:1: missing column(s) key, created_at"},
		{name: "header only", items: itemsHeader + "\n"},
		{name: "bom and crlf", items: "\uFEFF" + itemsHeader + "\r\nA-1,A,t,Story,To Do,,2026-01-02,,,,,,,,,\r\n", wantKeys: []string{"A-1"}},
		{
			name:     "bad dates and numbers",
			items:    itemsHeader + "\nA-1,A,t,Story,Done,,2026-01-02 10:00,02/01/2026,,2026-13-01,lots,-2,,,,\nA-2,A,t,Story,To Do,,yesterday,,,,,,,,,\n",
			wantKeys: []string{"A-1"},
			wantProbs: []string{
				`items.csv:2: column resolved_at: A-1: resolved_at "02/01/2026" is not RFC 3339 or YYYY-MM-DD[ HH:MM[:SS]]; ignored`,
				`items.csv:2: column due_date: A-1: due_date "2026-13-01" is not a date YYYY-MM-DD; ignored`,
				`items.csv:2: column story_points: A-1: story_points "lots": want a non-negative number; ignored`,
				`items.csv:2: column estimate_hours: A-1: estimate_hours "-2": want hours between 0 and 1e6; ignored`,
				`items.csv:3: column created_at: A-2: created_at "yesterday" is not RFC 3339 or YYYY-MM-DD[ HH:MM[:SS]]; row skipped`,
			},
		},
		{
			name:      "duplicated keys: the later row wins",
			items:     itemsHeader + "\nA-1,A,first,Story,To Do,,2026-01-02,,,,,,,,,\nA-1,A,second,Story,To Do,,2026-01-02,,,,,,,,,\n",
			wantKeys:  []string{"A-1"},
			wantProbs: []string{"items.csv:3: column key: A-1: duplicate key (first on line 2); this later row wins"},
		},
		{
			name:      "multi-line cell keeps line numbers right",
			items:     itemsHeader + "\nA-1,A,\"two\nlines\",Story,To Do,,2026-01-02,,,,,,,,,\n,A,t,Story,To Do,,2026-01-02,,,,,,,,,\n",
			wantKeys:  []string{"A-1"},
			wantProbs: []string{"items.csv:4: column key: empty key; row skipped"},
		},
		{
			name:      "short row is read by position",
			items:     itemsHeader + "\nA-1,A,t,Story,To Do,,2026-01-02\n",
			wantKeys:  []string{"A-1"},
			wantProbs: []string{"items.csv:2: 7 fields, header has 16; read by position"},
		},
		{
			name:      "unreadable quoting",
			items:     itemsHeader + "\nA-1,A,\"bad\"quote,Story,To Do,,2026-01-02,,,,,,,,,\nA-2,A,t,Story,To Do,,2026-01-02,,,,,,,,,\n",
			wantKeys:  []string{"A-2"},
			wantProbs: []string{`items.csv:2: unreadable CSV record: extraneous or missing " in quoted-field; row skipped`},
		},
		{name: "10 MB single cell", items: itemsHeader + "\nA-1,A," + huge + ",Story,To Do,,2026-01-02,,,,,,,,,\n", wantKeys: []string{"A-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs, err := syncFiles(t, map[string]string{"items.csv": tt.items})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m := merged(bs)
			var keys, probs []string
			for _, it := range m.Items {
				keys = append(keys, it.Key)
			}
			for _, p := range m.Problems {
				probs = append(probs, p.String())
			}
			if d := cmp.Diff(tt.wantKeys, keys); d != "" {
				t.Errorf("keys (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.wantProbs, probs); d != "" {
				t.Errorf("problems (-want +got):\n%s", d)
			}
		})
	}
}

func TestThroughlineLayoutHistory(t *testing.T) {
	items := itemsHeader + "\n" +
		"A-1,A,with history,Story,Done,ann@x,2026-01-02T09:00:00Z,2026-01-05T10:00:00Z,Done,,,,,,,\n" +
		"A-2,A,no history,Story,Done,,2026-01-02T09:00:00Z,2026-01-03T09:00:00Z,,,,,,,,\n" +
		"A-3,A,open,Story,In Progress,,2026-01-02T09:00:00Z,,,,,,,,,\n"
	changes := "key,changed_at,from_status,to_status\n" +
		"A-1,2026-01-05T10:00:00Z,In Review,Done\n" + // out of order on purpose
		"A-1,2026-01-03T09:00:00Z,To Do,In Review\n" +
		"ZZ-9,2026-01-03T09:00:00Z,To Do,Done\n"
	bs, err := syncFiles(t, map[string]string{"items.csv": items, "status_changes.csv": changes})
	if err != nil {
		t.Fatal(err)
	}
	m := merged(bs)
	type tr struct{ Key, At, From, To, ToCat string }
	var got []tr
	for _, x := range m.Transitions {
		got = append(got, tr{x.ItemKey, x.At.Format(time.RFC3339), x.From, x.To, x.ToCategory})
	}
	want := []tr{
		{"A-1", "2026-01-02T09:00:00Z", "", "To Do", "new"},
		{"A-1", "2026-01-03T09:00:00Z", "To Do", "In Review", "indeterminate"},
		{"A-1", "2026-01-05T10:00:00Z", "In Review", "Done", "done"},
		// no status_changes rows: created, then done at resolved_at (a skipped start)
		{"A-2", "2026-01-02T09:00:00Z", "", "To Do", "new"},
		{"A-2", "2026-01-03T09:00:00Z", "To Do", "Done", "done"},
		// open without history: created in its current status
		{"A-3", "2026-01-02T09:00:00Z", "", "In Progress", "indeterminate"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("transitions (-want +got):\n%s", d)
	}
	if len(m.Problems) != 1 || m.Problems[0].Key != "ZZ-9" || m.Problems[0].File != "status_changes.csv" || m.Problems[0].Line != 4 {
		t.Errorf("problems = %v, want one for ZZ-9 at status_changes.csv:4", m.Problems)
	}
}

func TestParseTimeZones(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	tests := []struct{ in, want string }{
		{"2026-03-10T22:30:00Z", "2026-03-10T22:30:00Z"},
		{"2026-03-10T23:30:00+01:00", "2026-03-10T22:30:00Z"},
		{"2026-03-10 23:30", "2026-03-10T22:30:00Z"},    // zone-less: Berlin (CET)
		{"2026-07-10 23:30:15", "2026-07-10T21:30:15Z"}, // CEST
		{"2026-03-10", "2026-03-09T23:00:00Z"},
		{"2026-03-10T23:30", "2026-03-10T22:30:00Z"},
	}
	for _, tt := range tests {
		got, err := parseTime(tt.in, berlin)
		if err != nil || got.Format(time.RFC3339) != tt.want {
			t.Errorf("parseTime(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

// FuzzItemsCSV feeds arbitrary bytes as items.csv through the reader and the
// row parser: never a panic, problems always located, accepted rows usable.
func FuzzItemsCSV(f *testing.F) {
	f.Add([]byte(itemsHeader + "\nA-1,A,t,Story,Done,ann@x,2026-01-02T09:00:00Z,2026-01-05,Done,2026-02-01,3,4.5,R1,E-1,web,project\n"))
	f.Add([]byte("\uFEFF" + itemsHeader + "\r\nA-1,A,\"multi\nline\",Story,To Do,,2026-01-02 10:00,,,,,,,,,\r\n"))
	f.Add([]byte("key,created_at\n,\nA,2026-01-01\nA,2026-01-01,x,y\n\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := openCSV("items.csv", strings.NewReader(string(data)), []string{"key", "created_at"}, nil)
		if err != nil {
			if !strings.Contains(err.Error(), "items.csv") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for {
			rec, line, prob, err := r.next()
			if err != nil {
				return // io.EOF (a read error cannot happen on a strings.Reader)
			}
			if prob != nil && (prob.File != "items.csv" || prob.Line <= 0) {
				t.Fatalf("problem without location: %+v", prob)
			}
			if rec == nil {
				continue
			}
			row, probs, ok := parseItemRow(r.h, rec, line, time.UTC)
			for _, p := range probs {
				if p.File != "items.csv" || p.Line <= 0 || p.Column == "" {
					t.Fatalf("problem without location: %+v", p)
				}
			}
			if !ok {
				continue
			}
			if row.item.Key == "" || row.item.CreatedAt.IsZero() || row.item.Status == "" {
				t.Fatalf("accepted row without key, created_at or status: %+v", row.item)
			}
			h := history(row, nil)
			if len(h) == 0 || h[0].From != "" || !h[0].At.Equal(row.item.CreatedAt) {
				t.Fatalf("history does not start with the creation: %+v", h)
			}
		}
	})
}
