//! Every API query is bounded in rows, time and memory, on a real SQLite file and a
//! real PostgreSQL: a store of a few hundred thousand rows, written by SQL in a
//! pre-upgrade schema, then migrated; `label=` queries cut at `limit` and say so;
//! limits over their caps are 400s naming the cap; `/api/v1/services` reads a number
//! of rows that follows the fleet and the slots, not the store (the same count once
//! the store holds an hour more); a deliberately slow statement is stopped by the
//! statement timeout, and the API answers its documented 503.

use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use keviq_testkit::postgres;
use keviq_testkit::serve;

use keviq_telemetry::api::{AppState, SAMPLE_LIMIT, SERVICE_LIMIT, app};
use keviq_telemetry::config::ScrapeConfig;
use keviq_telemetry::sample::Target;
use keviq_telemetry::scrape::Scraper;
use keviq_telemetry::store::{Backend, Store, StoreError};
use serde_json::Value;
use sqlx::{AnyConnection, Connection, Executor};

/// The generated fleet: `127.0.0.1:1` … `127.0.0.1:3`, scraped every 2 s.
const TARGETS: i64 = 3;
/// Paths per target; path `p` counts `p + 1` requests and `p % 2` errors a scrape.
const PATHS: i64 = 4;
/// The latency histogram's bounds: every request takes between 10 and 50 ms.
const BOUNDS: [&str; 5] = ["10", "50", "100", "500", "+Inf"];
/// Values of `x`'s label `i`.
const X_SERIES: i64 = 10;
const INTERVAL_MS: i64 = 2_000;
/// Scrapes of the recent span: 62 minutes up to now and 20 beyond, so the last hour
/// is whole whenever the test asks.
const RECENT: i64 = 82 * 30;
/// Scrapes of the older span, an hour before the recent one.
const OLDER: i64 = 60 * 30;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Rows one scrape of one target holds.
fn rows_per_scrape() -> i64 {
    PATHS * (2 + BOUNDS.len() as i64) + 1 + X_SERIES
}

/// The table as it was before this change (no `(metric, ts_ms, target)` index).
fn old_schema(backend: Backend) -> Vec<&'static str> {
    match backend {
        Backend::Sqlite => vec![
            "CREATE TABLE metric_samples (target TEXT NOT NULL, metric TEXT NOT NULL,
                 labels TEXT NOT NULL, value REAL, ts_ms INTEGER NOT NULL)",
            "CREATE INDEX metric_samples_metric_target_ts ON metric_samples (metric, target, ts_ms)",
            "CREATE INDEX metric_samples_ts ON metric_samples (ts_ms)",
        ],
        Backend::Postgres => vec![
            "CREATE SCHEMA telemetry_core",
            "CREATE TABLE telemetry_core.metric_samples (target TEXT NOT NULL,
                 metric TEXT NOT NULL, labels TEXT NOT NULL, value DOUBLE PRECISION,
                 ts_ms BIGINT NOT NULL)",
            "CREATE INDEX metric_samples_metric_target_ts
                 ON telemetry_core.metric_samples (metric, target, ts_ms)",
            "CREATE INDEX metric_samples_ts ON telemetry_core.metric_samples (ts_ms)",
        ],
    }
}

