//! A 0.1 database upgraded in place, on both backends: every sample and exemplar
//! kept and readable through `telemetry_core.metric_samples` and the API, the
//! remote-write cursor still pointing at the same next sample; and a migration
//! killed half-way that the next start completes.

use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use keviq_telemetry::api::{AppState, app};
use keviq_telemetry::config::ScrapeConfig;
use keviq_telemetry::scrape::Scraper;
use keviq_telemetry::store::{ExemplarQuery, Store};
use keviq_testkit::{postgres, serve, tsdb};
use sqlx::{AnyConnection, Connection, Executor};

/// The 0.1 schema, as 0.1 created it (the first migration is those statements).
const V0_1_SQLITE: &str = include_str!("../migrations/sqlite/0001_v0_1.sql");
const V0_1_POSTGRES: &str = include_str!("../migrations/postgres/0001_v0_1.sql");

/// Scrapes of the 0.1 database, and samples in each: 10,000 rows in all.
const SCRAPES: i64 = 100;
const PER_SCRAPE: i64 = 100;
/// The remote-write cursor saved by 0.1: the last row of scrape 40.
const CURSOR_SCRAPE: i64 = 40;

/// A connection for what the service never does: the 0.1 schema and its rows.
async fn raw(url: &str) -> AnyConnection {
    sqlx::any::install_default_drivers();
    let url = if url.starts_with("sqlite") {
        format!("{url}?mode=rwc")
    } else {
        url.to_owned()
    };
    AnyConnection::connect(&url).await.expect("raw connection")
}

/// Table names as the raw connection sees them.
fn prefix(url: &str) -> &'static str {
    if url.starts_with("sqlite") {
        ""
    } else {
        "telemetry_core."
    }
}

/// Builds a 0.1 database: `scrapes` scrapes of [`PER_SCRAPE`] samples over two
/// targets, as 0.1 wrote them (one multi-row insert per scrape), two exemplars per
/// scrape, and a saved cursor. Returns the cursor and every row as text, sorted.
async fn v0_1_database(url: &str, scrapes: i64) -> (i64, Vec<String>) {
    let mut conn = raw(url).await;
    let schema = if url.starts_with("sqlite") {
        V0_1_SQLITE
    } else {
        V0_1_POSTGRES
    };
    conn.execute(schema).await.expect("0.1 schema");
    let p = prefix(url);
    let id = if url.starts_with("sqlite") {
        "rowid"
    } else {
        "id"
    };
    // Counters, a NaN (SQLite: NULL) and an infinity, with labels in 0.1's JSON.
    let infinity = if url.starts_with("sqlite") {
        "9e999"
    } else {
        "CAST('Infinity' AS DOUBLE PRECISION)"
    };
    conn.execute(
        format!(
            "INSERT INTO {p}metric_samples (target, metric, labels, value, ts_ms)
             WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n + 1 < {scrapes}),
                            i(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM i WHERE i + 1 < {PER_SCRAPE})
             SELECT '127.0.0.1:' || (9000 + n % 2), 'x', '{{\"i\":\"' || i || '\"}}',
                    CASE WHEN i = 0 THEN NULL WHEN i = 1 THEN {infinity}
                         ELSE CAST(n * i AS DOUBLE PRECISION) END,
                    1700000000000 + n * 1000
             FROM s CROSS JOIN i ORDER BY n, i"
        )
        .as_str(),
    )
    .await
    .expect("0.1 rows");
    conn.execute(
        format!(
            "INSERT INTO {p}exemplars (target, metric, series, labels, value, ts_ms)
             WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n + 1 < {scrapes})
             SELECT '127.0.0.1:' || (9000 + n % 2), 'x', '{{\"i\":\"' || (n % 3) || '\"}}',
                    '{{\"request_id\":\"r-' || n || '\"}}', CAST(n AS DOUBLE PRECISION),
                    1700000000000 + n * 1000
             FROM s"
        )
        .as_str(),
    )
    .await
    .expect("0.1 exemplars");
    let (cursor,): (i64,) = sqlx::query_as(&format!(
        "SELECT CAST(MAX({id}) AS BIGINT) FROM {p}metric_samples WHERE ts_ms = $1"
    ))
    .bind(1_700_000_000_000 + CURSOR_SCRAPE * 1000)
    .fetch_one(&mut conn)
    .await
    .expect("cursor row");
    sqlx::query(&format!(
        "INSERT INTO {p}remote_write_cursor (remote, last_id, updated_ms) VALUES ($1, $2, 0)"
    ))
    .bind("vm:8428/api/v1/write")
    .bind(cursor)
    .execute(&mut conn)
    .await
    .expect("cursor");
    let rows = all_rows(&mut conn, p).await;
    conn.close().await.expect("close");
    (cursor, rows)
}

