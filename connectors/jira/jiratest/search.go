package jiratest

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// pageToken is the server-side state behind an opaque nextPageToken.
type pageToken struct {
	kind   string // "search" or "bulk"
	sig    string // the query it belongs to
	offset int
	ids    []string // search: matching issue ids, in order, fixed at the first page
	// A keyset query (an id lower bound, id order) is served live, as
	// Jira's index serves it: the next page is the matches after the last
	// id served (keyset), not a list fixed at the first page.
	keyset *jqlQuery
	after  int64
}

func (s *Server) newToken(t *pageToken) string {
	var b [12]byte
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	s.tokens[tok] = t
	return tok
}

// searchParams are the parameters of a search request, GET or POST.
type searchParams struct {
	jql        string
	token      string
	hasToken   bool
	maxResults int
	hasMax     bool
	startAt    int
	fields     []string
	expand     []string
}

func (s *Server) readSearch(c *call) (searchParams, error) {
	var p searchParams
	if c.r.Method == http.MethodPost {
		var body struct {
			JQL           string          `json:"jql"`
			NextPageToken *string         `json:"nextPageToken"`
			MaxResults    *int            `json:"maxResults"`
			StartAt       int             `json:"startAt"`
			Fields        []string        `json:"fields"`
			Expand        json.RawMessage `json:"expand"`
		}
		if err := json.Unmarshal(c.body, &body); err != nil {
			return p, &requestError{"Invalid request payload. Refer to the REST API documentation and try again."}
		}
		p.jql, p.startAt, p.fields = body.JQL, body.StartAt, body.Fields
		if body.NextPageToken != nil {
			p.token, p.hasToken = *body.NextPageToken, *body.NextPageToken != ""
		}
		if body.MaxResults != nil {
			p.maxResults, p.hasMax = *body.MaxResults, true
		}
		if len(body.Expand) > 0 {
			var one string
			var list []string
			if json.Unmarshal(body.Expand, &one) == nil {
				list = strings.Split(one, ",")
			} else if err := json.Unmarshal(body.Expand, &list); err != nil {
				return p, &requestError{"Invalid request payload. Refer to the REST API documentation and try again."}
			}
			p.expand = list
		}
		return p, nil
	}
	q := c.query
	p.jql = q.Get("jql")
	p.token, p.hasToken = q.Get("nextPageToken"), q.Get("nextPageToken") != ""
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return p, &requestError{"The 'maxResults' parameter must be an integer."}
		}
		p.maxResults, p.hasMax = n, true
	}
	if v := q.Get("startAt"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return p, &requestError{"The 'startAt' parameter must be an integer."}
		}
		p.startAt = n
	}
	p.fields = q["fields"]
	for _, e := range q["expand"] {
		p.expand = append(p.expand, strings.Split(e, ",")...)
	}
	return p, nil
}

func hasExpand(list []string, what string) bool {
	for _, e := range list {
		if strings.TrimSpace(e) == what {
			return true
		}
	}
	return false
}

// searchJQL serves the Cloud enhanced search, /rest/api/{2,3}/search/jql.
func (s *Server) searchJQL(c *call) reply {
	p, err := s.readSearch(c)
	if err != nil {
		return jiraError(http.StatusBadRequest, err.Error())
	}
	sel := parseFields(p.fields, "id")
	view := issueView{sel: sel, changelog: hasExpand(p.expand, "changelog"),
		changelogCap: s.opt.EmbeddedChangelogCap, newestFirst: true}
	sig := strings.TrimSpace(p.jql)

	limit := 50
	if p.hasMax && p.maxResults > 0 {
		limit = p.maxResults
	}
	pageCap := s.opt.IDPageCap
	if sel.heavy() || view.changelog {
		pageCap = s.opt.PageCap
	}
	limit = min(limit, pageCap)

	var st *pageToken
	if p.hasToken {
		st = s.tokens[p.token]
		if st == nil || st.kind != "search" || st.sig != sig {
			return jiraError(http.StatusBadRequest, "The provided next page token is invalid or expired.")
		}
	} else {
		q, err := s.parseJQL(p.jql)
		if err != nil {
			return jiraError(http.StatusBadRequest, err.Error())
		}
		if q.where == nil {
			return jiraError(http.StatusBadRequest, "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.")
		}
		if after, ok := q.keysetBound(); ok {
			st = &pageToken{kind: "search", sig: sig, keyset: q, after: after}
		} else {
			matched := s.matchAndSort(q)
			st = &pageToken{kind: "search", sig: sig, ids: make([]string, len(matched))}
			for i, is := range matched {
				st.ids[i] = is.ID
			}
		}
	}

	issues := []Object{}
	var last bool
	var next *pageToken
	if st.keyset != nil {
		page := s.matchAfter(st.keyset, st.after, limit+1)
		last = len(page) <= limit
		page = page[:min(limit, len(page))]
		for _, is := range page {
			issues = append(issues, s.renderIssue(c, is, view))
		}
		if !last {
			next = &pageToken{kind: "search", sig: sig, keyset: st.keyset, after: idNum(page[len(page)-1])}
		}
	} else {
		end := min(st.offset+limit, len(st.ids))
		for _, id := range st.ids[st.offset:end] {
			if is := s.byID[id]; is != nil && !is.Deleted {
				issues = append(issues, s.renderIssue(c, is, view))
			}
		}
		last = end >= len(st.ids)
		if !last {
			next = &pageToken{kind: "search", sig: sig, offset: end, ids: st.ids}
		}
	}
	out := Object{"issues": issues}
	if next != nil {
		out["nextPageToken"] = s.newToken(next)
	} else if s.opt.NullLastToken {
		out["nextPageToken"] = nil
	}
	if !s.opt.OmitIsLast {
		out["isLast"] = last
	}
	return ok(out)
}

