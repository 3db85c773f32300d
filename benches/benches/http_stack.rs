//! Per-request cost of HTTP instrumentation stacks on one small axum router, in
//! process, in one run.
//!
//! Each iteration builds `GET /api/v1/tasks/42` (no `X-Request-ID`, so every stack
//! with request IDs generates one), sends it with `tower::ServiceExt::oneshot` to a
//! clone of the router, and collects the response body (axum-prometheus finishes its
//! recording at the end of the body stream, so every stack does the same work to the
//! last byte). The loop runs inside one `block_on` of a current-thread tokio
//! runtime (criterion's `to_async`).
//!
//! | function | router |
//! |---|---|
//! | `bare` | the routes alone |
//! | `keviq` | `#[keviq::service]`: `RequestIdLayer` + `MetricsLayer` + `CatchPanicLayer` + `GET /metrics` |
//! | `keviq_traceparent` | the same, the request carrying a W3C `traceparent` and `tracestate` |
//! | `bare_traceparent` | the routes alone, the same request (building its two extra headers is not keviq's cost) |
//! | `keviq_request_id_only` | the routes + keviq's `RequestIdLayer` |
//! | `keviq_metrics_only` | the routes + keviq's `MetricsLayer` |
//! | `axum_prometheus_request_id` | axum-prometheus + tower-http's `SetRequestIdLayer::x_request_id(MakeRequestUuid)` + `PropagateRequestIdLayer::x_request_id()` + `GET /metrics` |
//! | `request_id_only` | the routes + the two tower-http request-id layers |
//! | `axum_prometheus_only` | the routes + axum-prometheus + `GET /metrics` |
//!
//! Every keviq stack with `MetricsLayer` inside `RequestIdLayer` records the request's
//! ID as the exemplar of its latency bucket (and the trace ID too in
//! `keviq_traceparent`), so these figures include it.
//!
//! No `tracing` subscriber is installed: keviq's `request` span is created (its
//! callsite is checked) but disabled, as in a service that logs nothing at `INFO`.
//!
//! axum-prometheus records histogram samples into a lock-free bucket that its
//! exporter drains on "upkeep" (every 5 s on a spawned task by default; that task
//! never runs inside the benchmark's `block_on`). So the bucket does not grow without
//! bound, its routines run the upkeep every [`UPKEEP_EVERY`] requests, inside the
//! timed loop: that work is a per-request cost of the crate too.
//!
//! Run with `cargo bench --bench http_stack`.

use std::cell::Cell;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use axum_prometheus::PrometheusMetricLayer;
use axum_prometheus::metrics_exporter_prometheus::PrometheusHandle;
use criterion::{Criterion, criterion_group};
use http::{Request, StatusCode};
use tokio::runtime::Runtime;
use tower::ServiceExt;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

/// The request every iteration sends.
const URI: &str = "/api/v1/tasks/42";

/// The body the route answers.
const TASK: &str = "task 42: done";

/// Requests between two upkeeps of axum-prometheus's exporter.
const UPKEEP_EVERY: u32 = 1024;

/// The small router every stack wraps.
fn routes() -> Router {
    Router::new()
        .route("/api/v1/tasks", get(|| async { "[]" }))
        .route("/api/v1/tasks/{id}", get(|| async { TASK }))
        .route("/healthz", get(|| async { "ok" }))
}

/// keviq's full stack, through the attribute as a service would write it.
#[keviq::service(name = "http-stack-bench")]
fn keviq_app() -> Router {
    routes()
}

fn keviq_request_id_only() -> Router {
    routes().layer(keviq::request_id::RequestIdLayer::new().service("http-stack-bench"))
}

fn keviq_metrics_only() -> Router {
    routes().layer(keviq::axum::MetricsLayer::new())
}

/// tower-http's request-id pair, `SetRequestId` outermost (the order tower-http
/// documents: set, then propagate on the way out).
fn with_tower_request_id(router: Router) -> Router {
    router
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

fn with_axum_prometheus(
    router: Router,
    layer: &PrometheusMetricLayer<'static>,
    handle: &PrometheusHandle,
) -> Router {
    let handle = handle.clone();
    router
        .route("/metrics", get(move || async move { handle.render() }))
        .layer(layer.clone())
}

fn request() -> Request<Body> {
    Request::get(URI)
        .body(Body::empty())
        .expect("static request")
}

/// The request with a trace context, as a traced caller sends it.
fn traced_request() -> Request<Body> {
    Request::get(URI)
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .header("tracestate", "rojo=00f067aa0ba902b7")
        .body(Body::empty())
        .expect("static request")
}

/// One request through `router`, body collected; returns the body length.
async fn one(router: &Router) -> usize {
    send(router, request()).await
}

/// `request` through `router`, body collected; returns the body length.
async fn send(router: &Router, request: Request<Body>) -> usize {
    let response = router.clone().oneshot(request).await.expect("infallible");
    let body = axum::body::to_bytes(response.into_body(), 1024)
        .await
        .expect("short body");
    body.len()
}

/// Checks once that a stack answers the request the same way as the bare router.
fn check(rt: &Runtime, name: &str, router: &Router, request_id: bool) {
    let response = rt
        .block_on(router.clone().oneshot(request()))
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::OK, "{name}");
    assert_eq!(
        response.headers().contains_key("x-request-id"),
        request_id,
        "{name}: x-request-id on the response"
    );
    let body = rt
        .block_on(axum::body::to_bytes(response.into_body(), 1024))
        .expect("short body");
    assert_eq!(body, TASK.as_bytes(), "{name}");
}

