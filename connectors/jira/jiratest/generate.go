package jiratest

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Field ids and status ids of generated datasets.
const (
	StoryPointsField = "customfield_10016" // "Story point estimate", jsw-story-points
	SprintField      = "customfield_10020" // "Sprint", gh-sprint
	RankField        = "customfield_10019"

	StatusToDo       = "10000" // new
	StatusInProgress = "3"     // indeterminate
	StatusInReview   = "10001" // indeterminate
	StatusDone       = "10002" // done
	StatusWontDo     = "10003" // done

	ResolutionDone   = "10000"
	ResolutionWontDo = "10001"
)

// GenOptions shape a generated dataset.
type GenOptions struct {
	Projects         []string  // default ["WEB","OPS"]
	Issues           int       // total, spread over projects
	ChangesPerIssue  int       // average status changes per issue (default 10)
	WorklogsPerIssue int       // average worklogs per issue (default 2; negative: none)
	Versions         int       // per project (default 4)
	Boards           bool      // one scrum board per project, with sprints and the sprint field on issues
	Seed             int64     // random seed
	Now              time.Time // history ends here (default 2026-11-01T00:00:00Z)
}

type genStatus struct {
	id, name string
	cat      Object
}

var (
	catNew  = Object{"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"}
	catProg = Object{"id": 4, "key": "indeterminate", "colorName": "yellow", "name": "In Progress"}
	catDone = Object{"id": 3, "key": "done", "colorName": "green", "name": "Done"}

	genStatuses = map[string]genStatus{
		StatusToDo:       {StatusToDo, "To Do", catNew},
		StatusInProgress: {StatusInProgress, "In Progress", catProg},
		StatusInReview:   {StatusInReview, "In Review", catProg},
		StatusDone:       {StatusDone, "Done", catDone},
		StatusWontDo:     {StatusWontDo, "Won't Do", catDone},
	}
	genStatusOrder = []string{StatusToDo, StatusInProgress, StatusInReview, StatusDone, StatusWontDo}

	genTypes = map[string]Object{
		"Epic":     {"id": "10000", "name": "Epic", "subtask": false, "hierarchyLevel": 1},
		"Story":    {"id": "10001", "name": "Story", "subtask": false, "hierarchyLevel": 0},
		"Task":     {"id": "10002", "name": "Task", "subtask": false, "hierarchyLevel": 0},
		"Bug":      {"id": "10003", "name": "Bug", "subtask": false, "hierarchyLevel": 0},
		"Sub-task": {"id": "10004", "name": "Sub-task", "subtask": true, "hierarchyLevel": -1},
	}

	genNames = []string{"Mia Krystof", "Ada Lovelace", "Grace Hopper", "Alan Turing", "Linus Torvalds",
		"Margaret Hamilton", "Ken Thompson", "Barbara Liskov", "Donald Knuth", "Frances Allen"}
)

// statusObject is the status field value for id, with the dataset's own
// category objects.
func statusObject(id string, cats map[string]Object) Object {
	st := genStatuses[id]
	return Object{"id": st.id, "name": st.name, "statusCategory": cats[st.id]}
}

func isDone(id string) bool { return id == StatusDone || id == StatusWontDo }

// nextStatus walks a realistic workflow.
func nextStatus(r *rand.Rand, cur string) string {
	x := r.Float64()
	switch cur {
	case StatusToDo:
		if x < 0.04 {
			return StatusWontDo
		}
		return StatusInProgress
	case StatusInProgress:
		switch {
		case x < 0.75:
			return StatusInReview
		case x < 0.88:
			return StatusDone
		}
		return StatusToDo
	case StatusInReview:
		if x < 0.65 {
			return StatusDone
		}
		return StatusInProgress
	}
	if x < 0.8 { // reopen
		return StatusInProgress
	}
	return StatusToDo
}

func adfDoc(text string) Object {
	return Object{"type": "doc", "version": 1, "content": []any{
		Object{"type": "paragraph", "content": []any{Object{"type": "text", "text": text}}},
	}}
}

