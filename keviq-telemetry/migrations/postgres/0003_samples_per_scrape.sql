-- One row per scrape on PostgreSQL: a row of its own per sample costs a 24-byte
-- tuple header, a line pointer and a primary-key entry (about 94 bytes a sample);
-- a scrape's series ids and values as two arrays cost about 16 bytes a sample
-- before TOAST compresses them. `telemetry_core.samples` becomes a view with the
-- columns the table had, so the reads (and `metric_samples`) are unchanged.
CREATE TABLE telemetry_core.scrape_values (
    scrape_id BIGINT PRIMARY KEY,
    series_ids BIGINT[] NOT NULL,
    vals DOUBLE PRECISION[] NOT NULL);

INSERT INTO telemetry_core.scrape_values (scrape_id, series_ids, vals)
    SELECT scrape_id, array_agg(series_id ORDER BY series_id),
           array_agg(value ORDER BY series_id)
    FROM telemetry_core.samples GROUP BY scrape_id;

DROP VIEW telemetry_core.metric_samples;
DROP TABLE telemetry_core.samples;

CREATE VIEW telemetry_core.samples (scrape_id, series_id, value) AS
    SELECT v.scrape_id, u.series_id, u.value
    FROM telemetry_core.scrape_values v
    CROSS JOIN LATERAL unnest(v.series_ids, v.vals) AS u (series_id, value);

CREATE VIEW telemetry_core.metric_samples (target, metric, labels, value, ts_ms) AS
    SELECT sc.target, se.metric, se.labels, s.value, sc.ts_ms
    FROM telemetry_core.scrapes sc
    JOIN telemetry_core.samples s ON s.scrape_id = sc.id
    JOIN telemetry_core.series se ON se.id = s.series_id;
