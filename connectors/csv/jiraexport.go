package csv

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/throughline/throughline/ingest"
)

// Jira "Export → CSV (all fields | current fields)" (connectors-api.md C1,
// README.md).
//
// The export is one row per issue with repeated columns for multi-valued
// fields, zone-less timestamps in the exporting user's zone and language,
// and no changelog. Only the issue key and the creation date are required.
// Headers of every language jiralocale.go knows are read; the columns
// config names others.

// jiraFile is one export file read, before the rows of all files of the
// source become one batch.
type jiraFile struct {
	name   string
	h      exportHeader
	lang   string
	rows   []jiraRow
	probs  *rowProblems
	tisCol string // header of the Time in Status column; "" without one
}

// jiraRow is one parsed export row.
type jiraRow struct {
	file        *jiraFile
	line        int
	item        ingest.Item
	parentRef   string // Parent / Parent id: an issue id (or key) to resolve in the files
	parentCol   string
	projectName string
	versions    []string
	people      []ingest.Person
	worklogs    []ingest.Worklog
	raw         []byte
	creator     string
	catChanged  time.Time
	started     time.Time // from a column the config names started_at
	tis         []tisEntry
}

// jiraColumns maps the items.csv names the columns config may use to the
// names this reader looks up.
var jiraColumns = map[string]string{
	"key": "issue key", "project": "project key", "title": "summary", "type": "issue type", "status": "status",
	"assignee": "assignee", "created_at": "created", "resolved_at": "resolved", "resolution": "resolution",
	"due_date": "due date", "story_points": "story points", "milestone": "fix versions", "parent": "parent key",
	"started_at": "started at",
}

// parseJiraExport reads one Jira CSV export into a batch.
func parseJiraExport(file string, r io.Reader, opt parseOptions) (ingest.Batch, error) {
	f, err := readJiraFile(file, r, opt)
	if err != nil {
		return ingest.Batch{}, err
	}
	return jiraBatch([]*jiraFile{f}, opt), nil
}

// readJiraFile reads one export's rows. Rows that cannot be used and values
// that cannot be read become Problems; the error is only for a file that
// cannot be read as an export at all.
func readJiraFile(file string, r io.Reader, opt parseOptions) (*jiraFile, error) {
	loc := opt.location()
	sheet, err := openExport(file, r)
	if err != nil {
		return nil, fmt.Errorf("jira export: %w", err)
	}
	f := &jiraFile{name: file, probs: &rowProblems{file: file}}
	for {
		rec, _, prob, err := sheet.next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("jira export %s: empty file, no header row", file)
		}
		if err != nil {
			return nil, fmt.Errorf("jira export: %w", err)
		}
		if prob != nil {
			return nil, fmt.Errorf("jira export %s: header row: %s (is this a Jira CSV export?)", file, prob.Reason)
		}
		if blank(rec) {
			continue
		}
		fixUTF8(rec)
		f.h = newExportHeader(rec, jiraCanon)
		f.lang = jiraLanguageOf(rec)
		break
	}
	sheet.probs = f.probs
	if err := f.h.rename(opt.Columns, jiraColumns); err != nil {
		return nil, fmt.Errorf("jira export %s: %w", file, err)
	}
	if miss := f.h.missing("issue key", "created"); len(miss) > 0 {
		return nil, fmt.Errorf("jira export %s: header lacks required column(s) %s (is this a Jira CSV export? headers are read in %s; name others with the source's columns)",
			file, quoteNames(miss, map[string]string{"issue key": "Issue key", "created": "Created"}), knownLanguages())
	}
	for _, n := range f.h.names {
		if strings.Contains(jiraCanon(normHeader(n)), "time in status") {
			f.tisCol = n
			f.h.pos["time in status"] = f.h.pos[jiraCanon(normHeader(n))]
			break
		}
	}
	zones := &zoneCheck{loc: loc, probs: f.probs}
	for {
		rec, line, prob, err := sheet.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("jira export: %w", err)
		}
		if prob != nil {
			f.probs.list = append(f.probs.list, *prob)
			continue
		}
		if blank(rec) {
			continue
		}
		if row, ok := f.parseRow(rec, line, zones); ok {
			f.rows = append(f.rows, row)
		}
	}
	return f, nil
}

