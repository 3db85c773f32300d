//! The same storage suite against a real SQLite file and a real PostgreSQL server,
//! and the write buffer through a database outage.

use keviq_testkit::postgres;

use std::time::{Duration, SystemTime};

use keviq::MetricType;
use keviq_telemetry::clock::epoch_ms;
use keviq_telemetry::sample::Scrape;
use keviq_telemetry::sample::Target;
use keviq_telemetry::sample::{Exemplar, Sample};
use keviq_telemetry::store::{ExemplarQuery, SampleQuery, Store};
use keviq_telemetry::writer::{Admission, Amount, Writer};

fn scrape(target: &str, at: SystemTime, n: usize) -> Scrape {
    let samples = (0..n)
        .map(|i| Sample {
            name: if i % 2 == 0 {
                "mona_http_requests_total".into()
            } else {
                "other_metric".into()
            },
            metric_type: if i % 2 == 0 {
                MetricType::Counter
            } else {
                MetricType::Gauge
            },
            labels: [
                ("path".to_owned(), format!("/p/{i}")),
                ("quote".to_owned(), "a \"b\" é ✓".to_owned()),
            ]
            .into_iter()
            .collect(),
            value: match i {
                0 => f64::NAN,
                2 => f64::INFINITY,
                _ => i as f64 + 0.5,
            },
            timestamp_ms: None,
        })
        .collect();
    // Three exemplars, as a service's latency buckets carry them; the last without a
    // timestamp of its own (stored at the scrape time).
    let exemplars = (0..3)
        .map(|i| Exemplar {
            metric: "mona_http_request_duration_ms_bucket".into(),
            series: [("le", "100"), ("path", "/p")].into_iter().collect(),
            labels: [
                ("request_id".to_owned(), format!("req-{target}-{i}")),
                (
                    "trace_id".to_owned(),
                    "0af7651916cd43dd8448eb211c80319c".to_owned(),
                ),
            ]
            .into_iter()
            .collect(),
            value: 10.0 * (i + 1) as f64,
            timestamp_ms: (i < 2).then(|| epoch_ms(at) - 500 + i),
        })
        .collect();
    Scrape {
        target: Target::parse(target).expect("target"),
        at,
        samples,
        exemplars,
    }
}

