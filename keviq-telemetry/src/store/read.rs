//! Bounded reads: what the API reads.
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

use std::str::FromStr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::query::QueryAs;
use sqlx::sqlite::{SqlitePool, SqlitePoolOptions, SqliteRow};
use sqlx::{Database, Encode, Executor, FromRow, Postgres, Sqlite, Type};

use super::{ATTACH, BUSY_TIMEOUT, Backend, Store, StoreError, StoredSample, sqlite_path, stored};
use keviq::model::check_label_name_syntax;

use crate::sample::{Exemplar, Labels};

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
    /// The label name; one outside the label grammar ([`keviq::model::check_label_name_syntax`]) matches
    /// nothing.
    pub name: String,
    /// The value, exactly.
    pub value: String,
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
pub(super) enum Reader {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A value bound to a read's parameter.
#[derive(Debug, Clone)]
pub(super) enum Arg {
    Text(String),
    Int(i64),
    Real(f64),
}
/// The read pool of the database at `url` (not connected yet): read-only
/// connections, each statement under a timeout (see [`Store::read`]).
pub(super) fn reader(url: &str) -> Result<Reader, StoreError> {
    if let Some(path) = sqlite_path(url) {
        let path = path.to_owned();
        let connect = sqlx::sqlite::SqliteConnectOptions::new().filename(&path);
        let pool = SqlitePoolOptions::new()
            .max_connections(READ_CONNECTIONS)
            .acquire_timeout(READ_ACQUIRE_TIMEOUT)
            .after_connect(move |conn, _| {
                let path = path.clone();
                Box::pin(async move {
                    sqlx::query(ATTACH).bind(path).execute(&mut *conn).await?;
                    conn.execute(BUSY_TIMEOUT).await?;
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
impl Store {
    /// The same store with reads stopped after `timeout` instead of
    /// [`crate::config::STATEMENT_TIMEOUT`] (at least 1 ms: PostgreSQL reads 0 as no timeout).
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
    /// Stored exemplars matching `q`, newest first (or highest value first), at most
    /// `q.limit`; a bounded read.
    ///
    /// # Errors
    /// The database failed, or the read ran past its timeout.
    pub async fn exemplars(&self, q: &ExemplarQuery) -> Result<Vec<StoredExemplar>, StoreError> {
        let order = if q.by_value {
            "e.value DESC, e.ts_ms DESC"
        } else {
            "e.ts_ms DESC, e.value DESC"
        };
        let join = self.join();
        let mut sql = Sql::new(
            &format!(
                "SELECT se.target, se.metric, se.labels, e.labels, e.value, e.ts_ms
                 FROM telemetry_core.exemplars e
                 {join} telemetry_core.series se ON se.id = e.series_id
                 WHERE e.ts_ms >= $1 AND e.ts_ms <= $2 AND (e.value IS NULL OR e.value >= $3)"
            ),
            vec![
                Arg::Int(q.since_ms),
                Arg::Int(q.until_ms),
                Arg::Real(q.min_value),
            ],
        );
        if let Some(metric) = &q.metric {
            sql.filter("se.metric = ", Arg::Text(metric.clone()));
        }
        // Every target of the service, bound one by one (a service has a few).
        if !q.targets.is_empty() {
            let list = sql.list(q.targets.iter().cloned().map(Arg::Text));
            sql.text.push_str(&format!(" AND se.target IN ({list})"));
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
        if matchers
            .iter()
            .any(|m| check_label_name_syntax(&m.name).is_err())
        {
            return Ok(Vec::new());
        }
        // The metric's matching series first, once (their labels read once, not per
        // sample); then the scrapes of the range in time order, each joined to those
        // series of its target and to the sample by key: oldest first, no sort.
        // Materialized when label matchers read each series' JSON once; without
        // them the series index serves the join directly.
        let materialized = if matchers.is_empty() {
            "NOT MATERIALIZED"
        } else {
            "MATERIALIZED"
        };
        let mut sql = Sql::new(
            &format!(
                "WITH m AS {materialized} (
                 SELECT id, target, metric, labels FROM telemetry_core.series se
                 WHERE metric = $1"
            ),
            vec![
                Arg::Text(q.metric.clone()),
                Arg::Int(q.since_ms),
                Arg::Int(q.until_ms),
            ],
        );
        if let Some(target) = &q.target {
            sql.filter("se.target = ", Arg::Text(target.clone()));
        }
        for m in matchers {
            let (expr, key) = self.label_lookup(&m.name);
            let key = sql.arg(Arg::Text(key));
            let value = sql.arg(Arg::Text(m.value.clone()));
            sql.text
                .push_str(&format!(" AND {} = {value}", expr.replace("{key}", &key)));
        }
        let join = self.join();
        sql.text.push_str(&format!(
            ")
             SELECT sc.target, m.metric, m.labels, s.value, sc.ts_ms
             FROM telemetry_core.scrapes sc
             {join} m ON m.target = sc.target
             {join} telemetry_core.samples s ON s.scrape_id = sc.id AND s.series_id = m.id
             WHERE sc.ts_ms >= $2 AND sc.ts_ms <= $3
               AND sc.target IN (SELECT target FROM m)
             ORDER BY sc.ts_ms, sc.target LIMIT {}",
            q.limit.max(0)
        ));
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
                "(CASE WHEN json_valid(se.labels) THEN json_extract(se.labels, {key}) END)",
                format!("$.\"{name}\""),
            ),
            Backend::Postgres => ("(se.labels::json ->> {key})", name.to_owned()),
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
    pub(super) async fn read<O>(&self, sql: &str, args: &[Arg]) -> Result<Vec<O>, StoreError>
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
pub(super) struct Sql {
    pub(super) text: String,
    pub(super) args: Vec<Arg>,
}

impl Sql {
    pub(super) fn new(text: &str, args: Vec<Arg>) -> Self {
        Self {
            text: text.to_owned(),
            args,
        }
    }

    /// Adds a parameter; returns its placeholder.
    pub(super) fn arg(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }

    /// Appends ` AND {condition}$n` for a new parameter.
    pub(super) fn filter(&mut self, condition: &str, arg: Arg) {
        let placeholder = self.arg(arg);
        self.text
            .push_str(&format!(" AND {condition}{placeholder}"));
    }

    /// Adds the parameters; returns their placeholders, comma-separated.
    pub(super) fn list(&mut self, args: impl IntoIterator<Item = Arg>) -> String {
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
