package demo

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/throughline/throughline/connectors/jira/jiratest"
)

// Status and resolution ids of the demo's Jira site.
var jiraStatuses = []struct {
	id, name string
	cat      jiratest.Object
}{
	{"10000", statusToDo, jiratest.Object{"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"}},
	{"3", statusInProgress, jiratest.Object{"id": 4, "key": "indeterminate", "colorName": "yellow", "name": "In Progress"}},
	{"10001", statusInReview, jiratest.Object{"id": 4, "key": "indeterminate", "colorName": "yellow", "name": "In Progress"}},
	{"10004", statusBlocked, jiratest.Object{"id": 4, "key": "indeterminate", "colorName": "yellow", "name": "In Progress"}},
	{"10002", statusDone, jiratest.Object{"id": 3, "key": "done", "colorName": "green", "name": "Done"}},
}

var jiraResolutions = []jiratest.Object{
	{"id": "10000", "name": resDone, "description": "Work has been completed on this issue."},
	{"id": "10001", "name": resWontDo, "description": "This issue won't be actioned."},
	{"id": "10002", "name": resDuplicate, "description": "The problem is a duplicate of an existing issue."},
}

var jiraTypes = map[string]jiratest.Object{
	typeEpic:  {"id": "10000", "name": typeEpic, "subtask": false, "hierarchyLevel": 1},
	typeStory: {"id": "10001", "name": typeStory, "subtask": false, "hierarchyLevel": 0},
	typeTask:  {"id": "10002", "name": typeTask, "subtask": false, "hierarchyLevel": 0},
	typeBug:   {"id": "10003", "name": typeBug, "subtask": false, "hierarchyLevel": 0},
}

// jiraTime renders t as Jira does.
func jiraTime(t time.Time) string { return t.UTC().Format(jiratest.TimeLayout) }

// accountID derives a Jira Cloud account id from an email, deterministically.
func accountID(email string) string {
	h := fnv.New64a()
	h.Write([]byte(email))
	x := h.Sum64()
	return fmt.Sprintf("712020:%08x-%04x-4%03x-8%03x-%012x", uint32(x>>32), uint16(x>>16), uint16(x)&0xfff, uint16(x>>4)&0xfff, x&0xffffffffffff)
}

// displayName turns "anna.schmidt@example.com" into "Anna Schmidt".
func displayName(email string) string {
	local, _, _ := strings.Cut(email, "@")
	parts := strings.Split(local, ".")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, " ")
}

func jiraUser(email string) jiratest.Object {
	return jiratest.Object{"accountId": accountID(email), "accountType": "atlassian", "displayName": displayName(email),
		"emailAddress": email, "active": true, "timeZone": "Europe/Berlin"}
}

