//! Correlation IDs: `X-Request-ID` on every request, in every log line, on every
//! outgoing call, and on the response.
//!
//! [`RequestIdLayer`] keeps a well-formed incoming `X-Request-ID` and otherwise
//! generates a UUID (v4). A value is well-formed when it is 1 to [`MAX_LEN`] bytes of
//! ASCII letters, digits and `- _ . : + = @ /`: what UUIDs, ULIDs, base64 and the
//! usual `prefix:id` or `service/id` forms are made of, and nothing that needs
//! escaping in an OpenMetrics exemplar label, a JSON string or a log line (no quote,
//! backslash, space or control character; a path segment of the telemetry API
//! carries it percent-encoded). Anything else (quotes, spaces, CR/LF, NUL, non-ASCII,
//! too long) is replaced by a fresh ID, never echoed and never logged: only its
//! length is.
//!
//! The ID is then
//! 1. stored in the request's extensions as this module's [`RequestId`] (a handler
//!    takes it with `axum::Extension<RequestId>`) and as tower-http's
//!    [`RequestId`](tower_http::request_id::RequestId) (for tower-http's
//!    `PropagateRequestIdLayer` and `SetRequestIdLayer`, which leave a request that
//!    has one alone), and written back to the request's header so handlers see the
//!    normalised value;
//! 2. available to any code of the request's task through [`current`];
//! 3. a field of the `request` span the handler runs in, so every log record of the
//!    request carries it (the span is built when a subscriber records `INFO`, as
//!    `keviq::logging` does; without one nothing could record it);
//! 4. set on the response.
//!
//! [`ForwardRequestIdLayer`] puts the current ID on outgoing requests of an HTTP
//! client (any tower `Service`, such as hyper-util's client), and with it the
//! request's W3C trace context (`traceparent`, `tracestate`), which
//! [`RequestIdLayer`] reads too: see [`super::trace_context`].
//!
//! ```
//! use axum::{Router, routing::get};
//! use keviq_runtime::axum::request_id::{self, RequestIdLayer};
//!
//! let app: Router = Router::new()
//!     .route("/", get(|| async { request_id::current().map(|id| id.to_string()).unwrap_or_default() }))
//!     .layer(RequestIdLayer::new());
//! ```
//!
//! ```
//! use axum::{Extension, Router, routing::get};
//! use keviq_runtime::axum::request_id::{RequestId, RequestIdLayer};
//!
//! async fn handler(Extension(id): Extension<RequestId>) -> String {
//!     id.to_string()
//! }
//! let app: Router = Router::new().route("/", get(handler)).layer(RequestIdLayer::new());
//! ```
//!
//! tower-http's `SetRequestIdLayer` keeps any incoming value as is, so keviq checks
//! the value itself; it also stores tower-http's `RequestId` extension, with the same
//! value, so tower-http's own layers (and code that reads that type) interoperate.
//!
//! A task spawned with `tokio::spawn` does not inherit the request's scope: wrap its
//! future in [`scope`] with the ID from [`current`] to keep it (with the service
//! name and trace context of the request).

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{HeaderName, HeaderValue, Request, Response};
use tokio::task::futures::TaskLocalFuture;
use tracing::instrument::{Instrument, Instrumented};

use super::span_record::{self, ClientSpan, ClientSpanFuture};
use super::trace_context::{self, TRACEPARENT, TRACESTATE, TraceContext};

/// The header: `x-request-id`.
pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The longest incoming value kept, in bytes.
pub const MAX_LEN: usize = 128;

/// The correlation ID of a request.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RequestId(HeaderValue);

impl RequestId {
    /// The ID as text (always printable ASCII).
    pub fn as_str(&self) -> &str {
        // Every `RequestId` is visible ASCII (generated, or checked by `parse`), so
        // UTF-8's check (with its ASCII fast path) always passes.
        std::str::from_utf8(self.0.as_bytes()).unwrap_or_default()
    }

    /// The ID as a header value.
    pub fn header_value(&self) -> &HeaderValue {
        &self.0
    }

