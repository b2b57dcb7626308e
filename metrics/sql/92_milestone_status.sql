-- Milestone status from scope and the latest stored forecast (metrics.md, Delivery).
DELETE FROM milestone_status;
INSERT INTO milestone_status
WITH fc AS (
    SELECT * FROM milestone_forecasts
    QUALIFY row_number() OVER (PARTITION BY milestone_id ORDER BY computed_at DESC) = 1
), s AS (
    SELECT s.*, fc.p50_date, fc.p85_date, fc.on_time_probability, fc.known,
        (SELECT count(*) FROM milestone_due_changes c WHERE c.milestone_id = s.milestone_id) AS changes
    FROM ms_scope s LEFT JOIN fc USING (milestone_id)
)
SELECT milestone_id, name, project, due_date, baseline_due_date, changes, scope, completed, remaining,
    CASE
        WHEN done THEN 'done'
        WHEN due_date IS NULL THEN 'no_due_date'
        WHEN due_date < getvariable('today') THEN 'overdue'
        WHEN NOT coalesce(known, false) THEN 'unknown'
        WHEN p50_date IS NULL OR due_date < p50_date THEN 'off_track'
        WHEN p85_date IS NULL OR due_date < p85_date THEN 'at_risk'
        ELSE 'on_track'
    END,
    CASE WHEN NOT done AND known AND p85_date IS NOT NULL AND due_date IS NOT NULL THEN p85_date - due_date END,
    due_date - baseline_due_date,
    CASE WHEN done THEN coalesce(last_completion, CAST(completed_at AS DATE)) - baseline_due_date END,
    CASE WHEN done THEN NULL ELSE on_time_probability END,
    CASE WHEN NOT done THEN p50_date END,
    CASE WHEN NOT done THEN p85_date END,
    last_completion, completed_at
FROM s
ORDER BY project, due_date, name;
