package jira

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/throughline/throughline/connectors/jira/jiratest"
)

// histories returns the changelog histories of the DevLake issues (real
// Jira Cloud payloads, Chinese status names included) and of a generated
// site, as JSON.
func sampleHistories(t testing.TB) (hs, fields [][]byte) {
	d, err := jiratest.LoadDevLake("jiratest/testdata/devlake")
	if err != nil {
		t.Fatal(err)
	}
	g := jiratest.Generate(jiratest.GenOptions{Issues: 200, ChangesPerIssue: 10, Seed: 7})
	for _, is := range append(d.Issues, g.Issues...) {
		for _, h := range is.Histories {
			b, err := json.Marshal(h)
			if err != nil {
				t.Fatal(err)
			}
			hs = append(hs, b)
		}
		b, err := json.Marshal(is.Fields)
		if err != nil {
			t.Fatal(err)
		}
		fields = append(fields, b)
	}
	return hs, fields
}

// mutate rewrites a JSON object the ways real and hostile replies differ
// from the common shape: keys in another case or repeated, values of
// other types, escapes, invalid UTF-8, white space, unknown keys.
func mutate(r *rand.Rand, b []byte) []byte { return mutateAt(r, b, 12) }

// mutateAt changes each key with odds 4 in rate and each string with odds
// 2 in rate (mutate: 12; a higher rate keeps more values in the common
// shape, so the fast paths are checked on them and not only the fallback).
func mutateAt(r *rand.Rand, b []byte, rate int) []byte {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return b
	}
	var walk func(v any, depth int) any
	value := func() any { // fresh each time: a shared map could end up inside itself
		values := []any{nil, 1.5, true, "x", "caf\u00e9 \u4e2d", "a\"b\\c\n\t", "<&>", map[string]any{}, []any{}, []any{nil}, map[string]any{"k": []any{1, "2"}}}
		return values[r.IntN(len(values))]
	}
	walk = func(v any, depth int) any {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				e := x[k]
				switch r.IntN(rate) {
				case 0:
					delete(x, k)
					x[strings.ToUpper(k[:1])+k[1:]] = walk(e, depth+1)
				case 1:
					x[k] = value()
				case 2:
					x[k] = nil
				case 3:
					x["zz"+k] = walk(e, depth+1)
				default:
					x[k] = walk(e, depth+1)
				}
			}
		case []any:
			for i := range x {
				x[i] = walk(x[i], depth+1)
			}
		case string:
			switch r.IntN(rate * 2 / 3) {
			case 0:
				return x + " \u00e9\u2028\"\\/"
			case 1:
				return "INVALIDUTF8" + x
			}
		}
		return v
	}
	out, _ := json.Marshal(walk(v, 0))
	switch r.IntN(6) {
	case 0: // white space everywhere
		out = bytes.ReplaceAll(out, []byte(","), []byte(" ,\n\t"))
		out = bytes.ReplaceAll(out, []byte(":"), []byte(" : "))
		out = append([]byte("\r\n "), append(out, ' ', '\n')...)
	case 1: // a repeated key: the first key again, with another value
		if i := bytes.IndexByte(out, ','); i > 0 && out[0] == '{' {
			if j := bytes.IndexByte(out, ':'); j > 0 && j < i {
				out = append(append(out[:len(out)-1:len(out)-1], ','), append(append([]byte{}, out[1:j+1]...), []byte(`"again"}`)...)...)
			}
		}
	case 2: // an escaped key
		out = bytes.Replace(out, []byte(`"id"`), []byte(`"\u0069d"`), 1)
	}
	return bytes.ReplaceAll(out, []byte("INVALIDUTF8"), []byte("\xff\xfe"))
}

