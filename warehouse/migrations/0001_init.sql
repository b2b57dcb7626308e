-- Canonical tables: what connectors write. All timestamps are TIMESTAMPTZ (UTC instants);
-- ids are readable strings "<source>:<vendor key>" so PMOs can join without lookups.

CREATE TABLE sources (
    source_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    base_url VARCHAR,
    cursor VARCHAR,
    cursor_updated_at TIMESTAMPTZ
);
COMMENT ON TABLE sources IS 'One row per configured source (connector instance).';
COMMENT ON COLUMN sources.source_id IS 'Source id: the source name from the config.';
COMMENT ON COLUMN sources.kind IS 'Connector kind: jira, asana or csv.';
COMMENT ON COLUMN sources.name IS 'Source name from the config.';
COMMENT ON COLUMN sources.base_url IS 'API base URL, or the folder/file path for csv sources.';
COMMENT ON COLUMN sources.cursor IS 'Opaque resume point of the last committed batch (connector-specific).';
COMMENT ON COLUMN sources.cursor_updated_at IS 'When the cursor last moved.';

CREATE TABLE teams (
    team_id VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    wip_limit INTEGER,
    sle_days INTEGER,
    hours_per_week DOUBLE
);
COMMENT ON TABLE teams IS 'Teams from the config (plus the synthetic team unassigned).';
COMMENT ON COLUMN teams.team_id IS 'Team id (the team name).';
COMMENT ON COLUMN teams.name IS 'Team name from the config.';
COMMENT ON COLUMN teams.wip_limit IS 'WIP limit in items; NULL when not configured.';
COMMENT ON COLUMN teams.sle_days IS 'Service-level expectation in flow days; NULL means the P85 of the window is used.';
COMMENT ON COLUMN teams.hours_per_week IS 'Default weekly hours of a member.';

CREATE TABLE people (
    person_id VARCHAR NOT NULL,
    source_id VARCHAR NOT NULL,
    external_id VARCHAR NOT NULL,
    display_name VARCHAR,
    email VARCHAR,
    team_id VARCHAR,
    hours_per_week DOUBLE
);
COMMENT ON TABLE people IS 'People seen in any source (assignees, worklog authors, people.csv).';
COMMENT ON COLUMN people.person_id IS 'Person id: <source>:<external id>.';
COMMENT ON COLUMN people.source_id IS 'Source the person was seen in.';
COMMENT ON COLUMN people.external_id IS 'Vendor user id (Jira accountId, Asana gid) or email for CSV.';
COMMENT ON COLUMN people.display_name IS 'Display name as the vendor shows it.';
COMMENT ON COLUMN people.email IS 'Email address, when the source exposes it (identity across sources).';
COMMENT ON COLUMN people.team_id IS 'Team from config teams.members (by email or display name), else people.csv, else NULL.';
COMMENT ON COLUMN people.hours_per_week IS 'Weekly hours: people.csv, else the team default.';

CREATE TABLE time_off (
    person_id VARCHAR NOT NULL,
    day DATE NOT NULL,
    hours DOUBLE NOT NULL
);
COMMENT ON TABLE time_off IS 'Absences by person and day (time_off.csv); they reduce capacity.';
COMMENT ON COLUMN time_off.person_id IS 'Person id.';
COMMENT ON COLUMN time_off.day IS 'Calendar day of the absence.';
COMMENT ON COLUMN time_off.hours IS 'Hours absent that day.';

CREATE TABLE capacity (
    team_id VARCHAR NOT NULL,
    person_id VARCHAR NOT NULL,
    week_start DATE NOT NULL,
    hours DOUBLE NOT NULL
);
COMMENT ON TABLE capacity IS 'Capacity per person-week: hours_per_week minus time off (computed).';
COMMENT ON COLUMN capacity.team_id IS 'Team of the person.';
COMMENT ON COLUMN capacity.person_id IS 'Person id.';
COMMENT ON COLUMN capacity.week_start IS 'Monday of the ISO week, in the configured time zone.';
COMMENT ON COLUMN capacity.hours IS 'Available hours that week.';

CREATE TABLE projects (
    project_id VARCHAR NOT NULL,
    source_id VARCHAR NOT NULL,
    key VARCHAR NOT NULL,
    name VARCHAR,
    team_id VARCHAR,
    work_class VARCHAR
);
COMMENT ON TABLE projects IS 'Projects (Jira projects, Asana projects, CSV project column).';
COMMENT ON COLUMN projects.project_id IS 'Project id: <source>:<key>.';
COMMENT ON COLUMN projects.source_id IS 'Source id.';
COMMENT ON COLUMN projects.key IS 'Project key as the source spells it.';
COMMENT ON COLUMN projects.name IS 'Project name.';
COMMENT ON COLUMN projects.team_id IS 'Owning team from config teams.projects (fallback team of its items).';
COMMENT ON COLUMN projects.work_class IS 'Explicit work class of the project, if the source sets one.';

