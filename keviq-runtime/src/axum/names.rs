//! The names of the metrics every keviq service serves, for the code that reads
//! them back (the telemetry service, dashboards built in Rust). ARCHITECTURE.md fixes
//! them byte for byte; a unit test checks each against the declaration.

/// Total HTTP requests, by `method`, `path` and `status`.
pub const HTTP_REQUESTS_TOTAL: &str = "mona_http_requests_total";
/// The request-duration histogram family, by `method` and `path`: its series are
/// `_bucket`, `_sum` and `_count`.
pub const HTTP_REQUEST_DURATION_MS: &str = "mona_http_request_duration_ms";
/// HTTP requests answered with status >= 500, by `method` and `path`.
pub const HTTP_REQUEST_ERRORS_TOTAL: &str = "mona_http_request_errors_total";
/// HTTP requests being handled.
pub const HTTP_REQUESTS_IN_FLIGHT: &str = "mona_http_requests_in_flight";
/// Request exemplars shortened to fit OpenMetrics' budget, by `label` (`trace_id`
/// left out, `request_id` truncated).
pub const EXEMPLARS_TRUNCATED_TOTAL: &str = "keviq_exemplars_truncated_total";
/// The exemplar label holding a request's correlation ID, on
/// [`HTTP_REQUEST_DURATION_MS`] buckets and [`HTTP_REQUEST_ERRORS_TOTAL`].
pub const REQUEST_ID_LABEL: &str = "request_id";
/// The exemplar label holding a request's W3C trace ID (32 lowercase hex digits),
/// when it came with a valid `traceparent`.
pub const TRACE_ID_LABEL: &str = "trace_id";
/// Ends a [`REQUEST_ID_LABEL`] value that was truncated to fit OpenMetrics' budget:
/// the rest is a prefix of the request ID. No request ID contains it (they are
/// ASCII).
pub const TRUNCATION_MARK: &str = "\u{2026}";
/// `keviq_service_info{service="<name>"} 1`: the service serving the exposition.
pub const SERVICE_INFO: &str = "keviq_service_info";
/// The label of [`SERVICE_INFO`] that names the service.
pub const SERVICE_LABEL: &str = "service";
