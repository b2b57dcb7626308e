package jiratest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// issueChangelog serves /rest/api/{2,3}/issue/{idOrKey}/changelog: offset
// paging, oldest first, key "values".
func (s *Server) issueChangelog(c *call, idOrKey string) reply {
	is := s.lookup(idOrKey)
	if is == nil {
		return issueNotFound()
	}
	startAt, ok1 := intParam(c.query, "startAt", 0)
	maxResults, ok2 := intParam(c.query, "maxResults", 100)
	if !ok1 || !ok2 {
		return jiraError(http.StatusBadRequest, "The 'startAt' and 'maxResults' parameters must be non-negative integers.")
	}
	maxResults = min(maxResults, 100)
	total := len(is.Histories)
	end := min(startAt+maxResults, total)
	values := []Object{}
	if startAt < total {
		values = is.Histories[startAt:end]
	}
	self := fmt.Sprintf("%s/rest/api/%s/issue/%s/changelog", c.base, c.apiVer, idOrKey)
	out := Object{
		"self":       fmt.Sprintf("%s?startAt=%d&maxResults=%d", self, startAt, maxResults),
		"maxResults": maxResults,
		"startAt":    startAt,
		"total":      total,
		"isLast":     end >= total,
		"values":     values,
	}
	if end < total {
		out["nextPage"] = fmt.Sprintf("%s?&startAt=%d&maxResults=%d", self, end, maxResults)
	}
	return ok(s.render(c, out))
}

// bulkEntry is one history of one issue in a bulkfetch result.
type bulkEntry struct {
	is      *Issue
	idNum   int64
	at      time.Time
	history Object
}

// bulkfetch serves POST /rest/api/3/changelog/bulkfetch.
func (s *Server) bulkfetch(c *call) reply {
	var body struct {
		IssueIDsOrKeys []string `json:"issueIdsOrKeys"`
		FieldIDs       []string `json:"fieldIds"`
		MaxResults     *int     `json:"maxResults"`
		NextPageToken  string   `json:"nextPageToken"`
	}
	if err := json.Unmarshal(c.body, &body); err != nil {
		return jiraError(http.StatusBadRequest, "Invalid request payload. Refer to the REST API documentation and try again.")
	}
	switch n := len(body.IssueIDsOrKeys); {
	case n == 0:
		return jiraError(http.StatusBadRequest, "issueIdsOrKeys must contain at least one issue id or key.")
	case n > 1000:
		return jiraError(http.StatusBadRequest, "issueIdsOrKeys must contain at most 1000 issue ids or keys.")
	}
	if len(body.FieldIDs) > 10 {
		return jiraError(http.StatusBadRequest, "fieldIds must contain at most 10 field ids.")
	}
	limit := 1000
	if body.MaxResults != nil {
		if *body.MaxResults < 1 || *body.MaxResults > 10000 {
			return jiraError(http.StatusBadRequest, "maxResults must be between 1 and 10000.")
		}
		limit = *body.MaxResults
	}
	sig := strings.Join(body.IssueIDsOrKeys, ",") + "|" + strings.Join(body.FieldIDs, ",")
	offset := 0
	if body.NextPageToken != "" {
		st := s.tokens[body.NextPageToken]
		if st == nil || st.kind != "bulk" || st.sig != sig {
			return jiraError(http.StatusBadRequest, "The provided next page token is invalid or expired.")
		}
		offset = st.offset
	}

	want := map[string]bool{}
	for _, f := range body.FieldIDs {
		want[f] = true
	}
	seen := map[*Issue]bool{}
	var all []bulkEntry
	for _, k := range body.IssueIDsOrKeys {
		is := s.lookup(k)
		if is == nil || seen[is] {
			continue
		}
		seen[is] = true
		for _, h := range is.Histories {
			if len(want) > 0 {
				h = filterItems(h, want)
				if h == nil {
					continue
				}
			}
			at, _ := parseTime(h["created"])
			all = append(all, bulkEntry{is: is, idNum: idNum(is), at: at, history: h})
		}
	}
	slices.SortStableFunc(all, func(a, b bulkEntry) int {
		return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.idNum, b.idNum))
	})
	end := min(offset+limit, len(all))
	logs := []Object{}
	var cur Object
	for _, e := range all[min(offset, len(all)):end] {
		if cur == nil || cur["issueId"] != e.is.ID {
			cur = Object{"issueId": e.is.ID, "changeHistories": []Object{}}
			logs = append(logs, cur)
		}
		cur["changeHistories"] = append(cur["changeHistories"].([]Object), e.history)
	}
	out := Object{"issueChangeLogs": logs}
	if end < len(all) {
		out["nextPageToken"] = s.newToken(&pageToken{kind: "bulk", sig: sig, offset: end})
	}
	return ok(s.render(c, out))
}

// filterItems keeps the items of h whose field id is wanted; nil if none.
func filterItems(h Object, want map[string]bool) Object {
	items, _ := h["items"].([]any)
	var typed []Object
	if items == nil {
		typed, _ = h["items"].([]Object)
		for _, o := range typed {
			items = append(items, o)
		}
	}
	var kept []any
	for _, it := range items {
		o, _ := it.(Object)
		id, _ := o["fieldId"].(string)
		if id == "" {
			id, _ = o["field"].(string)
		}
		if want[id] {
			kept = append(kept, o)
		}
	}
	if kept == nil {
		return nil
	}
	out := shallow(h)
	out["items"] = kept
	return out
}
