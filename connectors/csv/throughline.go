package csv

import (
	"context"
	stdcsv "encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/throughline/throughline/ingest"
)

// The files of the throughline layout; only items.csv is required.
const (
	fileItems     = ingest.CSVItems
	fileChanges   = ingest.CSVChanges
	fileMilestone = "milestones.csv"
	fileWorklogs  = ingest.CSVWorklogs
	filePeople    = "people.csv"
	fileTimeOff   = "time_off.csv"
)

var layoutFiles = []string{fileItems, fileChanges, fileMilestone, fileWorklogs, filePeople, fileTimeOff}

var itemColumns = []string{"key", "project", "title", "type", "status", "assignee", "created_at", "resolved_at",
	"resolution", "due_date", "story_points", "estimate_hours", "milestone", "parent", "team", "work_class"}

// header maps column names to positions.
type header struct {
	file string
	pos  map[string]int
}

func (h header) get(rec []string, col string) string {
	i, ok := h.pos[col]
	if !ok || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

// reader wraps encoding/csv with BOM handling and header parsing.
type reader struct {
	file string
	r    *stdcsv.Reader
	h    header
	cols int
}

func openCSV(file string, r io.Reader, required []string, rename map[string]string) (*reader, error) {
	cr := stdcsv.NewReader(stripBOM(r))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	rec, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file (want a header row)", file)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", file, err)
	}
	fixUTF8(rec)
	pos := make(map[string]int, len(rec))
	for i, name := range rec {
		n := strings.ToLower(strings.TrimSpace(name))
		if _, dup := pos[n]; !dup {
			pos[n] = i
		}
	}
	for canon, in := range rename {
		if i, ok := pos[strings.ToLower(in)]; ok {
			pos[canon] = i
		}
	}
	var missing []string
	for _, c := range required {
		if _, ok := pos[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s:1: missing column(s) %s (header has: %s)", file, strings.Join(missing, ", "), strings.Join(rec, ","))
	}
	return &reader{file: file, r: cr, h: header{file: file, pos: pos}, cols: len(rec)}, nil
}

// next returns the next record and the line it starts on; io.EOF at the end.
// A record that cannot be read (bad quoting) is returned as a problem.
func (r *reader) next() ([]string, int, *ingest.Problem, error) {
	rec, err := r.r.Read()
	if err == io.EOF {
		return nil, 0, nil, io.EOF
	}
	var pe *stdcsv.ParseError
	if errors.As(err, &pe) {
		return nil, pe.StartLine, &ingest.Problem{File: r.file, Line: pe.StartLine, Reason: "unreadable CSV record: " + pe.Err.Error() + "; row skipped", Action: ingest.ProblemRejected}, nil
	}
	if err != nil {
		return nil, 0, nil, fmt.Errorf("read %s: %w", r.file, err)
	}
	line, _ := r.r.FieldPos(0)
	var why []string
	action := ingest.ProblemNote
	if len(rec) != r.cols {
		why = append(why, fmt.Sprintf("%d fields, header has %d; read by position", len(rec), r.cols))
	}
	if fixUTF8(rec) {
		why, action = append(why, "invalid UTF-8 bytes replaced by U+FFFD (is the file UTF-8?)"), ingest.ProblemRepaired
	}
	if len(why) > 0 {
		return rec, line, &ingest.Problem{File: r.file, Line: line, Reason: strings.Join(why, "; "), Action: action}, nil
	}
	return rec, line, nil, nil
}

func stripBOM(r io.Reader) io.Reader {
	br := &bomReader{r: r}
	return br
}

type bomReader struct {
	r    io.Reader
	done bool
}

func (b *bomReader) Read(p []byte) (int, error) {
	if b.done {
		return b.r.Read(p)
	}
	b.done = true
	var head [3]byte
	n, err := io.ReadFull(b.r, head[:])
	if n == 3 && head == [3]byte{0xEF, 0xBB, 0xBF} {
		return b.r.Read(p)
	}
	rest := head[:n]
	c := copy(p, rest)
	if c < len(rest) {
		// p too small for the peeked bytes: keep the rest for later.
		b.r = io.MultiReader(strings.NewReader(string(rest[c:])), b.r)
		return c, nil
	}
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		if c == 0 {
			return 0, io.EOF
		}
		return c, nil
	}
	return c, err
}

