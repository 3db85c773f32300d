//! Storage of scraped samples in `telemetry_core.metric_samples`, on SQLite (the
//! embedded default) or PostgreSQL, through one crate: sqlx's `Any` driver. The
//! database is `TELEMETRY_DATABASE_URL` ([`crate::config`]); [`crate::retention`]
//! deletes old samples.
//!
//! The table is the same on both backends: PostgreSQL gets a `telemetry_core`
//! schema; SQLite attaches the database file under the name `telemetry_core`, so
//! every query names `telemetry_core.metric_samples` alike.
//!
//! ```text
//! telemetry_core.metric_samples
//!   target  TEXT    host:port the sample was scraped from
//!   metric  TEXT    sample name (`mona_http_requests_total`, `…_bucket`)
//!   labels  TEXT    JSON object, sorted by label name (older rows: the order the
//!                   target wrote them; both read back as the same `Labels`)
//!   value   REAL    NULL stands for NaN (SQLite cannot store NaN)
//!   ts_ms   BIGINT  scrape time, milliseconds since the Unix epoch
//! indexes: (metric, target, ts_ms) for the API's queries, (ts_ms) for retention
//! ```
//!
//! The columns are those every deployment already has: a sample's type and its
//! exposition timestamp are not stored (see [`crate::sample`]).
//!
//! Migrations are idempotent statements run at start-up. Each scrape is written in
//! one transaction, in multi-row inserts of [`ROWS_PER_INSERT`] rows; every value is
//! a bound parameter.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use keviq_expfmt::MetricType;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

use crate::config::DATABASE_URL_VAR;
use crate::sample::{Labels, Sample};
use crate::scrape::Scrape;

/// Rows per `INSERT` statement (5 parameters each, far below both backends' limits).
pub const ROWS_PER_INSERT: usize = 500;

/// The database behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no supported backend.
    #[error("{DATABASE_URL_VAR}: `{0}` is neither `sqlite://PATH` nor `postgres://…`")]
    UnsupportedUrl(String),
    /// The database refused or failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// One stored sample: a [`Sample`] with where and when it was scraped.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSample {
    /// `host:port` it was scraped from.
    pub target: String,
    /// Scrape time, milliseconds since the Unix epoch.
    pub ts_ms: i64,
    /// The sample (`NaN` round-trips; its type reads as `Unknown`, see
    /// [`crate::sample`]).
    pub sample: Sample,
}

/// Which samples to read.
#[derive(Debug, Clone, Default)]
pub struct SampleQuery {
    /// Sample name, exactly.
    pub metric: String,
    /// `host:port`, exactly; all targets when `None`.
    pub target: Option<String>,
    /// From this time (inclusive), milliseconds since the epoch.
    pub since_ms: i64,
    /// Until this time (inclusive).
    pub until_ms: i64,
    /// At most this many rows, oldest first.
    pub limit: i64,
}

/// The sample store.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty()).then_some(path)
}

