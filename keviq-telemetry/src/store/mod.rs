//! Storage of scraped samples on SQLite (the embedded default) or PostgreSQL, through
//! one crate: sqlx (its `Any` driver; PostgreSQL's native pool for COPY). The
//! database is `TELEMETRY_DATABASE_URL` ([`crate::config`]); the `retention` task
//! deletes old samples.
//!
//! The tables are the same on both backends: PostgreSQL gets a `telemetry_core`
//! schema; SQLite attaches the database file under the name `telemetry_core`, so
//! every query names `telemetry_core.…` alike.
//!
//! ```text
//! telemetry_core.series       one row per series, written once
//!   id          BIGINT   key
//!   target      TEXT     host:port it is scraped from
//!   metric      TEXT     sample name (`mona_http_requests_total`, `…_bucket`)
//!   labels      TEXT     JSON object, sorted by label name
//!   created_ms  BIGINT   when it was first stored
//! unique (target, metric, labels); index (metric, target)
//!
//! telemetry_core.scrapes      one row per scrape
//!   id       BIGINT  key, growing with every scrape written
//!   target   TEXT    host:port
//!   ts_ms    BIGINT  scrape time, milliseconds since the Unix epoch
//!   samples  BIGINT  samples the scrape held
//! indexes: (target, ts_ms) for a target's scrapes in a window, (ts_ms) for retention
//!
//! telemetry_core.samples      one row per sample
//!   scrape_id  BIGINT  key, with series_id, so rows are appended in scrape
//!   series_id  BIGINT  order and found by (scrape, series)
//!   value      REAL    NULL stands for NaN on SQLite (PostgreSQL keeps NaN)
//! SQLite: a WITHOUT ROWID table, about 20 bytes a sample. PostgreSQL: a view over
//! telemetry_core.scrape_values (scrape_id key, series_ids BIGINT[], vals
//! DOUBLE PRECISION[]): one row per scrape, since a row per sample costs a tuple
//! header, a line pointer and an index entry (about 94 bytes a sample)
//!
//! telemetry_core.exemplars
//!   series_id  BIGINT  the series it was on (a latency bucket, the error counter)
//!   labels     TEXT    the exemplar's own labels (`request_id`, `trace_id`), JSON
//!   value      REAL    the exemplar's value; NULL: not finite
//!   ts_ms      BIGINT  the exemplar's timestamp, else the scrape time
//! index: (ts_ms); rows: only exemplars that changed since the target's previous
//! scrape (see [`Scrape::exemplars`]), under the same retention
//!
//! telemetry_core.metric_samples   a view with 0.1's columns, for SQL written
//!   target, metric, labels,        against 0.1: the same rows, read through the
//!   value, ts_ms                   three tables above
//!
//! telemetry_core.remote_write_cursor
//!   remote      TEXT PRIMARY KEY  a remote-write endpoint (host:port/path)
//!   last_id     BIGINT            the last scrape it has been sent (or dropped)
//!   updated_ms  BIGINT            when the cursor last moved
//! ```
//!
//! A scrape's id grows with every scrape written: the remote-write sender reads the
//! samples of the scrapes after its cursor ([`Store::rows_between`]) and saves the
//! cursor once they are delivered, so a restart resumes where delivery stopped.
//! (Two telemetry processes sharing one PostgreSQL database would interleave ids;
//! give each its own database.) A sample's type and its exposition timestamp are not
//! stored (see [`crate::sample`]).
//!
//! The schema is versioned: the migrations under `migrations/sqlite` and
//! `migrations/postgres` (`sqlx::migrate!`) run at start-up, each in a transaction;
//! the first is 0.1's schema, the second moves 0.1's rows into the tables above,
//! keeping every sample, exemplar and remote-write cursor; on PostgreSQL a third
//! folds each scrape's sample rows into `scrape_values`.
//!
//! A scrape is written in bulk: its series' ids come from a bounded map in memory
//! ([`MAX_CACHED_SERIES`]), new series are upserted in one statement, and its
//! samples go in one statement (SQLite unpacks a JSON array) or one COPY
//! (PostgreSQL). Every value is bound, never spliced into SQL.
//!
//! What the API reads is bounded in rows and time: each read has a `LIMIT`, runs on a
//! read-only pool of [`READ_CONNECTIONS`] connections and under a statement timeout
//! ([`STATEMENT_TIMEOUT`]; SQLite, which has none, gets a progress handler); the
//! dashboard's figures are aggregated by the database ([`Store::slot_sums`]).

