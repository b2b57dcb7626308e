package csv

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/throughline/throughline/ingest"
)

// Jira "Export → CSV (all fields | current fields)" (connectors-api.md C1).
//
// The export is one row per issue with repeated columns for multi-valued
// fields, zone-less timestamps in the exporting user's zone and locale, and
// no changelog. Only "Issue key" and "Created" are required.

// jiraHeaderAliases maps localized header names seen in real exports (the
// export speaks the exporting user's language) to the English names.
var jiraHeaderAliases = map[string]string{
	"resumen":                      "summary",
	"clave de incidencia":          "issue key",
	"id de la incidencia":          "issue id",
	"tipo de incidencia":           "issue type",
	"estado":                       "status",
	"creada":                       "created",
	"actualizada":                  "updated",
	"resuelta":                     "resolved",
	"fecha de vencimiento":         "due date",
	"categoría de estado":          "status category",
	"categoría de estado cambiada": "status category changed",
	"principal":                    "parent",
	"clave principal":              "parent key",
	"fix version/s":                "fix versions", // Data Center spelling
}

func jiraCanon(name string) string {
	if a, ok := jiraHeaderAliases[name]; ok {
		return a
	}
	if rest, ok := strings.CutPrefix(name, "campo personalizado ("); ok {
		return "custom field (" + rest
	}
	return name
}

// jiraCategories maps the Status Category display name to the category key.
var jiraCategories = map[string]string{
	"to do":         "new",
	"new":           "new",
	"por hacer":     "new",
	"in progress":   "indeterminate",
	"indeterminate": "indeterminate",
	"en curso":      "indeterminate",
	"done":          "done",
	"listo":         "done",
	"no category":   "undefined",
	"undefined":     "undefined",
}

// jiraRow is one parsed export row.
type jiraRow struct {
	line        int
	item        ingest.Item
	parentRef   string // Parent / Parent id: an issue id (or key) to resolve in the file
	parentCol   string
	projectName string
	versions    []string
	people      []ingest.Person
	transitions []ingest.Transition
	worklogs    []ingest.Worklog
	raw         []byte
}

// parseJiraExport reads a Jira CSV export. Rows that cannot be used and
// values that cannot be read become Problems; the error is only for a file
// that cannot be read as an export at all.
func parseJiraExport(file string, r io.Reader, opt parseOptions) (ingest.Batch, error) {
	loc := opt.location()
	sheet, err := openExport(file, r)
	if err != nil {
		return ingest.Batch{}, fmt.Errorf("jira export: %w", err)
	}
	var h exportHeader
	for {
		rec, _, prob, err := sheet.next()
		if errors.Is(err, io.EOF) {
			return ingest.Batch{}, fmt.Errorf("jira export %s: empty file, no header row", file)
		}
		if err != nil {
			return ingest.Batch{}, fmt.Errorf("jira export: %w", err)
		}
		if prob != nil {
			return ingest.Batch{}, fmt.Errorf("jira export %s: header row: %s (is this a Jira CSV export?)", file, prob.Reason)
		}
		if blank(rec) {
			continue
		}
		h = newExportHeader(rec, jiraCanon)
		break
	}
	if miss := h.missing("issue key", "created"); len(miss) > 0 {
		return ingest.Batch{}, fmt.Errorf("jira export %s: header lacks required column(s) %s (is this a Jira CSV export?)",
			file, quoteNames(miss, map[string]string{"issue key": "Issue key", "created": "Created"}))
	}

	probs := &rowProblems{file: file}
	var rows []jiraRow
	var keyed []keyedRow
	for {
		rec, line, prob, err := sheet.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return ingest.Batch{}, fmt.Errorf("jira export: %w", err)
		}
		if prob != nil {
			probs.list = append(probs.list, *prob)
			continue
		}
		if blank(rec) {
			continue
		}
		row, ok := parseJiraRow(h, rec, line, loc, probs)
		if !ok {
			continue
		}
		rows = append(rows, row)
		keyed = append(keyed, keyedRow{key: row.item.Key, line: line, updated: row.item.UpdatedAt})
	}
	_, keyCol := h.cell(nil, "issue key")
	keep := dedupe(keyed, keyCol, probs)

	byKey := make(map[string]bool, len(keep))
	byID := make(map[string]string, len(keep))
	for _, i := range keep {
		byKey[rows[i].item.Key] = true
		if id := rows[i].item.ExternalID; id != "" {
			byID[id] = rows[i].item.Key
		}
	}
	var (
		b          ingest.Batch
		people     peopleSet
		projects   projectSet
		milestones = map[[2]string]bool{}
	)
	for _, i := range keep {
		row := &rows[i]
		it := &row.item
		if it.Parent == "" && row.parentRef != "" {
			// Cloud's Parent and DC's Parent id hold the parent's issue id;
			// resolve it against the file. A parent outside the export stays
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
		b.Items = append(b.Items, *it)
		b.Transitions = append(b.Transitions, row.transitions...)
		b.Worklogs = append(b.Worklogs, row.worklogs...)
		b.Raw = append(b.Raw, ingest.RawPayload{Entity: "jira-export-row", ExternalID: it.Key, Payload: row.raw})
	}
	b.Projects = projects.list
	b.People = people.list
	b.Problems = probs.sorted()
	return b, nil
}

