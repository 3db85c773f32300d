//! One log line per span: when a request a keviq service handled finishes (kind
//! `server`), and when a call made through
//! [`ForwardRequestIdLayer`](super::ForwardRequestIdLayer) returns (kind `client`).
//! With [`crate::logging`]'s JSON lines, a request's lines across the fleet
//! rebuild its trace: every line carries `trace_id` and `request_id` from the
//! request's scope, and a span line adds
//!
//! | field | server | client |
//! |---|---|---|
//! | `kind` | `server` | `client` |
//! | `span_id`, `parent_span_id` | this request's span, the caller's (absent for a new trace) | the call's span, the request's |
//! | `method` | the request's | the call's |
//! | `route` / `peer`, `path` | the route template (`/api/v1/orders/{id}`) | the callee's `host:port` and path, never the query |
//! | `status` | the status answered | the status received, or `error` with the reason |
//! | `start_ms`, `duration_ms` | wall-clock start (ms since the epoch), duration (ms, fractional) | the same for the call |
//!
//! The lines are `INFO` events with target [`TARGET`] and message `span`: on
//! wherever `INFO` is recorded (as [`crate::logging::init`] does by default), off
//! with the filter directive `keviq::span=off` (`RUST_LOG=info,keviq::span=off`).
//! When no subscriber records them, nothing is measured nor formatted.

use std::fmt::Display;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use http::{Method, Response, Uri};

use super::trace_context::SpanId;

/// The target of span lines.
pub const TARGET: &str = "keviq::span";

/// Whether a subscriber records span lines (a cached check per call site).
pub(crate) fn enabled() -> bool {
    tracing::enabled!(target: TARGET, tracing::Level::INFO)
}

fn epoch_ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The `server` line of a finished request, `duration_ms` after it started.
pub(crate) fn server(
    span_id: SpanId,
    parent_span_id: Option<SpanId>,
    method: &str,
    route: &str,
    status: u16,
    duration_ms: f64,
) {
    let start = SystemTime::now()
        .checked_sub(std::time::Duration::from_secs_f64(
            duration_ms.max(0.0) / 1000.0,
        ))
        .unwrap_or(UNIX_EPOCH);
    tracing::info!(
        target: TARGET,
        kind = "server",
        span_id = %span_id,
        parent_span_id = parent_span_id.map(tracing::field::display),
        method,
        route,
        status,
        start_ms = epoch_ms(start),
        duration_ms,
        "span"
    );
}

/// A call in flight: what its `client` line says when it returns.
#[derive(Debug)]
pub(crate) struct ClientSpan {
    span_id: SpanId,
    parent_span_id: SpanId,
    method: Method,
    uri: Uri,
    started: Instant,
    start: SystemTime,
}

impl ClientSpan {
    /// Starts timing call `span_id`, made for the request whose span is `parent`.
    pub(crate) fn start(span_id: SpanId, parent: SpanId, method: &Method, uri: &Uri) -> Self {
        Self {
            span_id,
            parent_span_id: parent,
            method: method.clone(),
            uri: uri.clone(),
            started: Instant::now(),
            start: SystemTime::now(),
        }
    }

    fn finish(self, outcome: Result<u16, &dyn Display>) {
        let duration_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        let peer = self.uri.authority().map_or("", |a| a.as_str());
        let path = self.uri.path();
        let (status, error) = match outcome {
            Ok(status) => (Some(status), None),
            Err(e) => (None, Some(tracing::field::display(e))),
        };
        tracing::info!(
            target: TARGET,
            kind = "client",
            span_id = %self.span_id,
            parent_span_id = %self.parent_span_id,
            method = self.method.as_str(),
            peer,
            path,
            status,
            error,
            start_ms = epoch_ms(self.start),
            duration_ms,
            "span"
        );
    }
}

pin_project_lite::pin_project! {
    /// A call's response future that writes its `client` line when it completes.
    pub struct ClientSpanFuture<F> {
        #[pin]
        inner: F,
        span: Option<ClientSpan>,
    }
}

impl<F> ClientSpanFuture<F> {
    pub(crate) fn new(inner: F, span: Option<ClientSpan>) -> Self {
        Self { inner, span }
    }
}

impl<F, B, E> Future for ClientSpanFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: Display,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        if let Some(span) = this.span.take() {
            match &result {
                Ok(response) => span.finish(Ok(response.status().as_u16())),
                Err(e) => span.finish(Err(e)),
            }
        }
        Poll::Ready(result)
    }
}

impl<F> std::fmt::Debug for ClientSpanFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSpanFuture")
            .field("span", &self.span)
            .finish_non_exhaustive()
    }
}