func knownLanguages() string {
	var cs []string
	for _, l := range jiraLanguages {
		cs = append(cs, l.code)
	}
	return strings.Join(cs, ", ")
}

// jiraBatch turns the rows of every export file of a source into one
// batch: a key in several rows (or files) keeps the row updated last; a
// parent named by id is looked up in every file.
func jiraBatch(files []*jiraFile, opt parseOptions) ingest.Batch {
	var all []*jiraRow
	var keyed []keyedRow
	for _, f := range files {
		for i := range f.rows {
			r := &f.rows[i]
			r.file = f
			all = append(all, r)
			keyed = append(keyed, keyedRow{key: r.item.Key, line: r.line, updated: r.item.UpdatedAt, file: f.name, probs: f.probs,
				column: f.h.spelled("issue key")})
		}
	}
	keep := dedupe(keyed)
	kept := make([]*jiraRow, len(keep))
	byKey := make(map[string]bool, len(keep))
	byID := make(map[string]string, len(keep))
	var tisRows []tisRow
	for n, i := range keep {
		r := all[i]
		kept[n] = r
		byKey[r.item.Key] = true
		if id := r.item.ExternalID; id != "" {
			byID[id] = r.item.Key
		}
		if r.tis != nil {
			tisRows = append(tisRows, tisRow{status: r.item.Status, category: r.item.StatusCategory, entries: r.tis})
		}
	}
	book := inferStatusIDs(tisRows, opt.StatusIDs)
	unnamed := map[*jiraFile]map[string]int{} // file → status id → rows
	var (
		b          ingest.Batch
		people     peopleSet
		projects   projectSet
		milestones = map[[2]string]bool{}
	)
	for _, row := range kept {
		it := &row.item
		probs := row.file.probs
		if it.Parent == "" && row.parentRef != "" {
			// Cloud's Parent and DC's Parent id hold the parent's issue id;
			// resolve it against the files. A parent outside the export stays
			// unknown (a filtered export often lacks it): not a Problem.
			if byKey[row.parentRef] {
				it.Parent = row.parentRef
			} else if k, ok := byID[row.parentRef]; ok {
				it.Parent = k
			}
		}
		if it.Parent == it.Key {
			probs.repair(row.line, row.parentCol, it.Key, "issue is its own parent; parent dropped")
			it.Parent = ""
		}
		projects.add(it.Project, row.projectName)
		for _, p := range row.people {
			people.add(p)
		}
		for _, v := range row.versions {
			k := [2]string{it.Project, v}
			if !milestones[k] {
				milestones[k] = true
				b.Milestones = append(b.Milestones, ingest.Milestone{Name: v, Project: it.Project})
			}
		}
		trs, unknownID := row.transitions(book)
		if unknownID != "" {
			if unnamed[row.file] == nil {
				unnamed[row.file] = map[string]int{}
			}
			unnamed[row.file][unknownID]++
		}
		b.Items = append(b.Items, *it)
		b.Transitions = append(b.Transitions, trs...)
		b.Worklogs = append(b.Worklogs, row.worklogs...)
		b.Raw = append(b.Raw, ingest.RawPayload{Entity: "jira-export-row", ExternalID: it.Key, Payload: row.raw})
	}
	for _, f := range files {
		for _, id := range slices.Sorted(maps.Keys(unnamed[f])) {
			f.probs.note(1, f.tisCol, "", "Time in Status names status id %s (in %d rows), which no row's Status names: those rows' history is built without the field; name it in the source's status_ids",
				id, unnamed[f][id])
		}
		b.Problems = append(b.Problems, f.probs.sorted()...)
	}
	b.Projects = projects.list
	b.People = people.list
	return b
}

