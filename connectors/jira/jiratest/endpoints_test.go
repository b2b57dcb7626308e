package jiratest

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestIssueChangelogPaging(t *testing.T) {
	d := smallDataset()
	addHistories(d.Issues[0], 45, 100)
	s := NewTest(t, d, Options{})
	tests := []struct {
		query                  string
		startAt, n, maxResults int
		last                   bool
		next                   string
	}{
		{"", 0, 45, 100, true, ""},
		{"?maxResults=20", 0, 20, 20, false, "?&startAt=20&maxResults=20"},
		{"?startAt=20&maxResults=20", 20, 20, 20, false, "?&startAt=40&maxResults=20"},
		{"?startAt=40&maxResults=20", 40, 5, 20, true, ""},
		{"?startAt=60", 60, 0, 100, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := get(t, s.URL+"/rest/api/3/issue/WEB-1/changelog"+tt.query)
			wantStatus(t, r, 200)
			o := r.obj(t)
			v := list(o["values"])
			if num(o["startAt"]) != tt.startAt || len(v) != tt.n || num(o["maxResults"]) != tt.maxResults || num(o["total"]) != 45 || o["isLast"] != tt.last {
				t.Fatalf("page %s", r.raw[:min(len(r.raw), 200)])
			}
			if len(v) > 0 && v[0].(Object)["id"] != strconv.Itoa(100+tt.startAt) {
				t.Errorf("first value %v, want oldest first", v[0].(Object)["id"])
			}
			next, hasNext := o["nextPage"]
			if hasNext != (tt.next != "") || (hasNext && str(next) != s.URL+"/rest/api/3/issue/WEB-1/changelog"+tt.next) {
				t.Errorf("nextPage %v", next)
			}
			if _, has := o["histories"]; has {
				t.Error(`per-issue changelog uses "values", not "histories"`)
			}
		})
	}
}

func TestBulkfetch(t *testing.T) {
	d := smallDataset()
	// WEB-1: 7 histories at t0+0..6 min; WEB-2: 4 at t0+0..3 min, so they interleave.
	addHistories(d.Issues[0], 7, 100)
	addHistories(d.Issues[1], 4, 200)
	d.Issues[1].Histories[1]["items"] = []any{
		Object{"field": "assignee", "fieldtype": "jira", "fieldId": "assignee", "to": "x"},
	}
	d.Issues[5].Deleted = true
	addHistories(d.Issues[5], 2, 300)
	s := NewTest(t, d, Options{})
	endpoint := s.URL + "/rest/api/3/changelog/bulkfetch"

	collect := func(body Object) (map[string][]string, []int) {
		merged := map[string][]string{}
		var pages []int
		for range 20 {
			r := do(t, http.MethodPost, endpoint, body)
			wantStatus(t, r, 200)
			n := 0
			for _, l := range list(r.obj(t)["issueChangeLogs"]) {
				lo := l.(Object)
				for _, h := range list(lo["changeHistories"]) {
					merged[str(lo["issueId"])] = append(merged[str(lo["issueId"])], str(h.(Object)["id"]))
					n++
				}
			}
			pages = append(pages, n)
			tok, has := r.obj(t)["nextPageToken"]
			if !has {
				return merged, pages
			}
			body["nextPageToken"] = tok
		}
		t.Fatal("too many pages")
		return nil, nil
	}

	merged, pages := collect(Object{"issueIdsOrKeys": []string{"WEB-1", "10002", "NOPE-1", "WEB-3"}, "maxResults": 5})
	if !slices.Equal(pages, []int{5, 5, 1}) {
		t.Errorf("page sizes %v, want [5 5 1]", pages)
	}
	if got := merged["10001"]; len(got) != 7 || got[0] != "100" || got[6] != "106" {
		t.Errorf("WEB-1 merged %v", got)
	}
	if got := merged["10002"]; len(got) != 4 {
		t.Errorf("WEB-2 merged %v", got)
	}
	if len(merged) != 2 {
		t.Errorf("unknown or deleted issues returned: %v", merged)
	}

	// First page in order: created then issue id.
	r := do(t, http.MethodPost, endpoint, Object{"issueIdsOrKeys": []string{"WEB-2", "WEB-1"}, "maxResults": 4})
	var order []string
	for _, l := range list(r.obj(t)["issueChangeLogs"]) {
		for _, h := range list(l.(Object)["changeHistories"]) {
			order = append(order, str(l.(Object)["issueId"])+":"+str(h.(Object)["id"]))
		}
	}
	if want := []string{"10001:100", "10002:200", "10001:101", "10002:201"}; !slices.Equal(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}

	merged, _ = collect(Object{"issueIdsOrKeys": []string{"WEB-2"}, "fieldIds": []string{"status"}})
	if got := merged["10002"]; !slices.Equal(got, []string{"200", "202", "203"}) {
		t.Errorf("fieldIds filter kept %v", got)
	}

	many := make([]string, 1001)
	for i := range many {
		many[i] = fmt.Sprintf("WEB-%d", i+1)
	}
	for _, ids := range [][]string{{}, many} {
		if r := do(t, http.MethodPost, endpoint, Object{"issueIdsOrKeys": ids}); r.status != 400 || len(list(r.obj(t)["errorMessages"])) != 1 {
			t.Errorf("%d ids: %d %s", len(ids), r.status, r.raw)
		}
	}
	dc := NewTest(t, smallDataset(), Options{DataCenter: true})
	wantStatus(t, do(t, http.MethodPost, dc.URL+"/rest/api/2/changelog/bulkfetch", Object{"issueIdsOrKeys": []string{"WEB-1"}}), 404)
	wantStatus(t, get(t, dc.URL+"/rest/api/2/issue/WEB-1/changelog"), 404)
}