/// Milliseconds since the Unix epoch.
pub fn epoch_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Store {
    /// Connects and runs the migrations.
    ///
    /// # Errors
    /// An unsupported URL, or a database that cannot be reached or migrated.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        install_default_drivers();
        let (backend, pool) = if let Some(path) = sqlite_path(url) {
            let path_for_url = path.to_owned();
            let path = path.to_owned();
            let pool = AnyPoolOptions::new()
                .max_connections(4)
                .acquire_timeout(Duration::from_secs(5))
                .after_connect(move |conn, _| {
                    let path = path.clone();
                    Box::pin(async move {
                        // Each pooled connection opens the file and attaches it once more
                        // as `telemetry_core`, the name every query uses. (sqlx makes
                        // `sqlite::memory:` a shared-cache database, which cannot be the
                        // main database here.)
                        sqlx::query("ATTACH DATABASE $1 AS telemetry_core")
                            .bind(path)
                            .execute(&mut *conn)
                            .await?;
                        conn.execute("PRAGMA telemetry_core.journal_mode = WAL")
                            .await?;
                        conn.execute("PRAGMA busy_timeout = 5000").await?;
                        Ok(())
                    })
                })
                .connect(&format!("sqlite://{path_for_url}?mode=rwc"))
                .await?;
            (Backend::Sqlite, pool)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = AnyPoolOptions::new()
                .max_connections(4)
                .acquire_timeout(Duration::from_secs(5))
                .connect(url)
                .await?;
            (Backend::Postgres, pool)
        } else {
            return Err(StoreError::UnsupportedUrl(
                url.chars().filter(|c| !c.is_control()).take(100).collect(),
            ));
        };
        let store = Self { pool, backend };
        store.migrate().await?;
        Ok(store)
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let statements: &[&str] = match self.backend {
            Backend::Sqlite => &[
                "CREATE TABLE IF NOT EXISTS telemetry_core.metric_samples (
                    target TEXT NOT NULL, metric TEXT NOT NULL, labels TEXT NOT NULL,
                    value REAL, ts_ms INTEGER NOT NULL)",
                "CREATE INDEX IF NOT EXISTS telemetry_core.metric_samples_metric_target_ts
                    ON metric_samples (metric, target, ts_ms)",
                "CREATE INDEX IF NOT EXISTS telemetry_core.metric_samples_ts ON metric_samples (ts_ms)",
            ],
            Backend::Postgres => &[
                "CREATE SCHEMA IF NOT EXISTS telemetry_core",
                "CREATE TABLE IF NOT EXISTS telemetry_core.metric_samples (
                    target TEXT NOT NULL, metric TEXT NOT NULL, labels TEXT NOT NULL,
                    value DOUBLE PRECISION, ts_ms BIGINT NOT NULL)",
                "CREATE INDEX IF NOT EXISTS metric_samples_metric_target_ts
                    ON telemetry_core.metric_samples (metric, target, ts_ms)",
                "CREATE INDEX IF NOT EXISTS metric_samples_ts ON telemetry_core.metric_samples (ts_ms)",
            ],
        };
        for statement in statements {
            self.pool.execute(*statement).await?;
        }
        Ok(())
    }

    /// Writes one scrape's samples in one transaction; returns how many.
    ///
    /// # Errors
    /// The database failed; nothing of this scrape was written.
    pub async fn write(&self, scrape: &Scrape) -> Result<usize, StoreError> {
        let target = scrape.target.to_string();
        let ts = epoch_ms(scrape.at);
        let mut tx = self.pool.begin().await?;
        for chunk in scrape.samples.chunks(ROWS_PER_INSERT) {
            let mut sql = String::from(
                "INSERT INTO telemetry_core.metric_samples (target, metric, labels, value, ts_ms) VALUES ",
            );
            for i in 0..chunk.len() {
                let p = i * 5;
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ${})",
                    p + 1,
                    p + 2,
                    p + 3,
                    p + 4,
                    p + 5
                ));
            }
            let mut query = sqlx::query(&sql);
            for sample in chunk {
                query = query
                    .bind(target.clone())
                    .bind(sample.name.clone())
                    .bind(sample.labels.to_json())
                    // SQLite stores NaN as NULL (read back as NaN); PostgreSQL keeps NaN.
                    .bind(sample.value)
                    .bind(ts);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(scrape.samples.len())
    }

    /// Deletes samples older than `cutoff`; returns how many.
    ///
    /// # Errors
    /// The database failed.
    pub async fn delete_older_than(&self, cutoff: SystemTime) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM telemetry_core.metric_samples WHERE ts_ms < $1")
            .bind(epoch_ms(cutoff))
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected())
    }

    /// Number of stored samples.
    ///
    /// # Errors
    /// The database failed.
    pub async fn count(&self) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM telemetry_core.metric_samples")
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// Samples of one metric in a time range, oldest first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn samples(&self, q: &SampleQuery) -> Result<Vec<StoredSample>, StoreError> {
        let rows: Vec<(String, String, String, Option<f64>, i64)> = sqlx::query_as(
            "SELECT target, metric, labels, value, ts_ms FROM telemetry_core.metric_samples
             WHERE metric = $1 AND ($2 = '' OR target = $3) AND ts_ms >= $4 AND ts_ms <= $5
             ORDER BY ts_ms, target LIMIT $6",
        )
        .bind(q.metric.clone())
        .bind(q.target.clone().unwrap_or_default())
        .bind(q.target.clone().unwrap_or_default())
        .bind(q.since_ms)
        .bind(q.until_ms)
        .bind(q.limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(target, metric, labels, value, ts_ms)| StoredSample {
                target,
                ts_ms,
                sample: Sample {
                    name: metric,
                    metric_type: MetricType::Unknown,
                    // A row not written by this service: no labels rather than no answer.
                    labels: Labels::from_json(&labels).unwrap_or_default(),
                    value: value.unwrap_or(f64::NAN),
                    timestamp_ms: None,
                },
            })
            .collect())
    }
}

impl Store {
    /// Each target's first scrape time in a range (milliseconds since the epoch).
    ///
    /// # Errors
    /// The database failed.
    pub async fn first_scrapes(
        &self,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT target, MIN(ts_ms) FROM telemetry_core.metric_samples
             WHERE ts_ms >= $1 AND ts_ms <= $2 GROUP BY target",
        )
        .bind(since_ms)
        .bind(until_ms)
        .fetch_all(&self.pool)
        .await?)
    }
}
