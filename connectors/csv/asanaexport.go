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
	line       int
	item       ingest.Item
	parentName string
	parentCol  string
	completed  time.Time
	assignee   ingest.Person
	raw        []byte
}

// parseAsanaExport reads an Asana project CSV export. Rows that cannot be
// used and values that cannot be read become Problems; the error is only
// for a file that cannot be read as an export at all.
func parseAsanaExport(file string, r io.Reader, opt parseOptions) (ingest.Batch, error) {
	loc := opt.location()
	sheet, err := openExport(file, r)
	if err != nil {
		return ingest.Batch{}, fmt.Errorf("asana export: %w", err)
	}
	var h exportHeader
	found := false
	read := 0
	for read < asanaHeaderScan {
		rec, _, prob, err := sheet.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return ingest.Batch{}, fmt.Errorf("asana export: %w", err)
		}
		read++
		if prob != nil {
			continue
		}
		hh := newExportHeader(rec, nil)
		if hh.has("task id") {
			h, found = hh, true
			break
		}
	}
	switch {
	case read == 0:
		return ingest.Batch{}, fmt.Errorf("asana export %s: empty file, no header row", file)
	case !found:
		return ingest.Batch{}, fmt.Errorf("asana export %s: no header row with column \"Task ID\" in the first %d rows (is this an Asana CSV export?)",
			file, asanaHeaderScan)
	}
	if miss := h.missing("name"); len(miss) > 0 {
		return ingest.Batch{}, fmt.Errorf("asana export %s: header lacks required column(s) %s",
			file, quoteNames(miss, map[string]string{"name": "Name"}))
	}

	// Custom fields that hold an estimate in minutes (Asana's "Estimated
	// time", or a number field named like it), in file order.
	var estimateCols []int
	for name, ps := range h.pos {
		if strings.Contains(name, "estimate") && !strings.Contains(name, "actual") && !strings.Contains(name, "sizing") {
			estimateCols = append(estimateCols, ps...)
		}
	}
	slices.Sort(estimateCols)

	probs := &rowProblems{file: file}
	var rows []asanaRow
	var keyed []keyedRow
	for {
		rec, line, prob, err := sheet.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return ingest.Batch{}, fmt.Errorf("asana export: %w", err)
		}
		if prob != nil {
			probs.list = append(probs.list, *prob)
			continue
		}
		if blank(rec) {
			continue
		}
		row, ok := parseAsanaRow(h, rec, line, loc, estimateCols, probs)
		if !ok {
			continue
		}
		rows = append(rows, row)
		keyed = append(keyed, keyedRow{key: row.item.Key, line: line, updated: row.item.UpdatedAt})
	}
	_, keyCol := h.cell(nil, "task id")
	keep := dedupe(keyed, keyCol, probs)

	// Parent task is the parent's name: match it within the file.
	byName := map[string][]int{}
	for _, i := range keep {
		byName[rows[i].item.Title] = append(byName[rows[i].item.Title], i)
	}
	var (
		b        ingest.Batch
		people   peopleSet
		projects projectSet
	)
	for _, i := range keep {
		row := &rows[i]
		it := &row.item
		if row.parentName != "" {
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
					cands = append(cands, rows[j].item.Key)
				}
			}
			switch {
			case n == 1:
				it.Parent = cands[0]
			case n == 0:
				probs.repair(row.line, row.parentCol, it.Key, "parent task %q is not in this file; parent left empty", clip(row.parentName))
			default:
				list := strings.Join(cands, ", ")
				if n > len(cands) {
					list += ", …"
				}
				probs.repair(row.line, row.parentCol, it.Key, "parent task %q is ambiguous: %d tasks have that name (%s); parent left empty",
					clip(row.parentName), n, list)
			}
		}
		projects.add(it.Project, it.Project)
		people.add(row.assignee)
		b.Items = append(b.Items, *it)
		b.Transitions = append(b.Transitions, asanaTransitions(h, row, probs)...)
		b.Raw = append(b.Raw, ingest.RawPayload{Entity: "asana-export-row", ExternalID: it.Key, Payload: row.raw})
	}
	b.Projects = projects.list
	b.People = people.list
	b.Problems = probs.sorted()
	return b, nil
}

// parseAsanaRow maps one row. It reports false, with a Problem recorded,
// when the row has no usable task id or creation date.
func parseAsanaRow(h exportHeader, rec []string, line int, loc *time.Location, estimateCols []int, probs *rowProblems) (asanaRow, bool) {
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
	row := asanaRow{line: line, raw: h.raw(rec)}
	it := &row.item
	it.Key = id
	it.CreatedAt = created
	it.Title, _ = h.cell(rec, "name")
	it.Status, _ = h.cell(rec, "section/column")

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
		return t
	}
	row.completed = optTime("completed at")
	it.ResolvedAt = row.completed
	it.UpdatedAt = optTime("last modified")
	if !row.completed.IsZero() {
		it.StatusCategory = "done"
	}
	if v, col := h.cell(rec, "due date"); v != "" {
		if t, err := parseAsanaTime(v, time.UTC); err != nil {
			probs.repair(line, col, id, "bad date %q: %v; value dropped", clip(v), err)
		} else {
			it.DueDate = dateUTC(t.Date())
		}
	}

	if ps, _ := h.cell(rec, "projects"); ps != "" {
		first, _, _ := strings.Cut(ps, ",")
		it.Project = strings.TrimSpace(first)
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

// asanaTransitions synthesizes a task's status history from the export: the
// creation into its section (category unknown: sections are not statuses)
// and, when completed, a change to "Completed" (done) at Completed At. Days
// only: the export has no time of day.
func asanaTransitions(h exportHeader, row *asanaRow, probs *rowProblems) []ingest.Transition {
	it := &row.item
	out := []ingest.Transition{{ItemKey: it.Key, At: it.CreatedAt, To: it.Status}}
	if row.completed.IsZero() {
		return out
	}
	at, moved := notBefore(row.completed, it.CreatedAt)
	if moved {
		_, col := h.cell(nil, "completed at")
		probs.repair(row.line, col, it.Key, "date is before Created At; completion placed at Created At")
	}
	return append(out, ingest.Transition{
		ItemKey:    it.Key,
		At:         at,
		From:       it.Status,
		To:         "Completed",
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
