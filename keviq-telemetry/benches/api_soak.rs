//! The API's bounds on a large store, measured (not in CI): builds an SQLite store of
//! 10 M rows with SQL, starts the telemetry binary on it, runs the two queries of
//! issue #10 (a `label=` sample query, and the dashboard's
//! `/api/v1/services?window=300&history=1`) one at a time and four at once, and
//! prints each answer's time and the serving process's peak RSS (`VmHWM`).
//!
//! ```text
//! cargo bench -p keviq-telemetry --bench api_soak            # 10 M rows
//! SOAK_ROWS=2000000 cargo bench -p keviq-telemetry --bench api_soak
//! SOAK_KEEP=1 cargo bench -p keviq-telemetry --bench api_soak   # keeps the store
//! ```
//!
//! The store mirrors the issue's: 15 targets scraped every 2 s, each scrape holding
//! 30 paths' request and error counters, their latency histogram (30 × 17 bucket
//! rows: 1.15 M bucket rows in a 5-minute window), `up`, and a metric `x` with a
//! label `i` of 20 values; the last scrape is now. Rows are written scrape by scrape,
//! as the writer does, into a bare table; the service's migrations then build the
//! indexes.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sqlx::{Connection, Executor, SqliteConnection};

/// Targets of the generated fleet: `127.0.0.1:1` … (nothing listens there, so the
/// service's own scrapes fail at once and add three rows each).
const TARGETS: i64 = 15;
/// Paths per target.
const PATHS: i64 = 30;
/// Bucket bounds of the latency histogram, `+Inf` last.
const BOUNDS: [&str; 17] = [
    "1", "2", "5", "10", "20", "50", "100", "200", "300", "500", "750", "1000", "2000", "5000",
    "10000", "30000", "+Inf",
];
/// Values of `x`'s label `i`.
const X_SERIES: i64 = 20;
/// Scrape interval of the generated data.
const INTERVAL_MS: i64 = 2_000;

/// The two queries of the issue.
const QUERIES: [(&str, &str); 2] = [
    (
        "samples label=i=5",
        "/api/v1/samples?metric=x&since=0&label=i=5",
    ),
    (
        "services history=1",
        "/api/v1/services?window=300&history=1",
    ),
];

fn rows_per_scrape() -> i64 {
    PATHS * (2 + BOUNDS.len() as i64) + 1 + X_SERIES
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The rows of scrape `n` of every target, at `ts`: one `INSERT … SELECT`.
fn scrape_sql(n: i64, ts: i64) -> String {
    let bounds = BOUNDS
        .iter()
        .enumerate()
        .map(|(j, b)| format!("({j}, '{b}')"))
        .collect::<Vec<_>>()
        .join(", ");
    let last = BOUNDS.len() - 1;
    // Target 3 restarts every 20 minutes (its counters drop to zero).
    format!(
        "WITH RECURSIVE
           t(t) AS (SELECT 1 UNION ALL SELECT t + 1 FROM t WHERE t < {TARGETS}),
           p(p) AS (SELECT 0 UNION ALL SELECT p + 1 FROM p WHERE p + 1 < {PATHS}),
           i(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM i WHERE i + 1 < {X_SERIES}),
           b(j, le) AS (VALUES {bounds}),
           c(t, n) AS (SELECT t, CASE WHEN t = 3 THEN {n} % 600 ELSE {n} END FROM t)
         INSERT INTO metric_samples (target, metric, labels, value, ts_ms)
         SELECT target, metric, labels, value, {ts} FROM (
           SELECT c.t AS t, 0 AS k, 0 AS p, 0 AS j, '127.0.0.1:' || c.t AS target,
                  'mona_http_requests_total' AS metric,
                  '{{\"method\":\"GET\",\"path\":\"/p/' || p || '\",\"status\":\"200\"}}' AS labels,
                  CAST(c.n * (p + 1) AS REAL) AS value
           FROM c, p
           UNION ALL
           SELECT c.t, 1, p, 0, '127.0.0.1:' || c.t, 'mona_http_request_errors_total',
                  '{{\"method\":\"GET\",\"path\":\"/p/' || p || '\"}}',
                  CAST(c.n * (p % 3) AS REAL)
           FROM c, p
           UNION ALL
           SELECT c.t, 2, p, j, '127.0.0.1:' || c.t, 'mona_http_request_duration_ms_bucket',
                  '{{\"le\":\"' || le || '\",\"method\":\"GET\",\"path\":\"/p/' || p || '\"}}',
                  CAST(c.n * (p + 1) * (j + 1) / {} AS REAL)
           FROM c, p, b
           UNION ALL
           SELECT c.t, 3, 0, 0, '127.0.0.1:' || c.t, 'up', '{{}}', 1.0 FROM c
           UNION ALL
           SELECT c.t, 4, i, 0, '127.0.0.1:' || c.t, 'x', '{{\"i\":\"' || i || '\"}}',
                  CAST(c.n + i AS REAL)
           FROM c, i)
         ORDER BY t, k, p, j",
        last + 1
    )
}

/// Builds the store at `path`: `rows` rows ending now, then the service's schema.
async fn build_store(path: &Path, rows: i64) {
    let _ = std::fs::remove_file(path);
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let mut conn = SqliteConnection::connect(&url).await.expect("sqlite file");
    conn.execute(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF;
         CREATE TABLE metric_samples (target TEXT NOT NULL, metric TEXT NOT NULL,
             labels TEXT NOT NULL, value REAL, ts_ms INTEGER NOT NULL)",
    )
    .await
    .expect("table");
    let scrapes = rows / (TARGETS * rows_per_scrape());
    let start = now_ms() - scrapes * INTERVAL_MS;
    let began = Instant::now();
    conn.execute("BEGIN").await.expect("begin");
    for n in 0..scrapes {
        conn.execute(scrape_sql(n, start + (n + 1) * INTERVAL_MS).as_str())
            .await
            .expect("scrape rows");
    }
    conn.execute("COMMIT").await.expect("commit");
    conn.close().await.expect("close");
    println!(
        "store: {} rows ({scrapes} scrapes of {TARGETS} targets, {} rows each) written in {:.1} s",
        scrapes * TARGETS * rows_per_scrape(),
        rows_per_scrape(),
        began.elapsed().as_secs_f64()
    );
    let began = Instant::now();
    keviq_telemetry::store::Store::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("migrations");
    println!(
        "store: indexes built by the migrations in {:.1} s",
        began.elapsed().as_secs_f64()
    );
}

/// The serving process, stopped when dropped.
struct Service {
    child: Child,
    base: String,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn start_service(path: &Path) -> Service {
    let port = free_port();
    let targets: Vec<String> = (1..=TARGETS).map(|t| format!("127.0.0.1:{t}")).collect();
    let child = Command::new(env!("CARGO_BIN_EXE_keviq-telemetry"))
        .env(
            "TELEMETRY_DATABASE_URL",
            format!("sqlite://{}", path.display()),
        )
        .env("SCRAPE_TARGETS", targets.join(","))
        .env("SCRAPE_INTERVAL_SECONDS", "3600")
        .env("KEVIQ_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start keviq-telemetry");
    let service = Service {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while get(&format!("{}/api/v1/targets", service.base)).0 != 200 {
        assert!(Instant::now() < deadline, "the service did not answer");
        std::thread::sleep(Duration::from_millis(100));
    }
    service
}

/// `(status, seconds, bytes, truncated header)` of a GET, by curl.
fn get(url: &str) -> (u16, f64, u64, String) {
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-D",
            "-",
            "-w",
            "%{http_code} %{time_total} %{size_download}",
            url,
        ])
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let truncated = text
        .lines()
        .find_map(|l| l.strip_prefix("x-truncated: "))
        .unwrap_or("-")
        .trim()
        .to_owned();
    let last = text.lines().last().unwrap_or_default();
    let mut parts = last.split(' ');
    let status = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let seconds = parts
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN);
    let bytes = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, seconds, bytes, truncated)
}

