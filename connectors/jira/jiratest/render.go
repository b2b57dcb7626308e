package jiratest

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"
)

// SprintFieldType is schema.custom of the sprint custom field.
const SprintFieldType = "com.pyxis.greenhopper.jira:gh-sprint"

// StoryPointsFieldType is schema.custom of the Cloud "Story point estimate" field.
const StoryPointsFieldType = "com.pyxis.greenhopper.jira:jsw-story-points"

// StatusCategories returns the four real status categories (go-jira mock
// data all_statuscategories.json), without self links.
func StatusCategories() []Object {
	return []Object{
		{"id": 1, "key": "undefined", "colorName": "medium-gray", "name": "No Category"},
		{"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"},
		{"id": 4, "key": "indeterminate", "colorName": "yellow", "name": "In Progress"},
		{"id": 3, "key": "done", "colorName": "green", "name": "Done"},
	}
}

// fieldSel is a parsed fields parameter.
type fieldSel struct {
	idOnly  bool // search/jql default: {"id"} only
	all     bool
	include map[string]bool
	exclude map[string]bool
}

func parseFields(list []string, def string) fieldSel {
	var items []string
	for _, f := range list {
		for p := range strings.SplitSeq(f, ",") {
			if p = strings.TrimSpace(p); p != "" {
				items = append(items, p)
			}
		}
	}
	if len(items) == 0 {
		items = []string{def}
	}
	sel := fieldSel{include: map[string]bool{}, exclude: map[string]bool{}}
	for _, p := range items {
		switch {
		case p == "*all" || p == "*navigable":
			sel.all = true
		case strings.HasPrefix(p, "-"):
			sel.exclude[p[1:]] = true
		default:
			sel.include[p] = true
		}
	}
	if !sel.all && len(sel.exclude) == 0 {
		only := true
		for f := range sel.include {
			if f != "id" && f != "key" {
				only = false
			}
		}
		sel.idOnly = only && len(items) == 1 && items[0] == "id" && def == "id" && len(list) == 0
	}
	return sel
}

// heavy reports whether sel asks for fields other than id and key.
func (sel fieldSel) heavy() bool {
	if sel.all {
		return true
	}
	for f := range sel.include {
		if f != "id" && f != "key" {
			return true
		}
	}
	return false
}

func (sel fieldSel) wants(f string) bool {
	if sel.exclude[f] {
		return false
	}
	return sel.all || sel.include[f]
}

// issueView says how to render an issue.
type issueView struct {
	sel          fieldSel
	changelog    bool
	changelogCap int  // 0: every history
	newestFirst  bool // order of embedded histories
}

const issueExpand = "operations,versionedRepresentations,editmeta,changelog,renderedFields"

func (s *Server) renderIssue(c *call, is *Issue, v issueView) Object {
	if v.sel.idOnly && !v.changelog {
		return Object{"id": is.ID}
	}
	out := Object{
		"expand": issueExpand,
		"id":     is.ID,
		"self":   fmt.Sprintf("%s/rest/api/%s/issue/%s", c.base, c.apiVerOr("3"), is.ID),
		"key":    is.Key,
	}
	if v.sel.heavy() {
		fields := Object{}
		for k, val := range is.Fields {
			if k != "worklog" && v.sel.wants(k) {
				fields[k] = val
			}
		}
		if v.sel.wants("worklog") {
			wls := visibleWorklogs(is)
			n := min(len(wls), 20)
			list := make([]Object, 0, n)
			for _, w := range wls[:n] {
				list = append(list, s.worklogObject(c, is, w))
			}
			fields["worklog"] = Object{"startAt": 0, "maxResults": 20, "total": len(wls), "worklogs": list}
		}
		if s.opt.DataCenter {
			for _, id := range s.sprintFieldIDs() {
				if val, has := fields[id]; has {
					fields[id] = sprintStrings(val)
				}
			}
		}
		out["fields"] = fields
	}
	if v.changelog {
		h := is.Histories
		if v.changelogCap > 0 && len(h) > v.changelogCap {
			h = h[len(h)-v.changelogCap:]
		}
		h = append(make([]Object, 0, len(h)), h...)
		if v.newestFirst {
			slices.Reverse(h)
		}
		out["changelog"] = Object{"startAt": 0, "maxResults": len(h), "total": len(is.Histories), "histories": h}
	}
	rendered := s.render(c, out).(Object)
	if s.opt.DataCenter && v.changelog {
		s.dcHistoryItems(rendered)
	}
	return rendered
}

