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
//! indexes: (metric, target, ts_ms) for a target's scrapes of a metric (one index
//!          seek finds a target's last scrape in a minute), (metric, ts_ms, target)
//!          for a metric's samples oldest first across targets, (ts_ms) for retention
//!
//! telemetry_core.exemplars
//!   target  TEXT    host:port the exemplar was scraped from
//!   metric  TEXT    the sample it was on (`mona_http_request_duration_ms_bucket`)
//!   series  TEXT    that sample's labels, JSON as `labels` above
//!   labels  TEXT    the exemplar's own labels (`request_id`, `trace_id`), JSON
//!   value   REAL    the exemplar's value (a latency bucket's: the duration); NULL: NaN
//!   ts_ms   BIGINT  the exemplar's timestamp, else the scrape time
//! indexes: (ts_ms) for retention and the API, (metric, ts_ms)
//! rows: only exemplars that changed since the target's previous scrape (see
//! [`Scrape::exemplars`]), in the scrape's transaction, under the same retention
//!
//! telemetry_core.remote_write_cursor
//!   remote      TEXT PRIMARY KEY  a remote-write endpoint (host:port/path)
//!   last_id     BIGINT            the last sample row it has been sent (or dropped)
//!   updated_ms  BIGINT            when the cursor last moved
//! ```
//!
//! Each row has an id that grows with every insert: SQLite's `rowid`, PostgreSQL's
//! `id BIGSERIAL` (added to an existing table by the migration, with an index). One
//! writer writes one scrape per transaction, so a scrape's rows have consecutive ids
//! and a later scrape has higher ones: the remote-write sender reads the rows after
//! its cursor ([`Store::rows_between`]) and saves the cursor once they are delivered,
//! so a restart resumes where delivery stopped. (Two telemetry processes sharing one
//! PostgreSQL database would interleave ids; give each its own database.)
//!
//! The columns are those every deployment already has: a sample's type and its
//! exposition timestamp are not stored (see [`crate::sample`]).
//!
//! Migrations are idempotent statements run at start-up. Each scrape is written in
//! one transaction, in multi-row inserts of [`ROWS_PER_INSERT`] rows; every value is
//! a bound parameter.
//!
//! # Bounded reads
//!
//! What the API reads goes through a pool of its own ([`READ_CONNECTIONS`]
//! connections, read-only: SQLite's `query_only`, PostgreSQL's
//! `default_transaction_read_only`), and every such statement
//! - has a `LIMIT` in its SQL, so the rows it brings into the process are bounded
//!   (their running total is [`Store::rows_read`]);
//! - runs under a statement timeout ([`STATEMENT_TIMEOUT`] unless
//!   [`Store::with_query_timeout`] says otherwise): PostgreSQL's `statement_timeout`,
//!   set on the connection before each statement; on SQLite, which has none, a
//!   progress handler that interrupts the statement past its deadline
//!   (`sqlite3_progress_handler`, checked every [`PROGRESS_OPS`] virtual-machine
//!   instructions). A statement cut short is [`StoreError::Timeout`]; one that finds
//!   every connection busy for [`READ_ACQUIRE_TIMEOUT`] is [`StoreError::Busy`].
//!
//! The dashboard's figures are aggregated by the database ([`Store::slot_sums`]): per
//! target and slot of a window, the last scrape is found with one index seek, and
//! only the sum of its series (per bucket bound for a histogram) leaves the database.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use keviq_expfmt::MetricType;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::query::QueryAs;
use sqlx::sqlite::{SqlitePool, SqlitePoolOptions, SqliteRow};
use sqlx::{AnyPool, Database, Encode, Executor, FromRow, Postgres, Sqlite, Type};

use crate::config::DATABASE_URL_VAR;
use crate::sample::{Exemplar, Labels, Sample};
use crate::scrape::{Scrape, UP};

/// Rows per `INSERT` statement (5 parameters each, far below both backends' limits).
pub const ROWS_PER_INSERT: usize = 500;

/// How long one read of the API may run before the database stops it
/// ([`StoreError::Timeout`]); [`Store::with_query_timeout`] changes it.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections of the read pool: at most this many API reads run at once; the next
/// waits for one, up to [`READ_ACQUIRE_TIMEOUT`] ([`StoreError::Busy`]).
pub const READ_CONNECTIONS: u32 = 4;

/// How long a read waits for a free connection of the read pool.
pub const READ_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// SQLite virtual-machine instructions between two checks of a read's deadline.
pub const PROGRESS_OPS: i32 = 10_000;

/// Grace beyond the statement timeout before the process gives up on a read the
/// database did not stop (a PostgreSQL server that stopped answering).
const BACKSTOP: Duration = Duration::from_secs(2);

