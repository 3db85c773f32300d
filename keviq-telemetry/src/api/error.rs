//! Why the API refused a request, and the JSON it answers with.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Serialize;

use crate::store::StoreError;

/// A refused request: a `400` for a bad query (naming the parameter when one is at
/// fault), a `503` when the database fails, stops a query at its statement timeout
/// ([`ApiError::Timeout`]) or has no connection free ([`ApiError::Busy`]). All
/// answer `{"error": "<message>", "parameter": "<name>" | null}`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The query string does not decode.
    #[error("malformed query string: {0}")]
    MalformedQuery(String),
    /// A parameter the endpoint does not take (its name, shortened for the message).
    #[error("unknown parameter `{name}`; expected {expected}")]
    UnknownParameter {
        /// The parameter given.
        name: String,
        /// The parameters the endpoint takes, for the message.
        expected: &'static str,
    },
    /// A `service` that is no scraped target's service nor `host:port`.
    #[error("`service` names no scraped service")]
    UnknownService,
    /// `sort` other than `time` or `value`.
    #[error("`sort` must be `time` or `value`")]
    Sort,
    /// A request ID that is not well formed (see `keviq::request_id`).
    #[error("`request_id` is not a well-formed request ID")]
    RequestId,
    /// A trace ID that is not 32 lowercase hex digits.
    #[error("`trace_id` must be 32 lowercase hex digits, not all zeros")]
    TraceId,
    /// No log files to read (`TELEMETRY_LOG_FILES` unset).
    #[error(
        "this telemetry service reads no log files (TELEMETRY_LOG_FILES); follow TELEMETRY_LOG_URL or set it"
    )]
    NoLogs,
    /// The log scan task failed (logged; the message says no more).
    #[error("the log files could not be read")]
    LogScan,
    /// A number outside its range, or not a number.
    #[error("`{parameter}` must be a number from {min} to {max}")]
    OutOfRange {
        /// The parameter.
        parameter: &'static str,
        /// The smallest value accepted.
        min: f64,
        /// The largest value accepted.
        max: f64,
    },
    /// `history` other than `0`, `1`, `false`, `true`.
    #[error("`history` must be 0 or 1")]
    History,
    /// No `metric`.
    #[error("`metric` is required")]
    MissingMetric,
    /// A `metric` that is no valid sample name.
    #[error("`metric` is not a valid metric name")]
    InvalidMetric,
    /// `since` later than `until`.
    #[error("`since` is after `until`")]
    SinceAfterUntil,
    /// A `label` matcher that is not `name=value`.
    #[error("`label` must be `name=value`")]
    LabelMatcher,
    /// A `label` matcher whose name is outside the label grammar.
    #[error("`label` names must match `[a-zA-Z_][a-zA-Z0-9_]*`")]
    LabelName,
    /// More `label` matchers than an answer takes.
    #[error("at most {max} `label` matchers")]
    TooManyMatchers {
        /// The most accepted.
        max: usize,
    },
    /// A `limit` that is not a whole number from 1 to the endpoint's cap.
    #[error("`limit` must be a whole number from 1 to {max} (the cap of this endpoint)")]
    Limit {
        /// The endpoint's cap.
        max: i64,
    },
    /// The database stopped the query at its statement timeout.
    #[error(
        "the query ran longer than {} s and was stopped; narrow `since`/`until`, add `target` or lower `limit`",
        .0.as_secs_f64()
    )]
    Timeout(std::time::Duration),
    /// Every database connection stayed busy with other queries.
    #[error("every database connection is busy with other queries; retry shortly")]
    Busy,
    /// The database failed (logged; the message says no more).
    #[error("the database is unavailable")]
    Unavailable,
    /// The query API failed (logged; the message says no more).
    #[error("the query API (TELEMETRY_QUERY_URL) is unavailable")]
    QueryUnavailable,
    /// No local store (`TELEMETRY_DATABASE_URL=none`) to answer from.
    #[error(
        "this telemetry service keeps no local store (TELEMETRY_DATABASE_URL=none); query the time-series database"
    )]
    NoStore,
}

