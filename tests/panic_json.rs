//! With `keviq::logging::init`, a handler's panic is one JSON log line (message,
//! location, backtrace, the request's IDs) and nothing on stderr, while the service
//! still answers and counts a 500.
//!
//! The hook and the subscriber are process-wide, so the scenario runs in a child
//! process: this test binary again, running only `child_scenario` with
//! `KEVIQ_PANIC_JSON_CHILD` set. Its stdout holds the log lines (and libtest's own
//! lines, which are not JSON); its stderr must stay empty.

use std::process::Command;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

const CHILD: &str = "KEVIQ_PANIC_JSON_CHILD";
const REQUEST_ID: &str = "panic-req-1";
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

#[allow(clippy::unused_async)]
async fn boom() -> &'static str {
    let items: Vec<u32> = Vec::new();
    panic!("handler bug: {} items", items.len())
}

#[keviq::service(name = "panic-json")]
fn app() -> Router {
    Router::new().route("/boom", get(boom))
}

/// The child's side; does nothing in a normal run.
#[test]
fn child_scenario() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    keviq::logging::init("panic-json").expect("logging");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let res = app()
            .oneshot(
                Request::get("/boom")
                    .header("x-request-id", REQUEST_ID)
                    .header("traceparent", TRACEPARENT)
                    .body(Body::empty())
                    .expect("a request"),
            )
            .await
            .expect("infallible");
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(res.headers()["x-request-id"], REQUEST_ID);
        let res = app()
            .oneshot(
                Request::get("/metrics")
                    .body(Body::empty())
                    .expect("a request"),
            )
            .await
            .expect("infallible");
        let text = res.into_body().collect().await.expect("a body").to_bytes();
        let text = String::from_utf8_lossy(&text);
        assert!(
            text.contains(
                "mona_http_requests_total{method=\"GET\",path=\"/boom\",status=\"500\"} 1\n"
            ),
            "the panic is counted as a 500: {text}"
        );
        assert!(
            text.contains("mona_http_request_errors_total{method=\"GET\",path=\"/boom\"} 1\n"),
            "{text}"
        );
    });
}

#[test]
fn a_panic_is_one_json_line_with_the_request_ids_and_nothing_on_stderr() {
    let exe = std::env::current_exe().expect("the test binary");
    let out = Command::new(exe)
        .args([
            "child_scenario",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env("RUST_LOG", "info")
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "child failed: {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    assert_eq!(stderr, "", "nothing in plain text on stderr");
    assert!(
        !stdout.contains("panicked at"),
        "no plain-text panic report: {stdout}"
    );

    // libtest writes `test child_scenario ... ` before the test runs, so a log line
    // can follow it on the same line.
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|l| l.find("{\"timestamp\"").map(|at| &l[at..]))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let about_the_panic: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| {
            r["level"] == "ERROR"
                || r["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("handler bug") || m.contains("panicked"))
        })
        .collect();
    assert_eq!(about_the_panic.len(), 1, "one line: {about_the_panic:#?}");
    let line = about_the_panic[0];
    assert_eq!(line["target"], "panic");
    assert_eq!(line["service"], "panic-json");
    assert_eq!(line["message"], "handler bug: 0 items");
    assert_eq!(line["request_id"], REQUEST_ID);
    assert_eq!(line["trace_id"], TRACE_ID);
    let location = line["location"].as_str().expect("a location");
    assert!(location.starts_with("tests/panic_json.rs:"), "{location}");
    let backtrace = line["backtrace"].as_str().expect("a backtrace field");
    assert!(backtrace.contains("panic_json::boom"), "{backtrace}");
}
