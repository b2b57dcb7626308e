package asana_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/throughline/throughline/connectors/asana/asanatest"
	"github.com/throughline/throughline/ingest/ingesttest"
	"github.com/throughline/throughline/warehouse"
)

// The fake's truth, restated independently of the connector: what the
// warehouse must hold for source "asana" configured with the projects
// given (in config order).

type aItem struct{ Project, Title, Type, Status, Parent string }

type aChange struct {
	At       time.Time
	From, To string
}

type aWorklog struct {
	Item    string
	Started string // YYYY-MM-DD
	Seconds int64
}

// aTruth: live items by gid, their histories, worklogs by worklog_id (no
// milestones compared: they are items too).
type aTruth = ingesttest.Truth[aItem, aChange, aWorklog, struct{}]

func newATruth() aTruth {
	return ingesttest.NewTruth[aItem, aChange, aWorklog, struct{}](func(w aWorklog) string { return w.Item })
}

func sv(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.RawMessage:
		var out string
		if json.Unmarshal(x, &out) == nil {
			return out
		}
	}
	return ""
}

func ov(v any) obj {
	m, _ := v.(obj)
	return m
}

func asanaTime(v any) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, sv(v))
	return t.UTC()
}

// asanaTruth reads every project the fake serves.
func asanaTruth(srv *asanatest.Server, configured ...string) aTruth {
	var w aTruth
	srv.Read(func(ps []*asanatest.Project) { w = asanaTruthFrom(ps, configured...) })
	return w
}

func asanaTruthFrom(ps []*asanatest.Project, configured ...string) aTruth {
	w := newATruth()
	stories := map[string][]obj{}
	entries := map[string][]obj{}
	subtasks := map[string][]obj{}
	sections := map[string]map[string]string{} // project → section gid → name
	for _, p := range ps {
		for k, v := range p.Stories {
			stories[k] = append(stories[k], v...)
		}
		for k, v := range p.Entries {
			entries[k] = append(entries[k], v...)
		}
		for k, v := range p.Subtasks {
			subtasks[k] = append(subtasks[k], v...)
		}
		gid := p.GID
		if gid == "" {
			gid = asanatest.ProjectGID
		}
		secs := p.Sections
		if secs == nil {
			secs = asanatest.Sections
		}
		sections[gid] = map[string]string{}
		for _, sec := range secs {
			sections[gid][sv(sec["gid"])] = sv(sec["name"])
		}
	}
	var add func(t obj, proj, parent string, depth int)
	add = func(t obj, proj, parent string, depth int) {
		gid := sv(t["gid"])
		if _, done := w.Items[gid]; done {
			return
		}
		section := ""
		for _, m := range list(t["memberships"]) {
			if sv(ov(m["project"])["gid"]) == proj && m["section"] != nil {
				section = sv(ov(m["section"])["name"])
			}
		}
		it := aItem{Project: proj, Title: sv(t["name"]), Type: "Task", Status: section, Parent: parent}
		if parent != "" {
			it.Type = "Subtask"
		}
		if t["resource_subtype"] == "milestone" {
			it.Type = "Milestone"
		}
		if it.Status == "" {
			it.Status = "To Do"
		}
		if t["completed"] == true {
			it.Status = "Completed"
		}
		w.Items[gid] = it
		w.Changes[gid] = aHistory(t, section, sections[proj], stories[gid])
		for _, e := range entries[gid] {
			mins, _ := strconv.ParseInt(fmt.Sprint(e["duration_minutes"]), 10, 64)
			w.Worklogs["asana:"+sv(e["gid"])] = aWorklog{Item: gid, Started: sv(e["entered_on"]), Seconds: mins * 60}
		}
		if depth < 5 {
			for _, sub := range subtasks[gid] {
				add(sub, proj, gid, depth+1)
			}
		}
	}
	for _, p := range configured {
		for _, q := range ps {
			if q.GID != p && !(q.GID == "" && p == asanatest.ProjectGID) {
				continue
			}
			for _, t := range q.Tasks {
				own := ""
				for _, c := range configured {
					for _, m := range list(t["memberships"]) {
						if own == "" && sv(ov(m["project"])["gid"]) == c {
							own = c
						}
					}
				}
				if own != "" {
					add(t, own, "", 0)
				}
			}
		}
	}
	return w
}

