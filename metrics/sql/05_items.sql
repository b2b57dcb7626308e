-- The items this compute recomputes: every item (full compute), or those a
-- sync changed (flow_dirty) and those pointing at a row they take
-- attributes from that changed: the key and team of their project, the team
-- of their assignee, whether their parent is an epic (flow_dimensions holds
-- what the last compute read).
CREATE OR REPLACE TEMP TABLE flow_dims AS
SELECT 'project' AS kind, project_id AS id, CAST(to_json([key, team_id]) AS VARCHAR) AS value FROM projects
UNION ALL SELECT 'person', person_id, CAST(to_json([team_id]) AS VARCHAR) FROM people
UNION ALL SELECT 'epic', item_id, NULL FROM work_items WHERE lower(item_type) = 'epic';
{{if not .Full}}
CREATE OR REPLACE TEMP TABLE flow_dims_changed AS
SELECT DISTINCT kind, id FROM (
    (SELECT kind, id, value FROM flow_dims EXCEPT SELECT kind, id, value FROM flow_dimensions)
    UNION ALL
    (SELECT kind, id, value FROM flow_dimensions EXCEPT SELECT kind, id, value FROM flow_dims)
);

INSERT INTO flow_dirty
SELECT item_id FROM work_items
WHERE (project_id IN (SELECT id FROM flow_dims_changed WHERE kind = 'project')
    OR assignee_id IN (SELECT id FROM flow_dims_changed WHERE kind = 'person')
    OR parent_id IN (SELECT id FROM flow_dims_changed WHERE kind = 'epic'))
  AND item_id NOT IN (SELECT item_id FROM temp.main.flow_dirty);
{{end}}
DELETE FROM flow_dimensions;
INSERT INTO flow_dimensions SELECT * FROM flow_dims;

-- Every (team, work class) an item can get, numbered: the teams of the
-- config and of projects, plus unassigned; the classes, plus overrides.
CREATE OR REPLACE TEMP TABLE flow_groups_n AS
SELECT CAST(row_number() OVER (ORDER BY team, work_class) AS INTEGER) AS g, team, work_class
FROM (SELECT name AS team FROM cfg_teams UNION SELECT team_id FROM projects WHERE team_id IS NOT NULL UNION SELECT 'unassigned')
CROSS JOIN (SELECT unnest(['operational', 'project', 'unclassified']) AS work_class
    UNION SELECT DISTINCT work_class_override FROM work_items WHERE work_class_override IS NOT NULL);

-- Per recomputed item, everything that does not depend on its history:
-- attribution, class, and a dense integer n for this compute (every join
-- and group-by over the large history below runs on n, not on the string
-- item_id), and g, the item's (team, work class) group. Deleted items are
-- kept (live false) only so that the stage columns of their status changes
-- are maintained and their statuses stay in the status map.
CREATE OR REPLACE TEMP TABLE flow_items AS
WITH b AS (
SELECT CAST(row_number() OVER () AS INTEGER) AS n, w.item_id, w.key, w.source_id,
    coalesce(tov.team, pt.team_id, pr.team_id, 'unassigned') AS team,
    coalesce(w.work_class_override,
        CASE WHEN lower(w.item_type) IN (SELECT value FROM cfg_class WHERE class = 'operational' AND kind = 'type')
               OR lower(pr.key) IN (SELECT value FROM cfg_class WHERE class = 'operational' AND kind = 'project') THEN 'operational' END,
        CASE WHEN lower(w.item_type) IN (SELECT value FROM cfg_class WHERE class = 'project' AND kind = 'type')
               OR lower(pr.key) IN (SELECT value FROM cfg_class WHERE class = 'project' AND kind = 'project') THEN 'project' END,
        CASE WHEN w.milestone_id IS NOT NULL OR par.item_id IS NOT NULL THEN 'project' END,
        'unclassified') AS work_class,
    w.item_type, pr.key AS project, w.status, w.status_category, w.created_at,
    (lower(w.resolution) IN (SELECT res FROM cfg_discarded) OR lower(w.status) IN (SELECT res FROM cfg_discarded)) AS discarded_res,
    NOT w.deleted AS live,
    w.estimate_seconds IS NULL AND w.assignee_id IS NOT NULL AS no_estimate
FROM {{if .Full}}work_items{{else}}(SELECT * FROM work_items WHERE item_id IN (SELECT item_id FROM temp.main.flow_dirty)){{end}} w
LEFT JOIN projects pr ON pr.project_id = w.project_id
LEFT JOIN (SELECT name AS team FROM cfg_teams) tov ON tov.team = w.team_override
LEFT JOIN (SELECT person_id, team_id FROM people WHERE team_id IN (SELECT name FROM cfg_teams)) pt ON pt.person_id = w.assignee_id
-- Only epics make a parent count (lower(item_type) = 'epic').
LEFT JOIN (SELECT id AS item_id FROM flow_dims WHERE kind = 'epic') par ON par.item_id = w.parent_id
)
SELECT b.*, gr.g FROM b JOIN flow_groups_n gr ON gr.team = b.team AND gr.work_class = b.work_class;