func TestWorklogs(t *testing.T) {
	now := t0.Add(10 * time.Hour)
	d := smallDataset()
	ms := func(tm time.Time) int { return int(tm.UnixMilli()) }
	// 1,100 worklogs on WEB-1, one a second from t0; the last 30 fall inside the exclusion window.
	for i := range 1100 {
		at := t0.Add(time.Duration(i) * time.Second)
		if i >= 1070 {
			at = now.Add(-time.Duration(1100-i) * time.Second)
		}
		d.AddWorklog("WEB-1", Object{"author": mia, "timeSpentSeconds": 60, "timeSpent": "1m", "comment": adfDoc("log " + strconv.Itoa(i))}, at)
	}
	d.DeleteWorklog("10001", t0.Add(time.Hour))
	d.DeleteWorklog("10002", now.Add(-time.Second)) // inside the window
	s := NewTest(t, d, Options{Now: func() time.Time { return now }})

	r := get(t, s.URL+"/rest/api/3/worklog/updated?since=0")
	o := r.obj(t)
	v := list(o["values"])
	if len(v) != 1000 || o["lastPage"] != false || num(o["since"]) != 0 {
		t.Fatalf("first page: %d values, lastPage %v", len(v), o["lastPage"])
	}
	first := v[0].(Object)
	if num(first["worklogId"]) != 10003 || num(first["updatedTime"]) != ms(t0.Add(2*time.Second)) || len(list(first["properties"])) != 0 {
		t.Errorf("first value %v (10001 and 10002 are deleted)", first)
	}
	until := num(o["until"])
	if until != num(v[999].(Object)["updatedTime"]) || str(o["nextPage"]) != fmt.Sprintf("%s/rest/api/3/worklog/updated?since=%d", s.URL, until) {
		t.Errorf("until %d, nextPage %v", until, o["nextPage"])
	}
	o = get(t, str(o["nextPage"])).obj(t)
	v = list(o["values"])
	// The first page ended with worklog 11002 (i = 1001); since is
	// inclusive, so it comes again, then 1002…1069; 1070 on are inside the
	// exclusion window.
	if o["lastPage"] != true || len(v) != 69 || num(v[0].(Object)["worklogId"]) != 11002 {
		t.Errorf("second page: lastPage %v, %d values, first %v", o["lastPage"], len(v), v[0])
	}

	o = get(t, s.URL+"/rest/api/2/worklog/deleted?since="+strconv.Itoa(ms(t0))).obj(t)
	if v := list(o["values"]); len(v) != 1 || num(v[0].(Object)["worklogId"]) != 10001 || num(v[0].(Object)["updatedTime"]) != ms(t0.Add(time.Hour)) {
		t.Errorf("deleted: %v", o)
	}
	o = get(t, s.URL+"/rest/api/3/worklog/deleted?since="+strconv.Itoa(ms(t0.Add(2*time.Hour)))).obj(t)
	if len(list(o["values"])) != 0 || o["lastPage"] != true || num(o["until"]) != ms(t0.Add(2*time.Hour)) {
		t.Errorf("empty deleted page: %v", o)
	}

	r = do(t, http.MethodPost, s.URL+"/rest/api/3/worklog/list", Object{"ids": []any{10001, 10003, "10004", 99}})
	wantStatus(t, r, 200)
	wl := list(r.body)
	if len(wl) != 2 || wl[0].(Object)["id"] != "10003" || wl[0].(Object)["issueId"] != "10001" || wl[0].(Object)["comment"].(Object)["type"] != "doc" {
		t.Errorf("list: %s", r.raw[:min(300, len(r.raw))])
	}
	r = do(t, http.MethodPost, s.URL+"/rest/api/2/worklog/list", Object{"ids": []int{10003}})
	if c := list(r.body)[0].(Object)["comment"]; c != "log 2" {
		t.Errorf("v2 comment %v, want plain text", c)
	}
	for _, n := range []int{0, 1001} {
		ids := make([]int, n)
		wantStatus(t, do(t, http.MethodPost, s.URL+"/rest/api/3/worklog/list", Object{"ids": ids}), 400)
	}

	o = get(t, s.URL+"/rest/api/3/issue/WEB-1/worklog?startAt=1090&maxResults=5").obj(t)
	if num(o["total"]) != 1098 || len(list(o["worklogs"])) != 5 || num(o["startAt"]) != 1090 {
		t.Errorf("issue worklogs: total %v, %d", o["total"], len(list(o["worklogs"])))
	}
	o = get(t, s.URL+"/rest/api/3/search/jql?jql=key%3DWEB-1&fields=worklog").obj(t)
	emb := list(o["issues"])[0].(Object)["fields"].(Object)["worklog"].(Object)
	if num(emb["total"]) != 1098 || num(emb["maxResults"]) != 20 || len(list(emb["worklogs"])) != 20 {
		t.Errorf("embedded worklog total %v maxResults %v", emb["total"], emb["maxResults"])
	}
}

