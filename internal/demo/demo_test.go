package demo

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/throughline/throughline/internal/config"
)

var testNow = time.Date(2026, 3, 4, 9, 15, 27, 0, time.UTC)

const testSeed = 7

// table is a CSV file read back: its header and its rows by column name.
type table struct {
	header []string
	rows   []map[string]string
}

func readTable(t *testing.T, dir, name string) table {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	if !utf8.Valid(data) {
		t.Errorf("%s: not valid UTF-8", name)
	}
	if bytes.Contains(data, []byte("\r")) || !bytes.HasSuffix(data, []byte("\n")) {
		t.Errorf("%s: want LF line ends and a final newline", name)
	}
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	tb := table{header: recs[0]}
	for _, rec := range recs[1:] {
		row := make(map[string]string, len(rec))
		for i, v := range rec {
			row[tb.header[i]] = v
		}
		tb.rows = append(tb.rows, row)
	}
	return tb
}

func generate(t *testing.T, opt Options) (string, Summary) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "demo data")
	s, err := Generate(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	return dir, s
}

func parseTS(t *testing.T, what, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil || v.Format(time.RFC3339) != s || !strings.HasSuffix(s, "Z") {
		t.Fatalf("%s %q: want RFC 3339 UTC with seconds", what, s)
	}
	return v
}

func parseDay(t *testing.T, what, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t.Fatalf("%s %q: want YYYY-MM-DD", what, s)
	}
	return v
}

func isStarted(s string) bool {
	return s == statusInProgress || s == statusInReview || s == statusBlocked
}

// flowStart walks an item's changes by the metrics.md rules and returns S
// (zero when unset at the end).
func flowStart(changes []map[string]string, at []time.Time) time.Time {
	var s time.Time
	for i, c := range changes {
		from, to := c["from_status"], c["to_status"]
		switch {
		case !isStarted(from) && from != statusDone && isStarted(to) && s.IsZero():
			s = at[i]
		case isStarted(from) && to == statusToDo, from == statusDone && to == statusToDo:
			s = time.Time{}
		}
	}
	return s
}

func TestGenerate(t *testing.T) {
	checkSample(t, testNow, testSeed)
}

