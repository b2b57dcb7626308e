package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The cookbook fixture: a small organisation, small enough that every answer
// of docs/sql-cookbook.md can be worked out by hand (cookbook_test.go does).
// It is written as the throughline CSV layout and read by the real CSV
// connector.
//
// The cookbook's queries read current_date (DuckDB's wall clock), so the
// fixture lives in the current ISO week: today T is the Wednesday of this
// week in Asia/Tokyo (a zone without DST: every day is 24 hours, and local
// days differ from UTC days), and every time below is an offset from T.
// Weeks: W0 is T-2 (Monday) .. T+4, W-1 is T-9 .. T-3, W-k starts at
// T-2-7k. Whatever weekday the test runs on, date_trunc('week',
// current_date) is W0 and current_date - 90 days is T-92 .. T-86.
//
// Teams (config): web (projects APP; WIP limit 3, SLE 5 days), ops (OPS;
// WIP limit 1, SLE from the window's P85, 30 h a week, dan a member by the
// config), data (DATA; no WIP limit, SLE 10 days). Work classes: Incident
// and project OPS are operational, Story is project, else project when the
// item has a milestone, else unclassified. metrics.window_days is 7.
//
// Two syncs and computes: the files as they stood at T-1 12:00 (compute 1),
// then as they stand at T 12:00 (compute 2, the one queried). Between them
// A0 finishes (milestone 1.0 completes: forecast calibration), O7 starts,
// dan logs 3 h on O7, and the due dates of 2.0 and Q-report move.
const cookbookZone = "Asia/Tokyo"

// fxCal turns the fixture's day offsets into times.
type fxCal struct {
	t   time.Time // T, 00:00 in cookbookZone
	loc *time.Location
}

func newFxCal(t *testing.T, now time.Time) fxCal {
	t.Helper()
	loc, err := time.LoadLocation(cookbookZone)
	if err != nil {
		t.Fatal(err)
	}
	n := now.In(loc)
	monday := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, -((int(n.Weekday()) + 6) % 7))
	return fxCal{t: monday.AddDate(0, 0, 2), loc: loc}
}

// day is the date T+k.
func (c fxCal) day(k int) string { return c.t.AddDate(0, 0, k).Format("2006-01-02") }

// week is the Monday of W(k).
func (c fxCal) week(k int) string { return c.day(-2 + 7*k) }

// at reads "K HH:MM" (local time on T+K) or "K HH:MMZ" (UTC time on the UTC
// date T+K).
func (c fxCal) at(spec string) time.Time {
	k, hm, ok := strings.Cut(spec, " ")
	if !ok {
		panic("fixture time " + spec)
	}
	off, err := strconv.Atoi(k)
	if err != nil {
		panic("fixture time " + spec)
	}
	loc := c.loc
	if strings.HasSuffix(hm, "Z") {
		loc, hm = time.UTC, strings.TrimSuffix(hm, "Z")
	}
	clock, err := time.Parse("15:04", hm)
	if err != nil {
		panic("fixture time " + spec)
	}
	d := c.t.AddDate(0, 0, off)
	return time.Date(d.Year(), d.Month(), d.Day(), clock.Hour(), clock.Minute(), 0, 0, loc)
}

// csvTime is how the files spell a time: zone-less local, or RFC 3339 in UTC.
func (c fxCal) csvTime(spec string) string {
	t := c.at(spec)
	if t.Location() == time.UTC {
		return t.Format(time.RFC3339)
	}
	return t.Format("2006-01-02 15:04")
}

// utc is a time as the SQL results show TIMESTAMPTZ values.
func (c fxCal) utc(spec string) string { return c.at(spec).UTC().Format(time.RFC3339) }

type fxItem struct {
	key, project, typ, assignee string
	team, class                 string // the CSV's explicit team and work_class
	milestone, resolution       string
	created                     string
	steps                       []string // "K HH:MM Status": the status entered then
	estimate                    string   // hours
	due                         string   // day offset
}