func TestDecodeHistoryAsEncodingJSON(t *testing.T) {
	hs, _ := sampleHistories(t)
	nFast := 0
	for _, b := range hs {
		if _, ok := fastHistory(b); ok {
			nFast++
		}
	}
	// The fast path is what the sync takes: most histories must not fall
	// back (a test that always fell back would prove nothing).
	if nFast < len(hs)*99/100 {
		t.Errorf("fast path taken for %d of %d histories", nFast, len(hs))
	}
	cases := []string{
		`{"id":"1","created":"2024-03-12T15:45:00.000+0000","items":[]}`,
		`{"id":"1","created":null,"author":null,"items":null}`,
		`{"id":"1","created":1700000000000,"items":[{"field":"status","from":null,"to":"3"}]}`,
		`{"id":"1","created":"not a time","items":[]}`,
		`{"id":2,"items":[]}`,
		`{"ID":"1","items":[]}`,
		`{"id":"1","id":"2"}`,
		// Repeated objects and arrays merge in encoding/json.
		`{"author":{"accountId":"a","displayName":"A"},"author":{"accountId":"b"}}`,
		`{"items":[{"field":"status","to":"1"}],"items":[{"field":"Key"}]}`,
		`{"id":"1","items":[null]}`,
		`{"id":"1","items":{}}`,
		`{"id":"1","author":"x"}`,
		`{"id":"1","author":{"accountId":"a","ACCOUNTID":"b"}}`,
		`{"id":"1","author":{"accountId":"a\u00e9","emailAddress":null,"avatarUrls":{"48x48":"u"}}}`,
		`{"id":"1","items":[{"field":"status","fromString":"In \"Progress\"","toString":"\ud83d\ude00 \ud800"}]}`,
		`{"id":"1","items":[{"field":"status","fieldtype":"jira","fieldId":"status","from":"1","fromString":"待办","to":"3","toString":"完成"}]}`,
		"{\"id\":\"1\",\"items\":[{\"toString\":\"\xff\"}]}",
		`{"id":"1","k":"ſ","ſ":1,"K":2}`,
		`{"id":"1","items":[{"field":"a","Field":"b"}]}`,
		`{}`,
		` { } `,
		`{"id":"1","created":"2024-03-12T15:45:00.000+0000","items":[],"extra":[{"a":[1,2,{"b":"]}"}]}],"n":-1.5e3,"t":true,"f":false}`,
		`null`,
		`[]`,
		`"x"`,
	}
	for _, c := range cases {
		checkHistory(t, []byte(c))
	}
	for _, b := range hs {
		checkHistory(t, b)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		checkHistory(t, mutate(r, hs[i%len(hs)]))
		checkHistory(t, mutateAt(r, hs[i%len(hs)], 120))
	}
}

// checkAsJSON fails unless decode gives what json.Unmarshal gives for b
// (valid JSON only: the decoders' precondition): the same value, or an
// error for both.
func checkAsJSON[T any](t *testing.T, b []byte, decode func([]byte) (T, error)) {
	t.Helper()
	if !json.Valid(b) {
		return
	}
	var want T
	wantErr := json.Unmarshal(b, &want)
	got, err := decode(b)
	if (err == nil) != (wantErr == nil) || (wantErr == nil && !reflect.DeepEqual(got, want)) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Fatalf("%.400s:\n got %s, %v\nwant %s, %v", b, g, err, w, wantErr)
	}
}

// decodeAs is unmarshal into a new T.
func decodeAs[T any](b []byte) (T, error) {
	var v T
	err := unmarshal(b, &v)
	return v, err
}

func checkHistory(t *testing.T, b []byte) { t.Helper(); checkAsJSON(t, b, decodeAs[history]) }

func TestFieldsAsEncodingJSON(t *testing.T) {
	_, fields := sampleHistories(t)
	nFast := 0
	for _, b := range fields {
		if _, ok := fastSplit(b); ok {
			nFast++
		}
	}
	if nFast != len(fields) {
		t.Errorf("fast path taken for %d of %d field objects", nFast, len(fields))
	}
	cases := []string{`{}`, ` {"a" : 1 , "b":[1, {"c":"}"}] , "a":null } `, `{"\u0061":1}`, `null`, `[]`, `{"a":"\xff"}`,
		`{"summary":"x\"y","n":-0.5e-3,"t":true,"f":false,"z":null,"o":{"p":[[],{}]}}`}
	for _, c := range cases {
		checkSplit(t, []byte(c))
	}
	for _, b := range fields {
		checkSplit(t, b)
		checkFields(t, b)
	}
	// The standard fields' fast path is what the sync takes.
	tried, fastN := 0, 0
	for _, b := range fields {
		m, _ := decodeAs[map[string]json.RawMessage](b)
		var fs issueFields
		for _, f := range fieldTargets(&fs) {
			if v, ok := m[f.name]; ok && string(v) != "null" {
				tried++
				if fast(v, f.dst) {
					fastN++
				}
			}
		}
	}
	if fastN < tried*99/100 {
		t.Errorf("fast path taken for %d of %d standard fields", fastN, tried)
	}
	for _, c := range []string{
		`{"summary":1,"status":{"id":"1","statusCategory":null},"issuetype":{"name":"Epic","hierarchyLevel":1,"subtask":null}}`,
		`{"issuetype":{"hierarchyLevel":1.5},"project":{"KEY":"A"},"resolution":{"name":null},"created":1700000000,"updated":"bad"}`,
		`{"fixVersions":[],"parent":{"key":"E-1","fields":{"issuetype":null}},"timeoriginalestimate":3600,"worklog":{"total":1,"worklogs":[]}}`,
		`{"fixVersions":[null,{"name":"v1","released":"yes"}],"parent":{"fields":null},"timeoriginalestimate":-1.0,"worklog":{"worklogs":[null]}}`,
		`{"fixVersions":[{"name":"v1","released":true,"archived":false,"releaseDate":"2024-01-01"}],"assignee":{"accountId":"a","active":true}}`,
		`{"status":{"id":"1"},"status":{"name":"x"},"duedate":"2024-02-30","summary":"a\u0000b"}`,
	} {
		checkFields(t, []byte(c))
	}
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 5000 {
		checkSplit(t, mutate(r, fields[i%len(fields)]))
		checkFields(t, mutate(r, fields[i%len(fields)]))
		checkFields(t, mutateAt(r, fields[i%len(fields)], 120))
	}
}

