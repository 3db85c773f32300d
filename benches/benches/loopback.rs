//! Throughput over loopback: `wrk` against the same small router bare, with keviq's
//! full stack (`#[keviq::service]`), and with axum-prometheus plus tower-http's
//! request-id layers.
//!
//! Each stack is served in process on `127.0.0.1:0` by `axum::serve` on a
//! multi-thread tokio runtime with one worker thread (so `wrk` gets the other core
//! of a 2-core machine), then `wrk -t1 -c32 -d5s` runs against
//! `GET /api/v1/tasks/42` (after a 1 s warm-up run). Stacks run one after another,
//! in [`ROUNDS`] rounds, each on a fresh runtime; the table gives every round's
//! requests per second, the median, the median's ratio to the bare router's, and
//! the spread of the per-round ratios (each round's stack against the same round's
//! bare router, so a slow patch of the machine hits both). About 2 minutes in all
//! (`KEVIQ_LOOPBACK_ROUNDS` sets the rounds, default 5).
//!
//! The machine may be shared (builds, other benchmarks). During each measured run
//! the bench reads `/proc/stat` and the CPU time of this process and of `wrk`; CPU
//! time spent by anything else (plus steal time) is reported as `other`, as a share
//! of all CPU time of the run. A run where it exceeds [`MAX_OTHER`] is repeated
//! (at most [`MAX_RETRIES`] repeats per bench run), and marked `*` in the table
//! if it still does.
//!
//! No `tracing` subscriber is installed: keviq's `request` span is created but
//! disabled.
//!
//! Needs `wrk` on `PATH` (Debian: `apt-get install wrk`); exits with an error
//! without it. Traffic goes to 127.0.0.1 only.
//!
//! Run with `cargo bench --bench loopback`.