// cookbookItems: what each item is there for is said once here; its numbers
// are worked out in cookbook_test.go.
var cookbookItems = []fxItem{
	// APP (web) finishes exactly one item a day on T-7 .. T, all of them
	// milestone 1.0's, so both computes' 7-day windows sample 1,1,1,1,1,1,1
	// and every completion of the window was milestone work (share s = 1):
	// in every trial of the portfolio forecast the open milestones take one
	// item a day in queue order, so n items left behind m items ahead finish
	// on day m + n.
	{key: "A-7", project: "APP", typ: "Story", assignee: "alice@example.com", milestone: "1.0", created: "-10 09:00",
		steps: []string{"-9 10:00 In Progress", "-7 16:00 Done"}},
	// In Review is a wait status: 1 day active, 1 day waiting.
	{key: "A-6", project: "APP", typ: "Story", assignee: "bob@example.com", milestone: "1.0", created: "-8 09:00",
		steps: []string{"-8 10:00 In Progress", "-7 10:00 In Review", "-6 10:00 Done"}},
	// Reopened into In Progress: keeps its start, finishes at its last Done.
	{key: "A-5", project: "APP", typ: "Story", assignee: "alice@example.com", milestone: "1.0", created: "-14 09:00",
		steps: []string{"-12 09:00 In Progress", "-9 09:00 Done", "-7 09:00 In Progress", "-5 09:00 Done"}},
	// Done at 15:30 UTC on T-5's UTC date = 00:30 on T-4 in Tokyo.
	{key: "A-4", project: "APP", typ: "Story", assignee: "bob@example.com", milestone: "1.0", created: "-6 09:00",
		steps: []string{"-5 09:00 In Progress", "-5 15:30Z Done"}},
	{key: "A-3", project: "APP", typ: "Story", assignee: "alice@example.com", milestone: "1.0", created: "-20 09:00",
		steps: []string{"-6 09:00 In Progress", "-4 09:00 In Review", "-3 09:00 Done"}},
	// Skipped start: To Do straight to Done.
	{key: "A-2", project: "APP", typ: "Story", assignee: "alice@example.com", milestone: "1.0", created: "-3 09:00",
		steps: []string{"-2 11:00 Done"}},
	{key: "A-1", project: "APP", typ: "Story", assignee: "bob@example.com", milestone: "1.0", created: "-4 09:00",
		steps: []string{"-2 15:00 In Progress", "-1 10:00 Done"}},
	// Finishes after compute 1: completes milestone 1.0.
	{key: "A0", project: "APP", typ: "Story", assignee: "alice@example.com", milestone: "1.0", created: "-10 09:00",
		steps: []string{"-1 09:00 In Progress", "0 10:00 Done"}},
	// Milestone 0.9, done long before either compute: no stored forecast.
	{key: "B1", project: "APP", typ: "Story", assignee: "bob@example.com", milestone: "0.9", created: "-40 09:00",
		steps: []string{"-30 09:00 In Progress", "-20 17:00 Done"}},
	// The file says operational (a Bug with a milestone would be project work).
	{key: "B2", project: "APP", typ: "Bug", assignee: "alice@example.com", class: "operational", milestone: "0.9", created: "-35 09:00",
		steps: []string{"-16 09:00 In Progress", "-15 09:00 Done"}},
	// Open APP work: 2.0 has C1 and C2 left, 2.1 has C3 left.
	// C1 is as old as web's SLE (5 days): not past it.
	{key: "C1", project: "APP", typ: "Story", assignee: "alice@example.com", milestone: "2.0", created: "-10 09:00",
		steps: []string{"-4 09:00 In Progress"}, estimate: "16"},
	{key: "C2", project: "APP", typ: "Story", assignee: "bob@example.com", milestone: "2.0", created: "-10 09:00",
		estimate: "8", due: "7"},
	{key: "C3", project: "APP", typ: "Story", assignee: "alice@example.com", milestone: "2.1", created: "-12 09:00",
		steps: []string{"-9 09:00 In Progress"}},
	// Waiting in review; overdue.
	{key: "C4", project: "APP", typ: "Story", assignee: "bob@example.com", created: "-5 09:00",
		steps: []string{"-2 09:00 In Progress", "-1 09:00 In Review"}, estimate: "6", due: "-1"},
	// An APP item the file gives to team data; nobody assigned.
	{key: "E1", project: "APP", typ: "Story", team: "data", created: "-2 09:00"},

	// OPS (ops): operational.
	{key: "O1", project: "OPS", typ: "Incident", assignee: "carol@example.com", created: "-101 09:00",
		steps: []string{"-101 10:00 In Progress", "-100 10:00 Done"}},
	// A false start, then done without a new start: a skipped start.
	{key: "O2", project: "OPS", typ: "Incident", assignee: "carol@example.com", created: "-50 09:00",
		steps: []string{"-48 09:00 In Progress", "-47 09:00 To Do", "-46 09:00 Done"}},
	// A false start: In Progress, back to To Do, started again.
	{key: "O3", project: "OPS", typ: "Incident", assignee: "carol@example.com", created: "-40 09:00",
		steps: []string{"-38 09:00 In Progress", "-37 09:00 To Do", "-33 09:00 In Progress", "-30 09:00 Done"}},
	// Reopened to the backlog: the start and finish are cleared, both come again.
	{key: "O4", project: "OPS", typ: "Incident", assignee: "dan@example.com", created: "-20 09:00",
		steps: []string{"-18 09:00 In Progress", "-17 09:00 Done", "-16 09:00 To Do", "-13 09:00 In Progress", "-11 15:00 Done"}},
	{key: "O5", project: "OPS", typ: "Incident", assignee: "carol@example.com", created: "-7 09:00",
		steps: []string{"-6 09:00 In Progress"}, estimate: "4", due: "1"},
	{key: "O6", project: "OPS", typ: "Incident", assignee: "dan@example.com", created: "-4 09:00",
		steps: []string{"-4 10:00 In Progress", "-2 09:00 Done"}},
	// Starts after compute 1; more time logged than estimated.
	{key: "O7", project: "OPS", typ: "Incident", assignee: "dan@example.com", created: "-1 08:00",
		steps: []string{"0 09:00 In Progress"}, estimate: "2"},
	{key: "O8", project: "OPS", typ: "Incident", assignee: "carol@example.com", created: "-25 09:00",
		steps: []string{"-24 09:00 Done"}},
	// Discarded straight from To Do: not a skipped start.
	{key: "O9", project: "OPS", typ: "Task", assignee: "dan@example.com", resolution: "Won't Do", created: "-9 09:00",
		steps: []string{"-7 09:00 Won't Do"}},
	// 96 h due Friday next week: 12 h on each of the 8 working days T .. T+9.
	{key: "O10", project: "OPS", typ: "Incident", assignee: "carol@example.com", created: "-3 09:00",
		estimate: "96", due: "9"},

	// DATA (data).
	{key: "D1", project: "DATA", typ: "Story", assignee: "erin@example.com", created: "-110 09:00",
		steps: []string{"-105 09:00 In Progress", "-50 09:00 Done"}},
	// The only item of milestone Q-report: DATA finished nothing in the window.
	{key: "D3", project: "DATA", typ: "Task", assignee: "erin@example.com", milestone: "Q-report", created: "-30 09:00"},

	// MISC has no team and X1 no assignee: unassigned, unclassified.
	{key: "X1", project: "MISC", typ: "Task", created: "-45 09:00",
		steps: []string{"-45 12:00 In Progress", "-43 12:00 Done"}},
}