/// One statement writing scrapes `from..to` of every target (scrape `n` at
/// `origin + 2 s × n`; counters at `n` times their rate).
fn fill_sql(table: &str, origin: i64, from: i64, to: i64) -> String {
    let bounds: Vec<String> = BOUNDS
        .iter()
        .enumerate()
        .map(|(j, b)| format!("({j}, '{b}')"))
        .collect();
    r#"WITH RECURSIVE
         s(n) AS (SELECT FROM_N UNION ALL SELECT n + 1 FROM s WHERE n + 1 < TO_N),
         t(t) AS (SELECT 1 UNION ALL SELECT t + 1 FROM t WHERE t < TARGETS),
         p(p) AS (SELECT 0 UNION ALL SELECT p + 1 FROM p WHERE p + 1 < PATHS),
         i(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM i WHERE i + 1 < X_SERIES),
         b(j, le) AS (VALUES BOUNDS)
       INSERT INTO TABLE (target, metric, labels, value, ts_ms)
       SELECT '127.0.0.1:' || t, 'mona_http_requests_total',
              '{"method":"GET","path":"/p/' || p || '","status":"200"}',
              CAST(n * (p + 1) AS DOUBLE PRECISION), ORIGIN + n * INTERVAL FROM s, t, p
       UNION ALL
       SELECT '127.0.0.1:' || t, 'mona_http_request_errors_total',
              '{"method":"GET","path":"/p/' || p || '"}',
              CAST(n * (p % 2) AS DOUBLE PRECISION), ORIGIN + n * INTERVAL FROM s, t, p
       UNION ALL
       SELECT '127.0.0.1:' || t, 'mona_http_request_duration_ms_bucket',
              '{"le":"' || le || '","method":"GET","path":"/p/' || p || '"}',
              CAST(CASE WHEN j = 0 THEN 0 ELSE n * (p + 1) END AS DOUBLE PRECISION),
              ORIGIN + n * INTERVAL FROM s, t, p, b
       UNION ALL
       SELECT '127.0.0.1:' || t, 'up', '{}', CAST(1 AS DOUBLE PRECISION),
              ORIGIN + n * INTERVAL FROM s, t
       UNION ALL
       SELECT '127.0.0.1:' || t, 'x', '{"i":"' || i || '"}', CAST(n AS DOUBLE PRECISION),
              ORIGIN + n * INTERVAL FROM s, t, i"#
        .replace("FROM_N", &from.to_string())
        .replace("TO_N", &to.to_string())
        .replace("TARGETS", &TARGETS.to_string())
        .replace("X_SERIES", &X_SERIES.to_string())
        .replace("PATHS", &PATHS.to_string())
        .replace("BOUNDS", &bounds.join(", "))
        .replace("TABLE", table)
        .replace("ORIGIN", &origin.to_string())
        .replace("INTERVAL", &INTERVAL_MS.to_string())
}

/// A connection of its own to the store's database, for what the service never
/// does: the old schema and bulk rows.
struct Filler {
    conn: AnyConnection,
    table: &'static str,
    origin: i64,
    /// Once the store has migrated the database: rows go through a staging table
    /// of 0.1's shape into the series, scrapes and samples tables.
    schema: Option<&'static str>,
}

impl Filler {
    async fn connect(url: &str, backend: Backend, origin: i64) -> Self {
        sqlx::any::install_default_drivers();
        let (url, table) = match backend {
            Backend::Sqlite => (format!("{url}?mode=rwc"), "metric_samples"),
            Backend::Postgres => (url.to_owned(), "telemetry_core.metric_samples"),
        };
        let conn = AnyConnection::connect(&url).await.expect("filler connects");
        Self {
            conn,
            table,
            origin,
            schema: None,
        }
    }

    /// From now on, write into the migrated schema (`prefix`: how this connection
    /// names the store's tables).
    fn migrated(&mut self, prefix: &'static str) {
        self.schema = Some(prefix);
    }

    async fn scrapes(&mut self, from: i64, to: i64) {
        let Some(p) = self.schema else {
            let sql = fill_sql(self.table, self.origin, from, to);
            self.conn.execute(sql.as_str()).await.expect("fill");
            return;
        };
        let stage = format!("{p}filler_stage");
        let statements = [
            format!(
                "CREATE TABLE IF NOT EXISTS {stage} (target TEXT NOT NULL, metric TEXT NOT NULL,
                     labels TEXT NOT NULL, value DOUBLE PRECISION, ts_ms BIGINT NOT NULL)"
            ),
            fill_sql(&stage, self.origin, from, to),
            format!(
                "INSERT INTO {p}series (target, metric, labels, created_ms)
                 SELECT target, metric, labels, MIN(ts_ms) FROM {stage}
                 GROUP BY target, metric, labels
                 ON CONFLICT (target, metric, labels) DO NOTHING"
            ),
            format!(
                "INSERT INTO {p}scrapes (target, ts_ms, samples)
                 SELECT target, ts_ms, COUNT(*) FROM {stage} GROUP BY target, ts_ms"
            ),
            // PostgreSQL keeps a scrape's samples as one row of arrays.
            if p.is_empty() {
                format!(
                    "INSERT INTO samples (scrape_id, series_id, value)
                     SELECT sc.id, se.id, m.value FROM {stage} m
                     JOIN scrapes sc ON sc.target = m.target AND sc.ts_ms = m.ts_ms
                     JOIN series se
                       ON se.target = m.target AND se.metric = m.metric
                      AND se.labels = m.labels"
                )
            } else {
                format!(
                    "INSERT INTO {p}scrape_values (scrape_id, series_ids, vals)
                     SELECT sc.id, array_agg(se.id ORDER BY se.id),
                            array_agg(m.value ORDER BY se.id)
                     FROM {stage} m
                     JOIN {p}scrapes sc ON sc.target = m.target AND sc.ts_ms = m.ts_ms
                     JOIN {p}series se
                       ON se.target = m.target AND se.metric = m.metric
                      AND se.labels = m.labels
                     GROUP BY sc.id"
                )
            },
            format!("DELETE FROM {stage}"),
        ];
        for sql in statements {
            self.conn.execute(sql.as_str()).await.expect("fill");
        }
    }
}