// parseRow maps one row. It reports false, with a Problem recorded, when
// the row has no usable key or creation date.
func (f *jiraFile) parseRow(rec []string, line int, zones *zoneCheck) (jiraRow, bool) {
	h, probs, loc := f.h, f.probs, zones.loc
	key, keyCol := h.cell(rec, "issue key")
	probs.fieldCount(line, key, len(rec), len(h.names))
	if key == "" {
		probs.reject(line, keyCol, "", "missing issue key; row dropped")
		return jiraRow{}, false
	}
	createdS, createdCol := h.cell(rec, "created")
	if createdS == "" {
		probs.reject(line, createdCol, key, "missing created date; row dropped")
		return jiraRow{}, false
	}
	created, err := parseJiraTime(createdS, loc)
	if err != nil {
		probs.reject(line, createdCol, key, "bad date %q: %v; row dropped", clip(createdS), err)
		return jiraRow{}, false
	}
	zones.check(line, createdCol, key, createdS, created)

	row := jiraRow{line: line, raw: h.raw(rec)}
	it := &row.item
	it.Key = key
	it.CreatedAt = created
	it.ExternalID, _ = h.cell(rec, "issue id")
	it.Title, _ = h.cell(rec, "summary")
	it.Type, _ = h.cell(rec, "issue type")
	it.Status, _ = h.cell(rec, "status")
	it.Resolution, _ = h.cell(rec, "resolution")
	if unresolved[strings.ToLower(it.Resolution)] {
		it.Resolution = ""
	}
	it.Project, _ = h.cell(rec, "project key")
	if it.Project == "" {
		if p, _, ok := strings.Cut(key, "-"); ok {
			it.Project = p
		}
	}
	row.projectName, _ = h.cell(rec, "project name")

	optTime := func(name string) time.Time {
		v, col := h.cell(rec, name)
		if v == "" {
			return time.Time{}
		}
		t, err := parseJiraTime(v, loc)
		if err != nil {
			probs.repair(line, col, key, "bad date %q: %v; value dropped", clip(v), err)
			return time.Time{}
		}
		zones.check(line, col, key, v, t)
		return t
	}
	it.UpdatedAt = optTime("updated")
	it.ResolvedAt = optTime("resolved")
	row.catChanged = optTime("status category changed")
	row.started = optTime("started at")

	if v, col := h.cell(rec, "due date"); v != "" {
		if d, err := parseJiraDate(v); err != nil {
			probs.repair(line, col, key, "bad date %q: %v; value dropped", clip(v), err)
		} else {
			it.DueDate = d
		}
	}
	if v, col := h.cell(rec, "original estimate"); v != "" {
		if n, ok := atoiDigits(v, 15); ok {
			s := int64(n)
			it.EstimateSeconds = &s
		} else {
			probs.repair(line, col, key, "bad estimate %q: want whole seconds; value dropped", clip(v))
		}
	}
	if v, col := h.firstNonEmpty(rec, "story points", "custom field (story points)", "custom field (story point estimate)"); v != "" {
		if f, err := parseNumber(v); err != nil {
			probs.repair(line, col, key, "bad story points %q: %v; value dropped", clip(v), err)
		} else {
			it.StoryPoints = &f
		}
	}

	// Whether the issue is finished is a fact about this row: its status
	// category; else its status's well-known name (in any language); else
	// a resolution (or a Resolved date) says it is done. Otherwise the
	// category stays unknown (config workflow may still map the status).
	if v, col := h.cell(rec, "status category"); v != "" {
		if c := jiraCategory(v); c != "" {
			it.StatusCategory = c
		} else {
			probs.repair(line, col, key, "unknown status category %q; category dropped", clip(v))
		}
	}
	if it.StatusCategory == "" {
		it.StatusCategory = ingest.KnownCategory(it.Status)
	}
	if it.StatusCategory == "" && (it.Resolution != "" || !it.ResolvedAt.IsZero()) {
		it.StatusCategory = "done"
	}

	person := func(nameCol, idCol string) string {
		name, _ := h.cell(rec, nameCol)
		id, _ := h.cell(rec, idCol)
		if id == "" {
			id = name
		}
		if id == "" {
			return ""
		}
		row.people = append(row.people, ingest.Person{ExternalID: id, DisplayName: name})
		return id
	}
	it.Assignee = person("assignee", "assignee id")
	reporter := person("reporter", "reporter id")
	row.creator = person("creator", "creator id")
	if row.creator == "" {
		row.creator = reporter
	}

	seenVersion := map[string]bool{}
	for _, c := range h.cells(rec, "fix versions") {
		if !seenVersion[c.value] {
			seenVersion[c.value] = true
			row.versions = append(row.versions, c.value)
		}
	}
	if len(row.versions) > 0 {
		it.Milestone = row.versions[0]
	}

	// The parent: Parent key, else Epic Link (both keys), else Parent or
	// Parent id (an issue id or key, resolved against the files).
	var parentCol string
	it.Parent, parentCol = h.firstNonEmpty(rec, "parent key", "epic link", "custom field (epic link)")
	row.parentRef, row.parentCol = h.firstNonEmpty(rec, "parent", "parent id")
	if it.Parent != "" {
		row.parentCol = parentCol
	}

	if v, col := h.cell(rec, "time in status"); v != "" {
		if es, err := parseTimeInStatus(v); err != nil {
			probs.repair(line, col, key, "bad Time in Status %q: %v; value dropped", clip(v), err)
		} else {
			row.tis = es
		}
	}

	row.worklogs = parseJiraWorklogs(h, rec, line, key, loc, probs)
	for _, w := range row.worklogs {
		row.people = append(row.people, ingest.Person{ExternalID: w.Person})
	}
	return row, true
}

