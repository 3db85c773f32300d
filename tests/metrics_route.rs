//! A router that serves the metrics path itself: `#[keviq::service]` stops at
//! start-up with a message naming the path and `metrics_path`, instead of axum's
//! "Overlapping method route"; with another `metrics_path`, both routes are served.

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

#[keviq::service(name = "own-metrics")]
fn own_metrics() -> Router {
    Router::new().route("/metrics", get(|| async { "my own metrics" }))
}

#[keviq::service(name = "moved-metrics", metrics_path = "/keviq/metrics")]
fn moved_metrics() -> Router {
    Router::new().route("/metrics", get(|| async { "my own metrics" }))
}

#[test]
#[should_panic(expected = "metrics_path")]
fn a_router_serving_the_metrics_path_stops_at_start_up() {
    let _ = own_metrics();
}

#[test]
fn the_message_names_the_service_the_path_and_the_fix() {
    let payload = std::panic::catch_unwind(own_metrics).expect_err("refused");
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .expect("a formatted message");
    for part in [
        "`#[keviq::service(name = \"own-metrics\")]`",
        "tests/metrics_route.rs",
        "`GET /metrics`",
        "the router already serves `/metrics`",
        "#[keviq::service(metrics_path = \"/keviq/metrics\")]",
    ] {
        assert!(message.contains(part), "`{part}` in: {message}");
    }
}

async fn get_text(router: Router, path: &str) -> (StatusCode, String) {
    let res = router
        .oneshot(Request::get(path).body(Body::empty()).expect("a request"))
        .await
        .expect("infallible");
    let status = res.status();
    let body = res.into_body().collect().await.expect("a body").to_bytes();
    (status, String::from_utf8(body.to_vec()).expect("UTF-8"))
}

#[tokio::test]
async fn with_another_metrics_path_both_are_served() {
    let (status, body) = get_text(moved_metrics(), "/metrics").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "my own metrics"));
    let (status, body) = get_text(moved_metrics(), "/keviq/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("keviq_service_info{service=\"moved-metrics\"} 1"),
        "{body}"
    );
}