async fn suite(url: &str) {
    let store = Store::connect(url).await.expect("connect and migrate");
    Store::connect(url)
        .await
        .expect("migrations run again without harm");
    let now = SystemTime::now();
    let old = now - Duration::from_secs(7200);

    // 1,201 samples cross the multi-row insert boundary (500) twice.
    assert_eq!(
        store
            .write(&scrape("10.0.0.1:8000", now, 1201))
            .await
            .expect("write"),
        1201
    );
    assert_eq!(
        store
            .write(&scrape("10.0.0.2:8000", old, 10))
            .await
            .expect("write"),
        10
    );
    assert_eq!(store.count().await.expect("count"), 1211);

    let query = SampleQuery {
        metric: "mona_http_requests_total".into(),
        target: Some("10.0.0.1:8000".into()),
        since_ms: epoch_ms(now) - 1000,
        until_ms: epoch_ms(now) + 1000,
        limit: 10_000,
    };
    let rows = store.samples(&query).await.expect("query");
    assert_eq!(rows.len(), 601);
    let first = rows
        .iter()
        .find(|r| r.sample.labels.as_slice()[0].1 == "/p/0")
        .expect("sample 0");
    assert!(first.sample.value.is_nan(), "NaN round-trips");
    assert_eq!(
        first.sample.labels.as_slice(),
        [
            ("path".to_owned(), "/p/0".to_owned()),
            ("quote".to_owned(), "a \"b\" é ✓".to_owned())
        ]
    );
    let inf = rows
        .iter()
        .find(|r| r.sample.labels.as_slice()[0].1 == "/p/2")
        .expect("sample 2");
    assert_eq!(inf.sample.value, f64::INFINITY);
    assert!(
        rows.iter()
            .any(|r| r.sample.labels.as_slice()[0].1 == "/p/4" && r.sample.value == 4.5)
    );

    // Every parameter is bound: hostile text is data, not SQL.
    let hostile = SampleQuery {
        metric: "x' OR '1'='1".into(),
        target: Some("'; DROP TABLE telemetry_core.metric_samples; --".into()),
        ..query.clone()
    };
    assert!(store.samples(&hostile).await.expect("query").is_empty());
    assert_eq!(store.count().await.expect("count"), 1211);

    // All targets, and the time range.
    let all = SampleQuery {
        target: None,
        since_ms: 0,
        until_ms: i64::MAX,
        ..query.clone()
    };
    assert_eq!(store.samples(&all).await.expect("query").len(), 601 + 5);

    // Six more scrapes over three minutes.
    let base = (epoch_ms(now) / 60_000 - 5) * 60_000;
    for offset in [1_000, 20_000, 59_000, 61_000, 119_000, 185_000] {
        let at = std::time::UNIX_EPOCH + Duration::from_millis((base + offset) as u64);
        store
            .write(&scrape("10.0.0.3:8000", at, 2))
            .await
            .expect("write");
    }
    assert_eq!(
        store.count().await.expect("count"),
        1211 + 12,
        "nothing else changed"
    );

    // Exemplars: stored with the scrape, filtered and sorted by the database.
    assert_eq!(store.exemplar_count().await.expect("count"), 6 + 18);
    let recent = ExemplarQuery {
        metric: Some("mona_http_request_duration_ms_bucket".into()),
        targets: vec!["10.0.0.1:8000".into()],
        min_value: 15.0,
        since_ms: epoch_ms(now) - 60_000,
        until_ms: epoch_ms(now) + 1000,
        by_value: true,
        limit: 10,
    };
    let found = store.exemplars(&recent).await.expect("exemplars");
    let values: Vec<f64> = found.iter().map(|e| e.exemplar.value).collect();
    assert_eq!(values, [30.0, 20.0], "highest first, at least min_value");
    assert_eq!(found[0].ts_ms, epoch_ms(now), "no timestamp: the scrape's");
    assert_eq!(found[1].ts_ms, epoch_ms(now) - 499);
    assert_eq!(
        found[1].exemplar.labels.get("request_id"),
        Some("req-10.0.0.1:8000-1")
    );
    assert_eq!(found[1].exemplar.series.get("le"), Some("100"));
    let newest = ExemplarQuery {
        metric: None,
        targets: Vec::new(),
        min_value: f64::MIN,
        since_ms: 0,
        until_ms: i64::MAX,
        by_value: false,
        limit: 4,
    };
    let found = store.exemplars(&newest).await.expect("exemplars");
    assert_eq!(found.len(), 4, "the limit");
    let found = store
        .exemplars(&ExemplarQuery {
            targets: vec!["10.0.0.1:8000".into(), "10.0.0.2:8000".into()],
            limit: 100,
            ..newest.clone()
        })
        .await
        .expect("exemplars");
    assert_eq!(found.len(), 6, "two targets");
    assert!(
        found.windows(2).all(|w| w[0].ts_ms >= w[1].ts_ms),
        "newest first"
    );
    let hostile = ExemplarQuery {
        metric: Some("x' OR '1'='1".into()),
        targets: vec!["'; DROP TABLE telemetry_core.exemplars; --".into()],
        ..newest.clone()
    };
    assert!(store.exemplars(&hostile).await.expect("query").is_empty());

    // Retention deletes exactly what is older than the cut-off, exemplars too.
    assert_eq!(
        store
            .delete_older_than(now - Duration::from_secs(3600))
            .await
            .expect("delete"),
        10
    );
    assert_eq!(store.count().await.expect("count"), 1201 + 12);
    assert_eq!(store.exemplar_count().await.expect("count"), 3 + 18);
}