CREATE TABLE work_items (
    item_id VARCHAR NOT NULL,
    source_id VARCHAR NOT NULL,
    key VARCHAR NOT NULL,
    external_id VARCHAR,
    project_id VARCHAR,
    team_id VARCHAR,
    assignee_id VARCHAR,
    parent_id VARCHAR,
    milestone_id VARCHAR,
    item_type VARCHAR,
    title VARCHAR,
    status VARCHAR,
    stage VARCHAR,
    status_category VARCHAR,
    resolution VARCHAR,
    work_class VARCHAR,
    created_at TIMESTAMPTZ,
    started_at TIMESTAMPTZ,
    completed_at TIMESTAMPTZ,
    resolved_at TIMESTAMPTZ,
    discarded BOOLEAN,
    due_date DATE,
    story_points DOUBLE,
    estimate_seconds BIGINT,
    updated_at TIMESTAMPTZ,
    team_override VARCHAR,
    work_class_override VARCHAR,
    deleted BOOLEAN NOT NULL DEFAULT false
);
COMMENT ON TABLE work_items IS 'Every item (issue, task, row) with vendor values and the derived stage, team and class.';
COMMENT ON COLUMN work_items.item_id IS 'Item id: <source>:<key>.';
COMMENT ON COLUMN work_items.source_id IS 'Source id.';
COMMENT ON COLUMN work_items.key IS 'Vendor key (ABC-12, Asana gid, CSV key).';
COMMENT ON COLUMN work_items.external_id IS 'Vendor numeric id where it differs from the key.';
COMMENT ON COLUMN work_items.project_id IS 'Project id.';
COMMENT ON COLUMN work_items.team_id IS 'Attributed team: explicit team, else the assignee''s team, else the project''s team, else unassigned (derived at compute).';
COMMENT ON COLUMN work_items.assignee_id IS 'Person id of the assignee.';
COMMENT ON COLUMN work_items.parent_id IS 'Item id of the parent (epic, parent task).';
COMMENT ON COLUMN work_items.milestone_id IS 'Milestone id (fix version, Asana milestone, CSV milestone).';
COMMENT ON COLUMN work_items.item_type IS 'Vendor issue type (Story, Bug, Incident, ...).';
COMMENT ON COLUMN work_items.title IS 'Summary or task name.';
COMMENT ON COLUMN work_items.status IS 'Current vendor status name.';
COMMENT ON COLUMN work_items.stage IS 'Current stage: todo, started or done (derived from config workflow or the status category).';
COMMENT ON COLUMN work_items.status_category IS 'Vendor status category: new, indeterminate, done, undefined, or NULL.';
COMMENT ON COLUMN work_items.resolution IS 'Vendor resolution (Done, Won''t Do, Duplicate, ...).';
COMMENT ON COLUMN work_items.work_class IS 'project, operational or unclassified (derived from config rules).';
COMMENT ON COLUMN work_items.created_at IS 'Creation time.';
COMMENT ON COLUMN work_items.started_at IS 'Start S from the status history (see item_flow).';
COMMENT ON COLUMN work_items.completed_at IS 'Finish F from the status history; NULL when not completed.';
COMMENT ON COLUMN work_items.resolved_at IS 'Vendor resolution date as the source reports it.';
COMMENT ON COLUMN work_items.discarded IS 'Completed with a resolution or status listed in workflow.discarded_resolutions.';
COMMENT ON COLUMN work_items.due_date IS 'Due date, if any.';
COMMENT ON COLUMN work_items.story_points IS 'Story points (never used for throughput).';
COMMENT ON COLUMN work_items.estimate_seconds IS 'Original estimate in seconds.';
COMMENT ON COLUMN work_items.updated_at IS 'Last update at the source.';
COMMENT ON COLUMN work_items.team_override IS 'Team set explicitly by the source (CSV team column).';
COMMENT ON COLUMN work_items.work_class_override IS 'Work class set explicitly by the source (CSV work_class column).';
COMMENT ON COLUMN work_items.deleted IS 'The item vanished at the source; kept for history, excluded from metrics.';

