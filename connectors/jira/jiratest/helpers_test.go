package jiratest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

var basicAuth = "Basic " + base64.StdEncoding.EncodeToString([]byte(DefaultEmail+":"+DefaultToken))

// response is one answer of the fake.
type response struct {
	status int
	header http.Header
	raw    []byte
	body   any
}

func (r response) obj(t *testing.T) Object {
	t.Helper()
	o, ok := r.body.(Object)
	if !ok {
		t.Fatalf("body is %T, want object: %s", r.body, r.raw)
	}
	return o
}

// do sends a request with Basic auth unless auth is given ("" for none).
func do(t *testing.T, method, url string, body any, auth ...string) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	a := basicAuth
	if len(auth) > 0 {
		a = auth[0]
	}
	if a != "" {
		req.Header.Set("Authorization", a)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			t.Fatalf("%s %s: bad JSON %q: %v", method, url, raw, err)
		}
	}
	return out
}

func get(t *testing.T, url string) response { t.Helper(); return do(t, http.MethodGet, url, nil) }

func wantStatus(t *testing.T, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
}

func wantError(t *testing.T, r response, status int, msg string) {
	t.Helper()
	wantStatus(t, r, status)
	want := fmt.Sprintf(`{"errorMessages":[%q],"errors":{}}`, msg)
	if got := strings.TrimSpace(string(r.raw)); got != want {
		t.Errorf("body\n got %s\nwant %s", got, want)
	}
}

func str(v any) string { s, _ := v.(string); return s }

func num(v any) int { f, _ := v.(float64); return int(f) }

var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

var mia = Object{"accountId": "5b10a2844c20165700ede21g", "accountType": "atlassian", "displayName": "Mia Krystof",
	"emailAddress": "mia.k@example.com", "active": true}

var bob = Object{"accountId": "5b10a2844c20165700ede22h", "accountType": "atlassian", "displayName": "Bob Van Dyke", "active": true}

// smallDataset is a hand-made dataset: projects WEB and OPS, six issues.
func smallDataset() *Dataset {
	cat := func(id int, key, name string) Object {
		return Object{"id": id, "key": key, "name": name, "colorName": "x"}
	}
	st := func(id, name string, c Object) Object { return Object{"id": id, "name": name, "statusCategory": c} }
	todo, prog, done := st("10000", "To Do", cat(2, "new", "To Do")), st("3", "In Progress", cat(4, "indeterminate", "In Progress")), st("10002", "Done", cat(3, "done", "Done"))
	web := Object{"id": "10000", "key": "WEB", "name": "Website"}
	ops := Object{"id": "10001", "key": "OPS", "name": "Operations"}
	task := Object{"id": "10002", "name": "Task", "subtask": false, "hierarchyLevel": 0}
	bug := Object{"id": "10003", "name": "Bug", "subtask": false, "hierarchyLevel": 0}
	mk := func(id, key string, p Object, status Object, typ Object, created, updated time.Time) *Issue {
		return &Issue{ID: id, Key: key, Fields: Object{
			"summary": "Issue " + key, "project": p, "status": status, "issuetype": typ,
			"created": formatTime(created), "updated": formatTime(updated), "resolution": nil,
			"assignee": mia, "description": adfDoc("Hello " + key),
		}}
	}
	d := &Dataset{
		Projects:    []Object{web, ops},
		Statuses:    []Object{todo, prog, done},
		Resolutions: []Object{{"id": "10000", "name": "Done"}},
		Issues: []*Issue{
			mk("10001", "WEB-1", web, done, task, t0, t0.Add(1*time.Hour)),
			mk("10002", "WEB-2", web, prog, bug, t0.Add(time.Hour), t0.Add(5*time.Hour)),
			mk("10003", "OPS-1", ops, todo, task, t0.Add(2*time.Hour), t0.Add(3*time.Hour+30*time.Second)),
			mk("10004", "WEB-10", web, todo, task, t0.Add(3*time.Hour), t0.Add(2*time.Hour)),
			mk("10005", "OPS-2", ops, done, bug, t0.Add(4*time.Hour), t0.Add(4*time.Hour)),
			mk("10006", "WEB-3", web, todo, task, t0.Add(5*time.Hour), t0.Add(6*time.Hour)),
		},
	}
	d.Issues[0].Fields["resolution"] = Object{"id": "10000", "name": "Done"}
	return d
}

// addHistories gives the issue n status histories, one a minute from t0.
func addHistories(is *Issue, n int, firstID int) {
	for i := range n {
		is.Histories = append(is.Histories, Object{
			"id": fmt.Sprint(firstID + i), "author": mia, "created": formatTime(t0.Add(time.Duration(i) * time.Minute)),
			"items": []any{Object{"field": "status", "fieldtype": "jira", "fieldId": "status", "from": "10000", "fromString": "To Do", "to": "3", "toString": "In Progress"}},
		})
	}
}

var httpClient = http.DefaultClient

func newReq(u string) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", basicAuth)
	return req, nil
}
