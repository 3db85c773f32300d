//! Writing a scrape: its series resolved to ids (from memory, else by one upsert for
//! all new series), one row for the scrape, and its samples in bulk: on SQLite one
//! `(scrape, series, value)` row per sample, unpacked from one JSON array; on
//! PostgreSQL one `scrape_values` row of two arrays, sent through COPY.

use std::collections::HashMap;

use sqlx::{Any, Transaction};

use super::{Backend, Store, StoreError};
use crate::clock::epoch_ms;
use crate::sample::{Labels, Scrape};

impl Store {
    /// Writes one scrape's samples and exemplars; returns how many samples, and the
    /// scrape's id (0 for a scrape without samples, which stores no scrape row).
    /// A series repeated in one scrape is stored once, with its first value.
    ///
    /// # Errors
    /// The database failed; no sample or exemplar of this scrape was written (on
    /// PostgreSQL its new series may have been: they are kept, and found again).
    pub async fn write_with_id(&self, scrape: &Scrape) -> Result<(usize, i64), StoreError> {
        let target = scrape.target.to_string();
        let ts = epoch_ms(scrape.at);
        let mut tx = self.pool.begin().await?;
        let ids = self.series_ids(&mut tx, &target, scrape, ts).await?;
        let samples = samples_text(scrape, &ids, self.backend);
        let exemplars = exemplars_json(scrape, &ids, ts);
        let count = i64::try_from(samples.count).unwrap_or(i64::MAX);
        let (written, scrape_id) = match &self.postgres {
            // PostgreSQL: the series in a transaction of their own, then the scrape
            // through COPY, which sqlx offers on its native connections only.
            Some(pg) => {
                tx.commit().await?;
                self.remember(&target, ids.new);
                let mut tx = pg.begin().await?;
                let (written, scrape_id) = if samples.count == 0 {
                    (0, 0)
                } else {
                    let (scrape_id,): (i64,) = sqlx::query_as(INSERT_SCRAPE)
                        .bind(&target)
                        .bind(ts)
                        .bind(count)
                        .fetch_one(&mut *tx)
                        .await?;
                    let mut copy = tx
                        .copy_in_raw(
                            "COPY telemetry_core.scrape_values (scrape_id, series_ids, vals) \
                             FROM STDIN",
                        )
                        .await?;
                    copy.send(samples.rows(scrape_id).into_bytes()).await?;
                    copy.finish().await?;
                    (u64::try_from(samples.count).unwrap_or(u64::MAX), scrape_id)
                };
                sqlx::query(
                    "INSERT INTO telemetry_core.exemplars (series_id, labels, value, ts_ms)
                     SELECT (e ->> 0)::bigint, e ->> 1, (e ->> 2)::double precision,
                            (e ->> 3)::bigint
                     FROM json_array_elements($1::json) e",
                )
                .bind(exemplars)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                (written, scrape_id)
            }
            // SQLite: one transaction; the (series, value) pairs travel as one JSON
            // array the database unpacks, not as two parameters a row.
            None => {
                let (written, scrape_id) = if samples.count == 0 {
                    (0, 0)
                } else {
                    let (scrape_id,): (i64,) = sqlx::query_as(INSERT_SCRAPE)
                        .bind(target.clone())
                        .bind(ts)
                        .bind(count)
                        .fetch_one(&mut *tx)
                        .await?;
                    let written = sqlx::query(
                        "INSERT INTO telemetry_core.samples (scrape_id, series_id, value)
                         SELECT $1, json_extract(value, '$[0]'), json_extract(value, '$[1]')
                         FROM json_each($2)",
                    )
                    .bind(scrape_id)
                    .bind(samples.rows(scrape_id))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    (written, scrape_id)
                };
                sqlx::query(
                    "INSERT INTO telemetry_core.exemplars (series_id, labels, value, ts_ms)
                     SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'),
                            json_extract(value, '$[2]'), json_extract(value, '$[3]')
                     FROM json_each($1)",
                )
                .bind(exemplars)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                self.remember(&target, ids.new);
                (written, scrape_id)
            }
        };
        Ok((usize::try_from(written).unwrap_or(usize::MAX), scrape_id))
    }