// searchOffset serves the Data Center /rest/api/2/search.
func (s *Server) searchOffset(c *call) reply {
	p, err := s.readSearch(c)
	if err != nil {
		return jiraError(http.StatusBadRequest, err.Error())
	}
	q, err := s.parseJQL(p.jql)
	if err != nil {
		return jiraError(http.StatusBadRequest, err.Error())
	}
	if p.startAt < 0 {
		p.startAt = 0
	}
	limit := 50
	if p.hasMax && p.maxResults >= 0 {
		limit = p.maxResults
	}
	limit = min(limit, s.opt.MaxResultsCap)
	view := issueView{sel: parseFields(p.fields, "*navigable"), changelog: hasExpand(p.expand, "changelog")}
	matched := s.matchAndSort(q)
	issues := []Object{}
	for i := p.startAt; i < len(matched) && i < p.startAt+limit; i++ {
		issues = append(issues, s.renderIssue(c, matched[i], view))
	}
	return ok(Object{"expand": "schema,names", "startAt": p.startAt, "maxResults": limit, "total": len(matched), "issues": issues})
}

// getIssue serves /rest/api/{2,3}/issue/{idOrKey}.
func (s *Server) getIssue(c *call, idOrKey string) reply {
	is := s.lookup(idOrKey)
	if is == nil {
		return issueNotFound()
	}
	var expand []string
	for _, e := range c.query["expand"] {
		expand = append(expand, strings.Split(e, ",")...)
	}
	view := issueView{sel: parseFields(c.query["fields"], "*all"), changelog: hasExpand(expand, "changelog")}
	if !s.opt.DataCenter {
		view.changelogCap, view.newestFirst = 100, true
	}
	return ok(s.renderIssue(c, is, view))
}

// approximateCount serves POST /rest/api/3/search/approximate-count.
func (s *Server) approximateCount(c *call) reply {
	var body struct {
		JQL string `json:"jql"`
	}
	if err := json.Unmarshal(c.body, &body); err != nil {
		return jiraError(http.StatusBadRequest, "Invalid request payload. Refer to the REST API documentation and try again.")
	}
	q, err := s.parseJQL(body.JQL)
	if err != nil {
		return jiraError(http.StatusBadRequest, err.Error())
	}
	if q.where == nil {
		return jiraError(http.StatusBadRequest, "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.")
	}
	return ok(Object{"count": len(s.matchAndSort(q))})
}

// issueBulkfetch serves POST /rest/api/3/issue/bulkfetch: up to 100 issues,
// ascending id, unknown ones reported in issueErrors.
func (s *Server) issueBulkfetch(c *call) reply {
	var body struct {
		IssueIDsOrKeys []string `json:"issueIdsOrKeys"`
		Fields         []string `json:"fields"`
		Expand         []string `json:"expand"`
	}
	if err := json.Unmarshal(c.body, &body); err != nil {
		return jiraError(http.StatusBadRequest, "Invalid request payload. Refer to the REST API documentation and try again.")
	}
	if n := len(body.IssueIDsOrKeys); n == 0 || n > 100 {
		return jiraError(http.StatusBadRequest, "issueIdsOrKeys must contain between 1 and 100 issue ids or keys.")
	}
	var found []*Issue
	issueErrors := []Object{}
	seen := map[*Issue]bool{}
	for _, k := range body.IssueIDsOrKeys {
		is := s.lookup(k)
		if is == nil {
			issueErrors = append(issueErrors, Object{"id": k, "errorMessages": []string{"Issue does not exist or you do not have permission to see it."}})
			continue
		}
		if !seen[is] {
			seen[is] = true
			found = append(found, is)
		}
	}
	slices.SortFunc(found, func(a, b *Issue) int { return cmp.Compare(idNum(a), idNum(b)) })
	view := issueView{sel: parseFields(body.Fields, "*navigable"), changelog: hasExpand(body.Expand, "changelog"),
		changelogCap: s.opt.EmbeddedChangelogCap, newestFirst: true}
	issues := make([]Object, 0, len(found))
	for _, is := range found {
		issues = append(issues, s.renderIssue(c, is, view))
	}
	return ok(Object{"expand": "schema,names", "issues": issues, "issueErrors": issueErrors})
}
