package warehouse

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/throughline/throughline/ingest"
)

// The CSV bulk path: a connector describes the large files of a folder in
// Throughline's CSV layout (ingest.CSVFile: where each canonical column
// is, what a byte-level scan found) and the warehouse reads them with
// DuckDB's read_csv and applies, in SQL, the rules the CSV connector's
// row-by-row path applies in Go (parseItemRow, readChanges, history,
// readWorklogs): the same rows, the same problems with the same lines.
// The statements fill the temporary tables of a Bulk hand-over
// (ingest.Bulk); they run before the batch's transaction.

// csvFile is one described file.
type csvFile struct{ ingest.CSVFile }

// col is the SQL of a canonical column's trimmed value, NULL when empty
// or absent. Only columns where the scan saw padding are trimmed (trimming
// every column of a million rows costs more than reading them).
func (f csvFile) col(name string) string {
	i, ok := f.Columns[name]
	if !ok || i >= f.Fields {
		return "NULL::VARCHAR"
	}
	if i < len(f.Padded) && f.Padded[i] {
		return fmt.Sprintf("nullif(trim(c%d, %s), '')", i, spaceChars)
	}
	return fmt.Sprintf("c%d", i)
}

// spaceChars are the characters strings.TrimSpace removes, as a SQL literal.
var spaceChars = func() string {
	var b strings.Builder
	b.WriteString("''")
	for _, r := range []rune{'\t', '\n', '\v', '\f', '\r', ' ', 0x85, 0xA0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004,
		0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000} {
		fmt.Fprintf(&b, " || chr(%d)", r)
	}
	return b.String()
}()

// from is the read_csv call of the file, every field a VARCHAR named c<i>.
func (f csvFile) from() string {
	cols := make([]string, f.Fields)
	for i := range cols {
		cols[i] = fmt.Sprintf("'c%d': 'VARCHAR'", i)
	}
	maxLine := max(2_000_000, f.MaxRecord+1024)
	return fmt.Sprintf(`read_csv(%s, header = false, skip = %d, auto_detect = false, delim = ',', quote = '"', escape = '"',
		strict_mode = true, columns = {%s}, max_line_size = %d, buffer_size = %d)`,
		quote(f.Path), f.HeaderLines, strings.Join(cols, ", "), maxLine, max(32<<20, 4*maxLine))
}

// numbered is the SQL of the view bulk_numbered_<what>: the rows of
// bulk_parsed_<what> with their record number (rec, from 0) and line.
// Rowids count the records in file order from a base (large inside a
// transaction).
func numbered(what string, f csvFile) string {
	return fmt.Sprintf(`CREATE OR REPLACE TEMP VIEW bulk_numbered_%[1]s AS SELECT r.rowid - b.base AS rec, %[2]s AS line, r.*
		FROM temp.main.bulk_parsed_%[1]s r, (SELECT min(rowid) AS base FROM temp.main.bulk_parsed_%[1]s) b`, what, f.line())
}

// line is the SQL of the line record r starts on (r.rowid - b.base is
// the record number).
func (f csvFile) line() string {
	if f.Lines != nil {
		return fmt.Sprintf("(SELECT line FROM temp.main.bulk_lines l WHERE l.file = %s AND l.rec = r.rowid - b.base)", quote(f.Name))
	}
	return fmt.Sprintf("CAST(%d + r.rowid - b.base AS INTEGER)", f.HeaderLines+1)
}

// sqlQ is the SQL of Go's %q of a string column (quotes and backslashes
// escaped; enough for the values problems quote).
func sqlQ(col string) string {
	return `'"' || replace(replace(coalesce(` + col + `, ''), '\', '\\'), '"', '\"') || '"'`
}

