package warehouse

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// mergeSnapshot stores a Bulk hand-over that re-sends everything a source
// holds (a CSV folder read afresh) by difference: the items, histories and
// worklogs that are the same as stored stay untouched (with the columns the
// compute derived), the others are replaced, added or removed, and only
// their items are recorded for the next compute. items, hist and worklogs
// are the fill stages of work_items, status_changes and worklogs.
//
// Items are compared by a 64-bit hash of their columns (typed as stored)
// and worklogs column by column; an item's history by its number of
// changes and the sum of a 64-bit hash of each change (its position, time,
// statuses, categories, author and approximation): two different items, or
// two different histories with the same count and sum, are as likely as a
// collision of 64-bit hashes. (The items were copied whole into a
// temporary table and compared column by column: at 1M items the copy took
// 2.1-2.3 s and the comparison 0.8-1.0 s.) With only, the histories are
// not compared: those of the items in bulk_rebuild, whose inputs changed
// since the last import (history_fingerprints), are replaced, and the
// others are neither built nor read (at 1M items building every history
// took 6.5-7 s and comparing them 2.6 s).
func mergeSnapshot(ctx context.Context, c *sql.Conn, ch changed, source string, items, hist, worklogs stage, only bool) error {
	src := quote(source)
	stored := `(SELECT item_id FROM main.work_items WHERE source_id = ` + src + `)`
	icols, ifrom := withPersons("("+items.fill+")", items.persons)
	hcols, hfrom := withPersons("("+hist.fill+")", hist.persons)
	wcols, wfrom := withPersons("("+worklogs.fill+")", worklogs.persons)
	types, err := columnTypes(ctx, c, "work_items")
	if err != nil {
		return err
	}
	var newTyped, storedCols []string
	for _, col := range items.columns {
		if types[col] == "" {
			return fmt.Errorf("store the re-read source: work_items has no column %s", col)
		}
		newTyped = append(newTyped, fmt.Sprintf("CAST(n.%s AS %s)", col, types[col]))
		storedCols = append(storedCols, "w."+col)
	}
	histHash := func(t string) string {
		return fmt.Sprintf(`hash(CAST(%[1]s.seq AS INTEGER), CAST(%[1]s.changed_at AS TIMESTAMPTZ), CAST(%[1]s.from_status AS VARCHAR),
			CAST(%[1]s.to_status AS VARCHAR), CAST(%[1]s.from_category AS VARCHAR), CAST(%[1]s.to_category AS VARCHAR),
			CAST(%[1]s.author_id AS VARCHAR), CAST(%[1]s.approximated_from AS VARCHAR))`, t)
	}
	cols := strings.Join(items.columns, ", ")
	saved := false
	compareHistories := `CREATE OR REPLACE TEMP TABLE merge_hist_changed AS
			WITH n AS (SELECT t.item_id, count(*) AS c, sum(` + histHash("t") + `) AS h FROM (SELECT ` + hcols + ` FROM ` + hfrom + `) t GROUP BY t.item_id),
			o AS (SELECT s.item_id, count(*) AS c, sum(` + histHash("s") + `) AS h FROM main.status_changes s
				WHERE s.item_id IN ` + stored + ` GROUP BY s.item_id)
			SELECT coalesce(n.item_id, o.item_id) AS item_id FROM n FULL OUTER JOIN o ON o.item_id = n.item_id
			WHERE n.c IS DISTINCT FROM o.c OR n.h IS DISTINCT FROM o.h`
	if only {
		// The histories whose inputs changed (keepHistories): replaced
		// without comparing.
		compareHistories = `CREATE OR REPLACE TEMP TABLE merge_hist_changed AS SELECT item_id FROM temp.main.bulk_rebuild`
	}
	steps := []struct{ what, sql string }{
		// What the source says now (worklogs: typed as stored).
		{"read worklogs", `CREATE OR REPLACE TEMP TABLE merge_worklogs AS SELECT * FROM main.worklogs LIMIT 0`},
		{"read worklogs", `INSERT INTO temp.main.merge_worklogs SELECT ` + wcols + ` FROM ` + wfrom},
		// Compared with what is stored (before anything changes).
		{"compare items", `CREATE OR REPLACE TEMP TABLE merge_items_changed AS
			SELECT coalesce(n.item_id, o.item_id) AS item_id
			FROM (SELECT n.item_id, hash(` + strings.Join(newTyped, ", ") + `) AS h FROM (SELECT ` + icols + ` FROM ` + ifrom + `) n(` + cols + `)) n
			FULL OUTER JOIN (SELECT w.item_id, hash(` + strings.Join(storedCols, ", ") + `) AS h FROM main.work_items w WHERE w.source_id = ` + src + `) o
				ON o.item_id = n.item_id
			WHERE n.h IS DISTINCT FROM o.h`},
		{"compare histories", compareHistories},
		{"compare worklogs", `CREATE OR REPLACE TEMP TABLE merge_worklogs_changed AS
			SELECT coalesce(n.worklog_id, o.worklog_id) AS worklog_id, n.item_id AS new_item, o.item_id AS old_item
			FROM temp.main.merge_worklogs n
			FULL OUTER JOIN (SELECT * FROM main.worklogs WHERE item_id IN ` + stored + `) o ON o.worklog_id = n.worklog_id
			WHERE n.worklog_id IS NULL OR o.worklog_id IS NULL OR n.item_id IS DISTINCT FROM o.item_id
				OR n.person_id IS DISTINCT FROM o.person_id OR n.started_at IS DISTINCT FROM o.started_at OR n.seconds IS DISTINCT FROM o.seconds`},
		{"record changed items", `INSERT INTO main.compute_dirty
			SELECT item_id FROM temp.main.merge_items_changed WHERE ` + onSQL(ch) + `
			UNION ALL SELECT item_id FROM temp.main.merge_hist_changed WHERE ` + onSQL(ch) + `
			UNION ALL SELECT new_item FROM temp.main.merge_worklogs_changed WHERE new_item IS NOT NULL AND ` + onSQL(ch) + `
			UNION ALL SELECT old_item FROM temp.main.merge_worklogs_changed WHERE old_item IS NOT NULL AND ` + onSQL(ch)},
		// Replace what differs (saveOld first).
		{"replace items", `DELETE FROM main.work_items WHERE item_id IN (SELECT item_id FROM temp.main.merge_items_changed)`},
		{"replace items", `INSERT INTO main.work_items (` + cols + `) SELECT ` + icols + ` FROM ` + ifrom + `
			WHERE t.item_id IN (SELECT item_id FROM temp.main.merge_items_changed)`},
		{"replace histories", `DELETE FROM main.status_changes WHERE item_id IN (SELECT item_id FROM temp.main.merge_hist_changed)`},
		{"replace histories", `INSERT INTO main.status_changes SELECT ` + hcols + ` FROM ` + hfrom + `
			WHERE t.item_id IN (SELECT item_id FROM temp.main.merge_hist_changed)`},
		{"replace worklogs", `DELETE FROM main.worklogs WHERE worklog_id IN (SELECT worklog_id FROM temp.main.merge_worklogs_changed)`},
		{"replace worklogs", `INSERT INTO main.worklogs SELECT * FROM temp.main.merge_worklogs
			WHERE worklog_id IN (SELECT worklog_id FROM temp.main.merge_worklogs_changed)`},
	}
	for _, st := range steps {
		if st.what == "replace items" && !saved {
			// What the last compute read of them, before it changes.
			if err := ch.oldHistories(ctx, c, `SELECT item_id FROM temp.main.merge_hist_changed`); err != nil {
				return err
			}
			if err := ch.oldWorklogs(ctx, c, `SELECT worklog_id FROM temp.main.merge_worklogs_changed`); err != nil {
				return err
			}
			saved = true
		}
		if _, err := c.ExecContext(ctx, st.sql); err != nil {
			return fmt.Errorf("store the re-read source: %s: %w", st.what, err)
		}
	}
	for _, t := range []string{"merge_worklogs", "merge_items_changed", "merge_hist_changed", "merge_worklogs_changed"} {
		c.ExecContext(ctx, "DROP TABLE IF EXISTS temp.main."+t)
	}
	return nil
}

// columnTypes maps each column of a main table to its SQL type.
func columnTypes(ctx context.Context, c *sql.Conn, table string) (map[string]string, error) {
	rows, err := c.QueryContext(ctx, `SELECT column_name, data_type FROM duckdb_columns()
		WHERE database_name = current_database() AND schema_name = 'main' AND table_name = ?`, table)
	if err != nil {
		return nil, fmt.Errorf("read the columns of %s: %w", table, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var col, typ string
		if err := rows.Scan(&col, &typ); err != nil {
			return nil, fmt.Errorf("read the columns of %s: %w", table, err)
		}
		out[col] = typ
	}
	return out, rows.Err()
}
