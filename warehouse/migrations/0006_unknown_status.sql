-- A status the source did not give (a history item with a null end, an
-- export row with a blank status) is stored as '(unknown)': compute maps it
-- to todo and lists the items in data_quality (unknown_status), instead of
-- failing on a NULL status. Rows stored before this rule get it too.
UPDATE status_changes SET to_status = '(unknown)' WHERE to_status IS NULL OR to_status = '';
UPDATE status_changes SET from_status = '(unknown)' WHERE seq > 0 AND (from_status IS NULL OR from_status = '');
COMMENT ON COLUMN status_changes.to_status IS 'Vendor status after; ''(unknown)'' when the source gave none (listed in data_quality as unknown_status).';
COMMENT ON COLUMN status_changes.from_status IS 'Vendor status before; NULL for the creation transition, ''(unknown)'' when the source gave none.';
COMMENT ON COLUMN status_map.mapped_by IS 'config, category, unmapped (defaulted to todo; listed in data_quality) or unknown (the source gave no status; todo, listed in data_quality as unknown_status).';
