//! Label names: the grammar and the labels Prometheus reserves.

use crate::bytes::{check_chars, eq};
use crate::{MetricType, RuleError};

/// The label of a histogram bucket's upper bound.
pub const BUCKET_LABEL: &str = "le";
/// The label of a summary quantile.
pub const QUANTILE_LABEL: &str = "quantile";
/// The label Prometheus stores a series' metric name in.
pub const METRIC_NAME_LABEL: &str = "__name__";

/// Checks a label name: the Prometheus grammar, no `__` prefix, no `quantile`, and no
/// `le` on a histogram.
///
/// ```
/// use keviq_model::{MetricType, RuleError, check_label_name};
/// assert!(check_label_name("method", MetricType::Counter).is_ok());
/// assert_eq!(check_label_name("le", MetricType::Histogram), Err(RuleError::ReservedLabel));
/// ```
pub const fn check_label_name(name: &str, kind: MetricType) -> Result<(), RuleError> {
    let bytes = name.as_bytes();
    if let Err(e) = check_chars(bytes, false) {
        return Err(e);
    }
    if bytes.len() >= 2 && bytes[0] == b'_' && bytes[1] == b'_' {
        return Err(RuleError::ReservedLabelPrefix);
    }
    let is_le = eq(bytes, BUCKET_LABEL.as_bytes());
    if (is_le && kind.has_buckets()) || eq(bytes, QUANTILE_LABEL.as_bytes()) {
        return Err(RuleError::ReservedLabel);
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
        assert_eq!(check_label_name("le", Counter), Ok(()));
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