// parseJiraRow maps one row. It reports false, with a Problem recorded,
// when the row has no usable key or creation date.
func parseJiraRow(h exportHeader, rec []string, line int, loc *time.Location, probs *rowProblems) (jiraRow, bool) {
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

	row := jiraRow{line: line, raw: h.raw(rec)}
	it := &row.item
	it.Key = key
	it.CreatedAt = created
	it.ExternalID, _ = h.cell(rec, "issue id")
	it.Title, _ = h.cell(rec, "summary")
	it.Type, _ = h.cell(rec, "issue type")
	it.Status, _ = h.cell(rec, "status")
	it.Resolution, _ = h.cell(rec, "resolution")
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
		return t
	}
	it.UpdatedAt = optTime("updated")
	it.ResolvedAt = optTime("resolved")
	catChanged := optTime("status category changed")

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
	if v, col := h.firstNonEmpty(rec, "custom field (story points)", "custom field (story point estimate)"); v != "" {
		if f, err := parseNumber(v); err != nil {
			probs.repair(line, col, key, "bad story points %q: %v; value dropped", clip(v), err)
		} else {
			it.StoryPoints = &f
		}
	}

	// The category as exported; without one (current-fields exports) a
	// resolved issue is taken as done, anything else stays unknown.
	if v, col := h.cell(rec, "status category"); v != "" {
		if c, ok := jiraCategories[strings.ToLower(v)]; ok {
			it.StatusCategory = c
		} else {
			probs.repair(line, col, key, "unknown status category %q; category dropped", clip(v))
		}
	}
	if it.StatusCategory == "" && !it.ResolvedAt.IsZero() {
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
	creator := person("creator", "creator id")
	if creator == "" {
		creator = reporter
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

	it.Parent, _ = h.cell(rec, "parent key")
	row.parentRef, row.parentCol = h.firstNonEmpty(rec, "parent", "parent id")
	if it.Parent != "" {
		_, row.parentCol = h.cell(rec, "parent key")
	}

	row.worklogs = parseJiraWorklogs(h, rec, line, key, loc, probs)
	for _, w := range row.worklogs {
		row.people = append(row.people, ingest.Person{ExternalID: w.Person})
	}
	row.transitions = jiraTransitions(h, it, creator, catChanged, line, probs)
	return row, true
}

// jiraTransitions synthesizes an issue's status history. The CSV export has
// no changelog: only the current status, its category, when the category
// last changed, and Created/Resolved/Updated. So the history is:
//
//   - new: one creation transition into the current status, at Created;
//   - indeterminate: created into "To Do" (new), then into the current status
//     at Status Category Changed (Created when missing);
//   - done: created into "To Do" (new), then into the current status at
//     Resolved (else Status Category Changed, else Updated, else Created);
//   - unknown or undefined category: one creation transition into the
//     current status.
//
// A done item therefore skips "in progress": the export does not say when
// work started, and inventing a start would fake cycle times. Cycle time
// from a CSV export is approximate; lead time (Created → Resolved) is exact.
// A change dated before Created is moved to Created, with a Problem.
func jiraTransitions(h exportHeader, it *ingest.Item, author string, catChanged time.Time, line int, probs *rowProblems) []ingest.Transition {
	create := ingest.Transition{ItemKey: it.Key, At: it.CreatedAt, Author: author}
	var at time.Time
	var atCol string
	switch it.StatusCategory {
	case "indeterminate":
		at, atCol = catChanged, "status category changed"
	case "done":
		switch {
		case !it.ResolvedAt.IsZero():
			at, atCol = it.ResolvedAt, "resolved"
		case !catChanged.IsZero():
			at, atCol = catChanged, "status category changed"
		default:
			at, atCol = it.UpdatedAt, "updated"
		}
	default:
		create.To, create.ToCategory = it.Status, it.StatusCategory
		return []ingest.Transition{create}
	}
	create.To, create.ToCategory = "To Do", "new"
	at, moved := notBefore(at, it.CreatedAt)
	if moved {
		_, col := h.cell(nil, atCol)
		probs.repair(line, col, it.Key, "date is before Created; status change placed at Created")
	}
	return []ingest.Transition{create, {
		ItemKey:      it.Key,
		At:           at,
		From:         "To Do",
		FromCategory: "new",
		To:           it.Status,
		ToCategory:   it.StatusCategory,
	}}
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

// jiraMonths holds English month names and abbreviations and the Spanish
// abbreviations Jira uses (the export follows the exporting user's locale).
var jiraMonths = map[string]time.Month{
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
	"jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
	"january": 1, "february": 2, "march": 3, "april": 4, "june": 6, "july": 7,
	"august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
	"ene": 1, "abr": 4, "ago": 8, "dic": 12,
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
// ("22/Sep/25 9:26 AM"), 24-hour ("30/Jul/18 23:33"), four-digit years,
// English or Spanish month names in any case, or an ISO form.
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

// parseClock reads h:mm[:ss] with an optional AM/PM (any case, with or
// without dots and spaces, including the narrow no-break space newer Java
// puts before it). Empty means midnight.
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
	meridiem := ""
	if rest, ok := strings.CutSuffix(s, "am"); ok {
		s, meridiem = rest, "am"
	} else if rest, ok := strings.CutSuffix(s, "pm"); ok {
		s, meridiem = rest, "pm"
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
		if meridiem == "pm" {
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
