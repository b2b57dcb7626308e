package warehouse

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/throughline/throughline/ingest"
)

var (
	_ ingest.Store  = (*DB)(nil)
	_ ingest.RunLog = (*DB)(nil)
)

// RegisterSource records (or updates) a configured source.
func (db *DB) RegisterSource(ctx context.Context, name, kind, baseURL string) error {
	_, err := db.ExecContext(ctx, `UPDATE sources SET kind = ?, base_url = ? WHERE source_id = ?`, kind, baseURL, name)
	if err != nil {
		return fmt.Errorf("register source %s: %w", name, err)
	}
	_, err = db.ExecContext(ctx, `INSERT INTO sources (source_id, kind, name, base_url)
		SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM sources WHERE source_id = ?)`, name, kind, name, baseURL, name)
	if err != nil {
		return fmt.Errorf("register source %s: %w", name, err)
	}
	return nil
}

// Cursor returns the stored cursor of source ("" when none).
func (db *DB) Cursor(ctx context.Context, source string) (ingest.Cursor, error) {
	var c sql.NullString
	err := db.QueryRowContext(ctx, "SELECT cursor FROM sources WHERE source_id = ?", source).Scan(&c)
	if err == sql.ErrNoRows {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read cursor of %s: %w", source, err)
	}
	return ingest.Cursor(c.String), nil
}

// ResetCursor forgets the stored cursor (a full re-sync follows).
func (db *DB) ResetCursor(ctx context.Context, source string) error {
	_, err := db.ExecContext(ctx, "UPDATE sources SET cursor = NULL WHERE source_id = ?", source)
	return err
}

// StartRun records a running sync. Runs of the source still marked running
// were ended by a crash or a kill (the warehouse has one writer, so none can
// be alive): they are marked died first.
func (db *DB) StartRun(ctx context.Context, source string, at time.Time) (int64, error) {
	if _, err := db.ExecContext(ctx, `UPDATE sync_runs SET status = 'died',
		error = 'the process ended during the run; the next run resumed from the last committed batch'
		WHERE source_id = ? AND status = 'running'`, source); err != nil {
		return 0, fmt.Errorf("mark dead runs: %w", err)
	}
	var id int64
	err := db.QueryRowContext(ctx, `INSERT INTO sync_runs (run_id, source_id, started_at, status)
		VALUES (nextval('sync_run_ids'), ?, ?, 'running') RETURNING run_id`, source, at.UTC()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("record run start: %w", err)
	}
	return id, nil
}

// FinishRun records a run's outcome.
func (db *DB) FinishRun(ctx context.Context, r ingest.Run) error {
	var msg any
	if r.Err != nil {
		msg = r.Err.Error()
	}
	_, err := db.ExecContext(ctx, `UPDATE sync_runs SET finished_at = ?, status = ?, items = ?, batches = ?,
		problems = ?, error = ?, cursor = ? WHERE run_id = ?`,
		r.Finished.UTC(), r.Status, r.Items, r.Batches, r.Problems, msg, string(r.Cursor), r.ID)
	if err != nil {
		return fmt.Errorf("record run end: %w", err)
	}
	return nil
}

var (
	_ ingest.Store         = (*DB)(nil)
	_ ingest.CountingStore = (*DB)(nil)
	_ ingest.BulkLoader    = (*DB)(nil)
)

// Commit stores a batch's rows, raw payloads, problems and cursor in one
// transaction. Upserts are keyed, so committing the same batch twice leaves
// the same rows.
//
// A Bulk hand-over's statements run first, on the same connection but
// before the transaction: they only fill temporary tables, which the
// transaction then reads. DuckDB scans a temporary table created in the
// writing transaction on one thread: at 1M items the INSERT into
// status_changes took 15.0 s inside it and 7.7 s outside it, the first
// import 33.6 s and 25.5 s (docs/performance.md).
func (db *DB) Commit(ctx context.Context, source string, b ingest.Batch) error {
	_, err := db.CommitCounted(ctx, source, b)
	return err
}

// CommitCounted is Commit, and returns the number of problems stored with
// the batch (ingest.CountingStore): the batch's, the worklogs the store
// rejected, and a Bulk hand-over's.
func (db *DB) CommitCounted(ctx context.Context, source string, b ingest.Batch) (problems int, err error) {
	now := time.Now().UTC()
	err = db.withConn(ctx, func(c *sql.Conn) error {
		if b.Bulk != nil {
			if len(b.Items) > 0 || len(b.Transitions) > 0 || len(b.Worklogs) > 0 {
				return fmt.Errorf("a batch carries items, transitions or worklogs both as rows and as a bulk hand-over")
			}
			defer dropBulkTables(context.WithoutCancel(ctx), c)
			people, err := runBulk(ctx, c, b.Bulk)
			if err != nil {
				return err
			}
			b.People = append(slices.Clip(b.People), people...)
		}
		merge, err := mergesSnapshot(ctx, c, source, b)
		if err != nil {
			return err
		}
		var m mergePlan
		if merge {
			if m, err = keepHistories(ctx, c, source, b.Bulk); err != nil {
				return err
			}
		}
		if _, err := c.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		n, err := commitBatch(ctx, c, source, b, now, m)
		if err != nil {
			c.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
			return err
		}
		if _, err := c.ExecContext(ctx, "COMMIT"); err != nil {
			c.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
			return fmt.Errorf("commit: %w", err)
		}
		problems = n
		return nil
	})
	return problems, err
}

func id(source string, parts ...string) any {
	for _, p := range parts {
		if p == "" {
			return nil
		}
	}
	return source + ":" + strings.Join(parts, ":")
}

func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

