//! `GET /metrics`: the registry rendered in the format the scraper asks for.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, StatusCode};

use crate::Format;
use crate::{Registry, RegistryError};

/// Renders every registered metric: the global registry.
///
/// - `Content-Type: text/plain; version=0.0.4; charset=utf-8` by default;
///   OpenMetrics 1.0 when `Accept` asks for it ([`Format::from_accept`]).
/// - A registry that cannot be built (two declarations of one name) answers `500`
///   with the clash, naming both declaration sites.
///
/// Compression (`Accept-Encoding: gzip`) and `HEAD` come from how the route is
/// mounted: see [`metrics_router`](super::metrics_router). A `#[keviq::service]`
/// serves its own view instead ([`ServiceInfo::registry`](super::ServiceInfo::registry)).
pub async fn metrics_handler(headers: HeaderMap) -> Response {
    render_response(Registry::global(), &headers)
}

/// `registry` rendered in the format `headers` ask for, or the clash as a `500`.
pub(crate) fn render_response(
    registry: Result<&Registry, &RegistryError>,
    headers: &HeaderMap,
) -> Response {
    let format = headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map_or(Format::Prometheus, Format::from_accept);
    match registry {
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
