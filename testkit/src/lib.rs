//! The test support every package of the workspace shares: real external programs
//! started on 127.0.0.1 for a test and stopped after it, and the fixtures around them.
//!
//! - [`postgres`]: a PostgreSQL server from the machine's binaries;
//! - [`tsdb`]: VictoriaMetrics and Prometheus as remote-write receivers and query APIs;
//! - [`cdp`]: headless Chromium over the DevTools protocol, for the dashboard;
//! - [`serve`]: a router served on a free port, the targets and receivers tests scrape;
//! - [`tools`]: `promtool` and Python's `prometheus_client`;
//! - [`process`]: child processes (SIGTERM, kill on drop).
//!
//! Tests that need a program behind these run with the `system-tests` feature of their
//! package (`scripts/test` and `.ci/run` switch it on). A missing program fails such a
//! test: a skipped check would hide a regression. Not published.

pub mod cdp;
pub mod postgres;
pub mod process;
pub mod serve;
pub mod tools;
pub mod tsdb;

pub use process::{KillOnDrop, run_with_stdin, terminate};
pub use tools::{FIXED_MS_NAMES, assert_promtool_accepts, python_samples};

/// The repository's root, for the files tests read there (`infra/`, `README.md`).
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The value of the environment variable `name` when it parses, else `default`: the
/// knobs of the benches (`SOAK_SECONDS=30`).
pub fn setting<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// An empty directory `keviq-{name}-{pid}` under the system's temporary directory
/// (emptied first if a killed run left it).
pub fn fresh_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("keviq-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}
