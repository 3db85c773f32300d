//! The service stack end to end: request IDs, HTTP metrics, `/metrics`, JSON logs,
//! propagation between two real services. (Services sharing a process, checked with
//! `promtool`, and the agent-runtime service served live are tested in the
//! `example-agent-runtime` package, which owns the external tools.)

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::routing::{any, get};
use http::{HeaderValue, Request, StatusCode};
use http_body_util::BodyExt;
use keviq::axum::MetricsLayer;
use keviq::request_id::{self, ForwardRequestIdLayer};
use tower::{ServiceBuilder, ServiceExt};

mod support;

use support::*;

#[keviq::service(name = "id-echo")]
fn id_echo() -> Router {
    Router::new().route(
        "/id",
        get(|| async {
            tracing::info!("handling /id");
            request_id::current()
                .map(|id| id.to_string())
                .unwrap_or_default()
        }),
    )
}

// ---------------------------------------------------------------- request IDs

#[tokio::test]
async fn well_formed_ids_are_kept_and_missing_ones_generated() {
    logs();
    let res = oneshot(
        id_echo(),
        Request::get("/id")
            .header("x-request-id", "abc-123")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(res.headers()["x-request-id"], "abc-123");
    assert_eq!(
        res.into_body().collect().await.unwrap().to_bytes(),
        "abc-123"
    );
    let line = log_records()
        .into_iter()
        .find(|r| r["request_id"] == "abc-123" && r["message"] == "handling /id")
        .expect("the handler's log line carries the request ID");
    assert_eq!(line["service"], "id-echo");

    let res = oneshot(id_echo(), Request::get("/id").body(Body::empty()).unwrap()).await;
    let generated = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(uuid_like(&generated), "{generated}");
    assert_eq!(
        res.into_body().collect().await.unwrap().to_bytes(),
        generated
    );
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36
        && s.chars().filter(|&c| c == '-').count() == 4
        && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

#[tokio::test]
async fn hostile_ids_are_replaced_never_echoed_nor_logged() {
    logs();
    let long = "x".repeat(10 * 1024);
    let hostile: Vec<Vec<u8>> = vec![
        b"tab\there".to_vec(),
        b"with space".to_vec(),
        "non-ascii-\u{e9}\u{e9}".as_bytes().to_vec(),
        long.clone().into_bytes(),
        "y".repeat(129).into_bytes(),
        Vec::new(),
    ];
    for value in &hostile {
        let header = HeaderValue::from_bytes(value).expect("http accepts these bytes");
        let res = oneshot(
            id_echo(),
            Request::get("/id")
                .header("x-request-id", header)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        let echoed = res.headers()["x-request-id"].as_bytes().to_vec();
        assert_ne!(&echoed, value);
        assert!(uuid_like(std::str::from_utf8(&echoed).unwrap()));
        if value.len() > 3 {
            let logs = raw_logs();
            assert!(
                !logs.windows(value.len()).any(|w| w == value.as_slice()),
                "logged raw: {:?}",
                String::from_utf8_lossy(value)
            );
        }
    }
    // The replacement is logged with the value's length only.
    assert!(
        log_records().iter().any(
            |r| r["message"] == "replaced a malformed X-Request-ID header" && r["len"] == 10240
        )
    );

    // CR, LF, NUL and other control bytes cannot even be built as a `HeaderValue`;
    // sent raw to a real server they are refused before any handler, and not echoed.
    let addr = serve(id_echo()).await;
    for raw in [&b"evil\rInjected: 1"[..], b"a\x00b", b"a\x01b", b"a\x7fb"] {
        let response = tokio::task::spawn_blocking(move || {
            let mut stream = std::net::TcpStream::connect(addr).expect("connect");
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let mut request =
                b"GET /id HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Request-ID: ".to_vec();
            request.extend_from_slice(raw);
            request.extend_from_slice(b"\r\n\r\n");
            stream.write_all(&request).expect("write");
            let mut response = Vec::new();
            let _ = stream.read_to_end(&mut response);
            response
        })
        .await
        .unwrap();
        let text = String::from_utf8_lossy(&response).to_string();
        assert!(
            !response.windows(raw.len()).any(|w| w == raw),
            "echoed raw: {text}"
        );
        assert!(!text.contains("Injected"), "{text}");
        let logs = raw_logs();
        assert!(!logs.windows(raw.len()).any(|w| w == raw), "logged raw");
    }
}

// ---------------------------------------------------------------- HTTP metrics

#[tokio::test]
async fn requests_are_recorded_under_their_route_template() {
    let nested = Router::new().route("/items/{id}", get(|| async { "item" }));
    let app = Router::new()
        .route("/t/{id}", get(|| async { "t" }))
        .route("/any", any(|| async { "any" }))
        .route("/fail", get(|| async { StatusCode::SERVICE_UNAVAILABLE }))
        .nest("/api", nested)
        .layer(MetricsLayer::new());

    let before = (
        value(r#"mona_http_requests_total{method="GET",path="/t/{id}",status="200"}"#),
        value(r#"mona_http_requests_total{method="GET",path="/api/items/{id}",status="200"}"#),
        value(r#"mona_http_requests_total{method="GET",path="unmatched",status="404"}"#),
        value(r#"mona_http_requests_total{method="OTHER",path="/any",status="200"}"#),
        value(r#"mona_http_request_errors_total{method="GET",path="/fail"}"#),
        value(r#"mona_http_request_duration_ms_count{method="GET",path="/t/{id}"}"#),
    );
    for uri in [
        "/t/1",
        "/t/2",
        "/api/items/9",
        "/scanner/../../etc/passwd",
        "/fail",
    ] {
        oneshot(app.clone(), Request::get(uri).body(Body::empty()).unwrap()).await;
    }
    let purge = http::Method::from_bytes(b"PURGE").unwrap();
    oneshot(
        app.clone(),
        Request::builder()
            .method(purge)
            .uri("/any")
            .body(Body::empty())
            .unwrap(),
    )
    .await;

    assert_eq!(
        value(r#"mona_http_requests_total{method="GET",path="/t/{id}",status="200"}"#),
        before.0 + 2.0
    );
    assert_eq!(
        value(r#"mona_http_requests_total{method="GET",path="/api/items/{id}",status="200"}"#),
        before.1 + 1.0
    );
    assert_eq!(
        value(r#"mona_http_requests_total{method="GET",path="unmatched",status="404"}"#),
        before.2 + 1.0
    );
    assert_eq!(
        value(r#"mona_http_requests_total{method="OTHER",path="/any",status="200"}"#),
        before.3 + 1.0
    );
    assert_eq!(
        value(r#"mona_http_request_errors_total{method="GET",path="/fail"}"#),
        before.4 + 1.0
    );
    assert_eq!(
        value(r#"mona_http_request_duration_ms_count{method="GET",path="/t/{id}"}"#),
        before.5 + 2.0
    );
    assert!(
        !exposition().contains("etc/passwd"),
        "raw URIs never become label values"
    );
}

#[allow(clippy::unused_async)]
async fn boom() -> &'static str {
    panic!("handler bug")
}

#[tokio::test]
async fn panics_are_counted_as_500_with_or_without_a_panic_layer() {
    logs();
    #[keviq::service(name = "panicky")]
    fn panicky() -> Router {
        Router::new().route("/boom", get(boom))
    }
    let series = r#"mona_http_requests_total{method="GET",path="/boom",status="500"}"#;

    // With the attribute: tower-http's CatchPanicLayer answers 500, and it is counted
    // in the service's own families.
    let res = oneshot(
        panicky(),
        Request::get("/boom").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(value_in(&service_exposition(panicky()).await, series), 1.0);

    // The layer alone: the panic unwinds through it and is still counted as a 500,
    // in the process-wide families.
    let before = value(series);
    let bare = Router::new()
        .route("/boom", get(boom))
        .layer(MetricsLayer::new());
    let joined =
        tokio::spawn(bare.oneshot(Request::get("/boom").body(Body::empty()).unwrap())).await;
    assert!(joined.is_err_and(|e| e.is_panic()));
    assert_eq!(value(series), before + 1.0);
}

#[tokio::test]
async fn a_client_that_goes_away_is_recorded_as_499() {
    let app = Router::new()
        .route(
            "/slow",
            get(|| async { tokio::time::sleep(Duration::from_secs(30)).await }),
        )
        .layer(MetricsLayer::new());
    let series = r#"mona_http_requests_total{method="GET",path="/slow",status="499"}"#;
    let in_flight = "mona_http_requests_in_flight";
    let before = value(series);
    let addr = serve(app).await;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut stream, b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(value(in_flight) >= 1.0);
    drop(stream);
    for _ in 0..100 {
        if value(series) > before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(value(series), before + 1.0);
}

// ---------------------------------------------------------------- /metrics

#[tokio::test]
async fn metrics_endpoint_negotiates_format_and_compression() {
    let app = id_echo();
    let res = oneshot(
        app.clone(),
        Request::get("/metrics").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(text.contains("# TYPE mona_http_requests_total counter\n"));

    let accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let res = oneshot(
        app.clone(),
        Request::get("/metrics")
            .header("accept", accept)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(
        res.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let text =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(text.ends_with("# EOF\n"));

    let res = oneshot(
        app.clone(),
        Request::get("/metrics")
            .header("accept-encoding", "gzip")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(res.headers()["content-encoding"], "gzip");
    let gz = res.into_body().collect().await.unwrap().to_bytes();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut text)
        .unwrap();
    assert!(text.contains("# TYPE mona_http_requests_total counter\n"));

    let res = oneshot(app, Request::head("/metrics").body(Body::empty()).unwrap()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .is_empty()
    );
}

// ---------------------------------------------------------------- propagation

#[keviq::service(name = "backend")]
fn backend() -> Router {
    Router::new().route(
        "/work",
        get(|| async {
            tracing::info!("backend working");
            "done"
        }),
    )
}

#[keviq::service(name = "frontend")]
fn frontend(backend: SocketAddr) -> Router {
    Router::new().route(
        "/call",
        get(move || async move {
            tracing::info!("frontend calling backend");
            let client = ServiceBuilder::new()
                .layer(ForwardRequestIdLayer::new())
                .service(client());
            let res = client
                .oneshot(get_req(format!("http://{backend}/work")))
                .await
                .expect("backend answers");
            res.headers()
                .get("x-request-id")
                .map(|v| v.to_str().unwrap_or_default().to_owned())
                .unwrap_or_default()
        }),
    )
}

#[tokio::test]
async fn the_id_travels_through_two_real_services_and_their_logs() {
    logs();
    let backend_addr = serve(backend()).await;
    let frontend_addr = serve(frontend(backend_addr)).await;

    let (status, headers, body) = send(get_req(format!("http://{frontend_addr}/call"))).await;
    assert_eq!(status, StatusCode::OK);
    let id = headers["x-request-id"].to_str().unwrap().to_owned();
    assert!(uuid_like(&id));
    assert_eq!(
        String::from_utf8(body).unwrap(),
        id,
        "the backend saw the same ID"
    );

    let records = log_records();
    let services: Vec<_> = records
        .iter()
        .filter(|r| r["request_id"] == id.as_str())
        .map(|r| r["service"].clone())
        .collect();
    assert!(services.contains(&"frontend".into()), "{services:?}");
    assert!(services.contains(&"backend".into()), "{services:?}");
}