CREATE TABLE status_changes (
    item_id VARCHAR NOT NULL,
    seq INTEGER NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL,
    from_status VARCHAR,
    to_status VARCHAR,
    from_stage VARCHAR,
    to_stage VARCHAR,
    from_category VARCHAR,
    to_category VARCHAR,
    author_id VARCHAR
);
COMMENT ON TABLE status_changes IS 'Full status history of every item, including a synthetic creation transition (from_status NULL).';
COMMENT ON COLUMN status_changes.item_id IS 'Item id.';
COMMENT ON COLUMN status_changes.seq IS 'Position in the item''s history (0 = creation); ties in changed_at are ordered by seq.';
COMMENT ON COLUMN status_changes.changed_at IS 'When the status changed.';
COMMENT ON COLUMN status_changes.from_status IS 'Vendor status before; NULL for the creation transition.';
COMMENT ON COLUMN status_changes.to_status IS 'Vendor status after.';
COMMENT ON COLUMN status_changes.from_stage IS 'Stage before (todo, started, done), derived at compute.';
COMMENT ON COLUMN status_changes.to_stage IS 'Stage after, derived at compute.';
COMMENT ON COLUMN status_changes.from_category IS 'Vendor status category before, if known.';
COMMENT ON COLUMN status_changes.to_category IS 'Vendor status category after, if known.';
COMMENT ON COLUMN status_changes.author_id IS 'Person id of who changed it, if known.';

CREATE TABLE status_map (
    source_id VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    category VARCHAR,
    stage VARCHAR NOT NULL,
    stage_class VARCHAR,
    mapped_by VARCHAR NOT NULL
);
COMMENT ON TABLE status_map IS 'How each vendor status maps to a stage (rebuilt at every compute from config and categories).';
COMMENT ON COLUMN status_map.source_id IS 'Source id.';
COMMENT ON COLUMN status_map.status IS 'Vendor status name.';
COMMENT ON COLUMN status_map.category IS 'Vendor status category seen for it, if any.';
COMMENT ON COLUMN status_map.stage IS 'todo, started or done.';
COMMENT ON COLUMN status_map.stage_class IS 'For started statuses: active or wait (config workflow.wait).';
COMMENT ON COLUMN status_map.mapped_by IS 'config, category, or unmapped (defaulted to todo; listed in data_quality).';

CREATE TABLE milestones (
    milestone_id VARCHAR NOT NULL,
    source_id VARCHAR NOT NULL,
    project_id VARCHAR,
    name VARCHAR NOT NULL,
    start_date DATE,
    baseline_due_date DATE,
    due_date DATE,
    completed_at TIMESTAMPTZ,
    released BOOLEAN
);
COMMENT ON TABLE milestones IS 'Date-bound goals: fix versions, epics with due dates, Asana milestones, milestones.csv.';
COMMENT ON COLUMN milestones.milestone_id IS 'Milestone id: <source>:<project>:<name>.';
COMMENT ON COLUMN milestones.source_id IS 'Source id.';
COMMENT ON COLUMN milestones.project_id IS 'Project id.';
COMMENT ON COLUMN milestones.name IS 'Milestone name.';
COMMENT ON COLUMN milestones.start_date IS 'Planned start.';
COMMENT ON COLUMN milestones.baseline_due_date IS 'First due date ever known (history, the source, or the first sync that saw it).';
COMMENT ON COLUMN milestones.due_date IS 'Current due date.';
COMMENT ON COLUMN milestones.completed_at IS 'When it was completed or released.';
COMMENT ON COLUMN milestones.released IS 'Released / completed flag from the source.';

CREATE TABLE milestone_due_changes (
    milestone_id VARCHAR NOT NULL,
    observed_at TIMESTAMPTZ NOT NULL,
    old_due_date DATE,
    new_due_date DATE,
    origin VARCHAR NOT NULL
);
COMMENT ON TABLE milestone_due_changes IS 'Every observed move of a milestone due date.';
COMMENT ON COLUMN milestone_due_changes.milestone_id IS 'Milestone id.';
COMMENT ON COLUMN milestone_due_changes.observed_at IS 'When the change happened (history) or was first seen (sync).';
COMMENT ON COLUMN milestone_due_changes.old_due_date IS 'Due date before.';
COMMENT ON COLUMN milestone_due_changes.new_due_date IS 'Due date after.';
COMMENT ON COLUMN milestone_due_changes.origin IS 'history (vendor changelog), sync (seen changed between syncs) or csv.';

CREATE TABLE worklogs (
    worklog_id VARCHAR NOT NULL,
    item_id VARCHAR NOT NULL,
    person_id VARCHAR,
    started_at TIMESTAMPTZ NOT NULL,
    seconds BIGINT NOT NULL
);
COMMENT ON TABLE worklogs IS 'Time logged against items.';
COMMENT ON COLUMN worklogs.worklog_id IS 'Worklog id: <source>:<vendor id or stable hash>.';
COMMENT ON COLUMN worklogs.item_id IS 'Item id.';
COMMENT ON COLUMN worklogs.person_id IS 'Person id of the author.';
COMMENT ON COLUMN worklogs.started_at IS 'When the work started.';
COMMENT ON COLUMN worklogs.seconds IS 'Time spent in seconds.';