func TestVersions(t *testing.T) {
	d := smallDataset()
	d.Versions = map[string][]Object{"WEB": {
		{"id": "1", "name": "1.0", "projectId": 10000, "released": true, "archived": false, "releaseDate": "2025-12-01"},
		{"id": "2", "name": "1.1", "projectId": 10000, "released": false, "archived": false, "releaseDate": "2026-01-01", "startDate": "2025-12-02"},
		{"id": "3", "name": "2.0", "projectId": 10000, "released": false, "archived": false},
	}}
	d.SetReleaseDate("WEB", "2.0", "2026-03-01")
	d.SetReleaseDate("WEB", "2.0", "")
	s := NewTest(t, d, Options{Now: func() time.Time { return t0 }})
	o := get(t, s.URL+"/rest/api/3/project/WEB/version?maxResults=2").obj(t)
	if num(o["total"]) != 3 || o["isLast"] != false || str(o["nextPage"]) != s.URL+"/rest/api/3/project/WEB/version?startAt=2&maxResults=2" {
		t.Errorf("first page %v", o)
	}
	v := list(o["values"])
	if v0 := v[0].(Object); v0["userReleaseDate"] != "1/Dec/2025" || v0["overdue"] != nil || !strings.HasSuffix(str(v0["self"]), "/rest/api/3/version/1") {
		t.Errorf("released version %v", v0)
	}
	if v1 := v[1].(Object); v1["overdue"] != true || v1["startDate"] != "2025-12-02" {
		t.Errorf("overdue version %v", v1)
	}
	o = get(t, s.URL+"/rest/api/3/project/WEB/version?startAt=2&maxResults=2").obj(t)
	v2 := list(o["values"])[0].(Object)
	if _, has := v2["releaseDate"]; has || v2["overdue"] != false || o["isLast"] != true {
		t.Errorf("undated version %v (releaseDate must be absent)", v2)
	}
	if _, has := o["nextPage"]; has {
		t.Error("last page has nextPage")
	}
	if r := get(t, s.URL+"/rest/api/3/project/WEB/versions"); len(list(r.body)) != 3 {
		t.Errorf("unpaged versions %s", r.raw)
	}
	wantError(t, get(t, s.URL+"/rest/api/3/project/NOPE/versions"), 404, "No project could be found with key 'NOPE'.")
}