// sqlTime is the SQL of the CSV connector's parseTime: RFC 3339, or a zone-less
// YYYY-MM-DD[ HH:MM[:SS]] (T allowed) in zone; NULL when unreadable.
func sqlTime(col, zone string) string {
	z := quote(zone)
	return fmt.Sprintf(`CASE
		WHEN length(%[1]s) >= 20 AND (right(%[1]s, 1) = 'Z' OR (substr(%[1]s, -3, 1) = ':' AND substr(%[1]s, -6, 1) IN ('+', '-')))
			AND substr(%[1]s, 11, 1) = 'T' THEN try_cast(%[1]s AS TIMESTAMPTZ)
		WHEN length(%[1]s) = 10 THEN timezone(%[2]s, try_strptime(%[1]s, '%%Y-%%m-%%d'))
		WHEN length(%[1]s) = 16 AND substr(%[1]s, 11, 1) IN (' ', 'T') THEN timezone(%[2]s, try_strptime(%[1]s[1:10] || ' ' || %[1]s[12:], '%%Y-%%m-%%d %%H:%%M'))
		WHEN length(%[1]s) = 19 AND substr(%[1]s, 11, 1) IN (' ', 'T') THEN timezone(%[2]s, try_strptime(%[1]s[1:10] || ' ' || %[1]s[12:], '%%Y-%%m-%%d %%H:%%M:%%S'))
		END`, col, z)
}

// sqlNumber is the SQL of strconv.ParseFloat of a column: NULL when
// unreadable. (Both accept "1e3", "inf", "NaN" and digits separated by
// underscores; ParseFloat's hexadecimal floats are not read.)
func sqlNumber(col string) string {
	return fmt.Sprintf("try_cast(%s AS DOUBLE)", col)
}

// categoriesTable is the statement creating bulk_categories(name,
// category): ingest.KnownCategory's names, lower-case. Lookups join it
// (a CASE over the names, inlined into expressions that repeat their
// operand, cost seconds).
func categoriesTable() string {
	cats := ingest.KnownCategories()
	var rows []string
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for n := range cats {
			if !yield(n) {
				return
			}
		}
	}) {
		rows = append(rows, "("+quote(name)+", "+quote(cats[name])+")")
	}
	return "CREATE OR REPLACE TEMP TABLE bulk_categories AS SELECT * FROM (VALUES " + strings.Join(rows, ", ") + ") t(name, category)"
}

const timeReason = ` is not RFC 3339 or YYYY-MM-DD[ HH:MM[:SS]]`

// worklogOK is ingest.WorklogRule in SQL, over the whole seconds (NULL when
// the hours are not a finite number).
var worklogOK = fmt.Sprintf("coalesce(seconds > 0 AND seconds <= %d, false)", ingest.MaxWorklogSeconds)

