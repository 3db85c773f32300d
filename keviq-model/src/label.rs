//! Label names: the grammar and the labels Prometheus reserves.

use crate::bytes::{check_chars, eq, is_camel_case};
use crate::{MetricType, RuleError};

/// The label of a histogram bucket's upper bound.
pub const BUCKET_LABEL: &str = "le";
/// The label of a summary quantile.
pub const QUANTILE_LABEL: &str = "quantile";
/// The label Prometheus stores a series' metric name in.
pub const METRIC_NAME_LABEL: &str = "__name__";

/// Checks a label name against the Prometheus grammar only
/// (`[a-zA-Z_][a-zA-Z0-9_]*`): what a parser or a query accepts, reserved names
/// included.
///
/// ```
/// use keviq_model::check_label_name_syntax;
/// assert!(check_label_name_syntax("__name__").is_ok());
/// assert!(check_label_name_syntax("a:b").is_err());
/// assert!(check_label_name_syntax("").is_err());
/// ```
pub const fn check_label_name_syntax(name: &str) -> Result<(), RuleError> {
    check_chars(name.as_bytes(), false)
}

/// Checks a declared label name: the Prometheus grammar, no `__` prefix, neither
/// `le` (histogram buckets; `promlint` flags it on other types too) nor `quantile`
/// (summary quantiles), and no camelCase.
///
/// ```
/// use keviq_model::{MetricType, RuleError, check_label_name};
/// assert!(check_label_name("method", MetricType::Counter).is_ok());
/// assert_eq!(check_label_name("le", MetricType::Histogram), Err(RuleError::ReservedLabel));
/// ```
pub const fn check_label_name(name: &str, kind: MetricType) -> Result<(), RuleError> {
    let bytes = name.as_bytes();
    if let Err(e) = check_label_name_syntax(name) {
        return Err(e);
    }
    if bytes.len() >= 2 && bytes[0] == b'_' && bytes[1] == b'_' {
        return Err(RuleError::ReservedLabelPrefix);
    }
    // Every type reserves both: `le` is the bucket label and `quantile` the summary
    // label; `promlint` flags them on any other type.
    let _ = kind;
    if eq(bytes, BUCKET_LABEL.as_bytes()) || eq(bytes, QUANTILE_LABEL.as_bytes()) {
        return Err(RuleError::ReservedLabel);
    }
    if is_camel_case(bytes) {
        return Err(RuleError::CamelCaseLabel);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use MetricType::*;

    #[test]
    fn label_names() {
        assert_eq!(check_label_name("method", Counter), Ok(()));
        assert_eq!(
            check_label_name("le", Counter),
            Err(RuleError::ReservedLabel)
        );
        assert_eq!(
            check_label_name("statusCode", Counter),
            Err(RuleError::CamelCaseLabel)
        );
        assert_eq!(
            check_label_name("le", Histogram),
            Err(RuleError::ReservedLabel)
        );
        assert_eq!(
            check_label_name("quantile", Gauge),
            Err(RuleError::ReservedLabel)
        );
        assert_eq!(
            check_label_name("__x", Gauge),
            Err(RuleError::ReservedLabelPrefix)
        );
        assert_eq!(
            check_label_name("a:b", Gauge),
            Err(RuleError::InvalidLabelChar)
        );
    }
}