CREATE TABLE sprints (
    sprint_id VARCHAR NOT NULL,
    source_id VARCHAR NOT NULL,
    board_id VARCHAR,
    name VARCHAR,
    state VARCHAR,
    start_at TIMESTAMPTZ,
    end_at TIMESTAMPTZ,
    complete_at TIMESTAMPTZ
);
COMMENT ON TABLE sprints IS 'Sprints, where the source has them.';
COMMENT ON COLUMN sprints.sprint_id IS 'Sprint id: <source>:<vendor id>.';
COMMENT ON COLUMN sprints.source_id IS 'Source id.';
COMMENT ON COLUMN sprints.board_id IS 'Board the sprint belongs to.';
COMMENT ON COLUMN sprints.name IS 'Sprint name.';
COMMENT ON COLUMN sprints.state IS 'future, active or closed.';
COMMENT ON COLUMN sprints.start_at IS 'Start.';
COMMENT ON COLUMN sprints.end_at IS 'Planned end.';
COMMENT ON COLUMN sprints.complete_at IS 'Actual completion.';

CREATE TABLE sprint_items (
    sprint_id VARCHAR NOT NULL,
    item_id VARCHAR NOT NULL
);
COMMENT ON TABLE sprint_items IS 'Sprint membership of items.';
COMMENT ON COLUMN sprint_items.sprint_id IS 'Sprint id.';
COMMENT ON COLUMN sprint_items.item_id IS 'Item id.';

CREATE TABLE raw_payloads (
    source_id VARCHAR NOT NULL,
    entity VARCHAR NOT NULL,
    external_id VARCHAR NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL,
    payload JSON
);
COMMENT ON TABLE raw_payloads IS 'The vendor record as fetched (latest per entity and id), so a mapping fix re-derives without re-fetching.';
COMMENT ON COLUMN raw_payloads.source_id IS 'Source id.';
COMMENT ON COLUMN raw_payloads.entity IS 'Kind of record: issue, task, csv row of a file, ...';
COMMENT ON COLUMN raw_payloads.external_id IS 'Vendor id or key of the record.';
COMMENT ON COLUMN raw_payloads.fetched_at IS 'When it was fetched or read.';
COMMENT ON COLUMN raw_payloads.payload IS 'The record as JSON.';

CREATE SEQUENCE sync_run_ids START 1;
CREATE TABLE sync_runs (
    run_id BIGINT NOT NULL,
    source_id VARCHAR NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    status VARCHAR NOT NULL,
    items BIGINT,
    batches INTEGER,
    problems INTEGER,
    error VARCHAR,
    cursor VARCHAR
);
COMMENT ON TABLE sync_runs IS 'One row per sync run.';
COMMENT ON COLUMN sync_runs.run_id IS 'Run id (increasing).';
COMMENT ON COLUMN sync_runs.source_id IS 'Source id.';
COMMENT ON COLUMN sync_runs.started_at IS 'Start.';
COMMENT ON COLUMN sync_runs.finished_at IS 'End; NULL while running or when the process died.';
COMMENT ON COLUMN sync_runs.status IS 'running, ok, failed, canceled, or died (the process ended during the run; marked when the next run starts).';
COMMENT ON COLUMN sync_runs.items IS 'Records committed.';
COMMENT ON COLUMN sync_runs.batches IS 'Batches committed.';
COMMENT ON COLUMN sync_runs.problems IS 'Input problems reported (rows rejected or repaired).';
COMMENT ON COLUMN sync_runs.error IS 'Error message of a failed run.';
COMMENT ON COLUMN sync_runs.cursor IS 'Cursor after the last committed batch.';

CREATE TABLE ingest_problems (
    source_id VARCHAR NOT NULL,
    file VARCHAR,
    line INTEGER,
    column_name VARCHAR,
    item_key VARCHAR,
    reason VARCHAR NOT NULL,
    observed_at TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE ingest_problems IS 'Input records rejected or repaired at ingest (file, line, column, reason); replaced when a file is re-read.';
COMMENT ON COLUMN ingest_problems.source_id IS 'Source id.';
COMMENT ON COLUMN ingest_problems.file IS 'File or request the record came from.';
COMMENT ON COLUMN ingest_problems.line IS 'Line number (1 = header) where the record starts.';
COMMENT ON COLUMN ingest_problems.column_name IS 'Column (header name) at fault, if one.';
COMMENT ON COLUMN ingest_problems.item_key IS 'Key of the record, if known.';
COMMENT ON COLUMN ingest_problems.reason IS 'What is wrong and what was done.';
COMMENT ON COLUMN ingest_problems.observed_at IS 'When it was read.';
