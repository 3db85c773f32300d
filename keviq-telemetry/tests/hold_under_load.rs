//! The telemetry service under a target bigger than its store keeps up with: the
//! memory between scraper and store stays within its bound in bytes, every sample
//! received is stored or counted as dropped, shutdown's drain is bounded and reports
//! exactly what it could not write, and a SIGKILL loses at most what the buffer
//! gauge showed. Real HTTP targets on 127.0.0.1, real SQLite files, a real
//! PostgreSQL server, the real binary; the load bounded in count.

use keviq_testkit::postgres;
use keviq_testkit::serve;
use keviq_testkit::tsdb;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use keviq_telemetry::config::{
    BUFFER_BYTES_VAR, DATABASE_URL_VAR, DRAIN_VAR, INTERVAL_VAR, SAMPLE_LIMIT_VAR, ScrapeConfig,
    TARGETS_VAR,
};
use keviq_telemetry::sample::Scrape;
use keviq_telemetry::scrape::Scraper;
use keviq_telemetry::store::Store;
use keviq_telemetry::writer::{Admission, Amount, Writer};

use serve::serve;

/// A target serving `series` counter series, counting the scrapes it answers; once
/// `hang` is set it answers no more (its scrapes time out).
struct BigTarget {
    addr: SocketAddr,
    hang: Arc<AtomicBool>,
}

async fn big_target(series: usize) -> BigTarget {
    let mut text = String::from("# TYPE load_total counter\n");
    for s in 0..series {
        text.push_str(&format!("load_total{{series=\"s{s}\",shard=\"a\"}} {s}\n"));
    }
    let body = axum::body::Bytes::from(text);
    let hang = Arc::new(AtomicBool::new(false));
    let hanging = hang.clone();
    let router = Router::new().route(
        "/metrics",
        get(move || {
            let body = body.clone();
            let hanging = hanging.clone();
            async move {
                if hanging.load(Ordering::SeqCst) {
                    std::future::pending::<()>().await;
                }
                ([("content-type", "text/plain; version=0.0.4")], body)
            }
        }),
    );
    BigTarget {
        addr: serve(router).await,
        hang,
    }
}

/// One real scrape of `target`.
async fn one_scrape(target: SocketAddr) -> Scrape {
    let config = ScrapeConfig::from_vars(|name| match name {
        TARGETS_VAR => Some(target.to_string()),
        INTERVAL_VAR => Some("1".into()),
        _ => None,
    })
    .expect("config");
    let mut scrapes = Scraper::new(config).scrape_round().await;
    assert_eq!(scrapes.len(), 1);
    scrapes.remove(0)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keviq-load-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_behind_the_targets_drops_the_oldest_scrapes_and_counts_every_sample() {
    let target = big_target(5_000).await;
    let scrape = one_scrape(target.addr).await;
    let n = scrape.samples.len() as u64;
    let size = scrape.heap_bytes() as u64;
    let dir = temp_dir("behind");
    let store = Store::connect(&format!("sqlite://{}", dir.join("t.sqlite").display()))
        .await
        .expect("store");
    let capacity = 4 * size;
    let (handover, writing) = Writer::new(store.clone(), capacity)
        .with_drain_limit(Duration::from_secs(120))
        .start();

    // Forty scrapes at once: far more than SQLite writes meanwhile.
    let (mut sent, mut dropped) = (0, 0);
    for _ in 0..40 {
        sent += n;
        match handover.send(scrape.clone()) {
            Admission::Queued { evicted } => dropped += evicted.samples,
            Admission::Refused => dropped += n,
        }
        let buffered = handover.buffered();
        assert!(buffered.bytes <= capacity, "{buffered:?} over {capacity}");
    }
    assert!(dropped > 0, "the writer kept up with 40 scrapes at once");
    assert_eq!(dropped % n, 0, "only whole scrapes are dropped");

    handover.close();
    let drained = writing.await.expect("writer");
    assert_eq!(drained.unwritten, Amount::default());
    assert_eq!(store.count().await.expect("count") as u64, sent - dropped);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "system-tests"),
    ignore = "needs PostgreSQL: run with `--features system-tests` (scripts/test does)"
)]
async fn shutdown_with_the_database_down_reports_exactly_what_it_could_not_write() {
    let target = big_target(1_000).await;
    let scrape = one_scrape(target.addr).await;
    let n = scrape.samples.len() as u64;
    let mut pg = postgres::Postgres::start();
    let store = Store::connect(&pg.url()).await.expect("store");
    let (handover, writing) = Writer::new(store.clone(), 1 << 30)
        .with_drain_limit(Duration::from_secs(3))
        .start();

    for _ in 0..3 {
        handover.send(scrape.clone());
    }
    for _ in 0..300 {
        if handover.buffered() == Amount::default() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        handover.buffered(),
        Amount::default(),
        "three scrapes written"
    );

    pg.stop();
    handover.send(scrape.clone());
    handover.send(scrape.clone());
    handover.close();
    let drained = writing.await.expect("writer");
    assert_eq!(
        (drained.unwritten.scrapes, drained.unwritten.samples),
        (2, 2 * n)
    );
    assert_eq!(
        drained.by_target.get(&target.addr.to_string()),
        Some(&(2, 2 * n))
    );
    assert_eq!(handover.buffered(), Amount::default());

    pg.resume();
    let store = Store::connect(&pg.url()).await.expect("store again");
    assert_eq!(store.count().await.expect("count") as u64, 3 * n);
}

