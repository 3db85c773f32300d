//! `keviq::axum::client()`: the README's "Calling other services" (the first block
//! below is its code, unchanged), served for real on `127.0.0.1:0`: a call made
//! while handling a request carries that request's `X-Request-ID` and
//! `traceparent`.

mod support;

// ---------------------------------------------------------------- the README's code

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::routing::{get, post};
use tower::ServiceExt;

#[keviq::service(name = "orders")]
fn orders(inventory: String) -> Router {
    // One client for the service; each request's handler gets a clone (same pool).
    let client = keviq::axum::client();
    Router::new()
        .route("/api/v1/orders", post(reserve))
        .with_state((client, inventory))
}

async fn reserve(
    State((client, inventory)): State<(keviq::axum::Client, String)>,
) -> Result<String, StatusCode> {
    let request = Request::get(format!("http://{inventory}/api/v1/stock"))
        .body(Body::empty())
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    // Sent with this request's X-Request-ID, traceparent and tracestate.
    let response = client
        .oneshot(request)
        .await
        .map_err(|_| StatusCode::BAD_GATEWAY)?;
    let body = axum::body::to_bytes(Body::new(response.into_body()), 64 * 1024)
        .await
        .map_err(|_| StatusCode::BAD_GATEWAY)?;
    Ok(String::from_utf8_lossy(&body).into_owned())
}

#[keviq::service(name = "inventory")]
fn inventory() -> Router {
    Router::new().route(
        "/api/v1/stock",
        get(|headers: HeaderMap| async move {
            let header = |name: &str| {
                let value = headers.get(name).and_then(|v| v.to_str().ok());
                value.unwrap_or("-").to_owned()
            };
            format!(
                "x-request-id: {}\ntraceparent: {}\n",
                header("x-request-id"),
                header("traceparent")
            )
        }),
    )
}

// ---------------------------------------------------------------- the tests

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// Both services on real sockets; the address of `orders`.
async fn two_services() -> std::net::SocketAddr {
    let inventory = support::serve(inventory()).await;
    support::serve(orders(inventory.to_string())).await
}

/// Sends `request` with the same client, from outside any request (so it adds
/// nothing), and reads the body.
async fn send(request: Request<Body>) -> (StatusCode, HeaderMap, String) {
    let response = keviq::axum::client()
        .oneshot(request)
        .await
        .expect("a response");
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(Body::new(body), 64 * 1024)
        .await
        .expect("a body");
    let body = String::from_utf8(body.to_vec()).expect("UTF-8");
    (parts.status, parts.headers, body)
}

#[tokio::test]
async fn a_call_carries_the_request_id_and_the_trace_context() {
    let orders = two_services().await;
    let (status, headers, body) = send(
        Request::post(format!("http://{orders}/api/v1/orders"))
            .header("x-request-id", "abc-123")
            .header("traceparent", TRACEPARENT)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["x-request-id"], "abc-123");
    // The same trace and flags; inventory's handler sees its own span's traceparent.
    let sent = traceparent_in(&body);
    assert!(body.starts_with("x-request-id: abc-123\n"), "{body}");
    assert_eq!(sent.trace_id.to_string(), &TRACEPARENT[3..35]);
    assert_ne!(sent.parent_id.to_string(), &TRACEPARENT[36..52]);
    assert_eq!(sent.flags, 1);
}

/// The `traceparent` an echo of inventory's shows.
fn traceparent_in(body: &str) -> keviq::trace_context::TraceParent {
    let line = body
        .lines()
        .find_map(|l| l.strip_prefix("traceparent: "))
        .expect("a traceparent line");
    keviq::trace_context::TraceParent::parse(line.as_bytes()).expect("a valid traceparent")
}

#[tokio::test]
async fn a_generated_request_id_is_forwarded_too() {
    let orders = two_services().await;
    let (status, headers, body) = send(
        Request::post(format!("http://{orders}/api/v1/orders"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let generated = headers["x-request-id"].to_str().unwrap();
    assert_eq!(generated.len(), 36, "{generated}");
    assert!(
        body.starts_with(&format!("x-request-id: {generated}\n")),
        "{body}"
    );
    // orders started a trace (sampled, random) and passed it on.
    assert_eq!(traceparent_in(&body).flags, 3, "{body}");
}

#[tokio::test]
async fn outside_a_request_the_client_adds_nothing() {
    let inventory = support::serve(inventory()).await;
    let (status, headers, body) = send(
        Request::get(format!("http://{inventory}/api/v1/stock"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // The ID inventory generated itself, not one the client sent.
    let own = headers["x-request-id"].to_str().unwrap();
    assert_eq!(body, format!("x-request-id: {own}\ntraceparent: -\n"));
}

#[tokio::test]
async fn an_unreachable_peer_is_a_bad_gateway() {
    // A port nothing listens on: bound, then closed.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let orders = support::serve(orders(closed.to_string())).await;
    let (status, _, _) = send(
        Request::post(format!("http://{orders}/api/v1/orders"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
}
