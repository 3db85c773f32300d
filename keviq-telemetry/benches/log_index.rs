//! The log index on a large fleet log (not in CI): writes `LOG_GB` GiB (1 unless
//! set) of lines shaped like the fleet's (`RUST_LOG=info`: span lines and call
//! lines, about 60 lines a request over a dozen services), indexes it from the
//! start, then times lookups by request ID and by trace ID, and prints the
//! process's peak RSS and the lines the index holds.
//!
//! ```text
//! cargo bench -p keviq-telemetry --bench log_index
//! LOG_GB=0.25 cargo bench -p keviq-telemetry --bench log_index
//! ```

use std::io::{BufWriter, Write};
use std::time::{Duration, Instant};

use keviq_telemetry::logs::{LogIndex, LogLimits, Trace};

const SERVICES: [&str; 12] = [
    "api-gateway",
    "auth-service",
    "orchestrator",
    "agent-runtime",
    "model-gateway",
    "execution-service",
    "artifact-service",
    "event-store",
    "policy-service",
    "secret-broker",
    "workspace-service",
    "audit-service",
];

fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0)
        >> 10
}

/// Writes requests of 60 lines each until `bytes`; returns how many requests.
fn write_log(path: &std::path::Path, bytes: u64) -> u64 {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).expect("log file"));
    let mut written = 0u64;
    let mut request = 0u64;
    while written < bytes {
        let id = format!("{request:08x}-1d2e-4c1b-9d0a-55aa11bb22cc");
        let trace = format!(
            "{:032x}",
            0x4bf9_2f35_77b3_4da6_u128 << 64 | u128::from(request)
        );
        for line in 0..60u64 {
            let service = SERVICES[(line % 12) as usize];
            let span = format!("{:016x}", request << 8 | line);
            let text = if line % 2 == 0 {
                format!(
                    "{{\"duration_ms\":{:.3},\"kind\":\"server\",\"level\":\"INFO\",\"message\":\"span\",\"method\":\"POST\",\"parent_span_id\":\"{:016x}\",\"request_id\":\"{id}\",\"route\":\"/api/v1/work\",\"service\":\"{service}\",\"span_id\":\"{span}\",\"start_ms\":{},\"status\":200,\"target\":\"keviq::span\",\"timestamp\":\"2026-12-08T01:00:00.{:06}Z\",\"trace_id\":\"{trace}\"}}\n",
                    1.5 + line as f64,
                    request << 8 | line.saturating_sub(1),
                    1_796_000_000_000 + request,
                    line
                )
            } else {
                format!(
                    "{{\"level\":\"INFO\",\"message\":\"call\",\"peer\":\"policy-service\",\"method\":\"POST\",\"path\":\"/api/v1/decisions\",\"elapsed_ms\":2,\"request_id\":\"{id}\",\"service\":\"{service}\",\"span_id\":\"{span}\",\"target\":\"example_fleet::services\",\"timestamp\":\"2026-12-08T01:00:00.{:06}Z\",\"trace_id\":\"{trace}\"}}\n",
                    line
                )
            };
            out.write_all(text.as_bytes()).expect("write");
            written += text.len() as u64;
        }
        request += 1;
    }
    out.flush().expect("flush");
    request
}

fn main() {
    let gib: f64 = std::env::var("LOG_GB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1.0);
    let dir = std::env::temp_dir().join(format!("keviq-log-index-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("fleet.log");
    let began = Instant::now();
    let requests = write_log(&path, (gib * f64::from(1u32 << 30)) as u64);
    let size = std::fs::metadata(&path).map_or(0, |m| m.len());
    println!(
        "log: {size} bytes, {requests} requests of 60 lines, written in {:.1} s; RSS {} MiB",
        began.elapsed().as_secs_f64(),
        peak_rss_mib()
    );

    let index = LogIndex::new(vec![path.clone()]);
    let began = Instant::now();
    while !index.catch_up(Duration::from_secs(3600), LogLimits::DEFAULT.line_bytes) {}
    println!(
        "index: caught up in {:.1} s; {} lines held (bound {}); peak RSS {} MiB",
        began.elapsed().as_secs_f64(),
        index.indexed_lines(),
        keviq_telemetry::logs::MAX_INDEXED_LINES,
        peak_rss_mib()
    );

    // Lookups of requests still held: the newest, and some spread over what is held.
    let held = (index.indexed_lines() / 60) as u64;
    let mut times = Vec::new();
    for k in 0..20u64 {
        let request = requests - 1 - k * (held / 20).max(1);
        let id = format!("{request:08x}-1d2e-4c1b-9d0a-55aa11bb22cc");
        let began = Instant::now();
        let (lines, truncated) = index.request_lines(&id, LogLimits::DEFAULT);
        let trace = Trace::build(Some(id.clone()), lines, truncated);
        times.push(began.elapsed());
        assert_eq!(trace.lines.len(), 60, "{id}");
        assert_eq!(trace.spans.len(), 30, "{id}");
    }
    times.sort();
    println!(
        "lookup by request ID (60 lines, 30 spans), 20 requests: median {:.2} ms, max {:.2} ms",
        times[10].as_secs_f64() * 1e3,
        times[19].as_secs_f64() * 1e3
    );
    let trace = format!(
        "{:032x}",
        0x4bf9_2f35_77b3_4da6_u128 << 64 | u128::from(requests - 1)
    );
    let began = Instant::now();
    let (lines, _) = index.trace_lines(&trace, LogLimits::DEFAULT);
    println!(
        "lookup by trace ID: {} lines in {:.2} ms; peak RSS {} MiB",
        lines.len(),
        began.elapsed().as_secs_f64() * 1e3,
        peak_rss_mib()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
