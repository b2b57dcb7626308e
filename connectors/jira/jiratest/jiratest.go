// Package jiratest is a fake Jira server for tests, demos and benchmarks. It
// reproduces the shapes and paging rules of the real Jira Cloud REST API (v3
// and v2, agile 1.0) and, with Options.DataCenter, of Jira Data Center (REST
// v2 only). It can inject faults: 429 with and without Retry-After, 5xx, and
// revoked credentials; and behave like a busy site (drift.go): a Drift hook
// run between search page requests, pages that repeat, shrink or come back
// empty while saying more follow, 200 replies that are HTML or cut short,
// moved issues (MoveIssue), renamed versions (RenameVersion) and raw field
// values (Raw: lone surrogates, invalid UTF-8). Every path is also served
// under /ex/jira/{cloudId} (Cloud only).
//
// Served (GET unless noted; /rest/api/2 and /rest/api/3 alike, /rest/api/3
// answering 404 on Data Center):
//
//	/_edge/tenant_info (no auth), /oauth/token/accessible-resources
//	/rest/api/N/serverInfo, /myself
//	/rest/api/N/search (GET, POST)      Cloud: 410 (CHANGE-2046); DC: offset search
//	/rest/api/N/search/jql (GET, POST)  Cloud: token-paged search (a query with an
//	                                    id lower bound in id order is served from an
//	                                    id index, live, as Jira's index serves it)
//	/rest/api/N/search/approximate-count (POST), /issue/bulkfetch (POST)  Cloud
//	/rest/api/N/issue/{idOrKey}[?fields&expand=changelog]
//	/rest/api/N/issue/{idOrKey}/changelog  Cloud
//	/rest/api/3/changelog/bulkfetch (POST) Cloud
//	/rest/api/N/issue/{idOrKey}/worklog, /worklog/updated, /worklog/deleted, /worklog/list (POST)
//	/rest/api/N/status, /statuscategory, /field, /resolution, /project/search
//	/rest/api/N/project/{key}/version (paged), /project/{key}/versions
//	/rest/agile/1.0/board, /board/{id}, /board/{id}/configuration, /board/{id}/sprint, /sprint/{id}
//
// JQL supports AND, OR, parentheses, the fields project, key/issuekey, id,
// parent, created, updated, resolved, status, issuetype/type and resolution with
// =, !=, <, <=, >, >=, IN, NOT IN, IS [NOT] EMPTY, and ORDER BY updated,
// created, key or id. Like Jira it rejects unknown projects and statuses,
// and keys of issues that do not exist.
//
// Rendering: /rest/api/3 serves the Dataset as stored (Cloud v3 shapes);
// /rest/api/2 turns Atlassian Document Format into plain text; on Data
// Center users also lose accountId and gain name/key, and the sprint field
// becomes "com.atlassian.greenhopper.service.sprint.Sprint@…[…]" strings.
//
// The data it serves is a Dataset, built by hand, by Generate, or from the
// DevLake fixtures by LoadDevLake.
package jiratest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Credentials the fake accepts unless Options say otherwise.
const (
	DefaultEmail   = "robot@example.com"
	DefaultToken   = "api-token"
	DefaultPAT     = "personal-access-token"
	DefaultCloudID = "11111111-2222-3333-4444-555555555555"
)

// Object is a JSON object as the API renders it.
type Object = map[string]any

// Dataset is what the fake serves, held in Jira Cloud REST v3 JSON shapes.
type Dataset struct {
	Projects         []Object            // {"id","key","name"}
	Issues           []*Issue            // ascending numeric id
	Statuses         []Object            // GET /status items: id, name, statusCategory{id,key,name,colorName}, optional scope
	StatusCategories []Object            // GET /statuscategory items; nil serves the four real categories
	Fields           []Object            // GET /field items
	Resolutions      []Object            // GET /resolution items
	Versions         map[string][]Object // project key → versions (id, name, projectId, released, archived, optional releaseDate/startDate "YYYY-MM-DD")
	Boards           []*Board
	Users            []Object // accountId, displayName, emailAddress (optional), active
}

