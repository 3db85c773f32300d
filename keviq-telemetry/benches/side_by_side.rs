//! keviq-telemetry on SQLite, keviq-telemetry on PostgreSQL and Prometheus, one
//! after another on the same target of 100,000 counter series scraped every second
//! (not in CI): samples stored a second, CPU-seconds per million samples stored,
//! peak resident memory and bytes on disk per sample, one table row each.
//!
//! ```text
//! cargo bench -p keviq-telemetry --bench side_by_side                 # 60 s each
//! SIDE_SECONDS=30 SIDE_ROUNDS=3 cargo bench -p keviq-telemetry --bench side_by_side
//! ```
//!
//! What each figure counts:
//! - stored: keviq's `mona_telemetry_samples_stored_total`; Prometheus's
//!   `prometheus_tsdb_head_samples_appended_total` (its own scrape's five series
//!   included), over the measured seconds after the first scrape;
//! - CPU: user and system time of the process over the same seconds; for
//!   PostgreSQL, of every `postgres` process of the machine too (the server's);
//! - peak RSS: the process's `VmHWM` (PostgreSQL's server processes are not in it);
//! - disk: after a SIGTERM (keviq drains what it holds), the SQLite file with WAL
//!   and shared memory; PostgreSQL's `telemetry_core` tables with TOAST and
//!   indexes (its WAL, recycled by the server, is printed apart); Prometheus's
//!   whole data directory (head chunks and WAL). Divided by the samples in the
//!   store (keviq) or appended (Prometheus).

use keviq_testkit::postgres::Postgres;
use keviq_testkit::process::{
    cpu_ticks, cpu_ticks_of_all, status_kib, terminate, ticks_per_second,
};
use keviq_testkit::serve::counter_target;
use keviq_testkit::tsdb::{free_port, get};
use keviq_testkit::{fresh_dir, setting};

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use keviq_telemetry::store::Store;

/// What one contender did over the measured seconds.
struct Figures {
    name: &'static str,
    stored: u64,
    seconds: f64,
    cpu_seconds: f64,
    peak_rss_mib: u64,
    disk_bytes: u64,
    samples_on_disk: u64,
    note: String,
}

impl Figures {
    fn row(&self) -> String {
        let per_second = self.stored as f64 / self.seconds;
        format!(
            "| {} | {:.0} | {:.2} | {} | {:.1} | {} |",
            self.name,
            per_second,
            self.cpu_seconds / (self.stored.max(1) as f64 / 1e6),
            self.peak_rss_mib,
            self.disk_bytes as f64 / self.samples_on_disk.max(1) as f64,
            self.note
        )
    }
}

/// The sum of every sample of `name` (any labels) in an exposition.
fn metric_sum(text: &str, name: &str) -> u64 {
    text.lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

fn scrape_metric(addr: SocketAddr, name: &str) -> u64 {
    get(addr, "/metrics").map_or(0, |(_, text)| metric_sum(&text, name))
}

/// Waits until `addr`'s `name` is above zero (the first scrape is stored).
fn wait_for_first(addr: SocketAddr, name: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while scrape_metric(addr, name) == 0 {
        assert!(Instant::now() < deadline, "{name} stayed 0 for 60 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .map(|e| match e.metadata() {
                Ok(m) if m.is_dir() => dir_bytes(&e.path()),
                Ok(m) => m.len(),
                Err(_) => 0,
            })
            .sum()
    })
}