// checkFields compares decodeFields with encoding/json field by field.
func checkFields(t *testing.T, b []byte) {
	t.Helper()
	if !json.Valid(b) {
		return
	}
	m, err := decodeAs[map[string]json.RawMessage](b)
	if err != nil {
		return
	}
	got, gotBad := decodeFields(m)
	var want issueFields
	var wantBad []fieldProblem
	for _, f := range fieldTargets(&want) {
		v, ok := m[f.name]
		if !ok || string(v) == "null" {
			continue
		}
		if err := json.Unmarshal(v, f.dst); err != nil {
			wantBad = append(wantBad, fieldProblem{f.name, fmt.Sprintf("unexpected value %s (%v): stored as empty", preview(v), err)})
			reflect.ValueOf(f.dst).Elem().SetZero()
		}
	}
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotBad, wantBad) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Fatalf("%.400s:\n got %s %v\nwant %s %v", b, g, gotBad, w, wantBad)
	}
}

func checkSplit(t *testing.T, b []byte) {
	t.Helper()
	checkAsJSON(t, b, decodeAs[map[string]json.RawMessage])
}

func TestJiraTimeUnescapedStrings(t *testing.T) {
	for _, s := range []string{`"2024-03-12T15:45:00.000+0000"`, `"2024-03-12T15:45:00.000\u002b0000"`, `""`, `"x"`, `"\u00e9"`, "\"\xff\"", `1700000000`, `null`} {
		var got jiraTime
		err := got.UnmarshalJSON([]byte(s))
		// The reference: the string decoded by encoding/json, then parsed.
		var want jiraTime
		var v any
		var wantErr error
		if json.Unmarshal([]byte(s), &v) == nil {
			if str, ok := v.(string); ok {
				if str != "" {
					want.Time, wantErr = parseTime(str)
				}
			} else {
				wantErr = want.UnmarshalJSON([]byte(s))
			}
		}
		if !got.Equal(want.Time) || (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
			t.Errorf("%s: got %v, %v; want %v, %v", s, got.Time, err, want.Time, wantErr)
		}
	}
}

// samplePages returns search pages of the sample issues (with their
// changelogs) and the issues' worklogs and embedded worklog fields.
func samplePages(t testing.TB) (pages, worklogs, worklogFields [][]byte) {
	d, err := jiratest.LoadDevLake("jiratest/testdata/devlake")
	if err != nil {
		t.Fatal(err)
	}
	g := jiratest.Generate(jiratest.GenOptions{Issues: 120, ChangesPerIssue: 10, Seed: 9})
	all := append(d.Issues, g.Issues...)
	for i := 0; i < len(all); i += 25 {
		var issues []any
		for _, is := range all[i:min(i+25, len(all))] {
			var ws []any
			for _, w := range is.Worklogs {
				b, err := json.Marshal(w.Object)
				if err != nil {
					t.Fatal(err)
				}
				worklogs = append(worklogs, b)
				ws = append(ws, w.Object)
			}
			wf, _ := json.Marshal(map[string]any{"startAt": 0, "maxResults": 20, "total": len(ws) + i%2, "worklogs": ws})
			worklogFields = append(worklogFields, wf)
			issues = append(issues, map[string]any{"expand": "operations,changelog", "id": is.ID, "self": "https://x/rest/api/3/issue/" + is.ID,
				"key": is.Key, "fields": is.Fields,
				"changelog": map[string]any{"startAt": 0, "maxResults": len(is.Histories), "total": len(is.Histories) + i%3, "histories": is.Histories}})
		}
		page := map[string]any{"issues": issues, "isLast": i%2 == 0}
		if i%2 == 1 {
			page["nextPageToken"] = fmt.Sprint("tok", i)
			page["startAt"], page["maxResults"], page["total"] = i, 25, len(all)
		}
		b, err := json.Marshal(page)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, b)
	}
	return pages, worklogs, worklogFields
}

