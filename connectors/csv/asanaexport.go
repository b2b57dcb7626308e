package csv

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/throughline/throughline/ingest"
)

// Asana project "Export → CSV" (connectors-api.md C2).
//
// Header: Task ID, Created At, Completed At, Last Modified, Name,
// Section/Column, Assignee, Assignee Email, Start Date, Due Date, Tags,
// Notes, Projects, Parent task, Blocked By (Dependencies), Blocking
// (Dependencies), then one column per custom field. Only Task ID and Name
// are required. Dates are ISO days without a time. A Google Sheets flavour
// has preamble rows before the header.

// asanaHeaderScan is how many rows may precede the header.
const asanaHeaderScan = 10

// excelNumber matches a task id a spreadsheet re-save turned into
// scientific notation (1.21143E+15): its digits are gone.
var excelNumber = regexp.MustCompile(`^[0-9]+([.,][0-9]*)?[eE][+-]?[0-9]+$`)

// localeDate matches a day a spreadsheet re-save rendered in its locale.
var localeDate = regexp.MustCompile(`^[0-9]{1,4}[/.-][0-9]{1,2}[/.-][0-9]{1,4}$`)

type asanaRow struct {
	file       *asanaFile
	line       int
	item       ingest.Item
	section    string // Section/Column as exported
	parentName string
	parentCol  string
	completed  time.Time
	assignee   ingest.Person
	raw        []byte
}

// asanaFile is one export file read, before the rows of all files of the
// source become one batch.
type asanaFile struct {
	name  string
	h     exportHeader
	rows  []asanaRow
	probs *rowProblems
}

// asanaColumns maps the items.csv names the columns config may use to the
// names this reader looks up.
var asanaColumns = map[string]string{
	"key": "task id", "title": "name", "status": "section/column", "project": "projects", "assignee": "assignee",
	"created_at": "created at", "resolved_at": "completed at", "due_date": "due date", "parent": "parent task",
}

// parseAsanaExport reads one Asana project CSV export into a batch.
func parseAsanaExport(file string, r io.Reader, opt parseOptions) (ingest.Batch, error) {
	f, err := readAsanaFile(file, r, opt)
	if err != nil {
		return ingest.Batch{}, err
	}
	return asanaBatch([]*asanaFile{f}), nil
}

// readAsanaFile reads one export's rows. Rows that cannot be used and
// values that cannot be read become Problems; the error is only for a file
// that cannot be read as an export at all.
func readAsanaFile(file string, r io.Reader, opt parseOptions) (*asanaFile, error) {
	loc := opt.location()
	sheet, err := openExport(file, r)
	if err != nil {
		return nil, fmt.Errorf("asana export: %w", err)
	}
	f := &asanaFile{name: file, probs: &rowProblems{file: file}}
	keyHeader := "task id"
	if v, ok := opt.Columns["key"]; ok {
		keyHeader = normHeader(v)
	}
	found := false
	read := 0
	for read < asanaHeaderScan {
		rec, _, prob, err := sheet.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("asana export: %w", err)
		}
		read++
		if prob != nil {
			continue
		}
		fixUTF8(rec)
		hh := newExportHeader(rec, asanaCanon)
		if hh.has(keyHeader) {
			f.h, found = hh, true
			break
		}
	}
	switch {
	case read == 0:
		return nil, fmt.Errorf("asana export %s: empty file, no header row", file)
	case !found:
		return nil, fmt.Errorf("asana export %s: no header row with column \"Task ID\" in the first %d rows (is this an Asana CSV export?)",
			file, asanaHeaderScan)
	}
	sheet.probs = f.probs
	if err := f.h.rename(opt.Columns, asanaColumns); err != nil {
		return nil, fmt.Errorf("asana export %s: %w", file, err)
	}
	if miss := f.h.missing("name"); len(miss) > 0 {
		return nil, fmt.Errorf("asana export %s: header lacks required column(s) %s",
			file, quoteNames(miss, map[string]string{"name": "Name"}))
	}

	// Custom fields that hold an estimate in minutes (Asana's "Estimated
	// time", or a number field named like it), in file order.
	var estimateCols []int
	for name, ps := range f.h.pos {
		if strings.Contains(name, "estimate") && !strings.Contains(name, "actual") && !strings.Contains(name, "sizing") {
			estimateCols = append(estimateCols, ps...)
		}
	}
	slices.Sort(estimateCols)
	zones := &zoneCheck{loc: loc, probs: f.probs}
	for {
		rec, line, prob, err := sheet.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("asana export: %w", err)
		}
		if prob != nil {
			f.probs.list = append(f.probs.list, *prob)
			continue
		}
		if blank(rec) {
			continue
		}
		row, ok := parseAsanaRow(f.h, rec, line, zones, estimateCols, f.probs)
		if !ok {
			continue
		}
		row.file = f
		f.rows = append(f.rows, row)
	}
	return f, nil
}