    /// A fresh random ID: a UUID v4 from [`trace_context::random_u64`] (a per-thread
    /// generator seeded from the operating system; no system call, no cryptographic
    /// generator per request: an ID must be unique, not secret).
    pub fn generate() -> Self {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&trace_context::random_u64().to_be_bytes());
        bytes[8..].copy_from_slice(&trace_context::random_u64().to_be_bytes());
        let uuid = uuid::Builder::from_random_bytes(bytes).into_uuid();
        let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let text = uuid.hyphenated().encode_lower(&mut buf);
        Self(HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static("invalid")))
    }

    /// The incoming value if it is well-formed (see the [module docs](self)).
    pub fn parse(value: &HeaderValue) -> Option<Self> {
        is_well_formed(value.as_bytes()).then(|| Self(value.clone()))
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<RequestId> for tower_http::request_id::RequestId {
    fn from(id: RequestId) -> Self {
        Self::new(id.0)
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestId({:?})", self.as_str())
    }
}

/// 1 to [`MAX_LEN`] bytes of ASCII letters, digits and `- _ . : + = @ /`.
///
/// ```
/// use keviq_runtime::axum::request_id::is_well_formed;
/// assert!(is_well_formed(b"6f1c2a90-1d2e-4c1b-9d0a-55aa11bb22cc"));
/// assert!(is_well_formed(b"Root=1-67891233-abcdef012345678912345678"));
/// assert!(!is_well_formed(b"a\"b"));
/// assert!(!is_well_formed(b"a b"));
/// ```
pub fn is_well_formed(value: &[u8]) -> bool {
    !value.is_empty()
        && value.len() <= MAX_LEN
        && value.iter().all(|&b| {
            b.is_ascii_alphanumeric()
                || matches!(b, b'-' | b'_' | b'.' | b':' | b'+' | b'=' | b'@' | b'/')
        })
}

/// What the request's task knows about it.
#[derive(Clone, Debug)]
pub(crate) struct RequestContext {
    pub(crate) id: RequestId,
    pub(crate) service: Option<&'static str>,
    pub(crate) trace: TraceContext,
}

tokio::task_local! {
    static CONTEXT: RequestContext;
}

/// The ID of the request the current task is handling, if any.
pub fn current() -> Option<RequestId> {
    CONTEXT.try_with(|c| c.id.clone()).ok()
}

/// `f` of the current task's request context, without copying it.
pub(crate) fn with_context<R>(f: impl FnOnce(&RequestContext) -> R) -> Option<R> {
    CONTEXT.try_with(f).ok()
}

/// Runs `future` with `id` as its current request ID, for work moved to another task:
/// `tokio::spawn(request_id::scope(id, work))`.
///
/// The service name, and the trace context when `id` is the current request's, are
/// taken from the scope `scope` is called in (not the one the future later runs in);
/// for another ID the work is a new trace.
pub fn scope<F: Future>(id: RequestId, future: F) -> impl Future<Output = F::Output> {
    let (service, trace) = with_context(|c| {
        let trace = (c.id == id).then(|| c.trace.clone());
        (c.service, trace)
    })
    .unwrap_or_default();
    let trace = trace.unwrap_or_else(|| TraceContext::new_trace(true));
    CONTEXT.scope(RequestContext { id, service, trace }, future)
}

/// Assigns, scopes, logs and echoes request IDs. See the [module docs](self).
#[derive(Debug, Clone, Copy)]
pub struct RequestIdLayer {
    service: Option<&'static str>,
    sample_new_traces: bool,
}

impl Default for RequestIdLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl RequestIdLayer {
    /// The layer.
    pub const fn new() -> Self {
        Self {
            service: None,
            sample_new_traces: true,
        }
    }

    /// Whether a trace this layer starts (the request came without a valid
    /// `traceparent`) is sampled: `true` unless set. A continued trace keeps the
    /// caller's `sampled` flag either way.
    pub const fn sample_new_traces(mut self, sampled: bool) -> Self {
        self.sample_new_traces = sampled;
        self
    }

    /// Also names the service in the request's scope (for the `service` field of
    /// JSON logs when several services share a process).
    pub const fn service(mut self, name: &'static str) -> Self {
        self.service = Some(name);
        self
    }
}

impl<S> tower_layer::Layer<S> for RequestIdLayer {
    type Service = SetRequestId<S>;
    fn layer(&self, inner: S) -> Self::Service {
        SetRequestId {
            inner,
            service: self.service,
            sample_new_traces: self.sample_new_traces,
        }
    }
}

/// The service [`RequestIdLayer`] wraps.
#[derive(Debug, Clone)]
pub struct SetRequestId<S> {
    inner: S,
    service: Option<&'static str>,
    sample_new_traces: bool,
}

impl<S, B, ResBody> tower_service::Service<Request<B>> for SetRequestId<S>
where
    S: tower_service::Service<Request<B>, Response = Response<ResBody>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = SetRequestIdFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let incoming = req.headers().get(&HEADER);
        let kept = incoming.and_then(RequestId::parse);
        // Only a replaced value's length is ever logged, never the value.
        let rejected_len = if kept.is_none() {
            incoming.map(HeaderValue::len)
        } else {
            None
        };
        let generated = kept.is_none();
        let id = kept.unwrap_or_else(RequestId::generate);
        let trace = trace_context::extract(req.headers());
        // No subscriber records INFO (none is installed, or it filters INFO out):
        // the span would be disabled anyway, but tracing's `log` compatibility
        // (switched on by axum's default `tower-log` feature) would still build its
        // fields for the `log` crate on every request, and again on every poll.
        let span = if tracing::level_enabled!(tracing::Level::INFO) {
            tracing::info_span!(
                "request",
                request_id = id.as_str(),
                trace_id = tracing::field::Empty,
                span_id = tracing::field::Empty,
                method = %req.method(),
                uri = %req.uri().path(),
            )
        } else {
            tracing::Span::none()
        };
        if let Some(len) = rejected_len {
            span.in_scope(|| tracing::debug!(len, "replaced a malformed X-Request-ID header"));
        }
        // Ignored trace headers leave the request, so no handler forwards them; only
        // their length is logged.
        // Ignored trace headers leave the request, so no handler forwards them; only
        // their length is logged.
        if let Some(len) = trace.rejected_traceparent {
            span.in_scope(|| tracing::debug!(len, "ignored an invalid traceparent header"));
            req.headers_mut().remove(TRACEPARENT);
            req.headers_mut().remove(TRACESTATE);
        }
        if let Some(len) = trace.rejected_tracestate {
            span.in_scope(|| tracing::debug!(len, "ignored an invalid tracestate header"));
            req.headers_mut().remove(TRACESTATE);
        }
        // Continued, or a new trace.
        let context = trace
            .context
            .unwrap_or_else(|| TraceContext::new_trace(self.sample_new_traces));
        span.record("trace_id", tracing::field::display(context.trace_id()));
        span.record("span_id", tracing::field::display(context.span_id()));
        if generated {
            req.headers_mut().insert(HEADER, id.0.clone());
        }
        // Both types: keviq's for `Extension<RequestId>`, tower-http's for its layers.
        req.extensions_mut()
            .insert(tower_http::request_id::RequestId::new(id.0.clone()));
        req.extensions_mut().insert(id.clone());
        req.extensions_mut().insert(context.clone());
        let context = RequestContext {
            id: id.clone(),
            service: self.service,
            trace: context,
        };
        let inner = CONTEXT.scope(context, self.inner.call(req).instrument(span));
        SetRequestIdFuture {
            inner,
            id: Some(id),
        }
    }
}

