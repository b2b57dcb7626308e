-- The compute commits in segments: compute_state is empty while one runs
-- and after one that failed midway, so that the next recomputes every item.
COMMENT ON TABLE compute_state IS 'The last successful compute (one row): what it was computed with. A compute whose inputs hash differently recomputes every item. Empty while a compute runs and after one that failed midway (the compute commits in segments): the next compute then recomputes every item. Internal.';
