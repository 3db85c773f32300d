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
//! use keviq_runtime::axum::MetricsLayer;
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

use crate::label::HttpMethod;

/// The `path` label of requests that match no route.
pub const UNMATCHED_PATH: &str = "unmatched";

/// Status recorded for a request whose client went away before the response.
pub const CLIENT_CLOSED: StatusCode = match StatusCode::from_u16(499) {
    Ok(s) => s,
    Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
};

keviq_macros::metric! {
    /// The HTTP metric families every keviq service records (names in [`names`](super::names)).
    ///
    /// `#[keviq::service]` gives each service its own set, so several services in one
    /// process each serve only their own traffic; [`MetricsLayer::new`] records into
    /// the process-wide [`HTTP`], which the global registry renders.
    #[metric(crate = crate)]
    pub static HTTP: HttpMetrics {
        /// Total HTTP requests
        pub requests: Counter(method: HttpMethod, path: &str, status: StatusCode) = "mona_http_requests_total",
        /// HTTP request duration in milliseconds
        pub duration: Histogram(method: HttpMethod, path: &str) = "mona_http_request_duration_ms",
        /// HTTP requests answered with status >= 500
        pub errors: Counter(method: HttpMethod, path: &str) = "mona_http_request_errors_total",
        /// HTTP requests being handled
        pub in_flight: Gauge = "mona_http_requests_in_flight",
    }
}

/// Records the HTTP metrics of every request. See the [module docs](self).
#[derive(Debug, Clone, Copy)]
pub struct MetricsLayer {
    metrics: &'static HttpMetrics,
}

impl MetricsLayer {
    /// The layer, recording into the process-wide [`HTTP`].
    pub const fn new() -> Self {
        Self::recording_into(&HTTP)
    }

    /// The layer, recording into `metrics` (a service's own set).
    pub const fn recording_into(metrics: &'static HttpMetrics) -> Self {
        Self { metrics }
    }
}

impl Default for MetricsLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> tower_layer::Layer<S> for MetricsLayer {
    type Service = Metrics<S>;
    fn layer(&self, inner: S) -> Self::Service {
        Metrics {
            inner,
            metrics: self.metrics,
        }
    }
}

/// The service [`MetricsLayer`] wraps around each route.
#[derive(Debug, Clone)]
pub struct Metrics<S> {
    inner: S,
    metrics: &'static HttpMetrics,
}

impl<S, B, ResBody> tower_service::Service<Request<B>> for Metrics<S>
where
    S: tower_service::Service<Request<B>, Response = Response<ResBody>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = MetricsFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let recording = Recording {
            metrics: self.metrics,
            method: HttpMethod::from(req.method()),
            path: req.extensions().get::<MatchedPath>().cloned(),
            start: Instant::now(),
        };
        self.metrics.in_flight.inc();
        MetricsFuture {
            inner: self.inner.call(req),
            recording: Some(recording),
        }
    }
}

struct Recording {
    metrics: &'static HttpMetrics,
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
        let http = self.metrics;
        http.requests.labels(self.method, path, status).inc();
        http.duration.labels(self.method, path).observe(ms);
        if status.is_server_error() {
            http.errors.labels(self.method, path).inc();
        }
        http.in_flight.dec();
    }
}

pin_project_lite::pin_project! {
    /// Response future of [`Metrics`].
    pub struct MetricsFuture<F> {
        #[pin]
        inner: F,
        recording: Option<Recording>,
    }

    impl<F> PinnedDrop for MetricsFuture<F> {
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

impl<F, ResBody, E> Future for MetricsFuture<F>
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

impl<F> std::fmt::Debug for MetricsFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsFuture").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::axum::names;

    #[test]
    fn the_names_the_readers_import_are_the_declared_ones() {
        let declared: Vec<&str> = HTTP
            .registrations()
            .iter()
            .map(|r| r.descriptor().name)
            .collect();
        assert_eq!(
            declared,
            [
                names::HTTP_REQUESTS_TOTAL,
                names::HTTP_REQUEST_DURATION_MS,
                names::HTTP_REQUEST_ERRORS_TOTAL,
                names::HTTP_REQUESTS_IN_FLIGHT,
            ]
        );
    }
}
