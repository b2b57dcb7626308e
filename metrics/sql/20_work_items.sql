-- Write the derived values back onto work_items, touching only rows that
-- changed (of the recomputed items: the others' did not).
UPDATE work_items w SET team_id = f.team, work_class = f.work_class, stage = f.stage,
    started_at = f.started_at, completed_at = f.finished_at, discarded = f.discarded
FROM item_flow f
WHERE f.item_id = w.item_id AND (
    w.team_id IS DISTINCT FROM f.team OR w.work_class IS DISTINCT FROM f.work_class OR w.stage IS DISTINCT FROM f.stage
    OR w.started_at IS DISTINCT FROM f.started_at OR w.completed_at IS DISTINCT FROM f.finished_at
    OR w.discarded IS DISTINCT FROM f.discarded)
{{if not .Full}}  AND f.item_id IN (SELECT item_id FROM temp.main.flow_dirty){{end}};