/// Every row of `metric_samples` (a table in 0.1, a view since) as text, sorted.
async fn all_rows(conn: &mut AnyConnection, p: &str) -> Vec<String> {
    let rows: Vec<(String, String, String, Option<f64>, i64)> = sqlx::query_as(&format!(
        "SELECT target, metric, labels, value, ts_ms FROM {p}metric_samples"
    ))
    .fetch_all(conn)
    .await
    .expect("rows");
    let mut rows: Vec<String> = rows
        .into_iter()
        .map(|(t, m, l, v, ts)| {
            // SQLite keeps NaN as NULL, PostgreSQL as NaN: one spelling.
            let v = v.filter(|v| !v.is_nan()).map(|v| v.to_string());
            format!("{t} {m} {l} {v:?} {ts}")
        })
        .collect();
    rows.sort();
    rows
}

async fn upgrade_keeps_everything(url: &str) {
    let (cursor, before) = v0_1_database(url, SCRAPES).await;
    assert_eq!(before.len() as i64, SCRAPES * PER_SCRAPE);

    let store = Store::connect(url)
        .await
        .expect("the 0.1 database migrates");
    Store::connect(url).await.expect("and starts again");
    assert_eq!(store.count().await.expect("count"), SCRAPES * PER_SCRAPE);
    let mut conn = raw(url).await;
    assert_eq!(
        all_rows(&mut conn, prefix(url)).await,
        before,
        "the view answers every 0.1 row as it was"
    );

    // Exemplars point at their series and read back whole.
    assert_eq!(store.exemplar_count().await.expect("count"), SCRAPES);
    let newest = store
        .exemplars(&ExemplarQuery {
            metric: Some("x".into()),
            targets: vec!["127.0.0.1:9001".into()],
            min_value: f64::MIN,
            since_ms: 0,
            until_ms: i64::MAX,
            by_value: false,
            limit: 1,
        })
        .await
        .expect("exemplars");
    assert_eq!(newest.len(), 1);
    let last = SCRAPES - 1;
    assert_eq!(
        newest[0].exemplar.labels.get("request_id"),
        Some(format!("r-{last}").as_str())
    );
    assert_eq!(
        newest[0].exemplar.series.get("i"),
        Some((last % 3).to_string().as_str())
    );

    // The cursor is where 0.1 left it, and what follows it is exactly the scrapes
    // after scrape 40: nothing resent, nothing skipped.
    assert_eq!(
        store.cursor("vm:8428/api/v1/write").await.expect("cursor"),
        Some(cursor)
    );
    let end = store.max_id().await.expect("max id");
    let pending = store.rows_between(cursor, end).await.expect("rows");
    assert_eq!(
        pending.len() as i64,
        (SCRAPES - CURSOR_SCRAPE - 1) * PER_SCRAPE
    );
    assert!(
        pending
            .iter()
            .all(|(_, r)| r.ts_ms > 1_700_000_000_000 + CURSOR_SCRAPE * 1000)
    );
    let sent = store.rows_between(0, cursor).await.expect("rows");
    assert_eq!(sent.len() as i64, (CURSOR_SCRAPE + 1) * PER_SCRAPE);

    // The API answers all of them.
    let scraper = Scraper::new(ScrapeConfig {
        targets: Vec::new(),
        interval: Duration::from_secs(3600),
        timeout: Duration::from_secs(1),
        body_limit: 1 << 20,
        sample_limit: 0,
    });
    let addr = serve::serve(app(AppState::local(scraper, store.clone()))).await;
    let (status, body) = tokio::task::spawn_blocking(move || {
        tsdb::get(
            addr,
            "/api/v1/samples?metric=x&since=0&until=1e10&limit=50000",
        )
    })
    .await
    .expect("join")
    .expect("answer");
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(
        answer.as_array().map(Vec::len),
        Some((SCRAPES * PER_SCRAPE) as usize)
    );

    // New scrapes count on from the highest 0.1 id.
    let now = SystemTime::now();
    let (_, id) = store
        .write_with_id(&keviq_telemetry::sample::Scrape {
            target: keviq_telemetry::sample::Target::parse("127.0.0.1:9000").expect("target"),
            at: now,
            samples: vec![keviq_telemetry::sample::Sample {
                name: "x".into(),
                metric_type: keviq_expfmt::MetricType::Counter,
                labels: keviq_telemetry::sample::Labels::from_json(r#"{"i":"0"}"#).expect("labels"),
                value: 1.0,
                timestamp_ms: None,
            }],
            exemplars: Vec::new(),
        })
        .await
        .expect("write");
    assert!(id > end, "{id} follows {end}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_0_1_sqlite_database_is_upgraded_in_place() {
    let dir = temp_dir("upgrade");
    upgrade_keeps_everything(&format!("sqlite://{}", dir.join("t.sqlite").display())).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "system-tests"),
    ignore = "needs PostgreSQL: run with `--features system-tests` (scripts/test does)"
)]
async fn a_0_1_postgres_database_is_upgraded_in_place() {
    let pg = postgres::Postgres::start();
    upgrade_keeps_everything(&pg.url()).await;
}