/// The API over `store`, served on 127.0.0.1: its base URL.
async fn serve_api(store: Store) -> String {
    let targets = (1..=TARGETS)
        .map(|t| Target {
            host: "127.0.0.1".into(),
            port: u16::try_from(t).expect("port"),
        })
        .collect();
    let scraper = Scraper::new(ScrapeConfig {
        targets,
        interval: Duration::from_secs(3600),
        timeout: Duration::from_secs(1),
        body_limit: 1 << 20,
        sample_limit: 0,
    });
    let addr = serve::serve(app(AppState::local(scraper, store))).await;
    format!("http://{addr}")
}

/// An answer: status, `X-Truncated` (if any), JSON body.
struct Answer {
    status: u16,
    truncated: Option<String>,
    body: Value,
}

async fn get(url: String) -> Answer {
    let out = tokio::task::spawn_blocking(move || {
        Command::new("curl")
            .args(["-s", "-D", "-", "-w", "\n%{http_code}", &url])
            .output()
    })
    .await
    .expect("join")
    .expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (rest, code) = text.rsplit_once('\n').expect("status line");
    let (head, body) = rest.split_once("\r\n\r\n").expect("headers");
    let truncated = head
        .lines()
        .find_map(|l| l.strip_prefix("x-truncated: "))
        .map(|v| v.trim().to_owned());
    Answer {
        status: code.parse().expect("status"),
        truncated,
        body: serde_json::from_str(body).unwrap_or(Value::Null),
    }
}

fn rows(answer: &Answer) -> &Vec<Value> {
    answer.body.as_array().expect("an array")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bounded_queries_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("keviq-bounds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    check_bounds(&format!("sqlite://{}", dir.join("t.sqlite").display())).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "system-tests"),
    ignore = "needs PostgreSQL: run with `--features system-tests` (scripts/test does)"
)]
async fn bounded_queries_on_postgres() {
    let pg = postgres::Postgres::start();
    check_bounds(&pg.url()).await;
}

async fn check_bounds(url: &str) {
    let backend = if url.starts_with("sqlite") {
        Backend::Sqlite
    } else {
        Backend::Postgres
    };
    // Scrape `n` at `origin + 2 s × n`: the older hour, then 62 minutes up to now.
    let now = now_ms() / INTERVAL_MS * INTERVAL_MS;
    let origin = now - (OLDER + 62 * 30) * INTERVAL_MS;
    let mut filler = Filler::connect(url, backend, origin).await;
    for statement in old_schema(backend) {
        filler.conn.execute(statement).await.expect("old schema");
    }
    filler.scrapes(OLDER, OLDER + RECENT).await;

    // The migrations move the existing rows into the series, scrapes and samples
    // tables (on PostgreSQL `scrape_values`, one row per scrape, with `samples` a
    // view of it); `metric_samples` becomes a view of them.
    let store = Store::connect(url).await.expect("store");
    let tables = match backend {
        Backend::Sqlite => {
            "SELECT COUNT(*) FROM telemetry_core.sqlite_master
             WHERE (type = 'table' AND name IN ('series', 'scrapes', 'samples'))
                OR (type = 'view' AND name = 'metric_samples')"
        }
        Backend::Postgres => {
            "SELECT (SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'telemetry_core'
                       AND tablename IN ('series', 'scrapes', 'scrape_values'))
                  + (SELECT COUNT(*) FROM pg_views WHERE schemaname = 'telemetry_core'
                       AND viewname IN ('samples', 'metric_samples')) - 1"
        }
    };
    assert_eq!(store.bounded_scalar(tables).await.expect("tables"), 4);
    filler.migrated(match backend {
        Backend::Sqlite => "",
        Backend::Postgres => "telemetry_core.",
    });
    let stored = store.count().await.expect("count");
    assert_eq!(stored, RECENT * TARGETS * rows_per_scrape());

    let base = serve_api(store.clone()).await;
    label_queries_stop_at_the_limit(&base).await;
    limits_over_their_caps_are_refused(&base).await;
    hostile_parameters_are_inert(&base, &store, stored).await;
    services_read_bounded_rows(&base, &store, &mut filler).await;
    slow_statements_are_stopped(&store, backend).await;
}