/// A `kB` line of `/proc/<pid>/status` (`VmHWM`, `VmRSS`), in MB.
fn status_mb(pid: u32, field: &str) -> f64 {
    let mut text = String::new();
    std::fs::File::open(format!("/proc/{pid}/status"))
        .and_then(|mut f| f.read_to_string(&mut text))
        .expect("proc status");
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Resets the peak RSS, so `VmHWM` is the peak of what follows.
fn reset_peak(pid: u32) {
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

fn run(service: &Service, name: &str, path: &str, concurrent: usize) {
    let pid = service.child.id();
    reset_peak(pid);
    let url = format!("{}{path}", service.base);
    let began = Instant::now();
    let answers: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..concurrent).map(|_| s.spawn(|| get(&url))).collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("join"))
            .collect()
    });
    let wall = began.elapsed().as_secs_f64();
    for (status, seconds, bytes, truncated) in &answers {
        println!(
            "{name:<20} x{concurrent}: status {status} in {seconds:.3} s, {bytes} bytes, x-truncated {truncated}"
        );
    }
    println!(
        "{name:<20} x{concurrent}: all answered in {wall:.3} s; peak RSS {:.1} MB (RSS now {:.1} MB)",
        status_mb(pid, "VmHWM:"),
        status_mb(pid, "VmRSS:")
    );
}

fn main() {
    // `cargo bench` passes `--bench`; this measures, whatever the arguments.
    let rows: i64 = std::env::var("SOAK_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("api-soak");
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("soak.sqlite");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(build_store(&path, rows));

    let service = start_service(&path);
    let pid = service.child.id();
    println!(
        "service: pid {pid}, RSS at start {:.1} MB",
        status_mb(pid, "VmRSS:")
    );
    for (name, path) in QUERIES {
        // A first answer warms the page cache; the figures are the later ones.
        let _ = get(&format!("{}{path}", service.base));
        run(&service, name, path, 1);
        run(&service, name, path, 1);
        run(&service, name, path, 4);
    }
    let extra = [
        (
            "samples limit=cap",
            "/api/v1/samples?metric=x&since=0&limit=50000",
        ),
        (
            "samples no match",
            "/api/v1/samples?metric=x&since=0&label=i=none",
        ),
        ("services day", "/api/v1/services?window=86400&history=1"),
    ];
    for (name, path) in extra {
        run(&service, name, path, 1);
        run(&service, name, path, 4);
    }
    // `SOAK_KEEP=1` keeps the store, to look at its plans.
    if std::env::var_os("SOAK_KEEP").is_none() {
        drop(service);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}