func date(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func str(s string) any {
	if s == "" {
		return nil
	}
	return s
}

type stage struct {
	table   string   // target table
	columns []string // columns the rows carry, when not all (the rest stay NULL)
	key     []string // key columns for the upsert (at most 3), the rows' first values
	rows    [][]driver.Value
	// fill, instead of rows, is a SELECT of the columns, named (a Bulk
	// hand-over; its keys are unique), and fillKeys the SELECT of the keys
	// whose stored rows it replaces.
	fill, fillKeys string
	// replaceBy deletes target rows whose key matches rather than upserting
	// row by row (used for histories: the batch carries the whole history).
	replaceBy string
	// persons are columns holding account ids (<source>:<user>) to map to
	// person ids through person_accounts.
	persons []string
	// fresh: the table holds none of the rows' keys (a snapshot cleared
	// the source), so a fill skips deleting them.
	fresh bool
}

// commitBatch stores b in the open transaction on c, stage by stage (see
// each function below), and records what it changed for the compute;
// m says whether b is stored by difference (mergesSnapshot). It returns
// the number of problems it stored.
func commitBatch(ctx context.Context, c *sql.Conn, source string, b ingest.Batch, now time.Time, m mergePlan) (int, error) {
	// A payload the JSON type would reject never stops a commit (ingest.Sync
	// repaired it already; batches committed directly are repaired here).
	b.RepairPayloads()
	ch, err := newChanged(ctx, c)
	if err != nil {
		return 0, err
	}
	// A bulk hand-over's temporary tables are filled (Commit).
	bulk := b.Bulk != nil
	// A bulk snapshot over stored items is stored by difference
	// (mergeSnapshot): only what changed is replaced and recorded.
	if (b.Snapshot || bulk) && !m.merge {
		// Every item of the source may have changed.
		if err := ch.all(ctx, c); err != nil {
			return 0, err
		}
	}
	if b.Snapshot {
		if err := clearSource(ctx, c, source, m.merge); err != nil {
			return 0, err
		}
	}
	// People first: the other stages map account ids to person ids.
	if err := commitPeople(ctx, c, ch, source, b.People); err != nil {
		return 0, err
	}
	var stages []stage
	if len(b.Projects) > 0 {
		stages = append(stages, projectStage(source, b.Projects))
	}
	if len(b.TimeOff) > 0 {
		stages = append(stages, timeOffStage(source, b.TimeOff))
	}
	if len(b.Items) > 0 || bulk {
		stages = append(stages, itemStage(source, b))
	}
	if len(b.Transitions) > 0 || bulk {
		stages = append(stages, historyStage(source, b))
	}
	problems := slices.Clip(b.Problems)
	if len(b.Worklogs) > 0 || bulk {
		s, rejected, err := worklogStage(ctx, c, ch, source, b)
		if err != nil {
			return 0, err
		}
		stages = append(stages, s)
		problems = append(problems, rejected...)
	}
	if len(b.WorklogsOf) > 0 {
		if err := dropWorklogsOf(ctx, c, ch, source, b.WorklogsOf); err != nil {
			return 0, err
		}
	}
	if len(b.Sprints) > 0 {
		stages = append(stages, sprintStage(source, b.Sprints))
	}
	if len(b.Memberships) > 0 {
		s, err := membershipStage(ctx, c, source, b.Memberships)
		if err != nil {
			return 0, err
		}
		if len(s.rows) > 0 {
			stages = append(stages, s)
		}
	}
	if len(b.Raw) > 0 {
		stages = append(stages, rawStage(source, b.Raw, now))
	}
	if err := storeStages(ctx, c, ch, source, b, stages, m); err != nil {
		return 0, err
	}
	if err := afterItems(ctx, c, ch, source, b, now); err != nil {
		return 0, err
	}
	stored, err := storeProblems(ctx, c, source, b, problems, now)
	if err != nil {
		return 0, err
	}
	if err := storeFingerprints(ctx, c, source, b, m); err != nil {
		return 0, err
	}
	return stored, storeCursor(ctx, c, source, b.Cursor, now)
}

func projectStage(source string, projects []ingest.Project) stage {
	s := stage{table: "projects", key: []string{"project_id"}}
	for _, p := range projects {
		s.rows = append(s.rows, []driver.Value{id(source, p.Key), source, p.Key, str(p.Name), str(p.Team), str(p.WorkClass)})
	}
	return s
}

func timeOffStage(source string, timeOff []ingest.TimeOff) stage {
	s := stage{table: "time_off", key: []string{"person_id", "day"}, persons: []string{"person_id"}}
	for _, t := range timeOff {
		s.rows = append(s.rows, []driver.Value{id(source, t.Person), date(t.Date), t.Hours, source})
	}
	return s
}

// itemStage is the work_items stage of b: its items, or a bulk hand-over's.
func itemStage(source string, b ingest.Batch) stage {
	src := quote(source)
	// The derived columns (team_id, stage, work_class, started_at,
	// completed_at, discarded) are filled by the compute job.
	s := stage{table: "work_items", key: []string{"item_id"}, persons: []string{"assignee_id"}, columns: []string{"item_id", "source_id", "key", "external_id",
		"project_id", "assignee_id", "parent_id", "milestone_id", "item_type", "title", "status", "status_category",
		"resolution", "created_at", "resolved_at", "due_date", "story_points", "estimate_seconds", "updated_at",
		"team_override", "work_class_override", "deleted"}}
	for _, it := range b.Items {
		var sp, est any
		if it.StoryPoints != nil {
			sp = *it.StoryPoints
		}
		if it.EstimateSeconds != nil {
			est = *it.EstimateSeconds
		}
		var ms any
		if it.Milestone != "" {
			ms = id(source, it.Project, it.Milestone)
		}
		s.rows = append(s.rows, []driver.Value{
			id(source, it.Key), source, it.Key, str(it.ExternalID), id(source, it.Project),
			id(source, it.Assignee), id(source, it.Parent), ms, str(it.Type), str(it.Title),
			str(it.Status), str(it.StatusCategory), str(it.Resolution),
			ts(it.CreatedAt), ts(it.ResolvedAt), date(it.DueDate), sp, est,
			ts(it.UpdatedAt), str(it.Team), str(it.WorkClass), it.Deleted,
		})
	}
	if b.Bulk != nil {
		s.fill = `SELECT ` + src + ` || ':' || key AS item_id, ` + src + ` AS source_id, key, NULL AS external_id, ` +
			sqlID(src, "project") + ` AS project_id, ` + sqlID(src, "assignee") + ` AS assignee_id, ` +
			sqlID(src, "parent") + ` AS parent_id, ` + sqlID(src, "project", "milestone") + ` AS milestone_id,
			nullif(type, '') AS item_type, nullif(title, '') AS title, nullif(status, '') AS status,
			nullif(status_category, '') AS status_category, nullif(resolution, '') AS resolution,
			created_at, resolved_at, due_date, story_points, estimate_seconds, updated_at,
			nullif(team, '') AS team_override, nullif(work_class, '') AS work_class_override, false AS deleted
			FROM temp.main.bulk_items`
		s.fillKeys = `SELECT ` + src + ` || ':' || key FROM temp.main.bulk_items`
		s.fresh = b.Snapshot
	}
	return s
}

// historyStage is the status_changes stage of b: the whole histories of its
// items (the last of each in the batch), or a bulk hand-over's.
func historyStage(source string, b ingest.Batch) stage {
	src := quote(source)
	s := stage{table: "status_changes", key: []string{"item_id"}, replaceBy: "item_id", persons: []string{"author_id"}}
	for _, group := range lastHistories(b.Transitions) {
		for n, t := range group {
			from, to := t.From, t.To
			if to == "" {
				to = ingest.UnknownStatus
			}
			if from == "" && n > 0 { // only the creation transition starts from nothing
				from = ingest.UnknownStatus
			}
			s.rows = append(s.rows, []driver.Value{id(source, t.ItemKey), int32(n), t.At.UTC(), str(from), str(to), nil, nil,
				str(t.FromCategory), str(t.ToCategory), id(source, t.Author), str(t.Approx)})
		}
	}
	if b.Bulk != nil {
		s.fill = historyFill(src)
		// The transitions are the whole histories of the batch's items;
		// they name no author.
		s.fillKeys = `SELECT ` + src + ` || ':' || key FROM temp.main.bulk_items`
		s.persons = nil
		s.fresh = b.Snapshot
	}
	return s
}

// worklogStage is the worklogs stage of b; it deletes the stored worklogs
// the batch deletes or rejects (ingest.WorklogRule: those are returned as
// problems) and records the items of those it replaces.
func worklogStage(ctx context.Context, c *sql.Conn, ch changed, source string, b ingest.Batch) (stage, []ingest.Problem, error) {
	src := quote(source)
	var problems []ingest.Problem
	s := stage{table: "worklogs", key: []string{"worklog_id"}, persons: []string{"person_id"}}
	if b.Bulk != nil {
		s.fill = `SELECT ` + src + ` || ':' || id AS worklog_id, ` + src + ` || ':' || key AS item_id, ` + sqlID(src, "person") +
			` AS person_id, started_at, seconds FROM temp.main.bulk_worklogs`
		s.fillKeys = `SELECT ` + src + ` || ':' || id FROM temp.main.bulk_worklogs`
		s.fresh = b.Snapshot
	}
	var deleted, ids []driver.Value
	for _, w := range b.Worklogs {
		ids = append(ids, w.ID)
		if w.Deleted {
			deleted = append(deleted, id(source, w.ID))
			continue
		}
		// The duration rule of every connector (the CSV reader applies
		// it too, naming file and line): a worklog it rejects is listed,
		// not stored, and a version stored before goes.
		if why := ingest.WorklogRule(w.Seconds); why != "" {
			deleted = append(deleted, id(source, w.ID))
			problems = append(problems, ingest.Problem{File: worklogProblemFile, Column: "seconds", Key: w.ID, Action: ingest.ProblemRejected,
				Reason: fmt.Sprintf("worklog of %s: %d seconds: %s; worklog dropped", w.ItemKey, w.Seconds, why)})
			continue
		}
		s.rows = append(s.rows, []driver.Value{id(source, w.ID), id(source, w.ItemKey), id(source, w.Person), w.StartedAt.UTC(), w.Seconds})
	}
	// The items of stored worklogs the batch deletes or replaces (a
	// worklog may move to another item).
	if len(ids) > 0 && ch.on {
		all := make([]driver.Value, len(ids))
		for i, w := range ids {
			all[i] = id(source, w.(string))
		}
		if err := keyTable(ctx, c, "worklog_keys", all); err != nil {
			return s, nil, fmt.Errorf("record changed items: %w", err)
		}
		if err := ch.items(ctx, c, `SELECT DISTINCT item_id FROM main.worklogs WHERE worklog_id IN (SELECT k FROM temp.main.worklog_keys)`); err != nil {
			return s, nil, err
		}
		if err := ch.oldWorklogs(ctx, c, `SELECT k AS worklog_id FROM temp.main.worklog_keys`); err != nil {
			return s, nil, err
		}
	}
	if err := deleteKeys(ctx, c, "worklogs", "worklog_id", deleted); err != nil {
		return s, nil, err
	}
	if err := clearWorklogProblems(ctx, c, source, ids); err != nil {
		return s, nil, err
	}
	return s, problems, nil
}

// dropWorklogsOf deletes the stored worklogs of the items whose complete
// worklog lists the batch carries (ingest.Batch.WorklogsOf): the batch's
// come back with its worklog stage.
func dropWorklogsOf(ctx context.Context, c *sql.Conn, ch changed, source string, items []string) error {
	keys := make([]driver.Value, len(items))
	for i, k := range items {
		keys[i] = id(source, k)
	}
	if ch.on {
		if err := keyTable(ctx, c, "worklogs_of", keys); err != nil {
			return fmt.Errorf("save the worklogs a batch changes: %w", err)
		}
		if err := ch.oldWorklogs(ctx, c, `SELECT worklog_id FROM main.worklogs WHERE item_id IN (SELECT k FROM temp.main.worklogs_of)`); err != nil {
			return err
		}
	}
	if err := deleteKeys(ctx, c, "worklogs", "item_id", keys); err != nil {
		return err
	}
	if err := ch.items(ctx, c, `SELECT k FROM temp.main.delete_keys`); err != nil {
		return err
	}
	return nil
}

func sprintStage(source string, sprints []ingest.Sprint) stage {
	s := stage{table: "sprints", key: []string{"sprint_id"}}
	for _, sp := range sprints {
		s.rows = append(s.rows, []driver.Value{id(source, sp.ID), source, str(sp.Board), str(sp.Name), str(sp.State),
			ts(sp.StartAt), ts(sp.EndAt), ts(sp.CompleteAt)})
	}
	return s
}

// membershipStage is the sprint_items stage; it deletes what is stored for
// the items the batch carries memberships of.
func membershipStage(ctx context.Context, c *sql.Conn, source string, memberships []ingest.SprintMembership) (stage, error) {
	// Memberships replace what is stored per item, empty ones included.
	keys := make([]driver.Value, 0, len(memberships))
	s := stage{table: "sprint_items", key: []string{"sprint_id", "item_id"}}
	for _, m := range memberships {
		keys = append(keys, id(source, m.ItemKey))
		for _, sp := range m.Sprints {
			s.rows = append(s.rows, []driver.Value{id(source, sp), id(source, m.ItemKey)})
		}
	}
	if err := deleteKeys(ctx, c, "sprint_items", "item_id", keys); err != nil {
		return s, err
	}
	return s, nil
}

func rawStage(source string, raw []ingest.RawPayload, now time.Time) stage {
	s := stage{table: "raw_payloads", key: []string{"source_id", "entity", "external_id"}}
	s.rows = make([][]driver.Value, 0, len(raw))
	for _, r := range raw {
		// The bytes as they are (the appender copies them): a string
		// conversion would copy every payload once more.
		s.rows = append(s.rows, []driver.Value{source, r.Entity, r.ExternalID, now, []byte(r.Payload)})
	}
	return s
}

// storeStages merges a bulk snapshot's items, histories and worklogs
// (mergeSnapshot), saves the histories the batch replaces for the compute,
// and upserts the other stages, recording their items.
func storeStages(ctx context.Context, c *sql.Conn, ch changed, source string, b ingest.Batch, stages []stage, m mergePlan) error {
	if m.merge {
		var rest, filled []stage
		for _, s := range stages {
			if s.fill != "" {
				filled = append(filled, s)
			} else {
				rest = append(rest, s)
			}
		}
		if len(filled) != 3 {
			return fmt.Errorf("store a re-read source: %d bulk tables, want items, histories and worklogs", len(filled))
		}
		if err := mergeSnapshot(ctx, c, ch, source, filled[0], filled[1], filled[2], m.only); err != nil {
			return err
		}
		stages = rest
	}
	if len(b.Transitions) > 0 && ch.on {
		var keys []driver.Value
		for _, group := range lastHistories(b.Transitions) {
			if len(group) > 0 {
				keys = append(keys, id(source, group[0].ItemKey))
			}
		}
		if err := keyTable(ctx, c, "history_keys", keys); err != nil {
			return fmt.Errorf("save the histories a batch replaces: %w", err)
		}
		if err := ch.oldHistories(ctx, c, `SELECT k AS item_id FROM temp.main.history_keys`); err != nil {
			return err
		}
	}
	for _, s := range stages {
		if err := upsert(ctx, c, s); err != nil {
			return err
		}
		if s.fill != "" {
			continue // recorded as every item above
		}
		switch s.table {
		case "work_items", "status_changes", "worklogs":
			if err := ch.items(ctx, c, "SELECT DISTINCT item_id FROM temp.main.stage_"+s.table); err != nil {
				return err
			}
		}
	}
	return nil
}

// afterItems runs what follows the stored items: moved and deleted items,
// the projects items name, milestones, the reconciliation of the source's
// keys, and the worklogs of deleted items.
func afterItems(ctx context.Context, c *sql.Conn, ch changed, source string, b ingest.Batch, now time.Time) error {
	// Items deleted by this batch take their worklogs (below).
	dropWorklogs := b.Live != nil
	if slices.ContainsFunc(b.Items, func(it ingest.Item) bool { return it.ExternalID != "" }) {
		moved, err := moveItems(ctx, c, ch, source)
		if err != nil {
			return err
		}
		dropWorklogs = dropWorklogs || moved
	}
	if slices.ContainsFunc(b.Items, func(it ingest.Item) bool { return it.Deleted }) {
		dropWorklogs = true
	}
	if len(b.Items) > 0 || b.Bulk != nil {
		// Projects referenced by items but not sent explicitly.
		items := `SELECT DISTINCT project_id, source_id FROM temp.main.stage_work_items WHERE project_id IS NOT NULL`
		if b.Bulk != nil { // bulk items carry no vendor ids: none moved
			// The stored items of the source (one column: a scan of
			// bulk_items would recompute the whole view).
			items = `SELECT DISTINCT project_id, source_id FROM main.work_items WHERE source_id = ` + quote(source) + ` AND project_id IS NOT NULL`
		}
		if _, err := c.ExecContext(ctx, `INSERT INTO projects (project_id, source_id, key)
			SELECT project_id, source_id, split_part(project_id, ':', 2) FROM (`+items+`) s
			WHERE NOT EXISTS (SELECT 1 FROM projects p WHERE p.project_id = s.project_id)`); err != nil {
			return fmt.Errorf("add projects of items: %w", err)
		}
	}
	if err := commitMilestones(ctx, c, ch, source, b.Milestones, now); err != nil {
		return err
	}
	if b.Snapshot {
		if err := keepMilestones(ctx, c, source, b.Milestones); err != nil {
			return err
		}
	}
	if b.Live != nil {
		if err := reconcile(ctx, c, ch, source, b.Live.Keys); err != nil {
			return err
		}
	}
	if dropWorklogs {
		// An item deleted at the source (or out of scope) takes its
		// worklogs with it: they no longer count as logged time.
		if err := ch.items(ctx, c, `SELECT DISTINCT item_id FROM main.worklogs WHERE item_id IN
			(SELECT item_id FROM main.work_items WHERE source_id = ? AND deleted)`, source); err != nil {
			return err
		}
		if err := ch.oldWorklogs(ctx, c, `SELECT worklog_id FROM main.worklogs WHERE item_id IN
			(SELECT item_id FROM main.work_items WHERE source_id = ? AND deleted)`, source); err != nil {
			return err
		}
		if _, err := c.ExecContext(ctx, `DELETE FROM main.worklogs WHERE item_id IN
			(SELECT item_id FROM main.work_items WHERE source_id = ? AND deleted)`, source); err != nil {
			return fmt.Errorf("drop worklogs of deleted items: %w", err)
		}
	}
	return nil
}

// storeProblems replaces the problems of what the batch re-reads (its
// items' for API records, its files') with the batch's, and returns how
// many it stored.
func storeProblems(ctx context.Context, c *sql.Conn, source string, b ingest.Batch, problems []ingest.Problem, now time.Time) (int, error) {
	if len(b.Items) > 0 {
		// Problems of API records belong to their item: a batch carrying
		// the item again replaces them.
		if _, err := c.ExecContext(ctx, `DELETE FROM main.ingest_problems WHERE source_id = ? AND file IS NULL
			AND item_key IN (SELECT key FROM temp.main.stage_work_items)`, source); err != nil {
			return 0, fmt.Errorf("replace problems of the batch's items: %w", err)
		}
	}
	if len(b.Reread) > 0 || len(problems) > 0 {
		for _, f := range b.Reread {
			if _, err := c.ExecContext(ctx, "DELETE FROM ingest_problems WHERE source_id = ? AND file = ?", source, f); err != nil {
				return 0, fmt.Errorf("clear problems of %s: %w", f, err)
			}
		}
		rows := make([][]driver.Value, 0, len(problems))
		for _, p := range problems {
			action := p.Action
			if action == "" {
				action = ingest.ProblemRepaired
			}
			rows = append(rows, []driver.Value{source, str(p.File), int32(p.Line), str(p.Column), str(p.Key), p.Reason, now, action})
		}
		if err := appendRows(c, false, "ingest_problems", rows); err != nil {
			return 0, err
		}
	}
	if b.Bulk != nil {
		res, err := c.ExecContext(ctx, `INSERT INTO main.ingest_problems SELECT ?, nullif(file, ''), line, nullif(col, ''), nullif(key, ''), reason, ?, action
			FROM temp.main.bulk_problems ORDER BY file, line`, source, now)
		if err != nil {
			return 0, fmt.Errorf("store the bulk problems: %w", err)
		}
		n, _ := res.RowsAffected()
		return len(problems) + int(n), nil
	}
	return len(problems), nil
}

func storeCursor(ctx context.Context, c *sql.Conn, source string, cursor ingest.Cursor, now time.Time) error {
	res, err := c.ExecContext(ctx, "UPDATE sources SET cursor = ?, cursor_updated_at = ? WHERE source_id = ?", string(cursor), now, source)
	if err != nil {
		return fmt.Errorf("store cursor: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := c.ExecContext(ctx, "INSERT INTO sources (source_id, kind, name, cursor, cursor_updated_at) VALUES (?, 'unknown', ?, ?, ?)",
			source, source, string(cursor), now); err != nil {
			return fmt.Errorf("store cursor: %w", err)
		}
	}
	return nil
}

// upsert loads s.rows into a temp copy of the target and merges by key:
// the last row of a key in the batch wins.
func upsert(ctx context.Context, c *sql.Conn, s stage) error {
	if s.fill != "" {
		return upsertFill(ctx, c, s)
	}
	tmp := "stage_" + s.table
	// Keys compared after mapping account ids are deduplicated in SQL,
	// the others here.
	mapped := slices.ContainsFunc(s.key, func(k string) bool { return slices.Contains(s.persons, k) })
	if s.replaceBy == "" && !mapped {
		s.rows = lastRows(s.rows, len(s.key))
	}
	// JSON columns are staged as VARCHAR: the appender would store a Go
	// string in a JSON column as a JSON string; the insert below casts the
	// text to JSON (parsing and validating it).
	create := fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS SELECT * FROM main.%s LIMIT 0", tmp, s.table)
	if s.table == "raw_payloads" {
		create = fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS SELECT * REPLACE (payload::VARCHAR AS payload) FROM main.%s LIMIT 0", tmp, s.table)
	}
	if _, err := c.ExecContext(ctx, create); err != nil {
		return fmt.Errorf("stage %s: %w", s.table, err)
	}
	if err := appendRows(c, true, tmp, s.rows, s.columns...); err != nil {
		return err
	}
	cols, from := withPersons("temp.main."+tmp, s.persons)
	keys := strings.Join(s.key, ", ")
	var del, ins string
	if s.replaceBy != "" {
		del = fmt.Sprintf("DELETE FROM main.%[1]s WHERE %[2]s IN (SELECT DISTINCT %[2]s FROM temp.main.%[3]s)", s.table, s.replaceBy, tmp)
		ins = fmt.Sprintf("INSERT INTO main.%s SELECT %s FROM %s", s.table, cols, from)
	} else {
		staged := "temp.main." + tmp
		if mapped {
			// The stored rows hold person ids: compare keys after mapping.
			staged = fmt.Sprintf("(SELECT %s FROM %s)", cols, from)
		}
		if len(s.key) == 1 {
			del = fmt.Sprintf("DELETE FROM main.%[1]s WHERE %[2]s IN (SELECT %[2]s FROM %[3]s)", s.table, keys, staged)
		} else {
			del = fmt.Sprintf("DELETE FROM main.%s WHERE (%s) IN (SELECT (%s) FROM %s)", s.table, keys, keys, staged)
		}
		tkeys := "t." + strings.Join(s.key, ", t.")
		ins = fmt.Sprintf("INSERT INTO main.%s SELECT * EXCLUDE (rn) FROM (SELECT %s, row_number() OVER (PARTITION BY %s ORDER BY t.rowid DESC) AS rn FROM %s) WHERE rn = 1",
			s.table, cols, tkeys, from)
	}
	if _, err := c.ExecContext(ctx, del); err != nil {
		return fmt.Errorf("replace %s rows: %w", s.table, err)
	}
	if s.replaceBy == "" && !mapped {
		// Deduplicated in Go (lastRows): no window needed.
		ins = fmt.Sprintf("INSERT INTO main.%s SELECT %s FROM %s", s.table, cols, from)
	} else if s.replaceBy == "" {
		// Most batches carry each key once: skip the window when they do.
		var dups int64
		q := fmt.Sprintf("SELECT count(*) - count(DISTINCT (%s)) FROM temp.main.%s", keys, tmp)
		if len(s.key) == 1 {
			q = fmt.Sprintf("SELECT count(*) - count(DISTINCT %s) FROM temp.main.%s", keys, tmp)
		}
		if err := c.QueryRowContext(ctx, q).Scan(&dups); err != nil {
			return fmt.Errorf("check duplicate %s keys: %w", s.table, err)
		}
		if dups == 0 {
			ins = fmt.Sprintf("INSERT INTO main.%s SELECT %s FROM %s", s.table, cols, from)
		}
	}
	if _, err := c.ExecContext(ctx, ins); err != nil {
		return fmt.Errorf("insert %s rows: %w", s.table, err)
	}
	return nil
}

// lastRows is rows keeping the last row of each key (the first n values
// of a row), in order: the last row of a key in a batch wins.
func lastRows(rows [][]driver.Value, n int) [][]driver.Value {
	type key [3]driver.Value
	keyOf := func(r []driver.Value) (k key) {
		copy(k[:], r[:n])
		return k
	}
	last := make(map[key]int, len(rows))
	for i, r := range rows {
		last[keyOf(r)] = i
	}
	if len(last) == len(rows) {
		return rows
	}
	out := make([][]driver.Value, 0, len(last))
	for i, r := range rows {
		if last[keyOf(r)] == i {
			out = append(out, r)
		}
	}
	return out
}

// withPersons is the select list and FROM clause that read rows from src
// (as t) with the account ids in the persons columns mapped to person ids:
// mapped while the rows move to the table (an UPDATE of staged rows cost
// ~2 s per 100,000 items).
func withPersons(src string, persons []string) (cols, from string) {
	from = src + " t"
	var mapped []string
	for i, col := range persons {
		from += fmt.Sprintf(" LEFT JOIN main.person_accounts p%[1]d ON p%[1]d.account_id = t.%[2]s", i, col)
		mapped = append(mapped, fmt.Sprintf("coalesce(p%d.person_id, t.%s) AS %s", i, col, col))
	}
	if len(mapped) == 0 {
		return "t.*", from
	}
	return "t.* REPLACE (" + strings.Join(mapped, ", ") + ")", from
}

// upsertFill stores a Bulk hand-over's rows straight into the table (no
// staging copy): the stored rows of its keys go, its rows come in with
// account ids mapped to person ids.
func upsertFill(ctx context.Context, c *sql.Conn, s stage) error {
	var stored bool
	if err := c.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM main."+s.table+")").Scan(&stored); err != nil {
		return fmt.Errorf("replace %s rows: %w", s.table, err)
	}
	if stored && !s.fresh { // a first import has nothing to replace
		col := s.replaceBy
		if col == "" {
			col = s.key[0]
		}
		if _, err := c.ExecContext(ctx, fmt.Sprintf("DELETE FROM main.%s WHERE %s IN (%s)", s.table, col, s.fillKeys)); err != nil {
			return fmt.Errorf("replace %s rows: %w", s.table, err)
		}
	}
	cols, from := withPersons("("+s.fill+")", s.persons)
	names := ""
	if len(s.columns) > 0 {
		names = " (" + strings.Join(s.columns, ", ") + ")"
	}
	if _, err := c.ExecContext(ctx, fmt.Sprintf("INSERT INTO main.%s%s SELECT %s FROM %s", s.table, names, cols, from)); err != nil {
		return fmt.Errorf("insert %s rows: %w", s.table, err)
	}
	return nil
}

