-- Milestones keyed by their vendor id as well as by name: a renamed fix
-- version, or an epic moved to another project (new key), replaces its row
-- instead of leaving a stale one beside the new; its due-date history and
-- the items pointing at it follow. Rows stored before have none until
-- their source is synced again.
ALTER TABLE milestones ADD COLUMN external_id VARCHAR;
COMMENT ON COLUMN milestones.external_id IS 'Vendor id of the milestone (version:<id> or issue:<id> for Jira, the task gid for Asana), stable across renames and moves; NULL when the source has none.';
