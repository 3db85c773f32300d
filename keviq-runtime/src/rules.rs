//! The Prometheus naming rules keviq enforces, as plain `const fn`s.
//!
//! The `metric!` macro calls these at expansion time to turn a bad name into a
//! compile error on the offending token, and [`Descriptor::new`](crate::Descriptor::new)
//! calls them again in const context for descriptors built by hand.

use crate::MetricKind;

/// Why a metric name, label name, unit or bucket list was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleError {
    /// The name is empty.
    EmptyName,
    /// The name starts with a digit.
    LeadingDigit,
    /// A metric name holds a character outside `[a-zA-Z0-9_:]`.
    InvalidChar,
    /// A label name holds a character outside `[a-zA-Z0-9_]`.
    InvalidLabelChar,
    /// A counter's name does not end in `_total`.
    CounterWithoutTotal,
    /// A gauge's or histogram's name ends in `_total`.
    TotalOnNonCounter,
    /// A histogram's name ends in a suffix its own series use (`_bucket`, `_sum`, `_count`).
    HistogramSuffix,
    /// The label name starts with `__`, reserved for Prometheus.
    ReservedLabelPrefix,
    /// `le` on a histogram or `quantile` anywhere: reserved for bucket and summary series.
    ReservedLabel,
    /// The unit is not a suffix of the name (before `_total` for counters).
    UnitNotSuffix,
    /// A histogram declares no bucket.
    EmptyBuckets,
    /// A bucket bound is NaN or infinite (`+Inf` is always added by keviq).
    NonFiniteBucket,
    /// Bucket bounds are not strictly increasing.
    UnsortedBuckets,
    /// The same bucket bound appears twice.
    DuplicateBucket,
    /// A service name is not a DNS label.
    InvalidServiceName,
}

impl RuleError {
    /// What is wrong and how to fix it, in the words compile errors use.
    pub const fn message(self) -> &'static str {
        match self {
            Self::EmptyName => "a metric name cannot be empty",
            Self::LeadingDigit => "a name cannot start with a digit; start it with a letter or `_`",
            Self::InvalidChar => "a metric name may only hold ASCII letters, digits, `_` and `:`",
            Self::InvalidLabelChar => "a label name may only hold ASCII letters, digits and `_`",
            Self::CounterWithoutTotal => "a counter's name should end in `_total`",
            Self::TotalOnNonCounter => {
                "only counters end in `_total`; rename it, or declare it as a `Counter`"
            }
            Self::HistogramSuffix => {
                "a histogram's name cannot end in `_bucket`, `_sum` or `_count`: keviq adds those suffixes"
            }
            Self::ReservedLabelPrefix => {
                "label names starting with `__` are reserved for Prometheus"
            }
            Self::ReservedLabel => {
                "`le` (on histograms) and `quantile` are reserved for bucket and quantile series"
            }
            Self::UnitNotSuffix => "the unit must be the last part of the name (before `_total`)",
            Self::EmptyBuckets => "a histogram needs at least one bucket bound",
            Self::NonFiniteBucket => {
                "bucket bounds must be finite numbers; keviq always adds the `+Inf` bucket"
            }
            Self::UnsortedBuckets => "bucket bounds must be in increasing order",
            Self::DuplicateBucket => "each bucket bound may appear only once",
            Self::InvalidServiceName => {
                "a service name must be a DNS label: 1 to 63 lowercase letters, digits and `-`, starting and ending with a letter or digit"
            }
        }
    }
}

const fn ends_with(s: &[u8], suffix: &[u8]) -> bool {
    if suffix.len() > s.len() {
        return false;
    }
    let start = s.len() - suffix.len();
    let mut i = 0;
    while i < suffix.len() {
        if s[start + i] != suffix[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn check_chars(name: &[u8], colon_ok: bool) -> Result<(), RuleError> {
    if name.is_empty() {
        return Err(RuleError::EmptyName);
    }
    if name[0].is_ascii_digit() {
        return Err(RuleError::LeadingDigit);
    }
    let mut i = 0;
    while i < name.len() {
        let c = name[i];
        if !(c.is_ascii_alphanumeric() || c == b'_' || (colon_ok && c == b':')) {
            return Err(if colon_ok {
                RuleError::InvalidChar
            } else {
                RuleError::InvalidLabelChar
            });
        }
        i += 1;
    }
    Ok(())
}

/// Checks a metric name against the Prometheus grammar and keviq's suffix rules for
/// its kind.
///
/// ```
/// use keviq_runtime::{rules::{check_metric_name, RuleError}, MetricKind};
/// assert!(check_metric_name("mona_agent_turns_total", MetricKind::Counter).is_ok());
/// assert_eq!(
///     check_metric_name("mona_agent_turns", MetricKind::Counter),
///     Err(RuleError::CounterWithoutTotal),
/// );
/// ```
pub const fn check_metric_name(name: &str, kind: MetricKind) -> Result<(), RuleError> {
    let bytes = name.as_bytes();
    if let Err(e) = check_chars(bytes, true) {
        return Err(e);
    }
    let total = ends_with(bytes, b"_total");
    match kind {
        MetricKind::Counter if !total => Err(RuleError::CounterWithoutTotal),
        MetricKind::Gauge | MetricKind::Histogram if total => Err(RuleError::TotalOnNonCounter),
        MetricKind::Histogram
            if ends_with(bytes, b"_bucket")
                || ends_with(bytes, b"_sum")
                || ends_with(bytes, b"_count") =>
        {
            Err(RuleError::HistogramSuffix)
        }
        _ => Ok(()),
    }
}

/// Checks a label name: the Prometheus grammar, no `__` prefix, no `quantile`, and no
/// `le` on a histogram.
pub const fn check_label_name(name: &str, kind: MetricKind) -> Result<(), RuleError> {
    let bytes = name.as_bytes();
    if let Err(e) = check_chars(bytes, false) {
        return Err(e);
    }
    if bytes.len() >= 2 && bytes[0] == b'_' && bytes[1] == b'_' {
        return Err(RuleError::ReservedLabelPrefix);
    }
    let is_le = bytes.len() == 2 && bytes[0] == b'l' && bytes[1] == b'e';
    if (is_le && matches!(kind, MetricKind::Histogram)) || eq(bytes, b"quantile") {
        return Err(RuleError::ReservedLabel);
    }
    Ok(())
}

/// Checks that `unit` is the last `_`-separated part of the family name
/// (`foo_seconds_total` has unit `seconds`), as OpenMetrics requires.
pub const fn check_unit(name: &str, unit: &str, kind: MetricKind) -> Result<(), RuleError> {
    let mut family = name.as_bytes();
    if matches!(kind, MetricKind::Counter) && ends_with(family, b"_total") {
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

/// Checks histogram bucket bounds: at least one, finite, strictly increasing.
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

/// Checks a service name: a DNS label (RFC 1123), as container and Kubernetes
/// service names must be, since the fleet reaches each service at `<name>:8000`.
///
/// ```
/// use keviq_runtime::rules::check_service_name;
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

const fn eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && ends_with(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use MetricKind::*;

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
    fn buckets() {
        assert_eq!(check_buckets(&[1.0, 2.0]), Ok(()));
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
