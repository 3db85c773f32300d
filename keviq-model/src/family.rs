//! Families in an exposition: which family a sample name belongs to, which
//! families would clash, which names are reserved, and which types take a unit.
//!
//! The exposition parser (`keviq-expfmt`) asks these questions of every family it
//! reads; `metric!` and the registry ask [`occupied_names`](crate::occupied_names)
//! of declared names. Both answers rest on [`MetricType::sample_suffixes`].

use crate::bytes::ends_with;
use crate::{Format, MetricType, RuleError};

/// The suffix a sample named `sample` adds to the family `family` of type `kind` in
/// `format`, if it is one of that family's sample names (`""` for a sample named
/// like its family).
///
/// ```
/// use keviq_model::{Format, MetricType, sample_suffix};
/// let h = MetricType::Histogram;
/// assert_eq!(sample_suffix("rpc", h, "rpc_bucket", Format::Prometheus), Some("_bucket"));
/// assert_eq!(sample_suffix("rpc", h, "rpc", Format::Prometheus), None);
/// let c = MetricType::Counter;
/// assert_eq!(sample_suffix("jobs", c, "jobs_total", Format::OpenMetrics), Some("_total"));
/// assert_eq!(sample_suffix("jobs_total", c, "jobs_total", Format::Prometheus), Some(""));
/// ```
pub fn sample_suffix(
    family: &str,
    kind: MetricType,
    sample: &str,
    format: Format,
) -> Option<&'static str> {
    let rest = sample.strip_prefix(family)?;
    kind.sample_suffixes(format)
        .iter()
        .copied()
        .find(|suffix| *suffix == rest)
}

/// The ways a sample name splits into a family name and a suffix some type adds
/// (`x_count` into `x` and `_count`), longest suffix first, each with a non-empty
/// family name. The whole name with `""` is not listed.
///
/// ```
/// use keviq_model::sample_name_splits;
/// let splits: Vec<_> = sample_name_splits("x_gcount").collect();
/// assert_eq!(splits, [("x", "_gcount")]);
/// let splits: Vec<_> = sample_name_splits("x_total").collect();
/// assert_eq!(splits, [("x", "_total")]);
/// assert_eq!(sample_name_splits("_total").count(), 0);
/// ```
pub fn sample_name_splits(sample: &str) -> impl Iterator<Item = (&str, &'static str)> {
    MetricType::SAMPLE_SUFFIXES
        .iter()
        .filter_map(move |suffix| match sample.strip_suffix(suffix) {
            Some(base) if !base.is_empty() => Some((base, *suffix)),
            _ => None,
        })
}

/// Whether two families of one exposition clash: some sample name of the one is a
/// sample name of the other, so a reader cannot tell whose sample it is.
/// OpenMetrics forbids such pairs ("a gauge called `foo_created` as a counter
/// called `foo` could create a `foo_created`"); in the Prometheus format they
/// would put two types on one series name.
///
/// ```
/// use keviq_model::{Format, MetricType, families_clash};
/// use MetricType::*;
/// let om = Format::OpenMetrics;
/// assert!(families_clash("foo_created", Gauge, "foo", Counter, om));
/// assert!(families_clash("x_count", Gauge, "x", Summary, Format::Prometheus));
/// assert!(!families_clash("foo_created", Gauge, "foo", Gauge, om));
/// assert!(!families_clash("x_sum", Unknown, "x", Unknown, om));
/// ```
pub fn families_clash(
    a: &str,
    a_kind: MetricType,
    b: &str,
    b_kind: MetricType,
    format: Format,
) -> bool {
    if a == b {
        return true;
    }
    let (a_suffixes, b_suffixes) = (
        a_kind.sample_suffixes(format),
        b_kind.sample_suffixes(format),
    );
    a_suffixes.iter().any(|sa| {
        b_suffixes.iter().any(|sb| {
            // a + sa == b + sb, without building either string.
            a.len() + sa.len() == b.len() + sb.len() && {
                let (long, long_suffix, short, short_suffix) = if a.len() >= b.len() {
                    (a, sa, b, sb)
                } else {
                    (b, sb, a, sa)
                };
                long.strip_prefix(short)
                    .and_then(|middle| short_suffix.strip_prefix(middle))
                    .is_some_and(|rest| rest == *long_suffix)
            }
        })
    })
}

