//! Reading a query string: each endpoint names what it takes, and refuses the rest.

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;

use super::error::ApiError;

/// A query string's parameters, in order, repeats kept (`label` repeats).
pub(super) type Params = Vec<(String, String)>;

/// The query string as pairs; a malformed one is a `400` like any bad parameter.
pub(super) fn pairs(query: Result<Query<Params>, QueryRejection>) -> Result<Params, ApiError> {
    query
        .map(|Query(p)| p)
        .map_err(|e| ApiError::MalformedQuery(e.to_string()))
}

/// Refuses a parameter not in `known` (`expected` lists them for the message).
pub(super) fn only(
    params: &Params,
    known: &[&str],
    expected: &'static str,
) -> Result<(), ApiError> {
    match params
        .iter()
        .find(|(name, _)| !known.contains(&name.as_str()))
    {
        Some((name, _)) => Err(ApiError::UnknownParameter {
            name: name.chars().take(64).collect(),
            expected,
        }),
        None => Ok(()),
    }
}

/// The value of the first `name` parameter.
pub(super) fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The number `parameter`: `default` when absent, else a finite number from `min`
/// to `max` ([`ApiError::OutOfRange`]).
pub(super) fn number(
    params: &Params,
    parameter: &'static str,
    default: f64,
    min: f64,
    max: f64,
) -> Result<f64, ApiError> {
    match param(params, parameter) {
        None => Ok(default),
        Some(text) => match text.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && (min..=max).contains(&v) => Ok(v),
            _ => Err(ApiError::OutOfRange {
                parameter,
                min,
                max,
            }),
        },
    }
}

/// The `limit` parameter: `default` when absent, else a whole number from 1 to
/// `cap` ([`ApiError::Limit`] names the cap).
pub(super) fn limit(params: &Params, default: i64, cap: i64) -> Result<i64, ApiError> {
    match param(params, "limit") {
        None => Ok(default),
        Some(text) => match text.trim().parse::<i64>() {
            Ok(n) if (1..=cap).contains(&n) => Ok(n),
            _ => Err(ApiError::Limit { max: cap }),
        },
    }
}
