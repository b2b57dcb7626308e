-- A re-read CSV folder rebuilds only the histories whose inputs changed:
-- the store keeps, per item, the fingerprint of what its history was built
-- from at the source's last bulk import.
CREATE TABLE history_fingerprints (
    source_id VARCHAR NOT NULL,
    item_id VARCHAR NOT NULL,
    fingerprint UBIGINT NOT NULL
);
COMMENT ON TABLE history_fingerprints IS 'Per item of a source imported in bulk (a CSV folder read by DuckDB): a 64-bit fingerprint of everything its status history was built from (the item''s dates and status, its status_changes.csv rows in file order) and of the rules that built it, as of the source''s last import. A re-read of the folder rebuilds and replaces only the histories whose fingerprint differs, and records those items for the compute; the others are not read. Any other write of a source''s items or histories (a row-by-row import, a vendor sync, a full resync) deletes the source''s rows here, and the next bulk import then compares every history. Internal.';
COMMENT ON COLUMN history_fingerprints.source_id IS 'Source id.';
COMMENT ON COLUMN history_fingerprints.item_id IS 'Item id.';
COMMENT ON COLUMN history_fingerprints.fingerprint IS 'hash() of the history''s inputs and of the rules that build it and its status_changes rows; equal fingerprints mean equal stored histories.';
