//! keviq services served for real and checked with the reference tools: several
//! services sharing one process, and the agent-runtime service. `promtool` and
//! Python's `prometheus_client` must be installed (`.ci/run` installs them).

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use keviq::{Format, Registry};
use keviq_testkit as support;
use tower::ServiceExt;

fn exposition() -> String {
    Registry::global()
        .expect("no clash")
        .render(Format::Prometheus)
}

/// The value of one series in the global registry, or 0 when it does not exist yet.
fn value(series: &str) -> f64 {
    value_in(&exposition(), series)
}

/// The value of one series in `text`, or 0 when it does not exist yet.
fn value_in(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(series)
                .and_then(|rest| rest.strip_prefix(' '))
        })
        .map_or(0.0, |v| v.parse().expect("a number"))
}

async fn oneshot(router: Router, req: Request<Body>) -> http::Response<Body> {
    router.oneshot(req).await.expect("infallible")
}

/// What a service's own `/metrics` serves.
async fn service_exposition(router: Router) -> String {
    let req = Request::get("/metrics")
        .body(Body::empty())
        .expect("a request");
    let res = oneshot(router, req).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.into_body().collect().await.expect("a body").to_bytes();
    String::from_utf8(body.to_vec()).expect("UTF-8")
}

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(keviq::axum::serve_listener(
        listener,
        router,
        std::future::pending(),
    ));
    addr
}

async fn send(req: Request<Full<bytes::Bytes>>) -> (StatusCode, http::HeaderMap, Vec<u8>) {
    let client = Client::builder(TokioExecutor::new()).build_http();
    let res = client.request(req).await.expect("request");
    let (parts, body) = res.into_parts();
    let body = body.collect().await.expect("body").to_bytes().to_vec();
    (parts.status, parts.headers, body)
}

fn get_req(uri: String) -> Request<Full<bytes::Bytes>> {
    Request::get(uri).body(Full::default()).expect("request")
}

// ---------------------------------------------------------------- services sharing a process

keviq::metric! {
    /// Owned by the `billing` service below.
    static BILLING: BillingMetrics {
        /// Invoices issued
        invoices: Counter = "test_billing_invoices_total",
    }
    /// Owned by no service: every service of the process serves it.
    static SHARED_JOBS: Counter = "test_shared_jobs_total";
}

#[keviq::service(name = "billing", metrics = [BILLING])]
fn billing() -> Router {
    Router::new().route(
        "/invoice",
        get(|| async {
            BILLING.invoices.inc();
            "issued"
        }),
    )
}

/// Lists `BILLING` too: a static two services own is shown by both.
#[keviq::service(name = "invoicing", metrics = [BILLING])]
fn invoicing() -> Router {
    Router::new()
}

#[keviq::service(name = "shipping")]
fn shipping() -> Router {
    Router::new().route("/ship", get(|| async { "shipped" }))
}

