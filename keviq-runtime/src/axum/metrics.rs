//! `MetricsLayer`: the HTTP families of ARCHITECTURE.md, recorded for every request, with
//! each request's ID as an exemplar. The layer's docs (this module is private) say
//! what is recorded, when, and how an over-long ID is shortened.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::MatchedPath;
use http::{Request, Response, StatusCode};
use http_body::Frame;

use super::names::{REQUEST_ID_LABEL, TRACE_ID_LABEL, TRUNCATION_MARK};
use super::request_id;
use super::span_record;
use crate::exemplar::ExemplarLabels;
use crate::label::HttpMethod;
use crate::metric::{DEFAULT_MS_BUCKETS, LabeledCounter, LabeledHistogram};

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
    /// process each serve only their own traffic, under the names of the service's
    /// prefix (`prefix = ".."`, `mona_` by default; [`HttpNames`](super::names::HttpNames)).
    /// [`MetricsLayer::new`] records into the process-wide [`HTTP`], which the global
    /// registry renders with the default names.
    ///
    /// The names are given when a registry renders the families, so recording never
    /// touches them. (A family's own name is only that of its overflow report,
    /// `keviq_series_overflow_total{metric}`, which keeps the default name.)
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

keviq_macros::metric! {
    /// Request exemplars shortened to fit OpenMetrics' 128-character budget, by the label left out (trace_id) or truncated (request_id)
    #[metric(crate = crate, max_series = 4)]
    pub(crate) static EXEMPLARS_TRUNCATED: Counter(label: &str) = "keviq_exemplars_truncated_total";
}

/// Records the HTTP metrics of every request:
///
/// | series | labels |
/// |---|---|
/// | `mona_http_requests_total` | method, path, status |
/// | `mona_http_request_duration_ms` (histogram: `_bucket`, `_sum`, `_count`) | method, path |
/// | `mona_http_request_errors_total` (status >= 500) | method, path |
/// | `mona_http_requests_in_flight` (gauge) | — |
///
/// `path` is the route template from axum's [`MatchedPath`], so series stay bounded;
/// a request that matches no route is recorded under [`UNMATCHED_PATH`]. Methods
/// outside the standard set are recorded as `OTHER`.
///
/// # Layer order
///
/// `MatchedPath` is only set for layers added with [`Router::layer`](axum::Router::layer)
/// (not around the whole router with `ServiceBuilder` on the outside), so add it
/// that way:
///
/// ```
/// use axum::{Router, routing::get};
/// use keviq_runtime::axum::MetricsLayer;
///
/// let app: Router = Router::new()
///     .route("/api/v1/tasks/{id}", get(|| async { "task" }))
///     .layer(MetricsLayer::new());
/// ```
///
/// # What is recorded when
///
/// - The duration runs until the response head is ready (not until the body is sent).
/// - A handler that panics is recorded with status `500`: either because a panic
///   layer inside this one (`#[keviq::service]` adds tower-http's `CatchPanicLayer`)
///   turned it into a 500 response, or, without one, when the unwinding panic drops
///   the request's future.
/// - A request whose client goes away before the response is ready is recorded with
///   status `499` (nginx's "client closed request"), with the time it ran; so is
///   one whose client hangs up in the middle of its body, though the handler
///   answered the broken body with a `400` nobody received.
/// - `/metrics` is counted like any other route, so scrapes are visible too.
///
/// # Exemplars
///
/// Each request's duration is observed with an [exemplar](crate::exemplar) on its
/// `mona_http_request_duration_ms` bucket, and a request answered with status >= 500
/// counts in `mona_http_request_errors_total` with the same exemplar. Its labels are
/// the request's correlation ID, `request_id`, and `trace_id` (32 hex digits) when
/// the request came with a valid W3C `traceparent`. They come from the scope of
/// keviq's [`RequestIdLayer`](super::RequestIdLayer), which must be outside this
/// layer (as `#[keviq::service]` stacks them); without it requests are recorded
/// without exemplars. Only OpenMetrics scrapes show exemplars.
///
/// OpenMetrics gives an exemplar's labels 128 characters, names and values together,
/// and Prometheus drops a longer exemplar without a word. A request ID can be 128
/// characters long ([`MAX_LEN`](super::request_id::MAX_LEN)), so keviq shortens,
/// never drops, in this order:
///
/// 1. `request_id` and `trace_id` fit (`request_id` up to 78 characters, which every
///    generated ID is): both are kept.
/// 2. Otherwise `trace_id` is left out: the request ID is what leads to the
///    request's log lines, and those carry the trace ID.
/// 3. `request_id` alone fits (up to 118 characters): it is kept whole.
/// 4. Otherwise its first 115 characters are kept and followed by `…` (U+2026,
///    [`TRUNCATION_MARK`](super::names::TRUNCATION_MARK)), which no request ID
///    contains (they are ASCII): a reader that finds the mark matches the rest as a
///    prefix of the request ID.
///
/// Each shortened request counts once in
/// `keviq_exemplars_truncated_total{label="trace_id"}` (left out) or
/// `{label="request_id"}` (truncated), or both, and the first one of the process is
/// logged at `WARN`.
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
            route: Arc::default(),
        }
    }
}

