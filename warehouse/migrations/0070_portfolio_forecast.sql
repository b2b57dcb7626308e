-- The portfolio forecast (metrics.md "Portfolio forecast"): every stored
-- forecast says which model made it, with which algorithm, and the inputs the
-- portfolio model adds (the milestone share s and the milestone's place in its
-- project's queue). Forecasts stored before were made by the independent
-- model, version 1.

ALTER TABLE milestone_forecasts ADD COLUMN model VARCHAR DEFAULT 'independent';
ALTER TABLE milestone_forecasts ADD COLUMN forecast_version INTEGER DEFAULT 1;
ALTER TABLE milestone_forecasts ADD COLUMN milestone_share DOUBLE DEFAULT 1;
ALTER TABLE milestone_forecasts ADD COLUMN queue_position INTEGER;
ALTER TABLE milestone_forecasts ADD COLUMN ahead_items INTEGER DEFAULT 0;
COMMENT ON COLUMN milestone_forecasts.model IS 'portfolio (the open milestones of the project simulated together, in due-date order, on the thinned throughput) or independent (the milestone alone with all of the project''s throughput): metrics.forecast.mode when it was made.';
COMMENT ON COLUMN milestone_forecasts.forecast_version IS 'Version of the simulation algorithm (metrics/forecast.Version): the same inputs, seed and version give the same dates.';
COMMENT ON COLUMN milestone_forecasts.milestone_share IS 'Portfolio model: s, the share of the window''s completions of the project that belonged to a milestone (1 when none did); each simulated item counts toward the milestones with this probability. 1 for the independent model.';
COMMENT ON COLUMN milestone_forecasts.queue_position IS 'Portfolio model: the milestone''s place (1 = first) among the project''s open milestones, by due date (none last), then name; NULL for the independent model.';
COMMENT ON COLUMN milestone_forecasts.ahead_items IS 'Portfolio model: remaining items of the milestones before it in the queue, done first; 0 for the independent model.';