// Issue is one issue and everything attached to it.
type Issue struct {
	ID, Key string
	// Fields are the v3 fields (summary, status, issuetype, project,
	// created, updated, …). The embedded worklog is not stored here: it is
	// built from Worklogs.
	Fields Object
	// Histories is the complete changelog, oldest first:
	// {"id","author","created","items":[{field,fieldtype,fieldId,from,fromString,to,toString}]}.
	Histories []Object
	Worklogs  []*Worklog
	// Deleted issues are invisible to every endpoint.
	Deleted bool

	ds *Dataset // set by Dataset.Issue, New and Generate; used by Transition
}

// Worklog is one v3 Worklog with the times that drive /worklog/updated and
// /worklog/deleted.
type Worklog struct {
	Object  Object    // id (string), issueId, author, updateAuthor, comment (ADF), created, updated, started, timeSpent, timeSpentSeconds
	Updated time.Time // drives /worklog/updated
	Deleted time.Time // non-zero: deleted at that time; listed by /worklog/deleted, gone from every other endpoint
}

// Board is an agile board with its configuration and sprints.
type Board struct {
	Object        Object   // id (number), name, type, location{projectId,projectKey,projectName,...}
	Configuration Object   // GET /board/{id}/configuration body
	Sprints       []Object // id, self, state, name, startDate?, endDate?, completeDate?, createdDate?, originBoardId, goal
}

// Options change how the fake behaves. The zero value is a Jira Cloud site.
type Options struct {
	// DataCenter serves Jira Data Center: REST v2 only, offset search,
	// no /search/jql, no changelog endpoints, full embedded changelogs, v2
	// rendering of users and the sprint field.
	DataCenter bool
	// MaxResultsCap caps maxResults of the Data Center /search (default 1000).
	MaxResultsCap int
	// CloudID routes /ex/jira/{CloudID}/… to the same handlers (default DefaultCloudID).
	CloudID string
	// Email and Token are the accepted Basic credentials (default DefaultEmail, DefaultToken).
	Email, Token string
	// PAT is the accepted Bearer token (default DefaultPAT).
	PAT string
	// EmbeddedChangelogCap is how many histories (the newest) search/jql
	// embeds with expand=changelog (default 40).
	EmbeddedChangelogCap int
	// NullLastToken makes the last search/jql page send "nextPageToken": null.
	NullLastToken bool
	// OmitIsLast makes search/jql pages omit isLast.
	OmitIsLast bool
	// PageCap is the most issues on a search/jql page when fields other
	// than id and key are requested (default 100).
	PageCap int
	// IDPageCap is the most issues on a search/jql page of ids and keys
	// only (default 5000).
	IDPageCap int
	// WorklogExclusion hides worklog changes newer than Now minus this
	// from /worklog/updated and /worklog/deleted (default 1 minute;
	// negative: hide nothing).
	WorklogExclusion time.Duration
	// Now is the server clock (default time.Now).
	Now func() time.Time
	// Latency is added to every response.
	Latency time.Duration
	// JQLLocation is the zone of date literals in JQL (default UTC).
	JQLLocation *time.Location
}

// Request is one request the fake received.
type Request struct {
	Method string
	Path   string // without the /ex/jira/{cloudId} prefix
	Query  url.Values
	Body   []byte
	Auth   string
	Status int
}

type fault struct {
	path       string
	n          int
	status     int
	retryAfter time.Duration
}

// Server is a fake Jira site.
type Server struct {
	*httptest.Server
	opt Options

	mu       sync.Mutex
	data     *Dataset
	byKey    map[string]*Issue
	byID     map[string]*Issue
	idOrder  []*Issue // every issue by ascending id, built when first needed after a change
	requests []Request
	faults   []*fault
	revoked  bool
	tokens   map[string]*pageToken

	// Drift and page faults (drift.go).
	drift       func(d *Dataset, c SearchCall)
	driftN      int
	lastIssue   Object // the last issue of the last search page served
	lastSig     string // the fields and expand of that page
	lastPage    string // the query, startAt and token of the last search
	repeatPages int
	shrinkPages int
	shrinkSize  int
	emptyPages  int
	bodyFaults  []*bodyFault
}

