-- Whether an item is finished is a fact about that item: a status's stage
-- comes from config workflow (by name), else from the category that came
-- with that very status (on the item or the change), never from what other
-- items with the same status name did. status_map therefore holds one row
-- per (source, status, category) seen.
COMMENT ON TABLE status_map IS 'How each vendor status maps to a stage: one row per (source, status, category) seen, rebuilt at every compute. Config workflow (by status name) wins, else the category that came with the status, else unmapped (todo); a stage is never taken from other items.';
COMMENT ON COLUMN status_map.category IS 'Vendor status category that came with the status (NULL: none); join on it with IS NOT DISTINCT FROM.';

-- Exports have no changelog: some status changes are placed at a time the
-- source did not give for that change.
ALTER TABLE status_changes ADD COLUMN approximated_from VARCHAR;
COMMENT ON COLUMN status_changes.approximated_from IS 'NULL when changed_at is the source''s own time of this change; else what it was approximated from: updated (the item''s last update), created, or time_in_status (Jira''s Time in Status totals). Items whose start or finish is approximate are listed in data_quality.';

-- What was done about each input problem.
ALTER TABLE ingest_problems ADD COLUMN action VARCHAR;
-- Problems stored before this column: those whose record was not stored say so at the end of the reason.
UPDATE ingest_problems SET action = CASE
    WHEN reason LIKE '%row skipped' OR reason LIKE '%row dropped' OR reason LIKE '%worklog dropped' THEN 'rejected'
    ELSE 'repaired' END;
COMMENT ON COLUMN ingest_problems.action IS 'rejected (the record was not stored), repaired (stored without or with a corrected value) or note (stored as read; check it).';

-- Time off is a source's: a re-read file replaces exactly its own rows.
ALTER TABLE time_off ADD COLUMN source_id VARCHAR;
COMMENT ON COLUMN time_off.source_id IS 'Source that gave the absence (NULL for rows stored before this column).';