async fn label_queries_stop_at_the_limit(base: &str) {
    // `until` past the store's end (it holds 20 minutes to come).
    let q = |query: &str| {
        get(format!(
            "{base}/api/v1/samples?metric=x&since=0&until=1e10&{query}"
        ))
    };
    let cut = q("label=i=5&limit=1000").await;
    assert_eq!(cut.status, 200, "{}", cut.body);
    assert_eq!(cut.truncated.as_deref(), Some("true"));
    let cut_rows = rows(&cut);
    assert_eq!(cut_rows.len(), 1000);
    assert!(cut_rows.iter().all(|r| r["labels"]["i"] == "5"));
    let times: Vec<f64> = cut_rows
        .iter()
        .filter_map(|r| r["timestamp"].as_f64())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "oldest first");

    // The limit counts matching rows: under the default limit, every match.
    let all = q("label=i=5").await;
    assert_eq!(
        (rows(&all).len() as i64, all.truncated.as_deref()),
        (RECENT * TARGETS, Some("false"))
    );
    let one_target = q("label=i=5&label=i=5&target=127.0.0.1:2&limit=50000").await;
    assert_eq!(rows(&one_target).len() as i64, RECENT);
    assert!(
        rows(&one_target)
            .iter()
            .all(|r| r["target"] == "127.0.0.1:2")
    );
    // Without matchers, the default limit.
    let unfiltered = q("").await;
    assert_eq!(
        (rows(&unfiltered).len(), unfiltered.truncated.as_deref()),
        (10_000, Some("true"))
    );
}

async fn limits_over_their_caps_are_refused(base: &str) {
    let over = |cap: i64| (cap + 1).to_string();
    for (path, cap) in [
        ("samples?metric=x&limit=", SAMPLE_LIMIT),
        ("exemplars?limit=", 1_000),
        ("services?limit=", SERVICE_LIMIT),
        ("requests/some-id?limit=", 1_000),
    ] {
        for limit in [over(cap), "0".into(), "1.5".into(), "-1".into()] {
            let answer = get(format!("{base}/api/v1/{path}{limit}")).await;
            assert_eq!(answer.status, 400, "{path}{limit}: {}", answer.body);
            assert_eq!(answer.body["parameter"], "limit", "{path}{limit}");
            let error = answer.body["error"].as_str().expect("error");
            assert!(error.contains(&cap.to_string()), "names the cap: {error}");
        }
    }
    let services = get(format!("{base}/api/v1/services?limit=2")).await;
    assert_eq!(services.status, 200);
    assert_eq!(services.body["services"].as_array().map(Vec::len), Some(2));
    assert_eq!(services.truncated.as_deref(), Some("true"));
}

async fn hostile_parameters_are_inert(base: &str, store: &Store, stored: i64) {
    for query in [
        "metric=x&since=0&label=i=5'%20OR%20'1'='1",
        "metric=x&since=0&target=x'%20OR%20'1'='1",
        "metric=x&since=0&label=i=5%22%7D'%3B%20DROP%20TABLE%20telemetry_core.metric_samples%3B--",
    ] {
        let answer = get(format!("{base}/api/v1/samples?{query}")).await;
        assert_eq!((answer.status, rows(&answer).len()), (200, 0), "{query}");
    }
    let matchers = "&label=i=5".repeat(17);
    for (query, why) in [
        ("label=i%22)%20OR%201=1--=5", "a name outside the grammar"),
        ("label=$.i=5", "a JSON path"),
        (matchers.as_str(), "17 matchers"),
    ] {
        let answer = get(format!("{base}/api/v1/samples?metric=x&{query}")).await;
        assert_eq!(answer.status, 400, "{why}: {}", answer.body);
        assert_eq!(answer.body["parameter"], "label", "{why}");
    }
    assert_eq!(store.count().await.expect("count"), stored);
}

