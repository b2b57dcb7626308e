package jiratest

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSearchJQLPagination(t *testing.T) {
	d := Generate(GenOptions{Issues: 250, Seed: 3})
	tests := []struct {
		name      string
		opt       Options
		post      bool
		nullToken bool
		omitLast  bool
	}{
		{name: "GET, token absent on last page"},
		{name: "POST", post: true},
		{name: "null last token", opt: Options{NullLastToken: true}, nullToken: true},
		{name: "isLast omitted", opt: Options{OmitIsLast: true}, omitLast: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewTest(t, d, tt.opt)
			var keys []string
			var sizes []int
			token := ""
			for page := 0; ; page++ {
				if page > 10 {
					t.Fatal("too many pages")
				}
				var r response
				if tt.post {
					body := Object{"jql": "project = WEB ORDER BY key ASC", "fields": []string{"summary", "status"}, "maxResults": 500}
					if token != "" {
						body["nextPageToken"] = token
					}
					r = do(t, http.MethodPost, s.URL+"/rest/api/3/search/jql", body)
				} else {
					q := url.Values{"jql": {"project = WEB ORDER BY key ASC"}, "fields": {"summary,status"}, "maxResults": {"500"}, "startAt": {"7"}}
					if token != "" {
						q.Set("nextPageToken", token)
					}
					r = get(t, s.URL+"/rest/api/3/search/jql?"+q.Encode())
				}
				wantStatus(t, r, 200)
				o := r.obj(t)
				for _, k := range []string{"total", "startAt", "maxResults"} {
					if _, has := o[k]; has {
						t.Errorf("page has %q", k)
					}
				}
				issues := list(o["issues"])
				sizes = append(sizes, len(issues))
				for _, is := range issues {
					io := is.(Object)
					keys = append(keys, str(io["key"]))
					if f := io["fields"].(Object); len(f) != 2 || f["summary"] == nil {
						t.Errorf("fields = %v, want summary and status", f)
					}
				}
				isLast, hasLast := o["isLast"]
				tok, hasTok := o["nextPageToken"]
				if hasLast == tt.omitLast {
					t.Errorf("isLast present = %v", hasLast)
				}
				if tok == nil {
					if hasTok != tt.nullToken {
						t.Errorf("last page: nextPageToken present = %v, want %v", hasTok, tt.nullToken)
					}
					if hasLast && isLast != true {
						t.Errorf("last page isLast = %v", isLast)
					}
					break
				}
				if hasLast && isLast != false {
					t.Errorf("middle page isLast = %v", isLast)
				}
				token = str(tok)
			}
			if !slices.Equal(sizes, []int{100, 25}) {
				t.Errorf("page sizes %v, want [100 25] (100 cap with fields, startAt ignored)", sizes)
			}
			if !slices.IsSortedFunc(keys, cmpKey) || len(keys) != 125 || keys[0] != "WEB-1" {
				t.Errorf("keys not WEB-1…WEB-125 in order: %v…", keys[:3])
			}
		})
	}
}

func TestSearchJQLDefaultsAndTokens(t *testing.T) {
	s := NewTest(t, Generate(GenOptions{Issues: 6000, Seed: 1, Projects: []string{"WEB"}, ChangesPerIssue: 1, WorklogsPerIssue: -1}), Options{})
	base := s.URL + "/rest/api/3/search/jql?jql=" + url.QueryEscape("project = WEB")

	r := get(t, base)
	wantStatus(t, r, 200)
	issues := list(r.obj(t)["issues"])
	if len(issues) != 50 {
		t.Errorf("default page has %d issues, want 50", len(issues))
	}
	if first := issues[0].(Object); len(first) != 1 || first["id"] != "10000" {
		t.Errorf("default fields: issue = %v, want only id", first)
	}

	r = get(t, base+"&fields=id&maxResults=9000")
	o := r.obj(t)
	if n := len(list(o["issues"])); n != 5000 {
		t.Errorf("id-only page has %d issues, want 5000", n)
	}
	first := list(o["issues"])[0].(Object)
	if first["key"] != "WEB-1" || first["fields"] != nil || first["self"] == nil {
		t.Errorf("explicit fields=id: %v", first)
	}
	tok := str(o["nextPageToken"])
	r = get(t, base+"&fields=id&maxResults=9000&nextPageToken="+url.QueryEscape(tok))
	if n := len(list(r.obj(t)["issues"])); n != 1000 || r.obj(t)["isLast"] != true {
		t.Errorf("second page: %d issues, isLast %v", n, r.obj(t)["isLast"])
	}

	for _, bad := range []string{"bm90LWEtdG9rZW4", tok + "x"} {
		wantError(t, get(t, base+"&nextPageToken="+bad), 400, "The provided next page token is invalid or expired.")
	}
	other := s.URL + "/rest/api/3/search/jql?jql=" + url.QueryEscape("project = WEB ORDER BY created") + "&nextPageToken=" + url.QueryEscape(tok)
	wantError(t, get(t, other), 400, "The provided next page token is invalid or expired.")
}

