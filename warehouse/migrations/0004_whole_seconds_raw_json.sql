-- Durations are whole seconds elapsed (fractions truncated), as Jira's
-- control chart and DevLake count them.
COMMENT ON COLUMN item_flow.cycle_seconds IS 'F - S in whole seconds elapsed (fractions truncated); NULL without both.';
COMMENT ON COLUMN item_flow.lead_seconds IS 'F - created_at in whole seconds elapsed (fractions truncated).';

-- Raw payloads written before this version were stored as JSON strings
-- holding the document: store the document itself.
UPDATE raw_payloads SET payload = CAST(payload->>'$' AS JSON) WHERE json_type(payload) = 'VARCHAR';