// parseTime reads RFC 3339 or YYYY-MM-DD[ HH:MM[:SS]] (zone-less: in loc).
func parseTime(s string, loc *time.Location) (time.Time, error) {
	if len(s) >= 20 && (s[len(s)-1] == 'Z' || s[len(s)-3] == ':' && (s[len(s)-6] == '+' || s[len(s)-6] == '-')) {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UTC(), nil
		}
	}
	var layout string
	switch len(s) {
	case 10:
		layout = "2006-01-02"
	case 16:
		layout = "2006-01-02 15:04"
	case 19:
		layout = "2006-01-02 15:04:05"
	default:
		return time.Time{}, fmt.Errorf("%q is not RFC 3339 or YYYY-MM-DD[ HH:MM[:SS]]", s)
	}
	if len(s) > 10 && s[10] == 'T' {
		layout = layout[:10] + "T" + layout[11:]
	}
	t, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not RFC 3339 or YYYY-MM-DD[ HH:MM[:SS]]", s)
	}
	return t.UTC(), nil
}

func parseDate(s string) (time.Time, error) {
	if len(s) > 10 {
		s = s[:10]
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date YYYY-MM-DD", s)
	}
	return t, nil
}

// knownCategory gives the status category of common status names, so a CSV
// source maps without workflow config (config workflow still wins).
func knownCategory(status string) string { return ingest.KnownCategory(status) }

// itemRow is a parsed items.csv row.
type itemRow struct {
	item    ingest.Item
	started time.Time // optional started_at column (exports of other tools)
}

// parseItemRow parses one items.csv record. Rows with an unusable key or
// created_at are rejected (ok false); bad optional values are dropped.
func parseItemRow(h header, rec []string, line int, loc *time.Location) (row itemRow, probs []ingest.Problem, ok bool) {
	bad := func(action, col, reason string) {
		probs = append(probs, ingest.Problem{File: h.file, Line: line, Column: col, Key: h.get(rec, "key"), Reason: reason, Action: action})
	}
	it := &row.item
	it.Key = h.get(rec, "key")
	if it.Key == "" {
		bad(ingest.ProblemRejected, "key", "empty key; row skipped")
		return row, probs, false
	}
	if len(it.Key) > 255 {
		bad(ingest.ProblemRejected, "key", "key longer than 255 characters; row skipped")
		return row, probs, false
	}
	var err error
	it.CreatedAt, err = parseTime(h.get(rec, "created_at"), loc)
	if err != nil {
		bad(ingest.ProblemRejected, "created_at", "created_at "+err.Error()+"; row skipped")
		return row, probs, false
	}
	it.Project = h.get(rec, "project")
	it.Title = h.get(rec, "title")
	it.Type = h.get(rec, "type")
	it.Status = h.get(rec, "status")
	it.Assignee = h.get(rec, "assignee")
	it.Resolution = h.get(rec, "resolution")
	it.Milestone = h.get(rec, "milestone")
	it.Parent = h.get(rec, "parent")
	it.Team = h.get(rec, "team")
	it.WorkClass = strings.ToLower(h.get(rec, "work_class"))
	if it.WorkClass != "" && it.WorkClass != "project" && it.WorkClass != "operational" {
		bad(ingest.ProblemRepaired, "work_class", fmt.Sprintf("work_class %q: want project or operational; ignored", it.WorkClass))
		it.WorkClass = ""
	}
	if s := h.get(rec, "resolved_at"); s != "" {
		if it.ResolvedAt, err = parseTime(s, loc); err != nil {
			bad(ingest.ProblemRepaired, "resolved_at", "resolved_at "+err.Error()+"; ignored")
		}
	}
	if s := h.get(rec, "started_at"); s != "" {
		if row.started, err = parseTime(s, loc); err != nil {
			bad(ingest.ProblemRepaired, "started_at", "started_at "+err.Error()+"; ignored")
		}
	}
	if s := h.get(rec, "due_date"); s != "" {
		if it.DueDate, err = parseDate(s); err != nil {
			bad(ingest.ProblemRepaired, "due_date", "due_date "+err.Error()+"; ignored")
		}
	}
	if s := h.get(rec, "story_points"); s != "" {
		if v, err := strconv.ParseFloat(s, 64); err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			bad(ingest.ProblemRepaired, "story_points", fmt.Sprintf("story_points %q: want a non-negative number; ignored", s))
		} else {
			it.StoryPoints = &v
		}
	}
	if s := h.get(rec, "estimate_hours"); s != "" {
		if v, err := strconv.ParseFloat(s, 64); err != nil || v < 0 || v > 1e6 || math.IsNaN(v) {
			bad(ingest.ProblemRepaired, "estimate_hours", fmt.Sprintf("estimate_hours %q: want hours between 0 and 1e6; ignored", s))
		} else {
			sec := int64(math.Round(v * 3600))
			it.EstimateSeconds = &sec
		}
	}
	if !it.ResolvedAt.IsZero() && it.ResolvedAt.Before(it.CreatedAt) {
		bad(ingest.ProblemNote, "resolved_at", "resolved_at before created_at; kept (negative lead time is listed in data_quality)")
	}
	it.UpdatedAt = it.CreatedAt
	if it.ResolvedAt.After(it.UpdatedAt) {
		it.UpdatedAt = it.ResolvedAt
	}
	if it.Status == "" {
		switch {
		case !it.ResolvedAt.IsZero():
			it.Status = "Done"
		case !row.started.IsZero():
			it.Status = "In Progress"
		default:
			it.Status = "To Do"
		}
	}
	it.StatusCategory = knownCategory(it.Status)
	if !it.ResolvedAt.IsZero() {
		it.StatusCategory = "done"
	}
	return row, probs, true
}

