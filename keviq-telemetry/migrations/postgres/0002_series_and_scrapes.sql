-- Samples against a series table (see the SQLite migration of the same name). A
-- 0.1 scrape becomes a scrape whose id is its last row's id, so a saved
-- remote-write cursor points at the same next sample; new scrapes count on from
-- the highest.
CREATE TABLE telemetry_core.series (
    id BIGSERIAL PRIMARY KEY,
    target TEXT NOT NULL,
    metric TEXT NOT NULL,
    labels TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    UNIQUE (target, metric, labels));
CREATE INDEX series_metric_target ON telemetry_core.series (metric, target);

CREATE TABLE telemetry_core.scrapes (
    id BIGSERIAL PRIMARY KEY,
    target TEXT NOT NULL,
    ts_ms BIGINT NOT NULL,
    samples BIGINT NOT NULL);
CREATE INDEX scrapes_target_ts ON telemetry_core.scrapes (target, ts_ms);
CREATE INDEX scrapes_ts ON telemetry_core.scrapes (ts_ms);

CREATE TABLE telemetry_core.samples (
    scrape_id BIGINT NOT NULL,
    series_id BIGINT NOT NULL,
    value DOUBLE PRECISION,
    PRIMARY KEY (scrape_id, series_id));

INSERT INTO telemetry_core.series (target, metric, labels, created_ms)
    SELECT target, metric, labels, MIN(ts_ms) FROM telemetry_core.metric_samples
    GROUP BY target, metric, labels;
INSERT INTO telemetry_core.series (target, metric, labels, created_ms)
    SELECT target, metric, series, MIN(ts_ms) FROM telemetry_core.exemplars
    GROUP BY target, metric, series
    ON CONFLICT (target, metric, labels) DO NOTHING;
INSERT INTO telemetry_core.scrapes (id, target, ts_ms, samples)
    SELECT MAX(id), target, ts_ms, COUNT(*) FROM telemetry_core.metric_samples
    GROUP BY target, ts_ms;
SELECT setval(pg_get_serial_sequence('telemetry_core.scrapes', 'id'),
              GREATEST((SELECT MAX(id) FROM telemetry_core.scrapes), 1),
              (SELECT MAX(id) FROM telemetry_core.scrapes) IS NOT NULL);
INSERT INTO telemetry_core.samples (scrape_id, series_id, value)
    SELECT sc.id, se.id, m.value
    FROM telemetry_core.metric_samples m
    JOIN telemetry_core.scrapes sc ON sc.target = m.target AND sc.ts_ms = m.ts_ms
    JOIN telemetry_core.series se
      ON se.target = m.target AND se.metric = m.metric AND se.labels = m.labels
    ON CONFLICT (scrape_id, series_id) DO UPDATE SET value = excluded.value;

CREATE TABLE telemetry_core.exemplars_v2 (
    series_id BIGINT NOT NULL,
    labels TEXT NOT NULL,
    value DOUBLE PRECISION,
    ts_ms BIGINT NOT NULL);
INSERT INTO telemetry_core.exemplars_v2 (series_id, labels, value, ts_ms)
    SELECT se.id, e.labels, e.value, e.ts_ms
    FROM telemetry_core.exemplars e
    JOIN telemetry_core.series se
      ON se.target = e.target AND se.metric = e.metric AND se.labels = e.series;
DROP TABLE telemetry_core.exemplars;
ALTER TABLE telemetry_core.exemplars_v2 RENAME TO exemplars;
CREATE INDEX exemplars_ts ON telemetry_core.exemplars (ts_ms);

DROP TABLE telemetry_core.metric_samples;
CREATE VIEW telemetry_core.metric_samples (target, metric, labels, value, ts_ms) AS
    SELECT sc.target, se.metric, se.labels, s.value, sc.ts_ms
    FROM telemetry_core.scrapes sc
    JOIN telemetry_core.samples s ON s.scrape_id = sc.id
    JOIN telemetry_core.series se ON se.id = s.series_id;