/// Checks that `unit` is the last `_`-separated part of the family name `family`,
/// as an OpenMetrics `# UNIT` line requires (`foo_seconds` has unit `seconds`; the
/// family name of a counter has no `_total`). See [`check_unit`](crate::check_unit)
/// for declared names.
///
/// ```
/// use keviq_model::{RuleError, check_family_unit};
/// assert_eq!(check_family_unit("rpc_seconds", "seconds"), Ok(()));
/// assert_eq!(check_family_unit("rpcseconds", "seconds"), Err(RuleError::UnitNotSuffix));
/// assert_eq!(check_family_unit("seconds", "seconds"), Err(RuleError::UnitNotSuffix));
/// ```
pub const fn check_family_unit(family: &str, unit: &str) -> Result<(), RuleError> {
    let (family, unit) = (family.as_bytes(), unit.as_bytes());
    if unit.is_empty()
        || family.len() <= unit.len() + 1
        || !ends_with(family, unit)
        || family[family.len() - unit.len() - 1] != b'_'
    {
        return Err(RuleError::UnitNotSuffix);
    }
    Ok(())
}

/// Whether a family of type `kind` may have a unit: OpenMetrics gives `info` and
/// `stateset` families none.
///
/// ```
/// use keviq_model::{MetricType, unit_allowed};
/// assert!(unit_allowed(MetricType::Histogram));
/// assert!(!unit_allowed(MetricType::Info));
/// ```
pub const fn unit_allowed(kind: MetricType) -> bool {
    !matches!(kind, MetricType::Info | MetricType::StateSet)
}

/// Whether a label or family name is reserved: OpenMetrics reserves names beginning
/// with `__` (Prometheus uses them internally, `__name__` first of all).
///
/// ```
/// use keviq_model::is_reserved_name;
/// assert!(is_reserved_name("__name__"));
/// assert!(is_reserved_name("__meta_x"));
/// assert!(!is_reserved_name("_x"));
/// ```
pub const fn is_reserved_name(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() >= 2 && b[0] == b'_' && b[1] == b'_'
}

