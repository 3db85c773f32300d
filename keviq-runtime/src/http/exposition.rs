//! `GET /metrics`: the registry rendered in the format the scraper asks for.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, StatusCode};

use crate::expfmt::Format;
use crate::registry::Registry;

/// Renders every registered metric.
///
/// - `Content-Type: text/plain; version=0.0.4; charset=utf-8` by default;
///   OpenMetrics 1.0 when `Accept` asks for it ([`Format::from_accept`]).
/// - A registry that cannot be built (two declarations of one name) answers `500`
///   with the clash, naming both declaration sites.
///
/// Compression (`Accept-Encoding: gzip`) and `HEAD` come from how the route is
/// mounted: see [`metrics_router`](super::metrics_router).
pub async fn metrics_handler(headers: HeaderMap) -> Response {
    let format = headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map_or(Format::Prometheus, Format::from_accept);
    match Registry::global() {
        Ok(registry) => {
            let body = registry.render(format);
            let mut response = Response::new(Body::from(body));
            response.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
            );
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot render /metrics");
            (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response()
        }
    }
}