mod dashboard;
mod read;
mod series;
mod write;

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use keviq_expfmt::MetricType;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{AnyPool, Connection, Executor};

use crate::clock::epoch_ms;
use crate::config::{DATABASE_URL_VAR, STATEMENT_TIMEOUT};
use crate::sample::{Labels, Sample, Scrape};

pub use self::dashboard::{MAX_BUCKET_BOUNDS, ScrapeSum, Slots};
pub use self::read::{
    Bounded, ExemplarQuery, LabelMatch, PROGRESS_OPS, READ_ACQUIRE_TIMEOUT, READ_CONNECTIONS,
    SampleQuery, StoredExemplar,
};
use self::read::{Reader, reader};
pub use self::series::MAX_CACHED_SERIES;
use self::series::SeriesCache;

/// The SQLite schema's versions, applied in order at start-up.
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
/// The PostgreSQL schema's versions, applied in order at start-up.
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");
/// Attaches an SQLite file (`$1`) under the name every query uses.
const ATTACH: &str = "ATTACH DATABASE $1 AS telemetry_core";
/// How long an SQLite connection waits for another's lock before failing.
const BUSY_TIMEOUT: &str = "PRAGMA busy_timeout = 5000";

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
    /// The schema could not be brought to this version.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A read ran past its statement timeout and was stopped.
    #[error("the statement ran longer than {0:?} and was stopped")]
    Timeout(Duration),
    /// Every read connection stayed busy for [`READ_ACQUIRE_TIMEOUT`].
    #[error("every read connection is busy")]
    Busy,
}

impl StoreError {
    /// A read's failure: a statement the timeout stopped (SQLite's `SQLITE_INTERRUPT`,
    /// PostgreSQL's `query_canceled`) is [`Self::Timeout`], a pool that had no
    /// connection free in time [`Self::Busy`].
    fn of_read(e: sqlx::Error, timeout: Duration) -> Self {
        const SQLITE_INTERRUPT: &str = "9";
        const PG_QUERY_CANCELED: &str = "57014";
        match &e {
            sqlx::Error::PoolTimedOut => Self::Busy,
            sqlx::Error::Database(db)
                if matches!(
                    db.code().as_deref(),
                    Some(SQLITE_INTERRUPT | PG_QUERY_CANCELED)
                ) =>
            {
                Self::Timeout(timeout)
            }
            _ => Self::Database(e),
        }
    }
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
/// The sample store.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    reader: Reader,
    timeout: Duration,
    rows_read: Arc<AtomicU64>,
    series: Arc<Mutex<SeriesCache>>,
    /// PostgreSQL's native pool, for COPY (not offered through `Any`).
    postgres: Option<PgPool>,
}

fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty()).then_some(path)
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
                        sqlx::query(ATTACH).bind(path).execute(&mut *conn).await?;
                        conn.execute("PRAGMA telemetry_core.journal_mode = WAL")
                            .await?;
                        conn.execute(BUSY_TIMEOUT).await?;
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
        let postgres = match backend {
            Backend::Postgres => Some(
                PgPoolOptions::new()
                    .max_connections(2)
                    .acquire_timeout(Duration::from_secs(5))
                    .connect_lazy(url)?,
            ),
            Backend::Sqlite => None,
        };
        let store = Self {
            pool,
            backend,
            postgres,
            // Lazy: connected on the first read, after the migrations below.
            reader: reader(url)?,
            timeout: STATEMENT_TIMEOUT,
            rows_read: Arc::default(),
            series: Arc::default(),
        };
        store.migrate(url).await?;
        Ok(store)
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies the migrations this database has not had, each in a transaction.
    /// SQLite's run on a connection of their own whose main database is the file:
    /// the pool's connections attach it once more as `telemetry_core`, and one
    /// transaction writing through both names would wait on itself.
    async fn migrate(&self, url: &str) -> Result<(), StoreError> {
        match (self.backend, sqlite_path(url)) {
            (Backend::Sqlite, Some(path)) => {
                let mut conn =
                    sqlx::AnyConnection::connect(&format!("sqlite://{path}?mode=rwc")).await?;
                conn.execute("PRAGMA journal_mode = WAL").await?;
                conn.execute(BUSY_TIMEOUT).await?;
                let applied = SQLITE_MIGRATIONS.run(&mut conn).await;
                conn.close().await?;
                applied?;
            }
            _ => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    /// Writes one scrape's samples in one transaction; returns how many.
    ///
    /// # Errors
    /// The database failed; nothing of this scrape was written.
    pub async fn write(&self, scrape: &Scrape) -> Result<usize, StoreError> {
        Ok(self.write_with_id(scrape).await?.0)
    }

    /// The highest scrape id (0 for an empty store).
    ///
    /// # Errors
    /// The database failed.
    pub async fn max_id(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_as::<_, (i64,)>(
            "SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM telemetry_core.scrapes",
        )
        .fetch_one(&self.pool)
        .await?
        .0)
    }

    /// The samples of the scrapes with `after < id <= through`, by scrape id, each
    /// with its scrape's id.
    ///
    /// # Errors
    /// The database failed.
    pub async fn rows_between(
        &self,
        after: i64,
        through: i64,
    ) -> Result<Vec<(i64, StoredSample)>, StoreError> {
        let join = self.join();
        let sql = format!(
            "SELECT sc.id, sc.target, se.metric, se.labels, s.value, sc.ts_ms
             FROM telemetry_core.scrapes sc
             {join} telemetry_core.samples s ON s.scrape_id = sc.id
             {join} telemetry_core.series se ON se.id = s.series_id
             WHERE sc.id > $1 AND sc.id <= $2 ORDER BY sc.id"
        );
        let rows: Vec<(i64, String, String, String, Option<f64>, i64)> = sqlx::query_as(&sql)
            .bind(after)
            .bind(through)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, target, metric, labels, value, ts_ms)| {
                (id, stored(target, metric, &labels, value, ts_ms))
            })
            .collect())
    }

    /// The scrapes stored after scrape `after`, oldest first: `(scrape id, samples,
    /// bytes of metric and labels text, ts_ms)`.
    ///
    /// # Errors
    /// The database failed.
    pub async fn scrapes_after(&self, after: i64) -> Result<Vec<(i64, i64, i64, i64)>, StoreError> {
        let join = self.join();
        let sql = format!(
            "SELECT sc.id, CAST(COUNT(*) AS BIGINT),
                    CAST(SUM(LENGTH(se.metric) + LENGTH(se.labels)) AS BIGINT), sc.ts_ms
             FROM telemetry_core.scrapes sc
             {join} telemetry_core.samples s ON s.scrape_id = sc.id
             {join} telemetry_core.series se ON se.id = s.series_id
             WHERE sc.id > $1 GROUP BY sc.id, sc.ts_ms ORDER BY 1"
        );
        Ok(sqlx::query_as(&sql)
            .bind(after)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The join that keeps the tables in the order written: SQLite's `CROSS JOIN`
    /// (its planner then looks up each row of the left by key on the right);
    /// PostgreSQL plans joins well by itself.
    fn join(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "CROSS JOIN",
            Backend::Postgres => "JOIN",
        }
    }

    /// The saved cursor of a remote-write endpoint.
    ///
    /// # Errors
    /// The database failed.
    pub async fn cursor(&self, remote: &str) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT last_id FROM telemetry_core.remote_write_cursor WHERE remote = $1",
        )
        .bind(remote.to_owned())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(id,)| id))
    }

    /// Saves the cursor of a remote-write endpoint.
    ///
    /// # Errors
    /// The database failed.
    pub async fn save_cursor(&self, remote: &str, last_id: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO telemetry_core.remote_write_cursor (remote, last_id, updated_ms)
             VALUES ($1, $2, $3)
             ON CONFLICT (remote) DO UPDATE SET last_id = excluded.last_id, updated_ms = excluded.updated_ms",
        )
        .bind(remote.to_owned())
        .bind(last_id)
        .bind(epoch_ms(SystemTime::now()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Deletes samples and exemplars older than `cutoff`, with their scrapes; returns
    /// how many samples. Samples go by their scrape's key, a range at the old end
    /// of the table, so the live data is not rewritten; on PostgreSQL the tables are
    /// then vacuumed, so new scrapes take the space.
    ///
    /// # Errors
    /// The database failed.
    pub async fn delete_older_than(&self, cutoff: SystemTime) -> Result<u64, StoreError> {
        let cutoff = epoch_ms(cutoff);
        let mut tx = self.pool.begin().await?;
        let deleted = match self.backend {
            Backend::Sqlite => sqlx::query(
                "DELETE FROM telemetry_core.samples WHERE scrape_id IN
                     (SELECT id FROM telemetry_core.scrapes WHERE ts_ms < $1)",
            )
            .bind(cutoff)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            // A scrape's samples are one row: counted by its array's length.
            Backend::Postgres => {
                let (n,): (i64,) = sqlx::query_as(
                    "WITH gone AS (DELETE FROM telemetry_core.scrape_values WHERE scrape_id IN
                         (SELECT id FROM telemetry_core.scrapes WHERE ts_ms < $1)
                         RETURNING cardinality(vals) AS n)
                     SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM gone",
                )
                .bind(cutoff)
                .fetch_one(&mut *tx)
                .await?;
                u64::try_from(n).unwrap_or(0)
            }
        };
        sqlx::query("DELETE FROM telemetry_core.scrapes WHERE ts_ms < $1")
            .bind(cutoff)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM telemetry_core.exemplars WHERE ts_ms < $1")
            .bind(cutoff)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        // PostgreSQL reuses the deleted rows' space once they are vacuumed; without
        // waiting for autovacuum's thresholds, the table would grow by a retention
        // period's worth first. Plain VACUUM blocks neither reads nor writes. SQLite
        // reuses freed pages by itself.
        if let (true, Some(pg)) = (deleted > 0, &self.postgres) {
            pg.execute(
                "VACUUM telemetry_core.scrape_values, telemetry_core.scrapes, \
                 telemetry_core.exemplars",
            )
            .await?;
        }
        Ok(deleted)
    }

    /// Number of stored exemplars.
    ///
    /// # Errors
    /// The database failed.
    pub async fn exemplar_count(&self) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM telemetry_core.exemplars")
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// Number of stored samples.
    ///
    /// # Errors
    /// The database failed.
    pub async fn count(&self) -> Result<i64, StoreError> {
        let sql = match self.backend {
            Backend::Sqlite => "SELECT COUNT(*) FROM telemetry_core.samples",
            Backend::Postgres => {
                "SELECT CAST(COALESCE(SUM(cardinality(vals)), 0) AS BIGINT)
                 FROM telemetry_core.scrape_values"
            }
        };
        let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&self.pool).await?;
        Ok(n)
    }
}

fn stored(
    target: String,
    metric: String,
    labels: &str,
    value: Option<f64>,
    ts_ms: i64,
) -> StoredSample {
    StoredSample {
        target,
        ts_ms,
        sample: Sample {
            name: metric,
            metric_type: MetricType::Unknown,
            // A row not written by this service: no labels rather than no answer.
            labels: Labels::from_json(labels).unwrap_or_default(),
            value: value.unwrap_or(f64::NAN),
            timestamp_ms: None,
        },
    }
}
