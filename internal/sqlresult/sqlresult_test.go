package sqlresult

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var sample = Result{
	Columns: []Column{{Name: "n", Type: "BIGINT"}, {Name: "s", Type: "VARCHAR"}, {Name: "l", Type: "INTEGER[]"}},
	Rows: [][]any{
		{json.Number("1"), "a<b>", []any{json.Number("1"), json.Number("2")}},
		{nil, "x,y", map[string]any{"k": "v"}},
	},
	RowCount: 2,
}

func TestEncoders(t *testing.T) {
	tests := []struct {
		f    Format
		want string
	}{
		{JSON, `{"columns":[{"name":"n","type":"BIGINT"},{"name":"s","type":"VARCHAR"},{"name":"l","type":"INTEGER[]"}],"rows":[[1,"a<b>",[1,2]],[null,"x,y",{"k":"v"}]],"row_count":2,"truncated":true}` + "\n"},
		{CSV, "n,s,l\n1,a<b>,\"[1,2]\"\n,\"x,y\",\"{\"\"k\"\":\"\"v\"\"}\"\n"},
		{JSONLines, `{"n":1,"s":"a<b>","l":[1,2]}` + "\n" + `{"n":null,"s":"x,y","l":{"k":"v"}}` + "\n"},
		{Table, "n  s     l\n1  a<b>  [1,2]\n   x,y   {\"k\":\"v\"}\n(2 rows)\n"},
	}
	for _, tt := range tests {
		t.Run(string(tt.f), func(t *testing.T) {
			var b bytes.Buffer
			res := sample
			res.Truncated = true
			if err := Write(&b, &res, tt.f); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, b.String()); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
	t.Run("json decodes to the result", func(t *testing.T) {
		var b bytes.Buffer
		if err := Write(&b, &sample, JSON); err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(&b)
		dec.UseNumber()
		var got Result
		if err := dec.Decode(&got); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(sample, got); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
	t.Run("json of no rows", func(t *testing.T) {
		var b bytes.Buffer
		if err := Write(&b, &Result{Columns: []Column{{Name: "x", Type: "INTEGER"}}}, JSON); err != nil {
			t.Fatal(err)
		}
		if want := `{"columns":[{"name":"x","type":"INTEGER"}],"rows":[],"row_count":0,"truncated":false}` + "\n"; b.String() != want {
			t.Errorf("got %s, want %s", b.String(), want)
		}
	})
}

func TestLimit(t *testing.T) {
	row := func(s string) []any { return []any{s} } // RowSize: len(s) + 2 + 1 + 2
	tests := []struct {
		name      string
		limits    Limits
		rows      []string
		wantRows  int
		truncated bool
	}{
		{"no limits", Limits{}, []string{"a", "b", "c"}, 3, false},
		{"rows", Limits{MaxRows: 2}, []string{"a", "b", "c"}, 2, true},
		{"exactly the rows", Limits{MaxRows: 3}, []string{"a", "b", "c"}, 3, false},
		{"bytes", Limits{MaxBytes: 12}, []string{"a", "b", "c"}, 2, true},          // 6 + 6 fit, 18 does not
		{"a first row too wide", Limits{MaxBytes: 5}, []string{"abcdef"}, 0, true}, // 11 bytes
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Collector
			l := Limit(tt.limits, &c)
			l.Columns([]Column{{Name: "s", Type: "VARCHAR"}})
			var err error
			for _, r := range tt.rows {
				if err = l.Row(row(r)); err != nil {
					break
				}
			}
			if tt.truncated != errors.Is(err, ErrFull) || l.Truncated() != tt.truncated || l.RowCount() != tt.wantRows || len(c.Result.Rows) != tt.wantRows {
				t.Errorf("err %v, truncated %v, %d rows (%d kept); want %d rows, truncated %v", err, l.Truncated(), l.RowCount(), len(c.Result.Rows), tt.wantRows, tt.truncated)
			}
		})
	}
}