type changeRow struct {
	at       time.Time
	from, to string
	line     int
}

// history builds an item's transitions: from status_changes.csv rows when it
// has any, else synthesized from created_at, started_at and resolved_at.
func history(r itemRow, rows []changeRow) []ingest.Transition {
	it := r.item
	cat := func(s string) string {
		if s == it.Status {
			return it.StatusCategory
		}
		return knownCategory(s)
	}
	if len(rows) > 0 {
		slices.SortStableFunc(rows, func(a, b changeRow) int { return a.at.Compare(b.at) })
		ts := make([]ingest.Transition, 0, len(rows)+1)
		first := rows[0].from
		if first == "" {
			first = "To Do"
		}
		ts = append(ts, ingest.Transition{ItemKey: it.Key, At: it.CreatedAt, To: first, ToCategory: cat(first)})
		for _, c := range rows {
			ts = append(ts, ingest.Transition{ItemKey: it.Key, At: c.at, From: c.from, To: c.to, FromCategory: cat(c.from), ToCategory: cat(c.to)})
		}
		return ts
	}
	done := !it.ResolvedAt.IsZero()
	switch {
	case !done && r.started.IsZero():
		return []ingest.Transition{{ItemKey: it.Key, At: it.CreatedAt, To: it.Status, ToCategory: it.StatusCategory}}
	case !done:
		return []ingest.Transition{
			{ItemKey: it.Key, At: it.CreatedAt, To: "To Do", ToCategory: "new"},
			{ItemKey: it.Key, At: r.started, From: "To Do", To: it.Status, FromCategory: "new", ToCategory: "indeterminate"},
		}
	case r.started.IsZero():
		return []ingest.Transition{
			{ItemKey: it.Key, At: it.CreatedAt, To: "To Do", ToCategory: "new"},
			{ItemKey: it.Key, At: it.ResolvedAt, From: "To Do", To: it.Status, FromCategory: "new", ToCategory: "done"},
		}
	default:
		return []ingest.Transition{
			{ItemKey: it.Key, At: it.CreatedAt, To: "To Do", ToCategory: "new"},
			{ItemKey: it.Key, At: r.started, From: "To Do", To: "In Progress", FromCategory: "new", ToCategory: "indeterminate"},
			{ItemKey: it.Key, At: it.ResolvedAt, From: "In Progress", To: it.Status, FromCategory: "indeterminate", ToCategory: "done"},
		}
	}
}

