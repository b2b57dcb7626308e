package csv

import (
	"bufio"
	"bytes"
	stdcsv "encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/throughline/throughline/ingest"
)

// parseOptions tune the readers of vendor exports (Jira and Asana CSV).
type parseOptions struct {
	// Location is the time zone in which the export's zone-less timestamps
	// are read: the exporting user's zone. Nil means UTC.
	Location *time.Location
	// Columns maps items.csv column names to headers of the file (config
	// columns): they win over the headers the reader knows.
	Columns map[string]string
	// StatusIDs names the status ids of Jira's Time in Status field
	// (config status_ids): id → status name; they win over inference.
	StatusIDs map[string]string
}

func (o parseOptions) location() *time.Location {
	if o.Location == nil {
		return time.UTC
	}
	return o.Location
}

// This file also holds what the vendor-export readers share: opening the
// file, the header, row problems, de-duplication and the raw payload.

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// exportSheet reads a vendor export record by record.
type exportSheet struct {
	file string
	cr   *stdcsv.Reader
	// probs, when set, receives a Problem for each data record whose
	// invalid UTF-8 bytes next replaced.
	probs *rowProblems
}

// openExport wraps r in a CSV reader that skips a leading UTF-8 BOM, accepts
// CRLF and LF, multi-line quoted cells of any size, and ragged rows.
func openExport(file string, r io.Reader) (*exportSheet, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	b, err := br.Peek(len(utf8BOM))
	switch {
	case err == nil && bytes.Equal(b, utf8BOM):
		if _, err := br.Discard(len(utf8BOM)); err != nil {
			return nil, fmt.Errorf("read %s: %w", file, err)
		}
	case err != nil && !errors.Is(err, io.EOF):
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	cr := stdcsv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = false
	return &exportSheet{file: file, cr: cr}, nil
}

// next returns the next record and the physical line it starts on. A
// stretch of input that is not valid CSV comes back as a Problem (rec nil);
// reading goes on after it. The error is io.EOF at the end, or a read error.
func (s *exportSheet) next() (rec []string, line int, prob *ingest.Problem, err error) {
	rec, err = s.cr.Read()
	if err != nil {
		var pe *stdcsv.ParseError
		if errors.As(err, &pe) {
			return nil, pe.StartLine, &ingest.Problem{
				File:   s.file,
				Line:   max(pe.StartLine, 1),
				Reason: fmt.Sprintf("not valid CSV (line %d, byte %d): %v", pe.Line, pe.Column, pe.Err),
				Action: ingest.ProblemRejected,
			}, nil
		}
		if errors.Is(err, io.EOF) {
			return nil, 0, nil, io.EOF
		}
		return nil, 0, nil, fmt.Errorf("read %s: %w", s.file, err)
	}
	line, _ = s.cr.FieldPos(0)
	if fixUTF8(rec) && s.probs != nil {
		s.probs.repair(line, "", "", "invalid UTF-8 bytes replaced by U+FFFD (is the file UTF-8?)")
	}
	return rec, line, nil, nil
}

// fixUTF8 makes every cell of rec valid UTF-8 (invalid bytes become
// U+FFFD: the warehouse stores text) and reports whether it had to.
func fixUTF8(rec []string) (fixed bool) {
	for i, c := range rec {
		if !utf8.ValidString(c) {
			rec[i], fixed = strings.ToValidUTF8(c, "\uFFFD"), true
		}
	}
	return fixed
}

// blank reports whether every cell of rec is empty or white space.
func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// exportHeader is a header row. Repeated names are the norm (one column per
// value of a multi-valued field), so columns are read by position and
// identical names (case-insensitively, after trimming) are grouped.
//
// Every per-row method costs in proportion to the row's own cells, not the
// header's width: a hostile file with a wide header and many short rows
// stays linear.
type exportHeader struct {
	names   []string         // the cells, trimmed, as spelled in the file
	pos     map[string][]int // canonical name → positions, ascending
	group   []int            // position → index in groups (raw grouping)
	groups  []exportGroup
	grouped map[string]int // lower-cased name → index in groups
}

// exportGroup is the columns sharing one name, for the raw payload.
type exportGroup struct {
	name  string // the first spelling in the file
	cells int    // how many columns share it
}

// newExportHeader reads a header row; canon maps a lower-cased, trimmed
// name to the name the parser looks up (nil: itself).
func newExportHeader(rec []string, canon func(string) string) exportHeader {
	h := exportHeader{
		names:   make([]string, len(rec)),
		pos:     map[string][]int{},
		group:   make([]int, len(rec)),
		grouped: map[string]int{},
	}
	for i, c := range rec {
		c = strings.TrimSpace(strings.TrimPrefix(c, "\uFEFF"))
		h.names[i] = c
		lower := normHeader(c)
		k := lower
		if canon != nil {
			k = canon(k)
		}
		h.pos[k] = append(h.pos[k], i)
		g, ok := h.grouped[lower]
		if !ok {
			g = len(h.groups)
			h.grouped[lower] = g
			h.groups = append(h.groups, exportGroup{name: c})
		}
		h.groups[g].cells++
		h.group[i] = g
	}
	return h
}

// missing lists the names (canonical, lower case) the header lacks.
func (h exportHeader) missing(names ...string) []string {
	var out []string
	for _, n := range names {
		if len(h.pos[n]) == 0 {
			out = append(out, n)
		}
	}
	return out
}

func (h exportHeader) has(name string) bool { return len(h.pos[name]) > 0 }

// spelled is the header of the first column named like the canonical
// name, as spelled in the file ("" when none).
func (h exportHeader) spelled(name string) string {
	if ps := h.pos[name]; len(ps) > 0 {
		return h.names[ps[0]]
	}
	return ""
}

// rename applies the columns config: each items.csv name (a key of
// mapping) the config maps to a header makes that header's columns the
// ones the reader looks up under mapping's name.
func (h exportHeader) rename(columns, mapping map[string]string) error {
	for _, col := range slices.Sorted(maps.Keys(columns)) {
		canon, ok := mapping[col]
		if !ok {
			return fmt.Errorf("columns: %q does not apply to this layout (want one of %s)", col, strings.Join(slices.Sorted(maps.Keys(mapping)), ", "))
		}
		var ps []int
		for i, n := range h.names {
			if normHeader(n) == normHeader(columns[col]) {
				ps = append(ps, i)
			}
		}
		if len(ps) == 0 {
			return fmt.Errorf("columns: %s is mapped to %q, which the header lacks", col, columns[col])
		}
		h.pos[canon] = ps
	}
	return nil
}

// cell is the trimmed value of the first column named like one of names
// (the first name the header has wins) and that column's header as spelled.
func (h exportHeader) cell(rec []string, names ...string) (value, column string) {
	for _, n := range names {
		if ps := h.pos[n]; len(ps) > 0 {
			p := ps[0]
			if p < len(rec) {
				return strings.TrimSpace(rec[p]), h.names[p]
			}
			return "", h.names[p]
		}
	}
	return "", ""
}

// exportCell is one non-empty cell of a (possibly repeated) column.
type exportCell struct {
	value, column string
}

// cells lists the non-empty trimmed values of every column named like any
// of names, names in the order given, columns in file order.
func (h exportHeader) cells(rec []string, names ...string) []exportCell {
	var out []exportCell
	for _, n := range names {
		out = h.cellsAt(rec, h.pos[n], out)
	}
	return out
}

// cellsAt appends the non-empty trimmed values at the ascending positions ps.
func (h exportHeader) cellsAt(rec []string, ps []int, out []exportCell) []exportCell {
	for _, p := range ps {
		if p >= len(rec) {
			break
		}
		if v := strings.TrimSpace(rec[p]); v != "" {
			out = append(out, exportCell{v, h.names[p]})
		}
	}
	return out
}

// firstNonEmpty is the first of cells(rec, names...), if any.
func (h exportHeader) firstNonEmpty(rec []string, names ...string) (value, column string) {
	for _, n := range names {
		for _, p := range h.pos[n] {
			if p >= len(rec) {
				break
			}
			if v := strings.TrimSpace(rec[p]); v != "" {
				return v, h.names[p]
			}
		}
	}
	return "", ""
}

// raw renders rec as a JSON object header → cell value, as exported. Names
// that repeat (case-insensitively) become an array of their non-empty
// values; columns a short row lacks are left out; cells beyond the header go
// to "(extra)".
func (h exportHeader) raw(rec []string) json.RawMessage {
	n := min(len(rec), len(h.names))
	obj := make(map[string]any, n+1)
	for i := range n {
		g := h.groups[h.group[i]]
		if g.cells == 1 {
			obj[g.name] = rec[i]
			continue
		}
		vs, _ := obj[g.name].([]string)
		if vs == nil {
			vs = []string{}
		}
		if strings.TrimSpace(rec[i]) != "" {
			vs = append(vs, rec[i])
		}
		obj[g.name] = vs
	}
	if len(rec) > len(h.names) {
		obj["(extra)"] = slices.Clone(rec[len(h.names):])
	}
	b, err := json.Marshal(obj)
	if err != nil { // strings only: cannot happen
		return json.RawMessage(`{}`)
	}
	return b
}

// rowProblems collects the Problems of one file.
type rowProblems struct {
	file string
	list []ingest.Problem
}

func (p *rowProblems) add(action string, line int, column, key, format string, args ...any) {
	p.list = append(p.list, ingest.Problem{
		File:   p.file,
		Line:   line,
		Column: column,
		Key:    key,
		Reason: fmt.Sprintf(format, args...),
		Action: action,
	})
}

// reject records a row (or record) that was not stored.
func (p *rowProblems) reject(line int, column, key, format string, args ...any) {
	p.add(ingest.ProblemRejected, line, column, key, format, args...)
}

// repair records a value that was dropped or corrected.
func (p *rowProblems) repair(line int, column, key, format string, args ...any) {
	p.add(ingest.ProblemRepaired, line, column, key, format, args...)
}

// note records something stored as read that the user should check.
func (p *rowProblems) note(line int, column, key, format string, args ...any) {
	p.add(ingest.ProblemNote, line, column, key, format, args...)
}

// sorted returns the problems in line order (stable).
func (p *rowProblems) sorted() []ingest.Problem {
	slices.SortStableFunc(p.list, func(a, b ingest.Problem) int { return a.Line - b.Line })
	return p.list
}

// fieldCount records a Problem when a row's width differs from the header's.
func (p *rowProblems) fieldCount(line int, key string, got, want int) {
	if got != want {
		p.note(line, "", key, "row has %d fields, the header has %d; read by position", got, want)
	}
}

// keyedRow is what de-duplication needs to know of a parsed row.
type keyedRow struct {
	key     string
	line    int
	updated time.Time // zero when unknown
	file    string    // the file the row is in
	column  string    // the key's header, for the Problem
	probs   *rowProblems
}

// dedupe picks one row per key among the rows of one source's files, in
// file order: the one updated later, or, on a tie, the later row. Each
// other row gets a Problem (rejected) in its own file. It returns the
// indexes of the kept rows in order.
func dedupe(rows []keyedRow) []int {
	win := map[string]int{}
	lost := make([]bool, len(rows))
	for i, r := range rows {
		j, dup := win[r.key]
		if !dup {
			win[r.key] = i
			continue
		}
		if r.updated.Before(rows[j].updated) {
			lost[i] = true
			continue
		}
		lost[j] = true
		win[r.key] = i
	}
	keep := make([]int, 0, len(win))
	for i, r := range rows {
		if !lost[i] {
			keep = append(keep, i)
			continue
		}
		w := rows[win[r.key]]
		where := fmt.Sprintf("line %d", w.line)
		if w.file != r.file {
			where = fmt.Sprintf("%s line %d", w.file, w.line)
		}
		if w.updated.IsZero() {
			r.probs.reject(r.line, r.column, r.key, "duplicate key, kept the later row (%s)", where)
		} else {
			r.probs.reject(r.line, r.column, r.key, "duplicate key, kept the row updated at %s (%s)",
				w.updated.Format(time.RFC3339), where)
		}
	}
	return keep
}

// zoneCheck warns, once per column of a file, when a timestamp with an
// explicit UTC offset disagrees with the zone in which the file's
// zone-less timestamps are read: the export was then likely made in
// another zone, and the source's timezone should say which.
type zoneCheck struct {
	loc   *time.Location
	probs *rowProblems
	seen  map[string]bool
}

// check looks at raw (the cell) parsed as t.
func (z *zoneCheck) check(line int, column, key, raw string, t time.Time) {
	off, ok := explicitOffset(raw)
	if !ok || z.seen[column] {
		return
	}
	_, want := t.In(z.loc).Zone()
	if off == want {
		return
	}
	if z.seen == nil {
		z.seen = map[string]bool{}
	}
	z.seen[column] = true
	z.probs.note(line, column, key, "this column's times carry the offset %s, but zone-less times are read in %s (%s then): if the export was made in another zone, set the source's timezone",
		fmtOffset(off), z.loc, fmtOffset(want))
}

// explicitOffset is the numeric UTC offset (seconds) a timestamp ends with
// ("+02:00", "-0500"); a bare Z names no zone of the exporter.
func explicitOffset(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if len(s) < 16 || !looksISO(s) {
		return 0, false
	}
	tail := s[len(s)-6:]
	if tail[3] == ':' {
		tail = tail[:3] + tail[4:]
	} else {
		tail = s[len(s)-5:]
	}
	if tail[0] != '+' && tail[0] != '-' {
		return 0, false
	}
	hh, ok1 := atoiDigits(tail[1:3], 2)
	mm, ok2 := atoiDigits(tail[3:5], 2)
	if !ok1 || !ok2 {
		return 0, false
	}
	off := hh*3600 + mm*60
	if tail[0] == '-' {
		off = -off
	}
	return off, true
}

func fmtOffset(off int) string {
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("%c%02d:%02d", sign, off/3600, off%3600/60)
}

// peopleSet collects people once each, in order of first appearance; later
// sightings fill in a missing name or email.
type peopleSet struct {
	idx  map[string]int
	list []ingest.Person
}

func (s *peopleSet) add(p ingest.Person) {
	if p.ExternalID == "" {
		return
	}
	if s.idx == nil {
		s.idx = map[string]int{}
	}
	i, ok := s.idx[p.ExternalID]
	if !ok {
		s.idx[p.ExternalID] = len(s.list)
		s.list = append(s.list, p)
		return
	}
	q := &s.list[i]
	if q.DisplayName == "" {
		q.DisplayName = p.DisplayName
	}
	if q.Email == "" {
		q.Email = p.Email
	}
}

// projectSet collects projects once each, in order of first appearance.
type projectSet struct {
	idx  map[string]int
	list []ingest.Project
}

func (s *projectSet) add(key, name string) {
	if key == "" {
		return
	}
	if s.idx == nil {
		s.idx = map[string]int{}
	}
	i, ok := s.idx[key]
	if !ok {
		s.idx[key] = len(s.list)
		s.list = append(s.list, ingest.Project{Key: key, Name: name})
		return
	}
	if s.list[i].Name == "" {
		s.list[i].Name = name
	}
}

// notBefore returns at, or floor when at is zero or earlier; moved reports
// that a non-zero at was earlier than floor.
func notBefore(at, floor time.Time) (t time.Time, moved bool) {
	if at.IsZero() {
		return floor, false
	}
	if at.Before(floor) {
		return floor, true
	}
	return at, false
}

// plausibleYear bounds the years accepted in dates, so that no parsed date
// is the zero time.Time or beyond what time formats can print back.
func plausibleYear(y int) bool { return y >= 1900 && y <= 9999 }

// dateUTC is midnight UTC of the calendar date y-m-d.
func dateUTC(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// validDate reports whether y-m-d is a real calendar date.
func validDate(y int, m time.Month, d int) bool {
	if m < time.January || m > time.December || d < 1 || d > 31 {
		return false
	}
	t := dateUTC(y, m, d)
	return t.Year() == y && t.Month() == m && t.Day() == d
}

// clip shortens a cell for quoting in a Problem (cells may be megabytes).
func clip(s string) string {
	const n = 60
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// atoiDigits parses 1..maxLen ASCII digits (no sign, no spaces).
func atoiDigits(s string, maxLen int) (int, bool) {
	if s == "" || len(s) > maxLen {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
