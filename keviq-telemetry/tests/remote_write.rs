//! Remote write against real receivers: VictoriaMetrics and Prometheus started from
//! Debian's packages ([`tsdb`]), and small axum receivers on 127.0.0.1 for the
//! answers a real one rarely gives (400, 503, 429).
//!
//! Every target here serves counters whose value is the number of the scrape, so a
//! receiver's samples say exactly which scrapes arrived, in which order.

use keviq_testkit::serve;
use keviq_testkit::tsdb;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::routing::{get, post};
use http::{HeaderMap, StatusCode};
use keviq_telemetry::config::{
    BATCH_VAR, DATABASE_URL_VAR, HEADERS_VAR, INTERVAL_VAR, QUEUE_BYTES_VAR, REMOTE_WRITE_URL_VAR,
    Settings, TARGETS_VAR,
};
use keviq_telemetry::daemon::{self, Started};
use keviq_telemetry::remote::REMOTE;
use keviq_telemetry::remote::proto::{STALE_NAN_BITS, WriteRequest};
use prost::Message;
use tsdb::{Kind, Tsdb};

use serve::serve;

/// Counter series each test target serves.
const SERIES: usize = 5;

/// A target whose `rw_requests_total{series}` values are its scrape count; its gauge
/// `rw_temperature` disappears after scrape `vanish_after`.
struct TestTarget {
    addr: SocketAddr,
    served: Arc<AtomicU64>,
}

async fn test_target(vanish_after: u64) -> TestTarget {
    let served = Arc::new(AtomicU64::new(0));
    let count = served.clone();
    let router = Router::new().route(
        "/metrics",
        get(move || {
            let n = count.fetch_add(1, Ordering::SeqCst) + 1;
            let mut text = String::from(
                "# TYPE keviq_service_info gauge\nkeviq_service_info{service=\"rw-test\"} 1\n# TYPE rw_requests_total counter\n",
            );
            for s in 0..SERIES {
                text.push_str(&format!("rw_requests_total{{series=\"{s}\"}} {n}\n"));
            }
            if n <= vanish_after {
                text.push_str(&format!("# TYPE rw_temperature gauge\nrw_temperature {n}\n"));
            }
            async move { ([("content-type", "text/plain; version=0.0.4")], text) }
        }),
    );
    let addr = serve(router).await;
    TestTarget { addr, served }
}

/// The telemetry service in this process, scraping `target` every second.
async fn telemetry(target: SocketAddr, vars: &[(&str, &str)]) -> Started {
    let target = target.to_string();
    let settings = Settings::from_vars(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
            .or_else(|| match name {
                TARGETS_VAR => Some(target.clone()),
                INTERVAL_VAR => Some("1".to_owned()),
                DATABASE_URL_VAR => Some("none".to_owned()),
                _ => None,
            })
    })
    .expect("settings");
    daemon::start(settings).await.expect("start")
}

/// `host:port/path`: the name of an endpoint in the metrics.
fn remote_name(url: &str) -> String {
    url.trim_start_matches("http://").to_owned()
}

/// Checks that `db` holds exactly scrapes 1..=`n` of every counter series of the
/// target at `addr`, in order, one sample each, and `up` `n` times.
fn assert_every_scrape_arrived(db: &Tsdb, addr: SocketAddr, n: u64) {
    let instance = format!("instance=\"{addr}\"");
    let series = db.samples(
        &format!("{{__name__=\"rw_requests_total\",{instance}}}"),
        10,
    );
    assert_eq!(series.len(), SERIES, "{series:?}");
    for (labels, points) in &series {
        assert!(labels.contains("job=rw-test"), "{labels}");
        let values: Vec<f64> = points.iter().map(|p| p.1).filter(|v| !v.is_nan()).collect();
        let expected: Vec<f64> = (1..=n).map(|v| v as f64).collect();
        assert_eq!(values, expected, "{labels}: every scrape once, in order");
        assert!(
            points.windows(2).all(|w| w[0].0 < w[1].0),
            "{labels}: timestamps grow"
        );
    }
    let up = db.samples(&format!("up{{{instance}}}"), 10);
    assert_eq!(up.len(), 1, "{up:?}");
    assert_eq!(up[0].1.len() as u64, n, "one `up` per scrape");
    assert!(up[0].1.iter().all(|p| p.1 == 1.0));
}