// transitions synthesizes an issue's status history. The export has no
// changelog: only the current status and its category, when the category
// last changed, Created/Resolved/Updated, and on many Cloud sites the Time
// in Status field. With a usable Time in Status the history follows it
// (tisHistory). Otherwise:
//
//   - new: one creation transition into the current status, at Created;
//   - indeterminate: created into "To Do" (new), then into the current
//     status at the configured started_at column, else Status Category
//     Changed, else Created (approximate);
//   - done, or a category nobody knows: created into "To Do" (new), then
//     (with a started_at column) into "In Progress" at it, then into the
//     current status at Resolved, else Status Category Changed, else
//     Updated (approximate: the last edit, at or after the finish), else
//     Created (approximate).
//
// A done item therefore skips "in progress" unless the row says when work
// started: inventing a start would fake cycle times. Lead time (Created →
// finish) is exact whenever Resolved or Status Category Changed is there.
// A change dated before Created is moved to Created, with a Problem. The
// second result is a status id of Time in Status that could not be named.
func (row *jiraRow) transitions(book tisBook) ([]ingest.Transition, string) {
	it := &row.item
	probs := row.file.probs
	finish, finishCol, finishApprox := it.ResolvedAt, "resolved", ""
	switch {
	case !finish.IsZero():
	case !row.catChanged.IsZero() && it.StatusCategory != "indeterminate" && it.StatusCategory != "new":
		finish, finishCol = row.catChanged, "status category changed"
	case !it.UpdatedAt.IsZero():
		finish, finishCol, finishApprox = it.UpdatedAt, "updated", ingest.ApproxUpdated
	default:
		finish, finishCol, finishApprox = it.CreatedAt, "created", ingest.ApproxCreated
	}
	placed := func(at time.Time, col string) time.Time {
		t, moved := notBefore(at, it.CreatedAt)
		if moved {
			probs.repair(row.line, row.file.h.spelled(col), it.Key, "date is before Created; status change placed at Created")
		}
		return t
	}
	var unknownID string
	if row.tis != nil && it.StatusCategory != "" {
		exact := time.Time{}
		if it.StatusCategory == "done" && finishApprox == "" {
			exact = placed(finish, finishCol)
		}
		steps, unknown, clamped := tisHistory(it.CreatedAt, it.Status, it.StatusCategory, row.tis, book, exact)
		if unknown == "" {
			if clamped {
				probs.note(row.line, row.file.tisCol, it.Key, "Time in Status totals exceed the time from Created to the finish; the start is placed at Created")
			}
			return tisTransitions(it, steps, row.creator, exact), ""
		}
		unknownID = unknown
	}
	create := ingest.Transition{ItemKey: it.Key, At: it.CreatedAt, Author: row.creator}
	toDo := func(at time.Time, approx, to, cat string) ingest.Transition {
		return ingest.Transition{ItemKey: it.Key, At: at, From: "To Do", FromCategory: "new", To: to, ToCategory: cat, Approx: approx}
	}
	switch {
	case it.Status == "" && it.StatusCategory == "":
		// No status and nothing else to go by: stored as the unknown status
		// (data_quality unknown_status).
		return []ingest.Transition{create}, unknownID
	case it.StatusCategory == "new", it.StatusCategory == "undefined":
		create.To, create.ToCategory = it.Status, it.StatusCategory
		return []ingest.Transition{create}, unknownID
	case it.StatusCategory == "indeterminate":
		create.To, create.ToCategory = "To Do", "new"
		at, col, approx := row.started, "started at", ""
		switch {
		case !at.IsZero():
		case !row.catChanged.IsZero():
			at, col = row.catChanged, "status category changed"
		default:
			at, col, approx = it.CreatedAt, "created", ingest.ApproxCreated
		}
		return []ingest.Transition{create, toDo(placed(at, col), approx, it.Status, it.StatusCategory)}, unknownID
	}
	create.To, create.ToCategory = "To Do", "new"
	out := []ingest.Transition{create}
	from := toDo
	if !row.started.IsZero() {
		start := placed(row.started, "started at")
		if finish.Before(start) {
			start = finish
		}
		out = append(out, toDo(start, "", "In Progress", "indeterminate"))
		from = func(at time.Time, approx, to, cat string) ingest.Transition {
			return ingest.Transition{ItemKey: it.Key, At: at, From: "In Progress", FromCategory: "indeterminate", To: to, ToCategory: cat, Approx: approx}
		}
	}
	return append(out, from(placed(finish, finishCol), finishApprox, it.Status, it.StatusCategory)), unknownID
}