func TestOldSearch(t *testing.T) {
	const gone = "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
	cloud := NewTest(t, smallDataset(), Options{})
	for _, p := range []string{"/rest/api/3/search?jql=project=WEB", "/rest/api/2/search?jql=project=WEB"} {
		wantError(t, get(t, cloud.URL+p), http.StatusGone, gone)
	}
	wantError(t, do(t, http.MethodPost, cloud.URL+"/rest/api/3/search", Object{"jql": "project = WEB"}), http.StatusGone, gone)

	dc := NewTest(t, smallDataset(), Options{DataCenter: true, MaxResultsCap: 2})
	r := get(t, dc.URL+"/rest/api/2/search?jql="+url.QueryEscape("project = WEB ORDER BY key")+"&startAt=1&maxResults=50")
	wantStatus(t, r, 200)
	o := r.obj(t)
	if num(o["startAt"]) != 1 || num(o["maxResults"]) != 2 || num(o["total"]) != 4 {
		t.Errorf("startAt/maxResults/total = %v/%v/%v, want 1/2/4", o["startAt"], o["maxResults"], o["total"])
	}
	var keys []string
	for _, is := range list(o["issues"]) {
		keys = append(keys, str(is.(Object)["key"]))
		if is.(Object)["fields"].(Object)["summary"] == nil {
			t.Error("DC search: default fields should be navigable fields")
		}
	}
	if !slices.Equal(keys, []string{"WEB-2", "WEB-3"}) {
		t.Errorf("keys %v", keys)
	}
	r = do(t, http.MethodPost, dc.URL+"/rest/api/2/search", Object{"jql": "", "startAt": 4, "maxResults": 2})
	if o := r.obj(t); num(o["total"]) != 6 || len(list(o["issues"])) != 2 {
		t.Errorf("unbounded DC search: %s", r.raw)
	}
	for _, p := range []string{"/rest/api/2/search/jql?jql=project=WEB", "/rest/api/3/search/jql?jql=project=WEB", "/rest/api/3/serverInfo"} {
		wantStatus(t, get(t, dc.URL+p), 404)
	}
	if got := get(t, dc.URL+"/rest/api/2/serverInfo").obj(t)["deploymentType"]; got != "Server" {
		t.Errorf("DC deploymentType %v", got)
	}
	if got := get(t, cloud.URL+"/rest/api/3/serverInfo").obj(t)["deploymentType"]; got != "Cloud" {
		t.Errorf("Cloud deploymentType %v", got)
	}
}

func TestJQLErrors(t *testing.T) {
	s := NewTest(t, smallDataset(), Options{})
	const unbounded = "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
	tests := []struct{ jql, msg string }{
		{"", unbounded},
		{"ORDER BY created DESC", unbounded},
		{"project = WEB AND (status = Done", "Error in the JQL Query: Expecting ')' before the end of the query."},
		{"project WEB", "Error in the JQL Query: Expecting operator but got 'WEB'. The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'. (line 1, character 9)"},
		{"project = ", "Error in the JQL Query: Expecting either a value, list or function before the end of the query."},
		{"project = WEB status = Done", "Error in the JQL Query: Expecting either 'OR' or 'AND' but got 'status'. (line 1, character 15)"},
		{`summary = "x`, "Error in the JQL Query: The quoted string 'x' has not been completed. (line 1, character 11)"},
		{"foo = 1", "Field 'foo' does not exist or you do not have permission to view it."},
		{"project = NOPE", "The value 'NOPE' does not exist for the field 'project'."},
		{"key = WEB-99", "An issue with key 'WEB-99' does not exist for field 'key'."},
		{`updated >= "2024-13-45"`, "Date value '2024-13-45' for field 'updated' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'."},
		{"project = WEB ORDER BY summary", "Not able to sort using field 'summary'."},
	}
	for _, tt := range tests {
		t.Run(tt.jql, func(t *testing.T) {
			wantError(t, get(t, s.URL+"/rest/api/3/search/jql?jql="+url.QueryEscape(tt.jql)), 400, tt.msg)
			wantError(t, do(t, http.MethodPost, s.URL+"/rest/api/3/search/jql", Object{"jql": tt.jql}), 400, tt.msg)
		})
	}
}

