//! `#[keviq::service(prefix = "shop_")]`: the service's HTTP families take its
//! prefix; services without one keep `mona_`, the names of `keviq::axum::names`.

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use keviq::axum::names::{self, HttpNames};
use tower::ServiceExt;

#[keviq::service(name = "shop", prefix = "shop_")]
fn shop() -> Router {
    Router::new().route("/cart", get(|| async { "cart" }))
}

#[keviq::service(name = "unprefixed", prefix = "")]
fn unprefixed() -> Router {
    Router::new().route("/cart", get(|| async { "cart" }))
}

#[keviq::service(name = "default-prefix")]
fn default_prefix() -> Router {
    Router::new().route("/cart", get(|| async { "cart" }))
}

async fn get_text(router: Router, path: &str, accept: &str) -> String {
    let res = router
        .oneshot(
            Request::get(path)
                .header("accept", accept)
                .body(Body::empty())
                .expect("a request"),
        )
        .await
        .expect("infallible");
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.into_body().collect().await.expect("a body").to_bytes();
    String::from_utf8(body.to_vec()).expect("UTF-8")
}

/// The families of `text` named like an HTTP family of any prefix.
fn http_families(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .filter(|name| name.contains("http_request"))
        .collect()
}

#[tokio::test]
async fn each_service_names_its_http_families_with_its_prefix() {
    for (router, prefix) in [
        (shop(), "shop_"),
        (unprefixed(), ""),
        (default_prefix(), "mona_"),
    ] {
        let _ = get_text(router.clone(), "/cart", "").await;
        let text = get_text(router.clone(), "/metrics", "").await;
        assert_eq!(
            http_families(&text),
            [
                format!("{prefix}http_request_duration_ms"),
                format!("{prefix}http_request_errors_total"),
                format!("{prefix}http_requests_in_flight"),
                format!("{prefix}http_requests_total"),
            ],
            "{text}"
        );
        let series = format!(
            "{prefix}http_requests_total{{method=\"GET\",path=\"/cart\",status=\"200\"}} 1\n"
        );
        assert!(text.contains(&series), "{series} in {text}");
        assert!(
            text.contains(&format!("{prefix}http_request_duration_ms_bucket{{method=\"GET\",path=\"/cart\",le=\"+Inf\"}} 1\n")),
            "{text}"
        );
        // OpenMetrics names the counter family without `_total`.
        let om = get_text(
            router,
            "/metrics",
            "application/openmetrics-text; version=1.0.0",
        )
        .await;
        assert!(
            om.contains(&format!("# TYPE {prefix}http_requests counter\n")),
            "{om}"
        );
    }
}

#[test]
fn the_service_registry_holds_each_prefix() {
    let _ = (shop(), default_prefix());
    let by_name = |name: &str| {
        keviq::axum::services()
            .iter()
            .find(|s| s.name == name)
            .map(|s| *s.http_names())
            .expect("registered")
    };
    let shop = by_name("shop");
    assert_eq!(shop.prefix, "shop_");
    assert_eq!(
        [
            shop.requests_total,
            shop.request_duration_ms,
            shop.request_errors_total,
            shop.requests_in_flight,
        ],
        [
            "shop_http_requests_total",
            "shop_http_request_duration_ms",
            "shop_http_request_errors_total",
            "shop_http_requests_in_flight",
        ]
    );
    // The default is what the telemetry service and the dashboards read.
    let default = by_name("default-prefix");
    assert_eq!(default, HttpNames::DEFAULT);
    assert_eq!(default.prefix, names::DEFAULT_PREFIX);
    assert_eq!(default.requests_total, names::HTTP_REQUESTS_TOTAL);
    assert_eq!(default.request_duration_ms, names::HTTP_REQUEST_DURATION_MS);
    assert_eq!(
        default.request_errors_total,
        names::HTTP_REQUEST_ERRORS_TOTAL
    );
    assert_eq!(default.requests_in_flight, names::HTTP_REQUESTS_IN_FLIGHT);
}