// tisTransitions turns tisHistory's steps into transitions: the creation,
// then one change per step; every change but the entry into done at an
// exact finish is approximate (time_in_status).
func tisTransitions(it *ingest.Item, steps []tisStep, author string, exact time.Time) []ingest.Transition {
	out := []ingest.Transition{{ItemKey: it.Key, At: steps[0].at, To: steps[0].status, ToCategory: steps[0].category, Author: author}}
	for i := 1; i < len(steps); i++ {
		prev, s := steps[i-1], steps[i]
		approx := ingest.ApproxTimeInStatus
		if !exact.IsZero() && s.at.Equal(exact) && s.category == "done" && prev.category != "done" {
			approx = ""
		}
		out = append(out, ingest.Transition{ItemKey: it.Key, At: s.at, From: prev.status, FromCategory: prev.category,
			To: s.status, ToCategory: s.category, Approx: approx})
	}
	return out
}

// parseJiraWorklogs reads the repeated "Log Work" cells:
// comment;started;authorId;seconds. The comment comes first and may hold
// ';', so the cell is split from the right.
func parseJiraWorklogs(h exportHeader, rec []string, line int, key string, loc *time.Location, probs *rowProblems) []ingest.Worklog {
	var out []ingest.Worklog
	seen := map[string]int{}
	for _, c := range h.cells(rec, "log work") {
		started, author, secs, ok := splitJiraWorklog(c.value)
		if !ok {
			probs.reject(line, c.column, key, "log work %q is not comment;started;author;seconds; worklog dropped", clip(c.value))
			continue
		}
		t, err := parseJiraTime(started, loc)
		if err != nil {
			probs.reject(line, c.column, key, "log work: bad date %q: %v; worklog dropped", clip(started), err)
			continue
		}
		n, ok := atoiDigits(secs, 12)
		if !ok {
			probs.reject(line, c.column, key, "log work: bad seconds %q; worklog dropped", clip(secs))
			continue
		}
		if why := ingest.WorklogRule(int64(n)); why != "" {
			probs.reject(line, c.column, key, "log work: %d seconds: %s; worklog dropped", n, why)
			continue
		}
		tuple := t.UTC().Format(time.RFC3339) + "#" + author
		id := key + "#" + tuple + "#" + strconv.Itoa(seen[tuple])
		seen[tuple]++
		out = append(out, ingest.Worklog{ID: id, ItemKey: key, Person: author, StartedAt: t, Seconds: int64(n)})
	}
	return out
}