// checkSample generates the default organisation and checks the files.
func checkSample(t *testing.T, testNow time.Time, seed int64) {
	dir, sum := generate(t, Options{Now: testNow, Seed: seed})
	tabs := map[string]table{}
	for _, f := range files {
		tabs[f.name] = readTable(t, dir, f.name)
	}
	items, changes, milestones := tabs["items.csv"], tabs["status_changes.csv"], tabs["milestones.csv"]
	worklogs, people, timeOff := tabs["worklogs.csv"], tabs["people.csv"], tabs["time_off.csv"]
	today := midnight(testNow)

	t.Run("headers", func(t *testing.T) {
		want := map[string]string{
			"items.csv":          "key,project,title,type,status,assignee,created_at,resolved_at,resolution,due_date,story_points,estimate_hours,milestone,parent,team,work_class",
			"status_changes.csv": "key,changed_at,from_status,to_status",
			"milestones.csv":     "name,project,start_date,due_date,baseline_due_date,completed_at",
			"worklogs.csv":       "key,person,started_at,hours",
			"people.csv":         "person,email,team,hours_per_week",
			"time_off.csv":       "person,date,hours",
		}
		for name, h := range want {
			if diff := cmp.Diff(strings.Split(h, ","), tabs[name].header); diff != "" {
				t.Errorf("%s header (-want +got):\n%s", name, diff)
			}
		}
	})

	t.Run("summary", func(t *testing.T) {
		teams, projects := map[string]bool{}, map[string]bool{}
		for _, p := range people.rows {
			if p["team"] != "" {
				teams[p["team"]] = true
			}
		}
		for _, it := range items.rows {
			projects[it["project"]] = true
		}
		want := Summary{Items: len(items.rows), Teams: len(teams), Projects: len(projects), People: len(people.rows),
			Milestones: len(milestones.rows), Worklogs: len(worklogs.rows), StatusChanges: len(changes.rows)}
		want.CSV = Counts{Items: want.Items, StatusChanges: want.StatusChanges, Worklogs: want.Worklogs, Milestones: want.Milestones}
		if diff := cmp.Diff(want, sum); diff != "" {
			t.Errorf("summary does not match the files (-files +summary):\n%s", diff)
		}
		if sum.Items < DefaultItems || sum.Teams < 4 || sum.Projects < 6 || sum.Milestones < 12 {
			t.Errorf("summary %+v: want ≥ %d items, 4 teams, 6 projects, 12 milestones", sum, DefaultItems)
		}
		t.Logf("%+v", sum)
	})

	personTeam := map[string]string{}
	teamSize := map[string]int{}
	t.Run("people", func(t *testing.T) {
		noTeam := 0
		for _, p := range people.rows {
			if p["person"] != p["email"] || !strings.HasSuffix(p["email"], "@example.com") {
				t.Errorf("people.csv row %v: person and email should be the same address", p)
			}
			personTeam[p["person"]] = p["team"]
			if p["team"] == "" {
				noTeam++
				continue
			}
			teamSize[p["team"]]++
			if h, _ := strconv.ParseFloat(p["hours_per_week"], 64); h < 32 || h > 40 {
				t.Errorf("%s: hours_per_week %s, want 32–40", p["person"], p["hours_per_week"])
			}
		}
		if noTeam != 1 {
			t.Errorf("%d people without a team, want exactly 1", noTeam)
		}
		for team, n := range teamSize {
			if n < 4 || n > 8 {
				t.Errorf("team %s has %d people, want 4–8", team, n)
			}
		}
	})

	type itemInfo struct {
		row     map[string]string
		created time.Time
		changes []map[string]string
		at      []time.Time
	}
	byKey := map[string]*itemInfo{}
	var keys []string
	for _, it := range items.rows {
		if byKey[it["key"]] != nil {
			t.Fatalf("duplicate key %s", it["key"])
		}
		byKey[it["key"]] = &itemInfo{row: it, created: parseTS(t, it["key"]+" created_at", it["created_at"])}
		keys = append(keys, it["key"])
	}
	for _, c := range changes.rows {
		ii := byKey[c["key"]]
		if ii == nil {
			t.Fatalf("status change for unknown key %s", c["key"])
		}
		ii.changes = append(ii.changes, c)
		ii.at = append(ii.at, parseTS(t, c["key"]+" changed_at", c["changed_at"]))
	}

	t.Run("items", func(t *testing.T) {
		statuses := []string{statusToDo, statusInProgress, statusInReview, statusBlocked, statusDone}
		resolutions := []string{"", resDone, resWontDo, resDuplicate}
		earliest := testNow
		for _, k := range keys {
			it := byKey[k].row
			earliest = minTime(earliest, byKey[k].created)
			if !slices.Contains(statuses, it["status"]) || !slices.Contains(resolutions, it["resolution"]) {
				t.Errorf("%s: status %q resolution %q", k, it["status"], it["resolution"])
			}
			if !strings.HasPrefix(k, it["project"]+"-") {
				t.Errorf("%s: key does not match project %s", k, it["project"])
			}
			types := []string{typeStory, typeTask, typeBug, typeEpic}
			if it["project"] == "OPS" || it["project"] == "HELP" {
				types = []string{typeInc, typeRequest}
				if it["work_class"] == "project" {
					types = []string{typeTask, typeEpic} // the observability migration
				}
			}
			if !slices.Contains(types, it["type"]) {
				t.Errorf("%s: type %q in project %s", k, it["type"], it["project"])
			}
			for _, col := range []string{"story_points", "estimate_hours"} {
				if s := it[col]; s != "" {
					if v, err := strconv.ParseFloat(s, 64); err != nil || v <= 0 {
						t.Errorf("%s: %s %q", k, col, s)
					}
				}
			}
			if it["due_date"] != "" {
				parseDay(t, k+" due_date", it["due_date"])
			}
		}
		if d := testNow.Sub(earliest); d > historyDays*day || d < (historyDays-5)*day {
			t.Errorf("earliest item created %v before now, want just under %d days", d, historyDays)
		}
	})

	t.Run("histories", func(t *testing.T) {
		for _, k := range keys {
			ii := byKey[k]
			it := ii.row
			status, prev := statusToDo, ii.created
			for i, c := range ii.changes {
				if c["from_status"] != status {
					t.Errorf("%s change %d: from %q, want %q (the previous status)", k, i, c["from_status"], status)
				}
				if !ii.at[i].After(prev) {
					t.Errorf("%s change %d at %v: not after %v", k, i, ii.at[i], prev)
				}
				if ii.at[i].After(testNow) {
					t.Errorf("%s change %d at %v: in the future", k, i, ii.at[i])
				}
				if c["from_status"] == c["to_status"] {
					t.Errorf("%s change %d: no-op %s", k, i, c["to_status"])
				}
				status, prev = c["to_status"], ii.at[i]
			}
			if it["status"] != status {
				t.Errorf("%s: status %q, history ends in %q", k, it["status"], status)
			}
			if it["status"] == statusDone {
				if it["resolved_at"] != ii.changes[len(ii.changes)-1]["changed_at"] || it["resolution"] == "" {
					t.Errorf("%s: done, resolved_at %q resolution %q; want the last change's time and a resolution", k, it["resolved_at"], it["resolution"])
				}
			} else if it["resolved_at"] != "" || it["resolution"] != "" {
				t.Errorf("%s: %s with resolved_at %q resolution %q", k, it["status"], it["resolved_at"], it["resolution"])
			}
		}
	})

	t.Run("kinds", func(t *testing.T) {
		n := map[string]int{}
		for _, k := range keys {
			ii := byKey[k]
			it := ii.row
			started := false
			for _, c := range ii.changes {
				from, to := c["from_status"], c["to_status"]
				switch {
				case from == statusDone && to == statusToDo:
					n["reopen to backlog"]++
				case from == statusDone:
					n["reopen to started"]++
				case from == statusInProgress && to == statusToDo:
					n["false start"]++
				case from == statusToDo && to == statusDone && !started && it["resolution"] == resDone:
					n["skipped start"]++
				case from == statusInReview && to == statusInProgress:
					n["backwards"]++
				case to == statusBlocked:
					n["blocked period"]++
				case from == statusToDo && to == statusInProgress && !started:
					n["normal start"]++
				}
				started = started || isStarted(to)
			}
			switch it["resolution"] {
			case resWontDo, resDuplicate:
				n["discarded "+it["resolution"]]++
			}
			switch it["status"] {
			case statusToDo:
				n["open To Do"]++
			case statusInProgress, statusInReview, statusBlocked:
				n["open "+it["status"]]++
				if s := flowStart(ii.changes, ii.at); !s.IsZero() && testNow.Sub(s) > 30*day {
					n["open, started > 30 days ago"]++
				}
			}
		}
		for _, kind := range []string{"normal start", "backwards", "blocked period", "false start", "reopen to started",
			"reopen to backlog", "skipped start", "discarded Won't Do", "discarded Duplicate", "open To Do",
			"open In Progress", "open In Review", "open Blocked", "open, started > 30 days ago"} {
			if n[kind] < 20 {
				t.Errorf("%s: %d, want ≥ 20", kind, n[kind])
			}
		}
		t.Logf("%v", n)
	})

	t.Run("assignees", func(t *testing.T) {
		unassigned, leaver, contractor := 0, 0, 0
		for _, it := range items.rows {
			a := it["assignee"]
			switch _, known := personTeam[a]; {
			case a == "":
				unassigned++
			case a == leaverEmail:
				leaver++
				if it["status"] != statusDone {
					t.Errorf("%s: the leaver's items should all be done", it["key"])
				}
			case !known:
				t.Errorf("%s: assignee %q not in people.csv", it["key"], a)
			case a == contractorEmail:
				contractor++
			}
		}
		// Backlog is mostly unassigned (pulled when started), so up to a tenth of all items.
		if unassigned < 5 || unassigned > len(items.rows)/10 || leaver == 0 || contractor < 20 {
			t.Errorf("unassigned %d, leaver %d, contractor %d: want a few, some, many", unassigned, leaver, contractor)
		}
	})

	t.Run("overrides", func(t *testing.T) {
		var got []string
		for _, it := range items.rows {
			if it["team"] != "" || it["work_class"] != "" {
				got = append(got, it["project"]+"/"+it["type"]+" team="+it["team"]+" work_class="+it["work_class"])
			}
		}
		count := map[string]int{}
		for _, g := range got {
			count[g]++
		}
		want := map[string]int{
			"OPS/Task team= work_class=project":    migrationTasks,
			"OPS/Epic team= work_class=project":    1,
			"WEB/Bug team= work_class=operational": hotfixes,
		}
		for _, typ := range []string{typeStory, typeTask, typeBug} {
			if c := count["DATA/"+typ+" team=payments work_class="]; c > 0 {
				want["DATA/"+typ+" team=payments work_class="] = c
			}
		}
		if diff := cmp.Diff(want, count); diff != "" {
			t.Errorf("explicit team/work_class (-want +got):\n%s", diff)
		}
		data := 0
		for k, c := range count {
			if strings.HasPrefix(k, "DATA/") {
				data += c
			}
		}
		if data != paymentsReporting {
			t.Errorf("%d DATA items with team=payments, want %d", data, paymentsReporting)
		}
	})

	t.Run("milestones", func(t *testing.T) {
		type msInfo struct {
			due, baseline time.Time
			completed     time.Time
		}
		ms := map[string]msInfo{}
		kinds := map[string]int{}
		for _, m := range milestones.rows {
			id := m["project"] + "/" + m["name"]
			if _, dup := ms[id]; dup {
				t.Errorf("duplicate milestone %s", id)
			}
			mi := msInfo{due: parseDay(t, id+" due", m["due_date"]), baseline: parseDay(t, id+" baseline", m["baseline_due_date"])}
			start := parseDay(t, id+" start", m["start_date"])
			if !start.Before(mi.due) || mi.baseline.After(mi.due) || start.After(mi.baseline) {
				t.Errorf("%s: start %s baseline %s due %s", id, m["start_date"], m["baseline_due_date"], m["due_date"])
			}
			if m["completed_at"] != "" {
				mi.completed = parseTS(t, id+" completed_at", m["completed_at"])
				if mi.completed.After(testNow) {
					t.Errorf("%s completed in the future", id)
				}
				if midnight(mi.completed).After(mi.due) {
					kinds["completed late"]++
				} else {
					kinds["completed on time"]++
				}
			} else if mi.due.Before(today) {
				kinds["overdue"]++
			} else {
				kinds["future"]++
			}
			if mi.baseline.Before(mi.due) {
				kinds["slipped"]++
			}
			ms[id] = mi
		}
		open := map[string]int{}
		for _, it := range items.rows {
			if it["milestone"] == "" {
				continue
			}
			id := it["project"] + "/" + it["milestone"]
			mi, ok := ms[id]
			if !ok {
				t.Errorf("%s: milestone %q is not a milestone of %s", it["key"], it["milestone"], it["project"])
				continue
			}
			if it["status"] != statusDone {
				open[id]++
			}
			if !mi.completed.IsZero() && (it["status"] != statusDone || parseTS(t, "resolved_at", it["resolved_at"]).After(mi.completed)) {
				t.Errorf("%s: %s, resolved %q, in %s released %v", it["key"], it["status"], it["resolved_at"], id, mi.completed)
			}
		}
		for id, mi := range ms {
			if mi.completed.IsZero() && mi.due.Before(today) && open[id] == 0 {
				t.Errorf("overdue milestone %s has no open items", id)
			}
		}
		for _, k := range []string{"completed on time", "completed late", "slipped", "overdue", "future"} {
			if kinds[k] < 2 {
				t.Errorf("milestones %s: %d, want ≥ 2", k, kinds[k])
			}
		}
		t.Logf("%v", kinds)
	})

	t.Run("parents and attributes", func(t *testing.T) {
		var project, estimated, pointed, due, children int
		for _, it := range items.rows {
			if p := it["parent"]; p != "" {
				children++
				par := byKey[p]
				if par == nil || par.row["type"] != typeEpic || par.row["project"] != it["project"] || par.created.After(byKey[it["key"]].created) {
					t.Errorf("%s: parent %q should be an earlier epic of the same project", it["key"], p)
				}
			}
			switch it["type"] {
			case typeStory, typeTask, typeBug:
				project++
				if it["estimate_hours"] != "" {
					estimated++
				}
				if it["story_points"] != "" {
					pointed++
				}
			}
			if it["due_date"] != "" {
				due++
			}
		}
		if estimated < project*7/10 || pointed < project/10 || pointed > project*2/3 || due < 100 || children < 200 {
			t.Errorf("of %d project items %d estimated, %d with points; %d due dates, %d children of epics", project, estimated, pointed, due, children)
		}
	})

	t.Run("worklogs", func(t *testing.T) {
		logged := map[string]bool{}
		week := func(t time.Time) time.Time { // Monday
			d := midnight(t)
			return d.AddDate(0, 0, -(int(d.Weekday())+6)%7)
		}
		teamHours := map[string]map[time.Time]float64{}
		for _, w := range worklogs.rows {
			ii := byKey[w["key"]]
			if ii == nil {
				t.Fatalf("worklog for unknown key %s", w["key"])
			}
			team, ok := personTeam[w["person"]]
			if !ok {
				t.Errorf("worklog person %q not in people.csv", w["person"])
			}
			if w["person"] != ii.row["assignee"] {
				t.Errorf("worklog on %s by %s, assignee %s", w["key"], w["person"], ii.row["assignee"])
			}
			at := parseTS(t, "worklog started_at", w["started_at"])
			h, err := strconv.ParseFloat(w["hours"], 64)
			if err != nil || h < 0.5 || h > 6 {
				t.Errorf("worklog hours %q, want 0.5–6", w["hours"])
			}
			if weekend(at) || at.After(testNow) || len(ii.at) == 0 || at.Before(ii.at[0]) ||
				ii.row["resolved_at"] != "" && at.After(parseTS(t, "resolved_at", ii.row["resolved_at"])) {
				t.Errorf("worklog on %s at %s: want a working day between start and finish", w["key"], w["started_at"])
			}
			logged[w["key"]] = true
			if teamHours[team] == nil {
				teamHours[team] = map[time.Time]float64{}
			}
			teamHours[team][week(at)] += h
		}
		started, withLogs := 0, 0
		for _, k := range keys {
			ii := byKey[k]
			if ii.row["type"] == typeEpic || ii.row["assignee"] == "" || ii.row["assignee"] == leaverEmail ||
				!slices.ContainsFunc(ii.changes, func(c map[string]string) bool { return isStarted(c["to_status"]) }) {
				continue
			}
			started++
			if logged[k] {
				withLogs++
			}
		}
		if withLogs < started*3/4 {
			t.Errorf("%d of %d started items have worklogs, want most", withLogs, started)
		}
		// Capacity of the last four complete weeks, per team.
		off := map[string]map[time.Time]float64{}
		for _, r := range timeOff.rows {
			if off[r["person"]] == nil {
				off[r["person"]] = map[time.Time]float64{}
			}
			h, _ := strconv.ParseFloat(r["hours"], 64)
			if h <= 0 || h > 24 {
				t.Errorf("time off %v: hours", r)
			}
			off[r["person"]][parseDay(t, "time off date", r["date"])] = h
		}
		for i := 1; i <= 4; i++ {
			wk := week(testNow).AddDate(0, 0, -7*i)
			capacity := map[string]float64{}
			for _, p := range people.rows {
				h, _ := strconv.ParseFloat(p["hours_per_week"], 64)
				capacity[p["team"]] += h
				for d := range 7 {
					capacity[p["team"]] -= off[p["person"]][wk.AddDate(0, 0, d)]
				}
			}
			for team := range teamSize {
				u := teamHours[team][wk] / capacity[team]
				if over := team == overLoggedTeam; over && u <= 1.05 || !over && u > 1 {
					t.Errorf("week of %s: %s logged %.2f of capacity", wk.Format(time.DateOnly), team, u)
				}
			}
		}
	})

	t.Run("time off", func(t *testing.T) {
		byDate, byPerson := map[string]int{}, map[string]int{}
		for _, r := range timeOff.rows {
			if _, ok := personTeam[r["person"]]; !ok {
				t.Errorf("time off for unknown person %q", r["person"])
			}
			byDate[r["date"]]++
			byPerson[r["person"]]++
		}
		holidays := 0
		for _, n := range byDate {
			if n == len(people.rows)-1 { // everybody in a team
				holidays++
			}
		}
		if len(byPerson) < 5 || holidays < 8 {
			t.Errorf("time off for %d people, %d public holidays; want several people and the holidays", len(byPerson), holidays)
		}
	})

	t.Run("quoting", func(t *testing.T) {
		tricky := 0
		for _, it := range items.rows {
			if strings.ContainsAny(it["title"], `",`) {
				tricky++
			}
		}
		if tricky == 0 {
			t.Error("no title exercises CSV quoting")
		}
	})

	t.Run("config matches people", func(t *testing.T) {
		c, err := config.Parse("demo.yaml", []byte(Config(dir, "demo.duckdb")))
		if err != nil {
			t.Fatal(err)
		}
		members := map[string]string{}
		for _, tm := range c.Teams {
			for _, m := range tm.Members {
				members[m] = tm.Name
			}
		}
		for p, team := range personTeam {
			if members[p] != team {
				t.Errorf("%s: config team %q, people.csv team %q", p, members[p], team)
			}
		}
	})
}

