package jira_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/throughline/throughline/connectors/jira/jiratest"
	"github.com/throughline/throughline/ingest/ingesttest"
	"github.com/throughline/throughline/warehouse"
)

// The fake's truth, restated independently of the connector's mapping:
// what the warehouse must hold for source "jira" after syncing a fake whose
// scope is a set of projects.

type tItem struct {
	Project, Title, Type, Status, Parent, Milestone string
}

type tChange struct {
	At       time.Time
	From, To string
}

type tWorklog struct {
	Item    string
	Started time.Time
	Seconds int64
}

type tMilestone struct {
	Name string
	Due  string // YYYY-MM-DD or ""
}

// truth: live items by key, their histories (creation first), worklogs by
// worklog_id, milestones by milestone_id.
type truth = ingesttest.Truth[tItem, tChange, tWorklog, tMilestone]

func newTruth() truth {
	return ingesttest.NewTruth[tItem, tChange, tWorklog, tMilestone](func(w tWorklog) string { return w.Item })
}

const unknown = "(unknown)"

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.RawMessage:
		var s string
		if json.Unmarshal(x, &s) == nil {
			return s
		}
	}
	return ""
}

func obj(v any) jiratest.Object {
	o, _ := v.(jiratest.Object)
	return o
}

func isEpic(issuetype jiratest.Object) bool {
	if issuetype == nil {
		return false
	}
	lvl, _ := issuetype["hierarchyLevel"].(int)
	return issuetype["name"] == "Epic" || lvl == 1
}

func parseJiraTime(t *testing.T, v any) time.Time {
	t.Helper()
	ts, err := time.Parse(jiratest.TimeLayout, str(v))
	if err != nil {
		t.Fatalf("fake timestamp %v: %v", v, err)
	}
	return ts
}

// truthOf reads the fake's current state: every visible issue of the
// projects in scope with its full history, worklogs, parent and milestone,
// the versions of those projects and the epics with a due date.
func truthOf(t *testing.T, srv *jiratest.Server, scope ...string) truth {
	t.Helper()
	var w truth
	srv.Read(func(d *jiratest.Dataset) { w = truthFrom(t, d, scope...) })
	return w
}

// truthFrom is truthOf on the data itself (in a Drift hook, under the lock).
func truthFrom(t *testing.T, d *jiratest.Dataset, scope ...string) truth {
	t.Helper()
	w := newTruth()
	{
		statusName := func(id, name any) string {
			if id != nil {
				if st := d.Status(fmt.Sprint(id)); st != nil {
					return str(st["name"])
				}
			}
			if s := str(name); s != "" {
				return s
			}
			return unknown
		}
		for _, p := range scope {
			for _, v := range d.Versions[p] {
				due := ""
				if rd, ok := v["releaseDate"].(string); ok {
					due = rd
				}
				w.Milestones["jira:"+p+":"+str(v["name"])] = tMilestone{Name: str(v["name"]), Due: due}
			}
		}
		for _, is := range d.Issues {
			proj := str(obj(is.Fields["project"])["key"])
			if is.Deleted || !slices.Contains(scope, proj) {
				continue
			}
			it := tItem{Project: proj, Title: str(is.Fields["summary"]), Type: str(obj(is.Fields["issuetype"])["name"])}
			if st := obj(is.Fields["status"]); st != nil {
				it.Status = statusName(st["id"], st["name"])
			}
			if p := obj(is.Fields["parent"]); p != nil {
				it.Parent = str(p["key"])
				pp := obj(p["fields"])
				if pp != nil && isEpic(obj(pp["issuetype"])) && strings.HasPrefix(it.Parent, proj+"-") {
					it.Milestone = it.Parent
				}
			}
			if fvs, _ := is.Fields["fixVersions"].([]any); len(fvs) > 0 {
				it.Milestone = str(obj(fvs[0])["name"])
			}
			w.Items[is.Key] = it
			if isEpic(obj(is.Fields["issuetype"])) && str(is.Fields["duedate"]) != "" {
				w.Milestones["jira:"+proj+":"+is.Key] = tMilestone{Name: is.Key, Due: str(is.Fields["duedate"])}
			}

			// History: the connector orders histories by created, then id.
			hs := slices.Clone(is.Histories)
			sort.SliceStable(hs, func(a, b int) bool {
				ta, tb := parseJiraTime(t, hs[a]["created"]), parseJiraTime(t, hs[b]["created"])
				if !ta.Equal(tb) {
					return ta.Before(tb)
				}
				na, _ := strconv.ParseInt(str(hs[a]["id"]), 10, 64)
				nb, _ := strconv.ParseInt(str(hs[b]["id"]), 10, 64)
				return na < nb
			})
			created := parseJiraTime(t, is.Fields["created"])
			var ch []tChange
			for _, h := range hs {
				for _, x := range historyItems(h) {
					if x["field"] != "status" {
						continue
					}
					from, to := statusName(x["from"], x["fromString"]), statusName(x["to"], x["toString"])
					if len(ch) == 0 {
						ch = append(ch, tChange{At: created, To: from})
					}
					ch = append(ch, tChange{At: parseJiraTime(t, h["created"]), From: from, To: to})
				}
			}
			if len(ch) == 0 {
				to := it.Status
				if to == "" {
					to = unknown
				}
				ch = []tChange{{At: created, To: to}}
			}
			w.Changes[is.Key] = ch
			for _, wl := range is.Worklogs {
				if !wl.Deleted.IsZero() {
					continue
				}
				secs, _ := strconv.ParseInt(fmt.Sprint(wl.Object["timeSpentSeconds"]), 10, 64)
				w.Worklogs["jira:worklog:"+str(wl.Object["id"])] = tWorklog{Item: is.Key, Started: parseJiraTime(t, wl.Object["started"]), Seconds: secs}
			}
		}
	}
	return w
}

