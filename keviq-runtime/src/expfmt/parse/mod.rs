//! Reads Prometheus text 0.0.4 and OpenMetrics 1.0 text expositions back into
//! families and samples: whatever [`Encoder`](super::Encoder) writes, and whatever
//! else the two specifications accept.
//!
//! The parser borrows from the input: names, units and label sets point into it,
//! and label values and `# HELP` texts are only copied when they hold escapes.
//! It reads the input in one pass, 8 bytes at a time where it can, and allocates
//! nothing per line.
//!
//! ```
//! use keviq_runtime::Format;
//! use keviq_runtime::expfmt::{FamilyType, parse};
//!
//! let text = "# HELP jobs_total Jobs run\n# TYPE jobs_total counter\njobs_total{queue=\"a\\\"b\"} 3\n";
//! let exposition = parse(text, Format::Prometheus).unwrap();
//! let family = &exposition.families[0];
//! assert_eq!((family.name, family.kind), ("jobs_total", FamilyType::Counter));
//! assert_eq!(family.help.as_deref(), Some("Jobs run"));
//! let sample = &exposition.samples[0];
//! assert_eq!(sample.labels.get("queue").as_deref(), Some("a\"b"));
//! assert_eq!(sample.value, 3.0);
//! ```
//!
//! # What is checked
//!
//! Both formats: the line grammar (names, label syntax, escapes, numbers, the final
//! line feed), duplicate label names within a sample, the reserved `__name__` label,
//! one `# TYPE` / `# HELP` (and `# UNIT`) per family, metadata before samples, the
//! lines of a family forming one uninterrupted group, sample names fitting their
//! family's type (`x_bucket` of a histogram, `x_total` of an OpenMetrics counter,
//! ...), a numeric `le` on every histogram bucket and a numeric `quantile` on
//! summary quantiles.
//!
//! OpenMetrics only: single spaces as separators, no blank lines or comments, no
//! `\r`, `# EOF` at the very end, units that are a suffix of the family name (and
//! none on `info` and `stateset` families), exemplars only on counter totals and
//! histogram buckets, with at most 128 characters of labels.
//!
//! Not checked (semantics the specifications state but that need the whole family
//! at hand): repeated label sets, bucket order and cumulativity, counter values
//! being non-negative, timestamp order, names that would clash across families
//! (`foo_created` next to a counter `foo`).
//!
//! # Deliberate readings of the specifications
//!
//! * Prometheus 0.0.4 accepts only the escapes `\\`, `\n` and `\"` (in label values
//!   and `# HELP`), as the reference parser does; OpenMetrics also accepts `\` before
//!   any other character, which stands for itself (its ABNF allows it).
//! * Prometheus 0.0.4: trailing blanks are ignored, leading blanks of a `# HELP` text
//!   are skipped (they separate tokens), a `# HELP`/`# TYPE` line without text is
//!   ignored, types are lower case as the spec lists them, and a family's lines must
//!   be one group, `# HELP`/`# TYPE` first, as the spec says (the reference parser
//!   is laxer here).
//! * Numbers follow Go's `strconv.ParseFloat` as the Prometheus reference parser uses
//!   it, which matches the OpenMetrics ABNF: decimal with optional fraction and
//!   exponent, `Inf`/`Infinity` with an optional sign and `NaN` without, case
//!   insensitive; no hex floats or `_`; overflow to infinity is an error.
//! * An OpenMetrics `# HELP` text must escape `"` as `\"`: its ABNF leaves a bare
//!   `"` out of escaped strings (Prometheus' own parser is laxer).
//! * Timestamps keep their format's unit: integer milliseconds in Prometheus 0.0.4,
//!   float seconds in OpenMetrics ([`Timestamp`]).
//! * Lines end with `\n` in both formats: a `\r` before it is an error (it is
//!   content only inside label values, `# HELP` texts and Prometheus comments).
//! * UTF-8 quoted metric names (`{"my.metric"}`), a later extension, are not
//!   accepted.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use super::Format;
use crate::MetricKind;

mod error;
mod labels;
mod number;
mod om;
mod parser;
mod prom;
#[cfg(test)]
mod tests;

pub use error::{ErrorReason, Expected, Found, Keyword, NumberField, ParseError, Place};
pub use labels::{LabelSet, Labels};

/// Parses a whole exposition in the given format.
///
/// # Errors
/// The first place where `input` breaks the format, with its line and column.
pub fn parse(input: &str, format: Format) -> Result<Exposition<'_>, ParseError> {
    let mut parser = parser::Parser::new(input, format);
    match format {
        Format::Prometheus => parser.run_prometheus()?,
        Format::OpenMetrics => parser.run_openmetrics()?,
    }
    Ok(parser.finish())
}