func TestAgile(t *testing.T) {
	d := Generate(GenOptions{Issues: 40, Boards: true, Seed: 2})
	s := NewTest(t, d, Options{})
	o := get(t, s.URL+"/rest/agile/1.0/board?maxResults=1").obj(t)
	if num(o["total"]) != 2 || o["isLast"] != false || len(list(o["values"])) != 1 {
		t.Errorf("boards %v", o)
	}
	o = get(t, s.URL+"/rest/agile/1.0/board?projectKeyOrId=OPS").obj(t)
	if b := list(o["values"]); len(b) != 1 || num(b[0].(Object)["id"]) != 2 {
		t.Errorf("OPS boards %v", b)
	}
	cfg := get(t, s.URL+"/rest/agile/1.0/board/1/configuration").obj(t)
	if cfg["estimation"].(Object)["field"].(Object)["fieldId"] != StoryPointsField {
		t.Errorf("configuration %v", cfg)
	}
	// Reverse the stored order so the endpoint has to sort.
	s.Mutate(func(d *Dataset) { slices.Reverse(d.Boards[0].Sprints) })
	var states []string
	for start := 0; ; start += 50 {
		o = get(t, s.URL+"/rest/agile/1.0/board/1/sprint?startAt="+strconv.Itoa(start)).obj(t)
		if _, has := o["total"]; has {
			t.Error("sprint page has total")
		}
		for _, sp := range list(o["values"]) {
			so := sp.(Object)
			states = append(states, str(so["state"]))
			if _, has := so["startDate"]; has != (so["state"] != "future") {
				t.Errorf("sprint %v startDate presence", so)
			}
		}
		if o["isLast"] == true {
			break
		}
	}
	if len(states) < 4 || !slices.IsSortedFunc(states, func(a, b string) int { return sprintStateOrder[a] - sprintStateOrder[b] }) || states[len(states)-1] != "future" {
		t.Errorf("sprint states %v, want closed…, active, future…", states)
	}
	o = get(t, s.URL+"/rest/agile/1.0/board/1/sprint?state=active,future").obj(t)
	if n := len(list(o["values"])); n != 3 {
		t.Errorf("active+future sprints: %d, want 3", n)
	}
	sp := get(t, s.URL+"/rest/agile/1.0/sprint/1001").obj(t)
	if sp["name"] != "WEB Sprint 1" || num(sp["originBoardId"]) != 1 {
		t.Errorf("sprint %v", sp)
	}
	wantStatus(t, get(t, s.URL+"/rest/agile/1.0/board/99"), 404)
}