pin_project_lite::pin_project! {
    /// Response future of [`SetRequestId`].
    pub struct SetRequestIdFuture<F> {
        #[pin]
        inner: TaskLocalFuture<RequestContext, Instrumented<F>>,
        id: Option<RequestId>,
    }
}

impl<F, ResBody, E> Future for SetRequestIdFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut result = std::task::ready!(this.inner.poll(cx));
        if let (Ok(response), Some(id)) = (&mut result, this.id.take()) {
            response.headers_mut().insert(HEADER, id.0);
        }
        Poll::Ready(result)
    }
}

impl<F> fmt::Debug for SetRequestIdFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetRequestIdFuture")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Sets `X-Request-ID` on outgoing requests from the current request's scope, unless
/// the request already has one; and makes each call a client span of the request's
/// trace: a `traceparent` with a new span ID, and the request's `tracestate`, unless
/// the outgoing request has a `traceparent` of its own (see
/// [`TraceContext::inject`]). When a subscriber records them, the call's span line
/// is written when it returns ([`super::span_record`]).
///
/// ```
/// use keviq_runtime::axum::request_id::ForwardRequestIdLayer;
/// use tower::ServiceBuilder;
/// # fn wrap<C>(client: C) -> impl Sized {
/// let client = ServiceBuilder::new().layer(ForwardRequestIdLayer::new()).service(client);
/// # client }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct ForwardRequestIdLayer {
    _private: (),
}

