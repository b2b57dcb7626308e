package jira

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/throughline/throughline/ingest"
)

// jiraTime parses Jira's timestamps: "2024-03-12T15:45:00.000+0000" (offset
// without a colon, which time.RFC3339 rejects), RFC 3339 (agile API), and the
// epoch numbers some endpoints return (seconds or milliseconds).
type jiraTime struct{ time.Time }

var timeLayouts = []string{
	"2006-01-02T15:04:05.000-0700",
	"2006-01-02T15:04:05-0700",
	time.RFC3339Nano,
	"2006-01-02T15:04:05.000",
}

func parseTime(s string) (time.Time, error) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("timestamp %q: not a Jira timestamp (want 2006-01-02T15:04:05.000-0700)", s)
}

func (t *jiraTime) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	if b[0] != '"' {
		n, err := strconv.ParseInt(string(b), 10, 64)
		if err != nil {
			return fmt.Errorf("timestamp %s: %w", b, err)
		}
		if n > 1e11 { // milliseconds
			t.Time = time.UnixMilli(n).UTC()
		} else {
			t.Time = time.Unix(n, 0).UTC()
		}
		return nil
	}
	var s string
	// A string without escapes is its bytes (the common case, without a
	// second scan); encoding/json unescapes the others.
	if len(b) >= 2 && b[len(b)-1] == '"' && bytes.IndexByte(b[1:len(b)-1], '\\') < 0 && plain(b[1:len(b)-1]) {
		s = string(b[1 : len(b)-1])
	} else if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == "" {
		return nil
	}
	v, err := parseTime(s)
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// parseDate reads a date-only field ("2024-03-31"; history values may carry
// a time after it) as midnight UTC.
func parseDate(s string) (time.Time, bool) {
	if len(s) < 10 {
		return time.Time{}, false
	}
	t, err := time.Parse("2006-01-02", s[:10])
	return t, err == nil
}

// user is a Jira user: Cloud identifies by accountId, Data Center by key/name.
type user struct {
	AccountID    string `json:"accountId"`
	Key          string `json:"key"`
	Name         string `json:"name"`
	DisplayName  string `json:"displayName"`
	EmailAddress string `json:"emailAddress"`
}

func (u *user) id() string {
	if u == nil {
		return ""
	}
	return cmp.Or(u.AccountID, u.Key, u.Name)
}

func (u *user) person() ingest.Person {
	return ingest.Person{ExternalID: u.id(), DisplayName: u.DisplayName, Email: strings.ToLower(u.EmailAddress)}
}

type historyItem struct {
	Field      string  `json:"field"`
	FieldType  string  `json:"fieldtype"`
	FieldID    string  `json:"fieldId"`
	From       *string `json:"from"`
	FromString *string `json:"fromString"`
	To         *string `json:"to"`
	ToString   *string `json:"toString"`
}

type history struct {
	ID      string        `json:"id"`
	Author  *user         `json:"author"`
	Created jiraTime      `json:"created"`
	Items   []historyItem `json:"items"`
}

func (h history) idNum() int64 {
	n, _ := strconv.ParseInt(h.ID, 10, 64)
	return n
}

// sortHistories orders histories oldest first (created, then numeric id).
func sortHistories(hs []history) {
	slices.SortStableFunc(hs, func(a, b history) int {
		if c := a.Created.Compare(b.Created.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.idNum(), b.idNum())
	})
}

// rawIssue is an issue as the search returns it; fields stay raw so the
// stored payload is exactly what was fetched.
type rawIssue struct {
	fields map[string]json.RawMessage // Fields split by field, once (fieldMap)

	ID        string          `json:"id"`
	Key       string          `json:"key"`
	Fields    json.RawMessage `json:"fields"`
	Changelog *changelog      `json:"changelog,omitempty"`
}

// changelog is the changelog a search embeds in an issue.
type changelog struct {
	StartAt    int               `json:"startAt"`
	MaxResults int               `json:"maxResults"`
	Total      int               `json:"total"`
	Histories  []json.RawMessage `json:"histories"`
}