// commitMilestones upserts milestones (the last of an id in the batch wins)
// and records due-date changes: those the source reports, else one per
// due date that differs from the stored one (seen now). Set-based: a
// handful of statements whatever the number of milestones.
func commitMilestones(ctx context.Context, c *sql.Conn, ch changed, source string, ms []ingest.Milestone, now time.Time) error {
	if len(ms) == 0 {
		return nil
	}
	ids := make([]driver.Value, 0, len(ms))
	last := map[string]int{}
	var renamed [][]driver.Value // external id → the milestone id it has now
	for i, m := range ms {
		mid := milestoneID(source, m)
		if _, seen := last[mid]; !seen {
			ids = append(ids, mid)
		}
		last[mid] = i
		if m.ExternalID != "" {
			renamed = append(renamed, []driver.Value{m.ExternalID, mid, id(source, m.Project)})
		}
	}
	if err := renameMilestones(ctx, c, ch, source, renamed); err != nil {
		return err
	}
	// What is stored now.
	if err := keyTable(ctx, c, "milestone_keys", ids); err != nil {
		return fmt.Errorf("read milestones: %w", err)
	}
	type stored struct{ due, base sql.NullTime }
	old := map[string]stored{}
	rows, err := c.QueryContext(ctx, "SELECT milestone_id, due_date, baseline_due_date FROM main.milestones WHERE milestone_id IN (SELECT k FROM temp.main.milestone_keys)")
	if err != nil {
		return fmt.Errorf("read milestones: %w", err)
	}
	for rows.Next() {
		var id string
		var st stored
		if err := rows.Scan(&id, &st.due, &st.base); err != nil {
			rows.Close()
			return fmt.Errorf("read milestones: %w", err)
		}
		old[id] = st
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read milestones: %w", err)
	}

	var mRows, chRows [][]driver.Value
	for _, k := range ids {
		mid := k.(string)
		m := ms[last[mid]]
		prev, exists := old[mid]
		base := date(m.BaselineDueDate)
		if base == nil && prev.base.Valid {
			base = prev.base.Time
		}
		if base == nil {
			base = date(m.DueDate)
		}
		mRows = append(mRows, []driver.Value{mid, source, id(source, m.Project), m.Name, date(m.StartDate), base, date(m.DueDate), ts(m.CompletedAt), m.Released, str(m.ExternalID)})
		changes := m.DueChanges
		if len(changes) == 0 {
			newDue := date(m.DueDate)
			switch {
			case exists && newDue != nil && (!prev.due.Valid || !prev.due.Time.Equal(newDue.(time.Time))):
				var was time.Time
				if prev.due.Valid {
					was = prev.due.Time
				}
				changes = []ingest.DueChange{{ObservedAt: now, Old: was, New: m.DueDate, Origin: "sync"}}
			case !exists && newDue != nil && base != nil && !base.(time.Time).Equal(newDue.(time.Time)):
				// The source knows a baseline but not when it moved: one change, seen now.
				changes = []ingest.DueChange{{ObservedAt: now, Old: base.(time.Time), New: m.DueDate, Origin: "sync"}}
			}
		}
		for _, ch := range changes {
			chRows = append(chRows, []driver.Value{mid, ch.ObservedAt.UTC(), date(ch.Old), date(ch.New), ch.Origin})
		}
	}
	if err := deleteKeys(ctx, c, "milestones", "milestone_id", ids); err != nil {
		return err
	}
	if err := appendRows(c, false, "milestones", mRows); err != nil {
		return err
	}
	if len(chRows) == 0 {
		return nil
	}
	if _, err := c.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE stage_due_changes AS SELECT * FROM main.milestone_due_changes LIMIT 0"); err != nil {
		return fmt.Errorf("store due changes: %w", err)
	}
	if err := appendRows(c, true, "stage_due_changes", chRows); err != nil {
		return err
	}
	for _, q := range []string{
		`DELETE FROM main.milestone_due_changes d WHERE EXISTS (SELECT 1 FROM temp.main.stage_due_changes s
			WHERE s.milestone_id = d.milestone_id AND s.observed_at = d.observed_at AND s.new_due_date IS NOT DISTINCT FROM d.new_due_date)`,
		`INSERT INTO main.milestone_due_changes SELECT DISTINCT ON (milestone_id, observed_at, new_due_date) * FROM temp.main.stage_due_changes`,
	} {
		if _, err := c.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("store due changes: %w", err)
		}
	}
	return nil
}