func (c *Connector) syncFolder(ctx context.Context, cur cursor, emit func(context.Context, ingest.Batch) error) error {
	dir := c.cfg.Path
	// A path naming a file is read as items.csv alone (another tool's export
	// mapped with columns); a folder holds the layout's files.
	paths := map[string]string{}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		paths[fileItems] = dir
	} else {
		for _, name := range layoutFiles {
			paths[name] = filepath.Join(dir, name)
		}
	}
	fp := map[string]string{}
	for _, name := range layoutFiles {
		p, ok := paths[name]
		if !ok {
			continue
		}
		sum, err := hashFile(p)
		if errors.Is(err, os.ErrNotExist) {
			if name == fileItems {
				return fmt.Errorf("csv source %s: %s is required: %w", dir, fileItems, err)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("csv source %s: %w", dir, err)
		}
		fp[name] = sum
	}
	if sameFiles(cur.Files, fp) && cur.Target == nil {
		c.logger.Debug("no file changed", "path", dir)
		return nil
	}
	if ingest.BulkAllowed(ctx) && c.cfg.Location.String() != "Local" {
		files, why, err := prepareBulk(paths, fp, c.cfg.Columns)
		if err != nil {
			return err
		}
		if why == "" {
			first, err := c.firstBatch(paths, fp)
			if err != nil {
				return err
			}
			return c.syncBulk(ctx, files, fp, first, emit)
		}
		c.logger.Info("reading the CSV files row by row", "path", dir, "reason", why)
	}
	skip := 0
	if sameFiles(cur.Target, fp) {
		skip = cur.Done
	}
	progress := cursor{Files: cur.Files, Target: fp}
	loc := c.cfg.Location

	var first ingest.Batch
	if skip == 0 {
		var err error
		if first, err = c.firstBatch(paths, fp); err != nil {
			return err
		}
	}
	changes := map[string][]changeRow{}
	var changeProblems []ingest.Problem
	if fp[fileChanges] != "" {
		var err error
		changes, changeProblems, err = readChanges(paths[fileChanges], loc)
		if err != nil {
			return err
		}
	}
	if skip == 0 {
		first.Problems = append(first.Problems, changeProblems...)
	}

	f, err := os.Open(paths[fileItems])
	if err != nil {
		return fmt.Errorf("csv source: %w", err)
	}
	defer f.Close()
	r, err := openCSV(fileItems, f, []string{"key", "created_at"}, c.cfg.Columns)
	if err != nil {
		return err
	}
	b := first
	b.Items = make([]ingest.Item, 0, c.cfg.BatchItems)
	b.Transitions = make([]ingest.Transition, 0, 3*c.cfg.BatchItems)
	seen := make(map[string]int, 1024)
	people := map[string]bool{} // assignees already sent when there is no people.csv
	n := 0                      // data records read, the resume unit
	flush := func(final bool) error {
		if final {
			b.Cursor = cursor{Files: fp}.encode()
		} else {
			progress.Done = n
			b.Cursor = progress.encode()
		}
		if err := emit(ctx, b); err != nil {
			return err
		}
		b = ingest.Batch{
			Items:       make([]ingest.Item, 0, c.cfg.BatchItems),
			Transitions: make([]ingest.Transition, 0, 3*c.cfg.BatchItems),
		}
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, line, prob, err := r.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		n++
		if n <= skip {
			// Committed by an earlier run: only remember the key, for the
			// duplicate check and for worklogs.csv.
			if rec != nil {
				if row, _, ok := parseItemRow(r.h, rec, line, loc); ok {
					seen[row.item.Key] = line
				}
			}
			continue
		}
		if prob != nil {
			b.Problems = append(b.Problems, *prob)
			if rec == nil {
				continue
			}
		}
		row, probs, ok := parseItemRow(r.h, rec, line, loc)
		b.Problems = append(b.Problems, probs...)
		if !ok {
			continue
		}
		if prev, dup := seen[row.item.Key]; dup {
			b.Problems = append(b.Problems, ingest.Problem{File: fileItems, Line: line, Column: "key", Key: row.item.Key,
				Reason: fmt.Sprintf("duplicate key (first on line %d); this later row wins", prev), Action: ingest.ProblemRejected})
			// Drop the earlier row if this batch holds it: an item and its
			// history appear once per batch.
			b.Items = slices.DeleteFunc(b.Items, func(it ingest.Item) bool { return it.Key == row.item.Key })
			b.Transitions = slices.DeleteFunc(b.Transitions, func(t ingest.Transition) bool { return t.ItemKey == row.item.Key })
		}
		seen[row.item.Key] = line
		b.Items = append(b.Items, row.item)
		b.Transitions = append(b.Transitions, history(row, changes[row.item.Key])...)
		if row.item.Assignee != "" && fp[filePeople] == "" && !people[row.item.Assignee] {
			people[row.item.Assignee] = true
			b.People = append(b.People, ingest.Person{ExternalID: row.item.Assignee, Email: emailOf(row.item.Assignee), DisplayName: row.item.Assignee})
		}
		if len(b.Items) >= c.cfg.BatchItems {
			if err := flush(false); err != nil {
				return err
			}
		}
	}
	for _, key := range slices.Sorted(mapKeysRows(changes)) {
		rows := changes[key]
		if _, ok := seen[key]; !ok {
			b.Problems = append(b.Problems, ingest.Problem{File: fileChanges, Line: rows[0].line, Column: "key", Key: key,
				Reason: "status changes for a key that is not in items.csv; ignored", Action: ingest.ProblemRejected})
		}
	}
	if fp[fileWorklogs] != "" {
		if err := c.readWorklogs(ctx, paths[fileWorklogs], seen, &b, flush); err != nil {
			return err
		}
	}
	c.logger.Debug("read folder", "path", dir, "items", len(seen))
	return flush(true)
}