// fieldMap splits the fields object into its fields, once per issue.
func (ri *rawIssue) fieldMap() (map[string]json.RawMessage, error) {
	if ri.fields == nil {
		var m map[string]json.RawMessage
		if err := unmarshal(ri.Fields, &m); err != nil {
			return nil, fmt.Errorf("issue %s: fields: %w", ri.Key, err)
		}
		ri.fields = m
		if ri.fields == nil {
			ri.fields = map[string]json.RawMessage{}
		}
	}
	return ri.fields, nil
}

type version struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Released    bool   `json:"released"`
	Archived    bool   `json:"archived"`
	ReleaseDate string `json:"releaseDate"`
	StartDate   string `json:"startDate"`
}

type worklog struct {
	ID               string   `json:"id"`
	IssueID          string   `json:"issueId"`
	Author           *user    `json:"author"`
	Started          jiraTime `json:"started"`
	TimeSpentSeconds int64    `json:"timeSpentSeconds"`
}

type issueFields struct {
	Summary              string        `json:"summary"`
	Status               *statusRef    `json:"status"`
	IssueType            *issueTypeRef `json:"issuetype"`
	Project              *projectRef   `json:"project"`
	Created              jiraTime      `json:"created"`
	Updated              jiraTime      `json:"updated"`
	ResolutionDate       jiraTime      `json:"resolutiondate"`
	Resolution           *nameRef      `json:"resolution"`
	DueDate              string        `json:"duedate"`
	Assignee             *user         `json:"assignee"`
	FixVersions          []version     `json:"fixVersions"`
	Parent               *parentRef    `json:"parent"`
	TimeOriginalEstimate *int64        `json:"timeoriginalestimate"`
	Worklog              *worklogField `json:"worklog"`
}

type statusRef struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	StatusCategory struct {
		Key string `json:"key"`
	} `json:"statusCategory"`
}

type issueTypeRef struct {
	Name           string `json:"name"`
	Subtask        bool   `json:"subtask"`
	HierarchyLevel *int   `json:"hierarchyLevel"`
}

type projectRef struct {
	ID   string `json:"id"`
	Key  string `json:"key"`
	Name string `json:"name"`
}

type nameRef struct {
	Name string `json:"name"`
}

type parentRef struct {
	ID     string `json:"id"`
	Key    string `json:"key"`
	Fields *struct {
		IssueType *issueTypeRef `json:"issuetype"`
	} `json:"fields"`
}

// worklogField is the worklog field of an issue: the first 20 worklogs.
type worklogField struct {
	Total    int               `json:"total"`
	Worklogs []json.RawMessage `json:"worklogs"`
}

// status is one entry of /rest/api/{2,3}/status.
type status struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	StatusCategory struct {
		Key string `json:"key"`
	} `json:"statusCategory"`
}

// statusBook resolves status ids to the names and categories of the
// site's status list, falling back to the history's display strings and
// well-known names for statuses the site no longer lists.
type statusBook struct {
	byID   map[string]status
	byName map[string]string // lower-case name → category, when unambiguous
}

func newStatusBook(list []status) statusBook {
	b := statusBook{byID: map[string]status{}, byName: map[string]string{}}
	conflict := map[string]bool{}
	for _, s := range list {
		b.byID[s.ID] = s
		n := strings.ToLower(s.Name)
		if c, ok := b.byName[n]; ok && c != s.StatusCategory.Key {
			conflict[n] = true
		}
		b.byName[n] = s.StatusCategory.Key
	}
	for n := range conflict {
		delete(b.byName, n)
	}
	return b
}

// resolve gives the name and category of a status from its id and the
// display string seen with it.
func (b statusBook) resolve(id, name string) (string, string) {
	if s, ok := b.byID[id]; ok {
		return s.Name, s.StatusCategory.Key
	}
	if c, ok := b.byName[strings.ToLower(name)]; ok {
		return name, c
	}
	return name, ingest.KnownCategory(name)
}