func TestDecodePageAndWorklogsAsEncodingJSON(t *testing.T) {
	pages, worklogs, fields := samplePages(t)
	for _, b := range pages {
		if _, ok := fastPage(b); !ok {
			t.Errorf("fast path not taken for a page: %.200s", b)
		}
	}
	for _, b := range worklogs {
		if _, ok := fastWorklog(b); !ok {
			t.Errorf("fast path not taken for a worklog: %s", b)
		}
	}
	for _, b := range fields {
		var w *worklogField
		if !fast(b, &w) {
			t.Errorf("fast path not taken for a worklog field: %.200s", b)
		}
	}
	for _, c := range []string{`{}`, `{"issues":[]}`, `{"issues":[{"id":"1","changelog":{"histories":[]}}]}`, `{"issues":null,"isLast":null,"total":null}`, `{"issues":[null]}`, `{"issues":[],"total":1.5}`,
		`{"issues":[],"total":1e2}`, `{"issues":[],"total":99999999999999999999}`, `{"isLast":"true"}`, `{"IsLast":true}`,
		`{"issues":[{"id":"1","key":"A-1","fields":null,"changelog":null}]}`,
		`{"issues":[{"id":"1","changelog":{"histories":[null,{"id":"2"}],"total":-1}}]}`,
		`{"issues":[{"id":"1","changelog":{"histories":[]},"changelog":{"total":3}}]}`,
		`{"issues":[{"id":"1","fields":{"a":1}}],"issues":[{"key":"B-1"}]}`} {
		checkPage(t, []byte(c))
	}
	// A reply that is not JSON fails as encoding/json fails it: the retry
	// client retries a *json.SyntaxError.
	var p searchPage
	var syn *json.SyntaxError
	if err := decodePage([]byte(`{"issues":[{"id":"1"}`), &p); !errors.As(err, &syn) {
		t.Errorf("truncated page: %v, want a *json.SyntaxError", err)
	}
	for _, c := range []string{`{"id":"1","timeSpentSeconds":60.5}`, `{"id":"1","timeSpentSeconds":-60,"started":null,"author":null}`,
		`{"id":"1","started":"bad"}`, `{"id":"1","started":1700000000}`, `{"id":"1","author":{"accountId":"a"},"author":{"name":"n"}}`} {
		checkWorklog(t, []byte(c))
	}
	for _, c := range []string{`{"total":3,"worklogs":[{},{}]}`, `{"total":3,"worklogs":[null]}`, `{"total":"3"}`, `null`, `{"worklogs":null,"total":0}`} {
		checkWorklogCount(t, []byte(c))
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, b := range pages {
		checkPage(t, b)
		for range 10 {
			checkPage(t, mutate(r, b))
			checkPage(t, mutateAt(r, b, 3000))
		}
	}
	for i := range 5000 {
		checkWorklog(t, mutate(r, worklogs[i%len(worklogs)]))
		checkWorklog(t, mutateAt(r, worklogs[i%len(worklogs)], 60))
		checkWorklogCount(t, mutate(r, fields[i%len(fields)]))
	}
}

func checkPage(t *testing.T, b []byte) {
	t.Helper()
	checkAsJSON(t, b, func(b []byte) (searchPage, error) {
		var p searchPage
		err := decodePage(b, &p)
		return p, err
	})
}

func checkWorklog(t *testing.T, b []byte) { t.Helper(); checkAsJSON(t, b, decodeAs[worklog]) }

func checkWorklogCount(t *testing.T, b []byte) {
	t.Helper()
	if !json.Valid(b) {
		return
	}
	var w struct {
		Total    int               `json:"total"`
		Worklogs []json.RawMessage `json:"worklogs"`
	}
	want := json.Unmarshal(b, &w) == nil && w.Total > len(w.Worklogs)
	ri := rawIssue{Fields: append(append([]byte(`{"worklog":`), b...), '}')}
	if got := worklogsIncomplete(&ri); got != want {
		t.Fatalf("%s: incomplete %v, want %v", b, got, want)
	}
}

func FuzzDecodeHistory(f *testing.F) {
	hs, _ := sampleHistories(f)
	for _, b := range hs[:50] {
		f.Add(b)
	}
	f.Add([]byte(`{"id":"1","id":"2"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkHistory(t, b)
		checkSplit(t, b)
		checkFields(t, b)
		checkPage(t, b)
		checkWorklog(t, b)
		checkWorklogCount(t, b)
	})
}
