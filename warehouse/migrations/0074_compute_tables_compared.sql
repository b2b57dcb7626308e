-- An incremental compute compares each table it rebuilds with what the
-- table holds and rewrites it only when they differ (the row-by-row
-- difference cost more than the rewrite).
COMMENT ON TABLE compute_tables IS 'Tables the compute writes, with the last compute (its now) that changed a row of each, or rewrote it: an incremental compute compares each table it rebuilds with what the table holds (the number of rows and the sum of a 64-bit hash of each) and writes it only when they differ, so one whose rows all stayed the same keeps its changed_at; a full compute (the first, one after a change of config, or asked) rewrites them and marks each. A reader holding a copy made after changed_at holds the same rows.';
