-- keviq-telemetry 0.1: the schema as 0.1 created it, statement for statement. A 0.1
-- database already has all of it; a new one gets it here, and 0002 moves it on.
CREATE SCHEMA IF NOT EXISTS telemetry_core;
CREATE TABLE IF NOT EXISTS telemetry_core.metric_samples (
    target TEXT NOT NULL, metric TEXT NOT NULL, labels TEXT NOT NULL,
    value DOUBLE PRECISION, ts_ms BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS metric_samples_metric_target_ts
    ON telemetry_core.metric_samples (metric, target, ts_ms);
CREATE INDEX IF NOT EXISTS metric_samples_ts ON telemetry_core.metric_samples (ts_ms);
CREATE INDEX IF NOT EXISTS metric_samples_metric_ts_target
    ON telemetry_core.metric_samples (metric, ts_ms, target);
ALTER TABLE telemetry_core.metric_samples ADD COLUMN IF NOT EXISTS id BIGSERIAL;
CREATE INDEX IF NOT EXISTS metric_samples_id ON telemetry_core.metric_samples (id);
CREATE TABLE IF NOT EXISTS telemetry_core.remote_write_cursor (
    remote TEXT PRIMARY KEY, last_id BIGINT NOT NULL, updated_ms BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS telemetry_core.exemplars (
    target TEXT NOT NULL, metric TEXT NOT NULL, series TEXT NOT NULL,
    labels TEXT NOT NULL, value DOUBLE PRECISION, ts_ms BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS exemplars_ts ON telemetry_core.exemplars (ts_ms);
CREATE INDEX IF NOT EXISTS exemplars_metric_ts ON telemetry_core.exemplars (metric, ts_ms);
