//! What the service tests share: the JSON log capture (one subscriber per test
//! binary), real servers on `127.0.0.1:0`, a client, and readers of `/metrics`.
// Each test binary uses its own part of these.
#![allow(dead_code)]

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::body::Body;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use keviq::{Format, Registry};
use tower::ServiceExt;

/// Every JSON log line the test binary writes.
#[derive(Clone, Default)]
pub(crate) struct Logs(pub(crate) Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub(crate) fn logs() -> &'static Logs {
    static LOGS: OnceLock<Logs> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Logs::default();
        let writer = logs.clone();
        tracing_subscriber::fmt()
            .event_format(keviq::logging::JsonFormat::new("service-tests"))
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(move || writer.clone())
            .init();
        logs
    })
}

pub(crate) fn log_records() -> Vec<serde_json::Value> {
    let bytes = logs().0.lock().unwrap_or_else(|e| e.into_inner()).clone();
    String::from_utf8_lossy(&bytes)
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("log line is not JSON ({e}): {l}"))
        })
        .collect()
}

pub(crate) fn raw_logs() -> Vec<u8> {
    logs().0.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

pub(crate) fn exposition() -> String {
    Registry::global()
        .expect("no clash")
        .render(Format::Prometheus)
}

/// The value of one series in the global registry, or 0 when it does not exist yet.
pub(crate) fn value(series: &str) -> f64 {
    value_in(&exposition(), series)
}

pub(crate) async fn serve(router: Router) -> SocketAddr {
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

pub(crate) type HttpClient =
    Client<hyper_util::client::legacy::connect::HttpConnector, Full<bytes::Bytes>>;

pub(crate) fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

pub(crate) async fn send(
    req: Request<Full<bytes::Bytes>>,
) -> (StatusCode, http::HeaderMap, Vec<u8>) {
    let res = client().request(req).await.expect("request");
    let (parts, body) = res.into_parts();
    (
        parts.status,
        parts.headers,
        body.collect().await.expect("body").to_bytes().to_vec(),
    )
}

pub(crate) fn get_req(uri: String) -> Request<Full<bytes::Bytes>> {
    Request::get(uri).body(Full::default()).expect("request")
}

pub(crate) async fn oneshot(router: Router, req: Request<Body>) -> http::Response<Body> {
    router.oneshot(req).await.expect("infallible")
}

/// What a service's own `/metrics` serves (Prometheus text).
pub(crate) async fn service_exposition(router: Router) -> String {
    service_exposition_as(router, "").await
}

/// What a service's own `/metrics` serves to a scraper sending `accept`.
pub(crate) async fn service_exposition_as(router: Router, accept: &str) -> String {
    let res = oneshot(
        router,
        Request::get("/metrics")
            .header("accept", accept)
            .body(Body::empty())
            .expect("a request"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.into_body().collect().await.expect("a body").to_bytes();
    String::from_utf8(body.to_vec()).expect("UTF-8")
}

/// The value of one series in `text`, or 0 when it does not exist yet.
pub(crate) fn value_in(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(series)
                .and_then(|rest| rest.strip_prefix(' '))
        })
        .map_or(0.0, |v| v.parse().expect("a number"))
}
