//! The attribute works on sync and async functions, with parameters, an early
//! `return`, and a router with state; the functions stay callable.
#![forbid(unsafe_code)]

use axum::Router;
use axum::extract::State;
use axum::routing::get;

#[keviq::service(name = "sync-service")]
fn sync_app(greeting: &'static str) -> Router {
    if greeting.is_empty() {
        return Router::new();
    }
    Router::new().route("/", get(move || async move { greeting }))
}

#[keviq::service(name = "async-service", metrics_path = "/internal/metrics")]
async fn async_app() -> Router {
    Router::new()
}

/// No `name`: the package's name (trybuild's test crate is `keviq-tests`).
#[keviq::service]
fn default_named() -> Router {
    Router::new()
}

keviq::metric! {
    /// Owned by `owning-service`.
    pub static JOBS: JobMetrics {
        /// Jobs run
        runs: Counter = "test_jobs_runs_total",
        /// Jobs failed, by queue
        failures: Counter(queue: &str) = "test_jobs_failures_total",
    }
    /// Owned too: a single static, and a labeled one.
    static QUEUED: Gauge = "test_jobs_queued";
    /// By queue
    static RETRIES: Counter(queue: &str) = "test_jobs_retries_total";
}

mod nested {
    keviq::metric! {
        /// Reached by path
        pub static LATE: Counter = "test_jobs_late_total";
    }
}

#[keviq::service(name = "owning-service", metrics = [JOBS, QUEUED, RETRIES, nested::LATE])]
fn owning_app() -> Router {
    JOBS.runs.inc();
    JOBS.failures.labels("default").inc();
    QUEUED.set(1);
    RETRIES.labels("default").inc();
    nested::LATE.inc();
    Router::new()
}

#[derive(Clone)]
struct AppState(u32);

#[keviq::service(name = "stateful-service")]
fn stateful_app() -> Router<AppState> {
    Router::new().route("/n", get(|State(s): State<AppState>| async move { s.0.to_string() }))
}

fn main() {
    let _: Router = sync_app("hello");
    let _: Router = stateful_app().with_state(AppState(1));
    let _ = async_app();
    let _: Router = default_named();
    let _: Router = owning_app();
    let names: Vec<_> = keviq::axum::services().iter().map(|s| (s.name, s.metrics_path)).collect();
    assert_eq!(
        names,
        [
            ("async-service", "/internal/metrics"),
            ("keviq-tests", "/metrics"),
            ("owning-service", "/metrics"),
            ("stateful-service", "/metrics"),
            ("sync-service", "/metrics"),
        ]
    );
    let owner = keviq::axum::services().iter().find(|s| s.name == "owning-service").unwrap();
    let own = owner.registry().unwrap().render(keviq::Format::Prometheus);
    let other = keviq::axum::services()[0].registry().unwrap().render(keviq::Format::Prometheus);
    for name in ["test_jobs_runs_total", "test_jobs_failures_total", "test_jobs_queued", "test_jobs_retries_total", "test_jobs_late_total"] {
        assert!(own.contains(&format!("# TYPE {name}")), "{own}");
        assert!(!other.contains(name), "{other}");
    }
}