-- Their status changes: read once (a view over the whole table when every
-- item is recomputed).
{{if .Full}}
CREATE OR REPLACE TEMP VIEW flow_changes AS
SELECT item_id, seq, changed_at, from_status, to_status, from_stage, to_stage, from_category, to_category, approximated_from FROM status_changes;
{{else}}
-- (sc_rowid: where the stages are written back, without another scan.)
CREATE OR REPLACE TEMP TABLE flow_changes_read AS
SELECT item_id, seq, changed_at, from_status, to_status, from_stage, to_stage, from_category, to_category, approximated_from, rowid AS sc_rowid FROM status_changes
WHERE item_id IN (SELECT item_id FROM temp.main.flow_items);
CREATE OR REPLACE TEMP VIEW flow_changes AS SELECT * EXCLUDE (sc_rowid) FROM temp.main.flow_changes_read;

-- What the last compute read of them: the item's team and class then
-- (item_flow: live items; n continues after the items for those removed
-- since), and its history then (saved by the store when a sync replaced
-- it, else the one stored now).
CREATE OR REPLACE TEMP TABLE flow_old_items AS
WITH k AS (
    SELECT n, item_id, source_id FROM flow_items
    UNION ALL
    SELECT CAST((SELECT coalesce(max(n), 0) FROM flow_items) + row_number() OVER () AS INTEGER), item_id,
        (SELECT any_value(o.source_id) FROM compute_old_changes o WHERE o.item_id = d.item_id)
    FROM temp.main.flow_dirty d WHERE item_id NOT IN (SELECT item_id FROM flow_items)
)
SELECT k.n, k.item_id, k.source_id, f.item_id IS NOT NULL AS live, f.team, f.work_class, CAST(NULL AS INTEGER) AS g
FROM k LEFT JOIN item_flow f ON f.item_id = k.item_id;

CREATE OR REPLACE TEMP VIEW flow_old_changes AS
SELECT item_id, seq, changed_at, from_status, to_status, NULL AS from_stage, NULL AS to_stage, from_category, to_category, approximated_from
FROM compute_old_changes WHERE item_id IN (SELECT item_id FROM temp.main.flow_dirty)
UNION ALL
SELECT * EXCLUDE (sc_rowid) FROM temp.main.flow_changes_read WHERE item_id NOT IN (SELECT item_id FROM compute_old_histories);
{{end}}

