-- keviq-telemetry 0.1: the schema as 0.1 created it, statement for statement. A 0.1
-- database already has all of it; a new one gets it here, and 0002 moves it on.
-- The migrations run on a connection whose main database is the file, so names are
-- unqualified; the service's own connections attach the file as `telemetry_core`.
CREATE TABLE IF NOT EXISTS metric_samples (
    target TEXT NOT NULL, metric TEXT NOT NULL, labels TEXT NOT NULL,
    value REAL, ts_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS remote_write_cursor (
    remote TEXT PRIMARY KEY, last_id INTEGER NOT NULL, updated_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS metric_samples_metric_target_ts
    ON metric_samples (metric, target, ts_ms);
CREATE INDEX IF NOT EXISTS metric_samples_ts ON metric_samples (ts_ms);
CREATE INDEX IF NOT EXISTS metric_samples_metric_ts_target
    ON metric_samples (metric, ts_ms, target);
CREATE TABLE IF NOT EXISTS exemplars (
    target TEXT NOT NULL, metric TEXT NOT NULL, series TEXT NOT NULL,
    labels TEXT NOT NULL, value REAL, ts_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS exemplars_ts ON exemplars (ts_ms);
CREATE INDEX IF NOT EXISTS exemplars_metric_ts ON exemplars (metric, ts_ms);