// New starts a fake serving d; the caller must Close it.
func New(d *Dataset, opt Options) *Server {
	if d == nil {
		d = &Dataset{}
	}
	if opt.CloudID == "" {
		opt.CloudID = DefaultCloudID
	}
	if opt.Email == "" {
		opt.Email = DefaultEmail
	}
	if opt.Token == "" {
		opt.Token = DefaultToken
	}
	if opt.PAT == "" {
		opt.PAT = DefaultPAT
	}
	if opt.EmbeddedChangelogCap <= 0 {
		opt.EmbeddedChangelogCap = 40
	}
	if opt.PageCap <= 0 {
		opt.PageCap = 100
	}
	if opt.IDPageCap <= 0 {
		opt.IDPageCap = 5000
	}
	if opt.MaxResultsCap <= 0 {
		opt.MaxResultsCap = 1000
	}
	if opt.WorklogExclusion == 0 {
		opt.WorklogExclusion = time.Minute
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.JQLLocation == nil {
		opt.JQLLocation = time.UTC
	}
	s := &Server{opt: opt, data: d, tokens: map[string]*pageToken{}}
	s.reindex()
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// NewTest starts a fake serving d; it stops with the test.
func NewTest(t testing.TB, d *Dataset, opt Options) *Server {
	t.Helper()
	s := New(d, opt)
	t.Cleanup(s.Close)
	return s
}

// BaseURL returns the site root; clients append /rest/….
func (s *Server) BaseURL() string { return s.URL }

// ScopedBaseURL returns the api.atlassian.com style root, /ex/jira/{cloudId}.
func (s *Server) ScopedBaseURL() string { return s.URL + "/ex/jira/" + s.opt.CloudID }

// Mutate changes the served data under the server's lock.
func (s *Server) Mutate(f func(d *Dataset)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.data)
	s.reindex()
}

func (s *Server) reindex() {
	s.byKey = make(map[string]*Issue, len(s.data.Issues))
	s.byID = make(map[string]*Issue, len(s.data.Issues))
	s.idOrder = nil
	for _, is := range s.data.Issues {
		is.ds = s.data
		s.byKey[strings.ToUpper(is.Key)] = is
		s.byID[is.ID] = is
	}
}

// Throttle makes the next n requests whose path (after the /ex/jira/{id}
// prefix) starts with path answer 429. retryAfter < 0 sends no Retry-After.
func (s *Server) Throttle(path string, n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{path: path, n: n, status: http.StatusTooManyRequests, retryAfter: retryAfter})
}

// Fail makes the next n requests whose path starts with path answer status
// with a Jira error body; a 503 carries Retry-After: 1.
func (s *Server) Fail(path string, n int, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{path: path, n: n, status: status, retryAfter: -1})
}

// ClearFaults drops every pending Throttle and Fail.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// Revoke makes every request answer 401 with an empty body until Restore.
func (s *Server) Revoke() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked = true
}

// Restore undoes Revoke.
func (s *Server) Restore() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked = false
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Count returns the number of requests whose path starts with pathPrefix.
func (s *Server) Count(pathPrefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if strings.HasPrefix(r.Path, pathPrefix) {
			n++
		}
	}
	return n
}

// reply is a handler's answer.
type reply struct {
	status int
	body   any // marshalled as JSON unless nil
	header http.Header
}

func ok(body any) reply { return reply{status: http.StatusOK, body: body} }

func jiraError(status int, msgs ...string) reply {
	if msgs == nil {
		msgs = []string{}
	}
	return reply{status: status, body: Object{"errorMessages": msgs, "errors": Object{}}}
}

