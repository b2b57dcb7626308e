package demo

import (
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strconv"

	"github.com/throughline/throughline/connectors/asana/asanatest"
)

// Identifiers of the demo's Asana workspace and project. The project gid is
// the project's key in the warehouse and in the config.
const (
	asanaWorkspaceGID = "1207000000000000"
	// AsanaProjectGID is the gid of the project the fake Asana serves.
	AsanaProjectGID = "1207000000000001"
	// AsanaEstimateField and AsanaPointsField are the number custom fields
	// carrying the estimate (hours) and the story points.
	AsanaEstimateField = "Estimate (hours)"
	AsanaPointsField   = "Story points"
)

// Board columns of the Asana project, in board order. Asana has no
// resolution: a finished task is marked complete (and moved to Done); a
// discarded one is moved, not completed, to the column named after the
// resolution, which the config maps to done and the metrics count as
// discarded (discarded_resolutions applies to statuses too).
var asanaSections = []string{statusToDo, statusInProgress, statusInReview, statusBlocked, statusDone, resWontDo, resDuplicate}

// asanaUserGID derives a user gid from an email, deterministically.
func asanaUserGID(email string) string {
	h := fnv.New64a()
	h.Write([]byte(email))
	return fmt.Sprintf("1207%012d", h.Sum64()%1e12)
}

func asanaUser(email string) asanatest.Object {
	return asanatest.Object{"gid": asanaUserGID(email), "resource_type": "user", "name": displayName(email), "email": email}
}

// asanaProject builds the Asana project serving the items of key: tasks in
// their board column (or completed), stories for every status change,
// time tracking entries for the worklogs, estimates and story points as
// number custom fields. Each status change is one transition the connector
// derives: into Done a marked_complete story (then the move to the Done
// column, which changes nothing while completed); out of Done the move
// back, then marked_incomplete; a discard a move to its column; anything
// else a section move.
func (g *gen) asanaProject(key string) *asanatest.Project {
	p := g.project(key)
	proj := asanatest.Object{"gid": AsanaProjectGID, "resource_type": "project", "name": p.name}
	d := &asanatest.Project{GID: AsanaProjectGID, Name: p.name, Subtasks: map[string][]asanatest.Object{},
		Stories: map[string][]asanatest.Object{}, Entries: map[string][]asanatest.Object{}}
	section := map[string]asanatest.Object{}
	for i, name := range asanaSections {
		o := asanatest.Object{"gid": fmt.Sprintf("1207100000%06d", i+1), "resource_type": "section", "name": name}
		d.Sections = append(d.Sections, o)
		section[name] = o
	}
	workspace := asanatest.Object{"gid": asanaWorkspaceGID, "resource_type": "workspace", "name": "Example Co"}
	ts := asanatest.Timestamp

	var moved []*item
	for _, it := range g.items { // in creation order
		if it.proj == p {
			moved = append(moved, it)
		}
	}
	gids := map[*item]string{}
	for i, it := range moved {
		gids[it] = fmt.Sprintf("12072%011d", i+1)
	}
	wls := map[*item][]worklog{}
	for _, w := range g.worklogs {
		if gids[w.it] != "" {
			wls[w.it] = append(wls[w.it], w)
		}
	}
	number := func(v float64) any {
		if v == 0 {
			return nil
		}
		return v
	}
	display := func(v any) any {
		if v == nil {
			return nil
		}
		return strconv.FormatFloat(v.(float64), 'f', -1, 64)
	}
	storyN, entryN := 0, 0
	for _, it := range moved {
		gid := gids[it]
		reporter := asanaUser(p.team.members[0].email)
		var assignee asanatest.Object
		switch {
		case it.leaver:
			assignee = asanaUser(leaverEmail)
		case it.assignee != nil:
			assignee = asanaUser(it.assignee.email)
		}
		author := assignee
		if author == nil {
			author = reporter
		}
		est, pts := number(it.estimate), number(it.points)
		t := asanatest.Object{
			"gid": gid, "resource_type": "task", "name": it.title, "resource_subtype": "default_task",
			"created_by": reporter, "completed": false, "completed_at": nil,
			"created_at": ts(it.created), "due_on": nil, "due_at": nil, "assignee": nil, "parent": nil, "num_subtasks": 0,
			"permalink_url": "https://app.asana.com/1/" + asanaWorkspaceGID + "/project/" + AsanaProjectGID + "/task/" + gid,
			"workspace":     workspace,
			"custom_fields": []asanatest.Object{
				{"gid": "1207300000000001", "resource_type": "custom_field", "name": AsanaEstimateField, "resource_subtype": "number",
					"type": "number", "number_value": est, "display_value": display(est), "precision": 2, "enabled": true},
				{"gid": "1207300000000002", "resource_type": "custom_field", "name": AsanaPointsField, "resource_subtype": "number",
					"type": "number", "number_value": pts, "display_value": display(pts), "precision": 0, "enabled": true},
			},
		}
		if assignee != nil {
			t["assignee"] = assignee
		}
		if !it.due.IsZero() {
			t["due_on"] = date(it.due)
		}
		modified := it.created
		cur, completed := statusToDo, false
		var stories []asanatest.Object
		story := func(c change, subtype, text string, extra asanatest.Object) {
			storyN++
			o := asanatest.Object{"gid": fmt.Sprintf("12074%011d", storyN), "resource_type": "story", "created_at": ts(c.at),
				"created_by": author, "type": "system", "resource_subtype": subtype, "text": text}
			for k, v := range extra {
				o[k] = v
			}
			stories = append(stories, o)
		}
		move := func(c change, to string) {
			story(c, "section_changed", fmt.Sprintf("moved this task from %q to %q in %s", cur, to, p.name),
				asanatest.Object{"old_section": section[cur], "new_section": section[to]})
			cur = to
		}
		for _, c := range it.changes {
			switch {
			case c.to == statusDone && (c.res == resWontDo || c.res == resDuplicate):
				move(c, c.res)
			case c.to == statusDone:
				story(c, "marked_complete", "marked this task complete", nil)
				completed = true
				move(c, statusDone)
			case completed: // reopened
				move(c, c.to)
				story(c, "marked_incomplete", "marked this task incomplete", nil)
				completed = false
			default:
				move(c, c.to)
			}
			modified = maxTime(modified, c.at)
		}
		if completed {
			t["completed"], t["completed_at"] = true, ts(it.resolved)
		}
		t["memberships"] = []asanatest.Object{{"project": proj, "section": section[cur]}}
		ws := wls[it]
		slices.SortStableFunc(ws, func(a, b worklog) int { return a.at.Compare(b.at) })
		for _, w := range ws {
			entryN++
			d.Entries[gid] = append(d.Entries[gid], asanatest.Object{
				"gid": fmt.Sprintf("12075%011d", entryN), "resource_type": "time_tracking_entry",
				"duration_minutes": int64(math.Round(w.hours * 60)), "entered_on": w.at.UTC().Format("2006-01-02"),
				"created_by": asanaUser(w.person.email), "created_at": ts(w.at),
				"task":            asanatest.Object{"gid": gid, "resource_type": "task", "name": it.title, "resource_subtype": "default_task"},
				"attributable_to": proj, "approval_status": "APPROVED", "billable_status": "not_billable",
			})
			modified = maxTime(modified, w.at)
		}
		t["modified_at"] = ts(modified)
		d.Stories[gid] = stories
		d.Tasks = append(d.Tasks, t)
	}
	return d
}