/// The service is killed while it migrates a large 0.1 database; the next start
/// migrates it, and every row is there.
async fn killed_migration_is_completed_next_time(url: &str) {
    let scrapes = 5_000;
    let (_, before) = v0_1_database(url, scrapes).await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_keviq-telemetry"))
        .env("TELEMETRY_DATABASE_URL", url)
        .env("SCRAPE_TARGETS", "127.0.0.1:9")
        .env("KEVIQ_LISTEN", format!("127.0.0.1:{}", tsdb::free_port()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the service");
    // Killed as soon as the first migration is recorded: inside the second.
    let mut conn = raw(url).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let first: Vec<(i64,)> =
            sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE version = 1")
                .fetch_all(&mut conn)
                .await
                .unwrap_or_default();
        if !first.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the service never started migrating"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    drop(conn);

    let mut conn = raw(url).await;
    let p = prefix(url);
    // Killed inside the second migration: the first is recorded, the second not.
    let applied: Vec<(i64,)> =
        sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success = true ORDER BY 1")
            .fetch_all(&mut conn)
            .await
            .unwrap_or_default();
    assert_eq!(
        applied,
        [(1,)],
        "the kill should fall inside the second migration; adjust the database size or the delay"
    );
    drop(conn);

    let store = Store::connect(url).await.expect("the next start migrates");
    assert_eq!(store.count().await.expect("count"), scrapes * PER_SCRAPE);
    let mut conn = raw(url).await;
    assert_eq!(all_rows(&mut conn, p).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_migration_killed_half_way_is_completed_at_the_next_start() {
    let dir = temp_dir("killed");
    killed_migration_is_completed_next_time(&format!(
        "sqlite://{}",
        dir.join("t.sqlite").display()
    ))
    .await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "system-tests"),
    ignore = "needs PostgreSQL: run with `--features system-tests` (scripts/test does)"
)]
async fn a_postgres_migration_killed_half_way_is_completed_at_the_next_start() {
    let pg = postgres::Postgres::start();
    killed_migration_is_completed_next_time(&pg.url()).await;
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("keviq-migrations-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}