/// Targets bound in one statement of [`Store::slot_sums`] and
/// [`Store::first_scrapes`]; more are read in several.
const TARGETS_PER_STATEMENT: usize = 500;

/// Distinct bucket bounds per target and scrape [`Store::slot_sums`] reads at most.
pub const MAX_BUCKET_BOUNDS: usize = 100;

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

/// Which exemplars to read.
#[derive(Debug, Clone, Default)]
pub struct ExemplarQuery {
    /// The sample they were on, exactly; all when `None`.
    pub metric: Option<String>,
    /// `host:port`s, exactly; all targets when empty.
    pub targets: Vec<String>,
    /// Only exemplars with at least this value (a NaN value always passes).
    pub min_value: f64,
    /// From this time (inclusive), milliseconds since the epoch.
    pub since_ms: i64,
    /// Until this time (inclusive).
    pub until_ms: i64,
    /// Highest value first instead of newest first.
    pub by_value: bool,
    /// At most this many.
    pub limit: i64,
}

/// One stored exemplar, with where it was scraped from and its time.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredExemplar {
    /// `host:port` it was scraped from.
    pub target: String,
    /// Its timestamp, else its scrape's, milliseconds since the epoch.
    pub ts_ms: i64,
    /// The exemplar.
    pub exemplar: Exemplar,
}

/// A `label=name=value` matcher: the sample's label `name` is exactly `value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelMatch {
    /// The label name; one outside the label grammar ([`is_label_name`]) matches
    /// nothing.
    pub name: String,
    /// The value, exactly.
    pub value: String,
}

/// Whether `name` is a label name of the Prometheus grammar, `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The slots of a window the dashboard's figures are read in: `count` slots of
/// `step_ms`, the newest ending at `until_ms` (slot 0), so the window is
/// `(until_ms - count * step_ms, until_ms]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slots {
    /// The end of the newest slot, milliseconds since the epoch.
    pub until_ms: i64,
    /// Each slot's length in ms (at least 1).
    pub step_ms: i64,
    /// How many slots (at least 1).
    pub count: i64,
}

impl Slots {
    /// The start of the oldest slot (exclusive).
    pub fn since_ms(&self) -> i64 {
        self.until_ms
            .saturating_sub(self.step_ms.saturating_mul(self.count))
    }

    /// The slot a time falls in, `0` for the newest; `None` outside the window.
    pub fn slot_of(&self, ts_ms: i64) -> Option<i64> {
        if ts_ms > self.until_ms || ts_ms <= self.since_ms() {
            return None;
        }
        Some((self.until_ms - ts_ms) / self.step_ms.max(1))
    }
}

/// A metric summed over one target's series at one scrape (per bucket bound for a
/// histogram's `_bucket` series): what [`Store::slot_sums`] reads.
#[derive(Debug, Clone, PartialEq)]
pub struct ScrapeSum {
    /// `host:port`.
    pub target: String,
    /// The scrape time, milliseconds since the epoch.
    pub ts_ms: i64,
    /// The `le` label, for sums per bucket bound.
    pub le: Option<String>,
    /// The sum of the finite values.
    pub sum: f64,
}

/// What a bounded read returns: its rows, and whether there were more than it kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Bounded<T> {
    /// The rows, at most the limit asked for.
    pub rows: Vec<T>,
    /// More rows matched than the limit.
    pub truncated: bool,
}

/// The pool the bounded reads go through.
#[derive(Debug, Clone)]
enum Reader {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A value bound to a read's parameter.
#[derive(Debug, Clone)]
enum Arg {
    Text(String),
    Int(i64),
    Real(f64),
}

/// The sample store.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    reader: Reader,
    timeout: Duration,
    rows_read: Arc<AtomicU64>,
}

fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty()).then_some(path)
}