// firstBatch starts an import afresh: every file is re-read, the batch is
// a snapshot (what the source stored before is replaced by what the files
// say now) and the small files (people, time off, milestones) come first.
func (c *Connector) firstBatch(paths, fp map[string]string) (ingest.Batch, error) {
	b := ingest.Batch{Reread: slices.Sorted(keys(fp)), Snapshot: true}
	for _, name := range []string{filePeople, fileTimeOff, fileMilestone} {
		if fp[name] == "" {
			continue
		}
		if err := c.readSmall(paths[name], name, &b); err != nil {
			return b, err
		}
	}
	return b, nil
}

func emailOf(s string) string {
	if strings.Contains(s, "@") {
		return s
	}
	return ""
}

func keys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func sameFiles(a, b map[string]string) bool {
	if a == nil || len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func readChanges(path string, loc *time.Location) (map[string][]changeRow, []ingest.Problem, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("csv source: %w", err)
	}
	defer f.Close()
	r, err := openCSV(fileChanges, f, []string{"key", "changed_at", "to_status"}, nil)
	if err != nil {
		return nil, nil, err
	}
	out := map[string][]changeRow{}
	var probs []ingest.Problem
	for {
		rec, line, prob, err := r.next()
		if err == io.EOF {
			return out, probs, nil
		}
		if err != nil {
			return nil, nil, err
		}
		if prob != nil {
			probs = append(probs, *prob)
			if rec == nil {
				continue
			}
		}
		key := r.h.get(rec, "key")
		to := r.h.get(rec, "to_status")
		at, err := parseTime(r.h.get(rec, "changed_at"), loc)
		switch {
		case key == "":
			probs = append(probs, ingest.Problem{File: fileChanges, Line: line, Column: "key", Reason: "empty key; row skipped", Action: ingest.ProblemRejected})
			continue
		case err != nil:
			probs = append(probs, ingest.Problem{File: fileChanges, Line: line, Column: "changed_at", Key: key, Reason: "changed_at " + err.Error() + "; row skipped", Action: ingest.ProblemRejected})
			continue
		case to == "":
			probs = append(probs, ingest.Problem{File: fileChanges, Line: line, Column: "to_status", Key: key, Reason: "empty to_status; row skipped", Action: ingest.ProblemRejected})
			continue
		}
		out[key] = append(out[key], changeRow{at: at, from: r.h.get(rec, "from_status"), to: to, line: line})
	}
}