/// The format a response's `Content-Type` announces: OpenMetrics for the media type
/// `application/openmetrics-text` (whatever its parameters), the Prometheus text
/// format otherwise, as Prometheus falls back to it.
///
/// ```
/// use keviq_runtime::{Format, expfmt::format_from_content_type};
/// assert_eq!(
///     format_from_content_type("application/openmetrics-text; version=1.0.0; charset=utf-8"),
///     Format::OpenMetrics,
/// );
/// assert_eq!(format_from_content_type("text/plain; version=0.0.4"), Format::Prometheus);
/// assert_eq!(format_from_content_type(""), Format::Prometheus);
/// ```
pub fn format_from_content_type(content_type: &str) -> Format {
    let media = content_type.split(';').next().unwrap_or("").trim();
    if media.eq_ignore_ascii_case("application/openmetrics-text") {
        Format::OpenMetrics
    } else {
        Format::Prometheus
    }
}

/// A parsed exposition: its families in order, and all samples in order.
///
/// The samples of a family are contiguous: [`Family::samples`] is their range in
/// [`Exposition::samples`], and [`Sample::family`] the family's index.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Exposition<'a> {
    /// Families, in the order their first line appears.
    pub families: Vec<Family<'a>>,
    /// Samples, in input order.
    pub samples: Vec<Sample<'a>>,
}

impl<'a> Exposition<'a> {
    /// The family named `name` (the name of its `# TYPE` line, or of its first sample
    /// when it has no metadata).
    pub fn family(&self, name: &str) -> Option<&Family<'a>> {
        self.families.iter().find(|f| f.name == name)
    }

    /// The samples of `family`.
    pub fn samples_of(&self, family: &Family<'a>) -> &[Sample<'a>] {
        self.samples.get(family.samples.clone()).unwrap_or(&[])
    }

    /// The family `sample` belongs to.
    pub fn family_of(&self, sample: &Sample<'a>) -> Option<&Family<'a>> {
        self.families.get(sample.family)
    }
}

/// A metric family: its metadata and where its samples are.
#[derive(Debug, Clone, PartialEq)]
pub struct Family<'a> {
    /// The family name. For OpenMetrics counters, without `_total`.
    pub name: &'a str,
    /// The type from `# TYPE`; [`FamilyType::Untyped`] (Prometheus) or
    /// [`FamilyType::Unknown`] (OpenMetrics) without one.
    pub kind: FamilyType,
    /// The `# HELP` text, unescaped. `None` without one, or when it is empty.
    pub help: Option<Cow<'a, str>>,
    /// The OpenMetrics `# UNIT`. `None` without one, or when it is empty.
    pub unit: Option<&'a str>,
    /// The family's samples, as a range of [`Exposition::samples`].
    pub samples: Range<usize>,
}

/// The type of a metric family, as `# TYPE` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FamilyType {
    /// `counter`.
    Counter,
    /// `gauge`.
    Gauge,
    /// `histogram`.
    Histogram,
    /// `summary`.
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

impl FamilyType {
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

    /// The suffixes the names of this family's samples add to the family name in
    /// `format` (`""` for none).
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
}

impl From<MetricKind> for FamilyType {
    fn from(kind: MetricKind) -> Self {
        match kind {
            MetricKind::Counter => Self::Counter,
            MetricKind::Gauge => Self::Gauge,
            MetricKind::Histogram => Self::Histogram,
        }
    }
}

impl fmt::Display for FamilyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample<'a> {
    /// The sample name, with its suffix (`http_requests_total`, `latency_bucket`).
    pub name: &'a str,
    /// The labels, as written (including `le` and `quantile`).
    pub labels: LabelSet<'a>,
    /// The value.
    pub value: f64,
    /// The timestamp, if the line has one.
    pub timestamp: Option<Timestamp>,
    /// The OpenMetrics exemplar, if the line has one.
    pub exemplar: Option<Box<Exemplar<'a>>>,
    /// The index of the sample's family in [`Exposition::families`].
    pub family: usize,
}

/// A sample timestamp, in the unit of its format.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Timestamp {
    /// Prometheus 0.0.4: milliseconds since the Unix epoch.
    Millis(i64),
    /// OpenMetrics: seconds since the Unix epoch, possibly fractional.
    Seconds(f64),
}

impl Timestamp {
    /// Seconds since the Unix epoch.
    pub fn as_seconds(self) -> f64 {
        match self {
            Self::Millis(ms) => ms as f64 / 1000.0,
            Self::Seconds(s) => s,
        }
    }
}

/// An OpenMetrics exemplar: `# {trace_id="..."} 0.67 1520879607.789`.
#[derive(Debug, Clone, PartialEq)]
pub struct Exemplar<'a> {
    /// The exemplar's labels.
    pub labels: LabelSet<'a>,
    /// The exemplar's value.
    pub value: f64,
    /// Its timestamp in seconds, if given.
    pub timestamp: Option<f64>,
}