// fieldIDs are the custom fields the mapping reads, found by discovery.
type fieldIDs struct {
	StoryPoints []string // in priority order
	Sprint      string
	EpicLink    string // Data Center "Epic Link"
}

// mapped is what one issue turns into.
type mapped struct {
	item        ingest.Item
	transitions []ingest.Transition
	people      []ingest.Person
	worklogs    []ingest.Worklog
	sprints     []ingest.Sprint
	membership  *ingest.SprintMembership
	milestone   *ingest.Milestone // the issue is an epic with a due date
	problems    []ingest.Problem  // values the mapping could not use
	// worklogsComplete: worklogs is the issue's complete worklog list.
	worklogsComplete bool
	// movedAt is the newest history that changed the issue's key (a move
	// to another project); zero when none.
	movedAt time.Time
}

// mapIssue maps one issue with its complete, sorted history.
func mapIssue(ri rawIssue, hs []history, book statusBook, f fieldIDs) (mapped, error) {
	var m mapped
	custom, err := ri.fieldMap()
	if err != nil {
		return m, err
	}
	fs, bad := decodeFields(custom)
	problem := func(column, reason string) {
		m.problems = append(m.problems, ingest.Problem{Key: ri.Key, Column: column, Reason: reason})
	}
	for _, b := range bad {
		problem(b.field, b.reason)
	}
	if fs.Created.IsZero() {
		return m, fmt.Errorf("issue %s: field created is missing", ri.Key)
	}
	it := ingest.Item{
		Key: ri.Key, ExternalID: ri.ID, Title: fs.Summary,
		CreatedAt: fs.Created.Time, UpdatedAt: fs.Updated.Time, ResolvedAt: fs.ResolutionDate.Time,
		EstimateSeconds: fs.TimeOriginalEstimate,
	}
	if fs.Project != nil {
		it.Project = fs.Project.Key
	}
	if fs.IssueType != nil {
		it.Type = fs.IssueType.Name
	}
	if fs.Status != nil {
		var cat string
		it.Status, cat = book.resolve(fs.Status.ID, fs.Status.Name)
		if _, known := book.byID[fs.Status.ID]; !known && fs.Status.StatusCategory.Key != "" {
			cat = fs.Status.StatusCategory.Key
		}
		it.StatusCategory = cat
	}
	if fs.Resolution != nil {
		it.Resolution = fs.Resolution.Name
	}
	if d, ok := parseDate(fs.DueDate); ok {
		it.DueDate = d
	}
	people := map[string]ingest.Person{}
	addPerson := func(u *user) {
		if id := u.id(); id != "" {
			p := u.person()
			if old, ok := people[id]; ok && p.Email == "" {
				p.Email = old.Email
			}
			people[id] = p
		}
	}
	if fs.Assignee != nil {
		it.Assignee = fs.Assignee.id()
		addPerson(fs.Assignee)
	}
	// Story points: the first estimation field holding a number. A value
	// of another type (a string "3", an object, true) is not guessed at:
	// it is named in a problem and the next field is tried.
	for _, id := range f.StoryPoints {
		raw, ok := custom[id]
		if !ok || string(bytes.TrimSpace(raw)) == "null" {
			continue
		}
		var v float64
		if err := json.Unmarshal(raw, &v); err != nil {
			problem(id, fmt.Sprintf("story points: want a number, got %s: not used", preview(raw)))
			continue
		}
		it.StoryPoints = &v
		break
	}
	epic := fs.IssueType != nil && fs.IssueType.HierarchyLevel != nil && *fs.IssueType.HierarchyLevel == 1 ||
		fs.IssueType != nil && strings.EqualFold(fs.IssueType.Name, "Epic")
	if fs.Parent != nil {
		it.Parent = fs.Parent.Key
		if pf := fs.Parent.Fields; pf != nil && pf.IssueType != nil &&
			(pf.IssueType.HierarchyLevel != nil && *pf.IssueType.HierarchyLevel == 1 || strings.EqualFold(pf.IssueType.Name, "Epic")) {
			if sameProject(fs.Parent.Key, it.Project) {
				it.Milestone = fs.Parent.Key
			}
		}
	}
	if f.EpicLink != "" && it.Parent == "" {
		var k string
		if raw, ok := custom[f.EpicLink]; ok && json.Unmarshal(raw, &k) == nil && k != "" {
			it.Parent = k
			if sameProject(k, it.Project) {
				it.Milestone = k
			}
		}
	}
	// A fix version wins over the epic: the first in Jira's order.
	for _, v := range fs.FixVersions {
		it.Milestone = v.Name
		break
	}

	// Status history: the creation transition, then every status item.
	var trs []ingest.Transition
	var dueChanges []ingest.DueChange
	for _, h := range hs {
		if h.Author != nil {
			addPerson(h.Author)
		}
		for _, x := range h.Items {
			switch {
			case x.FieldID == "status" || x.FieldID == "" && x.Field == "status":
				fromName, fromCat := book.resolve(deref(x.From), deref(x.FromString))
				toName, toCat := book.resolve(deref(x.To), deref(x.ToString))
				// A null end is kept (the store records it as the unknown
				// status) and named here, with the history it came in.
				for _, e := range []struct{ end, name string }{{"from", fromName}, {"to", toName}} {
					if e.name == "" {
						problem("changelog", fmt.Sprintf("status change of history %s at %s has no %s status (null): stored as %s",
							h.ID, h.Created.UTC().Format(time.RFC3339), e.end, ingest.UnknownStatus))
					}
				}
				if len(trs) == 0 {
					trs = append(trs, ingest.Transition{ItemKey: it.Key, At: it.CreatedAt, To: fromName, ToCategory: fromCat})
				}
				trs = append(trs, ingest.Transition{ItemKey: it.Key, At: h.Created.Time, From: fromName, To: toName,
					FromCategory: fromCat, ToCategory: toCat, Author: h.Author.id()})
			case x.Field == "Key" || x.FieldID == "issuekey":
				if h.Created.After(m.movedAt) {
					m.movedAt = h.Created.Time
				}
			case x.FieldID == "duedate" || x.FieldID == "" && strings.EqualFold(x.Field, "duedate"):
				old, _ := parseDate(deref(x.From))
				nw, _ := parseDate(deref(x.To))
				dueChanges = append(dueChanges, ingest.DueChange{ObservedAt: h.Created.Time, Old: old, New: nw, Origin: "history"})
			}
		}
	}
	if len(trs) == 0 {
		trs = append(trs, ingest.Transition{ItemKey: it.Key, At: it.CreatedAt, To: it.Status, ToCategory: it.StatusCategory})
	}
	m.transitions = trs

	if epic && !it.DueDate.IsZero() && it.Project != "" {
		ms := &ingest.Milestone{ExternalID: "issue:" + ri.ID, Name: it.Key, Project: it.Project, DueDate: it.DueDate, DueChanges: dueChanges}
		// The baseline is the first due date the history shows.
		for _, ch := range dueChanges {
			if !ch.Old.IsZero() {
				ms.BaselineDueDate = ch.Old
				break
			}
			if !ch.New.IsZero() {
				ms.BaselineDueDate = ch.New
				break
			}
		}
		if it.StatusCategory == "done" && !it.ResolvedAt.IsZero() {
			ms.CompletedAt = it.ResolvedAt
		}
		m.milestone = ms
	}

	// Sprints: the sprint field (objects on Cloud, strings on Data Center).
	if f.Sprint != "" {
		if raw, ok := custom[f.Sprint]; ok {
			sps, err := parseSprintField(raw)
			if err != nil {
				// The stored membership stays as it was.
				problem(f.Sprint, fmt.Sprintf("sprint field %s: %v: sprints not updated", preview(raw), err))
			} else {
				mem := &ingest.SprintMembership{ItemKey: it.Key}
				for _, sp := range sps {
					mem.Sprints = append(mem.Sprints, sp.ID)
				}
				m.sprints = sps
				m.membership = mem
			}
		}
	}

	// Embedded worklogs, when complete (the caller fetches the rest).
	if fs.Worklog != nil && fs.Worklog.Total <= len(fs.Worklog.Worklogs) {
		m.worklogsComplete = true
		for _, raw := range fs.Worklog.Worklogs {
			w, p, err := mapWorklog(raw, it.Key)
			if err != nil {
				problem("worklog", fmt.Sprintf("%v: %s: not stored", err, preview(raw)))
				continue
			}
			m.worklogs = append(m.worklogs, w)
			if p != nil {
				addPerson(p)
			}
		}
	}
	for _, id := range sortedKeys(people) {
		m.people = append(m.people, people[id])
	}
	m.item = it
	return m, nil
}