/// The release or debug binary, scraping `target` every second into `db`.
fn spawn_telemetry(target: SocketAddr, db: &Path, listen: u16, vars: &[(&str, &str)]) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_keviq-telemetry"));
    command
        .env_clear()
        .env(TARGETS_VAR, target.to_string())
        .env(INTERVAL_VAR, "1")
        .env(SAMPLE_LIMIT_VAR, "0")
        .env(DATABASE_URL_VAR, format!("sqlite://{}", db.display()))
        .env("KEVIQ_LISTEN", format!("127.0.0.1:{listen}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in vars {
        command.env(k, v);
    }
    command.spawn().expect("start keviq-telemetry")
}

/// A sample's value from an exposition.
fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or_else(|| panic!("{name} in\n{text}")) as u64
}

/// The peak resident memory of a process, in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmHWM")
        * 1024
}

async fn rows_in(db: &Path) -> u64 {
    let store = Store::connect(&format!("sqlite://{}", db.display()))
        .await
        .expect("open the store");
    store.count().await.expect("count") as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_and_accounts_for_every_sample_within_the_memory_bound() {
    let target = big_target(20_000).await;
    let dir = temp_dir("sigterm");
    let db = dir.join("t.sqlite");
    let buffer: u64 = 8 << 20;
    let buffer_var = buffer.to_string();
    let mut child = spawn_telemetry(
        target.addr,
        &db,
        tsdb::free_port(),
        &[(BUFFER_BYTES_VAR, &buffer_var), (DRAIN_VAR, "2")],
    );
    tokio::time::sleep(Duration::from_secs(6)).await;
    let peak = peak_rss(child.id());
    let status = keviq_testkit::terminate(&mut child, Duration::from_secs(30));
    assert!(status.success(), "{status}");
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().expect("stdout"), &mut out)
        .expect("log");
    let last: serde_json::Value = out
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("telemetry service stopped"))
        })
        .unwrap_or_else(|| panic!("the closing line in\n{out}"));
    let field = |name: &str| {
        last[name]
            .as_u64()
            .or_else(|| last["fields"][name].as_u64())
            .unwrap_or_else(|| panic!("{name} in {last}"))
    };
    let (samples_in, stored, dropped) = (field("samples_in"), field("stored"), field("dropped"));
    assert!(samples_in >= 3 * 20_000, "{last}");
    assert_eq!(samples_in, stored + dropped, "{last}");
    assert_eq!(rows_in(&db).await, stored);
    // The bound, plus a stated overhead: the runtime, the store's connections and
    // one scrape being read and parsed (20,000 series).
    let overhead = 96 << 20;
    assert!(
        peak < buffer + overhead,
        "peak RSS {} MiB over {} MiB",
        peak >> 20,
        (buffer + overhead) >> 20
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loses_at_most_what_the_buffer_gauge_showed() {
    let target = big_target(20_000).await;
    let dir = temp_dir("sigkill");
    let db = dir.join("t.sqlite");
    let listen = tsdb::free_port();
    let mut child = spawn_telemetry(target.addr, &db, listen, &[]);
    tokio::time::sleep(Duration::from_secs(4)).await;
    // No more samples come in (the scrapes time out, each adding `up` 0 and its two
    // companions): what the gauges show next is all that waits.
    target.hang.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let addr = SocketAddr::from(([127, 0, 0, 1], listen));
    let (status, text) = tsdb::get(addr, "/metrics").expect("the service's metrics");
    assert_eq!(status, 200);
    child.kill().expect("SIGKILL");
    let _ = child.wait();

    let samples_in = metric(&text, "mona_telemetry_samples_in_total");
    let dropped = metric(&text, "mona_telemetry_samples_dropped_total");
    let buffered = metric(&text, "mona_telemetry_buffered_samples");
    let stored = rows_in(&db).await;
    assert!(samples_in >= 20_000, "{samples_in}");
    let lost = samples_in - dropped - stored.min(samples_in - dropped);
    assert!(
        // (+3: a failed scrape, `up` 0 and its two companions, racing the kill)
        lost <= buffered + 3,
        "lost {lost} (in {samples_in}, dropped {dropped}, stored {stored}), the gauge showed {buffered}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