func list(v any) []obj {
	switch x := v.(type) {
	case []obj:
		return x
	case []any:
		var out []obj
		for _, e := range x {
			out = append(out, ov(e))
		}
		return out
	}
	return nil
}

// aHistory: the creation into the first section (where the first move in
// this project came from, else the current one, else To Do), then a change
// at each section move in this project, completion and reopening that
// changes the status (Completed while completed), never going back in
// time; ending where the task is.
func aHistory(t obj, current string, sections map[string]string, stories []obj) []aChange {
	name := func(r obj) string {
		if n := sv(r["name"]); n != "" {
			return n
		}
		return sections[sv(r["gid"])]
	}
	inProject := func(r obj) bool {
		if r == nil {
			return false
		}
		_, ok := sections[sv(r["gid"])]
		return ok || len(sections) == 0
	}
	section := current
	for _, st := range stories {
		if st["resource_subtype"] == "section_changed" && inProject(ov(st["new_section"])) {
			if n := name(ov(st["old_section"])); n != "" {
				section = n
			}
			break
		}
	}
	if section == "" {
		section = "To Do"
	}
	h := []aChange{{At: asanaTime(t["created_at"]), To: section}}
	completed := false
	step := func(at time.Time) {
		to := section
		if completed {
			to = "Completed"
		}
		last := h[len(h)-1]
		if to == last.To {
			return
		}
		if at.Before(last.At) {
			at = last.At
		}
		h = append(h, aChange{At: at, From: last.To, To: to})
	}
	for _, st := range stories {
		switch st["resource_subtype"] {
		case "section_changed":
			if !inProject(ov(st["new_section"])) {
				continue
			}
			if n := name(ov(st["new_section"])); n != "" {
				section = n
			}
		case "marked_complete":
			completed = true
		case "marked_incomplete":
			completed = false
		default:
			continue
		}
		step(asanaTime(st["created_at"]))
	}
	if t["completed"] == true && !completed {
		completed = true
		step(asanaTime(t["completed_at"]))
	}
	if t["completed"] != true && completed {
		completed = false
		step(asanaTime(t["modified_at"]))
	}
	return h
}

// asanaStored reads the warehouse as a truth.
func asanaStored(t *testing.T, db *warehouse.DB) aTruth {
	t.Helper()
	w := newATruth()
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
	q(`SELECT key, project_id, title, item_type, status, parent_id FROM work_items WHERE source_id = 'asana' AND NOT deleted`, func(r *sql.Rows) error {
		var key string
		var proj, title, typ, status, parent sql.NullString
		if err := r.Scan(&key, &proj, &title, &typ, &status, &parent); err != nil {
			return err
		}
		w.Items[key] = aItem{Project: strings.TrimPrefix(proj.String, "asana:"), Title: title.String, Type: typ.String,
			Status: status.String, Parent: strings.TrimPrefix(parent.String, "asana:")}
		return nil
	})
	q(`SELECT w.key, s.seq, s.changed_at, coalesce(s.from_status, ''), s.to_status FROM status_changes s JOIN work_items w USING (item_id)
		WHERE w.source_id = 'asana' AND NOT w.deleted ORDER BY w.key, s.seq`, func(r *sql.Rows) error {
		var key string
		var seq int
		var c aChange
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
	q(`SELECT l.worklog_id, coalesce(w.key, l.item_id), strftime(l.started_at, '%Y-%m-%d'), l.seconds FROM worklogs l LEFT JOIN work_items w USING (item_id)
		WHERE l.worklog_id LIKE 'asana:%'`, func(r *sql.Rows) error {
		var id string
		var wl aWorklog
		if err := r.Scan(&id, &wl.Item, &wl.Started, &wl.Seconds); err != nil {
			return err
		}
		w.Worklogs[id] = wl
		return nil
	})
	return w
}

// checkAsana fails for every difference but those of excused gids.
func checkAsana(t *testing.T, when string, db *warehouse.DB, srv *asanatest.Server, configured []string, excused ...string) aTruth {
	t.Helper()
	want := asanaTruth(srv, configured...)
	ingesttest.Check(t, when, ingesttest.Diff(want, asanaStored(t, db)), excused...)
	return want
}