// decodeFields decodes the standard fields from the issue's field map. A
// field whose value has an unexpected type is left empty and named in the
// returned problems (column: the field id); it does not stop the sync.
func decodeFields(raw map[string]json.RawMessage) (issueFields, []fieldProblem) {
	var fs issueFields
	var bad []fieldProblem
	for _, f := range fieldTargets(&fs) {
		v, ok := raw[f.name]
		if !ok || string(v) == "null" {
			continue
		}
		if err := unmarshal(v, f.dst); err != nil {
			bad = append(bad, fieldProblem{f.name, fmt.Sprintf("unexpected value %s (%v): stored as empty", preview(v), err)})
			// Leave the field empty, not half-decoded.
			reflect.ValueOf(f.dst).Elem().SetZero()
		}
	}
	return fs, bad
}

// fieldTarget is a standard field and where its value goes.
type fieldTarget struct {
	name string
	dst  any
}

func fieldTargets(fs *issueFields) []fieldTarget {
	return []fieldTarget{
		{"summary", &fs.Summary}, {"status", &fs.Status}, {"issuetype", &fs.IssueType}, {"project", &fs.Project},
		{"created", &fs.Created}, {"updated", &fs.Updated}, {"resolutiondate", &fs.ResolutionDate},
		{"resolution", &fs.Resolution}, {"duedate", &fs.DueDate}, {"assignee", &fs.Assignee},
		{"fixVersions", &fs.FixVersions}, {"parent", &fs.Parent}, {"timeoriginalestimate", &fs.TimeOriginalEstimate},
		{"worklog", &fs.Worklog},
	}
}