// readSmall reads people.csv, time_off.csv or milestones.csv into b.
func (c *Connector) readSmall(path, name string, b *ingest.Batch) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("csv source: %w", err)
	}
	defer f.Close()
	required := map[string][]string{
		filePeople:    {"person"},
		fileTimeOff:   {"person", "date", "hours"},
		fileMilestone: {"name"},
	}[name]
	r, err := openCSV(name, f, required, nil)
	if err != nil {
		return err
	}
	for {
		rec, line, prob, err := r.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if prob != nil {
			b.Problems = append(b.Problems, *prob)
			if rec == nil {
				continue
			}
		}
		bad := func(action, col, reason string) {
			b.Problems = append(b.Problems, ingest.Problem{File: name, Line: line, Column: col, Reason: reason, Action: action})
		}
		switch name {
		case filePeople:
			p := ingest.Person{ExternalID: r.h.get(rec, "person"), Email: r.h.get(rec, "email"), Team: r.h.get(rec, "team")}
			if p.ExternalID == "" {
				bad(ingest.ProblemRejected, "person", "empty person; row skipped")
				continue
			}
			p.DisplayName = p.ExternalID
			if p.Email == "" {
				p.Email = emailOf(p.ExternalID)
			}
			if s := r.h.get(rec, "hours_per_week"); s != "" {
				v, err := strconv.ParseFloat(s, 64)
				if err != nil || v < 0 || v > 168 {
					bad(ingest.ProblemRepaired, "hours_per_week", fmt.Sprintf("hours_per_week %q: want 0..168; team default used", s))
				} else {
					p.HoursPerWeek = &v
				}
			}
			b.People = append(b.People, p)
		case fileTimeOff:
			d, err := parseDate(r.h.get(rec, "date"))
			if err != nil {
				bad(ingest.ProblemRejected, "date", "date "+err.Error()+"; row skipped")
				continue
			}
			h, err := strconv.ParseFloat(r.h.get(rec, "hours"), 64)
			if err != nil || h < 0 || h > 24 {
				bad(ingest.ProblemRejected, "hours", fmt.Sprintf("hours %q: want 0..24; row skipped", r.h.get(rec, "hours")))
				continue
			}
			b.TimeOff = append(b.TimeOff, ingest.TimeOff{Person: r.h.get(rec, "person"), Date: d, Hours: h})
		case fileMilestone:
			m := ingest.Milestone{Name: r.h.get(rec, "name"), Project: r.h.get(rec, "project")}
			if m.Name == "" {
				bad(ingest.ProblemRejected, "name", "empty name; row skipped")
				continue
			}
			for _, d := range []struct {
				col string
				dst *time.Time
			}{{"start_date", &m.StartDate}, {"due_date", &m.DueDate}, {"baseline_due_date", &m.BaselineDueDate}} {
				if s := r.h.get(rec, d.col); s != "" {
					if *d.dst, err = parseDate(s); err != nil {
						bad(ingest.ProblemRepaired, d.col, d.col+" "+err.Error()+"; ignored")
					}
				}
			}
			if s := r.h.get(rec, "completed_at"); s != "" {
				if m.CompletedAt, err = parseTime(s, c.cfg.Location); err != nil {
					bad(ingest.ProblemRepaired, "completed_at", "completed_at "+err.Error()+"; ignored")
				}
				m.Released = !m.CompletedAt.IsZero()
			}
			b.Milestones = append(b.Milestones, m)
		}
	}
}

func (c *Connector) readWorklogs(ctx context.Context, path string, items map[string]int, b *ingest.Batch, flush func(bool) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("csv source: %w", err)
	}
	defer f.Close()
	r, err := openCSV(fileWorklogs, f, []string{"key", "started_at", "hours"}, nil)
	if err != nil {
		return err
	}
	occurrences := map[string]int{}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, line, prob, err := r.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if prob != nil {
			b.Problems = append(b.Problems, *prob)
			if rec == nil {
				continue
			}
		}
		key, person := r.h.get(rec, "key"), r.h.get(rec, "person")
		bad := func(action, col, reason string) {
			b.Problems = append(b.Problems, ingest.Problem{File: fileWorklogs, Line: line, Column: col, Key: key, Reason: reason, Action: action})
		}
		if _, ok := items[key]; !ok {
			bad(ingest.ProblemRejected, "key", "worklog for a key that is not in items.csv; row skipped")
			continue
		}
		started, err := parseTime(r.h.get(rec, "started_at"), c.cfg.Location)
		if err != nil {
			bad(ingest.ProblemRejected, "started_at", "started_at "+err.Error()+"; row skipped")
			continue
		}
		// The duration rule of every connector (ingest.WorklogRule) applies
		// to the whole seconds stored; a string that is not a number breaks it too.
		hours, err := strconv.ParseFloat(r.h.get(rec, "hours"), 64)
		seconds := int64(math.Round(hours * 3600))
		if err != nil || math.IsNaN(hours) || math.IsInf(hours, 0) {
			seconds = 0
		}
		if why := ingest.WorklogRule(seconds); why != "" {
			bad(ingest.ProblemRejected, "hours", fmt.Sprintf("hours %q: %s; row skipped", r.h.get(rec, "hours"), why))
			continue
		}
		base := key + "#" + person + "#" + started.Format(time.RFC3339)
		occurrences[base]++
		id := base
		if n := occurrences[base]; n > 1 {
			id += "#" + strconv.Itoa(n)
		}
		b.Worklogs = append(b.Worklogs, ingest.Worklog{ID: id, ItemKey: key, Person: person, StartedAt: started, Seconds: seconds})
		if len(b.Worklogs) >= 4*c.cfg.BatchItems {
			if err := flush(false); err != nil {
				return err
			}
		}
	}
}

func mapKeysRows(m map[string][]changeRow) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