impl ForwardRequestIdLayer {
    /// The layer.
    pub const fn new() -> Self {
        Self { _private: () }
    }
}

impl<S> tower_layer::Layer<S> for ForwardRequestIdLayer {
    type Service = ForwardRequestId<S>;
    fn layer(&self, inner: S) -> Self::Service {
        ForwardRequestId { inner }
    }
}

/// The client service [`ForwardRequestIdLayer`] wraps.
#[derive(Debug, Clone)]
pub struct ForwardRequestId<S> {
    inner: S,
}

impl<S, B, ResBody> tower_service::Service<Request<B>> for ForwardRequestId<S>
where
    S: tower_service::Service<Request<B>, Response = Response<ResBody>>,
    S::Error: fmt::Display,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ClientSpanFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let span = with_context(|c| {
            let headers = req.headers_mut();
            if !headers.contains_key(&HEADER) {
                headers.insert(HEADER, c.id.0.clone());
            }
            let call = c.trace.inject(headers)?;
            span_record::enabled()
                .then(|| ClientSpan::start(call, c.trace.span_id(), req.method(), req.uri()))
        })
        .flatten();
        ClientSpanFuture::new(self.inner.call(req), span)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_values() {
        assert!(is_well_formed(b"abc-123"));
        assert!(is_well_formed(&[b'a'; MAX_LEN]));
        for bad in [
            &b""[..],
            b"a b",
            b"a\r\nb",
            b"a\0",
            b"\x7f",
            "é".as_bytes(),
            &[b'a'; MAX_LEN + 1],
        ] {
            assert!(!is_well_formed(bad), "{bad:?}");
        }
    }

    /// Answers with the two extensions the request reached it with.
    #[derive(Clone)]
    struct Extensions;

    type Seen = (Option<RequestId>, Option<tower_http::request_id::RequestId>);

    impl tower_service::Service<Request<()>> for Extensions {
        type Response = Response<Seen>;
        type Error = std::convert::Infallible;
        type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, req: Request<()>) -> Self::Future {
            let ext = req.extensions();
            let seen = (ext.get::<RequestId>().cloned(), ext.get().cloned());
            std::future::ready(Ok(Response::new(seen)))
        }
    }

    #[tokio::test]
    async fn the_request_carries_keviqs_and_tower_https_id() {
        use tower_layer::Layer;
        use tower_service::Service;
        let mut svc = RequestIdLayer::new().layer(Extensions);
        for incoming in [Some("abc-123"), None, Some("bad value")] {
            let mut req = Request::new(());
            if let Some(v) = incoming {
                req.headers_mut()
                    .insert(HEADER, HeaderValue::from_str(v).unwrap());
            }
            let res = svc.call(req).await.unwrap();
            let echoed = res.headers()[&HEADER].clone();
            let (ours, theirs) = res.into_body();
            let ours = ours.expect("keviq's RequestId is in the extensions");
            let theirs = theirs.expect("tower-http's RequestId is in the extensions");
            assert_eq!(ours.header_value(), &echoed);
            assert_eq!(theirs.header_value(), &echoed);
            let converted = tower_http::request_id::RequestId::from(ours);
            assert_eq!(converted.header_value(), &echoed);
            if incoming == Some("abc-123") {
                assert_eq!(echoed, "abc-123");
            }
        }
    }

    #[test]
    fn generated_ids_are_uuids() {
        let id = RequestId::generate();
        assert_eq!(id.as_str().len(), 36);
        assert!(uuid::Uuid::parse_str(id.as_str()).is_ok());
        assert_ne!(id, RequestId::generate());
    }
}
