// Package ingest holds the vocabulary every connector speaks (items, status
// changes, people, worklogs, milestones) and runs a connector against a store.
// It imports neither vendor clients nor the warehouse driver.
package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Cursor is a resume point. It is opaque: only the connector that made it reads it.
type Cursor string

// Item is one unit of work (a Jira issue, an Asana task, a CSV row).
type Item struct {
	Key             string // unique within the source: ABC-12, an Asana gid, a CSV key
	ExternalID      string // the vendor's numeric id where it differs from Key
	Project         string // project key
	Title           string
	Type            string
	Status          string // vendor status name, as the vendor spells it
	StatusCategory  string // vendor category: new, indeterminate, done, undefined or empty
	Resolution      string
	Assignee        string // Person.ExternalID
	Parent          string // parent item Key
	Milestone       string // Milestone.Name within the same project
	Team            string // explicit team, overrides attribution rules when set
	WorkClass       string // explicit class: project, operational; empty lets rules decide
	CreatedAt       time.Time
	ResolvedAt      time.Time // zero when unresolved
	UpdatedAt       time.Time
	DueDate         time.Time // zero when none; a calendar date at midnight UTC
	StoryPoints     *float64
	EstimateSeconds *int64
	Deleted         bool // vanished at the source: kept, but excluded from metrics
}

// UnknownStatus is the status name the warehouse stores where a source gave
// none: a history item whose end is null, an export row with a blank status
// or section. Compute maps it to the todo stage and lists the items in
// data_quality (check unknown_status); it never stops a compute. The store
// applies it, so every connector follows one rule.
const UnknownStatus = "(unknown)"

// Transition is one status change. A connector sends an item's complete
// history (the creation transition, with From empty, included) whenever it
// sends any of it: the store replaces the item's history with what it gets.
type Transition struct {
	ItemKey      string
	At           time.Time
	From, To     string // vendor status names
	FromCategory string // vendor status category, if known
	ToCategory   string
	Author       string // Person.ExternalID, may be empty
	// Approx, when the source did not give the time of this change, names
	// what At was approximated from (one of the Approx* constants); empty
	// when At is the source's own time of the change. Compute lists the
	// items whose start or finish is approximate in data_quality.
	Approx string
}

// What a Transition's time was approximated from when the source did not
// give it (vendor exports have no changelog).
const (
	// ApproxUpdated: the item's last update (an upper bound of the change).
	ApproxUpdated = "updated"
	// ApproxCreated: the item's creation (the source gave no later time).
	ApproxCreated = "created"
	// ApproxTimeInStatus: derived from Jira's Time in Status field, whose
	// totals per status are exact but whose order of visits is not given.
	ApproxTimeInStatus = "time_in_status"
)

// Person is a user of the source.
type Person struct {
	ExternalID   string
	DisplayName  string
	Email        string
	Team         string   // explicit team (people.csv)
	HoursPerWeek *float64 // nil: the team's default
}

// TimeOff is a person's absence on one day.
type TimeOff struct {
	Person string // Person.ExternalID
	Date   time.Time
	Hours  float64
}

// Worklog is time logged against an item.
type Worklog struct {
	ID        string // stable across re-syncs
	ItemKey   string
	Person    string // Person.ExternalID
	StartedAt time.Time
	Seconds   int64
	Deleted   bool
}

// MaxWorklogSeconds is the longest worklog any connector stores: 31 days
// (a monthly timesheet row, a Jira "4w" entry). Entries over a day are real
// data too: they are stored, and compute lists them in data_quality
// (long_worklog).
const MaxWorklogSeconds = 31 * 24 * 3600

// WorklogRule is the one duration rule of every connector: it returns why
// a worklog of seconds is not stored ("want more than 0 and at most 744
// hours (31 days)"), or "" when it is stored.
func WorklogRule(seconds int64) string {
	if seconds > 0 && seconds <= MaxWorklogSeconds {
		return ""
	}
	return fmt.Sprintf("want more than 0 and at most %d hours (%d days)", MaxWorklogSeconds/3600, MaxWorklogSeconds/86400)
}

// Project groups items.
type Project struct {
	Key, Name string
	Team      string // explicit team
	WorkClass string // explicit class
}

// DueChange is an observed move of a milestone's due date.
type DueChange struct {
	ObservedAt time.Time
	Old, New   time.Time // zero when absent
	Origin     string    // history, sync, csv
}

