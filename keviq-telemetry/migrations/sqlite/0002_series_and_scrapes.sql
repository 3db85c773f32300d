-- Samples against a series table. A series (target, metric, labels) is stored once;
-- a scrape (target, time) once; a sample is (scrape, series, value) in a table
-- without rowid, appended in scrape order. `metric_samples` stays as a view with
-- 0.1's columns. Every 0.1 row moves over: a 0.1 scrape (its rows share target and
-- time, and have consecutive rowids) becomes a scrape whose id is its last rowid,
-- so a saved remote-write cursor (a rowid at a scrape's end) points at the same
-- next sample.
CREATE TABLE series (
    id INTEGER PRIMARY KEY,
    target TEXT NOT NULL,
    metric TEXT NOT NULL,
    labels TEXT NOT NULL,
    created_ms INTEGER NOT NULL);
CREATE UNIQUE INDEX series_target_metric_labels
    ON series (target, metric, labels);
CREATE INDEX series_metric_target ON series (metric, target);

CREATE TABLE scrapes (
    id INTEGER PRIMARY KEY,
    target TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    samples INTEGER NOT NULL);
CREATE INDEX scrapes_target_ts ON scrapes (target, ts_ms);
CREATE INDEX scrapes_ts ON scrapes (ts_ms);

CREATE TABLE samples (
    scrape_id INTEGER NOT NULL,
    series_id INTEGER NOT NULL,
    value REAL,
    PRIMARY KEY (scrape_id, series_id)) WITHOUT ROWID;

INSERT INTO series (target, metric, labels, created_ms)
    SELECT target, metric, labels, MIN(ts_ms) FROM metric_samples
    GROUP BY target, metric, labels;
INSERT INTO series (target, metric, labels, created_ms)
    SELECT target, metric, series, MIN(ts_ms) FROM exemplars
    WHERE true GROUP BY target, metric, series
    ON CONFLICT (target, metric, labels) DO NOTHING;
INSERT INTO scrapes (id, target, ts_ms, samples)
    SELECT MAX(rowid), target, ts_ms, COUNT(*) FROM metric_samples
    GROUP BY target, ts_ms;
INSERT INTO samples (scrape_id, series_id, value)
    SELECT sc.id, se.id, m.value
    FROM metric_samples m
    JOIN scrapes sc ON sc.target = m.target AND sc.ts_ms = m.ts_ms
    JOIN series se
      ON se.target = m.target AND se.metric = m.metric AND se.labels = m.labels
    WHERE true
    ON CONFLICT (scrape_id, series_id) DO UPDATE SET value = excluded.value;

CREATE TABLE exemplars_v2 (
    series_id INTEGER NOT NULL,
    labels TEXT NOT NULL,
    value REAL,
    ts_ms INTEGER NOT NULL);
INSERT INTO exemplars_v2 (series_id, labels, value, ts_ms)
    SELECT se.id, e.labels, e.value, e.ts_ms
    FROM exemplars e
    JOIN series se
      ON se.target = e.target AND se.metric = e.metric AND se.labels = e.series;
DROP TABLE exemplars;
ALTER TABLE exemplars_v2 RENAME TO exemplars;
CREATE INDEX exemplars_ts ON exemplars (ts_ms);

DROP TABLE metric_samples;
CREATE VIEW metric_samples (target, metric, labels, value, ts_ms) AS
    SELECT sc.target, se.metric, se.labels, s.value, sc.ts_ms
    FROM scrapes sc
    JOIN samples s ON s.scrape_id = sc.id
    JOIN series se ON se.id = s.series_id;