// fieldProblem is a field the mapping could not use.
type fieldProblem struct{ field, reason string }

// preview is a short rendering of a JSON value for problem messages.
func preview(v json.RawMessage) string {
	s := string(bytes.TrimSpace(v))
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

// worklogsIncomplete reports whether the issue's embedded worklog list is
// truncated (Jira embeds at most 20).
func worklogsIncomplete(ri *rawIssue) bool {
	fm, err := ri.fieldMap()
	if err != nil {
		return false
	}
	raw, ok := fm["worklog"]
	if !ok {
		return false
	}
	var w *worklogField
	return unmarshal(raw, &w) == nil && w != nil && w.Total > len(w.Worklogs)
}

func mapWorklog(raw json.RawMessage, key string) (ingest.Worklog, *user, error) {
	var w worklog
	if err := unmarshal(raw, &w); err != nil {
		return ingest.Worklog{}, nil, fmt.Errorf("worklog: %w", err)
	}
	if w.ID == "" {
		return ingest.Worklog{}, nil, fmt.Errorf("worklog without id")
	}
	return ingest.Worklog{ID: "worklog:" + w.ID, ItemKey: key, Person: w.Author.id(), StartedAt: w.Started.Time, Seconds: w.TimeSpentSeconds}, w.Author, nil
}

func sameProject(key, project string) bool {
	p, _, ok := strings.Cut(key, "-")
	return ok && p == project
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// sprintObject is a sprint as the agile API and the Cloud sprint field render it.
type sprintObject struct {
	ID            json.Number `json:"id"`
	Name          string      `json:"name"`
	State         string      `json:"state"`
	BoardID       json.Number `json:"boardId"`
	OriginBoardID json.Number `json:"originBoardId"`
	StartDate     jiraTime    `json:"startDate"`
	EndDate       jiraTime    `json:"endDate"`
	CompleteDate  jiraTime    `json:"completeDate"`
}

func (s sprintObject) sprint() ingest.Sprint {
	return ingest.Sprint{ID: "sprint:" + s.ID.String(), Board: cmp.Or(s.OriginBoardID.String(), s.BoardID.String()), Name: s.Name,
		State: strings.ToLower(s.State), StartAt: s.StartDate.Time, EndAt: s.EndDate.Time, CompleteAt: s.CompleteDate.Time}
}

// parseSprintField reads the sprint custom field: null, an array of
// objects (Cloud) or an array of Sprint@…[key=value,…] strings (Data Center).
func parseSprintField(raw json.RawMessage) ([]ingest.Sprint, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, fmt.Errorf("want an array: %w", err)
	}
	var out []ingest.Sprint
	for _, e := range elems {
		e = bytes.TrimSpace(e)
		if len(e) > 0 && e[0] == '"' {
			var s string
			if err := json.Unmarshal(e, &s); err != nil {
				return nil, err
			}
			sp, err := parseSprintString(s)
			if err != nil {
				return nil, err
			}
			out = append(out, sp)
			continue
		}
		var so sprintObject
		if err := json.Unmarshal(e, &so); err != nil {
			return nil, fmt.Errorf("sprint object: %w", err)
		}
		if so.ID == "" {
			return nil, fmt.Errorf("sprint object without id")
		}
		out = append(out, so.sprint())
	}
	return out, nil
}

// sprintKeys are the keys of Data Center's sprint strings. Values (name,
// goal) may contain commas and brackets, so the string is cut only where a
// known key follows a comma.
var sprintKeys = []string{"id", "rapidViewId", "state", "name", "startDate", "endDate", "completeDate", "activatedDate",
	"sequence", "goal", "synced", "autoStartStop", "incompleteIssuesDestinationId"}

func parseSprintString(s string) (ingest.Sprint, error) {
	open := strings.IndexByte(s, '[')
	if open < 0 || !strings.HasSuffix(s, "]") {
		return ingest.Sprint{}, fmt.Errorf("sprint %.60q: want com.atlassian.greenhopper.service.sprint.Sprint@…[id=…,…]", s)
	}
	body := s[open+1 : len(s)-1]
	type cut struct {
		at  int
		key string
	}
	var cuts []cut
	for _, k := range sprintKeys {
		for i := 0; ; {
			j := strings.Index(body[i:], k+"=")
			if j < 0 {
				break
			}
			j += i
			if j == 0 || body[j-1] == ',' {
				cuts = append(cuts, cut{j, k})
			}
			i = j + 1
		}
	}
	slices.SortFunc(cuts, func(a, b cut) int { return cmp.Compare(a.at, b.at) })
	vals := map[string]string{}
	for n, c := range cuts {
		end := len(body)
		if n+1 < len(cuts) {
			end = cuts[n+1].at - 1
		}
		if _, dup := vals[c.key]; !dup {
			vals[c.key] = body[c.at+len(c.key)+1 : end]
		}
	}
	if vals["id"] == "" {
		return ingest.Sprint{}, fmt.Errorf("sprint %.60q: no id", s)
	}
	sp := ingest.Sprint{ID: "sprint:" + vals["id"], Board: vals["rapidViewId"], Name: vals["name"], State: strings.ToLower(vals["state"])}
	for k, dst := range map[string]*time.Time{"startDate": &sp.StartAt, "endDate": &sp.EndAt, "completeDate": &sp.CompleteAt} {
		if v := vals[k]; v != "" && v != "<null>" {
			t, err := parseTime(v)
			if err != nil {
				return ingest.Sprint{}, fmt.Errorf("sprint %s %s: %w", vals["id"], k, err)
			}
			*dst = t
		}
	}
	return sp, nil
}
