//! Metric names: the grammar, the suffixes each type owns, units, and service names.

use crate::bytes::{check_chars, contains, ends_with, is_camel_case};
use crate::{Format, MetricType, RuleError};

/// Checks a metric name against the Prometheus grammar only
/// (`[a-zA-Z_:][a-zA-Z0-9_:]*`): what a parser or a query accepts.
///
/// ```
/// use keviq_model::check_metric_name_syntax;
/// assert!(check_metric_name_syntax("job:requests:rate5m").is_ok());
/// assert!(check_metric_name_syntax("1abc").is_err());
/// ```
pub const fn check_metric_name_syntax(name: &str) -> Result<(), RuleError> {
    check_chars(name.as_bytes(), true)
}

/// The metric types `promlint` looks for inside names, as they appear there.
const TYPE_WORDS: [&str; 5] = [
    "counter",
    "gauge",
    "histogram",
    "summary",
    "gauge_histogram",
];

/// The type word a metric name includes (`_counter` inside or at the end), as
/// `promlint` flags it: `metric name should not include type '…'`. Compared
/// without regard to case.
///
/// ```
/// use keviq_model::type_in_name;
/// assert_eq!(type_in_name("jobs_counter_total"), Some("counter"));
/// assert_eq!(type_in_name("jobs_Gauge"), Some("gauge"));
/// assert_eq!(type_in_name("gauges_total"), None);
/// ```
pub const fn type_in_name(name: &str) -> Option<&'static str> {
    let name = name.as_bytes();
    let mut i = 0;
    while i < TYPE_WORDS.len() {
        let word = TYPE_WORDS[i].as_bytes();
        // `_word_` anywhere, or `_word` at the end.
        let mut start = 0;
        while start + word.len() < name.len() {
            if name[start] == b'_' {
                let mut j = 0;
                while j < word.len() && name[start + 1 + j].to_ascii_lowercase() == word[j] {
                    j += 1;
                }
                let end = start + 1 + word.len();
                if j == word.len() && (end == name.len() || name[end] == b'_') {
                    return Some(TYPE_WORDS[i]);
                }
            }
            start += 1;
        }
        i += 1;
    }
    None
}

/// Checks a declared metric name: the Prometheus grammar, keviq's suffix rules for
/// its type (a counter ends in `_total`, nothing else does; `_sum`, `_count` and
/// `_bucket` belong to histograms, which may not end in them since keviq adds
/// them), and every `promlint` rule a name alone decides: no `:` (recording
/// rules), no camelCase, no type word in the name. Abbreviated units such as `_ms`
/// stay allowed (ARCHITECTURE.md's names use them).
///
/// ```
/// use keviq_model::{MetricType, RuleError, check_metric_name};
/// assert!(check_metric_name("mona_agent_turns_total", MetricType::Counter).is_ok());
/// assert_eq!(
///     check_metric_name("mona_agent_turns", MetricType::Counter),
///     Err(RuleError::CounterWithoutTotal),
/// );
/// assert_eq!(check_metric_name("queue_depth_sum", MetricType::Gauge), Err(RuleError::ReservedSuffix));
/// ```
pub const fn check_metric_name(name: &str, kind: MetricType) -> Result<(), RuleError> {
    let bytes = name.as_bytes();
    if let Err(e) = check_chars(bytes, true) {
        return Err(e);
    }
    if contains(bytes, b":") {
        return Err(RuleError::ColonInName);
    }
    if is_camel_case(bytes) {
        return Err(RuleError::CamelCaseName);
    }
    if type_in_name(name).is_some() {
        return Err(RuleError::TypeInName);
    }
    let total = ends_with(bytes, b"_total");
    let histogram_suffix =
        ends_with(bytes, b"_bucket") || ends_with(bytes, b"_sum") || ends_with(bytes, b"_count");
    match kind {
        MetricType::Counter if !total => Err(RuleError::CounterWithoutTotal),
        MetricType::Gauge | MetricType::Histogram if total => Err(RuleError::TotalOnNonCounter),
        MetricType::Histogram if histogram_suffix => Err(RuleError::HistogramSuffix),
        MetricType::Gauge if histogram_suffix => Err(RuleError::ReservedSuffix),
        _ => Ok(()),
    }
}