// worklogProblemFile is the ingest_problems.file of worklogs the store
// rejects (item_key holds the worklog's id).
const worklogProblemFile = "worklogs"

// clearWorklogProblems deletes the stored problems of the worklogs ids (a
// new version of each is in the batch).
func clearWorklogProblems(ctx context.Context, c *sql.Conn, source string, ids []driver.Value) error {
	var stored bool
	if err := c.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM main.ingest_problems WHERE source_id = ? AND file = ?)",
		source, worklogProblemFile).Scan(&stored); err != nil {
		return fmt.Errorf("clear worklog problems: %w", err)
	}
	if !stored || len(ids) == 0 {
		return nil
	}
	if err := keyTable(ctx, c, "worklog_problem_keys", ids); err != nil {
		return fmt.Errorf("clear worklog problems: %w", err)
	}
	if _, err := c.ExecContext(ctx, "DELETE FROM main.ingest_problems WHERE source_id = ? AND file = ? AND item_key IN (SELECT k FROM temp.main.worklog_problem_keys)",
		source, worklogProblemFile); err != nil {
		return fmt.Errorf("clear worklog problems: %w", err)
	}
	return nil
}

// clearSource removes what source stored (see ingest.Batch.Snapshot):
// its items with their histories, worklogs and sprint memberships, raw
// payloads, projects, sprints, time off, people's accounts (and people left
// without any), and input problems. Milestones are swept by keepMilestones.
func clearSource(ctx context.Context, c *sql.Conn, source string, keepItems bool) error {
	items := `(SELECT item_id FROM main.work_items WHERE source_id = $1)`
	var steps []struct{ what, sql string }
	if !keepItems {
		steps = append(steps, []struct{ what, sql string }{
			{"status changes", `DELETE FROM main.status_changes WHERE item_id IN ` + items},
			{"worklogs", `DELETE FROM main.worklogs WHERE item_id IN ` + items},
		}...)
	}
	steps = append(steps, struct{ what, sql string }{"sprint memberships", `DELETE FROM main.sprint_items WHERE item_id IN ` + items})
	if !keepItems {
		steps = append(steps, struct{ what, sql string }{"items", `DELETE FROM main.work_items WHERE source_id = $1`})
	}
	for _, q := range append(steps, []struct{ what, sql string }{
		{"raw payloads", `DELETE FROM main.raw_payloads WHERE source_id = $1`},
		{"projects", `DELETE FROM main.projects WHERE source_id = $1`},
		{"sprints", `DELETE FROM main.sprints WHERE source_id = $1`},
		// Rows stored before time_off had a source: those of its people.
		{"time off", `DELETE FROM main.time_off WHERE source_id = $1
			OR (source_id IS NULL AND person_id IN (SELECT person_id FROM main.person_accounts WHERE source_id = $1))`},
		{"people", `CREATE OR REPLACE TEMP TABLE cleared_people AS SELECT DISTINCT person_id FROM main.person_accounts WHERE source_id = $1`},
		{"accounts", `DELETE FROM main.person_accounts WHERE source_id = $1`},
		{"people", `DELETE FROM main.people WHERE person_id IN (SELECT person_id FROM temp.main.cleared_people)
			AND person_id NOT IN (SELECT person_id FROM main.person_accounts)`},
		{"problems", `DELETE FROM main.ingest_problems WHERE source_id = $1`},
	}...) {
		var args []any
		if strings.Contains(q.sql, "$1") {
			args = []any{source}
		}
		if _, err := c.ExecContext(ctx, q.sql, args...); err != nil {
			return fmt.Errorf("replace what %s stored: %s: %w", source, q.what, err)
		}
	}
	return nil
}