/// The service [`MetricsLayer`] wraps around each route.
#[derive(Debug, Clone)]
pub struct Metrics<S> {
    inner: S,
    metrics: &'static HttpMetrics,
    /// Shared by the clones axum makes per request.
    route: Arc<RouteSlot>,
}

/// Number of distinct statuses per route whose `requests` handle is kept.
const CACHED_STATUSES: usize = 3;

type DurationHandle = LabeledHistogram<'static, { DEFAULT_MS_BUCKETS.len() }>;

/// The series handles of the route a [`Metrics`] wraps, found on its first requests.
///
/// `Router::layer` wraps each method endpoint of each route in its own [`Metrics`],
/// so the matched path and the method are nearly always one value per instance:
/// keeping the handles saves three hashed lookups of the route template per
/// request. The first path and method seen are the ones cached; a request with
/// others (a layer around a nested or whole router) looks its series up as before.
/// About 150 bytes per endpoint.
#[derive(Debug, Default)]
struct RouteSlot(OnceLock<RouteCache>);

#[derive(Debug)]
struct RouteCache {
    path: MatchedPath,
    method: HttpMethod,
    duration: OnceLock<DurationHandle>,
    errors: OnceLock<&'static LabeledCounter>,
    requests: [OnceLock<(StatusCode, &'static LabeledCounter)>; CACHED_STATUSES],
}

impl RouteSlot {
    /// The cache for `path` and `method`, if they are the (first) ones of this route.
    #[inline]
    fn cache(&self, path: &MatchedPath, method: HttpMethod) -> Option<&RouteCache> {
        let cache = self.0.get_or_init(|| RouteCache {
            path: path.clone(),
            method,
            duration: OnceLock::new(),
            errors: OnceLock::new(),
            requests: Default::default(),
        });
        let cached = cache.path.as_str();
        let same_path = std::ptr::eq(cached, path.as_str()) || cached == path.as_str();
        (same_path && cache.method == method).then_some(cache)
    }
}

impl RouteCache {
    /// The `requests` handle of `status`, from the first free or matching slot.
    #[inline]
    fn requests(
        &self,
        status: StatusCode,
        lookup: impl Fn() -> &'static LabeledCounter,
    ) -> &'static LabeledCounter {
        for slot in &self.requests {
            // A free slot takes this status; a slot another thread just filled with
            // another status is skipped.
            let &(cached, handle) = slot.get_or_init(|| (status, lookup()));
            if cached == status {
                return handle;
            }
        }
        lookup()
    }
}

impl<S, ResBody> tower_service::Service<Request<Body>> for Metrics<S>
where
    S: tower_service::Service<Request<Body>, Response = Response<ResBody>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = MetricsFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let (req, client_gone) = watch_body(req);
        let recording = Recording {
            metrics: self.metrics,
            route: Arc::clone(&self.route),
            method: HttpMethod::from(req.method()),
            path: req.extensions().get::<MatchedPath>().cloned(),
            start: Instant::now(),
            client_gone,
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
    route: Arc<RouteSlot>,
    method: HttpMethod,
    path: Option<MatchedPath>,
    start: Instant,
    /// Set when the client hung up while sending the body (requests with one only).
    client_gone: Option<Arc<AtomicBool>>,
}

impl Recording {
    fn finish(self, status: StatusCode) {
        // The client never saw the `400` its broken body earned: it had left.
        let gone = self
            .client_gone
            .as_ref()
            .is_some_and(|g| g.load(Ordering::Relaxed));
        let status = if gone { CLIENT_CLOSED } else { status };
        let ms = self.start.elapsed().as_secs_f64() * 1000.0;
        let http = self.metrics;
        let method = self.method;
        let path = self
            .path
            .as_ref()
            .map_or(UNMATCHED_PATH, MatchedPath::as_str);
        let cache = self.path.as_ref().and_then(|p| self.route.cache(p, method));
        let requests = || http.requests.labels(method, path, status);
        let duration = || http.duration.labels(method, path);
        let errors = || http.errors.labels(method, path);
        match cache {
            Some(c) => c.requests(status, requests).inc(),
            None => requests().inc(),
        }
        let exemplar = request_exemplar();
        let duration = match cache {
            Some(c) => *c.duration.get_or_init(duration),
            None => duration(),
        };
        match &exemplar {
            Some(labels) => duration.observe_with_exemplar(ms, labels),
            None => duration.observe(ms),
        }
        if status.is_server_error() {
            let errors = match cache {
                Some(c) => *c.errors.get_or_init(errors),
                None => errors(),
            };
            match &exemplar {
                Some(labels) => errors.inc_with_exemplar(labels),
                None => errors.inc(),
            }
        }
        http.in_flight.dec();
        if span_record::enabled() {
            request_id::with_context(|c| {
                span_record::server(
                    c.trace.span_id(),
                    c.trace.parent_id(),
                    method.as_str(),
                    path,
                    status.as_u16(),
                    ms,
                );
            });
        }
    }
}

/// Watches the body of a request that has one, so a client that hangs up while
/// sending it is recorded as `499` rather than as the `400` the handler answers to
/// nobody. A request without a body (most `GET`s) passes through untouched: the
/// watch costs one allocation, only where a body can break.
fn watch_body(req: Request<Body>) -> (Request<Body>, Option<Arc<AtomicBool>>) {
    if req.body().size_hint().exact() == Some(0) {
        return (req, None);
    }
    let gone = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&gone);
    let req = req.map(|inner| Body::new(WatchedBody { inner, gone: flag }));
    (req, Some(gone))
}