// Generate builds a deterministic, realistic dataset (see GenOptions).
// 50,000 issues with 10 changes each take well under two seconds.
func Generate(o GenOptions) *Dataset {
	if len(o.Projects) == 0 {
		o.Projects = []string{"WEB", "OPS"}
	}
	if o.ChangesPerIssue <= 0 {
		o.ChangesPerIssue = 10
	}
	if o.WorklogsPerIssue < 0 {
		o.WorklogsPerIssue = 0
	} else if o.WorklogsPerIssue == 0 {
		o.WorklogsPerIssue = 2
	}
	if o.Versions <= 0 {
		o.Versions = 4
	}
	if o.Now.IsZero() {
		o.Now = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	}
	now := o.Now.UTC()
	start := now.AddDate(-1, 0, 0)
	ts := fastUTC
	day := func(t time.Time) string { return t.UTC().Format(time.DateOnly) }

	d := &Dataset{StatusCategories: StatusCategories(), Versions: map[string][]Object{}}
	// Objects shared by many issues belong to this dataset alone, so a test
	// changing one cannot affect another dataset.
	cats := map[string]Object{}
	types := map[string]Object{}
	for k, v := range genTypes {
		types[k] = shallow(v)
	}
	for _, id := range genStatusOrder {
		st := genStatuses[id]
		cats[st.id] = shallow(st.cat)
		d.Statuses = append(d.Statuses, Object{"id": st.id, "name": st.name, "description": "", "statusCategory": cats[st.id]})
	}
	d.Resolutions = []Object{
		{"id": ResolutionDone, "name": "Done", "description": "Work has been completed on this issue."},
		{"id": ResolutionWontDo, "name": "Won't Do", "description": "This issue won't be actioned."},
	}
	d.Fields = []Object{
		{"id": "summary", "key": "summary", "name": "Summary", "custom": false, "orderable": true, "navigable": true, "searchable": true, "clauseNames": []string{"summary"}, "schema": Object{"type": "string", "system": "summary"}},
		{"id": "status", "key": "status", "name": "Status", "custom": false, "orderable": false, "navigable": true, "searchable": true, "clauseNames": []string{"status"}, "schema": Object{"type": "status", "system": "status"}},
		{"id": "duedate", "key": "duedate", "name": "Due date", "custom": false, "orderable": true, "navigable": true, "searchable": true, "clauseNames": []string{"due", "duedate"}, "schema": Object{"type": "date", "system": "duedate"}},
		{"id": "fixVersions", "key": "fixVersions", "name": "Fix versions", "custom": false, "orderable": true, "navigable": true, "searchable": true, "clauseNames": []string{"fixVersion"}, "schema": Object{"type": "array", "items": "version", "system": "fixVersions"}},
		{"id": StoryPointsField, "key": StoryPointsField, "name": "Story point estimate", "untranslatedName": "Story point estimate", "custom": true, "orderable": true, "navigable": true, "searchable": true, "clauseNames": []string{"cf[10016]", "Story point estimate"}, "schema": Object{"type": "number", "custom": StoryPointsFieldType, "customId": 10016}},
		{"id": "customfield_10028", "key": "customfield_10028", "name": "Story Points", "untranslatedName": "Story Points", "custom": true, "orderable": true, "navigable": true, "searchable": true, "clauseNames": []string{"cf[10028]", "Story Points"}, "schema": Object{"type": "number", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:float", "customId": 10028}},
		{"id": SprintField, "key": SprintField, "name": "Sprint", "untranslatedName": "Sprint", "custom": true, "orderable": true, "navigable": true, "searchable": true, "clauseNames": []string{"cf[10020]", "Sprint"}, "schema": Object{"type": "array", "items": "json", "custom": SprintFieldType, "customId": 10020}},
		{"id": RankField, "key": RankField, "name": "Rank", "untranslatedName": "Rank", "custom": true, "orderable": true, "navigable": true, "searchable": true, "clauseNames": []string{"cf[10019]", "Rank"}, "schema": Object{"type": "any", "custom": "com.pyxis.greenhopper.jira:gh-lexo-rank", "customId": 10019}},
	}
	for i, n := range genNames {
		u := Object{"accountId": fmt.Sprintf("712020:%08x-0000-4000-8000-%012d", 0x5b10a284+i, i+1), "accountType": "atlassian",
			"displayName": n, "active": true, "timeZone": "UTC"}
		if i < len(genNames)-1 { // the last one hides their email
			u["emailAddress"] = fmt.Sprintf("%s@example.com", stringsLowerFirst(n))
		}
		d.Users = append(d.Users, u)
	}
	assignable := d.Users[:len(d.Users)-1]

	type sprint struct {
		obj, field Object
		start, end time.Time
		dated      bool
	}
	projSprints := make([][]sprint, len(o.Projects))
	projVersions := make([][]Object, len(o.Projects))
	for pi, key := range o.Projects {
		pid := strconv.Itoa(10000 + pi)
		name := key + " Project"
		d.Projects = append(d.Projects, Object{"id": pid, "key": key, "name": name, "projectTypeKey": "software", "simplified": false})
		for j := range o.Versions {
			v := Object{"id": strconv.Itoa(20000 + pi*100 + j), "name": fmt.Sprintf("%s %d.%d", key, 1+j/4, j%4),
				"description": "", "projectId": 10000 + pi, "archived": false, "released": j < (o.Versions+1)/2}
			rel := start.AddDate(0, 0, (j+1)*365/(o.Versions+1))
			if j != o.Versions-1 || o.Versions == 1 {
				v["releaseDate"] = day(rel)
				if j%2 == 0 {
					v["startDate"] = day(rel.AddDate(0, 0, -30))
				}
			}
			projVersions[pi] = append(projVersions[pi], v)
		}
		d.Versions[key] = projVersions[pi]
		if !o.Boards {
			continue
		}
		bid := pi + 1
		b := &Board{Object: Object{"id": bid, "name": key + " board", "type": "scrum",
			"location": Object{"projectId": 10000 + pi, "projectKey": key, "projectName": name, "projectTypeKey": "software",
				"displayName": fmt.Sprintf("%s (%s)", name, key), "name": fmt.Sprintf("%s (%s)", name, key)}}}
		b.Configuration = Object{"id": bid, "name": key + " board", "type": "scrum",
			"filter": Object{"id": strconv.Itoa(10000 + pi)},
			"columnConfig": Object{"constraintType": "issueCount", "columns": []Object{
				{"name": "To Do", "statuses": []Object{{"id": StatusToDo}}},
				{"name": "In Progress", "statuses": []Object{{"id": StatusInProgress}}},
				{"name": "In Review", "statuses": []Object{{"id": StatusInReview}}},
				{"name": "Done", "statuses": []Object{{"id": StatusDone}, {"id": StatusWontDo}}},
			}},
			"estimation": Object{"type": "field", "field": Object{"fieldId": StoryPointsField, "displayName": "Story point estimate"}},
			"ranking":    Object{"rankCustomFieldId": 10019},
			"location":   Object{"type": "project", "key": key, "id": pid, "name": name},
		}
		sprintTS := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }
		for n := 0; ; n++ {
			s0 := start.AddDate(0, 0, 14*n).Add(9 * time.Hour)
			if s0.After(now) {
				break
			}
			e0 := s0.AddDate(0, 0, 14)
			id := bid*1000 + n + 1
			goal := ""
			if n%5 == 2 {
				goal = fmt.Sprintf("Ship checkout, fix [P1] bugs, sprint %d", n+1)
			}
			sp := Object{"id": id, "state": "closed", "name": fmt.Sprintf("%s Sprint %d", key, n+1),
				"startDate": sprintTS(s0), "endDate": sprintTS(e0), "createdDate": sprintTS(s0.AddDate(0, 0, -2)),
				"originBoardId": bid, "goal": goal}
			if e0.After(now) {
				sp["state"] = "active"
			} else {
				sp["completeDate"] = sprintTS(e0.Add(-3 * time.Hour))
			}
			field := Object{"id": id, "name": sp["name"], "state": sp["state"], "boardId": bid, "goal": goal,
				"startDate": sp["startDate"], "endDate": sp["endDate"]}
			if c, has := sp["completeDate"]; has {
				field["completeDate"] = c
			}
			projSprints[pi] = append(projSprints[pi], sprint{obj: sp, field: field, start: s0, end: e0, dated: true})
		}
		for f := range 2 {
			n := len(projSprints[pi])
			id := bid*1000 + n + 1
			sp := Object{"id": id, "state": "future", "name": fmt.Sprintf("%s Sprint %d", key, n+1),
				"createdDate": sprintTS(now.AddDate(0, 0, -1-f)), "originBoardId": bid, "goal": ""}
			projSprints[pi] = append(projSprints[pi], sprint{obj: sp, field: Object{"id": id, "name": sp["name"], "state": "future", "boardId": bid, "goal": ""}})
		}
		for _, sp := range projSprints[pi] {
			b.Sprints = append(b.Sprints, sp.obj)
		}
		d.Boards = append(d.Boards, b)
	}

	// Distribution of status changes: 1% long issues (41–60), the rest
	// uniform around a mean chosen so the overall mean is ChangesPerIssue.
	c := float64(o.ChangesPerIssue)
	longs := o.ChangesPerIssue >= 5
	base := c
	if longs {
		base = (c - 0.01*50.5) / 0.99
	}

	span := now.Sub(start) - 24*time.Hour
	d.Issues = make([]*Issue, o.Issues)
	wlPerIssue := 2*o.WorklogsPerIssue + 1
	histStride := max(int(2*base)+2, 61) + 10 // most histories an issue can get

	// Issues are generated in fixed chunks, in parallel, each chunk with
	// its own random stream: the result does not depend on GOMAXPROCS.
	const chunk = 2048
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for lo := 0; lo < o.Issues; lo += chunk {
		wg.Add(1)
		sem <- struct{}{}
		go func(lo, hi int) {
			defer func() { <-sem; wg.Done() }()
			r := rand.New(rand.NewPCG(uint64(o.Seed), uint64(lo)^0x9e3779b97f4a7c15))
			// History items and a few objects are shared between issues:
			// they are equal, and sharing makes generation much faster.
			cache := map[itemKey][]any{}
			fixVersion := map[string]Object{}
			descriptions := map[string]Object{}
			comment := adfDoc("Worked on this issue.")
			epics := make([][]*Issue, len(o.Projects))
			standards := make([][]*Issue, len(o.Projects))
			for i := lo; i < hi; i++ {
				pi := i % len(o.Projects)
				pkey := o.Projects[pi]
				num := i/len(o.Projects) + 1
				histID := int64(100000 + histStride*i)
				wlID := int64(10000 + wlPerIssue*i)
				created := start.Add(time.Duration(float64(span) * (float64(i) + r.Float64()*0.9) / float64(max(o.Issues, 1))))
				created = created.Truncate(time.Millisecond)
				is := &Issue{ID: strconv.Itoa(10000 + i), Key: fmt.Sprintf("%s-%d", pkey, num), ds: d}

				typ := "Story"
				switch x := r.Float64(); {
				case num%20 == 1:
					typ = "Epic"
				case x < 0.12 && len(standards[pi]) > 0:
					typ = "Sub-task"
				case x < 0.45:
					typ = "Story"
				case x < 0.75:
					typ = "Task"
				default:
					typ = "Bug"
				}
				k := 1 + r.IntN(max(1, int(2*base-1)))
				if longs && i%100 == 1 {
					k = 41 + r.IntN(20)
				} else if frac := 2*base - 1 - float64(int(2*base-1)); frac > 0 && r.Float64() < frac/2 {
					k++ // keeps the mean exact for fractional bases
				}
				reporter := d.Users[r.IntN(len(d.Users))]
				f := Object{
					"summary":                  fmt.Sprintf("%s %s %d", typ, pkey, num),
					"issuetype":                types[typ],
					"project":                  d.Projects[pi],
					"created":                  ts(created),
					"status":                   nil,
					"statuscategorychangedate": ts(created),
					"resolution":               nil,
					"resolutiondate":           nil,
					"duedate":                  nil,
					"assignee":                 nil,
					"reporter":                 reporter,
					"creator":                  reporter,
					"fixVersions":              []any{},
					"priority":                 Object{"id": "3", "name": "Medium"},
					"labels":                   []any{},
					"description":              descriptions[typ],
					StoryPointsField:           nil,
					SprintField:                nil,
					"customfield_10028":        nil,
					RankField:                  fmt.Sprintf("0|i%05d:", i),
					"timeoriginalestimate":     nil,
					"timetracking":             Object{},
				}
				if f["description"] == nil {
					descriptions[typ] = adfDoc("What this " + strings.ToLower(typ) + " is about.")
					f["description"] = descriptions[typ]
				}
				is.Fields = f
				switch typ {
				case "Epic":
					f["duedate"] = day(created.AddDate(0, 0, 30+r.IntN(90)))
					epics[pi] = append(epics[pi], is)
				case "Sub-task":
					p := standards[pi][r.IntN(len(standards[pi]))]
					f["parent"] = Object{"id": p.ID, "key": p.Key, "fields": Object{"summary": p.Fields["summary"], "issuetype": p.Fields["issuetype"]}}
				default:
					standards[pi] = append(standards[pi], is)
					if len(epics[pi]) > 0 && r.Float64() < 0.6 {
						e := epics[pi][r.IntN(len(epics[pi]))]
						f["parent"] = Object{"id": e.ID, "key": e.Key, "fields": Object{"summary": e.Fields["summary"], "issuetype": e.Fields["issuetype"]}}
					}
					if r.Float64() < 0.2 {
						f["duedate"] = day(created.AddDate(0, 0, 7+r.IntN(60)))
					}
				}
				if r.Float64() < 0.5 && typ != "Epic" {
					est := 3600 * (1 + r.IntN(16))
					f["timeoriginalestimate"] = est
					f["timetracking"] = Object{"originalEstimate": fmt.Sprintf("%dh", est/3600), "originalEstimateSeconds": est,
						"remainingEstimate": fmt.Sprintf("%dh", est/3600), "remainingEstimateSeconds": est}
				}

				// The events of this issue's life, in random order.
				kinds := make([]byte, 0, k+6)
				for range k {
					kinds = append(kinds, 's')
				}
				kinds = append(kinds, 'a')
				if typ != "Epic" {
					kinds = append(kinds, 'p')
					if o.Boards && typ != "Sub-task" {
						kinds = append(kinds, 'S')
					}
					if r.Float64() < 0.6 {
						kinds = append(kinds, 'v')
					}
				}
				if f["duedate"] != nil {
					for range r.IntN(3) {
						kinds = append(kinds, 'd')
					}
				}
				r.Shuffle(len(kinds), func(a, b int) { kinds[a], kinds[b] = kinds[b], kinds[a] })
				left := now.Sub(created)
				fill := 0.3 + 0.65*r.Float64()
				step := time.Duration(float64(left) * fill / float64(len(kinds)+1))
				t := created
				cur := StatusToDo
				catChange := created
				var resolution Object
				var resolvedAt time.Time
				var assignee Object
				is.Histories = make([]Object, 0, len(kinds))
				for _, kind := range kinds {
					t = t.Add(time.Duration(float64(step) * (0.2 + 1.6*r.Float64()))).Truncate(time.Millisecond)
					if !t.Before(now) {
						t = now.Add(-time.Minute)
					}
					author := assignee
					if author == nil {
						author = reporter
					}
					var items []any
					switch kind {
					case 's':
						to := nextStatus(r, cur)
						key := itemKey{'s', cur, to}
						if items = cache[key]; items == nil {
							items = []any{Object{"field": "status", "fieldtype": "jira", "fieldId": "status",
								"from": cur, "fromString": genStatuses[cur].name, "to": to, "toString": genStatuses[to].name}}
							switch {
							case isDone(to) && !isDone(cur):
								res := resolutionFor(d, to)
								items = append(items, Object{"field": "resolution", "fieldtype": "jira", "fieldId": "resolution",
									"from": nil, "fromString": nil, "to": res["id"], "toString": res["name"]})
							case !isDone(to) && isDone(cur):
								res := resolutionFor(d, cur)
								items = append(items, Object{"field": "resolution", "fieldtype": "jira", "fieldId": "resolution",
									"from": res["id"], "fromString": res["name"], "to": nil, "toString": nil})
							}
							cache[key] = items
						}
						switch {
						case isDone(to) && !isDone(cur):
							resolution, resolvedAt = resolutionFor(d, to), t
						case !isDone(to) && isDone(cur):
							resolution = nil
						}
						if genStatuses[to].cat["key"] != genStatuses[cur].cat["key"] {
							catChange = t
						}
						cur = to
					case 'a':
						u := assignable[r.IntN(len(assignable))]
						key := itemKey{'a', u["accountId"].(string), ""}
						if items = cache[key]; items == nil {
							items = []any{Object{"field": "assignee", "fieldtype": "jira", "fieldId": "assignee",
								"from": nil, "fromString": nil, "to": u["accountId"], "toString": u["displayName"]}}
							cache[key] = items
						}
						assignee = u
						f["assignee"] = u
					case 'p':
						sp := storyPoints[r.IntN(len(storyPoints))]
						key := itemKey{'p', "", sp}
						if items = cache[key]; items == nil {
							items = []any{Object{"field": "Story point estimate", "fieldtype": "custom", "fieldId": StoryPointsField,
								"from": nil, "fromString": nil, "to": nil, "toString": sp}}
							cache[key] = items
						}
						v, _ := strconv.ParseFloat(sp, 64)
						f[StoryPointsField] = v
					case 'S':
						var chosen *sprint
						for j := range projSprints[pi] {
							sp := &projSprints[pi][j]
							if sp.dated && !t.Before(sp.start) && t.Before(sp.end) {
								chosen = sp
							}
						}
						if chosen == nil {
							continue
						}
						key := itemKey{'S', fmt.Sprint(chosen.obj["id"]), ""}
						if items = cache[key]; items == nil {
							items = []any{Object{"field": "Sprint", "fieldtype": "custom", "fieldId": SprintField,
								"from": "", "fromString": "", "to": key.a, "toString": chosen.obj["name"]}}
							cache[key] = items
						}
						f[SprintField] = []any{chosen.field}
					case 'v':
						var chosen Object
						today := day(t)
						for _, v := range projVersions[pi] {
							rd, _ := v["releaseDate"].(string)
							if rd == "" || rd >= today {
								chosen = v
								break
							}
						}
						if chosen == nil {
							continue
						}
						key := itemKey{'v', chosen["id"].(string), ""}
						if items = cache[key]; items == nil {
							items = []any{Object{"field": "Fix Version", "fieldtype": "jira", "fieldId": "fixVersions",
								"from": nil, "fromString": nil, "to": chosen["id"], "toString": chosen["name"]}}
							cache[key] = items
							fv := Object{"id": chosen["id"], "name": chosen["name"], "description": "", "archived": false, "released": chosen["released"]}
							if rd, has := chosen["releaseDate"]; has {
								fv["releaseDate"] = rd
							}
							fixVersion[key.a] = fv
						}
						f["fixVersions"] = []any{fixVersion[key.a]}
					case 'd':
						old, _ := f["duedate"].(string)
						od, _ := time.Parse(time.DateOnly, old)
						nd := day(od.AddDate(0, 0, 3+r.IntN(14)))
						items = []any{Object{"field": "duedate", "fieldtype": "jira", "fieldId": "duedate",
							"from": old, "fromString": old + " 00:00:00.0", "to": nd, "toString": nd + " 00:00:00.0"}}
						f["duedate"] = nd
					}
					histID++
					is.Histories = append(is.Histories, Object{"id": strconv.FormatInt(histID, 10), "author": author, "created": ts(t), "items": items})
				}
				updated := t
				f["status"] = statusObject(cur, cats)
				f["statuscategorychangedate"] = ts(catChange)
				if resolution != nil {
					f["resolution"] = resolution
					f["resolutiondate"] = ts(resolvedAt)
				}

				if typ != "Epic" {
					n := r.IntN(2*o.WorklogsPerIssue + 1)
					spent := 0
					for range n {
						wlID++
						startedAt := created.Add(time.Duration(r.Float64() * float64(now.Sub(created)-2*time.Hour))).Truncate(time.Millisecond)
						secs := 900 * (1 + r.IntN(32))
						spent += secs
						at := startedAt.Add(time.Duration(secs) * time.Second)
						if limit := now.Add(-2 * time.Minute); at.After(limit) {
							at, startedAt = limit, limit.Add(-time.Duration(secs)*time.Second)
						}
						who := assignee
						if who == nil {
							who = assignable[r.IntN(len(assignable))]
						}
						w := Object{"id": strconv.FormatInt(wlID, 10), "issueId": is.ID, "author": who, "updateAuthor": who,
							"comment": comment, "created": ts(at), "updated": ts(at), "started": ts(startedAt),
							"timeSpent": durationText(secs), "timeSpentSeconds": secs}
						is.Worklogs = append(is.Worklogs, &Worklog{Object: w, Updated: at})
						if at.After(updated) {
							updated = at
						}
					}
					if spent > 0 {
						tt := shallow(f["timetracking"].(Object))
						tt["timeSpent"], tt["timeSpentSeconds"] = durationText(spent), spent
						f["timetracking"] = tt
						f["timespent"] = spent
					}
					sortWorklogs(is.Worklogs)
				}
				f["updated"] = ts(updated)
				d.Issues[i] = is
			}
		}(lo, min(lo+chunk, o.Issues))
	}
	wg.Wait()
	return d
}

type itemKey struct {
	kind byte
	a, b string
}

var storyPoints = []string{"1", "2", "3", "5", "8", "13"}

func resolutionFor(d *Dataset, status string) Object {
	if status == StatusWontDo {
		return d.Resolutions[1]
	}
	return d.Resolutions[0]
}

func sortWorklogs(ws []*Worklog) {
	// insertion sort by started: lists are short
	for i := 1; i < len(ws); i++ {
		for j := i; j > 0 && ws[j].Object["started"].(string) < ws[j-1].Object["started"].(string); j-- {
			ws[j], ws[j-1] = ws[j-1], ws[j]
		}
	}
}

func durationText(secs int) string {
	h, m := secs/3600, secs%3600/60
	switch {
	case h > 0 && m > 0:
		return fmt.Sprintf("%dh %dm", h, m)
	case h > 0:
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dm", m)
}

func stringsLowerFirst(name string) string {
	out := make([]byte, 0, len(name))
	for i := 0; i < len(name) && name[i] != ' '; i++ {
		c := name[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		out = append(out, c)
	}
	return string(out)
}

// fastUTC formats t in UTC as TimeLayout, quicker than time.Format.
func fastUTC(t time.Time) string {
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, sec := t.Clock()
	ms := t.Nanosecond() / 1e6
	b := make([]byte, 0, 28)
	pad := func(n, w int) {
		var tmp [4]byte
		for i := w - 1; i >= 0; i-- {
			tmp[i] = byte('0' + n%10)
			n /= 10
		}
		b = append(b, tmp[:w]...)
	}
	pad(y, 4)
	b = append(b, '-')
	pad(int(mo), 2)
	b = append(b, '-')
	pad(d, 2)
	b = append(b, 'T')
	pad(h, 2)
	b = append(b, ':')
	pad(mi, 2)
	b = append(b, ':')
	pad(sec, 2)
	b = append(b, '.')
	pad(ms, 3)
	b = append(b, "+0000"...)
	return string(b)
}
