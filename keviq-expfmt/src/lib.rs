//! Reads Prometheus text 0.0.4 and OpenMetrics 1.0 text expositions back into
//! families and samples: whatever keviq's encoder writes, and whatever
//! else the two specifications accept.
//!
//! The parser borrows from the input: names, units and label sets point into it,
//! and label values and `# HELP` texts are only copied when they hold escapes.
//! It reads the input in one pass, 8 bytes at a time where it can, and allocates
//! nothing per line.
//!
//! ```
//! use keviq_expfmt::Format;
//! use keviq_expfmt::{MetricType, parse};
//!
//! let text = "# HELP jobs_total Jobs run\n# TYPE jobs_total counter\njobs_total{queue=\"a\\\"b\"} 3\n";
//! let exposition = parse(text, Format::Prometheus).unwrap();
//! let family = &exposition.families[0];
//! assert_eq!((family.name, family.kind), ("jobs_total", MetricType::Counter));
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

use std::ops::Range;

pub use keviq_model::{Format, MetricType};

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

/// A parsed exposition: its families in order, and all samples in order.
///
/// The samples of a family are contiguous: [`MetricFamily::samples`] is their range in
/// [`Exposition::samples`], and [`Sample::family`] the family's index.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Exposition<'a> {
    /// Families, in the order their first line appears.
    pub families: Vec<MetricFamily<'a>>,
    /// Samples, in input order.
    pub samples: Vec<Sample<'a>>,
}

impl<'a> Exposition<'a> {
    /// The family named `name` (the name of its `# TYPE` line, or of its first sample
    /// when it has no metadata).
    pub fn family(&self, name: &str) -> Option<&MetricFamily<'a>> {
        self.families.iter().find(|f| f.name == name)
    }

    /// The samples of `family`.
    pub fn samples_of(&self, family: &MetricFamily<'a>) -> &[Sample<'a>] {
        self.samples.get(family.samples.clone()).unwrap_or(&[])
    }

    /// The family `sample` belongs to.
    pub fn family_of(&self, sample: &Sample<'a>) -> Option<&MetricFamily<'a>> {
        self.families.get(sample.family)
    }
}

/// A metric family: its metadata and where its samples are.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricFamily<'a> {
    /// The family name. For OpenMetrics counters, without `_total`.
    pub name: &'a str,
    /// The type from `# TYPE`; [`MetricType::Untyped`] (Prometheus) or
    /// [`MetricType::Unknown`] (OpenMetrics) without one.
    pub kind: MetricType,
    /// The `# HELP` text, unescaped. `None` without one, or when it is empty.
    pub help: Option<Cow<'a, str>>,
    /// The OpenMetrics `# UNIT`. `None` without one, or when it is empty.
    pub unit: Option<&'a str>,
    /// The family's samples, as a range of [`Exposition::samples`].
    pub samples: Range<usize>,
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
