package jiratest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

func (s *Server) project(keyOrID string) Object {
	for _, p := range s.data.Projects {
		if strings.EqualFold(fmt.Sprint(p["key"]), keyOrID) || fmt.Sprint(p["id"]) == keyOrID {
			return p
		}
	}
	return nil
}

func (s *Server) renderVersion(c *call, v Object) Object {
	v = shallow(v)
	if _, has := v["self"]; !has {
		v["self"] = fmt.Sprintf("%s/rest/api/%s/version/%v", c.base, c.apiVer, v["id"])
	}
	for _, k := range []string{"releaseDate", "startDate"} {
		d, _ := v[k].(string)
		if d == "" {
			delete(v, k)
			continue
		}
		if t, err := time.Parse(time.DateOnly, d); err == nil {
			user := "user" + strings.ToUpper(k[:1]) + k[1:]
			v[user] = t.Format("2/Jan/2006")
		}
	}
	if released, _ := v["released"].(bool); !released {
		overdue := false
		if d, _ := v["releaseDate"].(string); d != "" {
			overdue = d < s.opt.Now().Format(time.DateOnly)
		}
		v["overdue"] = overdue
	} else {
		delete(v, "overdue")
	}
	return v
}

// versions serves /project/{key}/version (paged) and /project/{key}/versions.
func (s *Server) versions(c *call, key string, paged bool) reply {
	p := s.project(key)
	if p == nil {
		return jiraError(http.StatusNotFound, fmt.Sprintf("No project could be found with key '%s'.", key))
	}
	all := s.data.Versions[fmt.Sprint(p["key"])]
	if !paged {
		out := make([]Object, 0, len(all))
		for _, v := range all {
			out = append(out, s.renderVersion(c, v))
		}
		return ok(out)
	}
	startAt, ok1 := intParam(c.query, "startAt", 0)
	maxResults, ok2 := intParam(c.query, "maxResults", 50)
	if !ok1 || !ok2 {
		return jiraError(http.StatusBadRequest, "The 'startAt' and 'maxResults' parameters must be non-negative integers.")
	}
	maxResults = min(maxResults, 50)
	self := fmt.Sprintf("%s/rest/api/%s/project/%s/version", c.base, c.apiVer, key)
	return ok(s.offsetPage(c, all, startAt, maxResults, self, true, func(v Object) Object { return s.renderVersion(c, v) }))
}

// offsetPage is a PageBean: self, nextPage, maxResults, startAt, total, isLast, values.
func (s *Server) offsetPage(c *call, all []Object, startAt, maxResults int, self string, withTotal bool, render func(Object) Object) Object {
	values := []Object{}
	end := min(startAt+maxResults, len(all))
	for i := startAt; i < end; i++ {
		values = append(values, render(all[i]))
	}
	last := end >= len(all) || startAt >= len(all)
	out := Object{"maxResults": maxResults, "startAt": startAt, "isLast": last, "values": values}
	if withTotal {
		out["total"] = len(all)
	}
	if self != "" {
		out["self"] = fmt.Sprintf("%s?startAt=%d&maxResults=%d", self, startAt, maxResults)
		if !last {
			out["nextPage"] = fmt.Sprintf("%s?startAt=%d&maxResults=%d", self, end, maxResults)
		}
	}
	return out
}

// projectSearch serves /rest/api/{2,3}/project/search.
func (s *Server) projectSearch(c *call) reply {
	startAt, ok1 := intParam(c.query, "startAt", 0)
	maxResults, ok2 := intParam(c.query, "maxResults", 50)
	if !ok1 || !ok2 {
		return jiraError(http.StatusBadRequest, "The 'startAt' and 'maxResults' parameters must be non-negative integers.")
	}
	maxResults = min(maxResults, 100)
	all := s.data.Projects
	if keys := c.query["keys"]; len(keys) > 0 {
		all = nil
		for _, p := range s.data.Projects {
			if slices.Contains(keys, fmt.Sprint(p["key"])) {
				all = append(all, p)
			}
		}
	}
	self := fmt.Sprintf("%s/rest/api/%s/project/search", c.base, c.apiVer)
	return ok(s.offsetPage(c, all, startAt, maxResults, self, true, func(p Object) Object {
		p = shallow(p)
		if _, has := p["self"]; !has {
			p["self"] = fmt.Sprintf("%s/rest/api/%s/project/%v", c.base, c.apiVer, p["id"])
		}
		return p
	}))
}

func (s *Server) board(id string) *Board {
	for _, b := range s.data.Boards {
		if fmt.Sprint(jsonNumber(b.Object["id"])) == id {
			return b
		}
	}
	return nil
}