    /// Keeps the ids of series a committed transaction wrote (or found).
    fn remember(&self, target: &str, new: Vec<((String, Labels), i64)>) {
        if let Ok(mut cache) = self.series.lock() {
            for ((metric, labels), id) in new {
                cache.insert(target, &metric, labels, id);
            }
        }
    }

    /// The id of every series the scrape's samples and exemplars are on: known ones
    /// from memory, the others upserted (an existing row gives its id back).
    async fn series_ids<'s>(
        &self,
        tx: &mut Transaction<'static, Any>,
        target: &str,
        scrape: &'s Scrape,
        ts: i64,
    ) -> Result<Ids<'s>, StoreError> {
        let mut ids = Ids::default();
        let mut missing: Vec<(&'s str, &'s Labels)> = Vec::new();
        {
            let cache = self.series.lock().map_err(|_| poisoned())?;
            let keys = scrape
                .samples
                .iter()
                .map(|s| (s.name.as_str(), &s.labels))
                .chain(
                    scrape
                        .exemplars
                        .iter()
                        .map(|e| (e.metric.as_str(), &e.series)),
                );
            for (metric, labels) in keys {
                match cache.get(target, metric, labels) {
                    Some(id) => {
                        ids.known.insert((metric, labels), id);
                    }
                    None if !ids.known.contains_key(&(metric, labels)) => {
                        // Marked, so a repeated series is upserted once.
                        ids.known.insert((metric, labels), 0);
                        missing.push((metric, labels));
                    }
                    None => {}
                }
            }
        }
        if missing.is_empty() {
            return Ok(ids);
        }
        // One upsert for every new series, `[[metric, labels], …]` unpacked by the
        // database; `DO UPDATE` with no change, so an existing row returns its id too.
        let json_of: Vec<(&str, String)> = missing.iter().map(|(m, l)| (*m, l.to_json())).collect();
        let rows = serde_json::to_string(&json_of)
            .map_err(|e| StoreError::Database(sqlx::Error::Encode(Box::new(e))))?;
        let sql = match self.backend {
            Backend::Sqlite => {
                "INSERT INTO telemetry_core.series (target, metric, labels, created_ms)
                 SELECT $1, json_extract(value, '$[0]'), json_extract(value, '$[1]'), $2
                 FROM json_each($3) WHERE true
                 ON CONFLICT (target, metric, labels) DO UPDATE SET target = excluded.target
                 RETURNING id, metric, labels"
            }
            Backend::Postgres => {
                "INSERT INTO telemetry_core.series (target, metric, labels, created_ms)
                 SELECT $1, e ->> 0, e ->> 1, $2 FROM json_array_elements($3::json) e
                 ON CONFLICT (target, metric, labels) DO UPDATE SET target = excluded.target
                 RETURNING id, metric, labels"
            }
        };
        let returned: Vec<(i64, String, String)> = sqlx::query_as(sql)
            .bind(target.to_owned())
            .bind(ts)
            .bind(rows)
            .fetch_all(&mut **tx)
            .await?;
        // The returned rows come in no promised order: matched back by text.
        let mut by_json: HashMap<&str, Vec<(&'s str, &'s Labels)>> = HashMap::new();
        for ((metric, json), &(_, labels)) in json_of.iter().zip(&missing) {
            by_json
                .entry(json.as_str())
                .or_default()
                .push((metric, labels));
        }
        for (id, metric, json) in returned {
            let found = by_json
                .get(json.as_str())
                .and_then(|keys| keys.iter().find(|(m, _)| *m == metric));
            if let Some(&(metric, labels)) = found {
                ids.known.insert((metric, labels), id);
                ids.new.push(((metric.to_owned(), labels.clone()), id));
            }
        }
        Ok(ids)
    }
}

/// Registers a scrape; its id comes back.
const INSERT_SCRAPE: &str = "INSERT INTO telemetry_core.scrapes (target, ts_ms, samples)
                             VALUES ($1, $2, $3) RETURNING id";