// csvStatements is the SQL of the import of a CSV folder's files (see
// ingest.Bulk for the tables it leaves, and bulk_fingerprints below).
// people: whether assignees become people (no people.csv).
func csvStatements(files []ingest.CSVFile, zone string, people bool) []string {
	byName := map[string]csvFile{}
	for _, f := range files {
		byName[f.Name] = csvFile{f}
	}
	items := byName[ingest.CSVItems]
	var st []string
	add := func(format string, args ...any) { st = append(st, fmt.Sprintf(format, args...)) }

	// items.csv: one statement reads and parses (the table keeps file
	// order: rowid - base is the record number, see numbered).
	// The raw text of a parsed column is kept only where it did not parse
	// (for the problem's message): narrower rows are quicker to write.
	// Only the reads keep file order (numbered): the rest runs in parallel.
	st = append(st, "SET SESSION preserve_insertion_order = true")
	add(`CREATE OR REPLACE TEMP TABLE bulk_parsed_items AS SELECT * REPLACE (
			CASE WHEN created_at IS NULL THEN created_s END AS created_s,
			CASE WHEN resolved_at IS NULL THEN resolved_s END AS resolved_s,
			CASE WHEN started_at IS NULL THEN started_s END AS started_s,
			CASE WHEN due_date IS NULL THEN due_s END AS due_s,
			CASE WHEN sp IS NULL OR sp < 0 OR isnan(sp) OR isinf(sp) THEN sp_s END AS sp_s,
			CASE WHEN est IS NULL OR est < 0 OR est > 1e6 OR isnan(est) THEN est_s END AS est_s),
		key <> '' AND strlen(key) <= 255 AND created_at IS NOT NULL AS ok
		FROM (SELECT *, %s AS created_at, %s AS resolved_at, %s AS started_at,
			CASE WHEN length(due_s) >= 10 THEN try_strptime(left(due_s, 10), '%%Y-%%m-%%d')::DATE END AS due_date,
			%s AS sp, %s AS est
			FROM (SELECT coalesce(%s, '') AS key, %s AS project, %s AS title, %s AS type, %s AS status, %s AS assignee, %s AS created_s,
				%s AS resolved_s, %s AS resolution, %s AS due_s, %s AS sp_s, %s AS est_s, %s AS milestone, %s AS parent, %s AS team,
				lower(%s) AS work_class, %s AS started_s FROM %s))`,
		sqlTime("created_s", zone), sqlTime("resolved_s", zone), sqlTime("started_s", zone), sqlNumber("sp_s"), sqlNumber("est_s"),
		items.col("key"), items.col("project"), items.col("title"), items.col("type"), items.col("status"), items.col("assignee"),
		items.col("created_at"), items.col("resolved_at"), items.col("resolution"), items.col("due_date"), items.col("story_points"),
		items.col("estimate_hours"), items.col("milestone"), items.col("parent"), items.col("team"), items.col("work_class"),
		items.col("started_at"), items.from())
	st = append(st, "RESET SESSION preserve_insertion_order", numbered("items", items))
	// Keys that occur more than once are rare: only their rows go through
	// the windows (which sort).
	add(`CREATE OR REPLACE TEMP TABLE bulk_dup_rows AS
		WITH dup AS (SELECT key FROM temp.main.bulk_parsed_items WHERE ok GROUP BY key HAVING count(*) > 1)
		SELECT rec, key, lag(line) OVER (PARTITION BY key ORDER BY rec) AS prev_line, row_number() OVER (PARTITION BY key ORDER BY rec DESC) = 1 AS wins
		FROM temp.main.bulk_numbered_items WHERE ok AND key IN (SELECT key FROM dup)`)
	f := quote(ingest.CSVItems)
	add(`CREATE OR REPLACE TEMP TABLE bulk_problems AS
		SELECT %[1]s AS file, line, 'key' AS col, '' AS key, 'empty key; row skipped' AS reason, 'rejected' AS action FROM temp.main.bulk_numbered_items WHERE key = ''
		UNION ALL SELECT %[1]s, line, 'key', key, 'key longer than 255 characters; row skipped', 'rejected' FROM temp.main.bulk_numbered_items WHERE strlen(key) > 255
		UNION ALL SELECT %[1]s, line, 'created_at', key, 'created_at ' || %[2]s || '%[3]s; row skipped', 'rejected' FROM temp.main.bulk_numbered_items
			WHERE key <> '' AND strlen(key) <= 255 AND created_at IS NULL
		UNION ALL SELECT %[1]s, line, 'work_class', key, 'work_class ' || %[4]s || ': want project or operational; ignored', 'repaired' FROM temp.main.bulk_numbered_items
			WHERE ok AND work_class NOT IN ('', 'project', 'operational')
		UNION ALL SELECT %[1]s, line, 'resolved_at', key, 'resolved_at ' || %[5]s || '%[3]s; ignored', 'repaired' FROM temp.main.bulk_numbered_items
			WHERE ok AND resolved_s <> '' AND resolved_at IS NULL
		UNION ALL SELECT %[1]s, line, 'started_at', key, 'started_at ' || %[6]s || '%[3]s; ignored', 'repaired' FROM temp.main.bulk_numbered_items
			WHERE ok AND started_s <> '' AND started_at IS NULL
		UNION ALL SELECT %[1]s, line, 'due_date', key, 'due_date ' || %[7]s || ' is not a date YYYY-MM-DD; ignored', 'repaired' FROM temp.main.bulk_numbered_items
			WHERE ok AND due_s <> '' AND due_date IS NULL
		UNION ALL SELECT %[1]s, line, 'story_points', key, 'story_points ' || %[8]s || ': want a non-negative number; ignored', 'repaired' FROM temp.main.bulk_numbered_items
			WHERE ok AND sp_s <> '' AND (sp IS NULL OR sp < 0 OR isnan(sp) OR isinf(sp))
		UNION ALL SELECT %[1]s, line, 'estimate_hours', key, 'estimate_hours ' || %[9]s || ': want hours between 0 and 1e6; ignored', 'repaired' FROM temp.main.bulk_numbered_items
			WHERE ok AND est_s <> '' AND (est IS NULL OR est < 0 OR est > 1e6 OR isnan(est))
		UNION ALL SELECT %[1]s, line, 'resolved_at', key, 'resolved_at before created_at; kept (negative lead time is listed in data_quality)', 'note'
			FROM temp.main.bulk_numbered_items WHERE ok AND resolved_at < created_at
		UNION ALL SELECT %[1]s, n.line, 'key', n.key, 'duplicate key (first on line ' || d.prev_line || '); this later row wins', 'rejected'
			FROM temp.main.bulk_dup_rows d JOIN temp.main.bulk_numbered_items n USING (rec) WHERE d.prev_line IS NOT NULL`,
		f, sqlQ("created_s"), timeReason, sqlQ("work_class"), sqlQ("resolved_s"), sqlQ("started_s"), sqlQ("left(due_s, 10)"), sqlQ("sp_s"), sqlQ("est_s"))
	status := `CASE WHEN status <> '' THEN status WHEN resolved_at IS NOT NULL THEN 'Done' WHEN started_at IS NOT NULL THEN 'In Progress' ELSE 'To Do' END`
	// bulk_items is a table: the histories, the worklogs and the store read
	// it four times (as a view, each read redid the duplicate and category
	// joins). bulk_transitions is a view: written once, into status_changes.
	st = append(st, categoriesTable())
	add(`CREATE OR REPLACE TEMP TABLE bulk_items AS SELECT key, project, title, type, status,
		CASE WHEN resolved_at IS NOT NULL THEN 'done' ELSE coalesce(k.category, '') END AS status_category,
		assignee, resolution, milestone, parent, team,
		CASE WHEN work_class IN ('project', 'operational') THEN work_class END AS work_class,
		created_at, resolved_at, greatest(created_at, coalesce(resolved_at, created_at)) AS updated_at, due_date,
		CASE WHEN sp >= 0 AND NOT isinf(sp) THEN sp END AS story_points,
		CASE WHEN est >= 0 AND est <= 1e6 THEN CAST(round(est * 3600) AS BIGINT) END AS estimate_seconds,
		started_at
		FROM (SELECT * REPLACE (%s AS status) FROM (
			SELECT * FROM temp.main.bulk_parsed_items p WHERE ok AND NOT EXISTS (SELECT 1 FROM temp.main.bulk_dup_rows d WHERE d.key = p.key)
			UNION ALL
			SELECT n.* EXCLUDE (rec, line) FROM temp.main.bulk_numbered_items n JOIN temp.main.bulk_dup_rows d ON d.rec = n.rec AND d.wins)) x
		LEFT JOIN temp.main.bulk_categories k ON k.name = lower(trim(x.status))`,
		status)

	// status_changes.csv: valid rows, problems, histories.
	ch, hasChanges := byName[ingest.CSVChanges]
	if hasChanges {
		// As for items: the raw time is kept only where it did not parse.
		st = append(st, "SET SESSION preserve_insertion_order = true")
		add(`CREATE OR REPLACE TEMP TABLE bulk_parsed_changes AS SELECT * REPLACE (CASE WHEN changed_at IS NULL THEN changed_s END AS changed_s)
			FROM (SELECT *, %s AS changed_at FROM (
			SELECT coalesce(%s, '') AS key, %s AS changed_s, %s AS from_status, coalesce(%s, '') AS to_status FROM %s))`,
			sqlTime("changed_s", zone), ch.col("key"), ch.col("changed_at"), ch.col("from_status"), ch.col("to_status"), ch.from())
		st = append(st, "RESET SESSION preserve_insertion_order", numbered("changes", ch))
		f := quote(ingest.CSVChanges)
		// The keys that have valid changes (for the keys missing from
		// items.csv, and for the items that get a synthesized history),
		// with what their history is built from (fingerprints). o makes
		// the fingerprint depend on the order of the key's rows in the
		// file (changes at the same time keep it): the sum of each row's
		// hash times its distance from the key's first row, from plain
		// sums (no window).
		add(`CREATE OR REPLACE TEMP TABLE bulk_change_keys AS
			SELECT key, count(*) AS n, sum(h) AS s, sum(h * r) - min(r) * sum(h) AS o
			FROM (SELECT key, hash(changed_at, from_status, to_status) AS h, rowid - (SELECT min(rowid) FROM temp.main.bulk_parsed_changes) AS r
				FROM temp.main.bulk_parsed_changes WHERE %s)
			GROUP BY key`, validChange)
		// Keys missing from items.csv: the set difference of the keys
		// first, then their rows (an anti join of every change with the
		// items, then grouped, took 1.2-1.9 s at 10M changes; the set
		// difference of the distinct keys 1.0-1.1 s; 0.24-0.26 s from
		// bulk_change_keys).
		add(`INSERT INTO temp.main.bulk_problems
			SELECT %[1]s, line, 'key', '', 'empty key; row skipped', 'rejected' FROM temp.main.bulk_numbered_changes WHERE key = ''
			UNION ALL SELECT %[1]s, line, 'changed_at', key, 'changed_at ' || %[2]s || '%[3]s; row skipped', 'rejected' FROM temp.main.bulk_numbered_changes
				WHERE key <> '' AND changed_at IS NULL
			UNION ALL SELECT %[1]s, line, 'to_status', key, 'empty to_status; row skipped', 'rejected' FROM temp.main.bulk_numbered_changes
				WHERE key <> '' AND changed_at IS NOT NULL AND to_status = ''
			UNION ALL SELECT %[1]s, min(line), 'key', key, 'status changes for a key that is not in items.csv; ignored', 'rejected' FROM temp.main.bulk_numbered_changes c
				WHERE key IN (SELECT key FROM temp.main.bulk_change_keys EXCEPT SELECT key FROM temp.main.bulk_items)
				AND changed_at IS NOT NULL AND to_status <> ''
				GROUP BY key`,
			f, sqlQ("changed_s"), timeReason)
		st = append(st, statusCategories)
	} else {
		add(`CREATE OR REPLACE TEMP TABLE bulk_change_keys (key VARCHAR, n BIGINT, s HUGEINT, o HUGEINT)`)
	}
	add(`CREATE OR REPLACE TEMP VIEW bulk_transitions AS %s`, csvHistories(hasChanges, ""))
	// The fingerprint of each item's history: its inputs (the columns of
	// the item that csvHistories reads, its changes) and the rules
	// (historyRules).
	add(`CREATE OR REPLACE TEMP TABLE bulk_fingerprints AS
		SELECT i.key, hash(%s, i.status, i.status_category, i.created_at, i.started_at, i.resolved_at, c.n, c.s, c.o) AS fingerprint
		FROM temp.main.bulk_items i LEFT JOIN temp.main.bulk_change_keys c ON c.key = i.key`, quote(historyRules(hasChanges)))
	// The sums are no longer needed: the keys alone stay in memory while
	// the histories are written (900,000 keys with changes: 58 MB of
	// DuckDB's memory with the sums, 14 MB without, duckdb_memory()).
	add(`CREATE OR REPLACE TEMP TABLE bulk_change_keys AS SELECT key FROM temp.main.bulk_change_keys`)

	// worklogs.csv.
	if wl, ok := byName[ingest.CSVWorklogs]; ok {
		st = append(st, "SET SESSION preserve_insertion_order = true")
		add(`CREATE OR REPLACE TEMP TABLE bulk_parsed_worklogs AS SELECT *, %s AS started_at, try_cast(round(%s * 3600) AS BIGINT) AS seconds,
			EXISTS (SELECT 1 FROM temp.main.bulk_items i WHERE i.key = r.key) AS known FROM (
			SELECT %s AS key, %s AS person, %s AS started_s, %s AS hours_s FROM %s) r`,
			sqlTime("started_s", zone), sqlNumber("hours_s"), wl.col("key"), wl.col("person"), wl.col("started_at"), wl.col("hours"), wl.from())
		st = append(st, "RESET SESSION preserve_insertion_order", numbered("worklogs", wl))
		f := quote(ingest.CSVWorklogs)
		add(`INSERT INTO temp.main.bulk_problems
			SELECT %[1]s, line, 'key', key, 'worklog for a key that is not in items.csv; row skipped', 'rejected' FROM temp.main.bulk_numbered_worklogs WHERE NOT known
			UNION ALL SELECT %[1]s, line, 'started_at', key, 'started_at ' || %[2]s || '%[3]s; row skipped', 'rejected' FROM temp.main.bulk_numbered_worklogs
				WHERE known AND started_at IS NULL
			UNION ALL SELECT %[1]s, line, 'hours', key, 'hours ' || %[4]s || ': %[5]s; row skipped', 'rejected' FROM temp.main.bulk_numbered_worklogs
				WHERE known AND started_at IS NOT NULL AND NOT %[6]s`,
			f, sqlQ("started_s"), timeReason, sqlQ("hours_s"), ingest.WorklogRule(0), worklogOK)
		add(`CREATE OR REPLACE TEMP TABLE bulk_worklogs AS
			SELECT base || CASE WHEN n > 1 THEN '#' || n ELSE '' END AS id, key, person, started_at, seconds FROM (
				SELECT key, person, started_at, seconds, base,
					row_number() OVER (PARTITION BY base ORDER BY rec) AS n
				FROM (SELECT *, key || '#' || coalesce(person, '') || '#' || strftime(timezone('UTC', started_at), '%%Y-%%m-%%dT%%H:%%M:%%SZ') AS base
					FROM temp.main.bulk_numbered_worklogs WHERE known AND started_at IS NOT NULL AND %s))`, worklogOK)
	} else {
		add(`CREATE OR REPLACE TEMP TABLE bulk_worklogs (id VARCHAR, key VARCHAR, person VARCHAR, started_at TIMESTAMPTZ, seconds BIGINT)`)
	}
	if people {
		add(`CREATE OR REPLACE TEMP TABLE bulk_people AS SELECT DISTINCT assignee AS external_id,
			CASE WHEN contains(assignee, '@') THEN assignee ELSE '' END AS email, assignee AS display_name
			FROM temp.main.bulk_parsed_items WHERE ok AND assignee <> ''`)
	} else {
		add(`CREATE OR REPLACE TEMP TABLE bulk_people (external_id VARCHAR, email VARCHAR, display_name VARCHAR)`)
	}
	return st
}

