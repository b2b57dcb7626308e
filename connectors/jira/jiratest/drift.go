package jiratest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SearchCall describes a search request (search/jql on Cloud, /search on
// Data Center) about to be served, for a Drift hook.
type SearchCall struct {
	N      int      // 1 for the first search request since the hook was set
	Path   string   // the search path
	JQL    string   // as sent
	Fields []string // as sent; ["id"] for id listings

	s *Server // lock held
}

// EmptyPages, from a Drift hook, makes this and the next n-1 search pages
// empty (see Server.EmptyPages).
func (c SearchCall) EmptyPages(n int) { c.s.emptyPages = n }

// RepeatLastIssue, from a Drift hook, does Server.RepeatLastIssue from this page on.
func (c SearchCall) RepeatLastIssue(n int) { c.s.repeatPages = n }

// ShrinkPages, from a Drift hook, does Server.ShrinkPages from this page on.
func (c SearchCall) ShrinkPages(n, size int) { c.s.shrinkPages, c.s.shrinkSize = n, size }

// BadBody, from a Drift hook, makes this search page's reply a bad body.
func (c SearchCall) BadBody(kind BodyFault) {
	c.s.bodyFaults = append(c.s.bodyFaults, &bodyFault{path: c.Path, n: 1, kind: kind})
}

// Throttle, from a Drift hook, makes the next n search requests answer 429
// with Retry-After (see Server.Throttle).
func (c SearchCall) Throttle(n int, retryAfter time.Duration) {
	c.s.faults = append(c.s.faults, &fault{path: c.Path, n: n, status: http.StatusTooManyRequests, retryAfter: retryAfter})
}

// IDListing reports whether the call lists ids only (a reconciliation).
func (c SearchCall) IDListing() bool { return len(c.Fields) == 1 && c.Fields[0] == "id" }

// Drift sets a hook run before each search request is served, under the
// server's lock, with the data to change: the site changing while a sync
// pages through it (issues edited, moved, deleted between two page
// requests). nil removes it.
func (s *Server) Drift(f func(d *Dataset, c SearchCall)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drift, s.driftN = f, 0
}

// Read calls f with the served data under the server's lock; f must not
// change it (use Mutate).
func (s *Server) Read(f func(d *Dataset)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.data)
}

// RepeatLastIssue makes each of the next n search pages begin with the last
// issue of the page of the same listing served before it (the same query,
// or the same but for an "AND id > N" bound), as a page boundary shifting
// under an index refresh does.
func (s *Server) RepeatLastIssue(n int) { s.pageFault(&s.repeatPages, n) }

// ShrinkPages makes each of the next n search pages carry at most size
// issues, with the paging fields of the full page (nextPageToken and isLast
// on Cloud, total on Data Center): the rest are silently missing.
func (s *Server) ShrinkPages(n, size int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shrinkPages, s.shrinkSize = n, size
}

// EmptyPages makes each of the next n search pages carry no issues while
// saying more follow (a nextPageToken and isLast false on Cloud, a total
// past startAt on Data Center).
func (s *Server) EmptyPages(n int) { s.pageFault(&s.emptyPages, n) }

func (s *Server) pageFault(counter *int, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	*counter = n
}

// BodyFault is what BadBody makes a reply carry.
type BodyFault int

const (
	// HTMLBody is a 200 with a proxy's HTML maintenance page.
	HTMLBody BodyFault = iota + 1
	// TruncatedBody is a 200 whose JSON stops half-way.
	TruncatedBody
)

// BadBody makes the next n requests whose path starts with path answer
// 200 with a body that is not the JSON asked for.
func (s *Server) BadBody(path string, n int, kind BodyFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bodyFaults = append(s.bodyFaults, &bodyFault{path: path, n: n, kind: kind})
}

// ClearBodyFaults drops every pending BadBody.
func (s *Server) ClearBodyFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bodyFaults = nil
}

type bodyFault struct {
	path string
	n    int
	kind BodyFault
}

// takeBodyFault consumes the first body fault matching path (lock held).
func (s *Server) takeBodyFault(path string) BodyFault {
	for i, f := range s.bodyFaults {
		if f.n > 0 && strings.HasPrefix(path, f.path) {
			f.n--
			if f.n == 0 {
				s.bodyFaults = slices.Delete(s.bodyFaults, i, i+1)
			}
			return f.kind
		}
	}
	return 0
}

// badBody renders a fault's body and content type from the real reply.
func badBody(kind BodyFault, real []byte) ([]byte, string) {
	if kind == HTMLBody {
		return []byte("<!DOCTYPE html>\n<html><head><title>Site maintenance</title></head><body><h1>We'll be back soon</h1></body></html>\n"),
			"text/html;charset=UTF-8"
	}
	return real[:len(real)/2], "application/json;charset=UTF-8"
}

var idBound = regexp.MustCompile(`(?i)\s+AND\s+id\s*>\s*\d+`)

