//! Histogram bucket bounds.

use crate::RuleError;

/// Default bucket bounds, in milliseconds: Prometheus' default seconds buckets
/// scaled to milliseconds, with two sub-millisecond bounds in front for fast
/// in-process handlers.
pub const DEFAULT_MS_BUCKETS: [f64; 14] = [
    0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0,
];

/// A histogram bucket's upper bound from its `le` label as the formats write it
/// (`0.5`, `1e3`, `+Inf`, `1.0` and `1` alike): the exposition parsers have checked
/// it is a number of the formats' grammar, and Rust reads the same spellings.
/// `None` for anything else.
///
/// ```
/// use keviq_model::parse_bucket_bound;
/// assert_eq!(parse_bucket_bound("+Inf"), Some(f64::INFINITY));
/// assert_eq!(parse_bucket_bound("2.5e1"), Some(25.0));
/// assert_eq!(parse_bucket_bound("250.0"), parse_bucket_bound("250"));
/// assert_eq!(parse_bucket_bound("many"), None);
/// ```
pub fn parse_bucket_bound(le: &str) -> Option<f64> {
    le.trim().parse().ok()
}

/// Checks histogram bucket bounds: at least one, finite, strictly increasing.
///
/// ```
/// use keviq_model::{RuleError, check_buckets};
/// assert!(check_buckets(&[5.0, 10.0]).is_ok());
/// assert_eq!(check_buckets(&[10.0, 5.0]), Err(RuleError::UnsortedBuckets));
/// ```
pub const fn check_buckets(bounds: &[f64]) -> Result<(), RuleError> {
    if bounds.is_empty() {
        return Err(RuleError::EmptyBuckets);
    }
    let mut i = 0;
    while i < bounds.len() {
        if !bounds[i].is_finite() {
            return Err(RuleError::NonFiniteBucket);
        }
        if i > 0 {
            if bounds[i] == bounds[i - 1] {
                return Err(RuleError::DuplicateBucket);
            }
            if bounds[i] < bounds[i - 1] {
                return Err(RuleError::UnsortedBuckets);
            }
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets() {
        assert_eq!(check_buckets(&[1.0, 2.0]), Ok(()));
        assert_eq!(check_buckets(&DEFAULT_MS_BUCKETS), Ok(()));
        assert_eq!(check_buckets(&[]), Err(RuleError::EmptyBuckets));
        assert_eq!(
            check_buckets(&[1.0, f64::NAN]),
            Err(RuleError::NonFiniteBucket)
        );
        assert_eq!(
            check_buckets(&[f64::INFINITY]),
            Err(RuleError::NonFiniteBucket)
        );
        assert_eq!(check_buckets(&[2.0, 1.0]), Err(RuleError::UnsortedBuckets));
        assert_eq!(check_buckets(&[1.0, 1.0]), Err(RuleError::DuplicateBucket));
    }
}