// call is one request as the handlers see it.
type call struct {
	r      *http.Request
	path   string // prefix stripped
	query  url.Values
	body   []byte
	base   string // scheme://host[/ex/jira/id]
	v2     bool   // render as REST v2
	apiVer string // "2" or "3" for /rest/api paths
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	path := r.URL.Path
	base := s.URL
	scopedOK := true
	if rest, found := strings.CutPrefix(path, "/ex/jira/"); found {
		id, p, _ := strings.Cut(rest, "/")
		path = "/" + p
		base = s.URL + "/ex/jira/" + id
		scopedOK = id == s.opt.CloudID && !s.opt.DataCenter
	}
	q := r.URL.Query()
	auth := r.Header.Get("Authorization")

	s.mu.Lock()
	rep := s.route(r, path, q, body, base, auth, scopedOK)
	var out []byte
	contentType := "application/json;charset=UTF-8"
	if rep.body != nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rep.body); err != nil {
			rep = jiraError(http.StatusInternalServerError, "fake: encode reply: "+err.Error())
			buf.Reset()
			_ = enc.Encode(rep.body)
		}
		out = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		if rep.status == http.StatusOK {
			if kind := s.takeBodyFault(path); kind != 0 {
				out, contentType = badBody(kind, out)
			}
		}
	}
	s.requests = append(s.requests, Request{Method: r.Method, Path: path, Query: q, Body: body, Auth: auth, Status: rep.status})
	s.mu.Unlock()

	if s.opt.Latency > 0 {
		time.Sleep(s.opt.Latency)
	}
	for k, v := range rep.header {
		w.Header()[k] = v
	}
	if out != nil {
		w.Header().Set("Content-Type", contentType)
	}
	w.WriteHeader(rep.status)
	_, _ = w.Write(out)
}

func (s *Server) authorized(auth string) bool {
	if tok, found := strings.CutPrefix(auth, "Bearer "); found {
		return tok == s.opt.PAT
	}
	if enc, found := strings.CutPrefix(auth, "Basic "); found {
		raw, err := base64.StdEncoding.DecodeString(enc)
		return err == nil && string(raw) == s.opt.Email+":"+s.opt.Token
	}
	return false
}

// takeFault consumes the first fault matching path, if any.
func (s *Server) takeFault(path string) *fault {
	for i, f := range s.faults {
		if f.n > 0 && strings.HasPrefix(path, f.path) {
			f.n--
			if f.n == 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
			return f
		}
	}
	return nil
}

func (s *Server) faultReply(f *fault) reply {
	h := http.Header{}
	if f.status == http.StatusTooManyRequests {
		now := s.opt.Now().UTC()
		h.Set("X-RateLimit-Limit", "350")
		h.Set("X-RateLimit-Remaining", "0")
		wait := max(f.retryAfter, time.Minute)
		h.Set("X-RateLimit-Reset", now.Add(wait).Format("2006-01-02T15:04Z"))
		h.Set("X-RateLimit-NearLimit", "true")
		h.Set("RateLimit-Reason", "jira-burst-based")
		if f.retryAfter >= 0 {
			h.Set("Retry-After", strconv.Itoa(int(math.Ceil(f.retryAfter.Seconds()))))
		}
		rep := jiraError(http.StatusTooManyRequests, "Rate limit exceeded.")
		rep.header = h
		return rep
	}
	msg := "Internal server error"
	switch f.status {
	case http.StatusBadGateway:
		msg = "Bad gateway"
	case http.StatusServiceUnavailable:
		msg = "Service unavailable. Please try again later."
		h.Set("Retry-After", "1")
	}
	rep := jiraError(f.status, msg)
	rep.header = h
	return rep
}

