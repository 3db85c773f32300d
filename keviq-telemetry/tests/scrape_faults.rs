//! Every bad target behaviour fails only its own scrape, within the timeout, while a
//! healthy keviq service next to them is scraped normally. All servers are real, on
//! 127.0.0.1.

use keviq_testkit::serve;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use http::StatusCode;
use keviq_telemetry::config::ScrapeConfig;
use keviq_telemetry::sample::Target;
use keviq_telemetry::scrape::{FailureReason, Scraper};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use serve::serve;

#[keviq::service(name = "healthy")]
fn healthy() -> Router {
    Router::new().route("/api", get(|| async { "ok" }))
}

/// A raw TCP server: `respond` runs on every accepted connection.
async fn raw<F, Fut>(respond: F) -> SocketAddr
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(respond(stream));
        }
    });
    addr
}

fn target(addr: SocketAddr) -> Target {
    Target {
        host: addr.ip().to_string(),
        port: addr.port(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_targets_fail_alone_and_in_time() {
    let healthy = serve(healthy()).await;
    let down = {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        l.local_addr().expect("addr")
    };
    // Accepts, reads nothing, answers nothing, keeps the socket open.
    let hangs = raw(|stream| async move {
        tokio::time::sleep(Duration::from_secs(60)).await;
        drop(stream);
    })
    .await;
    // Headers at once, then one byte of body every 200 ms.
    let slow = raw(|mut stream| async move {
        let _ = stream
            .write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 1000\r\n\r\n",
            )
            .await;
        for _ in 0..1000 {
            if stream.write_all(b"#").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    let garbage = serve(Router::new().route(
        "/metrics",
        get(|| async { "this is { not an exposition\n" }),
    ))
    .await;
    let error = serve(Router::new().route(
        "/metrics",
        get(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
    ))
    .await;
    // Announces 100 MB and streams zeros until the client gives up.
    let huge = raw(|mut stream| async move {
        let _ = stream
            .write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 104857600\r\n\r\n",
            )
            .await;
        let chunk = vec![b'0'; 64 * 1024];
        for _ in 0..1600 {
            if stream.write_all(&chunk).await.is_err() {
                return;
            }
        }
    })
    .await;

    let config = ScrapeConfig {
        targets: [healthy, down, hangs, slow, garbage, error, huge]
            .into_iter()
            .map(target)
            .collect(),
        interval: Duration::from_secs(3),
        timeout: Duration::from_secs(2),
        body_limit: 16 * 1024 * 1024,
        sample_limit: 0,
    };
    let scraper = Scraper::new(config);

    for round in 1..=2u32 {
        let started = Instant::now();
        let scrapes = scraper.scrape_all().await;
        let took = started.elapsed();
        assert!(
            took < Duration::from_secs(4),
            "round {round} took {took:?}: a bad target held up the round"
        );

        assert_eq!(scrapes.len(), 1, "only the healthy target succeeds");
        let scrape = &scrapes[0];
        assert_eq!(scrape.target, target(healthy));
        assert!(
            scrape
                .samples
                .iter()
                .any(|s| s.name == "mona_http_requests_in_flight")
        );

        let health = scraper.health();
        let of = |addr: SocketAddr| {
            health
                .iter()
                .find(|h| h.target == target(addr))
                .expect("tracked")
                .clone()
        };
        let good = of(healthy);
        assert!(
            good.up
                && good.last_error.is_none()
                && good.consecutive_failures == 0
                && good.samples > 0
        );
        assert!(
            good.last_duration
                .is_some_and(|d| d < Duration::from_secs(1)),
            "{good:?}"
        );
        for (addr, expected) in [
            (down, "cannot connect"),
            (hangs, "no complete answer within"),
            (slow, "no complete answer within"),
            (garbage, "invalid exposition: line 1"),
            (error, "HTTP status 500"),
            (huge, "body larger than 16777216 bytes"),
        ] {
            let h = of(addr);
            assert!(!h.up, "{h:?}");
            assert_eq!(h.consecutive_failures, round, "{h:?}");
            let message = h.last_error.clone().unwrap_or_default();
            assert!(message.starts_with(expected), "{addr}: {message}");
        }
    }

    let text = keviq::Registry::global()
        .expect("no clash")
        .render(keviq::Format::Prometheus);
    for reason in [
        FailureReason::Connect,
        FailureReason::Timeout,
        FailureReason::Parse,
        FailureReason::Status,
        FailureReason::TooLarge,
    ] {
        let label = format!("{reason:?}")
            .chars()
            .fold(String::new(), |mut s, c| {
                if c.is_uppercase() && !s.is_empty() {
                    s.push('_');
                }
                s.extend(c.to_lowercase());
                s
            });
        assert!(
            text.contains(&format!("reason=\"{label}\"}} ")),
            "no failure counted for {label}:\n{text}"
        );
    }
    assert!(text.contains("mona_telemetry_targets_up 1\n"));
}

/// A family split by another, as exporters without `# TYPE` lines write it:
/// Prometheus scrapes it, so the telemetry service keeps the target up, stores every
/// sample, and shows what it tolerated on the target.
#[tokio::test]
async fn a_target_serving_a_non_contiguous_family_stays_up_with_a_finding() {
    let body = "x{a=\"1\"} 1\nx_sum 1\nx_count 1\nx{a=\"2\"} 2\n";
    let addr = serve(Router::new().route("/metrics", get(move || async move { body }))).await;
    let target = Target::parse(&addr.to_string()).expect("target");
    let scraper = std::sync::Arc::new(Scraper::new(ScrapeConfig {
        targets: vec![target.clone()],
        interval: Duration::from_secs(1),
        timeout: Duration::from_secs(1),
        body_limit: 1 << 20,
        sample_limit: 0,
    }));
    let scrapes = scraper.scrape_all().await;
    let scrape = scrapes.first().expect("the target was scraped");
    let values: Vec<(String, f64)> = scrape
        .samples
        .iter()
        .map(|s| (s.name.clone(), s.value))
        .collect();
    assert_eq!(values.len(), 4, "{values:?}");
    let health = scraper
        .health()
        .into_iter()
        .find(|h| h.target == target)
        .expect("health");
    assert!(health.up, "{health:?}");
    assert_eq!(health.samples, 4);
    assert!(
        health.findings.iter().any(|f| f.starts_with("4:")),
        "the regrouped line is reported: {:?}",
        health.findings
    );
}

/// Prometheus' `sample_limit`: a scrape over the limit fails as a whole, named
/// `sample_limit_exceeded`, and none of its samples is handed on; a target within
/// the limit is scraped as usual.
#[tokio::test]
async fn a_scrape_over_the_sample_limit_fails_whole() {
    let many: String = (0..50).map(|i| format!("series_{i} 1\n")).collect();
    let many: &'static str = Box::leak(many.into_boxed_str());
    let flood = serve(Router::new().route("/metrics", get(move || async move { many }))).await;
    let ok = serve(Router::new().route("/metrics", get(|| async { "small 1\n" }))).await;
    let flood = Target::parse(&flood.to_string()).expect("target");
    let ok = Target::parse(&ok.to_string()).expect("target");
    let scraper = std::sync::Arc::new(Scraper::new(ScrapeConfig {
        targets: vec![flood.clone(), ok.clone()],
        interval: Duration::from_secs(1),
        timeout: Duration::from_secs(1),
        body_limit: 1 << 20,
        sample_limit: 10,
    }));
    let scrapes = scraper.scrape_all().await;
    assert_eq!(
        scrapes.len(),
        1,
        "only the target within the limit is handed on"
    );
    assert_eq!(scrapes[0].target, ok);
    let health = scraper.health();
    let flooded = health.iter().find(|h| h.target == flood).expect("health");
    assert!(!flooded.up);
    let error = flooded.last_error.as_deref().unwrap_or_default();
    assert!(
        error.starts_with("sample_limit_exceeded: 50 samples"),
        "{error}"
    );
    assert!(health.iter().any(|h| h.target == ok && h.up));
}