use std::io::Read;
use std::net::SocketAddr;
use std::process::{Command, ExitCode, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use axum_prometheus::PrometheusMetricLayer;
use axum_prometheus::metrics_exporter_prometheus::PrometheusHandle;
use tokio::runtime::Runtime;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

const PATH: &str = "/api/v1/tasks/42";
const TASK: &str = "task 42: done";
/// Rounds by default; `KEVIQ_LOOPBACK_ROUNDS` overrides.
const ROUNDS: usize = 5;
const CONNECTIONS: &str = "32";
const DURATION_S: u64 = 5;
const WARMUP_S: u64 = 1;
/// How long past its `-d` a `wrk` run may take before it is killed.
const WRK_GRACE: Duration = Duration::from_secs(10);
/// The share of CPU time other processes may take during a measured run.
const MAX_OTHER: f64 = 0.05;
/// Repeats of contaminated runs allowed in one bench run.
const MAX_RETRIES: usize = 6;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Stack {
    Bare,
    Keviq,
    AxumPrometheusRequestId,
}

impl Stack {
    const ALL: [Stack; 3] = [Stack::Bare, Stack::Keviq, Stack::AxumPrometheusRequestId];

    fn name(self) -> &'static str {
        match self {
            Stack::Bare => "bare",
            Stack::Keviq => "keviq",
            Stack::AxumPrometheusRequestId => "axum_prometheus_request_id",
        }
    }

    /// The router; axum-prometheus's `pair` needs a runtime context and may only run
    /// once per process, so its layer and handle are passed in.
    fn router(self, prometheus: &(PrometheusMetricLayer<'static>, PrometheusHandle)) -> Router {
        match self {
            Stack::Bare => routes(),
            Stack::Keviq => keviq_app(),
            Stack::AxumPrometheusRequestId => {
                let (layer, handle) = prometheus.clone();
                routes()
                    .route("/metrics", get(move || async move { handle.render() }))
                    .layer(layer)
                    .layer(PropagateRequestIdLayer::x_request_id())
                    .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            }
        }
    }
}

fn routes() -> Router {
    Router::new()
        .route("/api/v1/tasks", get(|| async { "[]" }))
        .route("/api/v1/tasks/{id}", get(|| async { TASK }))
        .route("/healthz", get(|| async { "ok" }))
}

#[keviq::service(name = "loopback-bench")]
fn keviq_app() -> Router {
    routes()
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// What one `wrk` run reported.
#[derive(Debug)]
struct WrkRun {
    requests_per_sec: f64,
    /// Lines about errors (`Socket errors`, `Non-2xx or 3xx responses`), if any.
    errors: Vec<String>,
    /// CPU time used by neither this process nor `wrk` (nor idle), as a share of
    /// all CPU time during the run; `None` without `/proc`.
    other: Option<f64>,
}

/// System-wide CPU time from `/proc/stat`: (busy including steal, all), in ticks.
fn system_cpu() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> = stat
        .lines()
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal (guest time is in user).
    let all: u64 = fields.iter().take(8).sum();
    let idle = fields.get(3)? + fields.get(4)?;
    Some((all - idle, all))
}

/// utime + stime of a process (all its threads) from `/proc/<pid>/stat`, in ticks.
fn process_cpu(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at field 3.
    let mut rest = stat.get(stat.rfind(')')? + 1..)?.split_whitespace();
    let utime: u64 = rest.nth(11)?.parse().ok()?;
    let stime: u64 = rest.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Runs `wrk` for `seconds` against `addr`, killing it if it overruns.
fn wrk(addr: SocketAddr, seconds: u64) -> Result<WrkRun, String> {
    let url = format!("http://{addr}{PATH}");
    assert!(addr.ip().is_loopback(), "traffic stays on loopback");
    let mut child = Command::new("wrk")
        .args(["-t1", "-c", CONNECTIONS, "-d", &format!("{seconds}s"), &url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                "`wrk` is not installed (Debian: `apt-get install -y wrk`)".to_owned()
            } else {
                format!("cannot start `wrk`: {e}")
            }
        })?;
    let wrk_pid = child.id().to_string();
    let start = (system_cpu(), process_cpu("self"));
    let mut wrk_cpu = None;
    let deadline = Instant::now() + Duration::from_secs(seconds) + WRK_GRACE;
    let status = loop {
        // Read before reaping: the last reading misses at most one poll interval.
        wrk_cpu = process_cpu(&wrk_pid).or(wrk_cpu);
        match child
            .try_wait()
            .map_err(|e| format!("waiting for wrk: {e}"))?
        {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("`wrk` ran past {seconds}s + {WRK_GRACE:?}; killed"));
            }
            None => thread::sleep(Duration::from_millis(10)),
        }
    };
    let other = match (start, (system_cpu(), process_cpu("self")), wrk_cpu) {
        ((Some((busy0, all0)), Some(self0)), (Some((busy1, all1)), Some(self1)), Some(wrk))
            if all1 > all0 =>
        {
            let ours = (self1 - self0) + wrk;
            Some((busy1 - busy0).saturating_sub(ours) as f64 / (all1 - all0) as f64)
        }
        _ => None,
    };
    // wrk's output is a few hundred bytes: the pipes never fill while it runs.
    let mut out = String::new();
    let mut err = String::new();
    if let Some(mut s) = child.stdout.take() {
        s.read_to_string(&mut out)
            .map_err(|e| format!("wrk stdout: {e}"))?;
    }
    if let Some(mut s) = child.stderr.take() {
        s.read_to_string(&mut err)
            .map_err(|e| format!("wrk stderr: {e}"))?;
    }
    if !status.success() {
        return Err(format!("`wrk` failed ({status}):\n{out}{err}"));
    }
    let requests_per_sec = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .ok_or_else(|| format!("no `Requests/sec:` in wrk's output:\n{out}{err}"))?;
    let errors = out
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("Socket errors") || l.starts_with("Non-2xx"))
        .map(str::to_owned)
        .collect();
    Ok(WrkRun {
        requests_per_sec,
        errors,
        other,
    })
}