/// Every rule a metric name of type `kind` breaks, not just the first: what a linter
/// reports for a name it reads (`check-metrics`), where [`check_metric_name`] stops
/// at the first mistake of a declaration. Grammar errors come alone.
///
/// ```
/// use keviq_model::{MetricType, RuleError, name_problems};
/// assert_eq!(
///     name_problems("job:httpRequests_counter", MetricType::Gauge),
///     [RuleError::ColonInName, RuleError::CamelCaseName, RuleError::TypeInName],
/// );
/// assert!(name_problems("jobs_total", MetricType::Counter).is_empty());
/// ```
pub fn name_problems(name: &str, kind: MetricType) -> Vec<RuleError> {
    let bytes = name.as_bytes();
    if let Err(e) = check_chars(bytes, true) {
        return vec![e];
    }
    let mut problems = Vec::new();
    if contains(bytes, b":") {
        problems.push(RuleError::ColonInName);
    }
    if is_camel_case(bytes) {
        problems.push(RuleError::CamelCaseName);
    }
    if type_in_name(name).is_some() {
        problems.push(RuleError::TypeInName);
    }
    let total = ends_with(bytes, b"_total");
    let histogram_suffix =
        ends_with(bytes, b"_bucket") || ends_with(bytes, b"_sum") || ends_with(bytes, b"_count");
    match kind {
        MetricType::Counter if !total => problems.push(RuleError::CounterWithoutTotal),
        MetricType::Counter => {}
        MetricType::Histogram | MetricType::Summary | MetricType::GaugeHistogram => {}
        _ if total => problems.push(RuleError::TotalOnNonCounter),
        _ if histogram_suffix => problems.push(RuleError::ReservedSuffix),
        _ => {}
    }
    problems
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

/// The family and sample names a metric declared as `name` occupies in either
/// format, sorted: a counter `x_total` occupies `x`, `x_created` and `x_total`; a
/// histogram `x` occupies `x`, `x_bucket`, `x_count`, `x_created` and `x_sum`. Two
/// metrics whose lists meet would render clashing series.
///
/// ```
/// use keviq_model::{MetricType, occupied_names};
/// assert_eq!(occupied_names("x_total", MetricType::Counter), ["x", "x_created", "x_total"]);
/// ```
pub fn occupied_names(name: &str, kind: MetricType) -> Vec<String> {
    let family = family_name(name, kind);
    let mut names = vec![family.to_owned(), name.to_owned()];
    for format in [Format::Prometheus, Format::OpenMetrics] {
        for suffix in kind.sample_suffixes(format) {
            names.push(format!("{family}{suffix}"));
        }
    }
    names.sort_unstable();
    names.dedup();
    names
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
        assert_eq!(check_metric_name("a_b_c_total", Counter), Ok(()));
        assert_eq!(check_metric_name_syntax("a:b_c_total"), Ok(()));
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
        assert_eq!(
            check_metric_name("x_sum", Gauge),
            Err(RuleError::ReservedSuffix)
        );
        assert_eq!(
            check_metric_name("x_summary", Gauge),
            Err(RuleError::TypeInName)
        );
    }

    #[test]
    fn promlint_rules_a_name_decides() {
        assert_eq!(
            check_metric_name("job:rate_total", Counter),
            Err(RuleError::ColonInName)
        );
        assert_eq!(
            check_metric_name("httpRequests_total", Counter),
            Err(RuleError::CamelCaseName)
        );
        assert_eq!(check_metric_name("Requests_total", Counter), Ok(()));
        for (name, kind) in [
            ("jobs_counter_total", Counter),
            ("queue_gauge", Gauge),
            ("latency_histogram_ms", Histogram),
            ("latency_summary", Gauge),
            ("depth_gauge_histogram", Gauge),
        ] {
            assert_eq!(
                check_metric_name(name, kind),
                Err(RuleError::TypeInName),
                "{name}"
            );
        }
        for name in [
            "gauges_total",
            "histograms_seen_total",
            "counterfeits_total",
            "my_gaugexyz_total",
        ] {
            assert_eq!(check_metric_name(name, Counter), Ok(()), "{name}");
            assert_eq!(type_in_name(name), None, "{name}");
        }
        assert_eq!(type_in_name("a_gauge_histogram"), Some("gauge"));
        assert_eq!(check_metric_name("jobs_count_total", Counter), Ok(()));
        assert_eq!(
            check_metric_name("jobs_count", Gauge),
            Err(RuleError::ReservedSuffix)
        );
        assert_eq!(
            check_metric_name("jobs_bucket", Gauge),
            Err(RuleError::ReservedSuffix)
        );
        assert_eq!(check_metric_name("jobs_ms", Histogram), Ok(()));
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