/// Waits until `remote` has nothing pending.
async fn drained(remote: &str, within: Duration) {
    let deadline = Instant::now() + within;
    while REMOTE.pending.labels(remote).get() > 0 {
        assert!(
            Instant::now() < deadline,
            "{remote}: still {} pending",
            REMOTE.pending.labels(remote).get()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "system-tests"),
    ignore = "needs VictoriaMetrics and Prometheus: run with `--features system-tests` (scripts/test does)"
)]
async fn every_scraped_sample_arrives_in_victoria_metrics_and_prometheus() {
    let vm = Tsdb::start(Kind::VictoriaMetrics);
    let prom = Tsdb::start(Kind::Prometheus);
    let target = test_target(3).await;
    let urls = format!("{},{}", vm.write_url(), prom.write_url());
    // Small batches: a scrape spans several requests.
    let started = telemetry(
        target.addr,
        &[(REMOTE_WRITE_URL_VAR, &urls), (BATCH_VAR, "4")],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(5_500)).await;
    started.stop().await;
    let n = target.served.load(Ordering::SeqCst);
    assert!(n >= 5, "{n} scrapes");

    for db in [&vm, &prom] {
        assert_every_scrape_arrived(db, target.addr, n);
        // The gauge that vanished after scrape 3: three samples, then a staleness
        // marker, so an instant query no longer sees it.
        let gauge = db.samples(
            &format!("rw_temperature{{instance=\"{}\"}}", target.addr),
            10,
        );
        assert_eq!(gauge.len(), 1);
        let values: Vec<f64> = gauge[0].1.iter().map(|p| p.1).collect();
        assert_eq!(values[..3], [1.0, 2.0, 3.0]);
        assert!(
            values[3..].iter().all(|v| v.is_nan()),
            "{values:?}: then only the marker"
        );
        assert!(db.query("rw_temperature").is_empty(), "marked stale");
        assert_eq!(db.query("rw_requests_total").len(), SERIES);
    }
    for url in [vm.write_url(), prom.write_url()] {
        let name = remote_name(&url);
        assert_eq!(REMOTE.failed.labels(&name).get(), 0);
        assert_eq!(REMOTE.dropped.labels(&name).get(), 0);
        assert!(REMOTE.sent.labels(&name).get() >= n * (SERIES as u64 + 4));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "system-tests"),
    ignore = "needs VictoriaMetrics: run with `--features system-tests` (scripts/test does)"
)]
async fn a_receiver_down_for_20_seconds_loses_nothing() {
    let mut vm = Tsdb::start(Kind::VictoriaMetrics);
    let target = test_target(u64::MAX).await;
    let url = vm.write_url();
    let name = remote_name(&url);
    let started = telemetry(target.addr, &[(REMOTE_WRITE_URL_VAR, &url)]).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    vm.stop();
    let outage = Instant::now();
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert!(
        REMOTE.pending.labels(&name).get() > 0,
        "samples wait while it is down"
    );
    assert!(REMOTE.lag.labels(&name).get() > 5.0, "and the lag grows");
    vm.resume();
    drained(&name, Duration::from_secs(30)).await;
    eprintln!("outage of {:?} recovered", outage.elapsed());
    started.stop().await;
    let n = target.served.load(Ordering::SeqCst);
    assert!(n >= 20, "scraping went on through the outage: {n}");
    assert_every_scrape_arrived(&vm, target.addr, n);
    assert!(REMOTE.retried.labels(&name).get() > 0);
    assert_eq!(REMOTE.dropped.labels(&name).get(), 0);
    assert_eq!(REMOTE.lag.labels(&name).get(), 0.0);
}

/// A receiver that answers `status` to the first `failures` requests, then 204, and
/// keeps every request's headers and body.
#[derive(Clone, Default)]
struct Receiver {
    requests: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    calls: Arc<AtomicUsize>,
}

async fn receiver(status: StatusCode, failures: usize) -> (SocketAddr, Receiver) {
    let state = Receiver::default();
    let kept = state.clone();
    let router = Router::new().route(
        "/api/v1/write",
        post(move |headers: HeaderMap, body: Bytes| {
            let kept = kept.clone();
            async move {
                let call = kept.calls.fetch_add(1, Ordering::SeqCst);
                kept.requests.lock().expect("lock").push((headers, body));
                if call < failures {
                    (status, [("retry-after", "0")], "out-of-order sample")
                } else {
                    (StatusCode::NO_CONTENT, [("retry-after", "0")], "")
                }
            }
        }),
    );
    (serve(router).await, state)
}

