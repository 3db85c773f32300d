//! The store alone, on both backends: 30 scrapes of one 100,000-series target written
//! one after another (the first creates the series), as the writer hands them over.
//! Prints samples a second for the first scrape and for the rest, and the bytes a
//! sample the database holds. PostgreSQL is a real server started from the
//! machine's binaries (`fsync=off`, as in the tests).
//!
//! ```text
//! cargo bench -p keviq-telemetry --bench store_write
//! STORE_SERIES=20000 STORE_SCRAPES=50 cargo bench -p keviq-telemetry --bench store_write
//! ```

use std::time::{Duration, Instant, SystemTime};

use keviq_expfmt::MetricType;
use keviq_telemetry::sample::{Labels, Sample, Scrape, Target};
use keviq_telemetry::store::Store;
use keviq_testkit::postgres;
use keviq_testkit::{fresh_dir, setting};

/// Scrape `n`: every series once, counters growing with `n`.
fn scrape(series: usize, n: usize, at: SystemTime) -> Scrape {
    let samples = (0..series)
        .map(|i| Sample {
            name: "soak_requests_total".into(),
            metric_type: MetricType::Counter,
            labels: [
                ("path".to_owned(), format!("/r/{i}")),
                ("status".to_owned(), "200".to_owned()),
            ]
            .into_iter()
            .collect::<Labels>(),
            value: (n * (i % 7 + 1)) as f64,
            timestamp_ms: None,
        })
        .collect();
    Scrape {
        target: Target::parse("127.0.0.1:9100").expect("target"),
        at,
        samples,
        exemplars: Vec::new(),
    }
}

async fn run(name: &str, url: &str, size_sql: &str) {
    let series = setting("STORE_SERIES", 100_000);
    let scrapes = setting("STORE_SCRAPES", 30);
    let store = Store::connect(url).await.expect("store");
    let start = SystemTime::now() - Duration::from_secs(3600);
    let (mut first, mut rest) = (Duration::ZERO, Duration::ZERO);
    for n in 0..scrapes {
        // Built before the clock starts: the scraper's work, not the store's.
        let s = scrape(series, n, start + Duration::from_secs(n as u64));
        let began = Instant::now();
        store.write(&s).await.expect("write");
        if n == 0 {
            first = began.elapsed();
        } else {
            rest += began.elapsed();
        }
    }
    let stored = store.count().await.expect("count");
    let bytes = store.bounded_scalar(size_sql).await.expect("size");
    println!(
        "{name}: first scrape (creates {series} series) {:.0} samples/s; the next {} scrapes \
         {:.0} samples/s; {} samples in {bytes} bytes, {:.1} bytes a sample",
        series as f64 / first.as_secs_f64(),
        scrapes - 1,
        (series * (scrapes - 1)) as f64 / rest.as_secs_f64(),
        stored,
        bytes as f64 / stored.max(1) as f64,
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let dir = fresh_dir("store-write");
        // SQLite: the database file's pages (the WAL is checkpointed into it).
        run(
            "SQLite",
            &format!("sqlite://{}", dir.join("t.sqlite").display()),
            "SELECT page_count * page_size FROM telemetry_core.pragma_page_count(),
                    telemetry_core.pragma_page_size()",
        )
        .await;
        let _ = std::fs::remove_dir_all(&dir);
        let pg = postgres::Postgres::start();
        run(
            "PostgreSQL",
            &pg.url(),
            "SELECT CAST(pg_total_relation_size('telemetry_core.scrape_values')
                       + pg_total_relation_size('telemetry_core.scrapes')
                       + pg_total_relation_size('telemetry_core.series') AS BIGINT)",
        )
        .await;
    });
}