-- Each kind of status change (source, statuses and categories before and
-- after) of the recomputed items, and their count (items in work_items):
-- status_kinds keeps the counts over all items (the old changes out, the
-- new ones in), from which the status map is listed.
CREATE OR REPLACE TEMP TABLE sc_agg AS
SELECT fi.source_id, s.to_status, s.to_category, s.from_status, s.from_category, count(*) AS cnt
FROM flow_changes s JOIN flow_items fi ON fi.item_id = s.item_id
GROUP BY ALL;
{{if .Full}}
DELETE FROM status_kinds;
INSERT INTO status_kinds SELECT * FROM sc_agg;
{{else}}
CREATE OR REPLACE TEMP TABLE sc_agg_old AS
SELECT o.source_id, s.to_status, s.to_category, s.from_status, s.from_category, count(*) AS cnt
FROM flow_old_changes s JOIN flow_old_items o ON o.item_id = s.item_id
-- Items then in work_items: those with a history saved, or stored now.
WHERE o.source_id IS NOT NULL
GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE kinds_merged AS
SELECT d.source_id, d.to_status, d.to_category, d.from_status, d.from_category, coalesce(k.changes, 0) + d.v AS changes
FROM (
    SELECT source_id, to_status, to_category, from_status, from_category, sum(v) AS v FROM (
        SELECT *, cnt AS v FROM sc_agg UNION ALL SELECT *, -cnt FROM sc_agg_old
    ) GROUP BY source_id, to_status, to_category, from_status, from_category HAVING sum(v) <> 0
) d
LEFT JOIN status_kinds k ON k.source_id = d.source_id AND k.to_status IS NOT DISTINCT FROM d.to_status
    AND k.to_category IS NOT DISTINCT FROM d.to_category AND k.from_status IS NOT DISTINCT FROM d.from_status
    AND k.from_category IS NOT DISTINCT FROM d.from_category;
DELETE FROM status_kinds k WHERE EXISTS (SELECT 1 FROM kinds_merged d WHERE k.source_id = d.source_id
    AND k.to_status IS NOT DISTINCT FROM d.to_status AND k.to_category IS NOT DISTINCT FROM d.to_category
    AND k.from_status IS NOT DISTINCT FROM d.from_status AND k.from_category IS NOT DISTINCT FROM d.from_category);
INSERT INTO status_kinds SELECT * FROM kinds_merged WHERE changes <> 0;
{{end}}

-- The stages of the statuses this compute meets: of the kinds it reads
-- (now and, for the items recomputed, then) and of the recomputed items.
-- Distinct pairs: a row per item written into the table cost more than
-- the distinct.
INSERT INTO status_seen
SELECT source_id, to_status, to_category FROM sc_agg
UNION SELECT source_id, from_status, from_category FROM sc_agg WHERE from_status IS NOT NULL
{{if not .Full}}
UNION SELECT source_id, to_status, to_category FROM sc_agg_old
UNION SELECT source_id, from_status, from_category FROM sc_agg_old WHERE from_status IS NOT NULL
{{end}}
UNION SELECT source_id, status, status_category FROM flow_items;
CREATE OR REPLACE TEMP TABLE status_lookup AS SELECT * FROM status_rules;

-- Each kind of status change with its stages: one small join per change
-- below instead of two lookups in the status map.
CREATE OR REPLACE TEMP TABLE sc_trans AS
SELECT DISTINCT k.source_id, k.to_status, k.to_category, k.from_status, k.from_category, t.stage AS ts,
    CASE WHEN k.from_status IS NOT NULL THEN f.stage END AS fs,
    CAST(stage_code(coalesce(CASE WHEN k.from_status IS NOT NULL THEN f.stage END, 'todo')) AS UTINYINT) AS f,
    CAST(stage_code(t.stage) AS UTINYINT) AS t,
    CAST(CASE t.stage_class WHEN 'active' THEN 1 WHEN 'wait' THEN 2 END AS UTINYINT) AS c,
    CAST(CASE WHEN t.mapped_by = 'unmapped' THEN 1 ELSE 0 END
        + CASE WHEN k.to_status = '(unknown)' OR k.from_status = '(unknown)' THEN 2 ELSE 0 END AS UTINYINT) AS qf
FROM (SELECT source_id, to_status, to_category, from_status, from_category FROM sc_agg
    {{if not .Full}}UNION SELECT source_id, to_status, to_category, from_status, from_category FROM sc_agg_old{{end}}) k
LEFT JOIN status_lookup t ON t.source_id = k.source_id AND t.status = k.to_status AND t.category IS NOT DISTINCT FROM k.to_category
LEFT JOIN status_lookup f ON f.source_id = k.source_id AND f.status = k.from_status AND f.category IS NOT DISTINCT FROM k.from_category;