/// Serves `stack` on a fresh runtime, warms it up, measures it, shuts it down.
fn measure(
    stack: Stack,
    prometheus: &(PrometheusMetricLayer<'static>, PrometheusHandle),
) -> Result<WrkRun, String> {
    let rt = runtime();
    let router = stack.router(prometheus);
    let listener = rt
        .block_on(tokio::net::TcpListener::bind(("127.0.0.1", 0)))
        .map_err(|e| format!("bind 127.0.0.1:0: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("local_addr: {e}"))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    let result = wrk(addr, WARMUP_S).and_then(|_| wrk(addr, DURATION_S));
    let _ = stop.send(());
    // wrk has closed its connections; give the server a moment, then drop the rest.
    let _ = rt.block_on(async { tokio::time::timeout(Duration::from_secs(2), server).await });
    rt.shutdown_timeout(Duration::from_secs(1));
    result
}

/// One stack's result in one round.
struct Measured {
    rps: f64,
    /// See [`WrkRun::other`].
    other: Option<f64>,
    /// Still over [`MAX_OTHER`] after the allowed repeats.
    contaminated: bool,
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; a libtest-style filter or `--list` is not
    // supported, so other arguments are ignored.
    if Command::new("wrk").arg("--version").output().is_err() {
        eprintln!(
            "error: `wrk` is not installed or not on PATH (Debian: `apt-get install -y wrk`)"
        );
        return ExitCode::FAILURE;
    }

    // The global recorder and upkeep task of axum-prometheus live on a runtime of
    // their own for the whole run (the upkeep wakes up every 5 s).
    let metrics_rt = runtime();
    let prometheus = {
        let _guard = metrics_rt.enter();
        PrometheusMetricLayer::pair()
    };

    let rounds = std::env::var("KEVIQ_LOOPBACK_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&r: &usize| r > 0)
        .unwrap_or(ROUNDS);
    println!(
        "wrk -t1 -c{CONNECTIONS} -d{DURATION_S}s http://127.0.0.1:PORT{PATH} (server: 1 tokio worker; {rounds} rounds)"
    );
    let mut results: Vec<(Stack, Vec<Measured>)> =
        Stack::ALL.iter().map(|&s| (s, Vec::new())).collect();
    let mut retries_left = MAX_RETRIES;
    for round in 1..=rounds {
        for (stack, runs) in &mut results {
            // Bounded: at most 1 + MAX_RETRIES attempts in the whole bench run.
            let run = loop {
                let run = match measure(*stack, &prometheus) {
                    Ok(run) => run,
                    Err(e) => {
                        eprintln!("error: {}: {e}", stack.name());
                        return ExitCode::FAILURE;
                    }
                };
                if !run.errors.is_empty() {
                    eprintln!(
                        "error: {} reported: {}",
                        stack.name(),
                        run.errors.join("; ")
                    );
                    return ExitCode::FAILURE;
                }
                let other = run.other.map_or(String::new(), |o| {
                    format!("  (other CPU {:.1}%)", o * 100.0)
                });
                println!(
                    "round {round} {:<28} {:>10.0} req/s{other}",
                    stack.name(),
                    run.requests_per_sec
                );
                let contaminated = run.other.is_some_and(|o| o > MAX_OTHER);
                if contaminated && retries_left > 0 {
                    retries_left -= 1;
                    println!("        other processes were busy; measuring again");
                    continue;
                }
                break Measured {
                    rps: run.requests_per_sec,
                    other: run.other,
                    contaminated,
                };
            };
            runs.push(run);
        }
    }

    let bare_runs: Vec<f64> = results[0].1.iter().map(|r| r.rps).collect();
    let bare = median(&bare_runs);
    println!();
    print!("{:<28}", "stack");
    for round in 1..=rounds {
        print!(" {:>12}", format!("round {round}"));
    }
    println!(
        " {:>12} {:>8} {:>13} {:>10}",
        "median", "ratio", "ratio spread", "max other"
    );
    let mut any_contaminated = false;
    for (stack, runs) in &results {
        print!("{:<28}", stack.name());
        for r in runs {
            any_contaminated |= r.contaminated;
            let mark = if r.contaminated { "*" } else { " " };
            print!(" {:>11.0}{mark}", r.rps);
        }
        let rps: Vec<f64> = runs.iter().map(|r| r.rps).collect();
        let m = median(&rps);
        let max_other = runs
            .iter()
            .filter_map(|r| r.other)
            .fold(None, |acc: Option<f64>, o| {
                Some(acc.map_or(o, |a| a.max(o)))
            });
        let max_other = max_other.map_or("n/a".to_owned(), |o| format!("{:.1}%", o * 100.0));
        // Per round, against the same round's bare router.
        let ratios: Vec<f64> = rps.iter().zip(&bare_runs).map(|(r, b)| r / b).collect();
        let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let spread = format!("{lo:.2}-{hi:.2}x");
        println!(" {m:>12.0} {:>7.2}x {spread:>13} {max_other:>10}", m / bare);
    }
    if any_contaminated {
        println!(
            "* other processes took more than {:.0}% of the CPU during this run",
            MAX_OTHER * 100.0
        );
    }

    // Sanity: both recorders saw the traffic. A `#[keviq::service]` records into
    // its own HTTP families, which its own registry renders.
    let text = keviq::axum::services()
        .iter()
        .find(|s| s.name == "loopback-bench")
        .and_then(|s| s.registry().ok())
        .map(|r| r.render(keviq::Format::Prometheus))
        .unwrap_or_default();
    if !text.contains(
        r#"mona_http_requests_total{method="GET",path="/api/v1/tasks/{id}",status="200"}"#,
    ) {
        eprintln!("error: keviq recorded no request");
        return ExitCode::FAILURE;
    }
    if !prometheus.1.render().contains("axum_http_requests_total") {
        eprintln!("error: axum-prometheus recorded no request");
        return ExitCode::FAILURE;
    }
    metrics_rt.shutdown_timeout(Duration::from_secs(1));
    ExitCode::SUCCESS
}
