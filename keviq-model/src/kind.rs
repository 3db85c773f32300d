//! The metric types of Prometheus text 0.0.4 and OpenMetrics 1.0, and the sample
//! suffixes each type owns.

use std::fmt;

use crate::Format;

/// The type of a metric family, as `# TYPE` names it.
///
/// keviq's own metrics are counters, gauges and histograms; a parsed exposition
/// can hold any of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricType {
    /// `counter`: a monotonically increasing count.
    Counter,
    /// `gauge`: a value that goes up and down.
    Gauge,
    /// `histogram`: observations counted into cumulative buckets, with their sum
    /// and count.
    Histogram,
    /// `summary`: precomputed quantiles, with a sum and count.
    Summary,
    /// `untyped` (Prometheus 0.0.4), also the type of a family without `# TYPE`.
    Untyped,
    /// `gaugehistogram` (OpenMetrics).
    GaugeHistogram,
    /// `info` (OpenMetrics).
    Info,
    /// `stateset` (OpenMetrics).
    StateSet,
    /// `unknown` (OpenMetrics), also the type of a family without `# TYPE`.
    Unknown,
}

impl MetricType {
    /// The name used in `# TYPE` lines.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram => "histogram",
            Self::Summary => "summary",
            Self::Untyped => "untyped",
            Self::GaugeHistogram => "gaugehistogram",
            Self::Info => "info",
            Self::StateSet => "stateset",
            Self::Unknown => "unknown",
        }
    }

    /// The type a `# TYPE` keyword names in `format`, if it names one there.
    ///
    /// ```
    /// use keviq_model::{Format, MetricType};
    /// assert_eq!(MetricType::from_keyword("untyped", Format::Prometheus), Some(MetricType::Untyped));
    /// assert_eq!(MetricType::from_keyword("untyped", Format::OpenMetrics), None);
    /// ```
    pub fn from_keyword(keyword: &str, format: Format) -> Option<Self> {
        Some(match (keyword, format) {
            ("counter", _) => Self::Counter,
            ("gauge", _) => Self::Gauge,
            ("histogram", _) => Self::Histogram,
            ("summary", _) => Self::Summary,
            ("untyped", Format::Prometheus) => Self::Untyped,
            ("gaugehistogram", Format::OpenMetrics) => Self::GaugeHistogram,
            ("info", Format::OpenMetrics) => Self::Info,
            ("stateset", Format::OpenMetrics) => Self::StateSet,
            ("unknown", Format::OpenMetrics) => Self::Unknown,
            _ => return None,
        })
    }

    /// The type of a family that has no `# TYPE` line in `format`.
    pub const fn untyped_in(format: Format) -> Self {
        match format {
            Format::Prometheus => Self::Untyped,
            Format::OpenMetrics => Self::Unknown,
        }
    }

    /// The suffixes the names of this family's samples add to the family name in
    /// `format` (`""` for none).
    ///
    /// ```
    /// use keviq_model::{Format, MetricType};
    /// assert_eq!(MetricType::Histogram.sample_suffixes(Format::Prometheus), ["_bucket", "_sum", "_count"]);
    /// ```
    pub const fn sample_suffixes(self, format: Format) -> &'static [&'static str] {
        match (self, format) {
            (Self::Counter, Format::OpenMetrics) => &["_total", "_created"],
            (Self::Summary, Format::Prometheus) => &["", "_sum", "_count"],
            (Self::Summary, Format::OpenMetrics) => &["", "_sum", "_count", "_created"],
            (Self::Histogram, Format::Prometheus) => &["_bucket", "_sum", "_count"],
            (Self::Histogram, Format::OpenMetrics) => &["_bucket", "_sum", "_count", "_created"],
            (Self::GaugeHistogram, _) => &["_bucket", "_gsum", "_gcount"],
            (Self::Info, _) => &["_info"],
            _ => &[""],
        }
    }

    /// Every suffix some type adds to its family name, longest first where one ends
    /// another: what a sample name is stripped of to find its family.
    pub const SAMPLE_SUFFIXES: [&'static str; 8] = [
        "_total", "_created", "_bucket", "_count", "_sum", "_gcount", "_gsum", "_info",
    ];

    /// Whether the samples of this type are cumulative buckets (`le`).
    pub const fn has_buckets(self) -> bool {
        matches!(self, Self::Histogram | Self::GaugeHistogram)
    }
}

impl fmt::Display for MetricType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_round_trip_in_their_format() {
        use MetricType::*;
        for t in [Counter, Gauge, Histogram, Summary, Untyped] {
            assert_eq!(
                MetricType::from_keyword(t.as_str(), Format::Prometheus),
                Some(t)
            );
        }
        for t in [
            Counter,
            Gauge,
            Histogram,
            Summary,
            GaugeHistogram,
            Info,
            StateSet,
            Unknown,
        ] {
            assert_eq!(
                MetricType::from_keyword(t.as_str(), Format::OpenMetrics),
                Some(t)
            );
        }
        assert_eq!(
            MetricType::from_keyword("Counter", Format::Prometheus),
            None
        );
        assert_eq!(MetricType::untyped_in(Format::OpenMetrics), Unknown);
    }

    #[test]
    fn suffixes() {
        assert_eq!(
            MetricType::Counter.sample_suffixes(Format::Prometheus),
            [""]
        );
        assert_eq!(
            MetricType::Counter.sample_suffixes(Format::OpenMetrics),
            ["_total", "_created"]
        );
        assert!(MetricType::GaugeHistogram.has_buckets());
        assert!(!MetricType::Summary.has_buckets());
    }
}