async fn services_read_bounded_rows(base: &str, store: &Store, filler: &mut Filler) {
    let before = store.rows_read();
    let answer = get(format!("{base}/api/v1/services?window=300&history=1")).await;
    let read = store.rows_read() - before;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.truncated.as_deref(), Some("false"));
    let services = answer.body["services"].as_array().expect("services");
    assert_eq!(services.len(), TARGETS as usize);
    for s in services {
        // 10 requests and 2 errors a scrape, every 2 s: 5/s and 1/s, averaged
        // from the first scrape in the window; every request in (10, 50] ms.
        let rate = s["request_rate"].as_f64().expect("rate");
        assert!(rate > 4.9 && rate <= 5.0, "{s}");
        let errors = s["error_rate"].as_f64().expect("errors");
        assert!(errors > 0.98 && errors <= 1.0, "{s}");
        assert_eq!(s["p50_ms"], 30.0, "{s}");
        let p99 = s["p99_ms"].as_f64().expect("p99");
        assert!((p99 - 49.6).abs() < 1e-9, "{s}");
        assert!(s["agent_invocation_rate"].is_null());
        let minutes = |series: &str| -> Vec<f64> {
            s["history"][series]
                .as_array()
                .expect("history")
                .iter()
                .filter_map(Value::as_f64)
                .collect()
        };
        let requests = minutes("request_rate");
        assert_eq!(requests.len(), 60);
        // The oldest minute counts from the hour's first scrape: 29 intervals.
        assert_eq!(requests[0], 29.0 * 10.0 / 60.0);
        assert!(requests[1..].iter().all(|r| *r == 5.0), "{requests:?}");
        assert!(minutes("error_rate")[1..].iter().all(|r| *r == 1.0));
        assert!(minutes("p50_ms").iter().all(|q| *q == 30.0));
    }
    // Per target: the window's 6 picks (5 slots and the first scrape) and the hour's
    // 61, one sum per counter and per bucket bound, and the first scrapes.
    let targets = TARGETS as u64;
    let bounds = BOUNDS.len() as u64;
    let bound = targets * (2 + 2 * 6 + 6 * bounds + 2 * 61 + 61 * bounds);
    assert!(
        read > 0 && read <= bound,
        "{read} rows read, at most {bound}"
    );

    // An hour more in the store: the same rows read.
    filler.scrapes(0, OLDER).await;
    let before = store.rows_read();
    let again = get(format!("{base}/api/v1/services?window=300&history=1")).await;
    assert_eq!(again.status, 200);
    assert_eq!(store.rows_read() - before, read);
    let stored = store.count().await.expect("count") as u64;
    assert!(stored > 100 * read, "{stored} rows stored, {read} read");
}

async fn slow_statements_are_stopped(store: &Store, backend: Backend) {
    let slow = match backend {
        // A billion rows counted one by one.
        Backend::Sqlite => {
            "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000000000)
             SELECT COUNT(*) FROM c"
        }
        Backend::Postgres => "SELECT CAST(COUNT(*) AS BIGINT) FROM pg_sleep(600)",
    };
    let limit = Duration::from_millis(300);
    let bounded = store.clone().with_query_timeout(limit);
    match bounded.bounded_scalar(slow).await {
        Err(StoreError::Timeout(t)) => assert_eq!(t, limit),
        other => panic!("expected the statement timeout, got {other:?}"),
    }
    // The connection it ran on serves the next read.
    for _ in 0..8 {
        assert_eq!(
            store
                .bounded_scalar("SELECT CAST(1 AS BIGINT)")
                .await
                .expect("a read after the timeout"),
            1
        );
    }
    // The read pool writes nothing, whatever its SQL says.
    let write = "DELETE FROM telemetry_core.metric_samples";
    assert!(matches!(
        store.bounded_scalar(write).await,
        Err(StoreError::Database(_))
    ));

    // Through the API: ten thousand bucket rows of every series matching a label,
    // under a 1 ms timeout, is the documented 503. (A label no series has is no
    // longer slow: the series table answers it before any sample is read.)
    let base = serve_api(store.clone().with_query_timeout(Duration::from_millis(1))).await;
    let answer = get(format!(
        "{base}/api/v1/samples?metric=mona_http_request_duration_ms_bucket&since=0&label=method=GET"
    ))
    .await;
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert_eq!(answer.body["parameter"], Value::Null);
    let error = answer.body["error"].as_str().expect("error");
    assert!(
        error.starts_with("the query ran longer than 0.001 s and was stopped"),
        "{error}"
    );
}