// Milestone is a date-bound goal (fix version, epic, Asana milestone, CSV row).
type Milestone struct {
	// ExternalID is the vendor's id (version:10001, issue:10042, an Asana
	// gid), stable across renames and moves; empty for sources without
	// one. A milestone whose ExternalID is stored under another name or
	// project replaces that row: its due-date history and the items
	// pointing at it follow.
	ExternalID      string
	Name            string
	Project         string
	StartDate       time.Time
	DueDate         time.Time
	BaselineDueDate time.Time // zero: the first due date the warehouse sees
	CompletedAt     time.Time
	Released        bool
	DueChanges      []DueChange
}

// Sprint is a time-boxed iteration of a board (Jira agile).
type Sprint struct {
	ID         string // vendor id
	Board      string // the board that owns it
	Name       string
	State      string // future, active or closed
	StartAt    time.Time
	EndAt      time.Time // planned end
	CompleteAt time.Time
}

// SprintMembership is every sprint an item has been in. It replaces what
// the warehouse holds for the item; an empty Sprints list clears it.
type SprintMembership struct {
	ItemKey string
	Sprints []string // Sprint.ID
}

// Live is the complete set of item keys in a source's scope, from a
// reconciliation pass: the source's other items are marked deleted, and
// items in the set that were marked deleted are live again.
type Live struct {
	Keys []string
}

// RawPayload is the vendor's record as fetched, kept so a mapping fix can
// re-derive canonical rows without re-fetching.
type RawPayload struct {
	Entity     string // issue, task, row:<file>, ...
	ExternalID string
	Payload    json.RawMessage
	// Item is the key of the item the payload belongs to, named in the
	// problems of repaired characters (default ExternalID).
	Item string
}

// Problem is one rejected or suspicious input record. It never stops a sync.
// Problems of API sources name no File: they belong to the item named by
// Key, and a batch carrying the item again replaces them.
type Problem struct {
	File   string
	Line   int
	Column string
	Key    string
	Reason string
	// Action is what was done: ProblemRejected, ProblemRepaired or
	// ProblemNote; empty counts as repaired.
	Action string
}

// What was done about a Problem.
const (
	// ProblemRejected: the record was not stored (data lost until the input is fixed).
	ProblemRejected = "rejected"
	// ProblemRepaired: the record was stored without (or with a corrected) value.
	ProblemRepaired = "repaired"
	// ProblemNote: the record was stored as read; the note says what to check.
	ProblemNote = "note"
)