pin_project_lite::pin_project! {
    /// A request body that notes whether the client went away while sending it.
    struct WatchedBody {
        #[pin]
        inner: Body,
        gone: Arc<AtomicBool>,
    }
}

impl HttpBody for WatchedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.project();
        let frame = std::task::ready!(this.inner.poll_frame(cx));
        if let Some(Err(e)) = &frame
            && client_hung_up(e)
        {
            this.gone.store(true, Ordering::Relaxed);
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Whether a body error means the client closed the connection (as opposed to a
/// malformed body or a body deadline, which stay the handler's answer).
fn client_hung_up(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(hyper) = err.downcast_ref::<hyper::Error>()
            && (hyper.is_incomplete_message() || hyper.is_closed() || hyper.is_canceled())
        {
            return true;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::UnexpectedEof
                    | std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
            )
        {
            return true;
        }
        source = err.source();
    }
    false
}

/// The exemplar labels of the current task's request (see the module docs), with
/// any shortening counted.
fn request_exemplar() -> Option<ExemplarLabels> {
    request_id::with_context(|c| {
        let mut hex = [0u8; 32];
        let trace_id = Some(c.trace.trace_id().hex(&mut hex));
        let (labels, shortened) = fit(c.id.as_str(), trace_id);
        if shortened != Shortened::default() {
            shortened.count();
        }
        labels
    })
}

/// What [`fit`] had to shorten.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Shortened {
    trace_id_left_out: bool,
    request_id_truncated: bool,
}

impl Shortened {
    #[cold]
    fn count(self) {
        static WARNED: AtomicBool = AtomicBool::new(false);
        if self.trace_id_left_out {
            EXEMPLARS_TRUNCATED.labels(TRACE_ID_LABEL).inc();
        }
        if self.request_id_truncated {
            EXEMPLARS_TRUNCATED.labels(REQUEST_ID_LABEL).inc();
        }
        if !WARNED.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                trace_id_left_out = self.trace_id_left_out,
                request_id_truncated = self.request_id_truncated,
                "a request's exemplar was shortened to fit OpenMetrics' 128 characters; \
                 further ones are counted in keviq_exemplars_truncated_total"
            );
        }
    }
}

