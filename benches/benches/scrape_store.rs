//! One scrape-and-store cycle: 15 targets × 1,000 series, scraped concurrently over
//! loopback and written into SQLite, then into PostgreSQL (a real server started from
//! the machine's binaries, as the tests do).
//!
//! `cargo bench -p keviq-telemetry --bench scrape_store`

use keviq_testkit::postgres;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use keviq_telemetry::config::ScrapeConfig;
use keviq_telemetry::sample::Target;
use keviq_telemetry::scrape::Scraper;
use keviq_telemetry::store::Store;

/// A Prometheus text exposition of `series` counter series (method, path, status).
fn exposition(series: usize) -> String {
    let mut text = String::from(
        "# HELP mona_http_requests_total Total HTTP requests\n# TYPE mona_http_requests_total counter\n",
    );
    for i in 0..series {
        let _ = writeln!(
            text,
            "mona_http_requests_total{{method=\"GET\",path=\"/api/v1/r{}/{{id}}\",status=\"{}\"}} {}",
            i / 4,
            [200, 201, 404, 500][i % 4],
            i * 3
        );
    }
    text
}

async fn target_server(text: Arc<String>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = Router::new().route(
        "/metrics",
        get(move || {
            let text = text.clone();
            async move {
                (
                    [("content-type", "text/plain; version=0.0.4; charset=utf-8")],
                    text.as_str().to_owned(),
                )
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

fn cycle(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let text = Arc::new(exposition(1_000));
    let targets: Vec<Target> = rt.block_on(async {
        let mut targets = Vec::new();
        for _ in 0..15 {
            let addr = target_server(text.clone()).await;
            targets.push(Target {
                host: addr.ip().to_string(),
                port: addr.port(),
            });
        }
        targets
    });
    let scraper = Scraper::new(ScrapeConfig {
        targets,
        interval: Duration::from_secs(30),
        timeout: Duration::from_secs(10),
        body_limit: 16 << 20,
        sample_limit: 0,
    });

    let dir = std::env::temp_dir().join(format!("keviq-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let pg = postgres::Postgres::start();
    let stores = [
        (
            "sqlite",
            format!("sqlite://{}", dir.join("bench.sqlite").display()),
        ),
        ("postgres", pg.url()),
    ];
    let mut group = c.benchmark_group("scrape_and_store_15x1000");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    for (name, url) in stores {
        let store = rt.block_on(Store::connect(&url)).expect("store");
        group.bench_function(name, |b| {
            b.iter(|| {
                rt.block_on(async {
                    let scrapes = scraper.scrape_all().await;
                    assert_eq!(scrapes.len(), 15, "every target answers");
                    for scrape in &scrapes {
                        store.write(scrape).await.expect("write");
                    }
                })
            })
        });
    }
    group.finish();
    drop(pg);
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, cycle);
criterion_main!(benches);
