//! Correlation end to end: each request's ID (and W3C trace ID) as the exemplar of
//! its latency bucket and error count, shortened never dropped when over the
//! OpenMetrics budget; `traceparent` and `tracestate` kept, forwarded between two
//! real services and on every JSON log line, and invalid ones ignored.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use keviq::request_id::{self, ForwardRequestIdLayer};
use keviq::trace_context::{self, TraceContext, TraceParent};
use serde_json::{Value, json};
use tower::{ServiceBuilder, ServiceExt};

mod support;

use support::*;

const OPENMETRICS: &str = "application/openmetrics-text;version=1.0.0";
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[keviq::service(name = "exemplar-svc")]
fn exemplar_svc() -> Router {
    Router::new()
        .route("/ok", get(|| async { "ok" }))
        .route("/long", get(|| async { "ok" }))
        .route("/fail", get(|| async { StatusCode::BAD_GATEWAY }))
}

async fn call(router: Router, path: &str, headers: &[(&str, &str)]) -> StatusCode {
    let mut req = Request::get(path);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    oneshot(router, req.body(Body::empty()).expect("a request"))
        .await
        .status()
}

/// The exemplar parts (` # {..} value ts`) of the lines of `text` that start with
/// `series`.
fn exemplars<'t>(text: &'t str, series: &str) -> Vec<&'t str> {
    text.lines()
        .filter(|l| l.starts_with(series))
        .filter_map(|l| l.split_once(" # ").map(|(_, e)| e))
        .collect()
}

