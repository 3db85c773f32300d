//! The fleet's dashboard read back from a time-series database: the whole loopback
//! fleet runs, a second telemetry service (`fleet --service telemetry-service`, the
//! container entry point) scrapes its fifteen services without a local store
//! (`TELEMETRY_DATABASE_URL=none`), remote-writes to a real VictoriaMetrics started
//! from Debian's `victoria-metrics`, and answers its API and dashboard from PromQL
//! there (`TELEMETRY_QUERY_URL`).

use keviq_testkit::tsdb;

use std::collections::BTreeSet;
use std::net::{SocketAddr, TcpListener};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use keviq_testkit::{KillOnDrop, terminate};
use serde_json::Value;
use tsdb::{Kind, Tsdb, get};

const FLEET: [&str; 15] = keviq_telemetry::config::FLEET;

/// The fleet binary, which `cargo test` builds for this package's tests.
const FLEET_BIN: &str = env!("CARGO_BIN_EXE_fleet");

/// The first base port at or above `from` with fifteen free ports after it.
fn free_run_of_ports(from: u16) -> u16 {
    (from..from + 2000)
        .step_by(20)
        .find(|base| (*base..*base + 15).all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok()))
        .expect("fifteen free ports in a row")
}

fn get_json(addr: SocketAddr, path: &str) -> Option<Value> {
    match get(addr, path)? {
        (200, body) => serde_json::from_str(&body).ok(),
        _ => None,
    }
}

/// Retries `check` until it returns `Ok` or `within` has passed.
fn eventually<T>(what: &str, within: Duration, mut check: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + within;
    loop {
        match check() {
            Ok(value) => return value,
            Err(e) if Instant::now() > deadline => panic!("{what}: not within {within:?}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(300)),
        }
    }
}

#[test]
#[cfg_attr(
    not(feature = "system-tests"),
    ignore = "needs VictoriaMetrics: run with `--features system-tests` (scripts/test does)"
)]
fn the_dashboard_over_the_query_api_shows_the_fleet_up() {
    let dir = std::env::temp_dir().join(format!("keviq-fleet-rw-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let vm = Tsdb::start(Kind::VictoriaMetrics);

    let base = free_run_of_ports(25_000 + (std::process::id() % 200) as u16 * 20);
    let mut fleet = KillOnDrop(
        Command::new(FLEET_BIN)
            .args(["--base-port", &base.to_string(), "--rate", "30"])
            .args(["--scrape-interval", "1", "--database"])
            .arg(dir.join("telemetry.sqlite"))
            .arg("--log-file")
            .arg(dir.join("fleet.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the fleet"),
    );

    let targets: Vec<String> = (0..15).map(|i| format!("127.0.0.1:{}", base + i)).collect();
    let listen = SocketAddr::from(([127, 0, 0, 1], tsdb::free_port()));
    let mut telemetry = KillOnDrop(
        Command::new(FLEET_BIN)
            .args(["--service", "telemetry-service"])
            .env("KEVIQ_LISTEN", listen.to_string())
            .env("SCRAPE_TARGETS", targets.join(","))
            .env("SCRAPE_INTERVAL_SECONDS", "1")
            .env("TELEMETRY_DATABASE_URL", "none")
            .env("TELEMETRY_REMOTE_WRITE_URL", vm.write_url())
            .env("TELEMETRY_QUERY_URL", vm.query_url())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the forwarding telemetry service"),
    );

    // The targets, from `up` in VictoriaMetrics: fifteen, up, named after their job.
    let services = eventually(
        "15 services up over the query API",
        Duration::from_secs(45),
        || {
            let list = get_json(listen, "/api/v1/targets").ok_or("no answer")?;
            let entries = list.as_array().ok_or("not a list")?;
            let up: BTreeSet<String> = entries
                .iter()
                .filter(|t| t["up"] == true)
                .filter_map(|t| t["service"].as_str().map(str::to_owned))
                .collect();
            if up.len() == 15 && entries.len() == 15 {
                Ok(up)
            } else {
                Err(format!("{} of {} up: {up:?}", up.len(), entries.len()))
            }
        },
    );
    assert_eq!(
        services,
        FLEET
            .iter()
            .map(|s| (*s).to_owned())
            .collect::<BTreeSet<_>>()
    );

    // Rates and latency from PromQL, in the local store's shape.
    let gateway = eventually("the gateway's traffic", Duration::from_secs(30), || {
        let answer = get_json(listen, "/api/v1/services?window=60&history=1").ok_or("no answer")?;
        let list = answer["services"].as_array().ok_or("no services")?.clone();
        if list.len() != 15 || list.iter().any(|s| s["up"] != true) {
            return Err(format!("not all up: {answer}"));
        }
        let gateway = list
            .into_iter()
            .find(|s| s["service"] == "api-gateway")
            .ok_or("no api-gateway")?;
        if gateway["request_rate"].as_f64().unwrap_or(0.0) > 1.0 && gateway["p99_ms"].is_number() {
            Ok(gateway)
        } else {
            Err(format!("{gateway}"))
        }
    });
    assert_eq!(
        answer_keys(&gateway),
        [
            "target",
            "service",
            "up",
            "last_scrape",
            "request_rate",
            "error_rate",
            "p50_ms",
            "p99_ms",
            "agent_invocation_rate",
            "history",
        ]
    );
    // The same history as from the local store, through PromQL range queries.
    for series in ["request_rate", "error_rate", "p50_ms", "p99_ms"] {
        assert_eq!(
            gateway["history"][series].as_array().map(Vec::len),
            Some(60),
            "{series}: {gateway}"
        );
    }
    assert!(
        gateway["history"]["p99_ms"]
            .as_array()
            .is_some_and(|m| m.iter().any(Value::is_f64)),
        "{gateway}"
    );
    assert!(gateway["p50_ms"].as_f64().is_some_and(|p| p >= 0.0));

    // The dashboard itself, which reads the two routes above.
    let (status, page) = get(listen, "/").expect("dashboard");
    assert_eq!(status, 200);
    assert!(page.contains("/api/v1/services") && page.contains("/api/v1/targets"));

    assert!(terminate(&mut telemetry.0, Duration::from_secs(20)).success());
    assert!(terminate(&mut fleet.0, Duration::from_secs(20)).success());
    let _ = std::fs::remove_dir_all(&dir);
}

fn answer_keys(entry: &Value) -> Vec<String> {
    entry
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}