func (p Problem) String() string {
	s := p.File
	if p.Line > 0 {
		s += ":" + itoa(p.Line)
	}
	if p.Column != "" {
		s += ": column " + p.Column
	}
	if p.Key != "" {
		s += ": " + p.Key
	}
	return s + ": " + p.Reason
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// Batch is what a connector emits: records and the cursor to store with them.
// A batch and its cursor commit in one transaction or not at all.
type Batch struct {
	Projects    []Project
	Items       []Item
	Transitions []Transition
	People      []Person
	TimeOff     []TimeOff
	Worklogs    []Worklog
	Milestones  []Milestone
	Sprints     []Sprint
	Memberships []SprintMembership
	Raw         []RawPayload
	Problems    []Problem
	// WorklogsOf names items whose complete worklog list this batch
	// carries (Worklogs): their other stored worklogs are deleted.
	WorklogsOf []string
	// Live, when set, is a reconciliation of the source's scope (see Live).
	Live *Live
	// Reread names files (or scopes) this batch starts reading afresh: the
	// problems stored for them earlier are superseded by this batch's.
	Reread []string
	// Snapshot marks the first batch of a read that re-sends everything
	// the source holds (a file source reading its files afresh): the store
	// first removes what the source stored before (items with their
	// histories, worklogs and raw payloads, projects, sprints, people's
	// accounts and time off, problems), so that once the read's last batch
	// is committed the warehouse holds exactly what the source says now.
	// The batch's Milestones must be all the source's milestones: the others
	// are removed; those that remain keep their observed due-date history.
	Snapshot bool
	// Bulk, when set, hands rows over as SQL the store runs itself (see
	// Bulk); only when the store allows it (BulkAllowed).
	Bulk   *Bulk
	Cursor Cursor
}

// Bulk is a set-based hand-over: rows the store reads with DuckDB itself,
// just before the batch's transaction, instead of Go values, so that large
// files never cross into Go row by row. Either Files describes the large
// files of a folder in Throughline's CSV layout (the store reads them with
// read_csv and applies the layout's rules in SQL), or Statements gives SQL
// for other hand-overs.
//
// Statements run with the store's settings, insertion order not
// preserved; one may SET SESSION preserve_insertion_order = true (the
// store resets the session's value after the statements) so that a table
// created from a read_csv holds its records in file order (rowid = record
// number). SESSION, not a plain SET: DuckDB applies a plain SET of this
// option, and its RESET, to every connection of the database, and an
// insert that keeps insertion order runs on one thread where the source
// cannot number its batches. They must only create temporary tables and
// views, never write the warehouse's tables (they are not part of the
// batch's transaction), and leave these (each possibly empty; empty
// strings or NULL mean "not given"):
//
//	bulk_items(key, project, title, type, status, status_category, assignee,
//	    resolution, milestone, parent, team, work_class VARCHAR,
//	    created_at, resolved_at, updated_at TIMESTAMPTZ, due_date DATE,
//	    story_points DOUBLE, estimate_seconds BIGINT)     -- one row per item (Item)
//	bulk_transitions(key VARCHAR, seq INTEGER, changed_at TIMESTAMPTZ, from_status,
//	    to_status, from_category, to_category VARCHAR)  -- the whole history of each item of bulk_items, seq 0 = creation
//	bulk_worklogs(id, key, person VARCHAR, started_at TIMESTAMPTZ, seconds BIGINT)
//	bulk_people(external_id, email, display_name VARCHAR)
//	bulk_problems(file VARCHAR, line INTEGER, col VARCHAR, key VARCHAR, reason VARCHAR, action VARCHAR)  -- action: see Problem.Action
//
// Temporary tables and views whose names start with bulk_ are dropped
// after the batch.
type Bulk struct {
	// Files, Zone and People describe a CSV folder: its large files
	// (items.csv required), the zone of zone-less times, whether assignees
	// become people (the folder has no people.csv).
	Files  []CSVFile
	Zone   string
	People bool
	// Statements, when Files is empty.
	Statements []string
	// Records is the number of records the hand-over reads (for the run log).
	Records int
}

// The files of Throughline's CSV layout that a Bulk hand-over describes.
const (
	CSVItems    = "items.csv"
	CSVChanges  = "status_changes.csv"
	CSVWorklogs = "worklogs.csv"
)

// CSVFile is a file of Throughline's CSV layout as a byte-level scan found
// it: every record has Fields fields, quoted as encoding/csv reads them
// (comma, double quotes), in UTF-8.
type CSVFile struct {
	Name        string         // CSVItems, CSVChanges or CSVWorklogs
	Path        string         // absolute or relative to the process
	Columns     map[string]int // canonical column (lower case) → field index
	Fields      int            // fields of the header
	HeaderLines int            // lines the header takes
	Records     int            // data records
	Lines       []int32        // start line of each data record; nil when record i starts on HeaderLines+1+i
	MaxRecord   int            // longest record, bytes
	Padded      []bool         // by field index: some value may start or end with white space
}

// BulkLoader is a Store that can run Bulk hand-overs. CanLoadFiles reports
// whether its SQL may read files now (a locked-down warehouse may not).
type BulkLoader interface {
	CanLoadFiles(ctx context.Context) bool
}

// A CountingStore is a Store whose commit reports the problems it stored
// for the batch: the batch's own, and those the store found (in a Bulk
// hand-over's files, in rows it rejected). Sync counts those in the run
// log; for other stores it counts the batch's.
type CountingStore interface {
	CommitCounted(ctx context.Context, source string, b Batch) (problems int, err error)
}

type bulkKey struct{}

// BulkAllowed reports whether the store that will commit the batches of
// this sync runs Bulk hand-overs; Sync sets it.
func BulkAllowed(ctx context.Context) bool {
	ok, _ := ctx.Value(bulkKey{}).(bool)
	return ok
}

// WithBulk marks ctx as allowing Bulk hand-overs (for callers that commit
// batches themselves).
func WithBulk(ctx context.Context) context.Context {
	return context.WithValue(ctx, bulkKey{}, true)
}

// Len is the number of records in the batch.
func (b Batch) Len() int {
	return len(b.Projects) + len(b.Items) + len(b.Transitions) + len(b.People) +
		len(b.TimeOff) + len(b.Worklogs) + len(b.Milestones) + len(b.Sprints) + len(b.Memberships) + b.bulkRecords()
}

func (b Batch) bulkRecords() int {
	if b.Bulk == nil {
		return 0
	}
	return b.Bulk.Records
}

// KnownCategory gives the status category (new, indeterminate, done) of
// common status names, or "" for names it does not know. Connectors use it
// for statuses the source no longer lists or an export does not categorize;
// config workflow still wins. The names are English and the default names
// of Jira's other languages (Spanish, Brazilian Portuguese, German, French,
// Italian, Dutch, Polish, Japanese), any case; discarded outcomes
// (cancelled, rejected, duplicate, ...) are done.
func KnownCategory(status string) string {
	return knownCategories[strings.ToLower(strings.TrimSpace(status))]
}

var knownCategories = map[string]string{}

func init() {
	for cat, names := range map[string][]string{
		"new": {"to do", "todo", "open", "backlog", "new", "selected for development", "ready", "ready for dev", "inbox", "reopened",
			// es, pt-BR, de, fr, it, nl, pl, ja
			"por hacer", "tareas por hacer", "abierta", "abierto", "pendiente",
			"a fazer", "itens pendentes", "aberto", "aberta", "pendente",
			"zu erledigen", "offen", "aufgaben",
			"à faire", "a faire", "ouvert", "ouverte",
			"da fare", "da completare", "aperto", "aperta",
			"te doen", "openstaand",
			"do zrobienia", "otwarte",
			"未着手", "オープン", "作業前"},
		"indeterminate": {"in progress", "doing", "in review", "review", "blocked", "in development", "testing", "qa",
			"en curso", "en progreso", "en revisión", "bloqueado", "bloqueada",
			"em andamento", "em progresso", "em revisão",
			"in arbeit", "in bearbeitung", "in prüfung", "blockiert",
			"en cours", "en revue", "bloqué", "bloquée",
			"in corso", "in revisione", "bloccato", "bloccata",
			"in uitvoering", "bezig", "geblokkeerd",
			"w toku", "w trakcie", "w realizacji", "zablokowane",
			"進行中", "処理中", "レビュー中"},
		"done": {"done", "closed", "resolved", "complete", "completed", "released",
			"won't do", "won't fix", "cancelled", "canceled", "aborted", "rejected", "duplicate", "obsolete",
			"listo", "hecho", "finalizado", "finalizada", "cerrado", "cerrada", "resuelto", "resuelta", "cancelado", "cancelada",
			"itens concluídos", "concluído", "concluída", "feito", "fechado", "fechada", "resolvido", "resolvida",
			"fertig", "erledigt", "geschlossen", "gelöst", "abgebrochen", "abgelehnt",
			"terminé", "terminée", "fait", "fermé", "fermée", "résolu", "résolue", "annulé", "annulée",
			"completato", "completata", "fatto", "chiuso", "chiusa", "risolto", "risolta", "annullato", "annullata",
			"gereed", "klaar", "gesloten", "opgelost", "geannuleerd",
			"gotowe", "zrobione", "zamknięte", "rozwiązane", "anulowane",
			"完了", "クローズ", "解決済み"},
	} {
		for _, n := range names {
			knownCategories[n] = cat
		}
	}
}

// KnownCategories returns the lower-case status names KnownCategory knows,
// with their categories (a copy).
func KnownCategories() map[string]string {
	out := make(map[string]string, len(knownCategories))
	for k, v := range knownCategories {
		out[k] = v
	}
	return out
}

// A Connector streams what changed since from, oldest first, calling emit
// once per batch. It stops at the first error emit returns, and returns it.
// emit may keep the batch after it returns (commits are pipelined): a
// connector must not modify a batch's slices once emitted.
type Connector interface {
	Sync(ctx context.Context, from Cursor, emit func(context.Context, Batch) error) error
}

// Store is what Sync needs from the warehouse.
type Store interface {
	Cursor(ctx context.Context, source string) (Cursor, error)
	Commit(ctx context.Context, source string, b Batch) error // rows + cursor, one tx
}