/// A scrape's samples, each series once (its first value), ready for the database.
struct SamplesText {
    /// SQLite: the `[series id, value]` JSON elements. PostgreSQL: the series ids,
    /// comma-separated.
    body: String,
    /// PostgreSQL: the values, comma-separated, in the order of the ids.
    values: String,
    count: usize,
    backend: Backend,
}

impl SamplesText {
    /// The whole payload for scrape `scrape_id`: a JSON array for SQLite; for
    /// PostgreSQL one COPY text line, `scrape\t{series ids}\t{values}`.
    fn rows(&self, scrape_id: i64) -> String {
        match self.backend {
            Backend::Sqlite => format!("[{}]", self.body),
            Backend::Postgres => {
                let mut id = itoa::Buffer::new();
                format!(
                    "{}\t{{{}}}\t{{{}}}\n",
                    id.format(scrape_id),
                    self.body,
                    self.values
                )
            }
        }
    }
}

/// The scrape's samples as the backend reads them in bulk. A value JSON cannot
/// spell goes as SQLite reads it (JSON5's `NaN`, `Infinity`; SQLite stores NaN as
/// NULL); PostgreSQL's array text spells them `NaN`, `Infinity`, `-Infinity` too.
fn samples_text(scrape: &Scrape, ids: &Ids<'_>, backend: Backend) -> SamplesText {
    let mut body = String::with_capacity(scrape.samples.len() * 24);
    let mut values = String::new();
    let mut seen = std::collections::HashSet::with_capacity(scrape.samples.len());
    let mut ints = itoa::Buffer::new();
    let mut floats = ryu::Buffer::new();
    let mut count = 0;
    for sample in &scrape.samples {
        let series = ids.get(&sample.name, &sample.labels);
        if !seen.insert(series) {
            continue;
        }
        let v = sample.value;
        let value = if v.is_finite() {
            floats.format_finite(v)
        } else if v.is_nan() {
            "NaN"
        } else if v > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        };
        match backend {
            Backend::Sqlite => {
                if count > 0 {
                    body.push(',');
                }
                body.push('[');
                body.push_str(ints.format(series));
                body.push(',');
                body.push_str(value);
                body.push(']');
            }
            Backend::Postgres => {
                if count > 0 {
                    body.push(',');
                    values.push(',');
                }
                body.push_str(ints.format(series));
                values.push_str(value);
            }
        }
        count += 1;
    }
    SamplesText {
        body,
        values,
        count,
        backend,
    }
}

/// The scrape's exemplars as `[[series id, labels JSON, value, ts_ms], …]`; a
/// non-finite value as `null` (an exemplar's value is a finite observation).
fn exemplars_json(scrape: &Scrape, ids: &Ids<'_>, ts: i64) -> String {
    let rows: Vec<serde_json::Value> = scrape
        .exemplars
        .iter()
        .map(|e| {
            serde_json::json!([
                ids.get(&e.metric, &e.series),
                e.labels.to_json(),
                e.value.is_finite().then_some(e.value),
                e.timestamp_ms.unwrap_or(ts),
            ])
        })
        .collect();
    serde_json::Value::Array(rows).to_string()
}

/// The series ids of one scrape.
#[derive(Debug, Default)]
struct Ids<'s> {
    known: HashMap<(&'s str, &'s Labels), i64>,
    /// Series this scrape added (or found in the database): remembered after commit.
    new: Vec<((String, Labels), i64)>,
}

impl<'s> Ids<'s> {
    /// The id of a series; a series the database did not return (it cannot happen:
    /// every upsert returns its row) would be stored under id 0, which no series has.
    fn get(&self, metric: &str, labels: &Labels) -> i64 {
        self.known.get(&(metric, labels)).copied().unwrap_or(0)
    }
}

fn poisoned() -> StoreError {
    StoreError::Database(sqlx::Error::Protocol(
        "the series cache's lock was poisoned by a panic".into(),
    ))
}