func TestDataCenterRendering(t *testing.T) {
	d := smallDataset()
	d.Fields = []Object{{"id": "customfield_10100", "name": "Sprint", "custom": true, "schema": Object{"type": "array", "items": "json", "custom": SprintFieldType, "customId": 10100}}}
	d.Issues[0].Fields["customfield_10100"] = []any{
		Object{"id": 37, "name": "sprint 1", "state": "closed", "boardId": 5, "goal": "fix [a], b and c",
			"startDate": "2015-04-11T05:22:00.000Z", "endDate": "2015-04-19T15:22:00.000Z", "completeDate": "2015-04-20T01:04:00.000Z"},
		Object{"id": 38, "name": "sprint 2", "state": "future", "boardId": 5, "goal": ""},
	}
	d.Issues[0].Fields["reporter"] = bob
	addHistories(d.Issues[0], 1, 100)
	d.Users = []Object{mia, bob}
	d.Issues[0].Histories = append(d.Issues[0].Histories, Object{"id": "101", "author": mia, "created": formatTime(t0.Add(time.Hour)),
		"items": []any{Object{"field": "assignee", "fieldtype": "jira", "fieldId": "assignee", "from": mia["accountId"], "fromString": "Mia Krystof", "to": bob["accountId"], "toString": "Bob Van Dyke"}}})
	dc := NewTest(t, d, Options{DataCenter: true})
	o := get(t, dc.URL+"/rest/api/2/issue/WEB-1?expand=changelog").obj(t)
	f := o["fields"].(Object)
	sprints := list(f["customfield_10100"])
	want := []string{
		"com.atlassian.greenhopper.service.sprint.Sprint@" + fmt.Sprintf("%x", fnvHash("37")) + "[id=37,rapidViewId=5,state=CLOSED,name=sprint 1,startDate=2015-04-11T05:22:00.000+00:00,endDate=2015-04-19T15:22:00.000+00:00,completeDate=2015-04-20T01:04:00.000+00:00,sequence=37,goal=fix [a], b and c]",
		"com.atlassian.greenhopper.service.sprint.Sprint@" + fmt.Sprintf("%x", fnvHash("38")) + "[id=38,rapidViewId=5,state=FUTURE,name=sprint 2,startDate=<null>,endDate=<null>,completeDate=<null>,sequence=38,goal=<null>]",
	}
	if len(sprints) != 2 || sprints[0] != want[0] || sprints[1] != want[1] {
		t.Errorf("sprint strings\n got %v\nwant %v", sprints, want)
	}
	a := f["assignee"].(Object)
	if a["name"] != "mia.k" || a["key"] != "mia.k" || a["emailAddress"] != "mia.k@example.com" || a["displayName"] != "Mia Krystof" || a["accountId"] != nil {
		t.Errorf("DC assignee %v", a)
	}
	if r := f["reporter"].(Object); r["name"] != "bobvandyke" {
		t.Errorf("DC reporter without email %v", r)
	}
	if f["description"] != "Hello WEB-1" {
		t.Errorf("description %v, want plain text", f["description"])
	}
	h := list(o["changelog"].(Object)["histories"])[0].(Object)
	if h["author"].(Object)["name"] != "mia.k" {
		t.Errorf("history author %v", h["author"])
	}
	h = list(o["changelog"].(Object)["histories"])[1].(Object)
	if it := list(h["items"])[0].(Object); it["from"] != "mia.k" || it["to"] != "bobvandyke" || it["toString"] != "Bob Van Dyke" || it["fieldId"] != nil {
		t.Errorf("DC assignee item %v, want usernames", it)
	}

	// Cloud v2 converts ADF to text but keeps Cloud users and sprint objects.
	cloud := NewTest(t, d, Options{})
	f = get(t, cloud.URL+"/rest/api/2/issue/WEB-1").obj(t)["fields"].(Object)
	if f["description"] != "Hello WEB-1" || f["assignee"].(Object)["accountId"] != mia["accountId"] {
		t.Errorf("cloud v2 fields: %v / %v", f["description"], f["assignee"])
	}
	if _, isObj := list(f["customfield_10100"])[0].(Object); !isObj {
		t.Errorf("cloud v2 sprint field %v", f["customfield_10100"])
	}
}

func fnvHash(s string) uint32 {
	h := uint32(2166136261)
	for i := range len(s) {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h & 0xffffff
}

func TestAuth(t *testing.T) {
	s := NewTest(t, smallDataset(), Options{})
	scoped := s.ScopedBaseURL()
	basic := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	tests := []struct {
		name, url, auth string
		status          int
	}{
		{"basic", s.BaseURL() + "/rest/api/3/myself", basicAuth, 200},
		{"bearer PAT", s.URL + "/rest/api/2/myself", "Bearer " + DefaultPAT, 200},
		{"scoped prefix", scoped + "/rest/api/3/myself", basicAuth, 200},
		{"scoped agile", scoped + "/rest/agile/1.0/board", basicAuth, 200},
		{"no auth", s.URL + "/rest/api/3/myself", "", 401},
		{"wrong token", s.URL + "/rest/api/3/myself", basic(DefaultEmail, "nope"), 401},
		{"wrong bearer", s.URL + "/rest/api/3/myself", "Bearer nope", 401},
		{"tenant info needs no auth", s.URL + "/_edge/tenant_info", "", 200},
		{"accessible resources", s.URL + "/oauth/token/accessible-resources", "Bearer " + DefaultPAT, 200},
		{"foreign cloud id", s.URL + "/ex/jira/other/rest/api/3/myself", basicAuth, 404},
		{"unknown path", s.URL + "/rest/api/3/nope", basicAuth, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, http.MethodGet, tt.url, nil, tt.auth)
			wantStatus(t, r, tt.status)
			if tt.status == 401 && len(r.raw) != 0 {
				t.Errorf("401 body %q, want empty", r.raw)
			}
		})
	}
	if got := get(t, s.URL+"/_edge/tenant_info").obj(t)["cloudId"]; got != DefaultCloudID {
		t.Errorf("cloudId %v", got)
	}
	reqs := s.Requests()
	if last := reqs[len(reqs)-1]; last.Path != "/_edge/tenant_info" || last.Status != 200 {
		t.Errorf("last request %+v", last)
	}
	if n := s.Count("/rest/api/3/myself"); n != 6 {
		t.Errorf("Count(/rest/api/3/myself) = %d, want 6 (scoped prefix stripped)", n)
	}

	s.Revoke()
	r := get(t, s.URL+"/rest/api/3/myself")
	if r.status != 401 || len(r.raw) != 0 {
		t.Errorf("revoked: %d %q", r.status, r.raw)
	}
	s.Restore()
	wantStatus(t, get(t, s.URL+"/rest/api/3/myself"), 200)
}

