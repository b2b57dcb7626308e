// Package demo generates a deterministic, realistic sample organisation as a
// folder in the `throughline` CSV layout, and the config that reads it.
// With Options.JiraProjects, those projects are not written to the folder
// but returned as a Jira Cloud site (Summary.Jira) for the in-process fake
// of connectors/jira/jiratest, so that they are ingested through the real
// Jira connector; ConfigFor then adds a jira source. Likewise
// Options.AsanaProject is returned as an Asana project (Summary.Asana) for
// connectors/asana/asanatest and the real Asana connector (ConfigSources
// adds an asana source).
//
// The organisation: four teams (platform, payments, mobile, support-ops) and
// a contractor in no team; project work in WEB, PAY, APP and DATA (stories,
// tasks, bugs, epics, release milestones) and operational work in OPS and
// HELP (incidents, service requests); 400 days of history ending at
// Options.Now with every case the flow rules of metrics.md distinguish:
// backwards moves, Blocked periods, false starts, reopens to started and to
// backlog, skipped starts, discarded items and aging work in progress.
//
// Deliberate edge cases in the data:
//   - items.csv leaves team and work_class empty except: team=payments on 12
//     DATA items ("Payments reporting: …"), work_class=project on the OPS
//     "Observability migration" tasks and epic, work_class=operational on up
//     to 10 WEB bugs without a fix version ("Hotfix: …");
//   - rafael.costa@example.com is in people.csv with no team (attributed
//     through the DATA project's team);
//   - jonas.keller@example.com, a former employee, is the assignee of old
//     finished platform items but unknown to people.csv and the config;
//   - some items have no assignee; some bugs have no milestone (unclassified
//     by the default rules);
//   - a few titles contain commas, double quotes and non-ASCII letters.
//
// Same Options, same bytes: all randomness comes from PCG streams seeded
// with Options.Seed, and nothing is written in map order.
package demo

import (
	"bufio"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/throughline/throughline/connectors/asana/asanatest"
	"github.com/throughline/throughline/connectors/jira/jiratest"
)

// Options controls the generated organisation.
type Options struct {
	Now   time.Time // generation is relative to this instant; history spans the 400 days before it
	Seed  int64
	Items int // target number of items, default 3600
	// JiraProjects are served by a fake Jira site (Summary.Jira) instead
	// of written to the CSV folder. Only projects without explicit team or
	// work_class overrides qualify (Jira has no field for them): PAY, APP.
	JiraProjects []string
	// AsanaProject is served by a fake Asana server (Summary.Asana)
	// instead of written to the CSV folder. It must carry no explicit team
	// or work_class override, no milestones and no parent/child items
	// (Asana would make them milestone tasks and subtasks, changing the
	// item counts) and be classified by project, not by item type (Asana
	// types are Task/Subtask/Milestone): HELP.
	AsanaProject string
}

// Summary counts what Generate made, over all sources.
type Summary struct {
	Items, Teams, Projects, People, Milestones, Worklogs, StatusChanges int
	// CSV, JiraCounts and AsanaCounts split the counts by where the data goes.
	CSV, JiraCounts, AsanaCounts Counts
	// Jira is the site serving Options.JiraProjects (nil without them).
	Jira *jiratest.Dataset
	// JiraReplans move slipped releases to their current date after the
	// first sync (see Replan).
	JiraReplans []Replan
	// Asana is the project serving Options.AsanaProject (nil without it);
	// its GID is the project key the warehouse and the config use.
	Asana *asanatest.Project
}

// Counts are the items, status changes (not counting the creation), worklogs
// and milestones one source carries.
type Counts struct {
	Items, StatusChanges, Worklogs, Milestones int
}

const (
	// DefaultItems is the number of items when Options.Items is zero.
	DefaultItems = 3600
	// MinItems is the smallest organisation Generate makes; the variety
	// of histories described in the package doc is sized for DefaultItems.
	MinItems    = 300
	historyDays = 400
)

// The files Generate writes and their columns.
var files = []struct {
	name   string
	header []string
}{
	{"items.csv", []string{"key", "project", "title", "type", "status", "assignee", "created_at", "resolved_at",
		"resolution", "due_date", "story_points", "estimate_hours", "milestone", "parent", "team", "work_class"}},
	{"status_changes.csv", []string{"key", "changed_at", "from_status", "to_status"}},
	{"milestones.csv", []string{"name", "project", "start_date", "due_date", "baseline_due_date", "completed_at"}},
	{"worklogs.csv", []string{"key", "person", "started_at", "hours"}},
	{"people.csv", []string{"person", "email", "team", "hours_per_week"}},
	{"time_off.csv", []string{"person", "date", "hours"}},
}