// search serves a search request: the Drift hook first, then the page,
// then the page faults.
func (s *Server) search(c *call, serve func(*call) reply) reply {
	p, perr := s.readSearch(c)
	// Pages of one listing: the same query but for a keyset bound.
	sig := fmt.Sprint(p.fields, p.expand, idBound.ReplaceAllString(p.jql, ""))
	if s.drift != nil && perr == nil {
		s.driftN++
		s.drift(s.data, SearchCall{N: s.driftN, Path: c.path, JQL: p.jql, Fields: p.fields, s: s})
		s.reindex()
	}
	rep := serve(c)
	out, isObj := rep.body.(Object)
	if rep.status != http.StatusOK || !isObj {
		return rep
	}
	issues, _ := out["issues"].([]Object)
	// Only a next page repeats (not a first page, nor a page asked again).
	next := (idBound.MatchString(p.jql) || p.startAt > 0 || p.hasToken) && p.jql+fmt.Sprint(p.startAt, p.token) != s.lastPage
	if s.repeatPages > 0 && s.lastIssue != nil && s.lastSig == sig && next {
		s.repeatPages--
		issues = append([]Object{s.lastIssue}, issues...)
	}
	if s.shrinkPages > 0 {
		s.shrinkPages--
		issues = issues[:min(len(issues), s.shrinkSize)]
	}
	if s.emptyPages > 0 {
		s.emptyPages--
		issues = []Object{}
		if s.opt.DataCenter {
			start, _ := out["startAt"].(int)
			if total, _ := out["total"].(int); total <= start {
				out["total"] = start + 1
			}
		} else {
			if _, has := out["nextPageToken"]; !has || out["nextPageToken"] == nil {
				out["nextPageToken"] = s.newToken(&pageToken{kind: "search", sig: "empty-page-fault"})
			}
			if !s.opt.OmitIsLast {
				out["isLast"] = false
			}
		}
	}
	out["issues"] = issues
	s.lastIssue = nil // a walk's pages follow each other: an empty page ends it
	s.lastPage = p.jql + fmt.Sprint(p.startAt, p.token)
	if len(issues) > 0 {
		s.lastIssue, s.lastSig = issues[len(issues)-1], sig
	}
	return rep
}

// MoveIssue moves the issue to project toProject at time at, as Jira's
// move does: a new key (the next number in that project), the project
// field, "project" and "Key" items in a new history, and updated. The
// children's parent field names the new key (Jira renders it by id) but
// their updated stays: Jira does not touch them. It returns the new key,
// or "" when the issue or the project does not exist.
func (d *Dataset) MoveIssue(key, toProject string, at time.Time) string {
	is := d.Issue(key)
	var proj Object
	for _, p := range d.Projects {
		if strings.EqualFold(fmt.Sprint(p["key"]), toProject) {
			proj = p
		}
	}
	if is == nil || proj == nil {
		return ""
	}
	top := int64(0)
	pk := fmt.Sprint(proj["key"])
	for _, o := range d.Issues {
		if p, n, ok := splitKey(o.Key); ok && p == pk && n > top {
			top = n
		}
	}
	newKey := fmt.Sprintf("%s-%d", pk, top+1)
	old := fieldObj(is, "project")
	items := []any{
		Object{"field": "project", "fieldtype": "jira", "fieldId": "project", "from": fmt.Sprint(old["id"]), "fromString": old["name"],
			"to": fmt.Sprint(proj["id"]), "toString": proj["name"]},
		Object{"field": "Key", "fieldtype": "jira", "from": nil, "fromString": is.Key, "to": nil, "toString": newKey},
	}
	is.Histories = append(is.Histories, Object{"id": strconv.FormatInt(d.nextHistoryID(), 10), "author": nil,
		"created": formatTime(at), "items": items})
	is.Fields["project"] = proj
	is.Fields["updated"] = formatTime(at)
	// Fix versions belong to a project: Jira asks to map them; here they go.
	is.Fields["fixVersions"] = []any{}
	for _, o := range d.Issues {
		if p, isObj := o.Fields["parent"].(Object); isObj && fmt.Sprint(p["id"]) == is.ID {
			p = shallow(p)
			p["key"] = newKey
			o.Fields["parent"] = p
		}
	}
	is.Key = newKey
	return newKey
}

// RenameVersion renames a version of a project; issues naming it in their
// fix versions show the new name (their updated stays, as in Jira). It
// reports whether the version exists.
func (d *Dataset) RenameVersion(projectKey, oldName, newName string) bool {
	var id any
	for _, v := range d.Versions[projectKey] {
		if v["name"] == oldName {
			v["name"] = newName
			id = v["id"]
		}
	}
	if id == nil {
		return false
	}
	for _, is := range d.Issues {
		fvs, _ := is.Fields["fixVersions"].([]any)
		for i, fv := range fvs {
			if o, isObj := fv.(Object); isObj && fmt.Sprint(o["id"]) == fmt.Sprint(id) {
				o = shallow(o)
				o["name"] = newName
				fvs[i] = o
			}
		}
	}
	return true
}

// Raw is a field value rendered exactly as given (for payloads a Go value
// cannot hold, such as a lone UTF-16 surrogate "x\ud83d y").
func Raw(jsonText string) json.RawMessage { return json.RawMessage(jsonText) }
