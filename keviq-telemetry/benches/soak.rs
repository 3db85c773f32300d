//! The soak of issue 10 (not part of the test suite): the release binary scrapes one
//! target of 100,000 distinct series every second into SQLite for two minutes, with
//! the write buffer bounded (`TELEMETRY_BUFFER_BYTES`, 64 MiB here). Every five
//! seconds it prints the process's resident memory and its own counters; at the end
//! it stops the process with SIGTERM and checks that every sample received is stored
//! or counted as dropped. Three shorter runs are killed with SIGKILL right after
//! reading the service's gauges, and compare what was lost with the buffer gauge.
//!
//! ```text
//! cargo bench -p keviq-telemetry --bench soak
//! SOAK_SERIES=990000 SOAK_SECONDS=30 cargo bench -p keviq-telemetry --bench soak
//! SOAK_BUFFER_MIB=256 SOAK_SECONDS=60 cargo bench -p keviq-telemetry --bench soak
//! ```

use keviq_testkit::process::status_kib;
use keviq_testkit::serve::counter_target;
use keviq_testkit::tsdb;
use keviq_testkit::{fresh_dir, setting};

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The bound the soak configures: `SOAK_BUFFER_MIB` MiB, 64 unless set (the
/// service's own default is 256).
fn buffer_bytes() -> u64 {
    setting("SOAK_BUFFER_MIB", 64) << 20
}

fn spawn(target: SocketAddr, db: &Path, listen: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_keviq-telemetry"))
        .env_clear()
        .env("SCRAPE_TARGETS", target.to_string())
        .env("SCRAPE_INTERVAL_SECONDS", "1")
        .env("TELEMETRY_SAMPLE_LIMIT", "0")
        .env("TELEMETRY_BUFFER_BYTES", buffer_bytes().to_string())
        .env("TELEMETRY_DRAIN_SECONDS", "15")
        .env(
            "TELEMETRY_DATABASE_URL",
            format!("sqlite://{}", db.display()),
        )
        .env("KEVIQ_LISTEN", format!("127.0.0.1:{listen}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start keviq-telemetry")
}

/// The service's own counters and gauges.
#[derive(Debug, Default, Clone, Copy)]
struct Counters {
    samples_in: u64,
    stored: u64,
    dropped: u64,
    buffered: u64,
    buffered_bytes: u64,
}

fn counters(listen: u16) -> Counters {
    let addr = SocketAddr::from(([127, 0, 0, 1], listen));
    let Some((200, text)) = tsdb::get(addr, "/metrics") else {
        return Counters::default();
    };
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0) as u64
    };
    Counters {
        samples_in: value("mona_telemetry_samples_in_total"),
        stored: value("mona_telemetry_samples_stored_total"),
        dropped: value("mona_telemetry_samples_dropped_total"),
        buffered: value("mona_telemetry_buffered_samples"),
        buffered_bytes: value("mona_telemetry_buffered_bytes"),
    }
}

async fn rows(db: &Path) -> u64 {
    match keviq_telemetry::store::Store::connect(&format!("sqlite://{}", db.display())).await {
        Ok(store) => store.count().await.map_or(0, |n| n as u64),
        Err(_) => 0,
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(soak());
}

async fn soak() {
    let series = setting("SOAK_SERIES", 100_000);
    let seconds = setting("SOAK_SECONDS", 120);
    let addr = counter_target(series).await;
    println!(
        "target: {series} series; buffer bound {} MiB; {seconds} s at a 1 s interval into SQLite",
        buffer_bytes() >> 20
    );

    // SIGTERM after the soak.
    let dir = fresh_dir("soak-term");
    let db = dir.join("t.sqlite");
    let listen = tsdb::free_port();
    let mut child = spawn(addr, &db, listen);
    let started = Instant::now();
    println!("| s | RSS MiB | received | stored | dropped | buffered samples | buffered MiB |");
    println!("|---|---|---|---|---|---|---|");
    while started.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let c = counters(listen);
        println!(
            "| {} | {} | {} | {} | {} | {} | {:.1} |",
            started.elapsed().as_secs(),
            status_kib(child.id(), "VmRSS:") >> 10,
            c.samples_in,
            c.stored,
            c.dropped,
            c.buffered,
            c.buffered_bytes as f64 / f64::from(1 << 20)
        );
    }
    let peak = status_kib(child.id(), "VmHWM:") >> 10;
    let stop = Instant::now();
    let status = keviq_testkit::terminate(&mut child, Duration::from_secs(60));
    let mut log = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = std::io::Read::read_to_string(&mut out, &mut log);
    }
    let closing = log
        .lines()
        .filter(|l| l.contains("telemetry service stopped") || l.contains("shutdown"))
        .collect::<Vec<_>>()
        .join("\n");
    let stored = rows(&db).await;
    // The database file with its WAL and shared memory: what the store costs on disk.
    let disk: u64 = ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| std::fs::metadata(format!("{}{suffix}", db.display())).ok())
        .map(|m| m.len())
        .sum();
    println!(
        "SIGTERM: exit {status} after {:.1} s; peak RSS {peak} MiB (bound {} MiB)\n{closing}\nrows in the store: {stored}; on disk {disk} bytes, {:.1} bytes a sample",
        stop.elapsed().as_secs_f64(),
        buffer_bytes() >> 20,
        disk as f64 / stored.max(1) as f64
    );
    let _ = std::fs::remove_dir_all(&dir);

    // SIGKILL with the writer behind, right after reading the gauges (a scrape
    // handed over in between would be lost beyond them), three times.
    for kill in 1..=3 {
        let dir = fresh_dir("soak-kill");
        let db = dir.join("t.sqlite");
        let listen = tsdb::free_port();
        let mut child = spawn(addr, &db, listen);
        tokio::time::sleep(Duration::from_millis(10_000 + 700 * kill)).await;
        let c = counters(listen);
        let _ = child.kill();
        let _ = child.wait();
        let stored = rows(&db).await;
        println!(
            "SIGKILL {kill}: received {}, dropped {}, in the store {stored}: lost {} with the buffer gauge at {}",
            c.samples_in,
            c.dropped,
            c.samples_in.saturating_sub(c.dropped + stored),
            c.buffered
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
