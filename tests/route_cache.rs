//! The metrics layer keeps each route's series handles after its first requests
//! (`Router::layer` wraps each method endpoint in its own layer instance). These
//! tests pin that the kept handles never change what is counted: more statuses
//! than the layer keeps per route, several methods through one endpoint (`any`),
//! and a nested router, all on a router whose layers are applied once
//! (`with_state(())`, as `axum::serve` does), so the same instances see every
//! request.

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::routing::{any, get};
use http::{Request, StatusCode};
use keviq::axum::MetricsLayer;

mod support;

use support::*;

fn status_of(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::OK)
}

fn requests(method: &str, path: &str, status: u16) -> f64 {
    value(&format!(
        r#"mona_http_requests_total{{method="{method}",path="{path}",status="{status}"}}"#
    ))
}

#[tokio::test]
async fn kept_handles_count_every_status_method_and_route() {
    let nested = Router::new().route(
        "/items/{code}",
        get(|Path(c): Path<u16>| async move { status_of(c) }),
    );
    let app: Router = Router::new()
        .route(
            "/rc/{code}",
            get(|Path(c): Path<u16>| async move { status_of(c) }),
        )
        .route("/rc-any", any(|| async { "any" }))
        .nest("/rc-api", nested)
        .layer(MetricsLayer::new())
        .with_state(());

    // Five statuses on one route: more than the layer keeps handles for.
    let codes = [200u16, 201, 404, 418, 503];
    let before: Vec<f64> = codes
        .iter()
        .map(|c| requests("GET", "/rc/{code}", *c))
        .collect();
    let errors_before = value(r#"mona_http_request_errors_total{method="GET",path="/rc/{code}"}"#);
    let count_before =
        value(r#"mona_http_request_duration_ms_count{method="GET",path="/rc/{code}"}"#);
    for round in 0..3 {
        for code in codes {
            let res = oneshot(
                app.clone(),
                Request::get(format!("/rc/{code}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
            assert_eq!(res.status().as_u16(), code, "round {round}");
        }
    }
    for (code, before) in codes.iter().zip(before) {
        assert_eq!(
            requests("GET", "/rc/{code}", *code),
            before + 3.0,
            "status {code}"
        );
    }
    assert_eq!(
        value(r#"mona_http_request_errors_total{method="GET",path="/rc/{code}"}"#),
        errors_before + 3.0
    );
    assert_eq!(
        value(r#"mona_http_request_duration_ms_count{method="GET",path="/rc/{code}"}"#),
        count_before + 15.0
    );

    // One endpoint, three methods: the first is kept, the others looked up.
    let methods = ["GET", "POST", "DELETE"];
    let before: Vec<f64> = methods
        .iter()
        .map(|m| requests(m, "/rc-any", 200))
        .collect();
    for _ in 0..2 {
        for m in methods {
            let req = Request::builder()
                .method(m)
                .uri("/rc-any")
                .body(Body::empty())
                .unwrap();
            oneshot(app.clone(), req).await;
        }
    }
    for (m, before) in methods.iter().zip(before) {
        assert_eq!(requests(m, "/rc-any", 200), before + 2.0, "method {m}");
    }

    // A nested route records its full template.
    let before = requests("GET", "/rc-api/items/{code}", 200);
    for _ in 0..2 {
        oneshot(
            app.clone(),
            Request::get("/rc-api/items/200")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    }
    assert_eq!(requests("GET", "/rc-api/items/{code}", 200), before + 2.0);
}
