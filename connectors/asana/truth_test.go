package asana_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/throughline/throughline/connectors/asana/asanatest"
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

type aTruth struct {
	items    map[string]aItem
	changes  map[string][]aChange
	worklogs map[string]aWorklog
}

func (w aTruth) figures() (items, changes, worklogs int) {
	for _, c := range w.changes {
		changes += len(c)
	}
	return len(w.items), changes, len(w.worklogs)
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
	w := aTruth{items: map[string]aItem{}, changes: map[string][]aChange{}, worklogs: map[string]aWorklog{}}
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
		if _, done := w.items[gid]; done {
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
		w.items[gid] = it
		w.changes[gid] = aHistory(t, section, sections[proj], stories[gid])
		for _, e := range entries[gid] {
			mins, _ := strconv.ParseInt(fmt.Sprint(e["duration_minutes"]), 10, 64)
			w.worklogs["asana:"+sv(e["gid"])] = aWorklog{Item: gid, Started: sv(e["entered_on"]), Seconds: mins * 60}
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
	w := aTruth{items: map[string]aItem{}, changes: map[string][]aChange{}, worklogs: map[string]aWorklog{}}
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
		w.items[key] = aItem{Project: strings.TrimPrefix(proj.String, "asana:"), Title: title.String, Type: typ.String,
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
		if seq != len(w.changes[key]) {
			t.Errorf("%s: status change seq %d after %d changes", key, seq, len(w.changes[key]))
		}
		c.At = c.At.UTC()
		w.changes[key] = append(w.changes[key], c)
		return nil
	})
	q(`SELECT l.worklog_id, coalesce(w.key, l.item_id), strftime(l.started_at, '%Y-%m-%d'), l.seconds FROM worklogs l LEFT JOIN work_items w USING (item_id)
		WHERE l.worklog_id LIKE 'asana:%'`, func(r *sql.Rows) error {
		var id string
		var wl aWorklog
		if err := r.Scan(&id, &wl.Item, &wl.Started, &wl.Seconds); err != nil {
			return err
		}
		w.worklogs[id] = wl
		return nil
	})
	return w
}

// asanaMismatches lists the differences by item gid.
func asanaMismatches(want, got aTruth) map[string][]string {
	out := map[string][]string{}
	add := func(k, format string, args ...any) { out[k] = append(out[k], fmt.Sprintf(format, args...)) }
	for k, wi := range want.items {
		gi, ok := got.items[k]
		if !ok {
			add(k, "missing (or marked deleted) in the warehouse")
			continue
		}
		if d := cmp.Diff(wi, gi); d != "" {
			add(k, "item (-truth +warehouse):\n%s", d)
		}
		if d := cmp.Diff(want.changes[k], got.changes[k], cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); d != "" {
			add(k, "status changes (-truth +warehouse):\n%s", d)
		}
	}
	for k := range got.items {
		if _, ok := want.items[k]; !ok {
			add(k, "live in the warehouse, gone (deleted or out of scope) at the source")
		}
	}
	for id, ww := range want.worklogs {
		if gw, ok := got.worklogs[id]; !ok || gw != ww {
			add(ww.Item, "worklog %s: warehouse %+v (present %v), truth %+v", id, gw, ok, ww)
		}
	}
	for id, gw := range got.worklogs {
		if _, ok := want.worklogs[id]; !ok {
			add(gw.Item, "worklog %s stored, gone at the source", id)
		}
	}
	return out
}

// checkAsana fails for every difference but those of excused gids.
func checkAsana(t *testing.T, when string, db *warehouse.DB, srv *asanatest.Server, configured []string, excused ...string) aTruth {
	t.Helper()
	want := asanaTruth(srv, configured...)
	ms := asanaMismatches(want, asanaStored(t, db))
	var keys []string
	for k := range ms {
		if !slices.Contains(excused, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i == 10 {
			t.Errorf("%s: … and %d more differ", when, len(keys)-10)
			break
		}
		t.Errorf("%s: %s: %s", when, k, strings.Join(ms[k], "; "))
	}
	return want
}

// asanaTouched lists the gids whose truth differs between a and b.
func asanaTouched(a, b aTruth) []string {
	var out []string
	add := func(k string) {
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	for k := range a.items {
		if a.items[k] != b.items[k] || !cmp.Equal(a.changes[k], b.changes[k]) {
			add(k)
		}
	}
	for k := range b.items {
		if _, ok := a.items[k]; !ok {
			add(k)
		}
	}
	for id, w := range a.worklogs {
		if b.worklogs[id] != w {
			add(w.Item)
		}
	}
	for id, w := range b.worklogs {
		if a.worklogs[id] != w {
			add(w.Item)
		}
	}
	return out
}