func splitJiraWorklog(cell string) (started, author, seconds string, ok bool) {
	rest := cell
	var parts [3]string
	for i := 2; i >= 0; i-- {
		j := strings.LastIndexByte(rest, ';')
		if j < 0 {
			return "", "", "", false
		}
		parts[i] = strings.TrimSpace(rest[j+1:])
		rest = rest[:j]
	}
	return parts[0], parts[1], parts[2], true
}

// isoLayouts are accepted besides Jira's own format (custom DC formats,
// REST-style timestamps). Layouts with a zone keep it; the others are read
// in the given location.
var isoLayouts = []struct {
	layout string
	zoned  bool
}{
	{time.RFC3339Nano, true},
	{"2006-01-02T15:04:05.000-0700", true},
	{"2006-01-02T15:04:05-0700", true},
	{"2006-01-02 15:04:05", false},
	{"2006-01-02 15:04", false},
	{"2006-01-02T15:04:05", false},
	{"2006-01-02T15:04", false},
	{"2006-01-02", false},
}

func parseISOTime(s string, loc *time.Location) (time.Time, error) {
	for _, l := range isoLayouts {
		var t time.Time
		var err error
		if l.zoned {
			t, err = time.Parse(l.layout, s)
		} else {
			t, err = time.ParseInLocation(l.layout, s, loc)
		}
		if err == nil {
			if !plausibleYear(t.Year()) {
				return time.Time{}, fmt.Errorf("year %d out of range", t.Year())
			}
			return t, nil
		}
	}
	return time.Time{}, errors.New("unknown date format")
}

func looksISO(s string) bool {
	return len(s) >= 10 && s[4] == '-' && s[7] == '-'
}

// parseJiraTime reads a Jira export timestamp: dd/MMM/yy h:mm a
// ("22/Sep/25 9:26 AM", "26/abr/26 12:55 PM"), 24-hour ("30/Jul/18 23:33"),
// four-digit years, the month abbreviations and AM/PM markers of every
// language jiralocale.go knows, in any case, or an ISO form.
func parseJiraTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if looksISO(s) {
		return parseISOTime(s, loc)
	}
	day, clock, _ := strings.Cut(s, " ")
	y, m, d, err := parseJiraDay(day)
	if err != nil {
		return time.Time{}, err
	}
	hh, mm, ss, err := parseClock(clock)
	if err != nil {
		return time.Time{}, err
	}
	return time.Date(y, m, d, hh, mm, ss, 0, loc), nil
}