fn bench_http_stack(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");

    // `pair` installs the global `metrics` recorder (once per process) and spawns
    // its upkeep task, so it needs the runtime's context.
    let (prometheus_layer, handle) = {
        let _guard = rt.enter();
        PrometheusMetricLayer::pair()
    };

    // `with_state(())` turns every handler into a ready route with its layers
    // applied, as `axum::serve` does (`into_make_service`); without it, `oneshot`
    // on a router applies every layer again on every request, a cost no server pays.
    let bare = routes().with_state(());
    let keviq = keviq_app().with_state(());
    let keviq_rid = keviq_request_id_only().with_state(());
    let keviq_metrics = keviq_metrics_only().with_state(());
    let prom_rid =
        with_tower_request_id(with_axum_prometheus(routes(), &prometheus_layer, &handle))
            .with_state(());
    let rid = with_tower_request_id(routes()).with_state(());
    let prom = with_axum_prometheus(routes(), &prometheus_layer, &handle).with_state(());

    check(&rt, "bare", &bare, false);
    check(&rt, "keviq", &keviq, true);
    check(&rt, "keviq_request_id_only", &keviq_rid, true);
    check(&rt, "keviq_metrics_only", &keviq_metrics, false);
    check(&rt, "axum_prometheus_request_id", &prom_rid, true);
    check(&rt, "request_id_only", &rid, true);
    check(&rt, "axum_prometheus_only", &prom, false);

    let mut group = c.benchmark_group("http_stack");
    let plain: [(&str, &Router); 5] = [
        ("bare", &bare),
        ("keviq", &keviq),
        ("keviq_request_id_only", &keviq_rid),
        ("keviq_metrics_only", &keviq_metrics),
        ("request_id_only", &rid),
    ];
    for (name, router) in plain {
        group.bench_function(name, |b| b.to_async(&rt).iter(|| one(router)));
    }
    group.bench_function("keviq_traceparent", |b| {
        b.to_async(&rt).iter(|| send(&keviq, traced_request()))
    });
    group.bench_function("bare_traceparent", |b| {
        b.to_async(&rt).iter(|| send(&bare, traced_request()))
    });
    // keviq with its span lines written (JSON, to a sink), as the fleet logs them:
    // `warn,keviq::span=info`.
    let span_lines = tracing_subscriber::fmt()
        .event_format(keviq::logging::JsonFormat::new("bench"))
        .with_env_filter(tracing_subscriber::EnvFilter::new("warn,keviq::span=info"))
        .with_writer(std::io::sink)
        .finish();
    tracing::subscriber::with_default(span_lines, || {
        group.bench_function("keviq_span_lines", |b| b.to_async(&rt).iter(|| one(&keviq)));
        group.bench_function("bare_span_lines", |b| b.to_async(&rt).iter(|| one(&bare)));
    });
    let with_upkeep: [(&str, &Router); 2] = [
        ("axum_prometheus_request_id", &prom_rid),
        ("axum_prometheus_only", &prom),
    ];
    for (name, router) in with_upkeep {
        let since_upkeep = Cell::new(0u32);
        group.bench_function(name, |b| {
            b.to_async(&rt).iter(|| {
                let n = since_upkeep.get() + 1;
                if n == UPKEEP_EVERY {
                    handle.run_upkeep();
                    since_upkeep.set(0);
                } else {
                    since_upkeep.set(n);
                }
                one(router)
            });
        });
    }
    group.finish();

    // Sanity: both recorders saw the traffic.
    assert!(handle.render().contains("axum_http_requests_total"));
    let text = keviq::Registry::global()
        .expect("registry")
        .render(keviq::Format::Prometheus);
    assert!(text.contains(
        r#"mona_http_requests_total{method="GET",path="/api/v1/tasks/{id}",status="200"}"#
    ));
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50);
    targets = bench_http_stack
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