// asanaCanon maps older and shorter spellings of the export's headers.
func asanaCanon(name string) string {
	switch name {
	case "section", "column":
		return "section/column"
	case "project":
		return "projects"
	}
	return name
}

// asanaBatch turns the rows of every export file of a source into one
// batch: a task in several rows (or files) keeps the row modified last; a
// parent task is matched by name across the files; a subtask (exported
// without a project) takes its parent's.
func asanaBatch(files []*asanaFile) ingest.Batch {
	var all []*asanaRow
	var keyed []keyedRow
	for _, f := range files {
		for i := range f.rows {
			r := &f.rows[i]
			all = append(all, r)
			keyed = append(keyed, keyedRow{key: r.item.Key, line: r.line, updated: r.item.UpdatedAt, file: f.name, probs: f.probs,
				column: f.h.spelled("task id")})
		}
	}
	keep := dedupe(keyed)

	// Parent task is the parent's name: match it within the files.
	byName := map[string][]int{}
	for _, i := range keep {
		byName[all[i].item.Title] = append(byName[all[i].item.Title], i)
	}
	for _, i := range keep {
		row := all[i]
		it := &row.item
		if row.parentName == "" {
			continue
		}
		// Other tasks of that name (this one excluded); name at most a few.
		same := byName[row.parentName]
		n := len(same)
		if it.Title == row.parentName {
			n--
		}
		var cands []string
		for _, j := range same {
			if len(cands) == 5 {
				break
			}
			if j != i {
				cands = append(cands, all[j].item.Key)
			}
		}
		switch {
		case n == 1:
			it.Parent = cands[0]
		case n == 0:
			row.file.probs.repair(row.line, row.parentCol, it.Key, "parent task %q is not in this file; parent left empty", clip(row.parentName))
		default:
			list := strings.Join(cands, ", ")
			if n > len(cands) {
				list += ", …"
			}
			row.file.probs.repair(row.line, row.parentCol, it.Key, "parent task %q is ambiguous: %d tasks have that name (%s); parent left empty",
				clip(row.parentName), n, list)
		}
	}
	// Subtasks take their parent's project (up the chain; a cycle stops).
	byKey := make(map[string]*asanaRow, len(keep))
	for _, i := range keep {
		byKey[all[i].item.Key] = all[i]
	}
	for _, i := range keep {
		it := &all[i].item
		seen := map[string]bool{it.Key: true}
		for p := byKey[it.Parent]; it.Project == "" && p != nil && !seen[p.item.Key]; p = byKey[p.item.Parent] {
			seen[p.item.Key] = true
			it.Project = p.item.Project
		}
	}
	var (
		b        ingest.Batch
		people   peopleSet
		projects projectSet
	)
	for _, i := range keep {
		row := all[i]
		it := &row.item
		projects.add(it.Project, it.Project)
		people.add(row.assignee)
		b.Items = append(b.Items, *it)
		b.Transitions = append(b.Transitions, asanaTransitions(row)...)
		b.Raw = append(b.Raw, ingest.RawPayload{Entity: "asana-export-row", ExternalID: it.Key, Payload: row.raw})
	}
	for _, f := range files {
		b.Problems = append(b.Problems, f.probs.sorted()...)
	}
	b.Projects = projects.list
	b.People = people.list
	return b
}