// Generate writes items.csv, status_changes.csv, milestones.csv,
// worklogs.csv, people.csv and time_off.csv into dir, creating it if needed.
func Generate(dir string, opt Options) (Summary, error) {
	if opt.Now.IsZero() {
		return Summary{}, errors.New("demo: Options.Now is required (generation is relative to it)")
	}
	if opt.Items == 0 {
		opt.Items = DefaultItems
	}
	if opt.Items < MinItems {
		return Summary{}, fmt.Errorf("demo: items %d: want at least %d", opt.Items, MinItems)
	}
	g := build(opt)
	jira := map[*project]bool{}
	for _, key := range opt.JiraProjects {
		p := g.lookup(key)
		if p == nil {
			return Summary{}, fmt.Errorf("demo: jira project %q: not a demo project", key)
		}
		for _, it := range p.items {
			if it.team != "" || it.workClass != "" {
				return Summary{}, fmt.Errorf("demo: jira project %s: item %s carries an explicit team or work_class, which Jira has no field for", key, it.key)
			}
		}
		jira[p] = true
	}
	asana := map[*project]bool{}
	if key := opt.AsanaProject; key != "" {
		p := g.lookup(key)
		switch {
		case p == nil:
			return Summary{}, fmt.Errorf("demo: asana project %q: not a demo project", key)
		case jira[p]:
			return Summary{}, fmt.Errorf("demo: asana project %s is also a jira project", key)
		case len(p.ms) > 0:
			return Summary{}, fmt.Errorf("demo: asana project %s has milestones, which Asana would serve as extra (milestone) tasks", key)
		case !p.operational:
			return Summary{}, fmt.Errorf("demo: asana project %s is classified by item type, which Asana has no field for", key)
		}
		for _, it := range p.items {
			if it.team != "" || it.workClass != "" || it.parent != nil || len(it.children) > 0 {
				return Summary{}, fmt.Errorf("demo: asana project %s: item %s carries an explicit team, work_class or parent, which the Asana mapping cannot carry", key, it.key)
			}
		}
		asana[p] = true
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Summary{}, fmt.Errorf("demo: %w", err)
	}
	rows := g.records(func(p *project) bool { return !jira[p] && !asana[p] })
	for i, f := range files {
		if err := writeCSV(filepath.Join(dir, f.name), f.header, rows[i]); err != nil {
			return Summary{}, err
		}
	}
	s := Summary{Items: len(g.items), Teams: len(g.teams), Projects: len(g.projects), People: len(g.people),
		Milestones: len(g.ms), Worklogs: len(g.worklogs)}
	for _, it := range g.items {
		s.StatusChanges += len(it.changes)
		c := s.counts(jira, asana, it.proj)
		c.Items++
		c.StatusChanges += len(it.changes)
	}
	for _, w := range g.worklogs {
		s.counts(jira, asana, w.it.proj).Worklogs++
	}
	for _, m := range g.ms {
		s.counts(jira, asana, m.proj).Milestones++
	}
	if len(jira) > 0 {
		s.Jira = g.jiraDataset(opt.JiraProjects, &s.JiraReplans)
	}
	if len(asana) > 0 {
		s.Asana = g.asanaProject(opt.AsanaProject)
	}
	return s, nil
}

// counts returns the counts of the source that carries p.
func (s *Summary) counts(jira, asana map[*project]bool, p *project) *Counts {
	switch {
	case jira[p]:
		return &s.JiraCounts
	case asana[p]:
		return &s.AsanaCounts
	}
	return &s.CSV
}

func writeCSV(path string, header []string, rows [][]string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	w := csv.NewWriter(bw)
	if err := w.Write(header); err != nil {
		f.Close()
		return fmt.Errorf("demo: write %s: %w", path, err)
	}
	if err := w.WriteAll(rows); err != nil {
		f.Close()
		return fmt.Errorf("demo: write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("demo: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("demo: write %s: %w", path, err)
	}
	return nil
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

func num(v float64) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// records returns the rows of each file, in the order of files, for the
// items, milestones and worklogs of the projects keep accepts. People and
// time off are written whole.
func (g *gen) records(keep func(*project) bool) [][][]string {
	out := make([][][]string, len(files))
	for _, it := range g.items { // sorted by created_at
		if !keep(it.proj) {
			continue
		}
		var assignee, ms, parent string
		switch {
		case it.leaver:
			assignee = leaverEmail
		case it.assignee != nil:
			assignee = it.assignee.email
		}
		if it.milestone != nil {
			ms = it.milestone.name
		}
		if it.parent != nil {
			parent = it.parent.key
		}
		out[0] = append(out[0], []string{it.key, it.proj.key, it.title, it.typ, it.status, assignee, ts(it.created),
			ts(it.resolved), it.resolution, date(it.due), num(it.points), num(it.estimate), ms, parent, it.team, it.workClass})
		for _, c := range it.changes {
			out[1] = append(out[1], []string{it.key, ts(c.at), c.from, c.to})
		}
	}
	for _, p := range g.projects {
		if !keep(p) {
			continue
		}
		for _, m := range p.ms {
			out[2] = append(out[2], []string{m.name, p.key, date(m.start), date(m.due), date(m.baseline), ts(m.completed)})
		}
	}
	wl := slices.Clone(g.worklogs)
	slices.SortStableFunc(wl, func(a, b worklog) int {
		return cmp.Or(a.at.Compare(b.at), strings.Compare(a.it.key, b.it.key), strings.Compare(a.person.email, b.person.email))
	})
	for _, w := range wl {
		if !keep(w.it.proj) {
			continue
		}
		out[3] = append(out[3], []string{w.it.key, w.person.email, ts(w.at), num(w.hours)})
	}
	for _, p := range g.people {
		team := ""
		if p.team != nil {
			team = p.team.name
		}
		out[4] = append(out[4], []string{p.email, p.email, team, num(p.hours)})
		days := make([]time.Time, 0, len(p.off))
		for d := range p.off {
			days = append(days, d)
		}
		slices.SortFunc(days, time.Time.Compare)
		for _, d := range days {
			out[5] = append(out[5], []string{p.email, date(d), num(p.off[d])})
		}
	}
	return out
}