// keepMilestones removes the milestones of source that a snapshot did not
// send, with their due-date history.
func keepMilestones(ctx context.Context, c *sql.Conn, source string, ms []ingest.Milestone) error {
	ids := make([]driver.Value, len(ms))
	for i, m := range ms {
		ids[i] = milestoneID(source, m)
	}
	if err := keyTable(ctx, c, "kept_milestones", ids); err != nil {
		return fmt.Errorf("sweep milestones: %w", err)
	}
	gone := `(SELECT milestone_id FROM main.milestones WHERE source_id = $1 AND milestone_id NOT IN (SELECT k FROM temp.main.kept_milestones))`
	for _, q := range []string{
		`DELETE FROM main.milestone_due_changes WHERE milestone_id IN ` + gone,
		`DELETE FROM main.milestones WHERE milestone_id IN ` + gone,
	} {
		if _, err := c.ExecContext(ctx, q, source); err != nil {
			return fmt.Errorf("sweep milestones: %w", err)
		}
	}
	return nil
}

// renameMilestones moves stored milestones whose vendor id now has another
// milestone id (a renamed version, an epic moved to another project) to
// that id, in place: the row keeps its baseline, its due-date history
// follows, and so do the items pointing at it (those in another project
// than the milestone's new one lose it, as a fresh read would give them).
// rows are (external id, new milestone id, new project id).
func renameMilestones(ctx context.Context, c *sql.Conn, ch changed, source string, rows [][]driver.Value) error {
	if len(rows) == 0 {
		return nil
	}
	if _, err := c.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE milestone_ext (ext VARCHAR, new_id VARCHAR, new_project VARCHAR)"); err != nil {
		return fmt.Errorf("renamed milestones: %w", err)
	}
	if err := appendRows(c, true, "milestone_ext", rows); err != nil {
		return err
	}
	stmts := []struct{ what, sql string }{
		{"find", `CREATE OR REPLACE TEMP TABLE renamed_milestones AS
			SELECT DISTINCT ON (m.milestone_id) m.milestone_id AS old_id, e.new_id, e.new_project
			FROM main.milestones m JOIN temp.main.milestone_ext e ON e.ext = m.external_id
			WHERE m.source_id = ? AND m.milestone_id <> e.new_id`},
		// A stale row already holding the new id gives way.
		{"clear", `DELETE FROM main.milestones WHERE milestone_id IN (SELECT new_id FROM temp.main.renamed_milestones)`},
		{"clear history", `DELETE FROM main.milestone_due_changes WHERE milestone_id IN (SELECT new_id FROM temp.main.renamed_milestones)`},
		{"rename", `UPDATE main.milestones m SET milestone_id = r.new_id, project_id = r.new_project
			FROM temp.main.renamed_milestones r WHERE m.milestone_id = r.old_id`},
		{"move history", `UPDATE main.milestone_due_changes d SET milestone_id = r.new_id
			FROM temp.main.renamed_milestones r WHERE d.milestone_id = r.old_id`},
		{"record changed items", `INSERT INTO main.compute_dirty SELECT item_id FROM main.work_items
			WHERE milestone_id IN (SELECT old_id FROM temp.main.renamed_milestones) AND source_id = ? AND ` + onSQL(ch)},
		{"move items", `UPDATE main.work_items w SET milestone_id = CASE WHEN w.project_id = r.new_project THEN r.new_id END
			FROM temp.main.renamed_milestones r WHERE w.milestone_id = r.old_id AND w.source_id = ?`},
	}
	for i, st := range stmts {
		var args []any
		if strings.Contains(st.sql, "?") {
			args = []any{source}
		}
		if _, err := c.ExecContext(ctx, st.sql, args...); err != nil {
			return fmt.Errorf("renamed milestones: %s: %w", st.what, err)
		}
		if i == 0 {
			// Most batches rename none: the rest would change nothing.
			var n int
			if err := c.QueryRowContext(ctx, "SELECT count(*) FROM temp.main.renamed_milestones").Scan(&n); err != nil {
				return fmt.Errorf("renamed milestones: %w", err)
			}
			if n == 0 {
				return nil
			}
		}
	}
	return nil
}

