//! How the cost of the telemetry service grows (BENCHMARKS.md, "Remote write"): the
//! release binary scrapes simulated targets on 127.0.0.1 (each 1,000 counter series,
//! every 15 s), stores them in SQLite and remote-writes them to a real
//! VictoriaMetrics; the same with the store alone, and forwarding alone. Measured
//! from outside the process: its CPU time (`/proc/<pid>/stat`), its peak resident
//! memory (`VmHWM`), and its own metrics (samples scraped, stored, sent, bytes on the
//! wire, the remote-write lag sampled every half second).
//!
//! About four minutes, so not part of the test suite; run it with:
//!
//! ```text
//! cargo bench -p keviq-telemetry --bench load
//! ```

use keviq_testkit::tsdb;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use tsdb::{Kind, Tsdb};

/// Series each simulated target serves.
const SERIES: usize = 1_000;
/// The scrape interval of the issue.
const INTERVAL_S: u64 = 15;
/// Rounds measured per configuration.
const ROUNDS: u64 = 3;

/// The exposition of every target in round `n`: 1,000 counters with the method,
/// path and status labels of an HTTP service, about 75 KB.
fn exposition(n: u64) -> String {
    let mut text = String::from(
        "# HELP mona_http_requests_total Total HTTP requests\n# TYPE mona_http_requests_total counter\n",
    );
    for i in 0..SERIES {
        let _ = writeln!(
            text,
            "mona_http_requests_total{{method=\"GET\",path=\"/api/v1/r{}/{{id}}\",status=\"{}\"}} {}",
            i / 4,
            [200, 201, 404, 500][i % 4],
            n * 7 + i as u64 * 3
        );
    }
    text
}

/// `count` targets on 127.0.0.1 sharing one body, rebuilt once per round.
async fn targets(count: usize) -> Vec<SocketAddr> {
    let round = Arc::new(AtomicU64::new(0));
    let body = Arc::new(std::sync::RwLock::new(Arc::new(exposition(0))));
    let started = Instant::now();
    let router = Router::new().route(
        "/metrics",
        get(move || {
            let n = started.elapsed().as_secs() / INTERVAL_S;
            if round.swap(n, Ordering::SeqCst) != n {
                *body.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(exposition(n));
            }
            let text = body.read().unwrap_or_else(|e| e.into_inner()).clone();
            async move {
                (
                    [("content-type", "text/plain; version=0.0.4")],
                    text.as_str().to_owned(),
                )
            }
        }),
    );
    let mut addrs = Vec::with_capacity(count);
    for _ in 0..count {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        addrs.push(listener.local_addr().expect("addr"));
        let router = router.clone();
        tokio::spawn(async move { axum::serve(listener, router).await });
    }
    addrs
}

/// CPU seconds (user + system) of a process.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // utime and stime are fields 14 and 15, the 12th and 13th after the name.
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// Peak resident memory of a process, in MiB.
fn peak_rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The sum of every sample of `name` in an exposition.
fn sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    StoreAndRemote,
    StoreOnly,
    RemoteOnly,
}

struct Figures {
    scraped: f64,
    stored: f64,
    sent: f64,
    bytes: f64,
    cpu: f64,
    wall: f64,
    rss: f64,
    max_lag: f64,
    max_buffered: f64,
    mean_scrape_s: f64,
    dropped: f64,
}

fn spawn(
    targets: &[SocketAddr],
    mode: Mode,
    dir: &std::path::Path,
    vm: &Tsdb,
    listen: SocketAddr,
) -> Child {
    let list: Vec<String> = targets.iter().map(ToString::to_string).collect();
    let mut c = Command::new(env!("CARGO_BIN_EXE_keviq-telemetry"));
    c.env_clear()
        .env("SCRAPE_TARGETS", list.join(","))
        .env("SCRAPE_INTERVAL_SECONDS", INTERVAL_S.to_string())
        .env("KEVIQ_LISTEN", listen.to_string())
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    match mode {
        Mode::StoreOnly => c.env(
            "TELEMETRY_DATABASE_URL",
            format!("sqlite://{}", dir.join("t.sqlite").display()),
        ),
        Mode::StoreAndRemote => c
            .env(
                "TELEMETRY_DATABASE_URL",
                format!("sqlite://{}", dir.join("t.sqlite").display()),
            )
            .env("TELEMETRY_REMOTE_WRITE_URL", vm.write_url()),
        Mode::RemoteOnly => c
            .env("TELEMETRY_DATABASE_URL", "none")
            .env("TELEMETRY_REMOTE_WRITE_URL", vm.write_url()),
    };
    c.spawn().expect("start keviq-telemetry")
}