// parseJiraDate reads a calendar date (the time part, if any, is ignored)
// as midnight UTC of that date.
func parseJiraDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if looksISO(s) {
		t, err := parseISOTime(s, time.UTC)
		if err != nil {
			return time.Time{}, err
		}
		return dateUTC(t.Date()), nil
	}
	day, _, _ := strings.Cut(s, " ")
	y, m, d, err := parseJiraDay(day)
	if err != nil {
		return time.Time{}, err
	}
	return dateUTC(y, m, d), nil
}

// parseJiraDay reads dd/MMM/yy or dd/MMM/yyyy.
func parseJiraDay(s string) (int, time.Month, int, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 {
		return 0, 0, 0, errors.New("want dd/MMM/yy h:mm a")
	}
	d, ok := atoiDigits(parts[0], 2)
	if !ok {
		return 0, 0, 0, fmt.Errorf("bad day %q", clip(parts[0]))
	}
	m, ok := jiraMonths[strings.TrimSuffix(strings.ToLower(parts[1]), ".")]
	if !ok {
		return 0, 0, 0, fmt.Errorf("unknown month %q", clip(parts[1]))
	}
	y, ok := atoiDigits(parts[2], 4)
	switch {
	case ok && len(parts[2]) == 2:
		// Two-digit years: 70–99 are 19xx, the rest 20xx.
		if y >= 70 {
			y += 1900
		} else {
			y += 2000
		}
	case ok && len(parts[2]) == 4 && plausibleYear(y):
	default:
		return 0, 0, 0, fmt.Errorf("bad year %q", clip(parts[2]))
	}
	if !validDate(y, m, d) {
		return 0, 0, 0, fmt.Errorf("no such date %d %s %d", d, m, y)
	}
	return y, m, d, nil
}

// parseClock reads h:mm[:ss] with an optional AM/PM marker of any known
// language (any case, with or without dots and spaces, including the
// narrow no-break space newer Java puts before it; before or after the
// time). Empty means midnight.
func parseClock(s string) (h, m, sec int, err error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '.', '\u00a0', '\u202f', '\t':
			return -1
		}
		return r
	}, strings.ToLower(s))
	if s == "" {
		return 0, 0, 0, nil
	}
	meridiem, pm := "", false
	for _, mk := range meridiems {
		if rest, ok := strings.CutSuffix(s, mk.s); ok {
			s, meridiem, pm = rest, mk.s, mk.pm
			break
		}
		if rest, ok := strings.CutPrefix(s, mk.s); ok {
			s, meridiem, pm = rest, mk.s, mk.pm
			break
		}
	}
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, 0, 0, errors.New("bad time of day, want h:mm or h:mm AM")
	}
	h, okH := atoiDigits(parts[0], 2)
	m, okM := atoiDigits(parts[1], 2)
	okS := true
	if len(parts) == 3 {
		sec, okS = atoiDigits(parts[2], 2)
	}
	if !okH || !okM || !okS || len(parts[1]) != 2 || m > 59 || sec > 59 {
		return 0, 0, 0, errors.New("bad time of day, want h:mm or h:mm AM")
	}
	switch meridiem {
	case "":
		if h > 23 {
			return 0, 0, 0, fmt.Errorf("bad hour %d", h)
		}
	default:
		if h < 1 || h > 12 {
			return 0, 0, 0, fmt.Errorf("bad hour %d for %s", h, strings.ToUpper(meridiem))
		}
		h %= 12
		if pm {
			h += 12
		}
	}
	return h, m, sec, nil
}

// parseNumber reads a decimal like "2.0" (or "2,5" from a comma locale).
func parseNumber(s string) (float64, error) {
	if !strings.Contains(s, ".") && strings.Count(s, ",") == 1 {
		s = strings.Replace(s, ",", ".", 1)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, errors.New("not a number")
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, errors.New("not a finite number")
	}
	return f, nil
}

// quoteNames renders canonical column names as the user would spell them.
func quoteNames(names []string, spelled map[string]string) string {
	q := make([]string, len(names))
	for i, n := range names {
		if s, ok := spelled[n]; ok {
			n = s
		}
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}