/// Two services in one process (as in the fleet demo): each `/metrics` serves its
/// own traffic, names its service, and shows a metric static only to its owner.
#[tokio::test]
#[cfg_attr(
    not(feature = "system-tests"),
    ignore = "needs promtool: run with `--features system-tests` (scripts/test does)"
)]
async fn services_sharing_a_process_each_serve_their_own_metrics() {
    SHARED_JOBS.inc();
    for _ in 0..3 {
        oneshot(
            billing(),
            Request::get("/invoice").body(Body::empty()).unwrap(),
        )
        .await;
    }
    oneshot(
        shipping(),
        Request::get("/ship").body(Body::empty()).unwrap(),
    )
    .await;

    let billing_text = service_exposition(billing()).await;
    let shipping_text = service_exposition(shipping()).await;
    let invoice = r#"mona_http_requests_total{method="GET",path="/invoice",status="200"}"#;
    let ship = r#"mona_http_requests_total{method="GET",path="/ship",status="200"}"#;
    assert_eq!(value_in(&billing_text, invoice), 3.0, "{billing_text}");
    assert!(!billing_text.contains(r#"path="/ship""#), "{billing_text}");
    assert_eq!(value_in(&shipping_text, ship), 1.0, "{shipping_text}");
    assert!(
        !shipping_text.contains(r#"path="/invoice""#),
        "{shipping_text}"
    );

    assert!(billing_text.contains("keviq_service_info{service=\"billing\"} 1\n"));
    assert!(shipping_text.contains("keviq_service_info{service=\"shipping\"} 1\n"));

    assert_eq!(value_in(&billing_text, "test_billing_invoices_total"), 3.0);
    assert!(!shipping_text.contains("test_billing_invoices_total"));
    let invoicing_text = service_exposition(invoicing()).await;
    assert_eq!(
        value_in(&invoicing_text, "test_billing_invoices_total"),
        3.0
    );
    assert!(value_in(&billing_text, "test_shared_jobs_total") >= 1.0);
    assert!(value_in(&shipping_text, "test_shared_jobs_total") >= 1.0);

    // Each view is a valid exposition, and the global registry (hand-built routers)
    // keeps every static, with neither service's traffic.
    support::assert_promtool_accepts(&billing_text);
    support::assert_promtool_accepts(&shipping_text);
    let global = exposition();
    assert!(global.contains("test_billing_invoices_total 3\n"));
    assert!(!global.contains(r#"path="/invoice""#));
}

// ---------------------------------------------------------------- the example

#[tokio::test]
#[cfg_attr(
    not(feature = "system-tests"),
    ignore = "needs promtool and prometheus_client: run with `--features system-tests` (scripts/test does)"
)]
async fn agent_runtime_example_serves_an_exposition_the_reference_tools_accept() {
    let addr = serve(agent_runtime::app(agent_runtime::Simulated)).await;
    let invocations = "mona_agent_invocations_total";
    let before = value(invocations);
    let req = Request::post(format!("http://{addr}/api/v1/invocations"))
        .header("content-type", "application/json")
        .header("x-request-id", "abc-123")
        .body(Full::from(r#"{"budget": 3, "turns": 5}"#))
        .unwrap();
    let (status, headers, body) = send(req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["x-request-id"], "abc-123");
    let outcome: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(outcome["status"], "budget_exhausted");

    let (status, _, body) = send(get_req(format!("http://{addr}/metrics"))).await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(body).unwrap();
    assert!(value(invocations) >= before + 1.0);
    assert!(text.contains(
        r#"mona_http_requests_total{method="POST",path="/api/v1/invocations",status="200"}"#
    ));
    assert!(text.contains("mona_agent_budget_exhausted_total "));
    support::assert_promtool_accepts(&text);
    let samples = support::python_samples(&text, false);
    assert!(
        samples
            .iter()
            .any(|s| s.starts_with("mona_agent_invocations_total{} "))
    );
}

/// Request IDs a client may send that would need escaping (a quote, a backslash, a
/// space, non-ASCII) are replaced by fresh ones, so the exemplars that carry them
/// parse with Python's OpenMetrics parser, and the text format with promtool.
#[tokio::test]
#[cfg_attr(
    not(feature = "system-tests"),
    ignore = "needs promtool and prometheus_client: run with `--features system-tests` (scripts/test does)"
)]
async fn hostile_request_ids_never_reach_an_exemplar() {
    let addr = serve(agent_runtime::app(agent_runtime::Simulated)).await;
    let hostile: [&[u8]; 5] = [b"a\"b", b"zz\"\\", b"a b", "caf\u{e9}".as_bytes(), b"a,b}"];
    for id in hostile {
        let req = Request::post(format!("http://{addr}/api/v1/invocations"))
            .header("content-type", "application/json")
            .header("x-request-id", http::HeaderValue::from_bytes(id).unwrap())
            .body(Full::from(r#"{"budget": 3, "turns": 5}"#))
            .unwrap();
        let (status, headers, _) = send(req).await;
        assert_eq!(status, StatusCode::OK);
        let replaced = headers["x-request-id"].to_str().unwrap();
        assert_eq!(replaced.len(), 36, "a fresh UUID, not {id:?}");
    }
    let req = Request::get(format!("http://{addr}/metrics"))
        .header("accept", "application/openmetrics-text; version=1.0.0")
        .body(Full::default())
        .unwrap();
    let (status, _, body) = send(req).await;
    assert_eq!(status, StatusCode::OK);
    let openmetrics = String::from_utf8(body).unwrap();
    assert!(openmetrics.contains("# {request_id=\""), "{openmetrics}");
    assert!(
        !openmetrics.contains("\\\""),
        "no escaped quote: {openmetrics}"
    );
    let samples = support::python_samples(&openmetrics, true);
    assert!(
        samples
            .iter()
            .any(|s| s.starts_with("mona_http_request_duration_ms_bucket{"))
    );
    let (_, _, text) = send(get_req(format!("http://{addr}/metrics"))).await;
    support::assert_promtool_accepts(&String::from_utf8(text).unwrap());
}