func (s *Server) renderBoard(c *call, b *Board) Object {
	o := shallow(b.Object)
	if _, has := o["self"]; !has {
		o["self"] = fmt.Sprintf("%s/rest/agile/1.0/board/%v", c.base, jsonNumber(o["id"]))
	}
	return o
}

func (s *Server) renderSprint(c *call, sp Object) Object {
	if _, has := sp["self"]; has {
		return sp
	}
	sp = shallow(sp)
	sp["self"] = fmt.Sprintf("%s/rest/agile/1.0/sprint/%v", c.base, jsonNumber(sp["id"]))
	return sp
}

func boardNotFound(id string) reply {
	return jiraError(http.StatusNotFound, fmt.Sprintf("Board %s does not exist or you do not have permission to see it.", id))
}

var sprintStateOrder = map[string]int{"closed": 0, "active": 1, "future": 2}

// routeAgile serves /rest/agile/1.0/….
func (s *Server) routeAgile(c *call, sub string) reply {
	if c.r.Method != http.MethodGet {
		return notFound(s.URL + c.path)
	}
	parts := strings.Split(strings.Trim(sub, "/"), "/")
	startAt, ok1 := intParam(c.query, "startAt", 0)
	maxResults, ok2 := intParam(c.query, "maxResults", 50)
	if !ok1 || !ok2 {
		return jiraError(http.StatusBadRequest, "The 'startAt' and 'maxResults' parameters must be non-negative integers.")
	}
	maxResults = min(maxResults, 50)
	switch {
	case len(parts) == 1 && parts[0] == "board":
		var all []Object
		types := splitList(c.query["type"])
		proj := c.query.Get("projectKeyOrId")
		name := strings.ToLower(c.query.Get("name"))
		for _, b := range s.data.Boards {
			loc, _ := b.Object["location"].(Object)
			switch {
			case len(types) > 0 && !slices.Contains(types, fmt.Sprint(b.Object["type"])):
				continue
			case proj != "" && !strings.EqualFold(fmt.Sprint(loc["projectKey"]), proj) && fmt.Sprint(jsonNumber(loc["projectId"])) != proj:
				continue
			case name != "" && !strings.Contains(strings.ToLower(fmt.Sprint(b.Object["name"])), name):
				continue
			}
			all = append(all, s.renderBoard(c, b))
		}
		return ok(s.offsetPage(c, all, startAt, maxResults, "", true, func(o Object) Object { return o }))
	case len(parts) == 2 && parts[0] == "board":
		b := s.board(parts[1])
		if b == nil {
			return boardNotFound(parts[1])
		}
		return ok(s.renderBoard(c, b))
	case len(parts) == 3 && parts[0] == "board" && parts[2] == "configuration":
		b := s.board(parts[1])
		if b == nil {
			return boardNotFound(parts[1])
		}
		cfg := shallow(b.Configuration)
		for _, k := range []string{"id", "name", "type"} {
			if _, has := cfg[k]; !has {
				cfg[k] = b.Object[k]
			}
		}
		if _, has := cfg["self"]; !has {
			cfg["self"] = fmt.Sprintf("%s/rest/agile/1.0/board/%s/configuration", c.base, parts[1])
		}
		return ok(cfg)
	case len(parts) == 3 && parts[0] == "board" && parts[2] == "sprint":
		b := s.board(parts[1])
		if b == nil {
			return boardNotFound(parts[1])
		}
		states := splitList(c.query["state"])
		var all []Object
		for _, sp := range b.Sprints {
			if len(states) == 0 || slices.Contains(states, fmt.Sprint(sp["state"])) {
				all = append(all, sp)
			}
		}
		slices.SortStableFunc(all, func(a, b Object) int {
			return sprintStateOrder[fmt.Sprint(a["state"])] - sprintStateOrder[fmt.Sprint(b["state"])]
		})
		return ok(s.offsetPage(c, all, startAt, maxResults, "", false, func(o Object) Object { return s.renderSprint(c, o) }))
	case len(parts) == 2 && parts[0] == "sprint":
		for _, b := range s.data.Boards {
			for _, sp := range b.Sprints {
				if fmt.Sprint(jsonNumber(sp["id"])) == parts[1] {
					return ok(s.renderSprint(c, sp))
				}
			}
		}
		if _, err := strconv.Atoi(parts[1]); err != nil {
			return jiraError(http.StatusBadRequest, "The sprint id must be a number.")
		}
		return jiraError(http.StatusNotFound, "Sprint does not exist or you do not have permission to view it.")
	}
	return notFound(s.URL + c.path)
}

func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for p := range strings.SplitSeq(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}