func (s *Server) route(r *http.Request, path string, q url.Values, body []byte, base, auth string, scopedOK bool) reply {
	if s.revoked {
		return reply{status: http.StatusUnauthorized}
	}
	if !scopedOK {
		return jiraError(http.StatusNotFound, "Site temporarily unavailable")
	}
	if path == "/_edge/tenant_info" && !s.opt.DataCenter && r.Method == http.MethodGet {
		return ok(Object{"cloudId": s.opt.CloudID})
	}
	if !s.authorized(auth) {
		return reply{status: http.StatusUnauthorized}
	}
	if f := s.takeFault(path); f != nil {
		return s.faultReply(f)
	}
	c := &call{r: r, path: path, query: q, body: body, base: base}
	if rest, found := strings.CutPrefix(path, "/rest/api/"); found {
		ver, sub, _ := strings.Cut(rest, "/")
		switch ver {
		case "2":
		case "3", "latest":
			if s.opt.DataCenter && ver == "3" {
				return jiraError(http.StatusNotFound, "null for uri: "+s.URL+path)
			}
		default:
			return jiraError(http.StatusNotFound, "null for uri: "+s.URL+path)
		}
		if ver == "latest" {
			ver = "3"
			if s.opt.DataCenter {
				ver = "2"
			}
		}
		c.apiVer = ver
		c.v2 = ver == "2"
		return s.routeAPI(c, "/"+sub)
	}
	if sub, found := strings.CutPrefix(path, "/rest/agile/1.0/"); found {
		c.v2 = s.opt.DataCenter
		return s.routeAgile(c, sub)
	}
	if path == "/oauth/token/accessible-resources" && !s.opt.DataCenter && r.Method == http.MethodGet {
		return ok([]Object{{"id": s.opt.CloudID, "name": "fake", "url": s.URL,
			"scopes": []string{"read:jira-work", "read:jira-user"}, "avatarUrl": s.URL + "/avatar.png"}})
	}
	return notFound(s.URL + path)
}

func notFound(uri string) reply {
	return jiraError(http.StatusNotFound, "null for uri: "+uri)
}

func (s *Server) routeAPI(c *call, sub string) reply {
	m := c.r.Method
	get, post := m == http.MethodGet, m == http.MethodPost
	parts := strings.Split(strings.Trim(sub, "/"), "/")
	switch {
	case sub == "/serverInfo" && get:
		return s.serverInfo(c)
	case sub == "/myself" && get:
		return s.myself(c)
	case sub == "/search" && (get || post):
		if !s.opt.DataCenter {
			return jiraError(http.StatusGone, "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046")
		}
		return s.search(c, s.searchOffset)
	case sub == "/search/jql" && (get || post) && !s.opt.DataCenter:
		return s.search(c, s.searchJQL)
	case sub == "/search/approximate-count" && post && !s.opt.DataCenter:
		return s.approximateCount(c)
	case sub == "/issue/bulkfetch" && post && !s.opt.DataCenter:
		return s.issueBulkfetch(c)
	case sub == "/changelog/bulkfetch" && post && !s.opt.DataCenter && c.apiVer == "3":
		return s.bulkfetch(c)
	case len(parts) == 2 && parts[0] == "issue" && get:
		return s.getIssue(c, parts[1])
	case len(parts) == 3 && parts[0] == "issue" && parts[2] == "changelog" && get && !s.opt.DataCenter:
		return s.issueChangelog(c, parts[1])
	case len(parts) == 3 && parts[0] == "issue" && parts[2] == "worklog" && get:
		return s.issueWorklogs(c, parts[1])
	case sub == "/worklog/updated" && get:
		return s.worklogChanges(c, false)
	case sub == "/worklog/deleted" && get:
		return s.worklogChanges(c, true)
	case sub == "/worklog/list" && post:
		return s.worklogList(c)
	case sub == "/status" && get:
		return ok(s.withSelf(c, s.data.Statuses, "status"))
	case sub == "/statuscategory" && get:
		cats := s.data.StatusCategories
		if cats == nil {
			cats = StatusCategories()
		}
		return ok(s.withSelf(c, cats, "statuscategory"))
	case sub == "/field" && get:
		return ok(nonNil(s.data.Fields))
	case sub == "/resolution" && get:
		return ok(s.withSelf(c, s.data.Resolutions, "resolution"))
	case sub == "/project/search" && get:
		return s.projectSearch(c)
	case len(parts) == 3 && parts[0] == "project" && parts[2] == "version" && get:
		return s.versions(c, parts[1], true)
	case len(parts) == 3 && parts[0] == "project" && parts[2] == "versions" && get:
		return s.versions(c, parts[1], false)
	}
	return notFound(s.URL + c.path)
}

