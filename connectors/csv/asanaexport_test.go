package csv

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/throughline/throughline/ingest"
)

// asanaRealistic follows the current export's header (connectors-api.md C2)
// with custom fields, a multi-line Notes cell and a subtask.
const asanaRealistic = "Task ID,Created At,Completed At,Last Modified,Name,Section/Column,Assignee,Assignee Email,Start Date,Due Date,Tags,Notes,Projects,Parent task,Blocked By (Dependencies),Blocking (Dependencies),Priority,Estimated time,Actual time\n" +
	"1210000000000001,2025-09-01,2025-09-05,2025-09-05,Ship checkout,Done,Ann Lee,ann@example.com,2025-09-02,2025-09-06,\"payments,web\",\"Line one\nline two\",Web App,,,1210000000000002,High,90,120\n" +
	"1210000000000002,2025-09-02,,2025-09-03,Write tests,In Progress,Bob,,,2025-09-10,,,\"Web App,Platform\",Ship checkout,1210000000000001,,Low,,\n" +
	"1210000000000003,2025-09-03,,2025-09-03,Untitled follow-up,Backlog,,,,,,,,Missing parent,,,,abc,\n"

func TestAsanaExport(t *testing.T) {
	day := func(s string) time.Time { return exportAt(t, s+" 00:00") }
	const f = "f.csv"
	tests := []struct {
		name   string
		in     string
		fields []string
		want   ingest.Batch
	}{
		{
			name:   "realistic export",
			in:     asanaRealistic,
			fields: exportAllFields[:7],
			want: ingest.Batch{
				Projects: []ingest.Project{{Key: "Web App", Name: "Web App"}},
				Items: []ingest.Item{
					{
						Key: "1210000000000001", Project: "Web App", Title: "Ship checkout", Type: "Task",
						// Completed: the status is Completed (done), whatever column it was left in.
						Status: "Completed", StatusCategory: "done", Assignee: "ann@example.com",
						CreatedAt: day("2025-09-01"), ResolvedAt: day("2025-09-05"), UpdatedAt: day("2025-09-05"),
						DueDate: exportDay(t, "2025-09-06"), EstimateSeconds: exportI64(90 * 60),
					},
					{
						Key: "1210000000000002", Project: "Web App", Title: "Write tests", Type: "Subtask",
						Status: "In Progress", Assignee: "Bob", Parent: "1210000000000001",
						CreatedAt: day("2025-09-02"), UpdatedAt: day("2025-09-03"), DueDate: exportDay(t, "2025-09-10"),
					},
					{
						Key: "1210000000000003", Title: "Untitled follow-up", Type: "Subtask", Status: "Backlog",
						CreatedAt: day("2025-09-03"), UpdatedAt: day("2025-09-03"),
					},
				},
				Transitions: []ingest.Transition{
					{ItemKey: "1210000000000001", At: day("2025-09-01"), To: "Done"},
					{ItemKey: "1210000000000001", At: day("2025-09-05"), From: "Done", To: "Completed", ToCategory: "done"},
					{ItemKey: "1210000000000002", At: day("2025-09-02"), To: "In Progress"},
					{ItemKey: "1210000000000003", At: day("2025-09-03"), To: "Backlog"},
				},
				People: []ingest.Person{
					{ExternalID: "ann@example.com", DisplayName: "Ann Lee", Email: "ann@example.com"},
					{ExternalID: "Bob", DisplayName: "Bob"},
				},
				Problems: []ingest.Problem{
					{File: f, Line: 5, Column: "Estimated time", Key: "1210000000000003", Reason: `bad estimate "abc": want minutes; value dropped`, Action: ingest.ProblemRepaired},
					{File: f, Line: 5, Column: "Parent task", Key: "1210000000000003", Reason: `parent task "Missing parent" is not in this file; parent left empty`, Action: ingest.ProblemRepaired},
				},
			},
		},
		{
			name: "Google Sheets preamble, CRLF and BOM",
			in: "\ufeff,,\r\n,,https://app.asana.com/-/googleSheetsProjectCsv?domain=1\r\n,,\r\n" +
				"Task ID,Created At,Name\r\n" +
				"1,2025-09-01,A\r\n" +
				"2,22/9/2025,B\r\n",
			fields: []string{"Items", "Problems"},
			want: ingest.Batch{
				Items: []ingest.Item{{Key: "1", Title: "A", Type: "Task", CreatedAt: day("2025-09-01")}},
				Problems: []ingest.Problem{
					{File: f, Line: 6, Column: "Created At", Key: "2", Reason: `bad date "22/9/2025": a locale date, not YYYY-MM-DD: was the file re-saved by a spreadsheet?; row dropped`, Action: ingest.ProblemRejected},
				},
			},
		},
		{
			name: "spreadsheet-mangled task id",
			in: "Task ID,Created At,Name\n" +
				"1.21143E+15,2025-09-01,A\n" +
				"1210000000000009,2025-09-01,B\n" +
				",2025-09-01,C\n",
			fields: []string{"Items", "Problems"},
			want: ingest.Batch{
				Items: []ingest.Item{{Key: "1210000000000009", Title: "B", Type: "Task", CreatedAt: day("2025-09-01")}},
				Problems: []ingest.Problem{
					{File: f, Line: 2, Column: "Task ID", Reason: `spreadsheet re-save destroyed the task id ("1.21143E+15"); row dropped: export again from Asana`, Action: ingest.ProblemRejected},
					{File: f, Line: 4, Column: "Task ID", Reason: "missing task id; row dropped", Action: ingest.ProblemRejected},
				},
			},
		},
		{
			name: "RFC 3339 and bad dates",
			in: "Task ID,Created At,Completed At,Last Modified,Name,Due Date\n" +
				"5,2025-09-01T10:00:00.000Z,2025-09-02T11:30:00Z,2025-09-02T11:30:00.5Z,A,2025-09-03T00:00:00Z\n" +
				"6,2025-09-01,9/22/2025,2025-13-01,B,tomorrow\n" +
				"7,,,,C,\n",
			fields: []string{"Items", "Problems"},
			want: ingest.Batch{
				Items: []ingest.Item{
					{
						Key: "5", Title: "A", Type: "Task", Status: "Completed", StatusCategory: "done",
						CreatedAt:  time.Date(2025, 9, 1, 10, 0, 0, 0, time.UTC),
						ResolvedAt: time.Date(2025, 9, 2, 11, 30, 0, 0, time.UTC),
						UpdatedAt:  time.Date(2025, 9, 2, 11, 30, 0, 5e8, time.UTC),
						DueDate:    exportDay(t, "2025-09-03"),
					},
					{Key: "6", Title: "B", Type: "Task", CreatedAt: day("2025-09-01")},
				},
				Problems: []ingest.Problem{
					{File: f, Line: 3, Column: "Completed At", Key: "6", Reason: `bad date "9/22/2025": a locale date, not YYYY-MM-DD: was the file re-saved by a spreadsheet?; value dropped`, Action: ingest.ProblemRepaired},
					{File: f, Line: 3, Column: "Last Modified", Key: "6", Reason: `bad date "2025-13-01": no such date; value dropped`, Action: ingest.ProblemRepaired},
					{File: f, Line: 3, Column: "Due Date", Key: "6", Reason: `bad date "tomorrow": want YYYY-MM-DD; value dropped`, Action: ingest.ProblemRepaired},
					{File: f, Line: 4, Column: "Created At", Key: "7", Reason: "missing created date; row dropped", Action: ingest.ProblemRejected},
				},
			},
		},
		{
			name: "older spelling, lower-case header, parents by name",
			in: "task id,created at,name,Parent Task,assignee\n" +
				"1,2025-09-01,Dup,,Ann\n" +
				"2,2025-09-01,Dup,,\n" +
				"3,2025-09-01,Solo,,\n" +
				"4,2025-09-01,Child of dup,Dup,\n" +
				"5,2025-09-01,Child of solo,Solo,\n" +
				"6,2025-09-01,Self,Self,\n",
			fields: []string{"Items", "People", "Problems"},
			want: ingest.Batch{
				Items: []ingest.Item{
					{Key: "1", Title: "Dup", Type: "Task", Assignee: "Ann", CreatedAt: day("2025-09-01")},
					{Key: "2", Title: "Dup", Type: "Task", CreatedAt: day("2025-09-01")},
					{Key: "3", Title: "Solo", Type: "Task", CreatedAt: day("2025-09-01")},
					{Key: "4", Title: "Child of dup", Type: "Subtask", CreatedAt: day("2025-09-01")},
					{Key: "5", Title: "Child of solo", Type: "Subtask", Parent: "3", CreatedAt: day("2025-09-01")},
					{Key: "6", Title: "Self", Type: "Subtask", CreatedAt: day("2025-09-01")},
				},
				People: []ingest.Person{{ExternalID: "Ann", DisplayName: "Ann"}},
				Problems: []ingest.Problem{
					{File: f, Line: 5, Column: "Parent Task", Key: "4", Reason: `parent task "Dup" is ambiguous: 2 tasks have that name (1, 2); parent left empty`, Action: ingest.ProblemRepaired},
					{File: f, Line: 7, Column: "Parent Task", Key: "6", Reason: `parent task "Self" is not in this file; parent left empty`, Action: ingest.ProblemRepaired},
				},
			},
		},
		{
			name: "duplicate task ids and wrong field count",
			in: "Task ID,Created At,Last Modified,Name\n" +
				"1,2025-09-01,2025-09-04,newer\n" +
				"1,2025-09-01,2025-09-03,older\n" +
				"2,2025-09-01,2025-09-03\n",
			fields: []string{"Items", "Problems"},
			want: ingest.Batch{
				Items: []ingest.Item{
					{Key: "1", Title: "newer", Type: "Task", CreatedAt: day("2025-09-01"), UpdatedAt: day("2025-09-04")},
					{Key: "2", Type: "Task", CreatedAt: day("2025-09-01"), UpdatedAt: day("2025-09-03")},
				},
				Problems: []ingest.Problem{
					{File: f, Line: 3, Column: "Task ID", Key: "1", Reason: "duplicate key, kept the row updated at 2025-09-04T00:00:00+02:00 (line 2)", Action: ingest.ProblemRejected},
					{File: f, Line: 4, Key: "2", Reason: "row has 3 fields, the header has 4; read by position", Action: ingest.ProblemNote},
				},
			},
		},
		{
			name: "completion before creation",
			in: "Task ID,Created At,Completed At,Name,Section/Column\n" +
				"1,2025-09-05,2025-09-01,A,Done\n",
			fields: []string{"Transitions", "Problems"},
			want: ingest.Batch{
				Transitions: []ingest.Transition{
					{ItemKey: "1", At: day("2025-09-05"), To: "Done"},
					{ItemKey: "1", At: day("2025-09-05"), From: "Done", To: "Completed", ToCategory: "done"},
				},
				Problems: []ingest.Problem{
					{File: f, Line: 2, Column: "Completed At", Key: "1", Reason: "date is before Created At; completion placed at Created At", Action: ingest.ProblemRepaired},
				},
			},
		},
		{
			name: "estimate columns",
			in: "Task ID,Created At,Name,Time Estimate/Sizing,Actual time,Time estimate (min)\n" +
				"1,2025-09-01,A,Large,30,45\n" +
				"2,2025-09-01,B,Small,30,\"1,5\"\n" +
				"3,2025-09-01,C,,,-3\n",
			fields: []string{"Items", "Problems"},
			want: ingest.Batch{
				Items: []ingest.Item{
					{Key: "1", Title: "A", Type: "Task", CreatedAt: day("2025-09-01"), EstimateSeconds: exportI64(45 * 60)},
					{Key: "2", Title: "B", Type: "Task", CreatedAt: day("2025-09-01"), EstimateSeconds: exportI64(90)},
					{Key: "3", Title: "C", Type: "Task", CreatedAt: day("2025-09-01")},
				},
				Problems: []ingest.Problem{
					{File: f, Line: 4, Column: "Time estimate (min)", Key: "3", Reason: `bad estimate "-3": out of range; value dropped`, Action: ingest.ProblemRepaired},
				},
			},
		},
		{
			name:   "header only",
			in:     "Task ID,Created At,Name\n",
			fields: exportAllFields,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := parseAsanaExport(f, strings.NewReader(tc.in), parseOptions{Location: exportTestZone})
			if err != nil {
				t.Fatal(err)
			}
			checkExportBatch(t, b)
			if diff := cmp.Diff(tc.want, exportPick(t, b, tc.fields), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("batch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAsanaExportRaw(t *testing.T) {
	b, err := parseAsanaExport("f.csv", strings.NewReader(asanaRealistic), parseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Raw) != 3 {
		t.Fatalf("got %d raw payloads, want 3", len(b.Raw))
	}
	if b.Raw[0].Entity != "asana-export-row" || b.Raw[0].ExternalID != "1210000000000001" {
		t.Errorf("raw: %q %q", b.Raw[0].Entity, b.Raw[0].ExternalID)
	}
	var got map[string]string
	if err := json.Unmarshal(b.Raw[0].Payload, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"Task ID": "1210000000000001", "Created At": "2025-09-01", "Completed At": "2025-09-05",
		"Last Modified": "2025-09-05", "Name": "Ship checkout", "Section/Column": "Done",
		"Assignee": "Ann Lee", "Assignee Email": "ann@example.com", "Start Date": "2025-09-02",
		"Due Date": "2025-09-06", "Tags": "payments,web", "Notes": "Line one\nline two",
		"Projects": "Web App", "Parent task": "", "Blocked By (Dependencies)": "",
		"Blocking (Dependencies)": "1210000000000002", "Priority": "High",
		"Estimated time": "90", "Actual time": "120",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("raw (-want +got):\n%s", diff)
	}
}

func TestAsanaExportErrors(t *testing.T) {
	boom := errors.New("disk on fire")
	tests := []struct {
		name    string
		in      io.Reader
		want    []string
		wantErr error
	}{
		{name: "empty file", in: strings.NewReader(""), want: []string{"f.csv", "empty file"}},
		{name: "only a BOM", in: strings.NewReader("\ufeff"), want: []string{"f.csv", "empty file"}},
		{name: "missing Name", in: strings.NewReader("Task ID,Created At\n1,2025-09-01\n"), want: []string{"f.csv", `lacks required column(s) "Name"`}},
		{name: "no Task ID", in: strings.NewReader("Name,Created At\nA,2025-09-01\n"), want: []string{"f.csv", `"Task ID"`}},
		{
			name: "header after the preamble window",
			in:   strings.NewReader(strings.Repeat(",,\n", 10) + "Task ID,Created At,Name\n1,2025-09-01,A\n"),
			want: []string{"f.csv", `"Task ID" in the first 10 rows`},
		},
		{name: "not CSV: JSON", in: strings.NewReader(`{"data": [{"gid": "1"}]}`), want: []string{"f.csv", `"Task ID"`}},
		{name: "read error", in: iotest.ErrReader(boom), want: []string{"f.csv"}, wantErr: boom},
		{
			name:    "read error mid-file",
			in:      io.MultiReader(strings.NewReader("Task ID,Created At,Name\n1,2025-09-01,A\n2,"), iotest.ErrReader(boom)),
			want:    []string{"f.csv"},
			wantErr: boom,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseAsanaExport("f.csv", tc.in, parseOptions{})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v is not %v", err, tc.wantErr)
			}
		})
	}
}

func TestAsanaExportHugeCell(t *testing.T) {
	notes := strings.Repeat("x", 10<<20) // 10 MiB on one line
	in := "Task ID,Created At,Name,Notes\n" +
		"1,2025-09-01,A,\"" + notes + "\"\n" +
		"2,2025-09-01,B,short\n"
	b, err := parseAsanaExport("f.csv", strings.NewReader(in), parseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Items) != 2 || len(b.Problems) != 0 {
		t.Fatalf("got %d items and problems %v, want 2 and none", len(b.Items), b.Problems)
	}
	var raw struct{ Notes string }
	if err := json.Unmarshal(b.Raw[0].Payload, &raw); err != nil {
		t.Fatal(err)
	}
	if raw.Notes != notes {
		t.Errorf("raw notes have %d bytes, want %d", len(raw.Notes), len(notes))
	}
}

var asanaFuzzSeeds = []string{
	"",
	asanaRealistic,
	"\ufeff,,\r\n,,https://app.asana.com/-/googleSheetsProjectCsv?domain=1\r\n,,\r\nTask ID,Created At,Name\r\n1,2025-09-01,A\r\n2,22/9/2025,B\r\n",
	"Task ID,Created At,Completed At,Last Modified,Name,Due Date\n5,2025-09-01T10:00:00.000Z,2025-08-02T11:30:00Z,x,A,2025-09-03T00:00:00Z\n1.2E+15,2025-09-01,,,B,\n",
	"task id,created at,name,Parent Task\n1,2025-09-01,Dup,\n2,2025-09-01,Dup,Dup\n2,2025-09-01,Dup,Dup\n3,2025-09-05,X,Dup\n",
	"Task ID,Created At,Name,Estimated time\n1,2025-09-01,A,\"1,5\"\n2,2025-09-01,B,1e300\n",
}

func FuzzAsanaExport(f *testing.F) {
	for _, s := range asanaFuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		b, err := parseAsanaExport("fuzz.csv", strings.NewReader(in), parseOptions{Location: exportTestZone})
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.csv") {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		checkExportBatch(t, b)
	})
}