func TestJQLSemantics(t *testing.T) {
	s := NewTest(t, smallDataset(), Options{JQLLocation: time.FixedZone("AEST", 10*3600)})
	tests := []struct {
		jql  string
		want []string
	}{
		{"project in (WEB, 'OPS') ORDER BY key", []string{"OPS-1", "OPS-2", "WEB-1", "WEB-2", "WEB-3", "WEB-10"}},
		{"project = web", []string{"WEB-1", "WEB-2", "WEB-10", "WEB-3"}},
		{"project = 10001", []string{"OPS-1", "OPS-2"}},
		{"project not in (WEB)", []string{"OPS-1", "OPS-2"}},
		// 23:00 AEST is 13:00 UTC; OPS-1 was updated at 13:00:30.
		{`updated >= "2026-01-05 23:00"`, []string{"WEB-2", "OPS-1", "OPS-2", "WEB-3"}},
		{`updated > "2026/01/05 23:30" OR key = WEB-1`, []string{"WEB-1", "WEB-2", "OPS-2", "WEB-3"}},
		{`updated >= "2026-01-05 23:00" ORDER BY updated DESC`, []string{"WEB-3", "WEB-2", "OPS-2", "OPS-1"}},
		{`updated < "2026-01-05 23:00" AND updated >= "2026-01-05 22:00"`, []string{"WEB-10"}},
		{`updated <= "2026-01-05 21:00"`, []string{"WEB-1"}},
		{`created >= 2026-01-06`, []string{"OPS-2", "WEB-3"}},
		{`created >= 1767610800000`, []string{"WEB-2", "OPS-1", "WEB-10", "OPS-2", "WEB-3"}}, // 2026-01-05T11:00Z in ms
		{"created <= -1w AND project = OPS", []string{"OPS-1", "OPS-2"}},                     // relative to the real clock
		{"(project = WEB AND status = Done) OR (project = OPS AND issuetype = Bug) ORDER BY id DESC", []string{"OPS-2", "WEB-1"}},
		{"project = WEB AND (status = 'In Progress' OR status = 10002)", []string{"WEB-1", "WEB-2"}},
		{"status != Done AND project = OPS", []string{"OPS-1"}},
		{"resolution = Unresolved AND project = WEB", []string{"WEB-2", "WEB-10", "WEB-3"}},
		{"resolution is EMPTY and project = OPS", []string{"OPS-1", "OPS-2"}},
		{"key in (WEB-3, OPS-2) ORDER BY key DESC", []string{"WEB-3", "OPS-2"}},
		{"key > WEB-2 ORDER BY key", []string{"WEB-3", "WEB-10"}},
		{"issuekey >= WEB-3 AND id <= 10004", []string{"WEB-10"}},
		{"id in (10001, 10005) ORDER BY created DESC", []string{"OPS-2", "WEB-1"}},
		{"project = WEB ORDER BY created DESC, key", []string{"WEB-3", "WEB-10", "WEB-2", "WEB-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.jql, func(t *testing.T) {
			r := get(t, s.URL+"/rest/api/3/search/jql?fields=key&jql="+url.QueryEscape(tt.jql))
			wantStatus(t, r, 200)
			got := []string{}
			for _, is := range list(r.obj(t)["issues"]) {
				got = append(got, str(is.(Object)["key"]))
			}
			if tt.want == nil {
				tt.want = []string{}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEmbeddedChangelog(t *testing.T) {
	d := smallDataset()
	addHistories(d.Issues[0], 55, 100)
	addHistories(d.Issues[1], 3, 200)
	tests := []struct {
		name      string
		opt       Options
		path      string
		wantN     int
		wantFirst string // id of the first history
		wantLast  string
	}{
		{"search/jql keeps newest 40, newest first", Options{}, "/rest/api/3/search/jql?fields=summary&expand=changelog&jql=project%3DWEB", 40, "154", "115"},
		{"custom cap", Options{EmbeddedChangelogCap: 10}, "/rest/api/3/search/jql?fields=summary&expand=names,changelog&jql=project%3DWEB", 10, "154", "145"},
		{"Data Center issue has the full history, oldest first", Options{DataCenter: true}, "/rest/api/2/issue/WEB-1?expand=changelog", 55, "100", "154"},
		{"Data Center search has the full history", Options{DataCenter: true}, "/rest/api/2/search?expand=changelog&jql=project%3DWEB", 55, "100", "154"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewTest(t, d, tt.opt)
			r := get(t, s.URL+tt.path)
			wantStatus(t, r, 200)
			is := r.obj(t)
			if issues, has := is["issues"]; has {
				is = list(issues)[0].(Object)
			}
			cl := is["changelog"].(Object)
			h := list(cl["histories"])
			if num(cl["total"]) != 55 || len(h) != tt.wantN || num(cl["maxResults"]) != tt.wantN || num(cl["startAt"]) != 0 {
				t.Fatalf("total %v, maxResults %v, %d histories; want 55, %d", cl["total"], cl["maxResults"], len(h), tt.wantN)
			}
			if first, last := h[0].(Object)["id"], h[len(h)-1].(Object)["id"]; first != tt.wantFirst || last != tt.wantLast {
				t.Errorf("histories %v…%v, want %s…%s", first, last, tt.wantFirst, tt.wantLast)
			}
		})
	}
}

func TestGetIssue(t *testing.T) {
	d := smallDataset()
	d.Issues[2].Deleted = true
	s := NewTest(t, d, Options{})
	r := get(t, s.URL+"/rest/api/3/issue/WEB-2?fields=summary,status")
	wantStatus(t, r, 200)
	o := r.obj(t)
	if o["id"] != "10002" || len(o["fields"].(Object)) != 2 || !strings.HasSuffix(str(o["self"]), "/rest/api/3/issue/10002") {
		t.Errorf("issue %s", r.raw)
	}
	if f := get(t, s.URL+"/rest/api/3/issue/10002").obj(t)["fields"].(Object); f["description"].(Object)["type"] != "doc" {
		t.Errorf("v3 description should be ADF: %v", f["description"])
	}
	if r := get(t, s.URL+"/rest/api/3/issue/WEB-3?fields=summary&expand=changelog"); !strings.Contains(string(r.raw), `"changelog":{"histories":[],"maxResults":0,"startAt":0,"total":0}`) {
		t.Errorf("empty changelog: %s", r.raw)
	}
	const missing = "Issue does not exist or you do not have permission to see it."
	for _, p := range []string{"/rest/api/3/issue/WEB-99", "/rest/api/3/issue/OPS-1", "/rest/api/3/issue/OPS-1/changelog", "/rest/api/3/issue/10003/worklog"} {
		wantError(t, get(t, s.URL+p), 404, missing)
	}
	if got := list(get(t, s.URL+"/rest/api/3/search/jql?jql=project%3DOPS").obj(t)["issues"]); len(got) != 1 {
		t.Errorf("deleted issue visible in search: %v", got)
	}
}

func TestTransitionAndMutate(t *testing.T) {
	s := NewTest(t, smallDataset(), Options{})
	at := t0.Add(48 * time.Hour)
	s.Mutate(func(d *Dataset) { d.Issue("OPS-1").Transition(at, bob, "3") })
	r := get(t, s.URL+"/rest/api/3/search/jql?fields=status,updated&jql="+url.QueryEscape(`updated >= "2026-01-07 10:00"`))
	issues := list(r.obj(t)["issues"])
	if len(issues) != 1 {
		t.Fatalf("got %s", r.raw)
	}
	f := issues[0].(Object)["fields"].(Object)
	if f["status"].(Object)["name"] != "In Progress" || f["updated"] != "2026-01-07T10:00:00.000+0000" {
		t.Errorf("fields after transition: %v", f)
	}
	v := list(get(t, s.URL+"/rest/api/3/issue/OPS-1/changelog").obj(t)["values"])
	if len(v) != 1 {
		t.Fatalf("changelog %v", v)
	}
	item := list(v[0].(Object)["items"])[0].(Object)
	if item["from"] != "10000" || item["fromString"] != "To Do" || item["to"] != "3" || item["toString"] != "In Progress" || item["fieldId"] != "status" {
		t.Errorf("item %v", item)
	}
}

func TestApproximateCountAndIssueBulkfetch(t *testing.T) {
	d := smallDataset()
	d.DeleteIssue("WEB-3")
	s := NewTest(t, d, Options{})
	r := do(t, http.MethodPost, s.URL+"/rest/api/3/search/approximate-count", Object{"jql": "project = WEB"})
	if got := num(r.obj(t)["count"]); got != 3 {
		t.Errorf("count %d, want 3 (WEB-3 deleted)", got)
	}
	wantError(t, do(t, http.MethodPost, s.URL+"/rest/api/3/search/approximate-count", Object{"jql": ""}), 400,
		"Unbounded JQL queries are not allowed here. Please add a search restriction to your query.")
	wantError(t, get(t, s.URL+"/rest/api/3/search/jql?jql="+url.QueryEscape("key = WEB-3")), 400,
		"An issue with key 'WEB-3' does not exist for field 'key'.")

	r = do(t, http.MethodPost, s.URL+"/rest/api/3/issue/bulkfetch", Object{"issueIdsOrKeys": []string{"OPS-2", "10001", "WEB-3"}, "fields": []string{"summary"}})
	wantStatus(t, r, 200)
	o := r.obj(t)
	issues, errs := list(o["issues"]), list(o["issueErrors"])
	if len(issues) != 2 || issues[0].(Object)["key"] != "WEB-1" || issues[1].(Object)["key"] != "OPS-2" || len(errs) != 1 {
		t.Errorf("bulkfetch %s", r.raw)
	}
}

// A keyset query (an id lower bound, id order) is served as an index
// serves it: the matches after the bound in id order, and a next page that
// continues after the last id served, live (an issue deleted meanwhile is
// not served).
func TestSearchJQLKeyset(t *testing.T) {
	d := Generate(GenOptions{Issues: 250, Seed: 3})
	s := NewTest(t, d, Options{})
	var web []int64 // WEB's issue ids, ascending
	for _, is := range d.Issues {
		if p, _ := is.Fields["project"].(Object); str(p["key"]) == "WEB" {
			web = append(web, idNum(is))
		}
	}
	slices.Sort(web)
	bound := web[39]
	want := slices.Clone(web[40:])
	gone := want[45] // deleted after the first page: never served
	want = slices.DeleteFunc(want, func(id int64) bool { return id == gone })

	var got []int64
	var sizes []int
	token := ""
	for page := 0; ; page++ {
		if page > 10 {
			t.Fatal("too many pages")
		}
		body := Object{"jql": "project = WEB AND id > " + strconv.FormatInt(bound, 10) + " ORDER BY id ASC", "fields": []string{"summary"}, "maxResults": 30}
		if token != "" {
			body["nextPageToken"] = token
		}
		o := do(t, http.MethodPost, s.URL+"/rest/api/3/search/jql", body).obj(t)
		issues := list(o["issues"])
		sizes = append(sizes, len(issues))
		for _, is := range issues {
			n, err := strconv.ParseInt(str(is.(Object)["id"]), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, n)
		}
		if page == 0 {
			s.Mutate(func(d *Dataset) {
				for _, is := range d.Issues {
					if idNum(is) == gone {
						is.Deleted = true
					}
				}
			})
		}
		tok, _ := o["nextPageToken"].(string)
		if tok == "" {
			if o["isLast"] != true {
				t.Errorf("last page isLast = %v", o["isLast"])
			}
			break
		}
		token = tok
	}
	if !slices.Equal(got, want) {
		t.Errorf("ids served:\n got %v\nwant %v", got, want)
	}
	if n := len(want); !slices.Equal(sizes, []int{30, 30, n - 60}) {
		t.Errorf("page sizes %v, want [30 30 %d]", sizes, n-60)
	}

	// Exactly a page of matches left: that page is the last, with no token.
	last30 := web[len(web)-31]
	o := do(t, http.MethodPost, s.URL+"/rest/api/3/search/jql", Object{"jql": "project = WEB AND id > " + strconv.FormatInt(last30, 10),
		"fields": []string{"summary"}, "maxResults": 30}).obj(t)
	if n, tok := len(list(o["issues"])), o["nextPageToken"]; n != 30 || tok != nil || o["isLast"] != true {
		t.Errorf("a full last page: %d issues, nextPageToken %v, isLast %v; want 30, none, true", n, tok, o["isLast"])
	}
}