func nonNil(list []Object) []Object {
	if list == nil {
		return []Object{}
	}
	return list
}

// withSelf copies list, adding a self link to items without one.
func (s *Server) withSelf(c *call, list []Object, kind string) []Object {
	out := make([]Object, 0, len(list))
	for _, o := range list {
		o = shallow(o)
		if _, has := o["self"]; !has {
			o["self"] = fmt.Sprintf("%s/rest/api/%s/%s/%v", c.base, c.apiVer, kind, o["id"])
		}
		if sc, isObj := o["statusCategory"].(Object); isObj {
			if _, has := sc["self"]; !has {
				sc = shallow(sc)
				sc["self"] = fmt.Sprintf("%s/rest/api/%s/statuscategory/%v", c.base, c.apiVer, sc["id"])
				o["statusCategory"] = sc
			}
		}
		out = append(out, o)
	}
	return out
}

func shallow(o Object) Object {
	out := make(Object, len(o)+1)
	for k, v := range o {
		out[k] = v
	}
	return out
}

func (s *Server) serverInfo(c *call) reply {
	now := s.opt.Now()
	info := Object{
		"baseUrl":        s.URL,
		"displayUrl":     s.URL,
		"deploymentType": "Cloud",
		"version":        "1001.0.0-SNAPSHOT",
		"versionNumbers": []int{1001, 0, 0},
		"buildNumber":    100289,
		"buildDate":      "2026-10-20T00:00:00.000+0000",
		"serverTime":     formatTime(now),
		"scmInfo":        "0123456789abcdef0123456789abcdef01234567",
		"serverTitle":    "Jira",
	}
	if s.opt.DataCenter {
		info["deploymentType"] = "Server"
		info["version"] = "9.12.15"
		info["versionNumbers"] = []int{9, 12, 15}
		info["buildNumber"] = 9120015
		delete(info, "displayUrl")
	}
	return ok(info)
}

func (s *Server) myself(c *call) reply {
	var me Object
	for _, u := range s.data.Users {
		if u["emailAddress"] == s.opt.Email {
			me = u
		}
	}
	if me == nil {
		me = Object{"accountId": "557058:00000000-0000-0000-0000-000000000001", "accountType": "atlassian",
			"displayName": "Robot", "emailAddress": s.opt.Email, "active": true, "timeZone": "UTC"}
	}
	me = shallow(me)
	me["self"] = fmt.Sprintf("%s/rest/api/%s/user?accountId=%v", c.base, c.apiVer, me["accountId"])
	return ok(s.render(c, me))
}

// formatTime renders t as Jira does: 2006-01-02T15:04:05.000-0700.
func formatTime(t time.Time) string { return t.Format(TimeLayout) }

// TimeLayout is the layout of Jira timestamps.
const TimeLayout = "2006-01-02T15:04:05.000-0700"

// parseTime parses a Jira timestamp in any of the layouts seen in the wild.
func parseTime(v any) (time.Time, bool) {
	str, isStr := v.(string)
	if !isStr {
		return time.Time{}, false
	}
	for _, l := range []string{TimeLayout, "2006-01-02T15:04:05.000Z07:00", time.RFC3339Nano} {
		if t, err := time.Parse(l, str); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// intParam reads a non-negative integer query parameter.
func intParam(q url.Values, name string, def int) (int, bool) {
	v := q.Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode request body: %w", err)
	}
	return nil
}

// lookup finds a visible issue by id or key.
func (s *Server) lookup(idOrKey string) *Issue {
	is := s.byID[idOrKey]
	if is == nil {
		is = s.byKey[strings.ToUpper(idOrKey)]
	}
	if is == nil || is.Deleted {
		return nil
	}
	return is
}

func issueNotFound() reply {
	return jiraError(http.StatusNotFound, "Issue does not exist or you do not have permission to see it.")
}