func TestFaults(t *testing.T) {
	now := time.Date(2026, 3, 26, 15, 59, 0, 0, time.UTC)
	s := NewTest(t, smallDataset(), Options{Now: func() time.Time { return now }})
	jql := "/rest/api/3/search/jql?jql=project%3DWEB"

	s.Throttle("/rest/api/3/search", 2, 3*time.Second)
	for i := range 2 {
		r := get(t, s.ScopedBaseURL()+jql)
		wantStatus(t, r, 429)
		h := r.header
		if h.Get("Retry-After") != "3" || h.Get("X-RateLimit-Limit") == "" || h.Get("X-RateLimit-Remaining") != "0" ||
			h.Get("X-RateLimit-Reset") != "2026-03-26T16:00Z" || h.Get("RateLimit-Reason") != "jira-burst-based" {
			t.Errorf("429 #%d headers %v", i, h)
		}
		if len(list(r.obj(t)["errorMessages"])) != 1 {
			t.Errorf("429 body %s", r.raw)
		}
	}
	wantStatus(t, get(t, s.URL+jql), 200)

	s.Throttle("/rest/api/3/issue", 1, -1)
	wantStatus(t, get(t, s.URL+"/rest/api/3/myself"), 200) // other paths unaffected
	r := get(t, s.URL+"/rest/api/3/issue/WEB-1")
	if r.status != 429 || r.header.Get("Retry-After") != "" || r.header.Get("X-RateLimit-Reset") == "" {
		t.Errorf("backoff 429: %d %v", r.status, r.header)
	}

	s.Fail("/rest/api/3/myself", 5, 500)
	s.Throttle("/rest/api/3/myself", 5, time.Second)
	s.ClearFaults()
	wantStatus(t, get(t, s.URL+"/rest/api/3/myself"), 200)

	tests := []struct {
		status     int
		retryAfter string
	}{{500, ""}, {502, ""}, {503, "1"}}
	for _, tt := range tests {
		s.Fail("/rest/api/3/issue/", 1, tt.status)
		r := get(t, s.URL+"/rest/api/3/issue/WEB-1")
		if r.status != tt.status || r.header.Get("Retry-After") != tt.retryAfter || len(list(r.obj(t)["errorMessages"])) != 1 {
			t.Errorf("Fail(%d): %d %v %s", tt.status, r.status, r.header, r.raw)
		}
		wantStatus(t, get(t, s.URL+"/rest/api/3/issue/WEB-1"), 200)
	}
}

func TestLatency(t *testing.T) {
	s := NewTest(t, smallDataset(), Options{Latency: 30 * time.Millisecond})
	start := time.Now()
	get(t, s.URL+"/rest/api/3/serverInfo")
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("answered in %v", d)
	}
}

func TestMetadataEndpoints(t *testing.T) {
	s := NewTest(t, Generate(GenOptions{Issues: 10, Seed: 1}), Options{})
	tests := []struct {
		path string
		n    int
	}{
		{"/rest/api/3/status", 5},
		{"/rest/api/3/statuscategory", 4},
		{"/rest/api/3/field", 8},
		{"/rest/api/3/resolution", 2},
	}
	for _, tt := range tests {
		r := get(t, s.URL+tt.path)
		if got := list(r.body); len(got) != tt.n {
			t.Errorf("%s: %d items, want %d", tt.path, len(got), tt.n)
		}
	}
	st := list(get(t, s.URL+"/rest/api/3/status").body)[0].(Object)
	if !strings.HasSuffix(str(st["self"]), "/rest/api/3/status/10000") || st["statusCategory"].(Object)["key"] != "new" {
		t.Errorf("status %v", st)
	}
	o := get(t, s.URL+"/rest/api/3/project/search").obj(t)
	if num(o["total"]) != 2 || o["isLast"] != true {
		t.Errorf("project search %v", o)
	}
}