// dcHistoryItems makes the history items of a rendered (hence private)
// Data Center issue look like Data Center's: no fieldId, and usernames
// instead of account ids in assignee and reporter items.
func (s *Server) dcHistoryItems(issue Object) {
	names := map[any]string{}
	for _, u := range s.data.Users {
		names[u["accountId"]] = DCUserName(u)
	}
	cl, _ := issue["changelog"].(Object)
	for _, h := range list(cl["histories"]) {
		ho, _ := h.(Object)
		for _, it := range list(ho["items"]) {
			io, _ := it.(Object)
			delete(io, "fieldId")
			if io["field"] != "assignee" && io["field"] != "reporter" {
				continue
			}
			for _, k := range []string{"from", "to"} {
				if n, known := names[io[k]]; known && io[k] != nil {
					io[k] = n
				}
			}
		}
	}
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func (c *call) apiVerOr(def string) string {
	if c.apiVer != "" {
		return c.apiVer
	}
	return def
}

func (s *Server) sprintFieldIDs() []string {
	var ids []string
	for _, f := range s.data.Fields {
		if sc, isObj := f["schema"].(Object); isObj && sc["custom"] == SprintFieldType {
			if id, isStr := f["id"].(string); isStr {
				ids = append(ids, id)
			}
		}
	}
	if ids == nil {
		ids = []string{"customfield_10020"}
	}
	return ids
}

// render converts v for the API version of c: v3 as stored; v2 turns ADF
// into text and, on Data Center, Cloud users into Server users.
func (s *Server) render(c *call, v any) any {
	if !c.v2 {
		return v
	}
	return convert(v, s.opt.DataCenter, c.base)
}

func convert(v any, dc bool, base string) any {
	switch x := v.(type) {
	case Object:
		if isADF(x) {
			return adfText(x)
		}
		if _, user := x["accountId"]; dc && user {
			if _, named := x["displayName"]; named {
				return dcUser(x, base)
			}
		}
		out := make(Object, len(x))
		for k, e := range x {
			out[k] = convert(e, dc, base)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = convert(e, dc, base)
		}
		return out
	case []Object:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = convert(e, dc, base)
		}
		return out
	}
	return v
}

func isADF(o Object) bool {
	_, has := o["content"]
	return o["type"] == "doc" && has
}

// adfText flattens an Atlassian Document Format node into plain text.
func adfText(node Object) string {
	var b strings.Builder
	writeADF(&b, node)
	return strings.TrimRight(b.String(), "\n")
}

func writeADF(b *strings.Builder, node Object) {
	switch node["type"] {
	case "text":
		s, _ := node["text"].(string)
		b.WriteString(s)
		return
	case "hardBreak":
		b.WriteString("\n")
		return
	case "mention", "emoji":
		if attrs, isObj := node["attrs"].(Object); isObj {
			s, _ := attrs["text"].(string)
			b.WriteString(s)
		}
		return
	}
	var kids []any
	switch k := node["content"].(type) {
	case []any:
		kids = k
	case []Object:
		for _, o := range k {
			kids = append(kids, o)
		}
	}
	for _, k := range kids {
		if o, isObj := k.(Object); isObj {
			writeADF(b, o)
		}
	}
	switch node["type"] {
	case "paragraph", "heading", "codeBlock", "listItem", "tableRow", "rule":
		if !strings.HasSuffix(b.String(), "\n") {
			b.WriteString("\n")
		}
	}
}

// DCUserName is the Data Center username the fake derives for a Cloud user:
// the local part of emailAddress, else displayName lower-cased without spaces.
func DCUserName(u Object) string {
	if e, _ := u["emailAddress"].(string); e != "" {
		local, _, _ := strings.Cut(e, "@")
		return local
	}
	d, _ := u["displayName"].(string)
	return strings.ToLower(strings.ReplaceAll(d, " ", ""))
}

func dcUser(u Object, base string) Object {
	name := DCUserName(u)
	out := make(Object, len(u)+2)
	for k, v := range u {
		if k != "accountId" && k != "accountType" {
			out[k] = v
		}
	}
	out["name"] = name
	out["key"] = name
	if _, has := out["emailAddress"]; !has {
		out["emailAddress"] = name + "@example.com"
	}
	out["self"] = base + "/rest/api/2/user?username=" + name
	return out
}

// sprintStrings renders a Cloud sprint field value as Data Center strings.
func sprintStrings(v any) any {
	var sprints []Object
	switch x := v.(type) {
	case []Object:
		sprints = x
	case []any:
		for _, e := range x {
			o, isObj := e.(Object)
			if !isObj {
				return v // already strings
			}
			sprints = append(sprints, o)
		}
	default:
		return v
	}
	out := make([]string, 0, len(sprints))
	for _, sp := range sprints {
		out = append(out, SprintString(sp))
	}
	return out
}

// SprintString renders a sprint object the way Jira Data Center renders the
// sprint custom field:
// com.atlassian.greenhopper.service.sprint.Sprint@1a2b3c[id=37,rapidViewId=5,…,goal=…].
func SprintString(sp Object) string {
	id := fmt.Sprint(jsonNumber(sp["id"]))
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	board := sp["boardId"]
	if board == nil {
		board = sp["originBoardId"]
	}
	str := func(k string) string {
		v, _ := sp[k].(string)
		if v == "" {
			return "<null>"
		}
		return v
	}
	date := func(k string) string {
		t, ok := parseTime(sp[k])
		if !ok {
			return "<null>"
		}
		return t.Format("2006-01-02T15:04:05.000-07:00")
	}
	rapid := "<null>"
	if board != nil {
		rapid = fmt.Sprint(jsonNumber(board))
	}
	return fmt.Sprintf("com.atlassian.greenhopper.service.sprint.Sprint@%x[id=%s,rapidViewId=%s,state=%s,name=%s,startDate=%s,endDate=%s,completeDate=%s,sequence=%s,goal=%s]",
		h.Sum32()&0xffffff, id, rapid, strings.ToUpper(str("state")), str("name"),
		date("startDate"), date("endDate"), date("completeDate"), id, str("goal"))
}

// jsonNumber renders float64 integers without a fraction.
func jsonNumber(v any) any {
	if f, isFloat := v.(float64); isFloat && f == float64(int64(f)) {
		return int64(f)
	}
	return v
}

func msOf(t time.Time) int64 { return t.UnixMilli() }