/// The read pool of the database at `url` (not connected yet): read-only
/// connections, each statement under a timeout (see [`Store::read`]).
fn reader(url: &str) -> Result<Reader, StoreError> {
    if let Some(path) = sqlite_path(url) {
        let path = path.to_owned();
        let connect = sqlx::sqlite::SqliteConnectOptions::new().filename(&path);
        let pool = SqlitePoolOptions::new()
            .max_connections(READ_CONNECTIONS)
            .acquire_timeout(READ_ACQUIRE_TIMEOUT)
            .after_connect(move |conn, _| {
                let path = path.clone();
                Box::pin(async move {
                    sqlx::query("ATTACH DATABASE $1 AS telemetry_core")
                        .bind(path)
                        .execute(&mut *conn)
                        .await?;
                    conn.execute("PRAGMA busy_timeout = 5000").await?;
                    // No statement of this pool writes, whatever its SQL says.
                    conn.execute("PRAGMA query_only = ON").await?;
                    Ok(())
                })
            })
            .connect_lazy_with(connect);
        return Ok(Reader::Sqlite(pool));
    }
    let connect =
        PgConnectOptions::from_str(url)?.options([("default_transaction_read_only", "on")]);
    Ok(Reader::Postgres(
        PgPoolOptions::new()
            .max_connections(READ_CONNECTIONS)
            .acquire_timeout(READ_ACQUIRE_TIMEOUT)
            .connect_lazy_with(connect),
    ))
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
        let store = Self {
            pool,
            backend,
            // Lazy: connected on the first read, after the migrations below.
            reader: reader(url)?,
            timeout: STATEMENT_TIMEOUT,
            rows_read: Arc::default(),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// The same store with reads stopped after `timeout` instead of
    /// [`STATEMENT_TIMEOUT`] (at least 1 ms: PostgreSQL reads 0 as no timeout).
    #[must_use]
    pub fn with_query_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How long a read may run.
    pub fn query_timeout(&self) -> Duration {
        self.timeout
    }

    /// The rows every bounded read of this store (and its clones) has brought into
    /// the process so far: what the API's memory follows, and what tests bound.
    pub fn rows_read(&self) -> u64 {
        self.rows_read.load(Ordering::Relaxed)
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
                "CREATE TABLE IF NOT EXISTS telemetry_core.remote_write_cursor (
                    remote TEXT PRIMARY KEY, last_id INTEGER NOT NULL, updated_ms INTEGER NOT NULL)",
                "CREATE INDEX IF NOT EXISTS telemetry_core.metric_samples_metric_target_ts
                    ON metric_samples (metric, target, ts_ms)",
                "CREATE INDEX IF NOT EXISTS telemetry_core.metric_samples_ts ON metric_samples (ts_ms)",
                "CREATE INDEX IF NOT EXISTS telemetry_core.metric_samples_metric_ts_target
                    ON metric_samples (metric, ts_ms, target)",
                "CREATE TABLE IF NOT EXISTS telemetry_core.exemplars (
                    target TEXT NOT NULL, metric TEXT NOT NULL, series TEXT NOT NULL,
                    labels TEXT NOT NULL, value REAL, ts_ms INTEGER NOT NULL)",
                "CREATE INDEX IF NOT EXISTS telemetry_core.exemplars_ts ON exemplars (ts_ms)",
                "CREATE INDEX IF NOT EXISTS telemetry_core.exemplars_metric_ts ON exemplars (metric, ts_ms)",
            ],
            Backend::Postgres => &[
                "CREATE SCHEMA IF NOT EXISTS telemetry_core",
                "CREATE TABLE IF NOT EXISTS telemetry_core.metric_samples (
                    target TEXT NOT NULL, metric TEXT NOT NULL, labels TEXT NOT NULL,
                    value DOUBLE PRECISION, ts_ms BIGINT NOT NULL)",
                "CREATE INDEX IF NOT EXISTS metric_samples_metric_target_ts
                    ON telemetry_core.metric_samples (metric, target, ts_ms)",
                "CREATE INDEX IF NOT EXISTS metric_samples_ts ON telemetry_core.metric_samples (ts_ms)",
                "CREATE INDEX IF NOT EXISTS metric_samples_metric_ts_target
                    ON telemetry_core.metric_samples (metric, ts_ms, target)",
                "ALTER TABLE telemetry_core.metric_samples ADD COLUMN IF NOT EXISTS id BIGSERIAL",
                "CREATE INDEX IF NOT EXISTS metric_samples_id ON telemetry_core.metric_samples (id)",
                "CREATE TABLE IF NOT EXISTS telemetry_core.remote_write_cursor (
                    remote TEXT PRIMARY KEY, last_id BIGINT NOT NULL, updated_ms BIGINT NOT NULL)",
                "CREATE TABLE IF NOT EXISTS telemetry_core.exemplars (
                    target TEXT NOT NULL, metric TEXT NOT NULL, series TEXT NOT NULL,
                    labels TEXT NOT NULL, value DOUBLE PRECISION, ts_ms BIGINT NOT NULL)",
                "CREATE INDEX IF NOT EXISTS exemplars_ts ON telemetry_core.exemplars (ts_ms)",
                "CREATE INDEX IF NOT EXISTS exemplars_metric_ts ON telemetry_core.exemplars (metric, ts_ms)",
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
        Ok(self.write_with_id(scrape).await?.0)
    }

    /// Writes one scrape's samples in one transaction; returns how many, and the id
    /// of the last row (the previous last id when there were none).
    ///
    /// # Errors
    /// The database failed; nothing of this scrape was written.
    pub async fn write_with_id(&self, scrape: &Scrape) -> Result<(usize, i64), StoreError> {
        let target = scrape.target.to_string();
        let ts = epoch_ms(scrape.at);
        let mut tx = self.pool.begin().await?;
        for chunk in scrape.samples.chunks(ROWS_PER_INSERT) {
            let sql = insert_sql(
                "telemetry_core.metric_samples (target, metric, labels, value, ts_ms)",
                5,
                chunk.len(),
            );
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
        let last_id: i64 = if scrape.samples.is_empty() {
            0
        } else {
            let sql = match self.backend {
                Backend::Sqlite => "SELECT last_insert_rowid()",
                Backend::Postgres => {
                    "SELECT currval(pg_get_serial_sequence('telemetry_core.metric_samples', 'id'))"
                }
            };
            sqlx::query_as::<_, (i64,)>(sql)
                .fetch_one(&mut *tx)
                .await?
                .0
        };
        // After the samples' last id is read: SQLite's `last_insert_rowid` would
        // otherwise be an exemplar's.
        for chunk in scrape.exemplars.chunks(ROWS_PER_INSERT) {
            let sql = insert_sql(
                "telemetry_core.exemplars (target, metric, series, labels, value, ts_ms)",
                6,
                chunk.len(),
            );
            let mut query = sqlx::query(&sql);
            for e in chunk {
                query = query
                    .bind(target.clone())
                    .bind(e.metric.clone())
                    .bind(e.series.to_json())
                    .bind(e.labels.to_json())
                    .bind(e.value)
                    .bind(e.timestamp_ms.unwrap_or(ts));
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok((scrape.samples.len(), last_id))
    }

    /// The row id column: SQLite's `rowid`, PostgreSQL's `id`.
    fn id_column(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "rowid",
            Backend::Postgres => "id",
        }
    }

    /// The highest row id (0 for an empty table).
    ///
    /// # Errors
    /// The database failed.
    pub async fn max_id(&self) -> Result<i64, StoreError> {
        let sql = format!(
            "SELECT CAST(COALESCE(MAX({}), 0) AS BIGINT) FROM telemetry_core.metric_samples",
            self.id_column()
        );
        Ok(sqlx::query_as::<_, (i64,)>(&sql)
            .fetch_one(&self.pool)
            .await?
            .0)
    }

    /// The rows with `after < id <= through`, by id, each with its id.
    ///
    /// # Errors
    /// The database failed.
    pub async fn rows_between(
        &self,
        after: i64,
        through: i64,
    ) -> Result<Vec<(i64, StoredSample)>, StoreError> {
        let id = self.id_column();
        let sql = format!(
            "SELECT {id}, target, metric, labels, value, ts_ms FROM telemetry_core.metric_samples
             WHERE {id} > $1 AND {id} <= $2 ORDER BY {id}"
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

    /// The scrapes stored after row `after`, oldest first, one per target and scrape
    /// time: `(last row id, rows, bytes of metric and labels text, ts_ms)`.
    ///
    /// # Errors
    /// The database failed.
    pub async fn scrapes_after(&self, after: i64) -> Result<Vec<(i64, i64, i64, i64)>, StoreError> {
        let id = self.id_column();
        let sql = format!(
            "SELECT CAST(MAX({id}) AS BIGINT), CAST(COUNT(*) AS BIGINT),
                    CAST(SUM(LENGTH(metric) + LENGTH(labels)) AS BIGINT), ts_ms
             FROM telemetry_core.metric_samples WHERE {id} > $1
             GROUP BY target, ts_ms ORDER BY 1"
        );
        Ok(sqlx::query_as(&sql)
            .bind(after)
            .fetch_all(&self.pool)
            .await?)
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

    /// Deletes samples and exemplars older than `cutoff`; returns how many samples.
    ///
    /// # Errors
    /// The database failed.
    pub async fn delete_older_than(&self, cutoff: SystemTime) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM telemetry_core.metric_samples WHERE ts_ms < $1")
            .bind(epoch_ms(cutoff))
            .execute(&self.pool)
            .await?;
        sqlx::query("DELETE FROM telemetry_core.exemplars WHERE ts_ms < $1")
            .bind(epoch_ms(cutoff))
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected())
    }

    /// Stored exemplars matching `q`, newest first (or highest value first), at most
    /// `q.limit`; a bounded read.
    ///
    /// # Errors
    /// The database failed, or the read ran past its timeout.
    pub async fn exemplars(&self, q: &ExemplarQuery) -> Result<Vec<StoredExemplar>, StoreError> {
        let order = if q.by_value {
            "value DESC, ts_ms DESC"
        } else {
            "ts_ms DESC, value DESC"
        };
        let mut sql = Sql::new(
            "SELECT target, metric, series, labels, value, ts_ms FROM telemetry_core.exemplars
             WHERE ts_ms >= $1 AND ts_ms <= $2 AND (value IS NULL OR value >= $3)",
            vec![
                Arg::Int(q.since_ms),
                Arg::Int(q.until_ms),
                Arg::Real(q.min_value),
            ],
        );
        if let Some(metric) = &q.metric {
            sql.filter("metric = ", Arg::Text(metric.clone()));
        }
        // Every target of the service, bound one by one (a service has a few).
        if !q.targets.is_empty() {
            let list = sql.list(q.targets.iter().cloned().map(Arg::Text));
            sql.text.push_str(&format!(" AND target IN ({list})"));
        }
        sql.text
            .push_str(&format!(" ORDER BY {order} LIMIT {}", q.limit.max(0)));
        let rows: Vec<(String, String, String, String, Option<f64>, i64)> =
            self.read(&sql.text, &sql.args).await?;
        Ok(rows
            .into_iter()
            .map(
                |(target, metric, series, labels, value, ts_ms)| StoredExemplar {
                    target,
                    ts_ms,
                    exemplar: Exemplar {
                        metric,
                        series: Labels::from_json(&series).unwrap_or_default(),
                        labels: Labels::from_json(&labels).unwrap_or_default(),
                        value: value.unwrap_or(f64::NAN),
                        timestamp_ms: Some(ts_ms),
                    },
                },
            )
            .collect())
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
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM telemetry_core.metric_samples")
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// Samples of one metric in a time range, oldest first, at most `q.limit`
    /// ([`Store::samples_matching`] without matchers).
    ///
    /// # Errors
    /// The database failed, or the read ran past its timeout.
    pub async fn samples(&self, q: &SampleQuery) -> Result<Vec<StoredSample>, StoreError> {
        self.samples_matching(q, &[]).await
    }

    /// Samples of one metric in a time range whose labels match every matcher,
    /// oldest first (then by target), at most `q.limit`: the matchers are applied by
    /// the database (SQLite's `json_extract`, PostgreSQL's `->>` on the labels'
    /// JSON) and the limit in its SQL, so the rows read are the rows returned. Oldest
    /// first comes from the `(metric, ts_ms, target)` index (with a target, from
    /// `(metric, target, ts_ms)`), with no sort of the range.
    ///
    /// # Errors
    /// The database failed, or the read ran past its timeout.
    pub async fn samples_matching(
        &self,
        q: &SampleQuery,
        matchers: &[LabelMatch],
    ) -> Result<Vec<StoredSample>, StoreError> {
        if matchers.iter().any(|m| !is_label_name(&m.name)) {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(
            "SELECT target, metric, labels, value, ts_ms FROM telemetry_core.metric_samples
             WHERE metric = $1 AND ts_ms >= $2 AND ts_ms <= $3",
            vec![
                Arg::Text(q.metric.clone()),
                Arg::Int(q.since_ms),
                Arg::Int(q.until_ms),
            ],
        );
        if let Some(target) = &q.target {
            sql.filter("target = ", Arg::Text(target.clone()));
        }
        for m in matchers {
            let (expr, key) = self.label_lookup(&m.name);
            let key = sql.arg(Arg::Text(key));
            let value = sql.arg(Arg::Text(m.value.clone()));
            sql.text
                .push_str(&format!(" AND {} = {value}", expr.replace("{key}", &key)));
        }
        sql.text
            .push_str(&format!(" ORDER BY ts_ms, target LIMIT {}", q.limit.max(0)));
        let rows: Vec<(String, String, String, Option<f64>, i64)> =
            self.read(&sql.text, &sql.args).await?;
        Ok(rows
            .into_iter()
            .map(|(target, metric, labels, value, ts_ms)| {
                stored(target, metric, &labels, value, ts_ms)
            })
            .collect())
    }

    /// The SQL that reads one label of a row's `labels` (`{key}` stands for the
    /// parameter), and the key to bind: SQLite's JSON path, PostgreSQL's name.
    /// SQLite reads no label of a row whose labels are not JSON; PostgreSQL fails
    /// on one (this service writes none).
    fn label_lookup(&self, name: &str) -> (&'static str, String) {
        match self.backend {
            Backend::Sqlite => (
                "(CASE WHEN json_valid(labels) THEN json_extract(labels, {key}) END)",
                format!("$.\"{name}\""),
            ),
            Backend::Postgres => ("(labels::json ->> {key})", name.to_owned()),
        }
    }

    /// Runs a read-only statement under the read bounds and returns its single
    /// integer.
    ///
    /// # Errors
    /// The database failed, or the read ran past its timeout.
    #[doc(hidden)]
    // Not public API. Used by tests, to run a deliberately slow statement.
    pub async fn bounded_scalar(&self, sql: &str) -> Result<i64, StoreError> {
        let rows: Vec<(i64,)> = self.read(sql, &[]).await?;
        Ok(rows.first().map_or(0, |r| r.0))
    }

    /// Runs a read: on a connection of the read pool (waiting for one at most
    /// [`READ_ACQUIRE_TIMEOUT`]: [`StoreError::Busy`]), under the statement timeout
    /// ([`StoreError::Timeout`]), counting its rows in [`Store::rows_read`]. The SQL
    /// has its `LIMIT`.
    async fn read<O>(&self, sql: &str, args: &[Arg]) -> Result<Vec<O>, StoreError>
    where
        O: Send + Unpin + for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow>,
    {
        let timeout = self.timeout;
        let run = async {
            match &self.reader {
                Reader::Sqlite(pool) => read_sqlite(pool, sql, args, timeout).await,
                Reader::Postgres(pool) => read_postgres(pool, sql, args, timeout).await,
            }
        };
        // The wait for a connection and the statement are bounded each (the pool's
        // acquire timeout, the statement timeout); the backstop catches a server
        // that stopped answering.
        let rows = tokio::time::timeout(READ_ACQUIRE_TIMEOUT + timeout + BACKSTOP, run)
            .await
            .map_err(|_| StoreError::Timeout(timeout))??;
        self.rows_read.fetch_add(
            u64::try_from(rows.len()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        Ok(rows)
    }
}

/// A statement being built: its SQL and the values of its `$n` parameters.
#[derive(Debug)]
struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    fn new(text: &str, args: Vec<Arg>) -> Self {
        Self {
            text: text.to_owned(),
            args,
        }
    }

    /// Adds a parameter; returns its placeholder.
    fn arg(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }

    /// Appends ` AND {condition}$n` for a new parameter.
    fn filter(&mut self, condition: &str, arg: Arg) {
        let placeholder = self.arg(arg);
        self.text
            .push_str(&format!(" AND {condition}{placeholder}"));
    }

    /// Adds the parameters; returns their placeholders, comma-separated.
    fn list(&mut self, args: impl IntoIterator<Item = Arg>) -> String {
        args.into_iter()
            .map(|a| self.arg(a))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Binds `args` to a query of either backend.
fn bind_all<'q, DB, O>(
    mut query: QueryAs<'q, DB, O, <DB as Database>::Arguments<'q>>,
    args: &[Arg],
) -> QueryAs<'q, DB, O, <DB as Database>::Arguments<'q>>
where
    DB: Database,
    String: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    f64: Encode<'q, DB> + Type<DB>,
{
    for arg in args {
        query = match arg {
            Arg::Text(text) => query.bind(text.clone()),
            Arg::Int(n) => query.bind(*n),
            Arg::Real(x) => query.bind(*x),
        };
    }
    query
}

/// A read on SQLite: a progress handler on the connection stops the statement
/// (`SQLITE_INTERRUPT`) once its deadline has passed.
async fn read_sqlite<O>(
    pool: &SqlitePool,
    sql: &str,
    args: &[Arg],
    timeout: Duration,
) -> Result<Vec<O>, StoreError>
where
    O: Send + Unpin + for<'r> FromRow<'r, SqliteRow>,
{
    let mut conn = pool
        .acquire()
        .await
        .map_err(|e| StoreError::of_read(e, timeout))?;
    let deadline = Instant::now() + timeout;
    conn.lock_handle()
        .await?
        .set_progress_handler(PROGRESS_OPS, move || Instant::now() < deadline);
    let rows = bind_all(sqlx::query_as::<Sqlite, O>(sql), args)
        .fetch_all(&mut *conn)
        .await;
    // The next read sets its own; none is left behind to stop another statement.
    if let Ok(mut handle) = conn.lock_handle().await {
        handle.remove_progress_handler();
    }
    rows.map_err(|e| StoreError::of_read(e, timeout))
}

/// A read on PostgreSQL: the connection's `statement_timeout` is set to the
/// timeout before the statement (the pool serves reads alone).
async fn read_postgres<O>(
    pool: &PgPool,
    sql: &str,
    args: &[Arg],
    timeout: Duration,
) -> Result<Vec<O>, StoreError>
where
    O: Send + Unpin + for<'r> FromRow<'r, PgRow>,
{
    let mut conn = pool
        .acquire()
        .await
        .map_err(|e| StoreError::of_read(e, timeout))?;
    let ms = timeout.as_millis().max(1);
    conn.execute(format!("SET statement_timeout = {ms}").as_str())
        .await
        .map_err(|e| StoreError::of_read(e, timeout))?;
    bind_all(sqlx::query_as::<Postgres, O>(sql), args)
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| StoreError::of_read(e, timeout))
}

/// `INSERT INTO {into} VALUES ($1, …), …`: `rows` rows of `columns` parameters.
fn insert_sql(into: &str, columns: usize, rows: usize) -> String {
    let mut sql = format!("INSERT INTO {into} VALUES ");
    for row in 0..rows {
        if row > 0 {
            sql.push(',');
        }
        sql.push('(');
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", row * columns + column + 1));
        }
        sql.push(')');
    }
    sql
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

/// Rows [`Store::samples_last_per_minute`] reads at most.
const PER_MINUTE_ROWS: i64 = 100_000;

impl Store {
    /// The samples of `metric` in a time range from each target's first scrape in
    /// it and its last scrape of every minute (by `ts_ms / 60000`), oldest first, at
    /// most [`PER_MINUTE_ROWS`] (a bounded read). The scrapes are picked on the
    /// `(metric, target, ts_ms)` index alone. (The API reads sums instead:
    /// [`Store::slot_sums`].)
    ///
    /// # Errors
    /// The database failed, or the read ran past its timeout.
    pub async fn samples_last_per_minute(
        &self,
        metric: &str,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<StoredSample>, StoreError> {
        let sql = format!(
            "SELECT s.target, s.metric, s.labels, s.value, s.ts_ms
             FROM telemetry_core.metric_samples s
             JOIN (SELECT target AS t, MAX(ts_ms) AS m FROM telemetry_core.metric_samples
                   WHERE metric = $1 AND ts_ms >= $2 AND ts_ms <= $3
                   GROUP BY target, ts_ms / 60000
                   UNION
                   SELECT target, MIN(ts_ms) FROM telemetry_core.metric_samples
                   WHERE metric = $1 AND ts_ms >= $2 AND ts_ms <= $3
                   GROUP BY target) last
               ON s.target = last.t AND s.ts_ms = last.m
             WHERE s.metric = $1
             ORDER BY s.ts_ms, s.target LIMIT {PER_MINUTE_ROWS}"
        );
        let args = [
            Arg::Text(metric.to_owned()),
            Arg::Int(since_ms),
            Arg::Int(until_ms),
        ];
        let rows: Vec<(String, String, String, Option<f64>, i64)> = self.read(&sql, &args).await?;
        Ok(rows
            .into_iter()
            .map(|(target, metric, labels, value, ts_ms)| {
                stored(target, metric, &labels, value, ts_ms)
            })
            .collect())
    }

    /// Each target's first successful scrape in `(since_ms, until_ms]`: its first
    /// `up` sample of value 1 (the scraper ends every scrape with one) or, for rows
    /// stored without, its first sample named in `metrics`, whichever is earlier;
    /// one index seek per target and metric. Targets without one are left out.
    ///
    /// # Errors
    /// The database failed, or the read ran past its timeout.
    pub async fn first_scrapes(
        &self,
        targets: &[String],
        metrics: &[&str],
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let mut found = Vec::new();
        for chunk in targets.chunks(TARGETS_PER_STATEMENT) {
            let mut sql = Sql::new(
                "",
                vec![
                    Arg::Int(since_ms),
                    Arg::Int(until_ms),
                    Arg::Text(UP.to_owned()),
                ],
            );
            let targets = values(&mut sql, chunk.iter().cloned().map(Arg::Text));
            let metrics = values(
                &mut sql,
                std::iter::once(UP)
                    .chain(metrics.iter().copied())
                    .map(|m| Arg::Text(m.to_owned())),
            );
            sql.text = format!(
                "WITH targets(t) AS (VALUES {targets}), metrics(m) AS (VALUES {metrics})
                 SELECT t, CAST(MIN(first) AS BIGINT) FROM (
                     SELECT t, (SELECT ts_ms FROM telemetry_core.metric_samples
                                WHERE metric = m AND target = t AND ts_ms > $1 AND ts_ms <= $2
                                  AND (metric <> $3 OR value = 1)
                                ORDER BY ts_ms LIMIT 1) AS first
                     FROM targets CROSS JOIN metrics) firsts
                 WHERE first IS NOT NULL GROUP BY t LIMIT {}",
                chunk.len()
            );
            found.extend(self.read::<(String, i64)>(&sql.text, &sql.args).await?);
        }
        Ok(found)
    }

    /// `metric` summed per target at the scrapes that bound the `slots`: each
    /// target's first scrape of the metric in the window and its last in every slot
    /// (one index seek each), summed over the target's series by the database — per
    /// bucket bound (`le`) when `by_bound`, for a histogram's `_bucket` series. Non-finite
    /// values are left out of the sums. By target, then time; at most
    /// `targets × (slots + 1)` rows (times [`MAX_BUCKET_BOUNDS`] by bound), so the
    /// rows read follow the fleet and the slots, not how long it has run.
    ///
    /// A counter's increase between two such sums is its series' increases added up
    /// while none reset (a process that restarts resets all of them: the sum drops).
    ///
    /// # Errors
    /// The database failed, or the read ran past its timeout.
    pub async fn slot_sums(
        &self,
        metric: &str,
        targets: &[String],
        slots: &Slots,
        by_bound: bool,
    ) -> Result<Bounded<ScrapeSum>, StoreError> {
        let mut sums = Bounded {
            rows: Vec::new(),
            truncated: false,
        };
        for chunk in targets.chunks(TARGETS_PER_STATEMENT) {
            let part = self.slot_sums_of(metric, chunk, slots, by_bound).await?;
            sums.rows.extend(part.rows);
            sums.truncated |= part.truncated;
        }
        Ok(sums)
    }

    async fn slot_sums_of(
        &self,
        metric: &str,
        targets: &[String],
        slots: &Slots,
        by_bound: bool,
    ) -> Result<Bounded<ScrapeSum>, StoreError> {
        let mut sql = Sql::new(
            "",
            vec![
                Arg::Text(metric.to_owned()),
                Arg::Int(slots.until_ms),
                Arg::Int(slots.step_ms.max(1)),
                Arg::Int(slots.count.max(1)),
                Arg::Int(slots.since_ms()),
            ],
        );
        let list = values(&mut sql, targets.iter().cloned().map(Arg::Text));
        let bounds = if by_bound { MAX_BUCKET_BOUNDS } else { 1 };
        let cap = targets.len() * (usize::try_from(slots.count).unwrap_or(0) + 1) * bounds;
        // SQLite would otherwise scan the metric's every row and probe the picks:
        // its `CROSS JOIN` keeps the picks outside, each joined by index.
        let join = match self.backend {
            Backend::Sqlite => "CROSS JOIN",
            Backend::Postgres => "JOIN",
        };
        let (le, group) = match (by_bound, self.backend) {
            (false, _) => ("NULL", ""),
            (true, Backend::Sqlite) => (
                "CASE WHEN json_valid(s.labels) THEN json_extract(s.labels, '$.le') END",
                ", 3",
            ),
            (true, Backend::Postgres) => ("s.labels::json ->> 'le'", ", 3"),
        };
        // $1 metric, $2 until, $3 step, $4 slots, $5 since. The picks are scrape
        // times; a slot without a scrape picks NULL and joins nothing.
        sql.text = format!(
            "WITH RECURSIVE slots(k, hi) AS (
                 SELECT 0, CAST($2 AS BIGINT)
                 UNION ALL SELECT k + 1, hi - $3 FROM slots WHERE k + 1 < $4),
             targets(t) AS (VALUES {list}),
             picks(t, ts) AS (
                 SELECT t, (SELECT ts_ms FROM telemetry_core.metric_samples
                            WHERE metric = $1 AND target = t AND ts_ms > hi - $3 AND ts_ms <= hi
                            ORDER BY ts_ms DESC LIMIT 1)
                 FROM targets CROSS JOIN slots
                 UNION
                 SELECT t, (SELECT ts_ms FROM telemetry_core.metric_samples
                            WHERE metric = $1 AND target = t AND ts_ms > $5 AND ts_ms <= $2
                            ORDER BY ts_ms LIMIT 1)
                 FROM targets)
             SELECT p.t, p.ts, {le}, CAST(SUM(s.value) AS DOUBLE PRECISION)
             FROM picks p {join} telemetry_core.metric_samples s
               ON s.metric = $1 AND s.target = p.t AND s.ts_ms = p.ts
             WHERE s.value > -1e308 AND s.value < 1e308
             GROUP BY 1, 2{group} ORDER BY 1, 2 LIMIT {}",
            cap + 1
        );
        let mut rows: Vec<(String, i64, Option<String>, f64)> =
            self.read(&sql.text, &sql.args).await?;
        let truncated = rows.len() > cap;
        rows.truncate(cap);
        Ok(Bounded {
            rows: rows
                .into_iter()
                .map(|(target, ts_ms, le, sum)| ScrapeSum {
                    target,
                    ts_ms,
                    le,
                    sum,
                })
                .collect(),
            truncated,
        })
    }
}

/// `($n), ($n+1), …`: one `VALUES` row per argument.
fn values(sql: &mut Sql, args: impl IntoIterator<Item = Arg>) -> String {
    args.into_iter()
        .map(|a| format!("({})", sql.arg(a)))
        .collect::<Vec<_>>()
        .join(", ")
}
