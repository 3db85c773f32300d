//! The HTTP client for calls to other services: hyper-util's pooled client, wrapped
//! in [`ForwardRequestIdLayer`].

use axum::body::Body;
use hyper_util::client::legacy::Client as PooledClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tower_layer::Layer;

use super::request_id::{ForwardRequestId, ForwardRequestIdLayer};

/// What [`client`] returns: hyper-util's legacy (pooled, HTTP/1.1, `http://`) client
/// with axum's [`Body`] as the request body, wrapped in [`ForwardRequestIdLayer`].
///
/// It is a tower `Service<Request<Body>>` whose response is
/// `http::Response<hyper::body::Incoming>` and whose error is
/// `hyper_util::client::legacy::Error`.
pub type Client = ForwardRequestId<PooledClient<HttpConnector, Body>>;

/// An HTTP client whose calls carry the current request's `X-Request-ID`,
/// `traceparent` and `tracestate` (see [`ForwardRequestIdLayer`]).
///
/// Build one per process and clone it for each call: clones share one connection
/// pool. Building it needs no runtime; calls run on the current tokio runtime. It
/// speaks HTTP/1.1 over `http://` with `TCP_NODELAY` and hyper-util's defaults (no
/// timeout: bound a call with `tokio::time::timeout`). For another connector, wrap
/// your own client in [`ForwardRequestIdLayer`].
///
/// ```
/// use axum::body::Body;
/// use http::Request;
/// use tower::ServiceExt;
///
/// # async fn call() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// let client = keviq_runtime::axum::client();
/// let req = Request::get("http://127.0.0.1:8002/api/v1/stock").body(Body::empty())?;
/// let res = client.clone().oneshot(req).await?;
/// let body = axum::body::to_bytes(Body::new(res.into_body()), 1 << 20).await?;
/// # drop(body);
/// # Ok(()) }
/// ```
pub fn client() -> Client {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    ForwardRequestIdLayer::new().layer(PooledClient::builder(TokioExecutor::new()).build(connector))
}