#[tokio::test]
async fn request_and_trace_ids_are_exemplars_of_latency_and_errors() {
    let status = call(
        exemplar_svc(),
        "/ok",
        &[("x-request-id", "ex-ok-1"), ("traceparent", TRACEPARENT)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        call(exemplar_svc(), "/fail", &[("x-request-id", "ex-fail-1")]).await,
        StatusCode::BAD_GATEWAY
    );

    let text = service_exposition_as(exemplar_svc(), OPENMETRICS).await;
    let ok = exemplars(
        &text,
        r#"mona_http_request_duration_ms_bucket{method="GET",path="/ok","#,
    );
    assert_eq!(ok.len(), 1, "one bucket holds the request: {text}");
    let wanted = format!(r#"{{request_id="ex-ok-1",trace_id="{TRACE_ID}"}} "#);
    assert!(ok[0].starts_with(&wanted), "{}", ok[0]);
    let parts: Vec<&str> = ok[0][wanted.len()..].split(' ').collect();
    let (ms, ts): (f64, f64) = (parts[0].parse().unwrap(), parts[1].parse().unwrap());
    assert!((0.0..10_000.0).contains(&ms), "{ms}");
    assert!(ts > 1.6e9, "{ts}");

    let fail = exemplars(
        &text,
        r#"mona_http_request_errors_total{method="GET",path="/fail"}"#,
    );
    assert_eq!(fail.len(), 1, "{text}");
    // A request without a traceparent starts a trace: its exemplar has the new ID.
    let (labels, rest) = fail[0].split_once("} ").expect("labels");
    let trace = labels
        .strip_prefix(r#"{request_id="ex-fail-1",trace_id=""#)
        .and_then(|t| t.strip_suffix('"'))
        .expect("a trace_id label");
    assert!(
        trace.len() == 32 && trace.bytes().all(|b| b.is_ascii_hexdigit()),
        "{}",
        fail[0]
    );
    assert!(rest.starts_with("1.0 "), "{}", fail[0]);
    // The request counter and the in-flight gauge carry none.
    assert!(exemplars(&text, "mona_http_requests_total").is_empty());
    assert!(exemplars(&text, "mona_http_requests_in_flight").is_empty());

    // The Prometheus text format has no exemplars.
    let prometheus = service_exposition(exemplar_svc()).await;
    assert!(!prometheus.contains(" # "), "{prometheus}");
    assert!(prometheus.contains(r#"mona_http_request_errors_total{method="GET",path="/fail"} 1"#));
}

fn truncated(label: &str) -> f64 {
    value(&format!(
        r#"keviq_exemplars_truncated_total{{label="{label}"}}"#
    ))
}

#[tokio::test]
async fn an_overlong_id_is_shortened_never_dropped() {
    let before = (truncated("trace_id"), truncated("request_id"));

    // 100 characters: with the trace ID it would take 150; the trace ID is left out.
    let mid = "m".repeat(100);
    call(
        exemplar_svc(),
        "/long",
        &[("x-request-id", &mid), ("traceparent", TRACEPARENT)],
    )
    .await;
    let text = service_exposition_as(exemplar_svc(), OPENMETRICS).await;
    let series = r#"mona_http_request_duration_ms_bucket{method="GET",path="/long","#;
    let found = exemplars(&text, series);
    assert!(
        found
            .iter()
            .any(|e| e.starts_with(&format!(r#"{{request_id="{mid}"}} "#))),
        "{found:?}"
    );
    assert_eq!(truncated("trace_id"), before.0 + 1.0);
    assert_eq!(truncated("request_id"), before.1);

    // 128 characters (the longest kept ID): cut to 115 and marked.
    let long: String = (0..128)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    call(
        exemplar_svc(),
        "/long",
        &[("x-request-id", &long), ("traceparent", TRACEPARENT)],
    )
    .await;
    let text = service_exposition_as(exemplar_svc(), OPENMETRICS).await;
    let cut = format!(
        "{{request_id=\"{}{}\"}} ",
        &long[..115],
        keviq::axum::names::TRUNCATION_MARK
    );
    let found = exemplars(&text, series);
    assert!(found.iter().any(|e| e.starts_with(&cut)), "{found:?}");
    assert_eq!(truncated("trace_id"), before.0 + 2.0);
    assert_eq!(truncated("request_id"), before.1 + 1.0);
    // Within the budget Prometheus enforces: 128 characters of names and values.
    let labels = cut.trim_end().trim_start_matches('{').trim_end_matches('}');
    let (name, value) = labels.split_once('=').unwrap();
    assert!(name.chars().count() + value.trim_matches('"').chars().count() <= 128);
}

// ---------------------------------------------------------------- trace context

/// Answers what arrived: the trace headers, the request ID, and what the task sees.
#[keviq::service(name = "trace-backend")]
fn trace_backend() -> Router {
    Router::new().route(
        "/echo",
        get(|headers: http::HeaderMap| async move {
            tracing::info!("trace backend answering");
            let header = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            axum::Json(json!({
                "traceparent": header("traceparent"),
                "tracestate": header("tracestate"),
                "x-request-id": header("x-request-id"),
                "current": trace_context::current().map(|t| t.trace_id().to_string()),
            }))
        }),
    )
}

/// Calls the backend with keviq's forwarding layer and answers what it got back,
/// with what the handler itself saw.
#[keviq::service(name = "trace-frontend")]
fn trace_frontend(backend: SocketAddr) -> Router {
    Router::new().route(
        "/call",
        get(
            move |trace: Option<axum::Extension<TraceContext>>, headers: http::HeaderMap| async move {
                tracing::info!("trace frontend calling");
                let client = ServiceBuilder::new()
                    .layer(ForwardRequestIdLayer::new())
                    .service(client());
                let res = client
                    .oneshot(get_req(format!("http://{backend}/echo")))
                    .await
                    .expect("backend answers");
                let body = res.into_body().collect().await.expect("body").to_bytes();
                let backend: Value = serde_json::from_slice(&body).expect("JSON");
                axum::Json(json!({
                    "backend": backend,
                    "extension": trace.map(|t| t.0.trace_id().to_string()),
                    "traceparent_seen": headers.contains_key("traceparent"),
                    "tracestate_seen": headers.contains_key("tracestate"),
                    "id": request_id::current().map(|id| id.to_string()),
                }))
            },
        ),
    )
}

async fn through_two_services(headers: &[(&str, &str)]) -> (Value, http::HeaderMap) {
    let backend = serve(trace_backend()).await;
    let frontend = serve(trace_frontend(backend)).await;
    let mut req = Request::get(format!("http://{frontend}/call"));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let (status, headers, body) = send(req.body(Default::default()).expect("request")).await;
    assert_eq!(status, StatusCode::OK);
    (serde_json::from_slice(&body).expect("JSON"), headers)
}

#[tokio::test]
async fn a_valid_traceparent_is_kept_forwarded_and_logged() {
    logs();
    let (got, headers) = through_two_services(&[
        ("traceparent", TRACEPARENT),
        ("tracestate", "rojo=00f067aa0ba902b7"),
        ("tracestate", "congo=t61rcWkgMzE"),
    ])
    .await;
    let id = got["id"].as_str().expect("an ID").to_owned();
    assert_eq!(got["extension"], TRACE_ID);
    // The call is a span of the frontend's: same trace and flags, a new parent-id.
    let sent = got["backend"]["traceparent"]
        .as_str()
        .expect("a traceparent");
    let parsed = TraceParent::parse(sent.as_bytes()).expect("valid");
    assert_eq!(parsed.trace_id.to_string(), TRACE_ID);
    assert_ne!(
        &sent[36..52],
        &TRACEPARENT[36..52],
        "the parent-id is the caller's span"
    );
    assert_eq!(parsed.flags, 1);
    assert_eq!(
        got["backend"]["tracestate"],
        "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
    );
    assert_eq!(got["backend"]["x-request-id"], id.as_str());
    assert_eq!(got["backend"]["current"], TRACE_ID);
    // X-Request-ID behaves as before; trace headers are not echoed.
    assert_eq!(headers["x-request-id"], id.as_str());
    assert!(!headers.contains_key("traceparent"));

    let records: Vec<Value> = log_records()
        .into_iter()
        .filter(|r| r["request_id"] == id.as_str())
        .collect();
    let services: Vec<&Value> = records.iter().map(|r| &r["service"]).collect();
    assert!(services.contains(&&json!("trace-frontend")), "{records:?}");
    assert!(services.contains(&&json!("trace-backend")), "{records:?}");
    for record in &records {
        assert_eq!(record["trace_id"], TRACE_ID, "{record}");
    }
}

#[tokio::test]
async fn invalid_traceparents_are_ignored_never_forwarded_nor_logged() {
    logs();
    let invalid = [
        "ff-5bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-6BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-7bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-8bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        "00-9bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b",
        "hostile <script>alert(1)</script>",
    ];
    for value in invalid {
        let (got, headers) =
            through_two_services(&[("traceparent", value), ("tracestate", "rojo=1")]).await;
        let id = got["id"].as_str().expect("an ID").to_owned();
        // A new trace: its own ID everywhere, the invalid value nowhere.
        let trace = got["extension"].as_str().expect("a new trace").to_owned();
        assert!(!value.contains(&trace), "{value}");
        assert_eq!(got["traceparent_seen"], false, "removed: {value}");
        assert_eq!(got["tracestate_seen"], false, "{value}");
        let sent = got["backend"]["traceparent"]
            .as_str()
            .expect("a traceparent");
        let parsed = TraceParent::parse(sent.as_bytes()).expect("valid");
        assert_eq!(parsed.trace_id.to_string(), trace);
        assert_eq!(parsed.flags, 3, "sampled and random");
        assert_eq!(got["backend"]["tracestate"], Value::Null, "{value}");
        assert_eq!(got["backend"]["current"], trace.as_str(), "{value}");
        // The request ID still travels.
        assert_eq!(got["backend"]["x-request-id"], id.as_str());
        assert!(!headers.contains_key("traceparent"));

        let records: Vec<Value> = log_records()
            .into_iter()
            .filter(|r| r["request_id"] == id.as_str())
            .collect();
        assert!(records.len() >= 2, "{records:?}");
        assert!(
            records.iter().all(|r| r["trace_id"] == trace.as_str()),
            "{records:?}"
        );
        // Logged in the layer, before the request's scope opens: by length only.
        assert!(
            log_records().iter().any(|r| {
                r["message"] == "ignored an invalid traceparent header" && r["len"] == value.len()
            }),
            "{value}"
        );
        let raw = raw_logs();
        assert!(
            !raw.windows(value.len()).any(|w| w == value.as_bytes()),
            "logged raw: {value}"
        );
    }
}

#[tokio::test]
async fn an_invalid_tracestate_is_dropped_and_the_traceparent_kept() {
    let (got, _) = through_two_services(&[
        ("traceparent", TRACEPARENT),
        ("tracestate", "Invalid Key=1"),
    ])
    .await;
    let sent = got["backend"]["traceparent"]
        .as_str()
        .expect("a traceparent");
    assert_eq!(&sent[3..35], TRACE_ID);
    assert_eq!(got["backend"]["tracestate"], Value::Null);
    assert_eq!(got["tracestate_seen"], false);
}

#[tokio::test]
async fn spawned_work_keeps_the_trace_context_through_scope() {
    #[keviq::service(name = "trace-spawn")]
    fn spawner() -> Router {
        Router::new().route(
            "/spawn",
            get(|| async {
                let id = request_id::current().expect("in a request");
                tokio::spawn(request_id::scope(id, async {
                    trace_context::current().map(|t| t.trace_id().to_string())
                }))
                .await
                .expect("joined")
                .unwrap_or_default()
            }),
        )
    }
    let res = oneshot(
        spawner(),
        Request::get("/spawn")
            .header("traceparent", TRACEPARENT)
            .body(Body::empty())
            .expect("a request"),
    )
    .await;
    let body = res.into_body().collect().await.expect("body").to_bytes();
    assert_eq!(body, TRACE_ID);
}

/// Each hop writes a span line; together they form one tree: the frontend's server
/// span under the caller's, its client span under it, the backend's server span
/// under the client span.
#[tokio::test]
async fn every_hop_writes_a_span_line_and_the_lines_form_a_tree() {
    logs();
    let (got, _) = through_two_services(&[("traceparent", TRACEPARENT)]).await;
    let id = got["id"].as_str().expect("an ID").to_owned();
    let spans: Vec<Value> = log_records()
        .into_iter()
        .filter(|r| r["request_id"] == id.as_str() && r["target"] == "keviq::span")
        .collect();
    let find = |service: &str, kind: &str| {
        spans
            .iter()
            .find(|r| r["service"] == service && r["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} span of {service}: {spans:?}"))
            .clone()
    };
    let front = find("trace-frontend", "server");
    let call = find("trace-frontend", "client");
    let back = find("trace-backend", "server");
    assert_eq!(front["parent_span_id"], &TRACEPARENT[36..52]);
    assert_eq!(call["parent_span_id"], front["span_id"]);
    assert_eq!(back["parent_span_id"], call["span_id"]);
    for span in [&front, &call, &back] {
        assert_eq!(span["trace_id"], TRACE_ID, "{span}");
        assert_eq!(span["message"], "span");
        assert!(
            span["duration_ms"].as_f64().is_some_and(|d| d >= 0.0),
            "{span}"
        );
        assert!(
            span["start_ms"]
                .as_u64()
                .is_some_and(|s| s > 1_600_000_000_000),
            "{span}"
        );
        assert_eq!(span["status"], 200, "{span}");
        assert_eq!(span["method"], "GET", "{span}");
    }
    assert_eq!(front["route"], "/call");
    assert_eq!(back["route"], "/echo");
    assert_eq!(call["path"], "/echo");
    assert!(
        call["peer"]
            .as_str()
            .is_some_and(|p| p.starts_with("127.0.0.1:")),
        "{call}"
    );
    // The call returned before the frontend answered.
    let end = |s: &Value| s["start_ms"].as_f64().unwrap() + s["duration_ms"].as_f64().unwrap();
    assert!(end(&call) <= end(&front) + 1.0);
    // The handler's own lines name the request's span.
    let handler_line = log_records()
        .into_iter()
        .find(|r| r["request_id"] == id.as_str() && r["message"] == "trace frontend calling")
        .expect("the handler's line");
    assert_eq!(handler_line["span_id"], front["span_id"]);
}