// validChange is the SQL condition of a row of bulk_parsed_changes that
// makes a status change.
const validChange = `key <> '' AND changed_at IS NOT NULL AND to_status <> ''`

// statusCategories is the statement creating bulk_status_categories: the
// category of each status that status_changes.csv names, looked up once
// per distinct status (lower and trim of 20M strings, once per change:
// 1.4 s).
const statusCategories = `CREATE OR REPLACE TEMP TABLE bulk_status_categories AS SELECT s.status, k.category
	FROM (SELECT from_status AS status FROM temp.main.bulk_parsed_changes UNION SELECT to_status FROM temp.main.bulk_parsed_changes) s
	JOIN temp.main.bulk_categories k ON k.name = lower(trim(s.status))`

// csvHistories is the SQL of the items' histories, the columns of
// bulk_transitions: of every item of bulk_items, or, when keys (a SELECT
// of keys) is given, of those items only (the store rebuilds the
// histories whose fingerprint changed). changes: status_changes.csv was
// read (bulk_parsed_changes).
//
// Each item's valid changes are numbered by time (seq from 1); the first
// also gives the creation transition before it (seq 0), to the first
// change's from_status, else "To Do" (category: the item's own when that
// is its status). Items without status_changes rows get 1 to 3
// synthesized transitions (history): one pass, each item crossed with
// seq 0..2.
//
// The window sorts the narrow rows of the file (key, time, statuses,
// record); the items and categories are joined to its output (joined
// before it, every row carried them through the sort: at 10M changes that
// spilled to disk). Changes at the same time keep the file's order:
// rowid, not the record number of bulk_numbered_changes, whose base is a
// cross product (1.4 s of the 7.2 s this statement took at 10M changes).
// The view is read once by the insert into status_changes; as a temporary
// table of every change, writing it cost more than the window (at 10M
// changes 3.8-4.8 s, against 2.5 s more for the insert). A key filter is
// applied before the window: DuckDB does not push one through it.
func csvHistories(changes bool, keys string) string {
	only := ""
	if keys != "" {
		only = " AND key IN (" + keys + ")"
	}
	var b strings.Builder
	if changes {
		fmt.Fprintf(&b, `SELECT key, CASE WHEN n = 0 THEN 0 ELSE CAST(seq AS INTEGER) END AS seq,
			CASE WHEN n = 0 THEN created_at ELSE changed_at END AS changed_at,
			CASE WHEN n = 0 THEN NULL ELSE from_status END AS from_status,
			CASE WHEN n = 0 THEN first_status ELSE to_status END AS to_status,
			CASE WHEN n = 0 THEN NULL ELSE from_category END AS from_category,
			CASE WHEN n = 0 THEN first_category ELSE to_category END AS to_category
		FROM (SELECT *, unnest(CASE WHEN seq = 1 THEN [0, 1] ELSE [1] END) AS n FROM (
			SELECT key, seq, changed_at, from_status, to_status, from_category, to_category, created_at,
				CASE WHEN seq = 1 THEN CASE WHEN from_status <> '' THEN from_status ELSE 'To Do' END END AS first_status,
				CASE WHEN seq = 1 THEN CASE WHEN from_status <> '' THEN from_category WHEN item_status = 'To Do' THEN item_category ELSE %[1]s END END AS first_category
			FROM (
				SELECT c.key, c.seq, c.changed_at, c.from_status, c.to_status, i.status AS item_status, i.status_category AS item_category, i.created_at,
					CASE WHEN c.from_status = i.status THEN i.status_category ELSE coalesce(fk.category, '') END AS from_category,
					CASE WHEN c.to_status = i.status THEN i.status_category ELSE coalesce(tk.category, '') END AS to_category
				FROM (SELECT key, changed_at, from_status, to_status, row_number() OVER (PARTITION BY key ORDER BY changed_at, rowid) AS seq
					FROM temp.main.bulk_parsed_changes WHERE %[2]s%[3]s) c
				JOIN temp.main.bulk_items i ON i.key = c.key
				LEFT JOIN temp.main.bulk_status_categories fk ON fk.status = c.from_status
				LEFT JOIN temp.main.bulk_status_categories tk ON tk.status = c.to_status)))
		UNION ALL `, quote(ingest.KnownCategory("To Do")), validChange, only)
	}
	fmt.Fprintf(&b, `SELECT key, CAST(n AS INTEGER) AS seq,
			CASE WHEN n = 0 THEN created_at WHEN n = 1 AND started_at IS NOT NULL THEN started_at ELSE resolved_at END AS changed_at,
			CASE WHEN n = 0 THEN NULL WHEN n = 1 THEN 'To Do' ELSE 'In Progress' END AS from_status,
			CASE WHEN n = 0 AND started_at IS NULL AND resolved_at IS NULL THEN status WHEN n = 0 THEN 'To Do'
				WHEN n = 1 AND started_at IS NOT NULL AND resolved_at IS NOT NULL THEN 'In Progress' ELSE status END AS to_status,
			CASE WHEN n = 0 THEN NULL WHEN n = 1 THEN 'new' ELSE 'indeterminate' END AS from_category,
			CASE WHEN n = 0 AND started_at IS NULL AND resolved_at IS NULL THEN status_category WHEN n = 0 THEN 'new'
				WHEN n = 1 AND started_at IS NOT NULL THEN 'indeterminate' ELSE 'done' END AS to_category
		FROM (SELECT * FROM temp.main.bulk_items i WHERE NOT EXISTS (SELECT 1 FROM temp.main.bulk_change_keys c WHERE c.key = i.key)%s) i,
			(VALUES (0), (1), (2)) s(n)
		WHERE n = 0 OR (n = 1 AND (started_at IS NOT NULL OR resolved_at IS NOT NULL)) OR (n = 2 AND started_at IS NOT NULL AND resolved_at IS NOT NULL)`, only)
	return b.String()
}

// historyRules names the rules that build histories from their inputs, for
// the fingerprints: a release that changes them (the SQL of histories, of
// the changes that count, of the statuses' categories, of the
// status_changes rows made from them) changes every fingerprint, so that
// the next import rebuilds every history.
func historyRules(changes bool) string {
	h := sha256.Sum256([]byte(csvHistories(changes, "") + "\x00" + validChange + "\x00" + statusCategories + "\x00" + categoriesTable() +
		"\x00" + historyFill("''")))
	return "histories:" + hex.EncodeToString(h[:8])
}

// hasFile reports whether files holds the file named name.
func hasFile(files []ingest.CSVFile, name string) bool {
	return slices.ContainsFunc(files, func(f ingest.CSVFile) bool { return f.Name == name })
}
