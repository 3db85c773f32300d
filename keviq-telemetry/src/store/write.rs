//! Writing a scrape: its series resolved to ids (from memory, else by one upsert per
//! batch of new series), one row for the scrape, and one `(scrape, series, value)`
//! row per sample, all in one transaction.

use std::collections::HashMap;

use sqlx::{Any, Transaction};

use super::{ROWS_PER_INSERT, Store, StoreError, insert_sql};
use crate::clock::epoch_ms;
use crate::sample::{Labels, Scrape};

/// Series rows per upsert (4 parameters each).
const SERIES_PER_UPSERT: usize = 250;

impl Store {
    /// Writes one scrape's samples and exemplars in one transaction; returns how
    /// many samples, and the scrape's id (0 for a scrape without samples, which
    /// stores no scrape row).
    ///
    /// # Errors
    /// The database failed; nothing of this scrape was written.
    pub async fn write_with_id(&self, scrape: &Scrape) -> Result<(usize, i64), StoreError> {
        let target = scrape.target.to_string();
        let ts = epoch_ms(scrape.at);
        let mut tx = self.pool.begin().await?;
        let ids = self.series_ids(&mut tx, &target, scrape, ts).await?;
        let (written, scrape_id) = if scrape.samples.is_empty() {
            (0, 0)
        } else {
            let (scrape_id,): (i64,) = sqlx::query_as(
                "INSERT INTO telemetry_core.scrapes (target, ts_ms, samples)
                 VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(target.clone())
            .bind(ts)
            .bind(i64::try_from(scrape.samples.len()).unwrap_or(i64::MAX))
            .fetch_one(&mut *tx)
            .await?;
            let mut written = 0;
            for chunk in scrape.samples.chunks(ROWS_PER_INSERT) {
                let sql = insert_sql(
                    "telemetry_core.samples (scrape_id, series_id, value)",
                    3,
                    chunk.len(),
                ) + " ON CONFLICT (scrape_id, series_id) DO NOTHING";
                let mut query = sqlx::query(&sql);
                for sample in chunk {
                    let series = ids.get(&sample.name, &sample.labels);
                    // SQLite stores NaN as NULL (read back as NaN); PostgreSQL keeps NaN.
                    query = query.bind(scrape_id).bind(series).bind(sample.value);
                }
                written += query.execute(&mut *tx).await?.rows_affected();
            }
            (usize::try_from(written).unwrap_or(usize::MAX), scrape_id)
        };
        for chunk in scrape.exemplars.chunks(ROWS_PER_INSERT) {
            let sql = insert_sql(
                "telemetry_core.exemplars (series_id, labels, value, ts_ms)",
                4,
                chunk.len(),
            );
            let mut query = sqlx::query(&sql);
            for e in chunk {
                query = query
                    .bind(ids.get(&e.metric, &e.series))
                    .bind(e.labels.to_json())
                    .bind(e.value)
                    .bind(e.timestamp_ms.unwrap_or(ts));
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        // Only now: ids of a transaction that failed would not exist.
        if let Ok(mut cache) = self.series.lock() {
            for ((metric, labels), id) in ids.new {
                cache.insert(&target, &metric, labels, id);
            }
        }
        Ok((written, scrape_id))
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
                .chain(scrape.exemplars.iter().map(|e| (e.metric.as_str(), &e.series)));
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
        for chunk in missing.chunks(SERIES_PER_UPSERT) {
            // `DO UPDATE` with no change, so an existing row returns its id too.
            let sql = insert_sql(
                "telemetry_core.series (target, metric, labels, created_ms)",
                4,
                chunk.len(),
            ) + " ON CONFLICT (target, metric, labels) DO UPDATE SET target = excluded.target
                  RETURNING id, metric, labels";
            let mut query = sqlx::query_as::<_, (i64, String, String)>(&sql);
            // The returned rows come in no promised order: matched back by text.
            let mut by_json: HashMap<String, Vec<(&'s str, &'s Labels)>> = HashMap::new();
            for &(metric, labels) in chunk {
                let json = labels.to_json();
                query = query
                    .bind(target.to_owned())
                    .bind(metric.to_owned())
                    .bind(json.clone())
                    .bind(ts);
                by_json.entry(json).or_default().push((metric, labels));
            }
            for (id, metric, json) in query.fetch_all(&mut **tx).await? {
                let found = by_json
                    .get(&json)
                    .and_then(|keys| keys.iter().find(|(m, _)| *m == metric));
                if let Some(&(metric, labels)) = found {
                    ids.known.insert((metric, labels), id);
                    ids.new.push(((metric.to_owned(), labels.clone()), id));
                }
            }
        }
        Ok(ids)
    }
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
