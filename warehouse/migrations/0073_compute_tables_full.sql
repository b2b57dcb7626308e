-- A full compute rewrites the tables it rebuilds (comparing every row cost
-- more than writing it): compute_tables marks each of them changed.
COMMENT ON TABLE compute_tables IS 'Tables the compute writes, with the last compute (its now) that changed a row of each, or rewrote it: an incremental compute writes the tables it rebuilds by difference, so one whose rows all stayed the same keeps its changed_at; a full compute (the first, one after a change of config, or asked) rewrites them and marks each. A reader holding a copy made after changed_at holds the same rows.';