// jiraDataset builds the Jira Cloud site that serves the items of the
// given projects: issues with their complete status history (resolution
// set and cleared as Jira does), fix versions from the milestones,
// worklogs, and the site's statuses, fields and users.
func (g *gen) jiraDataset(keys []string, replans *[]Replan) *jiratest.Dataset {
	d := &jiratest.Dataset{StatusCategories: jiratest.StatusCategories(), Versions: map[string][]jiratest.Object{},
		Resolutions: jiraResolutions}
	status := map[string]jiratest.Object{}
	for _, st := range jiraStatuses {
		d.Statuses = append(d.Statuses, jiratest.Object{"id": st.id, "name": st.name, "description": "", "statusCategory": st.cat})
		status[st.name] = jiratest.Object{"id": st.id, "name": st.name, "statusCategory": st.cat}
	}
	resolution := map[string]jiratest.Object{}
	for _, r := range jiraResolutions {
		resolution[r["name"].(string)] = jiratest.Object{"id": r["id"], "name": r["name"]}
	}
	d.Fields = []jiratest.Object{
		{"id": "summary", "key": "summary", "name": "Summary", "custom": false, "navigable": true, "searchable": true, "clauseNames": []string{"summary"}, "schema": jiratest.Object{"type": "string", "system": "summary"}},
		{"id": "status", "key": "status", "name": "Status", "custom": false, "navigable": true, "searchable": true, "clauseNames": []string{"status"}, "schema": jiratest.Object{"type": "status", "system": "status"}},
		{"id": "duedate", "key": "duedate", "name": "Due date", "custom": false, "navigable": true, "searchable": true, "clauseNames": []string{"due", "duedate"}, "schema": jiratest.Object{"type": "date", "system": "duedate"}},
		{"id": "fixVersions", "key": "fixVersions", "name": "Fix versions", "custom": false, "navigable": true, "searchable": true, "clauseNames": []string{"fixVersion"}, "schema": jiratest.Object{"type": "array", "items": "version", "system": "fixVersions"}},
		{"id": "timeoriginalestimate", "key": "timeoriginalestimate", "name": "Original estimate", "custom": false, "navigable": true, "searchable": false, "clauseNames": []string{"originalEstimate", "timeoriginalestimate"}, "schema": jiratest.Object{"type": "number", "system": "timeoriginalestimate"}},
		{"id": jiratest.StoryPointsField, "key": jiratest.StoryPointsField, "name": "Story point estimate", "untranslatedName": "Story point estimate", "custom": true, "navigable": true, "searchable": true, "clauseNames": []string{"cf[10016]", "Story point estimate"}, "schema": jiratest.Object{"type": "number", "custom": jiratest.StoryPointsFieldType, "customId": 10016}},
	}
	users := map[string]jiratest.Object{}
	user := func(email string) jiratest.Object {
		u, ok := users[email]
		if !ok {
			u = jiraUser(email)
			users[email] = u
		}
		return u
	}
	for _, p := range g.people {
		d.Users = append(d.Users, user(p.email))
	}
	d.Users = append(d.Users, user(leaverEmail))

	projects := map[*project]jiratest.Object{}
	versions := map[*milestone]jiratest.Object{}
	for i, key := range keys {
		p := g.project(key)
		pid := 10000 + i
		po := jiratest.Object{"id": strconv.Itoa(pid), "key": p.key, "name": p.name, "projectTypeKey": "software", "simplified": false}
		d.Projects = append(d.Projects, po)
		projects[p] = po
		for j, m := range p.ms {
			// A release that slipped is served with its first (baseline)
			// date; Replans moves it after the first sync.
			first := m.due
			if !m.baseline.IsZero() && !m.baseline.Equal(m.due) {
				first = m.baseline
				*replans = append(*replans, Replan{Project: p.key, Version: m.name, ReleaseDate: date(m.due)})
			}
			v := jiratest.Object{"id": strconv.Itoa(20000 + 100*i + j), "name": m.name, "description": "", "projectId": pid,
				"archived": false, "released": !m.completed.IsZero(), "releaseDate": date(first)}
			if !m.start.IsZero() {
				v["startDate"] = date(m.start)
			}
			d.Versions[p.key] = append(d.Versions[p.key], v)
			versions[m] = jiratest.Object{"id": v["id"], "name": v["name"], "description": "", "archived": false,
				"released": v["released"], "releaseDate": v["releaseDate"]}
		}
	}

	var moved []*item
	for _, it := range g.items { // in creation order
		if projects[it.proj] != nil {
			moved = append(moved, it)
		}
	}
	ids := map[*item]string{}
	for i, it := range moved {
		ids[it] = strconv.Itoa(10000 + i)
	}
	wls := map[*item][]worklog{}
	for _, w := range g.worklogs {
		if ids[w.it] != "" {
			wls[w.it] = append(wls[w.it], w)
		}
	}
	var histID, wlID int64 = 100000, 30000
	for _, it := range moved {
		reporter := user(it.proj.team.members[0].email)
		var assignee jiratest.Object
		switch {
		case it.leaver:
			assignee = user(leaverEmail)
		case it.assignee != nil:
			assignee = user(it.assignee.email)
		}
		f := jiratest.Object{
			"summary": it.title, "issuetype": jiraTypes[it.typ], "project": projects[it.proj],
			"created": jiraTime(it.created), "status": status[it.status], "statuscategorychangedate": jiraTime(it.created),
			"resolution": nil, "resolutiondate": nil, "duedate": nil, "assignee": assignee, "reporter": reporter, "creator": reporter,
			"fixVersions": []any{}, "priority": jiratest.Object{"id": "3", "name": "Medium"}, "labels": []any{},
			jiratest.StoryPointsField: nil, "timeoriginalestimate": nil,
		}
		if assignee == nil {
			f["assignee"] = nil
		}
		if it.resolution != "" {
			f["resolution"], f["resolutiondate"] = resolution[it.resolution], jiraTime(it.resolved)
		}
		if !it.due.IsZero() {
			f["duedate"] = date(it.due)
		}
		if it.milestone != nil {
			f["fixVersions"] = []any{versions[it.milestone]}
		}
		if it.parent != nil {
			f["parent"] = jiratest.Object{"id": ids[it.parent], "key": it.parent.key,
				"fields": jiratest.Object{"summary": it.parent.title, "issuetype": jiraTypes[it.parent.typ]}}
		}
		if it.points > 0 {
			f[jiratest.StoryPointsField] = it.points
		}
		if it.estimate > 0 {
			f["timeoriginalestimate"] = int64(it.estimate * 3600)
		}
		is := &jiratest.Issue{ID: ids[it], Key: it.key, Fields: f}
		author := assignee
		if author == nil {
			author = reporter
		}
		updated := it.created
		cat := func(s string) any { return status[s]["statusCategory"].(jiratest.Object)["key"] }
		var prevRes jiratest.Object
		for _, c := range it.changes {
			items := []any{jiratest.Object{"field": "status", "fieldtype": "jira", "fieldId": "status",
				"from": status[c.from]["id"], "fromString": c.from, "to": status[c.to]["id"], "toString": c.to}}
			switch {
			case c.to == statusDone && c.from != statusDone:
				res := resolution[cmpOr(c.res, resDone)]
				prevRes = res
				items = append(items, jiratest.Object{"field": "resolution", "fieldtype": "jira", "fieldId": "resolution",
					"from": nil, "fromString": nil, "to": res["id"], "toString": res["name"]})
			case c.from == statusDone && c.to != statusDone:
				items = append(items, jiratest.Object{"field": "resolution", "fieldtype": "jira", "fieldId": "resolution",
					"from": prevRes["id"], "fromString": prevRes["name"], "to": nil, "toString": nil})
			}
			histID++
			is.Histories = append(is.Histories, jiratest.Object{"id": strconv.FormatInt(histID, 10), "author": author,
				"created": jiraTime(c.at), "items": items})
			if cat(c.from) != cat(c.to) {
				f["statuscategorychangedate"] = jiraTime(c.at)
			}
			updated = maxTime(updated, c.at)
		}
		ws := wls[it]
		slices.SortStableFunc(ws, func(a, b worklog) int { return a.at.Compare(b.at) })
		var spent int64
		for _, w := range ws {
			wlID++
			secs := int64(w.hours * 3600)
			spent += secs
			u := user(w.person.email)
			o := jiratest.Object{"id": strconv.FormatInt(wlID, 10), "issueId": is.ID, "author": u, "updateAuthor": u,
				"created": jiraTime(w.at), "updated": jiraTime(w.at), "started": jiraTime(w.at),
				"timeSpent": durationText(secs), "timeSpentSeconds": secs}
			is.Worklogs = append(is.Worklogs, &jiratest.Worklog{Object: o, Updated: w.at})
			updated = maxTime(updated, w.at)
		}
		if spent > 0 {
			f["timespent"] = spent
		}
		f["updated"] = jiraTime(updated)
		d.Issues = append(d.Issues, is)
	}
	return d
}

// Replan is a release date moved after the first sync: Jira versions have
// no baseline, so the demo serves a slipped release with its baseline date
// first and moves it to the current one afterwards (ApplyReplans); the
// connector records the move as a due-date change, which gives the
// milestone the baseline the CSV layout states.
type Replan struct {
	Project, Version, ReleaseDate string
}

// ApplyReplans moves the release dates of rs in d (under the server's lock:
// call it through jiratest.Server.Mutate).
func ApplyReplans(d *jiratest.Dataset, rs []Replan) {
	for _, r := range rs {
		d.SetReleaseDate(r.Project, r.Version, r.ReleaseDate)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func durationText(secs int64) string {
	h, m := secs/3600, secs%3600/60
	switch {
	case h > 0 && m > 0:
		return fmt.Sprintf("%dh %dm", h, m)
	case h > 0:
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dm", m)
}
