//! The names of the metrics every keviq service serves, for the code that reads
//! them back (the telemetry service, dashboards built in Rust). ARCHITECTURE.md fixes
//! them byte for byte; a unit test checks each against the declaration.
//!
//! The HTTP families carry a prefix, [`DEFAULT_PREFIX`] (`mona_`) unless the service
//! sets another with `#[keviq::service(prefix = "shop_")]`; the `HTTP_*` constants
//! are the default names, and [`HttpNames`] holds a service's own
//! ([`ServiceInfo::http_names`](super::ServiceInfo::http_names)).

use keviq_model::{MetricType, check_metric_name};

/// The prefix of the HTTP families when a service names none.
pub const DEFAULT_PREFIX: &str = "mona_";

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

/// What follows the prefix in each HTTP family's name, with the family's type, in
/// the order of [`HttpNames`]' fields and of [`HttpNames::new`]'s array.
///
/// `#[keviq::service]` joins a `prefix` to these when it is compiled (it cannot
/// depend on this crate, so it holds the same list); [`HttpNames::new`] checks
/// that what it was given is exactly this join, so the two cannot drift apart.
pub const HTTP_FAMILIES: [(&str, MetricType); 4] = [
    ("http_requests_total", MetricType::Counter),
    ("http_request_duration_ms", MetricType::Histogram),
    ("http_request_errors_total", MetricType::Counter),
    ("http_requests_in_flight", MetricType::Gauge),
];

/// The HTTP family names of one service: its prefix followed by each family's part
/// of [`HTTP_FAMILIES`]. Static strings, so recording and rendering never build a
/// name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpNames {
    /// The prefix (`mona_`).
    pub prefix: &'static str,
    /// `<prefix>http_requests_total`.
    pub requests_total: &'static str,
    /// `<prefix>http_request_duration_ms`.
    pub request_duration_ms: &'static str,
    /// `<prefix>http_request_errors_total`.
    pub request_errors_total: &'static str,
    /// `<prefix>http_requests_in_flight`.
    pub requests_in_flight: &'static str,
}

impl HttpNames {
    /// The names with [`DEFAULT_PREFIX`]: the `HTTP_*` constants of this module.
    pub const DEFAULT: Self = Self::new(
        DEFAULT_PREFIX,
        [
            HTTP_REQUESTS_TOTAL,
            HTTP_REQUEST_DURATION_MS,
            HTTP_REQUEST_ERRORS_TOTAL,
            HTTP_REQUESTS_IN_FLIGHT,
        ],
    );

    /// The names of `prefix`, given in the order of [`HTTP_FAMILIES`]. Rust has no
    /// `const` string concatenation, so the caller writes the names out (the
    /// attribute does, from its `prefix`) and this checks them.
    ///
    /// ```
    /// use keviq_runtime::axum::names::HttpNames;
    ///
    /// const SHOP: HttpNames = HttpNames::new("shop_", [
    ///     "shop_http_requests_total",
    ///     "shop_http_request_duration_ms",
    ///     "shop_http_request_errors_total",
    ///     "shop_http_requests_in_flight",
    /// ]);
    /// assert_eq!(SHOP.requests_total, "shop_http_requests_total");
    /// ```
    ///
    /// # Panics
    /// A name that is not `prefix` followed by its family's part, or that breaks a
    /// naming rule ([`check_metric_name`]). In a `const` or `static` (where the
    /// attribute builds it) that is a compile error.
    #[track_caller]
    pub const fn new(prefix: &'static str, names: [&'static str; 4]) -> Self {
        let mut i = 0;
        while i < HTTP_FAMILIES.len() {
            let (part, kind) = HTTP_FAMILIES[i];
            if !is_join(names[i], prefix, part) {
                panic!("an HTTP family name is not the prefix followed by its family's part");
            }
            if let Err(e) = check_metric_name(names[i], kind) {
                panic!("{}", e.message());
            }
            i += 1;
        }
        Self {
            prefix,
            requests_total: names[0],
            request_duration_ms: names[1],
            request_errors_total: names[2],
            requests_in_flight: names[3],
        }
    }

    /// This service's name for the family whose default name is `default` (one of
    /// the `HTTP_*` constants); any other name as it is.
    pub const fn rename(&self, default: &'static str) -> &'static str {
        let b = default.as_bytes();
        if bytes_eq(b, HTTP_REQUESTS_TOTAL.as_bytes()) {
            self.requests_total
        } else if bytes_eq(b, HTTP_REQUEST_DURATION_MS.as_bytes()) {
            self.request_duration_ms
        } else if bytes_eq(b, HTTP_REQUEST_ERRORS_TOTAL.as_bytes()) {
            self.request_errors_total
        } else if bytes_eq(b, HTTP_REQUESTS_IN_FLIGHT.as_bytes()) {
            self.requests_in_flight
        } else {
            default
        }
    }
}

impl Default for HttpNames {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Whether `name` is `prefix` followed by `part`.
const fn is_join(name: &str, prefix: &str, part: &str) -> bool {
    let (name, prefix, part) = (name.as_bytes(), prefix.as_bytes(), part.as_bytes());
    if name.len() != prefix.len() + part.len() {
        return false;
    }
    let (head, tail) = name.split_at(prefix.len());
    bytes_eq(head, prefix) && bytes_eq(tail, part)
}

const fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_names_are_the_constants() {
        let d = HttpNames::DEFAULT;
        assert_eq!(d.prefix, "mona_");
        assert_eq!(
            [
                d.requests_total,
                d.request_duration_ms,
                d.request_errors_total,
                d.requests_in_flight
            ],
            [
                "mona_http_requests_total",
                "mona_http_request_duration_ms",
                "mona_http_request_errors_total",
                "mona_http_requests_in_flight"
            ]
        );
        for name in [HTTP_REQUESTS_TOTAL, SERVICE_INFO] {
            assert_eq!(d.rename(name), name);
        }
    }

    #[test]
    fn names_are_renamed_to_the_prefix() {
        const SHOP: HttpNames = HttpNames::new(
            "shop_",
            [
                "shop_http_requests_total",
                "shop_http_request_duration_ms",
                "shop_http_request_errors_total",
                "shop_http_requests_in_flight",
            ],
        );
        assert_eq!(
            SHOP.rename(HTTP_REQUEST_DURATION_MS),
            "shop_http_request_duration_ms"
        );
        assert_eq!(
            SHOP.rename(HTTP_REQUESTS_IN_FLIGHT),
            "shop_http_requests_in_flight"
        );
        assert_eq!(SHOP.rename(SERVICE_INFO), SERVICE_INFO);
        let empty = HttpNames::new(
            "",
            [
                "http_requests_total",
                "http_request_duration_ms",
                "http_request_errors_total",
                "http_requests_in_flight",
            ],
        );
        assert_eq!(empty.requests_total, "http_requests_total");
    }

    #[test]
    fn names_that_are_not_the_join_or_break_a_rule_are_refused() {
        for (prefix, names) in [
            (
                "shop_",
                [
                    "mona_http_requests_total",
                    "shop_http_request_duration_ms",
                    "shop_http_request_errors_total",
                    "shop_http_requests_in_flight",
                ],
            ),
            (
                "9x_",
                [
                    "9x_http_requests_total",
                    "9x_http_request_duration_ms",
                    "9x_http_request_errors_total",
                    "9x_http_requests_in_flight",
                ],
            ),
        ] {
            assert!(std::panic::catch_unwind(|| HttpNames::new(prefix, names)).is_err());
        }
    }
}