async fn measure(targets: &[SocketAddr], mode: Mode, vm: &Tsdb) -> Figures {
    let dir = std::env::temp_dir().join(format!(
        "keviq-load-{}-{}",
        std::process::id(),
        targets.len()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let listen = SocketAddr::from(([127, 0, 0, 1], tsdb::free_port()));
    let mut child = spawn(targets, mode, &dir, vm, listen);
    let pid = child.id();
    let started = Instant::now();
    let cpu_start = cpu_seconds(pid);
    let (mut max_lag, mut max_buffered) = (0.0f64, 0.0f64);
    let mut last = String::new();
    // The rounds, then a few seconds for the last one to be written and sent.
    let run = Duration::from_secs(ROUNDS * INTERVAL_S + 5);
    while started.elapsed() < run {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let metrics = tokio::task::spawn_blocking(move || tsdb::get(listen, "/metrics"))
            .await
            .ok()
            .flatten();
        if let Some((200, text)) = metrics {
            max_lag = max_lag.max(sum(&text, "mona_telemetry_remote_lag_seconds"));
            max_buffered = max_buffered.max(sum(&text, "mona_telemetry_buffered_samples"));
            last = text;
        }
    }
    let cpu = cpu_seconds(pid) - cpu_start;
    let wall = started.elapsed().as_secs_f64();
    let rss = peak_rss_mib(pid);
    let figures = Figures {
        scraped: sum(&last, "mona_telemetry_samples_scraped_total"),
        stored: sum(&last, "mona_telemetry_samples_stored_total"),
        sent: sum(&last, "mona_telemetry_remote_samples_sent_total"),
        bytes: sum(&last, "mona_telemetry_remote_sent_bytes_total"),
        cpu,
        wall,
        rss,
        max_lag,
        max_buffered,
        dropped: sum(&last, "mona_telemetry_samples_dropped_total")
            + sum(&last, "mona_telemetry_remote_samples_dropped_total"),
        mean_scrape_s: sum(&last, "mona_telemetry_scrape_duration_seconds_sum")
            / sum(&last, "mona_telemetry_scrape_duration_seconds_count").max(1.0),
    };
    let _ = keviq_testkit::terminate(&mut child, Duration::from_secs(60));
    let _ = std::fs::remove_dir_all(&dir);
    figures
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(cost_of_scraping_storing_and_remote_writing());
}

async fn cost_of_scraping_storing_and_remote_writing() {
    let vm = Tsdb::start(Kind::VictoriaMetrics);
    let mut table = String::from(
        "| targets | mode | rounds × samples | CPU s per 1M samples | CPU use | peak RSS | bytes/sample on the wire | max remote lag | max write buffer | mean scrape |\n|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for count in [100, 500] {
        let addrs = targets(count).await;
        for mode in [Mode::StoreAndRemote, Mode::StoreOnly, Mode::RemoteOnly] {
            if count == 100 && mode == Mode::RemoteOnly {
                continue;
            }
            let f = measure(&addrs, mode, &vm).await;
            // Per sample taken all the way: stored (and sent), or sent without a store.
            let handled = if mode == Mode::RemoteOnly {
                f.sent
            } else {
                f.stored
            };
            let per_million = f.cpu / (handled / 1e6).max(1e-9);
            let wire = if f.sent > 0.0 {
                format!("{:.2}", f.bytes / f.sent)
            } else {
                "–".into()
            };
            let lag = if mode == Mode::StoreOnly {
                "–".into()
            } else {
                format!("{:.1} s", f.max_lag)
            };
            let rounds = (f.scraped / (count * SERIES) as f64).round();
            let row = format!(
                "| {count} | {mode:?} | {rounds:.0} × {:.0} | {per_million:.2} | {:.0}% | {:.0} MiB | {wire} | {lag} | {:.0} | {:.0} ms |\n",
                f.scraped / rounds.max(1.0),
                100.0 * f.cpu / f.wall,
                f.rss,
                f.max_buffered,
                f.mean_scrape_s * 1000.0,
            );
            eprintln!(
                "{row}  (scraped {}, stored {}, sent {}, dropped by the writer {})",
                f.scraped, f.stored, f.sent, f.dropped
            );
            table.push_str(&row);
        }
    }
    println!("\n{table}");
}
