package asana

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/throughline/throughline/ingest"
)

type ref struct {
	GID  string `json:"gid"`
	Name string `json:"name"`
}

type user struct {
	GID   string `json:"gid"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

type task struct {
	GID             string    `json:"gid"`
	Name            string    `json:"name"`
	ResourceSubtype string    `json:"resource_subtype"`
	Completed       bool      `json:"completed"`
	CompletedAt     time.Time `json:"completed_at"`
	CreatedAt       time.Time `json:"created_at"`
	ModifiedAt      time.Time `json:"modified_at"`
	DueOn           string    `json:"due_on"`
	DueAt           time.Time `json:"due_at"`
	Assignee        *user     `json:"assignee"`
	Memberships     []struct {
		Project ref  `json:"project"`
		Section *ref `json:"section"`
	} `json:"memberships"`
	Parent       *ref          `json:"parent"`
	NumSubtasks  int           `json:"num_subtasks"`
	CustomFields []customField `json:"custom_fields"`
}

type customField struct {
	GID             string          `json:"gid"`
	Name            string          `json:"name"`
	ResourceSubtype string          `json:"resource_subtype"`
	NumberValue     json.RawMessage `json:"number_value"` // a number, null, or (in odd payloads) anything
}

type dates struct {
	DueOn string    `json:"due_on"`
	DueAt time.Time `json:"due_at"`
}

// day is the due date: due_on, else the UTC date of due_at; zero when neither.
func (d *dates) day() time.Time {
	if d == nil {
		return time.Time{}
	}
	return dueDate(task{DueOn: d.DueOn, DueAt: d.DueAt})
}

type story struct {
	GID             string    `json:"gid"`
	CreatedAt       time.Time `json:"created_at"`
	CreatedBy       *user     `json:"created_by"`
	ResourceSubtype string    `json:"resource_subtype"`
	OldSection      *ref      `json:"old_section"`
	NewSection      *ref      `json:"new_section"`
	OldDates        *dates    `json:"old_dates"`
	NewDates        *dates    `json:"new_dates"`
}

type timeEntry struct {
	GID             string `json:"gid"`
	DurationMinutes int64  `json:"duration_minutes"`
	EnteredOn       string `json:"entered_on"`
	CreatedBy       *user  `json:"created_by"`
}

// batcher accumulates one page's records, each item and person once.
type batcher struct {
	b        ingest.Batch
	items    map[string]bool
	people   map[string]int // gid → index in b.People
	projects map[string]bool
	// outOfScope: a task read is in none of the configured projects (moved
	// away since it was named): a reconciliation decides its fate.
	outOfScope bool
}

func (bt *batcher) person(u *user) string {
	if u == nil || u.GID == "" {
		return ""
	}
	p := ingest.Person{ExternalID: u.GID, DisplayName: u.Name, Email: u.Email}
	if i, ok := bt.people[u.GID]; ok {
		old := &bt.b.People[i]
		if old.DisplayName == "" {
			old.DisplayName = p.DisplayName
		}
		if old.Email == "" {
			old.Email = p.Email
		}
		return u.GID
	}
	bt.people[u.GID] = len(bt.b.People)
	bt.b.People = append(bt.b.People, p)
	return u.GID
}

// maxSubtaskDepth bounds the walk down subtasks of subtasks.
const maxSubtaskDepth = 5

// page maps one page of a project's tasks (and their subtasks, stories and
// time entries) to a batch.
func (c *Connector) page(ctx context.Context, proj string, data []json.RawMessage) (*batcher, error) {
	bt := newBatcher()
	for _, raw := range data {
		if _, err := c.mapRaw(ctx, bt, proj, raw, "", true); err != nil {
			return nil, err
		}
	}
	return bt, nil
}

func newBatcher() *batcher {
	return &batcher{items: map[string]bool{}, people: map[string]int{}, projects: map[string]bool{}}
}

// projectOf is the project a task is stored under: the first configured
// project (config order) among its current memberships, whatever stream
// it came in; a subtask (no memberships) takes its parent's, given as
// parentProj. "" means none: out of scope.
func (c *Connector) projectOf(t task, parentProj string) string {
	for _, p := range c.cfg.Projects {
		for _, m := range t.Memberships {
			if m.Project.GID == p {
				return p
			}
		}
	}
	if len(t.Memberships) == 0 && t.Parent != nil {
		return parentProj
	}
	return ""
}

// mapRaw decodes and maps one task named by proj's stream (a listing, an
// event); with subtasks it also walks its subtasks (maxSubtaskDepth
// levels). The task is stored under its own project (projectOf); one in
// none of the configured projects is not stored (bt.outOfScope).
func (c *Connector) mapRaw(ctx context.Context, bt *batcher, proj string, raw json.RawMessage, parent string, subtasks bool) (task, error) {
	var t task
	if err := json.Unmarshal(raw, &t); err != nil {
		return t, fmt.Errorf("decode task: %w", err)
	}
	own := c.projectOf(t, proj)
	if own == "" {
		bt.outOfScope = true
		return t, nil
	}
	for _, m := range t.Memberships {
		if m.Project.GID == own && !bt.projects[own] {
			bt.projects[own] = true
			bt.b.Projects = append(bt.b.Projects, ingest.Project{Key: own, Name: m.Project.Name})
		}
	}
	if err := c.task(ctx, bt, own, t, raw, parent); err != nil {
		return t, err
	}
	if subtasks {
		if err := c.subtasks(ctx, bt, own, t, 1); err != nil {
			return t, err
		}
	}
	return t, nil
}

// subtasks maps the subtasks of t (of project proj), and theirs, down to
// maxSubtaskDepth.
func (c *Connector) subtasks(ctx context.Context, bt *batcher, proj string, t task, depth int) error {
	if t.NumSubtasks == 0 || depth > maxSubtaskDepth {
		return nil
	}
	subs, err := c.c.listAll(ctx, "/tasks/"+t.GID+"/subtasks", url.Values{"opt_fields": {c.taskFields}})
	if err != nil {
		return fmt.Errorf("task %s subtasks: %w", t.GID, err)
	}
	for _, sraw := range subs {
		var s task
		if err := json.Unmarshal(sraw, &s); err != nil {
			return fmt.Errorf("decode subtask of %s: %w", t.GID, err)
		}
		own := c.projectOf(s, proj)
		if own == "" { // a subtask also in another, unconfigured project: its parent's
			own = proj
		}
		if err := c.task(ctx, bt, own, s, sraw, t.GID); err != nil {
			return err
		}
		if err := c.subtasks(ctx, bt, own, s, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// task maps one task of project proj: item (or milestone), history,
// worklogs (its complete list), raw payload.
func (c *Connector) task(ctx context.Context, bt *batcher, proj string, t task, raw json.RawMessage, parent string) error {
	if bt.items[t.GID] {
		return nil // a subtask also listed in the project
	}
	bt.items[t.GID] = true
	if parent == "" && t.Parent != nil {
		parent = t.Parent.GID
	}
	sections, err := c.sectionsOf(ctx, proj)
	if err != nil {
		return err
	}
	section := ""
	for _, m := range t.Memberships {
		if m.Project.GID == proj && m.Section != nil {
			section = m.Section.Name
			if n, ok := sections[m.Section.GID]; ok && section == "" {
				section = n
			}
		}
	}
	sdata, err := c.c.listAll(ctx, "/tasks/"+t.GID+"/stories", url.Values{"opt_fields": {storyFields}})
	if err != nil {
		return fmt.Errorf("task %s stories: %w", t.GID, err)
	}
	stories := make([]story, 0, len(sdata))
	var dueChanges []ingest.DueChange
	for _, s := range sdata {
		var st story
		if err := json.Unmarshal(s, &st); err != nil {
			return fmt.Errorf("task %s: decode story: %w", t.GID, err)
		}
		stories = append(stories, st)
		if st.ResourceSubtype == "due_date_changed" {
			dueChanges = append(dueChanges, ingest.DueChange{ObservedAt: st.CreatedAt, Old: st.OldDates.day(), New: st.NewDates.day(), Origin: "history"})
		}
		bt.b.Raw = append(bt.b.Raw, ingest.RawPayload{Entity: "story", ExternalID: st.GID, Item: t.GID, Payload: s})
	}
	bt.b.Transitions = append(bt.b.Transitions, history(t, section, sections, stories, bt)...)

	if err := c.entries(ctx, bt, t.GID); err != nil {
		return err
	}

	status, cat := section, ""
	if status == "" {
		status = StatusNoSection
	}
	if t.Completed {
		status, cat = StatusCompleted, CategoryDone
	}
	typ := "Task"
	switch {
	case t.ResourceSubtype == "milestone":
		typ = "Milestone"
	case parent != "":
		typ = "Subtask"
	}
	it := ingest.Item{
		Key: t.GID, Project: proj, Title: t.Name, Type: typ, Status: status, StatusCategory: cat,
		Assignee: bt.person(t.Assignee), Parent: parent,
		CreatedAt: t.CreatedAt, UpdatedAt: t.ModifiedAt, DueDate: dueDate(t),
	}
	if t.Completed {
		it.ResolvedAt = t.CompletedAt
	}
	var bad []ingest.Problem
	it.EstimateSeconds, it.StoryPoints, bad = c.estimates(t.CustomFields)
	for _, p := range bad {
		p.Key = t.GID
		bt.b.Problems = append(bt.b.Problems, p)
	}
	bt.b.Items = append(bt.b.Items, it)
	if t.ResourceSubtype == "milestone" {
		m := ingest.Milestone{ExternalID: t.GID, Name: t.Name, Project: proj, DueDate: it.DueDate, DueChanges: dueChanges}
		// The baseline is the first due date the history shows; without
		// due-date stories the warehouse takes the first it sees.
		for _, ch := range dueChanges {
			if !ch.Old.IsZero() {
				m.BaselineDueDate = ch.Old
				break
			}
			if !ch.New.IsZero() {
				m.BaselineDueDate = ch.New
				break
			}
		}
		if t.Completed {
			m.CompletedAt = t.CompletedAt
		}
		bt.b.Milestones = append(bt.b.Milestones, m)
	}
	bt.b.Raw = append(bt.b.Raw, ingest.RawPayload{Entity: "task", ExternalID: t.GID, Payload: raw})
	return nil
}

// entries adds the complete list of task gid's time tracking entries.
func (c *Connector) entries(ctx context.Context, bt *batcher, gid string) error {
	edata, err := c.c.listAll(ctx, "/tasks/"+gid+"/time_tracking_entries", url.Values{"opt_fields": {entryFields}})
	if err != nil {
		return fmt.Errorf("task %s time tracking entries: %w", gid, err)
	}
	for _, e := range edata {
		var te timeEntry
		if err := json.Unmarshal(e, &te); err != nil {
			return fmt.Errorf("task %s: decode time tracking entry: %w", gid, err)
		}
		day, _ := time.Parse(time.DateOnly, te.EnteredOn)
		bt.b.Worklogs = append(bt.b.Worklogs, ingest.Worklog{
			ID: te.GID, ItemKey: gid, Person: bt.person(te.CreatedBy), StartedAt: day, Seconds: te.DurationMinutes * 60,
		})
	}
	bt.b.WorklogsOf = append(bt.b.WorklogsOf, gid)
	return nil
}

// estimates reads the configured number custom fields: the estimate
// (EstimateUnit, default hours) as seconds, and the story points. A field
// that is absent, unset or not a number field gives nil; a number field
// whose value is not a number (a string, an object) gives nil and a
// problem naming it.
func (c *Connector) estimates(fields []customField) (est *int64, points *float64, bad []ingest.Problem) {
	match := func(f customField, want string) (float64, bool) {
		if want == "" || !(f.GID == want || strings.EqualFold(strings.TrimSpace(f.Name), want)) || f.ResourceSubtype != "number" {
			return 0, false
		}
		raw := bytes.TrimSpace(f.NumberValue)
		if len(raw) == 0 || string(raw) == "null" {
			return 0, false
		}
		var v float64
		if err := json.Unmarshal(raw, &v); err != nil {
			bad = append(bad, ingest.Problem{Column: "custom_fields." + f.Name,
				Reason: fmt.Sprintf("number_value %.60s is not a number: not used", raw)})
			return 0, false
		}
		return v, true
	}
	for _, f := range fields {
		if v, ok := match(f, c.cfg.EstimateField); ok && est == nil {
			unit := 3600.0
			if c.cfg.EstimateUnit == "minutes" {
				unit = 60
			}
			n := int64(math.Round(v * unit))
			est = &n
		}
		if v, ok := match(f, c.cfg.StoryPointsField); ok && points == nil {
			points = &v
		}
	}
	return est, points, bad
}

func dueDate(t task) time.Time {
	if d, err := time.Parse(time.DateOnly, t.DueOn); err == nil {
		return d
	}
	if !t.DueAt.IsZero() {
		y, m, d := t.DueAt.UTC().Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	return time.Time{}
}

// history derives a task's status changes from its stories (oldest first):
// the creation into its first section, section_changed moves within this
// project, marked_complete and marked_incomplete. Other stories are kept
// raw only.
func history(t task, current string, sections map[string]string, stories []story, bt *batcher) []ingest.Transition {
	name := func(r *ref) string {
		if r == nil {
			return ""
		}
		if n, ok := sections[r.GID]; ok && r.Name == "" {
			return n
		}
		return r.Name
	}
	inProject := func(r *ref) bool {
		if r == nil {
			return false
		}
		_, ok := sections[r.GID]
		return ok || len(sections) == 0
	}
	// The first section: where the first move in this project came from,
	// else the current one.
	section := current
	for _, s := range stories {
		if s.ResourceSubtype == "section_changed" && inProject(s.NewSection) {
			if n := name(s.OldSection); n != "" {
				section = n
			}
			break
		}
	}
	if section == "" {
		section = StatusNoSection
	}
	completed := false
	status := func() (string, string) {
		if completed {
			return StatusCompleted, CategoryDone
		}
		return section, ""
	}
	h := []ingest.Transition{{ItemKey: t.GID, At: t.CreatedAt, To: section}}
	add := func(s story) {
		at := s.CreatedAt
		if last := h[len(h)-1].At; at.Before(last) {
			at = last
		}
		from, fromCat := h[len(h)-1].To, h[len(h)-1].ToCategory
		to, toCat := status()
		if to == from {
			return
		}
		h = append(h, ingest.Transition{ItemKey: t.GID, At: at, From: from, FromCategory: fromCat, To: to, ToCategory: toCat, Author: bt.person(s.CreatedBy)})
	}
	for _, s := range stories {
		switch s.ResourceSubtype {
		case "section_changed":
			if !inProject(s.NewSection) {
				continue // another project's column
			}
			if n := name(s.NewSection); n != "" {
				section = n
			}
		case "marked_complete":
			completed = true
		case "marked_incomplete":
			completed = false
		default:
			continue
		}
		add(s)
	}
	// Stories can be truncated: end where the task is.
	if t.Completed && !completed {
		completed = true
		add(story{CreatedAt: t.CompletedAt})
	}
	if !t.Completed && completed {
		completed = false
		add(story{CreatedAt: t.ModifiedAt})
	}
	return h
}