/// The label that tells the samples of one metric point apart within a family of
/// type `kind` named `family`: `le` for histogram buckets, `quantile` for summary
/// quantiles, the family name itself for the states of a stateset. The other
/// labels identify the metric.
///
/// ```
/// use keviq_model::{MetricType, point_label};
/// assert_eq!(point_label(MetricType::Histogram, "rpc"), Some("le"));
/// assert_eq!(point_label(MetricType::StateSet, "door"), Some("door"));
/// assert_eq!(point_label(MetricType::Counter, "jobs"), None);
/// ```
pub fn point_label(kind: MetricType, family: &str) -> Option<&str> {
    match kind {
        MetricType::Histogram | MetricType::GaugeHistogram => Some(crate::BUCKET_LABEL),
        MetricType::Summary => Some(crate::QUANTILE_LABEL),
        MetricType::StateSet => Some(family),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Format::*;
    use MetricType::*;

    #[test]
    fn suffixes_by_type_and_format() {
        assert_eq!(
            sample_suffix("x", Counter, "x_total", OpenMetrics),
            Some("_total")
        );
        assert_eq!(
            sample_suffix("x", Counter, "x_created", OpenMetrics),
            Some("_created")
        );
        assert_eq!(sample_suffix("x", Counter, "x", OpenMetrics), None);
        assert_eq!(sample_suffix("x", Counter, "x", Prometheus), Some(""));
        assert_eq!(sample_suffix("x", Counter, "x_total", Prometheus), None);
        assert_eq!(sample_suffix("x", Summary, "x", OpenMetrics), Some(""));
        assert_eq!(sample_suffix("x", Summary, "x_created", Prometheus), None);
        assert_eq!(
            sample_suffix("x", GaugeHistogram, "x_gsum", OpenMetrics),
            Some("_gsum")
        );
        assert_eq!(
            sample_suffix("x", GaugeHistogram, "x_sum", OpenMetrics),
            None
        );
        assert_eq!(
            sample_suffix("x", Info, "x_info", OpenMetrics),
            Some("_info")
        );
        assert_eq!(sample_suffix("x", StateSet, "x", OpenMetrics), Some(""));
        assert_eq!(sample_suffix("x", Gauge, "y", OpenMetrics), None);
        assert_eq!(sample_suffix("x", Untyped, "x_sum", Prometheus), None);
    }

    #[test]
    fn splits() {
        let all: Vec<_> = sample_name_splits("a_bucket").collect();
        assert_eq!(all, [("a", "_bucket")]);
        assert_eq!(sample_name_splits("plain").count(), 0);
        // `_gsum` ends in `sum` but not in `_sum`: one split only.
        let all: Vec<_> = sample_name_splits("a_gsum").collect();
        assert_eq!(all, [("a", "_gsum")]);
        let all: Vec<_> = sample_name_splits("a_sum_count").collect();
        assert_eq!(all, [("a_sum", "_count")]);
    }

    #[test]
    fn clashes() {
        // The specification's example, in both orders.
        assert!(families_clash(
            "foo_created",
            Gauge,
            "foo",
            Counter,
            OpenMetrics
        ));
        assert!(families_clash(
            "foo",
            Counter,
            "foo_created",
            Gauge,
            OpenMetrics
        ));
        // Prometheus counters have no `_created` sample.
        assert!(!families_clash(
            "foo_created",
            Gauge,
            "foo",
            Counter,
            Prometheus
        ));
        assert!(families_clash(
            "foo_total",
            Gauge,
            "foo",
            Counter,
            OpenMetrics
        ));
        assert!(families_clash(
            "h_bucket", Gauge, "h", Histogram, Prometheus
        ));
        // `h_sum` of a histogram is no sample name: its samples are `h_sum_bucket`...
        assert!(!families_clash(
            "h_sum", Histogram, "h", Histogram, Prometheus
        ));
        assert!(families_clash(
            "g_gcount",
            Unknown,
            "g",
            GaugeHistogram,
            OpenMetrics
        ));
        assert!(families_clash("i_info", Gauge, "i", Info, OpenMetrics));
        assert!(families_clash("same", Gauge, "same", Gauge, OpenMetrics));
        assert!(!families_clash("i_info", Gauge, "i", Gauge, OpenMetrics));
        assert!(!families_clash("h_bucket", Gauge, "h", Summary, Prometheus));
        assert!(!families_clash("a", Histogram, "b", Histogram, OpenMetrics));
        assert!(!families_clash("ab", Gauge, "a", Counter, OpenMetrics));
    }

    #[test]
    fn units_and_reserved_names() {
        assert_eq!(check_family_unit("a_b", "b"), Ok(()));
        assert_eq!(check_family_unit("_b", "b"), Err(RuleError::UnitNotSuffix));
        assert_eq!(check_family_unit("a_b", ""), Err(RuleError::UnitNotSuffix));
        assert_eq!(
            check_family_unit("a_bb", "b"),
            Err(RuleError::UnitNotSuffix)
        );
        assert!(unit_allowed(Counter) && unit_allowed(Unknown));
        assert!(!unit_allowed(StateSet));
        assert!(is_reserved_name("__"));
        assert!(!is_reserved_name("_"));
        assert!(!is_reserved_name("a__b"));
        assert_eq!(point_label(GaugeHistogram, "g"), Some("le"));
        assert_eq!(point_label(Summary, "s"), Some("quantile"));
        assert_eq!(point_label(Gauge, "g"), None);
    }
}