// cookbookWorklogs: key, person, started, hours.
var cookbookWorklogs = [][4]string{
	{"B1", "alice@example.com", "-22 10:00", "8"}, // the first worklog: capacity starts in W-3
	{"B2", "bob@example.com", "-15 09:00", "6"},
	{"D3", "erin@example.com", "-15 09:00", "30"}, // over 24 h: long_worklog
	{"O4", "carol@example.com", "-13 10:00", "4"},
	{"O4", "dan@example.com", "-12 10:00", "2"},
	{"O9", "carol@example.com", "-8 10:00", "9"},
	{"A-5", "alice@example.com", "-7 09:00", "12"},
	{"A-6", "bob@example.com", "-7 11:00", "4"},
	{"A-7", "bob@example.com", "-7 12:00", "0"}, // rejected: an ingest problem
	{"O5", "carol@example.com", "-5 10:00", "1"},
	{"C1", "carol@example.com", "-3 14:00", "2"}, // ops' member on web's item
	{"C1", "alice@example.com", "-1 10:00", "4"},
	{"O7", "dan@example.com", "0 09:30", "3"},
}

const cookbookPeople = `person,email,team,hours_per_week
alice@example.com,,web,
bob@example.com,,web,20
carol@example.com,,ops,
dan@example.com,,,
erin@example.com,,data,32
`

// cookbookTimeOff: person, day offset, hours. The last row is rejected
// (over 24 h): an ingest problem without an item key, line 6.
var cookbookTimeOff = [][3]string{
	{"carol@example.com", "-9", "6"},
	{"alice@example.com", "5", "8"},
	{"erin@example.com", "6", "8"},
	{"erin@example.com", "7", "8"},
	{"bob@example.com", "5", "30"},
}

