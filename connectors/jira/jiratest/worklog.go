package jiratest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
)

func visibleWorklogs(is *Issue) []*Worklog {
	var out []*Worklog
	for _, w := range is.Worklogs {
		if w.Deleted.IsZero() {
			out = append(out, w)
		}
	}
	return out
}

func (s *Server) worklogObject(c *call, is *Issue, w *Worklog) Object {
	o := w.Object
	if _, has := o["self"]; !has {
		o = shallow(o)
		o["self"] = fmt.Sprintf("%s/rest/api/%s/issue/%s/worklog/%v", c.base, c.apiVerOr("3"), is.ID, o["id"])
	}
	return o
}

// issueWorklogs serves /rest/api/{2,3}/issue/{idOrKey}/worklog.
func (s *Server) issueWorklogs(c *call, idOrKey string) reply {
	is := s.lookup(idOrKey)
	if is == nil {
		return issueNotFound()
	}
	startAt, ok1 := intParam(c.query, "startAt", 0)
	maxResults, ok2 := intParam(c.query, "maxResults", 5000)
	if !ok1 || !ok2 {
		return jiraError(http.StatusBadRequest, "The 'startAt' and 'maxResults' parameters must be non-negative integers.")
	}
	maxResults = min(maxResults, 5000)
	wls := visibleWorklogs(is)
	list := []Object{}
	for i := startAt; i < len(wls) && i < startAt+maxResults; i++ {
		list = append(list, s.worklogObject(c, is, wls[i]))
	}
	return ok(s.render(c, Object{"startAt": startAt, "maxResults": maxResults, "total": len(wls), "worklogs": list}))
}

type worklogChange struct {
	id int64
	at int64
}

// worklogChanges serves /worklog/updated and /worklog/deleted.
func (s *Server) worklogChanges(c *call, deleted bool) reply {
	since := int64(0)
	if v := c.query.Get("since"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return jiraError(http.StatusBadRequest, "The 'since' parameter must be a number of milliseconds.")
		}
		since = n
	}
	cutoff := msOf(s.opt.Now().Add(-s.opt.WorklogExclusion))
	var all []worklogChange
	for _, is := range s.data.Issues {
		if is.Deleted {
			continue
		}
		for _, w := range is.Worklogs {
			var at time.Time
			switch {
			case deleted && !w.Deleted.IsZero():
				at = w.Deleted
			case !deleted && w.Deleted.IsZero():
				at = w.Updated
			default:
				continue
			}
			ms := msOf(at)
			if ms < since || ms > cutoff {
				continue
			}
			id, _ := strconv.ParseInt(fmt.Sprint(w.Object["id"]), 10, 64)
			all = append(all, worklogChange{id: id, at: ms})
		}
	}
	slices.SortFunc(all, func(a, b worklogChange) int { return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.id, b.id)) })
	last := len(all) <= 1000
	all = all[:min(len(all), 1000)]
	values := make([]Object, 0, len(all))
	until := since
	for _, ch := range all {
		values = append(values, Object{"worklogId": ch.id, "updatedTime": ch.at, "properties": []any{}})
		until = ch.at
	}
	kind := "updated"
	if deleted {
		kind = "deleted"
	}
	self := fmt.Sprintf("%s/rest/api/%s/worklog/%s", c.base, c.apiVer, kind)
	return ok(Object{
		"values":   values,
		"since":    since,
		"until":    until,
		"self":     fmt.Sprintf("%s?since=%d", self, since),
		"nextPage": fmt.Sprintf("%s?since=%d", self, until),
		"lastPage": last,
	})
}

// worklogList serves POST /worklog/list.
func (s *Server) worklogList(c *call) reply {
	var body struct {
		IDs []json.Number `json:"ids"`
	}
	if err := decodeJSON(c.body, &body); err != nil {
		return jiraError(http.StatusBadRequest, "Invalid request payload. Refer to the REST API documentation and try again.")
	}
	if len(body.IDs) == 0 || len(body.IDs) > 1000 {
		return jiraError(http.StatusBadRequest, "The number of worklog ids must be between 1 and 1000.")
	}
	type loc struct {
		is *Issue
		w  *Worklog
	}
	index := map[string]loc{}
	for _, is := range s.data.Issues {
		if is.Deleted {
			continue
		}
		for _, w := range is.Worklogs {
			if w.Deleted.IsZero() {
				index[fmt.Sprint(w.Object["id"])] = loc{is, w}
			}
		}
	}
	out := []Object{}
	seen := map[string]bool{}
	for _, id := range body.IDs {
		l, found := index[id.String()]
		if !found || seen[id.String()] {
			continue
		}
		seen[id.String()] = true
		out = append(out, s.worklogObject(c, l.is, l.w))
	}
	return ok(s.render(c, out))
}