fn spawn_keviq(target: SocketAddr, url: &str, listen: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_keviq-telemetry"))
        .env_clear()
        .env("SCRAPE_TARGETS", target.to_string())
        .env("SCRAPE_INTERVAL_SECONDS", "1")
        .env("TELEMETRY_SAMPLE_LIMIT", "0")
        .env("TELEMETRY_DRAIN_SECONDS", "60")
        .env("TELEMETRY_DATABASE_URL", url)
        .env("KEVIQ_LISTEN", format!("127.0.0.1:{listen}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start keviq-telemetry")
}

/// keviq-telemetry on the store at `url`; `server_cpu` reads the database
/// server's CPU ticks (0 for SQLite).
async fn keviq(
    name: &'static str,
    target: SocketAddr,
    url: &str,
    seconds: u64,
    server_cpu: impl Fn() -> u64,
    disk: impl AsyncFnOnce(&Store) -> (u64, String),
) -> Figures {
    let listen = free_port();
    let addr = SocketAddr::from(([127, 0, 0, 1], listen));
    let mut child = spawn_keviq(target, url, listen);
    let stored = "mona_telemetry_samples_stored_total";
    wait_for_first(addr, stored);
    let (stored0, cpu0, server0) = (
        scrape_metric(addr, stored),
        cpu_ticks(child.id(), false).unwrap_or(0),
        server_cpu(),
    );
    let began = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let (stored1, cpu1, server1) = (
        scrape_metric(addr, stored),
        cpu_ticks(child.id(), false).unwrap_or(0),
        server_cpu(),
    );
    let elapsed = began.elapsed().as_secs_f64();
    let dropped = scrape_metric(addr, "mona_telemetry_samples_dropped_total");
    let peak = status_kib(child.id(), "VmHWM:") >> 10;
    terminate(&mut child, Duration::from_secs(90));
    let store = Store::connect(url).await.expect("store");
    let rows = u64::try_from(store.count().await.expect("count")).unwrap_or(0);
    let (disk_bytes, disk_note) = disk(&store).await;
    Figures {
        name,
        stored: stored1 - stored0,
        seconds: elapsed,
        cpu_seconds: ((cpu1 - cpu0) + (server1 - server0)) as f64 / ticks_per_second() as f64,
        peak_rss_mib: peak,
        disk_bytes,
        samples_on_disk: rows,
        note: format!("{dropped} dropped; {rows} samples in the store{disk_note}"),
    }
}

/// Prometheus scraping `target` (of `series` series) for `seconds`.
fn prometheus(target: SocketAddr, series: u64, seconds: u64) -> Figures {
    let dir = fresh_dir("side-prometheus");
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: soak\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .expect("config");
    let listen = free_port();
    let addr = SocketAddr::from(([127, 0, 0, 1], listen));
    let data = dir.join("data");
    let mut child = Command::new("/usr/bin/prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{listen}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start Debian's prometheus (apt-get install prometheus)");
    let appended = "prometheus_tsdb_head_samples_appended_total";
    // Its own start-up appends nothing; the first scrape of the target `series`.
    let deadline = Instant::now() + Duration::from_secs(60);
    while scrape_metric(addr, appended) < series {
        assert!(
            Instant::now() < deadline,
            "Prometheus appended nothing for 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (stored0, cpu0) = (
        scrape_metric(addr, appended),
        cpu_ticks(child.id(), false).unwrap_or(0),
    );
    let began = Instant::now();
    std::thread::sleep(Duration::from_secs(seconds));
    let (stored1, cpu1) = (
        scrape_metric(addr, appended),
        cpu_ticks(child.id(), false).unwrap_or(0),
    );
    let elapsed = began.elapsed().as_secs_f64();
    let peak = status_kib(child.id(), "VmHWM:") >> 10;
    terminate(&mut child, Duration::from_secs(60));
    let disk = dir_bytes(&data);
    let _ = std::fs::remove_dir_all(&dir);
    Figures {
        name: "Prometheus 2.42",
        stored: stored1 - stored0,
        seconds: elapsed,
        cpu_seconds: (cpu1 - cpu0) as f64 / ticks_per_second() as f64,
        peak_rss_mib: peak,
        disk_bytes: disk,
        samples_on_disk: stored1,
        note: format!("{stored1} samples appended in all; data directory {disk} bytes"),
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let series = setting("SIDE_SERIES", 100_000);
        let seconds = setting("SIDE_SECONDS", 60);
        let target = counter_target(series).await;
        println!("target: {series} counter series, scraped every second; {seconds} s each\n");
        println!(
            "| store | samples/s stored | CPU-s per M samples | peak RSS MiB | bytes a sample on disk | |"
        );
        println!("|---|---|---|---|---|---|");
        for _ in 0..setting("SIDE_ROUNDS", 1) {
            let dir = fresh_dir("side-sqlite");
            let db = dir.join("t.sqlite");
            let sqlite = keviq(
                "keviq-telemetry, SQLite",
                target,
                &format!("sqlite://{}", db.display()),
                seconds,
                || 0,
                async |_| {
                    let bytes = ["", "-wal", "-shm"]
                        .iter()
                        .filter_map(|s| std::fs::metadata(format!("{}{s}", db.display())).ok())
                        .map(|m| m.len())
                        .sum();
                    (bytes, String::new())
                },
            )
            .await;
            println!("{}", sqlite.row());
            let _ = std::fs::remove_dir_all(&dir);

            let pg = Postgres::start();
            let postgres = keviq(
                "keviq-telemetry, PostgreSQL 15",
                target,
                &pg.url(),
                seconds,
                || cpu_ticks_of_all("postgres"),
                async |store: &Store| {
                    let tables = store
                        .bounded_scalar(
                            "SELECT CAST(SUM(pg_total_relation_size(c.oid)) AS BIGINT)
                             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                             WHERE n.nspname = 'telemetry_core' AND c.relkind = 'r'",
                        )
                        .await
                        .unwrap_or(0);
                    let wal = store
                        .bounded_scalar(
                            "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM pg_ls_waldir()",
                        )
                        .await
                        .unwrap_or(-1);
                    (
                        u64::try_from(tables).unwrap_or(0),
                        format!("; WAL directory {wal} bytes"),
                    )
                },
            )
            .await;
            println!("{}", postgres.row());
            drop(pg);

            println!("{}", prometheus(target, series, seconds).row());
        }
    });
}
