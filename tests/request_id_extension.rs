//! A handler takes the request's ID as `axum::Extension<keviq::request_id::RequestId>`:
//! the request-ID layer stores keviq's type in the extensions (and tower-http's
//! beside it), whether the service is a `#[keviq::service]` or the layer by hand.

use axum::body::Body;
use axum::routing::get;
use axum::{Extension, Router};
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use keviq::request_id::{RequestId, RequestIdLayer};
use tower::ServiceExt;

async fn echo(Extension(id): Extension<RequestId>) -> String {
    id.to_string()
}

#[keviq::service(name = "extension-echo")]
fn app() -> Router {
    Router::new().route("/id", get(echo))
}

/// The status, the response's `X-Request-ID`, and the body (the extension's ID).
async fn call(router: Router, incoming: Option<&str>) -> (StatusCode, String, String) {
    let mut req = Request::get("/id");
    if let Some(id) = incoming {
        req = req.header("x-request-id", id);
    }
    let res = router
        .oneshot(req.body(Body::empty()).expect("a request"))
        .await
        .expect("infallible");
    let status = res.status();
    let header = res.headers()["x-request-id"]
        .to_str()
        .expect("ASCII")
        .to_owned();
    let body = res.into_body().collect().await.expect("a body").to_bytes();
    (
        status,
        header,
        String::from_utf8(body.to_vec()).expect("UTF-8"),
    )
}

#[tokio::test]
async fn the_extension_holds_the_id_of_the_response() {
    let (status, header, body) = call(app(), Some("abc-123")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((header.as_str(), body.as_str()), ("abc-123", "abc-123"));

    // Generated, and replacing a malformed one: the extension has the new ID.
    for incoming in [None, Some("two words")] {
        let (status, header, body) = call(app(), incoming).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(header.len(), 36, "a UUID: {header}");
        assert_eq!(body, header);
    }
}

#[tokio::test]
async fn the_layer_alone_stores_it_too() {
    let router = Router::new()
        .route("/id", get(echo))
        .layer(RequestIdLayer::new());
    let (status, header, body) = call(router, Some("by-hand-7")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((header.as_str(), body.as_str()), ("by-hand-7", "by-hand-7"));
}
