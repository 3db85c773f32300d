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
    let names: Vec<_> = keviq::services().iter().map(|s| (s.name, s.metrics_path)).collect();
    assert_eq!(
        names,
        [
            ("async-service", "/internal/metrics"),
            ("keviq-tests", "/metrics"),
            ("stateful-service", "/metrics"),
            ("sync-service", "/metrics"),
        ]
    );
}