#[tokio::test]
async fn sqlite_file() {
    let dir = std::env::temp_dir().join(format!("keviq-sqlite-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("telemetry.sqlite");
    let _ = std::fs::remove_file(&path);
    suite(&format!("sqlite://{}", path.display())).await;
    assert!(path.exists(), "the samples live in the configured file");
    let _ = std::fs::remove_file(&path);
    remote_write_rows(&format!("sqlite://{}", path.display())).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
#[cfg_attr(
    not(feature = "system-tests"),
    ignore = "needs PostgreSQL: run with `--features system-tests` (scripts/test does)"
)]
async fn postgres_server() {
    let pg = postgres::Postgres::start();
    suite(&pg.url()).await;
    remote_write_rows(&pg.url()).await;
}

/// What remote write reads: growing row ids, a scrape's rows consecutive, the rows
/// after a cursor, the scrapes after it, and the cursor itself.
async fn remote_write_rows(url: &str) {
    let store = Store::connect(url).await.expect("connect");
    let start = store.max_id().await.expect("max id");
    let now = SystemTime::now();
    let (n, first_last) = store
        .write_with_id(&scrape("10.0.0.1:8000", now, 700))
        .await
        .expect("write");
    assert_eq!(n, 700);
    let (_, second_last) = store
        .write_with_id(&scrape("10.0.0.2:8000", now, 3))
        .await
        .expect("write");
    assert!(second_last > first_last, "a later scrape has a higher id");
    assert_eq!(store.max_id().await.expect("max id"), second_last);

    // Ids are the scrapes': every sample of one carries its id.
    let rows = store.rows_between(start, second_last).await.expect("rows");
    assert_eq!(rows.len(), 703);
    assert!(rows[..700].iter().all(|(id, _)| *id == first_last));
    assert!(
        rows[700..]
            .iter()
            .all(|(id, r)| *id == second_last && r.target == "10.0.0.2:8000")
    );
    assert!(rows.iter().any(|(_, r)| r.sample.value.is_finite()));
    let rows = store
        .rows_between(first_last, second_last)
        .await
        .expect("rows");
    assert_eq!(rows.len(), 3, "after a scrape's id: the next scrape");

    let scrapes = store.scrapes_after(start).await.expect("scrapes");
    let tail: Vec<(i64, i64)> = scrapes.iter().map(|s| (s.0, s.1)).collect();
    assert_eq!(
        tail[tail.len() - 2..],
        [(first_last, 700), (second_last, 3)]
    );

    assert_eq!(
        store.cursor("vm:8428/api/v1/write").await.expect("cursor"),
        None
    );
    store
        .save_cursor("vm:8428/api/v1/write", first_last)
        .await
        .expect("save");
    store
        .save_cursor("vm:8428/api/v1/write", second_last)
        .await
        .expect("save again");
    assert_eq!(
        store.cursor("vm:8428/api/v1/write").await.expect("cursor"),
        Some(second_last)
    );
}

#[tokio::test]
async fn unsupported_url_is_refused_with_the_variable_named() {
    let e = Store::connect("mysql://x")
        .await
        .expect_err("refused")
        .to_string();
    assert!(
        e.starts_with("TELEMETRY_DATABASE_URL: `mysql://x` is neither"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "system-tests"),
    ignore = "needs PostgreSQL: run with `--features system-tests` (scripts/test does)"
)]
async fn buffered_scrapes_survive_a_database_outage_and_a_full_buffer_drops_the_oldest() {
    let mut pg = postgres::Postgres::start();
    let store = Store::connect(&pg.url()).await.expect("connect");
    let at = SystemTime::now();
    let size = scrape("10.0.0.1:8000", at, 200).heap_bytes() as u64;
    // Room for three scrapes of 200 samples.
    let mut writer = Writer::new(store.clone(), 3 * size + size / 2);
    let handover = writer.handover();

    handover.send(scrape("10.0.0.1:8000", at, 100));
    assert_eq!(writer.flush().await.expect("flush"), 100);

    pg.stop();
    for i in 1..=3 {
        let queued = handover.send(scrape(&format!("10.0.0.{i}:8000"), at, 200));
        assert_eq!(
            queued,
            Admission::Queued {
                evicted: Amount::default()
            }
        );
        assert!(writer.flush().await.is_err(), "the database is down");
    }
    assert_eq!(writer.buffered().samples, 600);
    assert!(writer.buffered().bytes <= 3 * size);
    // The buffer is full: the oldest scrape (10.0.0.1) makes room for the new one.
    let queued = handover.send(scrape("10.0.0.4:8000", at, 200));
    assert_eq!(
        queued,
        Admission::Queued {
            evicted: Amount {
                scrapes: 1,
                samples: 200,
                bytes: size
            }
        }
    );
    assert_eq!(writer.buffered().samples, 600);
    // A scrape larger than the whole buffer is refused, the buffered ones kept.
    assert_eq!(
        handover.send(scrape("10.0.0.5:8000", at, 1_000)),
        Admission::Refused
    );
    assert_eq!(writer.buffered().samples, 600);

    pg.resume();
    let mut written = None;
    for _ in 0..50 {
        if let Ok(n) = writer.flush().await {
            written = Some(n);
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        written,
        Some(600),
        "every buffered sample is written once the database is back"
    );
    assert_eq!(writer.buffered(), Amount::default());
    assert_eq!(store.count().await.expect("count"), 700);
    // 10.0.0.1 has its first scrape only: its second was the one dropped.
    let rows = store.rows_between(0, i64::MAX).await.expect("rows");
    let mut per_target = std::collections::BTreeMap::<String, usize>::new();
    for (_, row) in &rows {
        *per_target.entry(row.target.clone()).or_default() += 1;
    }
    assert_eq!(
        per_target.into_iter().collect::<Vec<_>>(),
        [
            ("10.0.0.1:8000".to_owned(), 100),
            ("10.0.0.2:8000".to_owned(), 200),
            ("10.0.0.3:8000".to_owned(), 200),
            ("10.0.0.4:8000".to_owned(), 200),
        ]
    );
}

/// Under a steady load with retention, the SQLite file stops growing: retention
/// deletes whole scrapes at the old end of the samples table, and the pages it
/// frees take the new scrapes.
#[tokio::test]
async fn with_retention_the_sqlite_file_stops_growing() {
    let dir = std::env::temp_dir().join(format!("keviq-retention-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let db = dir.join("t.sqlite");
    let store = Store::connect(&format!("sqlite://{}", db.display()))
        .await
        .expect("connect");
    // The database file and its WAL.
    let sizes = retention_cycles(&store, || async {
        ["", "-wal"]
            .iter()
            .filter_map(|s| std::fs::metadata(format!("{}{s}", db.display())).ok())
            .map(|m| m.len())
            .sum::<u64>()
    })
    .await;
    println!("SQLite bytes after each retention cycle: {sizes:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The same on PostgreSQL: retention vacuums what it deleted, so the tables (with
/// their TOAST and indexes) stop growing too.
#[tokio::test]
#[cfg_attr(
    not(feature = "system-tests"),
    ignore = "needs PostgreSQL: run with `--features system-tests` (scripts/test does)"
)]
async fn with_retention_the_postgres_tables_stop_growing() {
    let pg = postgres::Postgres::start();
    let store = Store::connect(&pg.url()).await.expect("connect");
    let sizes = retention_cycles(&store, || async {
        let bytes = store
            .bounded_scalar(
                "SELECT CAST(SUM(pg_total_relation_size(c.oid)) AS BIGINT) FROM pg_class c
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = 'telemetry_core' AND c.relkind = 'r'",
            )
            .await
            .expect("size");
        u64::try_from(bytes).expect("size")
    })
    .await;
    println!("PostgreSQL bytes after each retention cycle: {sizes:?}");
}

/// Ten cycles of a minute of scrapes (12 of 2,000 samples) with retention keeping
/// two minutes; checks the store's size plateaus and returns it after each cycle.
async fn retention_cycles<F, Fut>(store: &Store, size: F) -> Vec<u64>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = u64>,
{
    let start = SystemTime::now() - Duration::from_secs(3600);
    let mut sizes = Vec::new();
    for cycle in 0..10u64 {
        for s in 0..12u64 {
            let at = start + Duration::from_secs(cycle * 60 + s * 5);
            store
                .write(&scrape("10.0.0.9:8000", at, 2_000))
                .await
                .expect("write");
        }
        let now = start + Duration::from_secs(cycle * 60 + 60);
        store
            .delete_older_than(now - Duration::from_secs(120))
            .await
            .expect("retention");
        sizes.push(size().await);
    }
    assert_eq!(store.count().await.expect("count"), 2 * 12 * 2_000);
    // The space retention frees takes the new scrapes once it has run.
    let settled = sizes[3];
    let last = sizes[sizes.len() - 1];
    assert!(
        last <= settled + settled / 4,
        "the store kept growing under retention: {sizes:?}"
    );
    sizes
}