/// `request_id` and `trace_id` as exemplar labels within the budget, shortened in
/// the order the module docs give. `request_id` is printable ASCII (a [`RequestId`]),
/// so its bytes are its characters.
///
/// [`RequestId`]: super::request_id::RequestId
fn fit(request_id: &str, trace_id: Option<&str>) -> (ExemplarLabels, Shortened) {
    const BUDGET: usize = ExemplarLabels::MAX_BYTES;
    let id_cost = REQUEST_ID_LABEL.len() + request_id.len();
    let trace_id_kept = trace_id.filter(|t| id_cost + TRACE_ID_LABEL.len() + t.len() <= BUDGET);
    let mut shortened = Shortened {
        trace_id_left_out: trace_id.is_some() && trace_id_kept.is_none(),
        request_id_truncated: false,
    };
    let mut labels = ExemplarLabels::empty();
    // Every push below fits by construction (the tests pin each case).
    if id_cost <= BUDGET {
        let _ = labels.push_known(REQUEST_ID_LABEL, request_id);
    } else {
        let mut keep = BUDGET - REQUEST_ID_LABEL.len() - TRUNCATION_MARK.len();
        while !request_id.is_char_boundary(keep) {
            keep -= 1;
        }
        let mut buf = [0u8; BUDGET];
        let head = request_id.as_bytes().get(..keep).unwrap_or_default();
        buf[..keep].copy_from_slice(head);
        buf[keep..keep + TRUNCATION_MARK.len()].copy_from_slice(TRUNCATION_MARK.as_bytes());
        if let Ok(cut) = std::str::from_utf8(&buf[..keep + TRUNCATION_MARK.len()]) {
            let _ = labels.push_known(REQUEST_ID_LABEL, cut);
        }
        shortened.request_id_truncated = true;
    }
    if let Some(trace_id) = trace_id_kept {
        let _ = labels.push_known(TRACE_ID_LABEL, trace_id);
    }
    (labels, shortened)
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
        let truncated = inventory::iter::<crate::Registration>
            .into_iter()
            .find(|r| crate::MetricGroup::contains(&EXEMPLARS_TRUNCATED, r.metric()))
            .map(|r| (r.descriptor().name, r.descriptor().labels));
        assert_eq!(
            truncated,
            Some((names::EXEMPLARS_TRUNCATED_TOTAL, &["label"][..]))
        );
    }

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

    fn labels(set: &ExemplarLabels) -> Vec<(String, String)> {
        set.iter()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect()
    }

    #[test]
    fn both_ids_when_they_fit() {
        let id = "6f1c2b0e-9a57-4c43-8b8f-8d6d3c1f2a10";
        let (set, shortened) = fit(id, Some(TRACE));
        assert_eq!(
            labels(&set),
            [
                ("request_id".into(), id.into()),
                ("trace_id".into(), TRACE.into())
            ]
        );
        assert_eq!(shortened, Shortened::default());
        // The longest request ID that leaves room for the trace ID.
        let id = "a".repeat(78);
        let (set, shortened) = fit(&id, Some(TRACE));
        assert_eq!((set.len(), set.text_len()), (2, 128));
        assert_eq!(shortened, Shortened::default());
        let (set, shortened) = fit(&id, None);
        assert_eq!(labels(&set), [("request_id".into(), id)]);
        assert_eq!(shortened, Shortened::default());
    }

    #[test]
    fn the_trace_id_goes_first() {
        for len in [79, 118] {
            let id = "b".repeat(len);
            let (set, shortened) = fit(&id, Some(TRACE));
            assert_eq!(labels(&set), [("request_id".into(), id)]);
            assert_eq!(
                shortened,
                Shortened {
                    trace_id_left_out: true,
                    request_id_truncated: false
                }
            );
        }
    }

    #[test]
    fn an_overlong_request_id_is_truncated_with_a_mark() {
        for (len, trace) in [(119, None), (128, None), (128, Some(TRACE))] {
            let id: String = (0..len)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            let (set, shortened) = fit(&id, trace);
            let value = set.get("request_id").unwrap();
            assert_eq!(value.strip_suffix(TRUNCATION_MARK), Some(&id[..115]));
            assert_eq!(set.len(), 1);
            assert_eq!((set.text_len(), set.chars()), (128, 126));
            assert!(set.chars() <= ExemplarLabels::MAX_CHARS);
            assert_eq!(
                shortened,
                Shortened {
                    trace_id_left_out: trace.is_some(),
                    request_id_truncated: true
                }
            );
        }
    }
}