// stored reads the warehouse as a truth: live items, their transitions,
// every worklog and milestone of source jira.
func stored(t *testing.T, db *warehouse.DB) truth {
	t.Helper()
	w := newTruth()
	q := func(query string, scan func(*sql.Rows) error) {
		t.Helper()
		rows, err := db.Query(query)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				t.Fatalf("%s: %v", query, err)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	trim := func(id sql.NullString, prefix string) string { return strings.TrimPrefix(id.String, prefix) }
	q(`SELECT key, project_id, title, item_type, status, parent_id, milestone_id FROM work_items WHERE source_id = 'jira' AND NOT deleted`, func(r *sql.Rows) error {
		var key string
		var proj, title, typ, status, parent, ms sql.NullString
		if err := r.Scan(&key, &proj, &title, &typ, &status, &parent, &ms); err != nil {
			return err
		}
		if _, dup := w.Items[key]; dup {
			t.Errorf("item %s stored twice", key)
		}
		p := trim(proj, "jira:")
		w.Items[key] = tItem{Project: p, Title: title.String, Type: typ.String, Status: status.String, Parent: trim(parent, "jira:"),
			Milestone: trim(ms, "jira:"+p+":")}
		if ms.Valid && !strings.HasPrefix(ms.String, "jira:"+p+":") {
			w.Items[key] = tItem{Project: p, Title: title.String, Type: typ.String, Status: status.String, Parent: trim(parent, "jira:"), Milestone: "other project: " + ms.String}
		}
		return nil
	})
	q(`SELECT w.key, s.seq, s.changed_at, coalesce(s.from_status, ''), s.to_status FROM status_changes s JOIN work_items w USING (item_id)
		WHERE w.source_id = 'jira' AND NOT w.deleted ORDER BY w.key, s.seq`, func(r *sql.Rows) error {
		var key string
		var seq int
		var c tChange
		if err := r.Scan(&key, &seq, &c.At, &c.From, &c.To); err != nil {
			return err
		}
		if seq != len(w.Changes[key]) {
			t.Errorf("%s: status change seq %d after %d changes", key, seq, len(w.Changes[key]))
		}
		c.At = c.At.UTC()
		w.Changes[key] = append(w.Changes[key], c)
		return nil
	})
	q(`SELECT l.worklog_id, coalesce(w.key, l.item_id), l.started_at, l.seconds FROM worklogs l LEFT JOIN work_items w USING (item_id)
		WHERE l.worklog_id LIKE 'jira:%'`, func(r *sql.Rows) error {
		var id string
		var wl tWorklog
		if err := r.Scan(&id, &wl.Item, &wl.Started, &wl.Seconds); err != nil {
			return err
		}
		wl.Started = wl.Started.UTC()
		w.Worklogs[id] = wl
		return nil
	})
	q(`SELECT milestone_id, name, coalesce(strftime(due_date, '%Y-%m-%d'), '') FROM milestones WHERE source_id = 'jira'`, func(r *sql.Rows) error {
		var id string
		var m tMilestone
		if err := r.Scan(&id, &m.Name, &m.Due); err != nil {
			return err
		}
		w.Milestones[id] = m
		return nil
	})
	return w
}

// checkTruth fails the test for every difference between the warehouse and
// the fake's truth, except those concerning the excused keys (changed at
// the source after the sync had read them: the next sync's).
func checkTruth(t *testing.T, when string, db *warehouse.DB, srv *jiratest.Server, scope []string, excused ...string) truth {
	t.Helper()
	want := truthOf(t, srv, scope...)
	ingesttest.Check(t, when, ingesttest.Diff(want, stored(t, db)), excused...)
	return want
}