func TestDeterministic(t *testing.T) {
	opt := Options{Now: testNow, Seed: 3}
	a, _ := generate(t, opt)
	b, _ := generate(t, opt)
	opt.Seed = 4
	c, _ := generate(t, opt)
	for _, f := range files {
		da, _ := os.ReadFile(filepath.Join(a, f.name))
		db, _ := os.ReadFile(filepath.Join(b, f.name))
		if !bytes.Equal(da, db) {
			t.Errorf("%s differs between two runs with the same options", f.name)
		}
	}
	for _, name := range []string{"items.csv", "status_changes.csv", "worklogs.csv"} {
		da, _ := os.ReadFile(filepath.Join(a, name))
		dc, _ := os.ReadFile(filepath.Join(c, name))
		if bytes.Equal(da, dc) {
			t.Errorf("%s is the same for seeds 3 and 4", name)
		}
	}
}

func TestGenerateOptions(t *testing.T) {
	if _, err := Generate(t.TempDir(), Options{Seed: 1}); err == nil {
		t.Error("zero Now: want an error")
	}
	if _, err := Generate(t.TempDir(), Options{Now: testNow, Items: 10}); err == nil {
		t.Error("10 items: want an error")
	}
	// A non-UTC Now with sub-second precision: nothing may land after it.
	now := time.Date(2026, 7, 1, 0, 30, 0, 999, time.FixedZone("CEST", 2*3600))
	dir, s := generate(t, Options{Now: now, Seed: 9, Items: 1000})
	if s.Items != 1000 {
		t.Errorf("Items 1000: got %d items", s.Items)
	}
	for file, cols := range map[string][]string{
		"items.csv": {"created_at", "resolved_at"}, "status_changes.csv": {"changed_at"},
		"worklogs.csv": {"started_at"}, "milestones.csv": {"completed_at"},
	} {
		for _, row := range readTable(t, dir, file).rows {
			for _, col := range cols {
				if row[col] != "" && parseTS(t, file+" "+col, row[col]).After(now) {
					t.Errorf("%s %s %s: after Now %v", file, col, row[col], now)
				}
			}
		}
	}
}