fn decode(body: &[u8]) -> WriteRequest {
    let raw = snap::raw::Decoder::new()
        .decompress_vec(body)
        .expect("snappy block format");
    WriteRequest::decode(raw.as_slice()).expect("a WriteRequest")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_400_is_not_retried_and_its_samples_are_counted_as_failed() {
    let (addr, rx) = receiver(StatusCode::BAD_REQUEST, usize::MAX).await;
    let target = test_target(u64::MAX).await;
    let url = format!("http://{addr}/api/v1/write");
    let name = remote_name(&url);
    let token = std::env::temp_dir().join(format!("keviq-rw-token-{}", std::process::id()));
    std::fs::write(&token, "t0ken\n").expect("token file");
    let started = telemetry(
        target.addr,
        &[
            (REMOTE_WRITE_URL_VAR, &url),
            (HEADERS_VAR, "X-Scope-OrgID=team-a"),
            (
                "TELEMETRY_REMOTE_WRITE_BEARER_TOKEN_FILE",
                &token.to_string_lossy(),
            ),
        ],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    started.stop().await;
    let _ = std::fs::remove_file(&token);
    let n = target.served.load(Ordering::SeqCst);
    let per_scrape = SERIES as u64 + 5; // the counters, info, gauge, duration, samples, up

    let requests = rx.requests.lock().expect("lock").clone();
    assert!(!requests.is_empty());
    let mut bodies: Vec<&Bytes> = requests.iter().map(|(_, b)| b).collect();
    bodies.sort();
    bodies.dedup();
    assert_eq!(bodies.len(), requests.len(), "no request was sent twice");
    assert_eq!(REMOTE.retried.labels(&name).get(), 0);
    assert_eq!(REMOTE.sent.labels(&name).get(), 0);
    assert_eq!(REMOTE.failed.labels(&name).get(), n * per_scrape);

    // The specification's headers, and the configured ones.
    let (headers, body) = &requests[0];
    assert_eq!(headers["content-encoding"], "snappy");
    assert_eq!(headers["content-type"], "application/x-protobuf");
    assert_eq!(headers["x-prometheus-remote-write-version"], "0.1.0");
    assert!(
        headers["user-agent"]
            .to_str()
            .expect("ascii")
            .starts_with("keviq-telemetry/")
    );
    assert_eq!(headers["x-scope-orgid"], "team-a");
    assert_eq!(headers["authorization"], "Bearer t0ken");
    // Labels sorted by name, `__name__` among them; the scrape's millisecond time.
    let request = decode(body);
    for series in &request.timeseries {
        let names: Vec<&str> = series.labels.iter().map(|l| l.name.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        assert!(
            names.contains(&"__name__") && names.contains(&"instance") && names.contains(&"job")
        );
        assert!(series.labels.iter().all(|l| !l.value.is_empty()));
        assert!(series.samples[0].timestamp > 1_600_000_000_000);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_and_a_429_are_retried_until_delivered() {
    for status in [
        StatusCode::SERVICE_UNAVAILABLE,
        StatusCode::TOO_MANY_REQUESTS,
    ] {
        let (addr, rx) = receiver(status, 3).await;
        let target = test_target(u64::MAX).await;
        let url = format!("http://{addr}/api/v1/write");
        let name = remote_name(&url);
        let started = telemetry(target.addr, &[(REMOTE_WRITE_URL_VAR, &url)]).await;
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        started.stop().await;
        let requests = rx.requests.lock().expect("lock").clone();
        // The first request, three times refused, then delivered.
        assert!(requests.len() >= 4);
        assert!(
            requests[..4].iter().all(|r| r.1 == requests[0].1),
            "{status}: the same batch again"
        );
        let first = decode(&requests[0].1).timeseries.len() as u64;
        assert_eq!(REMOTE.retried.labels(&name).get(), 3 * first, "{status}");
        assert_eq!(REMOTE.failed.labels(&name).get(), 0);
        // Everything delivered, in order: the counters' values only grow.
        let mut last: BTreeMap<String, f64> = BTreeMap::new();
        let mut delivered = requests[3..].to_vec();
        delivered.dedup_by(|b, a| a.1 == b.1);
        for (_, body) in &delivered {
            for series in decode(body).timeseries {
                let key = format!("{:?}", series.labels);
                let value = series.samples[0].value;
                if series.labels[0].value == "rw_requests_total" {
                    let previous = last.insert(key, value).unwrap_or(0.0);
                    assert_eq!(value, previous + 1.0, "{status}: in order, none missing");
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_its_bound_the_backlog_drops_the_oldest_and_counts_them() {
    // Nothing listens there: every request fails to connect and is retried.
    let url = format!("http://127.0.0.1:{}/api/v1/write", tsdb::free_port());
    let name = remote_name(&url);
    let target = test_target(u64::MAX).await;
    let started = telemetry(
        target.addr,
        &[(REMOTE_WRITE_URL_VAR, &url), (QUEUE_BYTES_VAR, "4096")],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(4_500)).await;
    // Stopped first: nothing moves while the two are read.
    started.stop().await;
    let dropped = REMOTE.dropped.labels(&name).get();
    let pending = REMOTE.pending.labels(&name).get();
    let n = target.served.load(Ordering::SeqCst);
    let per_scrape = SERIES as u64 + 5;
    assert!(dropped > 0, "the oldest were dropped");
    assert_eq!(
        dropped + pending as u64,
        n * per_scrape,
        "every sample is pending or counted as dropped"
    );
    assert!(
        (pending as u64) <= 4096 / 64,
        "what is kept stays under the bound"
    );
}

#[test]
fn the_staleness_marker_is_prometheus_s() {
    assert_eq!(STALE_NAN_BITS, 0x7ff0_0000_0000_0002);
}

/// The telemetry service as its own process, with a local SQLite store.
fn spawn_telemetry(
    target: SocketAddr,
    db: &std::path::Path,
    write_url: &str,
) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_keviq-telemetry"))
        .env_clear()
        .env(TARGETS_VAR, target.to_string())
        .env(INTERVAL_VAR, "1")
        .env(DATABASE_URL_VAR, format!("sqlite://{}", db.display()))
        .env(REMOTE_WRITE_URL_VAR, write_url)
        .env("KEVIQ_LISTEN", format!("127.0.0.1:{}", tsdb::free_port()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start keviq-telemetry")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "system-tests"),
    ignore = "needs VictoriaMetrics: run with `--features system-tests` (scripts/test does)"
)]
async fn a_killed_service_resends_what_it_stored_and_had_not_sent() {
    let target = test_target(u64::MAX).await;
    let dir = std::env::temp_dir().join(format!("keviq-rw-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let db = dir.join("telemetry.sqlite");
    // The receiver's port, held (nothing listens) until the receiver starts.
    let reserved = tsdb::Reserved::new();
    let port = reserved.number();
    let url = format!("http://127.0.0.1:{port}/api/v1/write");

    let mut first = spawn_telemetry(target.addr, &db, &url);
    tokio::time::sleep(Duration::from_millis(4_500)).await;
    first.kill().expect("SIGKILL");
    let _ = first.wait();
    let before_kill = target.served.load(Ordering::SeqCst);
    assert!(before_kill >= 3);

    let vm = Tsdb::start_on(Kind::VictoriaMetrics, reserved);
    let mut second = spawn_telemetry(target.addr, &db, &url);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let status = keviq_testkit::terminate(&mut second, Duration::from_secs(20));
    assert!(status.success(), "{status}");

    // Every row of the store, counted per series, is in the receiver.
    let store = keviq_telemetry::store::Store::connect(&format!("sqlite://{}", db.display()))
        .await
        .expect("open the store");
    let rows = store.rows_between(0, i64::MAX).await.expect("rows");
    let mut stored: BTreeMap<String, usize> = BTreeMap::new();
    for (_, row) in &rows {
        let mut labels: Vec<String> = row
            .sample
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        labels.push(format!("__name__={}", row.sample.name));
        labels.push(format!("instance={}", row.target));
        labels.push("job=rw-test".to_owned());
        labels.sort();
        *stored.entry(labels.join(",")).or_default() += 1;
    }
    let received: BTreeMap<String, usize> = vm
        .samples(&format!("{{instance=\"{}\"}}", target.addr), 10)
        .into_iter()
        .map(|(labels, points)| (labels, points.iter().filter(|p| !p.1.is_nan()).count()))
        .collect();
    assert_eq!(received, stored);
    let up = stored
        .iter()
        .find(|(k, _)| k.contains("__name__=up"))
        .map(|(_, n)| *n)
        .expect("up stored");
    assert!(
        up as u64 >= before_kill,
        "the scrapes before the kill are there: {up}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