// parseAsanaRow maps one row. It reports false, with a Problem recorded,
// when the row has no usable task id or creation date.
func parseAsanaRow(h exportHeader, rec []string, line int, zones *zoneCheck, estimateCols []int, probs *rowProblems) (asanaRow, bool) {
	loc := zones.loc
	id, idCol := h.cell(rec, "task id")
	probs.fieldCount(line, id, len(rec), len(h.names))
	switch {
	case id == "":
		probs.reject(line, idCol, "", "missing task id; row dropped")
		return asanaRow{}, false
	case excelNumber.MatchString(id):
		probs.reject(line, idCol, "", "spreadsheet re-save destroyed the task id (%q); row dropped: export again from Asana", clip(id))
		return asanaRow{}, false
	}
	createdS, createdCol := h.cell(rec, "created at")
	if createdS == "" {
		probs.reject(line, createdCol, id, "missing created date; row dropped")
		return asanaRow{}, false
	}
	created, err := parseAsanaTime(createdS, loc)
	if err != nil {
		probs.reject(line, createdCol, id, "bad date %q: %v; row dropped", clip(createdS), err)
		return asanaRow{}, false
	}
	zones.check(line, createdCol, id, createdS, created)
	row := asanaRow{line: line, raw: h.raw(rec)}
	it := &row.item
	it.Key = id
	it.CreatedAt = created
	it.Title, _ = h.cell(rec, "name")
	row.section, _ = h.cell(rec, "section/column")
	it.Status = row.section

	optTime := func(name string) time.Time {
		v, col := h.cell(rec, name)
		if v == "" {
			return time.Time{}
		}
		t, err := parseAsanaTime(v, loc)
		if err != nil {
			probs.repair(line, col, id, "bad date %q: %v; value dropped", clip(v), err)
			return time.Time{}
		}
		zones.check(line, col, id, v, t)
		return t
	}
	row.completed = optTime("completed at")
	it.ResolvedAt = row.completed
	it.UpdatedAt = optTime("last modified")
	// Whether a task is finished is a fact about that task: Completed At.
	// A completed task's status is "Completed" (done), as the Asana API
	// connector has it, whatever column it was left in.
	if !row.completed.IsZero() {
		it.Status, it.StatusCategory = asanaCompleted, "done"
	}
	if v, col := h.cell(rec, "due date"); v != "" {
		if t, err := parseAsanaTime(v, time.UTC); err != nil {
			probs.repair(line, col, id, "bad date %q: %v; value dropped", clip(v), err)
		} else {
			it.DueDate = dateUTC(t.Date())
		}
	}

	// A task in several projects lists them all (comma or line separated):
	// it counts in the first.
	if ps, _ := h.cell(rec, "projects"); ps != "" {
		for p := range strings.FieldsFuncSeq(ps, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
			if p = strings.TrimSpace(p); p != "" {
				it.Project = p
				break
			}
		}
	}
	name, _ := h.cell(rec, "assignee")
	email, _ := h.cell(rec, "assignee email")
	if pid := cmp.Or(email, name); pid != "" {
		row.assignee = ingest.Person{ExternalID: pid, DisplayName: name, Email: email}
		it.Assignee = pid
	}

	row.parentName, row.parentCol = h.cell(rec, "parent task")
	it.Type = "Task"
	if row.parentName != "" {
		it.Type = "Subtask"
	}

	// Best effort: the first estimate column that holds a number of minutes.
	if cs := h.cellsAt(rec, estimateCols, nil); len(cs) > 0 {
		v, col := cs[0].value, cs[0].column
		f, err := parseNumber(v)
		switch {
		case err != nil:
			probs.repair(line, col, id, "bad estimate %q: want minutes; value dropped", clip(v))
		case f < 0 || f > 1e9:
			probs.repair(line, col, id, "bad estimate %q: out of range; value dropped", clip(v))
		default:
			s := int64(math.Round(f * 60))
			it.EstimateSeconds = &s
		}
	}
	return row, true
}

// asanaCompleted is the status of a completed task (the Asana API
// connector's name for it).
const asanaCompleted = "Completed"

// asanaTransitions synthesizes a task's status history from the export: the
// creation into its section (category unknown: sections are not statuses;
// a blank section is stored as the unknown status) and, when completed, a
// change to "Completed" (done) at Completed At. Days only: the export has
// no time of day, and no record of when work started.
func asanaTransitions(row *asanaRow) []ingest.Transition {
	it := &row.item
	out := []ingest.Transition{{ItemKey: it.Key, At: it.CreatedAt, To: row.section}}
	if row.completed.IsZero() {
		return out
	}
	at, moved := notBefore(row.completed, it.CreatedAt)
	if moved {
		row.file.probs.repair(row.line, row.file.h.spelled("completed at"), it.Key, "date is before Created At; completion placed at Created At")
	}
	return append(out, ingest.Transition{
		ItemKey:    it.Key,
		At:         at,
		From:       row.section,
		To:         asanaCompleted,
		ToCategory: "done",
	})
}

// parseAsanaTime reads YYYY-MM-DD as midnight in loc, or an RFC 3339
// timestamp (2025-09-22T14:03:00.000Z) as the instant it names.
func parseAsanaTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if len(s) == 10 && s[4] == '-' && s[7] == '-' {
		y, ok1 := atoiDigits(s[:4], 4)
		m, ok2 := atoiDigits(s[5:7], 2)
		d, ok3 := atoiDigits(s[8:], 2)
		if !ok1 || !ok2 || !ok3 || !plausibleYear(y) || !validDate(y, time.Month(m), d) {
			return time.Time{}, errors.New("no such date")
		}
		return time.Date(y, time.Month(m), d, 0, 0, 0, 0, loc), nil
	}
	if len(s) > 10 && s[4] == '-' && s[7] == '-' && s[10] == 'T' {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, errors.New("bad timestamp, want YYYY-MM-DDTHH:MM:SSZ")
		}
		if !plausibleYear(t.Year()) {
			return time.Time{}, fmt.Errorf("year %d out of range", t.Year())
		}
		return t, nil
	}
	if localeDate.MatchString(s) {
		return time.Time{}, errors.New("a locale date, not YYYY-MM-DD: was the file re-saved by a spreadsheet?")
	}
	return time.Time{}, errors.New("want YYYY-MM-DD")
}