func TestConfig(t *testing.T) {
	dataDir := `/tmp/my demo/"quoted" data\dir: #1`
	dbPath := `C:\Users\Demo User\throughline.duckdb`
	text := Config(dataDir, dbPath)

	// The config as ARCHITECTURE.md shapes it, decoded strictly.
	type source struct {
		Name, Kind, Layout, Path string
	}
	type team struct {
		Name         string   `yaml:"name"`
		Members      []string `yaml:"members"`
		HoursPerWeek float64  `yaml:"hours_per_week"`
		WIPLimit     int      `yaml:"wip_limit"`
		SLEDays      *int     `yaml:"sle_days"`
		Projects     []string `yaml:"projects"`
	}
	var c struct {
		Warehouse struct {
			Path        string `yaml:"path"`
			MemoryLimit string `yaml:"memory_limit"`
		} `yaml:"warehouse"`
		Timezone string `yaml:"timezone"`
		Server   struct {
			Listen      string `yaml:"listen"`
			SQLTokenEnv string `yaml:"sql_token_env"`
		} `yaml:"server"`
		Schedules struct{ Sync, Compute string } `yaml:"schedules"`
		Sources   []source                       `yaml:"sources"`
		Teams     []team                         `yaml:"teams"`
		Workflow  struct {
			Started              []string `yaml:"started"`
			Wait                 []string `yaml:"wait"`
			Done                 []string `yaml:"done"`
			DiscardedResolutions []string `yaml:"discarded_resolutions"`
		} `yaml:"workflow"`
		WorkClass struct {
			Operational struct {
				ItemTypes []string `yaml:"item_types"`
				Projects  []string `yaml:"projects"`
			} `yaml:"operational"`
		} `yaml:"work_class"`
		Metrics struct {
			WindowDays int `yaml:"window_days"`
			Forecast   struct{ Trials, Seed int }
		} `yaml:"metrics"`
	}
	dec := yaml.NewDecoder(strings.NewReader(text))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if c.Warehouse.Path != dbPath || c.Warehouse.MemoryLimit != "1GB" {
		t.Errorf("warehouse %+v", c.Warehouse)
	}
	if diff := cmp.Diff([]source{{Name: "demo-csv", Kind: "csv", Layout: "throughline", Path: dataDir}}, c.Sources); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
	var names []string
	noSLE := 0
	for _, tm := range c.Teams {
		names = append(names, tm.Name)
		if tm.SLEDays == nil {
			noSLE++
		}
		if len(tm.Members) < 4 || tm.WIPLimit <= 0 || tm.HoursPerWeek <= 0 || len(tm.Projects) == 0 {
			t.Errorf("team %+v", tm)
		}
	}
	if diff := cmp.Diff([]string{"platform", "payments", "mobile", "support-ops"}, names); diff != "" {
		t.Errorf("team names (-want +got):\n%s", diff)
	}
	if noSLE != 1 {
		t.Errorf("%d teams without sle_days, want 1", noSLE)
	}
	if diff := cmp.Diff([]string{"Won't Do", "Duplicate"}, c.Workflow.DiscardedResolutions); diff != "" {
		t.Errorf("discarded_resolutions (-want +got):\n%s", diff)
	}
	if c.Timezone != "Europe/Berlin" || c.Server.Listen != "127.0.0.1:8467" || c.Schedules.Sync != "*/15 * * * *" ||
		c.Metrics.WindowDays != 90 || c.Metrics.Forecast.Trials != 10000 || c.Metrics.Forecast.Seed != 1 ||
		len(c.WorkClass.Operational.ItemTypes) != 2 || len(c.Workflow.Started) != 3 {
		t.Errorf("config:\n%s", text)
	}

	// And the real loader accepts it.
	if _, err := config.Parse("demo.yaml", []byte(text)); err != nil {
		t.Errorf("config.Parse: %v\n%s", err, text)
	}

	// demo --listen ADDR: the config names ADDR, so `throughline sql
	// --config` reaches the running demo.
	withListen, err := config.Parse("demo.yaml", []byte(ConfigSources(dataDir, dbPath, Sources{Listen: "127.0.0.1:18467"})))
	if err != nil {
		t.Fatal(err)
	}
	if withListen.Server.Listen != "127.0.0.1:18467" {
		t.Errorf("server.listen %q, want 127.0.0.1:18467", withListen.Server.Listen)
	}
}

func TestQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"platform", "platform"},
		{"In Progress", "In Progress"},
		{"Won't Do", `"Won't Do"`},
		{"*/15 * * * *", `"*/15 * * * *"`},
		{"/abs/path", `"/abs/path"`},
		{"yes", `"yes"`},
		{`a"b\c`, `"a\"b\\c"`},
		{"", `""`},
	} {
		if got := quote(tc.in); got != tc.want {
			t.Errorf("quote(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