// milestoneID is <source>:<project>:<name>, or <source>::<name> without a project.
func milestoneID(source string, m ingest.Milestone) string {
	if mid := id(source, m.Project, m.Name); mid != nil {
		return mid.(string)
	}
	return source + "::" + m.Name
}

// lastHistories groups transitions by item in order of appearance; an item
// whose history appears twice in one batch keeps the later one. Two copies
// of a history can also sit back to back (an issue on two adjacent pages):
// a copy starts again where the run repeats its creation transition (From
// empty, the same time and status as the run's first), so a repeated item
// can never double its history.
func lastHistories(ts []ingest.Transition) [][]ingest.Transition {
	var groups [][]ingest.Transition
	at := map[string]int{}
	for i := 0; i < len(ts); {
		j := i + 1
		for j < len(ts) && ts[j].ItemKey == ts[i].ItemKey && !restarts(ts[i], ts[j]) {
			j++
		}
		if k, seen := at[ts[i].ItemKey]; seen {
			groups[k] = nil
		}
		at[ts[i].ItemKey] = len(groups)
		groups = append(groups, ts[i:j])
		i = j
	}
	return groups
}

// restarts reports whether t repeats first, the creation transition that
// opens a history.
func restarts(first, t ingest.Transition) bool {
	return first.From == "" && t.From == "" && t.At.Equal(first.At) && t.To == first.To && t.ToCategory == first.ToCategory
}

// deleteKeys deletes the rows of table whose col is one of keys, in one
// statement through a temporary key table.
func deleteKeys(ctx context.Context, c *sql.Conn, table, col string, keys []driver.Value) error {
	if len(keys) == 0 {
		return nil
	}
	if err := keyTable(ctx, c, "delete_keys", keys); err != nil {
		return fmt.Errorf("delete %s rows: %w", table, err)
	}
	if _, err := c.ExecContext(ctx, fmt.Sprintf("DELETE FROM main.%s WHERE %s IN (SELECT k FROM temp.main.delete_keys)", table, col)); err != nil {
		return fmt.Errorf("delete %s rows: %w", table, err)
	}
	return nil
}

// keyTable (re)creates the temporary table name(k VARCHAR) holding keys,
// for set-based statements over them.
func keyTable(ctx context.Context, c *sql.Conn, name string, keys []driver.Value) error {
	if _, err := c.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE "+name+" (k VARCHAR)"); err != nil {
		return err
	}
	rows := make([][]driver.Value, len(keys))
	for i, k := range keys {
		rows[i] = []driver.Value{k}
	}
	return appendRows(c, true, name, rows)
}

// moveItems handles items the batch carries under a new key (same vendor
// id: a Jira issue moved to another project): the old key is marked
// deleted (a reconciliation may have done so already), and its children
// (parent_id) follow it without waiting for their own update. (What else a
// child derives from its parent, such as an epic milestone, is for the
// connector to send: the Jira connector reads such children again.)
func moveItems(ctx context.Context, c *sql.Conn, ch changed, source string) (moved bool, err error) {
	find := `SELECT w.item_id AS old_id, s.item_id AS new_id
		FROM main.work_items w JOIN temp.main.stage_work_items s ON s.external_id = w.external_id
		WHERE w.source_id = ? AND w.item_id <> s.item_id`
	// Most batches move none: one statement finds out.
	if err := c.QueryRowContext(ctx, "SELECT EXISTS ("+find+")", source).Scan(&moved); err != nil {
		return false, fmt.Errorf("moved items: %w", err)
	}
	if !moved {
		return false, nil
	}
	stmts := []struct{ what, sql string }{
		{"find moved items", `CREATE OR REPLACE TEMP TABLE moved_items AS ` + find},
		{"mark moved items", `UPDATE main.work_items SET deleted = true WHERE NOT deleted AND item_id IN (SELECT old_id FROM temp.main.moved_items)`},
		{"record changed items", `INSERT INTO main.compute_dirty SELECT old_id FROM temp.main.moved_items WHERE ` + onSQL(ch) + `
			UNION ALL SELECT item_id FROM main.work_items WHERE parent_id IN (SELECT old_id FROM temp.main.moved_items) AND source_id = ? AND ` + onSQL(ch)},
		{"move children", `UPDATE main.work_items w SET parent_id = m.new_id FROM temp.main.moved_items m
			WHERE w.parent_id = m.old_id AND w.source_id = ?`},
	}
	for _, st := range stmts {
		var args []any
		if strings.Contains(st.sql, "?") {
			args = []any{source}
		}
		if _, err := c.ExecContext(ctx, st.sql, args...); err != nil {
			return false, fmt.Errorf("moved items: %s: %w", st.what, err)
		}
	}
	return true, nil
}

