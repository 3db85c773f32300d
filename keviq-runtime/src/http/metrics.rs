//! `MetricsLayer`: the HTTP families of DESIGN.md, recorded for every request.
//!
//! | series | labels |
//! |---|---|
//! | `mona_http_requests_total` | method, path, status |
//! | `mona_http_request_duration_ms` (histogram: `_bucket`, `_sum`, `_count`) | method, path |
//! | `mona_http_request_errors_total` (status >= 500) | method, path |
//! | `mona_http_requests_in_flight` (gauge) | — |
//!
//! `path` is the route template from axum's [`MatchedPath`], so series stay bounded;
//! a request that matches no route is recorded under [`UNMATCHED_PATH`]. Methods
//! outside the standard set are recorded as `OTHER`.
//!
//! # Layer order
//!
//! `MatchedPath` is only set for layers added with [`Router::layer`](axum::Router::layer)
//! (not around the whole router with `ServiceBuilder` on the outside), so add it
//! that way:
//!
//! ```
//! use axum::{Router, routing::get};
//! use keviq_runtime::http::MetricsLayer;
//!
//! let app: Router = Router::new()
//!     .route("/api/v1/tasks/{id}", get(|| async { "task" }))
//!     .layer(MetricsLayer::new());
//! ```
//!
//! # What is recorded when
//!
//! - The duration runs until the response head is ready (not until the body is sent).
//! - A handler that panics is recorded with status `500`: either because a panic
//!   layer inside this one (`#[keviq::service]` adds tower-http's `CatchPanicLayer`)
//!   turned it into a 500 response, or, without one, when the unwinding panic drops
//!   the request's future.
//! - A request whose client goes away before the response is ready is recorded with
//!   status `499` (nginx's "client closed request"), with the time it ran.
//! - `/metrics` is counted like any other route, so scrapes are visible too.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::MatchedPath;
use http::{Request, Response, StatusCode};

use crate::label::{HttpMethod, Str};
use crate::metric::{
    DEFAULT_MAX_SERIES, DEFAULT_MS_BUCKETS, Family, Gauge, HistogramCell, LabeledCounter,
    MetricKind,
};
use crate::registry::{Descriptor, Registration, Site};

/// The `path` label of requests that match no route.
pub const UNMATCHED_PATH: &str = "unmatched";

/// Status recorded for a request whose client went away before the response.
pub const CLIENT_CLOSED: StatusCode = match StatusCode::from_u16(499) {
    Ok(s) => s,
    Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
};

const BUCKETS: usize = DEFAULT_MS_BUCKETS.len();

/// The HTTP metric families every keviq service records.
#[derive(Debug)]
pub struct HttpMetrics {
    /// `mona_http_requests_total{method, path, status}`
    pub requests: Family<(HttpMethod, Str, StatusCode), LabeledCounter>,
    /// `mona_http_request_duration_ms{method, path}`
    pub duration: Family<(HttpMethod, Str), HistogramCell<BUCKETS>>,
    /// `mona_http_request_errors_total{method, path}`
    pub errors: Family<(HttpMethod, Str), LabeledCounter>,
    /// `mona_http_requests_in_flight`
    pub in_flight: Gauge,
}

/// The process's HTTP metrics, recorded by every [`MetricsLayer`].
pub static HTTP: HttpMetrics = HttpMetrics {
    requests: Family::new("mona_http_requests_total", (), DEFAULT_MAX_SERIES),
    duration: Family::new(
        "mona_http_request_duration_ms",
        DEFAULT_MS_BUCKETS,
        DEFAULT_MAX_SERIES,
    ),
    errors: Family::new("mona_http_request_errors_total", (), DEFAULT_MAX_SERIES),
    in_flight: Gauge::new(),
};

macro_rules! register {
    ($field:ident, $name:literal, $kind:ident, $help:literal, [$($label:literal),*]) => {
        inventory::submit! {
            Registration::new(
                Descriptor::new($name, $help, MetricKind::$kind, &[$($label),*], Site { file: file!(), line: line!() }),
                &HTTP.$field,
            )
        }
    };
}
register!(
    requests,
    "mona_http_requests_total",
    Counter,
    "Total HTTP requests",
    ["method", "path", "status"]
);
register!(
    duration,
    "mona_http_request_duration_ms",
    Histogram,
    "HTTP request duration in milliseconds",
    ["method", "path"]
);
register!(
    errors,
    "mona_http_request_errors_total",
    Counter,
    "HTTP requests answered with status >= 500",
    ["method", "path"]
);
register!(
    in_flight,
    "mona_http_requests_in_flight",
    Gauge,
    "HTTP requests being handled",
    []
);

/// Records the HTTP metrics of every request. See the [module docs](self).
#[derive(Debug, Clone, Copy, Default)]
pub struct MetricsLayer {
    _private: (),
}

impl MetricsLayer {
    /// The layer.
    pub const fn new() -> Self {
        Self { _private: () }
    }
}

impl<S> tower_layer::Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        MetricsService { inner }
    }
}

/// The service [`MetricsLayer`] wraps around each route.
#[derive(Debug, Clone)]
pub struct MetricsService<S> {
    inner: S,
}

impl<S, B, ResBody> tower_service::Service<Request<B>> for MetricsService<S>
where
    S: tower_service::Service<Request<B>, Response = Response<ResBody>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let recording = Recording {
            method: HttpMethod::from(req.method()),
            path: req.extensions().get::<MatchedPath>().cloned(),
            start: Instant::now(),
        };
        HTTP.in_flight.inc();
        ResponseFuture {
            inner: self.inner.call(req),
            recording: Some(recording),
        }
    }
}

struct Recording {
    method: HttpMethod,
    path: Option<MatchedPath>,
    start: Instant,
}

impl Recording {
    fn finish(self, status: StatusCode) {
        let path = self
            .path
            .as_ref()
            .map_or(UNMATCHED_PATH, MatchedPath::as_str);
        let ms = self.start.elapsed().as_secs_f64() * 1000.0;
        HTTP.requests.get((self.method, path, status)).inc();
        HTTP.duration.get((self.method, path)).observe(ms);
        if status.is_server_error() {
            HTTP.errors.get((self.method, path)).inc();
        }
        HTTP.in_flight.dec();
    }
}

pin_project_lite::pin_project! {
    /// Response future of [`MetricsService`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        recording: Option<Recording>,
    }

    impl<F> PinnedDrop for ResponseFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            // Dropped before completion: the client went away, or the handler
            // panicked and the unwinding drops us.
            if let Some(recording) = this.project().recording.take() {
                let status = if std::thread::panicking() { StatusCode::INTERNAL_SERVER_ERROR } else { CLIENT_CLOSED };
                recording.finish(status);
            }
        }
    }
}

impl<F, ResBody, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        if let Some(recording) = this.recording.take() {
            let status = match &result {
                Ok(response) => response.status(),
                Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
            };
            recording.finish(status);
        }
        Poll::Ready(result)
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
