//! Metric names: the grammar, the suffixes each type owns, units, and service names.

use crate::bytes::{check_chars, ends_with};
use crate::{MetricType, RuleError};

/// Checks a metric name against the Prometheus grammar and keviq's suffix rules for
/// its type: a counter ends in `_total`, nothing else does, and a histogram's name
/// does not end in a suffix its own series add.
///
/// ```
/// use keviq_model::{MetricType, RuleError, check_metric_name};
/// assert!(check_metric_name("mona_agent_turns_total", MetricType::Counter).is_ok());
/// assert_eq!(
///     check_metric_name("mona_agent_turns", MetricType::Counter),
///     Err(RuleError::CounterWithoutTotal),
/// );
/// ```
pub const fn check_metric_name(name: &str, kind: MetricType) -> Result<(), RuleError> {
    let bytes = name.as_bytes();
    if let Err(e) = check_chars(bytes, true) {
        return Err(e);
    }
    let total = ends_with(bytes, b"_total");
    match kind {
        MetricType::Counter if !total => Err(RuleError::CounterWithoutTotal),
        MetricType::Gauge | MetricType::Histogram if total => Err(RuleError::TotalOnNonCounter),
        MetricType::Histogram
            if ends_with(bytes, b"_bucket")
                || ends_with(bytes, b"_sum")
                || ends_with(bytes, b"_count") =>
        {
            Err(RuleError::HistogramSuffix)
        }
        _ => Ok(()),
    }
}

/// The family name a declared metric name stands for: a counter's name without
/// `_total` (as OpenMetrics names the family), any other name as it is.
///
/// ```
/// use keviq_model::{MetricType, family_name};
/// assert_eq!(family_name("jobs_total", MetricType::Counter), "jobs");
/// assert_eq!(family_name("queue_depth", MetricType::Gauge), "queue_depth");
/// ```
pub fn family_name(name: &str, kind: MetricType) -> &str {
    match kind {
        MetricType::Counter => name.strip_suffix("_total").unwrap_or(name),
        _ => name,
    }
}

/// Checks that `unit` is the last `_`-separated part of the family name
/// (`foo_seconds_total` has unit `seconds`), as OpenMetrics requires.
pub const fn check_unit(name: &str, unit: &str, kind: MetricType) -> Result<(), RuleError> {
    let mut family = name.as_bytes();
    if matches!(kind, MetricType::Counter) && ends_with(family, b"_total") {
        family = family.split_at(family.len() - 6).0;
    }
    let unit = unit.as_bytes();
    if unit.is_empty() || family.len() <= unit.len() || !ends_with(family, unit) {
        return Err(RuleError::UnitNotSuffix);
    }
    if family[family.len() - unit.len() - 1] != b'_' {
        return Err(RuleError::UnitNotSuffix);
    }
    Ok(())
}

/// Checks a service name: a DNS label (RFC 1123), as container and Kubernetes
/// service names must be, since a fleet reaches each service at `<name>:8000`.
///
/// ```
/// use keviq_model::check_service_name;
/// assert!(check_service_name("agent-runtime").is_ok());
/// assert!(check_service_name("Agent_Runtime").is_err());
/// ```
pub const fn check_service_name(name: &str) -> Result<(), RuleError> {
    let b = name.as_bytes();
    if b.is_empty() || b.len() > 63 || b[0] == b'-' || b[b.len() - 1] == b'-' {
        return Err(RuleError::InvalidServiceName);
    }
    let mut i = 0;
    while i < b.len() {
        if !(b[i].is_ascii_lowercase() || b[i].is_ascii_digit() || b[i] == b'-') {
            return Err(RuleError::InvalidServiceName);
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use MetricType::*;

    #[test]
    fn metric_names() {
        assert_eq!(check_metric_name("a:b_c_total", Counter), Ok(()));
        assert_eq!(check_metric_name("", Gauge), Err(RuleError::EmptyName));
        assert_eq!(
            check_metric_name("1abc", Gauge),
            Err(RuleError::LeadingDigit)
        );
        assert_eq!(check_metric_name("a-b", Gauge), Err(RuleError::InvalidChar));
        assert_eq!(check_metric_name("é", Gauge), Err(RuleError::InvalidChar));
        assert_eq!(
            check_metric_name("x", Counter),
            Err(RuleError::CounterWithoutTotal)
        );
        assert_eq!(
            check_metric_name("x_total", Gauge),
            Err(RuleError::TotalOnNonCounter)
        );
        assert_eq!(
            check_metric_name("x_total", Histogram),
            Err(RuleError::TotalOnNonCounter)
        );
        assert_eq!(
            check_metric_name("x_sum", Histogram),
            Err(RuleError::HistogramSuffix)
        );
        assert_eq!(check_metric_name("x_sum", Gauge), Ok(()));
    }

    #[test]
    fn units() {
        assert_eq!(check_unit("d_ms", "ms", Histogram), Ok(()));
        assert_eq!(check_unit("d_seconds_total", "seconds", Counter), Ok(()));
        assert_eq!(
            check_unit("dms", "ms", Histogram),
            Err(RuleError::UnitNotSuffix)
        );
        assert_eq!(
            check_unit("d_ms", "s", Histogram),
            Err(RuleError::UnitNotSuffix)
        );
        assert_eq!(check_unit("ms", "ms", Gauge), Err(RuleError::UnitNotSuffix));
    }

    #[test]
    fn service_names() {
        assert_eq!(check_service_name("telemetry-service"), Ok(()));
        assert_eq!(check_service_name("a1"), Ok(()));
        for bad in ["", "-a", "a-", "A", "a_b", "a.b", &"a".repeat(64)] {
            assert_eq!(
                check_service_name(bad),
                Err(RuleError::InvalidServiceName),
                "{bad}"
            );
        }
    }

    #[test]
    fn family_names() {
        assert_eq!(family_name("x_total", Counter), "x");
        assert_eq!(family_name("x_total", Gauge), "x_total");
    }
}