impl ApiError {
    /// The parameter at fault, if one is.
    pub fn parameter(&self) -> Option<&'static str> {
        match self {
            Self::MalformedQuery(_)
            | Self::UnknownParameter { .. }
            | Self::Unavailable
            | Self::Timeout(_)
            | Self::Busy
            | Self::NoLogs
            | Self::LogScan
            | Self::QueryUnavailable
            | Self::NoStore => None,
            Self::OutOfRange { parameter, .. } => Some(*parameter),
            Self::History => Some("history"),
            Self::MissingMetric | Self::InvalidMetric => Some("metric"),
            Self::SinceAfterUntil => Some("since"),
            Self::LabelMatcher | Self::LabelName | Self::TooManyMatchers { .. } => Some("label"),
            Self::Limit { .. } => Some("limit"),
            Self::UnknownService => Some("service"),
            Self::Sort => Some("sort"),
            Self::RequestId => Some("request_id"),
            Self::TraceId => Some("trace_id"),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unavailable
            | Self::QueryUnavailable
            | Self::LogScan
            | Self::Timeout(_)
            | Self::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Self::NoStore | Self::NoLogs => StatusCode::NOT_FOUND,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Timeout(limit) => {
                tracing::warn!(error = %e, "query stopped at its statement timeout");
                Self::Timeout(limit)
            }
            StoreError::Busy => {
                tracing::warn!(error = %e, "no database connection free");
                Self::Busy
            }
            _ => {
                tracing::error!(error = %e, "query failed");
                Self::Unavailable
            }
        }
    }
}

/// The body of an error answer.
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    /// What is wrong, in words.
    pub error: String,
    /// The parameter at fault, or `null`.
    pub parameter: Option<&'static str>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.to_string(),
            parameter: self.parameter(),
        };
        (self.status(), Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_parameters() {
        let e = ApiError::OutOfRange {
            parameter: "window",
            min: 1.0,
            max: 86_400.0,
        };
        assert_eq!(e.to_string(), "`window` must be a number from 1 to 86400");
        assert_eq!(
            (e.status(), e.parameter()),
            (StatusCode::BAD_REQUEST, Some("window"))
        );
        assert_eq!(
            ApiError::Unavailable.status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        let unknown = ApiError::UnknownParameter {
            name: "x".into(),
            expected: "metric, limit",
        };
        assert_eq!(unknown.parameter(), None);
        assert_eq!(
            unknown.to_string(),
            "unknown parameter `x`; expected metric, limit"
        );
        let json = serde_json::to_string(&ErrorBody {
            error: ApiError::LabelMatcher.to_string(),
            parameter: ApiError::LabelMatcher.parameter(),
        })
        .expect("serializes");
        assert_eq!(
            json,
            r#"{"error":"`label` must be `name=value`","parameter":"label"}"#
        );
    }

    #[test]
    fn timeouts_and_busy_pools_are_503s_that_say_what_to_do() {
        let timeout = ApiError::from(StoreError::Timeout(std::time::Duration::from_secs(5)));
        assert_eq!(
            (timeout.status(), timeout.parameter()),
            (StatusCode::SERVICE_UNAVAILABLE, None)
        );
        assert_eq!(
            timeout.to_string(),
            "the query ran longer than 5 s and was stopped; narrow `since`/`until`, add `target` or lower `limit`"
        );
        let busy = ApiError::from(StoreError::Busy);
        assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
        let limit = ApiError::Limit { max: 100_000 };
        assert_eq!(
            (limit.status(), limit.parameter()),
            (StatusCode::BAD_REQUEST, Some("limit"))
        );
        assert_eq!(
            limit.to_string(),
            "`limit` must be a whole number from 1 to 100000 (the cap of this endpoint)"
        );
    }
}