const cookbookConfig = `warehouse: {path: throughline.duckdb}
timezone: Asia/Tokyo
sources:
  - {name: main, kind: csv, layout: throughline, path: ./main}
  - {name: legacy, kind: csv, layout: throughline, path: ./legacy}
teams:
  - {name: web, hours_per_week: 40, wip_limit: 3, sle_days: 5, projects: [APP]}
  - {name: ops, members: [dan@example.com], hours_per_week: 30, wip_limit: 1, projects: [OPS]}
  - {name: data, hours_per_week: 40, sle_days: 10, projects: [DATA]}
workflow:
  wait: [In Review]
work_class:
  operational: {item_types: [Incident], projects: [OPS]}
  project: {item_types: [Story]}
metrics:
  window_days: 7
  forecast: {trials: 1000, seed: 7}
`

// writeCookbookFixture writes the config, the legacy source (its items.csv
// lacks created_at: every sync of it fails) and the main source's files as
// they stand at cutoff (secondDue: the milestones' later due dates).
func writeCookbookFixture(t *testing.T, dir string, c fxCal, cutoff time.Time, secondDue bool) {
	t.Helper()
	files := map[string]string{
		"throughline.yaml":    cookbookConfig,
		"legacy/items.csv":    "key,title\nL-1,no creation time\n",
		"main/people.csv":     cookbookPeople,
		"main/milestones.csv": "",
	}
	var items, changes, worklogs, timeOff strings.Builder
	items.WriteString("key,project,title,type,status,assignee,created_at,resolved_at,resolution,due_date,estimate_hours,milestone,team,work_class\n")
	changes.WriteString("key,changed_at,from_status,to_status\n")
	for _, it := range cookbookItems {
		status, resolved := "To Do", ""
		for _, s := range it.steps {
			k, rest, _ := strings.Cut(s, " ")
			hm, to, _ := strings.Cut(rest, " ")
			when := k + " " + hm
			if c.at(when).After(cutoff) {
				break
			}
			fmt.Fprintf(&changes, "%s,%s,%s,%s\n", it.key, c.csvTime(when), status, to)
			status, resolved = to, ""
			if to == "Done" || to == "Won't Do" {
				resolved = c.csvTime(when)
			}
		}
		resolution := ""
		if resolved != "" {
			resolution = it.resolution
		}
		due := ""
		if it.due != "" {
			k, err := strconv.Atoi(it.due)
			if err != nil {
				t.Fatal(err)
			}
			due = c.day(k)
		}
		fmt.Fprintf(&items, "%s,%s,%s title,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", it.key, it.project, it.key, it.typ, status, it.assignee,
			c.csvTime(it.created), resolved, resolution, due, it.estimate, it.milestone, it.team, it.class)
	}
	worklogs.WriteString("key,person,started_at,hours\n")
	for _, w := range cookbookWorklogs {
		if !c.at(w[2]).After(cutoff) {
			fmt.Fprintf(&worklogs, "%s,%s,%s,%s\n", w[0], w[1], c.csvTime(w[2]), w[3])
		}
	}
	timeOff.WriteString("person,date,hours\n")
	for _, o := range cookbookTimeOff {
		k, err := strconv.Atoi(o[1])
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&timeOff, "%s,%s,%s\n", o[0], c.day(k), o[2])
	}
	// 2.0: the file's baseline is T+3; due T+5 at compute 1, T+2 at compute 2
	// (its P50 and P85). 2.1 is due today. Q-report: no baseline in the
	// file; due T-5, then T-3.
	due20, dueQ := c.day(5), c.day(-5)
	if secondDue {
		due20, dueQ = c.day(2), c.day(-3)
	}
	files["main/milestones.csv"] = "name,project,start_date,due_date,baseline_due_date,completed_at\n" +
		"0.9,APP,," + c.day(-14) + ",,\n" +
		"1.0,APP,," + c.day(1) + ",,\n" +
		"2.0,APP,," + due20 + "," + c.day(3) + ",\n" +
		"2.1,APP,," + c.day(0) + ",,\n" +
		"Q-report,DATA,," + dueQ + ",,\n"
	files["main/items.csv"] = items.String()
	files["main/status_changes.csv"] = changes.String()
	files["main/worklogs.csv"] = worklogs.String()
	files["main/time_off.csv"] = timeOff.String()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