// reconcile marks the source's items whose keys are not in live deleted, and
// those in live that were marked deleted live again.
func reconcile(ctx context.Context, c *sql.Conn, ch changed, source string, live []string) error {
	if _, err := c.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE live_items (item_id VARCHAR)"); err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	rows := make([][]driver.Value, len(live))
	for i, k := range live {
		rows[i] = []driver.Value{id(source, k)}
	}
	if err := appendRows(c, true, "live_items", rows); err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	if err := ch.items(ctx, c, `SELECT item_id FROM main.work_items WHERE source_id = ?
		AND deleted <> (item_id NOT IN (SELECT item_id FROM temp.main.live_items))`, source); err != nil {
		return err
	}
	if _, err := c.ExecContext(ctx, `UPDATE work_items SET deleted = (item_id NOT IN (SELECT item_id FROM temp.main.live_items))
		WHERE source_id = ? AND deleted <> (item_id NOT IN (SELECT item_id FROM temp.main.live_items))`, source); err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	return nil
}

// commitPeople records each account and merges it into its person: the
// person of an account with an email is person:<lower-case email>, shared
// by every source; without one it is the account itself. When an account
// moves to another person (its email became known), the rows that named
// the old person follow.
func commitPeople(ctx context.Context, c *sql.Conn, ch changed, source string, ps []ingest.Person) error {
	if len(ps) == 0 {
		return nil
	}
	rows := make([][]driver.Value, 0, len(ps))
	for _, p := range ps {
		acct := source + ":" + p.ExternalID
		pid := acct
		email := strings.ToLower(strings.TrimSpace(p.Email))
		if email != "" {
			pid = "person:" + email
		}
		var hpw any
		if p.HoursPerWeek != nil {
			hpw = *p.HoursPerWeek
		}
		rows = append(rows, []driver.Value{acct, p.ExternalID, pid, str(p.DisplayName), str(email), str(p.Team), hpw})
	}
	// The last row of an account in the batch wins.
	rows = lastRows(rows, 1)
	if _, err := c.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE stage_people (account_id VARCHAR, external_id VARCHAR, person_id VARCHAR,
		display_name VARCHAR, email VARCHAR, team_id VARCHAR, hours_per_week DOUBLE)`); err != nil {
		return fmt.Errorf("stage people: %w", err)
	}
	if err := appendRows(c, true, "stage_people", rows); err != nil {
		return err
	}
	stmts := []struct{ what, sql string }{
		// Accounts whose person changes: remember old → new.
		{"find moved accounts", `CREATE OR REPLACE TEMP TABLE moved_people AS
			SELECT DISTINCT a.person_id AS old_id, s.person_id AS new_id FROM main.person_accounts a
			JOIN temp.main.stage_people s USING (account_id) WHERE a.person_id <> s.person_id`},
		{"replace accounts", `DELETE FROM main.person_accounts WHERE account_id IN (SELECT account_id FROM temp.main.stage_people)`},
		{"insert accounts", `INSERT INTO main.person_accounts SELECT account_id, ?, external_id, person_id, display_name, email FROM temp.main.stage_people`},
		// One row per person: new values win, empty ones keep what was known.
		{"merge people", `CREATE OR REPLACE TEMP TABLE merged_people AS
			SELECT s.person_id,
				coalesce(p.source_id, ?) AS source_id,
				coalesce(p.external_id, CASE WHEN s.email IS NOT NULL THEN s.email ELSE s.external_id END) AS external_id,
				coalesce(s.display_name, p.display_name) AS display_name,
				coalesce(s.email, p.email) AS email,
				coalesce(s.team_id, p.team_id) AS team_id,
				coalesce(s.hours_per_week, p.hours_per_week) AS hours_per_week
			FROM (SELECT person_id, last(display_name ORDER BY rowid) FILTER (WHERE display_name IS NOT NULL) AS display_name,
					any_value(email) FILTER (WHERE email IS NOT NULL) AS email,
					last(team_id ORDER BY rowid) FILTER (WHERE team_id IS NOT NULL) AS team_id,
					last(hours_per_week ORDER BY rowid) FILTER (WHERE hours_per_week IS NOT NULL) AS hours_per_week,
					first(external_id ORDER BY rowid) AS external_id
				FROM temp.main.stage_people GROUP BY person_id) s
			LEFT JOIN main.people p USING (person_id)`},
		{"replace people", `DELETE FROM main.people WHERE person_id IN (SELECT person_id FROM temp.main.merged_people)`},
		{"insert people", `INSERT INTO main.people SELECT person_id, source_id, external_id, display_name, email, team_id, hours_per_week FROM temp.main.merged_people`},
	}
	moves := []struct{ what, sql string }{
		// Rows that named a person an account left now name its new person
		// (their items are recomputed).
		{"record changed items", `INSERT INTO main.compute_dirty
			SELECT item_id FROM main.work_items WHERE assignee_id IN (SELECT old_id FROM temp.main.moved_people) AND ` + onSQL(ch) + `
			UNION ALL SELECT DISTINCT item_id FROM main.worklogs WHERE person_id IN (SELECT old_id FROM temp.main.moved_people) AND ` + onSQL(ch)},
		{"save moved worklogs", `INSERT INTO main.compute_old_worklogs
			SELECT worklog_id, item_id, person_id, started_at, seconds FROM main.worklogs
			WHERE person_id IN (SELECT old_id FROM temp.main.moved_people) AND ` + onSQL(ch) + `
				AND worklog_id NOT IN (SELECT worklog_id FROM main.compute_old_worklogs)`},
		{"move assignees", `UPDATE main.work_items w SET assignee_id = m.new_id FROM temp.main.moved_people m WHERE w.assignee_id = m.old_id`},
		{"move worklogs", `UPDATE main.worklogs w SET person_id = m.new_id FROM temp.main.moved_people m WHERE w.person_id = m.old_id`},
		{"move authors", `UPDATE main.status_changes w SET author_id = m.new_id FROM temp.main.moved_people m WHERE w.author_id = m.old_id`},
		{"move time off", `UPDATE main.time_off w SET person_id = m.new_id FROM temp.main.moved_people m WHERE w.person_id = m.old_id`},
		{"drop people left without accounts", `DELETE FROM main.people WHERE person_id IN (SELECT old_id FROM temp.main.moved_people)
			AND person_id NOT IN (SELECT person_id FROM main.person_accounts)`},
	}
	for i, st := range append(stmts, moves...) {
		if i == len(stmts) {
			// Most batches move no account: skip what follows moves.
			var n int
			if err := c.QueryRowContext(ctx, "SELECT count(*) FROM temp.main.moved_people").Scan(&n); err != nil {
				return fmt.Errorf("people: moved accounts: %w", err)
			}
			if n == 0 {
				return nil
			}
		}
		var args []any
		if strings.Contains(st.sql, "?") {
			args = []any{source}
		}
		if _, err := c.ExecContext(ctx, st.sql, args...); err != nil {
			return fmt.Errorf("people: %s: %w", st.what, err)
		}
	}
	return nil
}

// quote is s as a SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// sqlID is the SQL of id(source, cols...): NULL when a column is empty.
func sqlID(src string, cols ...string) string {
	var cond []string
	expr := src
	for _, col := range cols {
		cond = append(cond, col+" <> ''")
		expr += " || ':' || " + col
	}
	return "CASE WHEN " + strings.Join(cond, " AND ") + " THEN " + expr + " END"
}

// CanLoadFiles reports whether the warehouse's SQL may read files: not
// once Lockdown has run. serve's warehouse is not locked down (the SQL API
// reads a published snapshot in other processes), so it loads in bulk.
func (db *DB) CanLoadFiles(ctx context.Context) bool {
	var on bool
	if err := db.QueryRowContext(ctx, "SELECT current_setting('enable_external_access')::BOOLEAN").Scan(&on); err != nil {
		return false
	}
	return on
}

// runBulk runs a Bulk hand-over's statements on c (those of its CSV
// files, csvStatements, or its own; insertion order kept, see ingest.Bulk)
// and returns the people it names.
func runBulk(ctx context.Context, c *sql.Conn, b *ingest.Bulk) ([]ingest.Person, error) {
	statements := b.Statements
	if len(b.Files) > 0 {
		if _, err := c.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE bulk_lines (file VARCHAR, rec BIGINT, line INTEGER)"); err != nil {
			return nil, fmt.Errorf("bulk: %w", err)
		}
		for _, f := range b.Files {
			rows := make([][]driver.Value, len(f.Lines))
			for i, l := range f.Lines {
				rows[i] = []driver.Value{f.Name, int64(i), l}
			}
			if err := appendRows(c, true, "bulk_lines", rows); err != nil {
				return nil, fmt.Errorf("bulk: lines of %s: %w", f.Name, err)
			}
		}
		statements = csvStatements(b.Files, b.Zone, b.People)
	}
	// A statement may preserve insertion order (ingest.Bulk); the
	// connection returns to the pool without it.
	defer c.ExecContext(context.WithoutCancel(ctx), "RESET SESSION preserve_insertion_order")
	for i, st := range statements {
		if _, err := c.ExecContext(ctx, st); err != nil {
			return nil, fmt.Errorf("bulk statement %d of %d: %w", i+1, len(statements), err)
		}
	}
	if _, err := c.ExecContext(ctx, "RESET SESSION preserve_insertion_order"); err != nil {
		return nil, fmt.Errorf("bulk: %w", err)
	}
	rows, err := c.QueryContext(ctx, "SELECT external_id, coalesce(email, ''), coalesce(display_name, '') FROM temp.main.bulk_people")
	if err != nil {
		return nil, fmt.Errorf("bulk: read people: %w", err)
	}
	defer rows.Close()
	var out []ingest.Person
	for rows.Next() {
		var p ingest.Person
		if err := rows.Scan(&p.ExternalID, &p.Email, &p.DisplayName); err != nil {
			return nil, fmt.Errorf("bulk: read people: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("bulk: read people: %w", err)
	}
	return out, nil
}

// mergesSnapshot tells whether b is stored by difference (mergeSnapshot):
// a bulk snapshot of a source the warehouse holds items of. Commit asks
// before the batch's transaction (the histories are prepared for it
// there); syncs of a warehouse run one at a time.
func mergesSnapshot(ctx context.Context, c *sql.Conn, source string, b ingest.Batch) (bool, error) {
	if b.Bulk == nil || !b.Snapshot {
		return false, nil
	}
	var stored bool
	if err := c.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM main.work_items WHERE source_id = ?)", source).Scan(&stored); err != nil {
		return false, fmt.Errorf("read stored items: %w", err)
	}
	return stored, nil
}

// historyFill is the SELECT of the status_changes rows of a Bulk
// hand-over's histories (bulk_transitions) for the source src (quoted).
func historyFill(src string) string {
	return `SELECT ` + src + ` || ':' || key AS item_id, seq, changed_at,
		CASE WHEN seq > 0 THEN coalesce(nullif(from_status, ''), '` + ingest.UnknownStatus + `') END AS from_status,
		coalesce(nullif(to_status, ''), '` + ingest.UnknownStatus + `') AS to_status, NULL::VARCHAR AS from_stage, NULL::VARCHAR AS to_stage,
		nullif(from_category, '') AS from_category, nullif(to_category, '') AS to_category, NULL::VARCHAR AS author_id,
		NULL::VARCHAR AS approximated_from
		FROM temp.main.bulk_transitions`
}

// mergePlan is how a batch is stored: merge, by difference
// (mergesSnapshot); only, when merging, the histories rebuilt and replaced
// are those of the items in bulk_rebuild (keepHistories).
type mergePlan struct {
	merge, only bool
}

// keepHistories computes the histories of a Bulk hand-over merged into a
// source (mergeSnapshot) once, into a table: a view may number every
// change with a window (csvHistories does) and mergeSnapshot reads them
// twice (to compare, then to copy those that changed). When the hand-over
// is a CSV folder's and the store kept the source's fingerprints from its
// last import, only the histories whose fingerprint differs are built
// (bulk_rebuild(key, item_id) lists their items, those added or removed
// included; key is NULL for those removed);
// mergeSnapshot then replaces them without comparing. It runs before the
// batch's transaction, as the hand-over does (Commit).
func keepHistories(ctx context.Context, c *sql.Conn, source string, b *ingest.Bulk) (mergePlan, error) {
	m := mergePlan{merge: true}
	var view bool
	if err := c.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM duckdb_views() WHERE temporary AND view_name = 'bulk_transitions')`).Scan(&view); err != nil {
		return m, fmt.Errorf("bulk: read the histories: %w", err)
	}
	if !view {
		return m, nil
	}
	histories := "SELECT * FROM temp.main.bulk_transitions"
	if len(b.Files) > 0 {
		if err := c.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM main.history_fingerprints WHERE source_id = ?)", source).Scan(&m.only); err != nil {
			return m, fmt.Errorf("bulk: read the stored fingerprints: %w", err)
		}
	}
	if m.only {
		src := quote(source)
		if _, err := c.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE bulk_rebuild AS
			SELECT n.key, coalesce(n.item_id, o.item_id) AS item_id
			FROM (SELECT key, `+src+` || ':' || key AS item_id, fingerprint FROM temp.main.bulk_fingerprints) n
			FULL OUTER JOIN (SELECT item_id, fingerprint FROM main.history_fingerprints WHERE source_id = `+src+`) o ON o.item_id = n.item_id
			WHERE n.fingerprint IS DISTINCT FROM o.fingerprint`); err != nil {
			return m, fmt.Errorf("bulk: compare the fingerprints: %w", err)
		}
		histories = csvHistories(hasFile(b.Files, ingest.CSVChanges), "SELECT key FROM temp.main.bulk_rebuild")
	}
	for _, q := range []string{
		"CREATE OR REPLACE TEMP TABLE bulk_transitions_kept AS " + histories,
		"CREATE OR REPLACE TEMP VIEW bulk_transitions AS SELECT * FROM temp.main.bulk_transitions_kept",
	} {
		if _, err := c.ExecContext(ctx, q); err != nil {
			return m, fmt.Errorf("bulk: keep the histories: %w", err)
		}
	}
	return m, nil
}

// storeFingerprints keeps the history fingerprints of a CSV folder's Bulk
// hand-over (all of the source's, or those of the histories it rebuilt),
// and deletes the source's after any other batch: they describe
// what the last bulk import built, and only a bulk import that rebuilt what
// differs from them keeps them true.
func storeFingerprints(ctx context.Context, c *sql.Conn, source string, b ingest.Batch, m mergePlan) error {
	src := quote(source)
	del := `DELETE FROM main.history_fingerprints WHERE source_id = ` + src
	var ins string
	if b.Bulk != nil && len(b.Bulk.Files) > 0 {
		ins = `INSERT INTO main.history_fingerprints SELECT ` + src + `, ` + src + ` || ':' || f.key, f.fingerprint
			FROM temp.main.bulk_fingerprints f`
		if m.only {
			del = `DELETE FROM main.history_fingerprints WHERE item_id IN (SELECT item_id FROM temp.main.bulk_rebuild)`
			ins += ` WHERE f.key IN (SELECT key FROM temp.main.bulk_rebuild)`
		}
	}
	if _, err := c.ExecContext(ctx, del); err != nil {
		return fmt.Errorf("replace the history fingerprints: %w", err)
	}
	if ins != "" {
		if _, err := c.ExecContext(ctx, ins); err != nil {
			return fmt.Errorf("store the history fingerprints: %w", err)
		}
	}
	return nil
}

// dropBulkTables drops the temporary tables of a Bulk hand-over (they can
// hold millions of rows).
func dropBulkTables(ctx context.Context, c *sql.Conn) {
	rows, err := c.QueryContext(ctx, `SELECT 'VIEW', view_name FROM duckdb_views() WHERE temporary AND view_name LIKE 'bulk\_%' ESCAPE '\'
		UNION ALL SELECT 'TABLE', table_name FROM duckdb_tables() WHERE temporary AND table_name LIKE 'bulk\_%' ESCAPE '\'
		ORDER BY 1 DESC`)
	if err != nil {
		return
	}
	var drops []string
	for rows.Next() {
		var kind, n string
		if rows.Scan(&kind, &n) == nil {
			drops = append(drops, "DROP "+kind+" IF EXISTS temp.main."+n)
		}
	}
	rows.Close()
	for _, d := range drops {
		c.ExecContext(ctx, d)
	}
}
