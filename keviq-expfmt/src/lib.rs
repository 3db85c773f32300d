//! Reads Prometheus text 0.0.4 and OpenMetrics 1.0 text expositions back into
//! families and samples, in one of two modes:
//!
//! * [`Mode::Strict`] ([`parse`]): the specifications as they are written, every
//!   rule below; the first broken one is the error. For `check-metrics` and tests.
//! * [`Mode::Scrape`] ([`parse_with`]): what Prometheus' own scraper (2.x and 3.x)
//!   accepts, so that a target Prometheus scrapes is never reported down: families
//!   whose lines are not contiguous, metadata after samples, a missing final line
//!   feed, quoted UTF-8 names (`{"my.metric", "label.x"="v"}`, Prometheus 3), and
//!   every semantic rule. What it tolerates is reported as [findings](Finding), with
//!   the reason strict mode would have given.
//!
//! The parser borrows from the input: names, units and label sets point into it,
//! and label values and `# HELP` texts are only copied when they hold escapes.
//! It reads the input in one pass, 8 bytes at a time where it can, and allocates
//! nothing per line; the rules that need a whole family at hand run in a second
//! pass over the parsed samples, on hashes computed during the first.
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
//! Scrape mode reads what strict mode rejects, and says so:
//!
//! ```
//! use keviq_expfmt::{Format, Mode, parse, parse_with};
//!
//! // Common without TYPE lines: `x` again after `x_sum` and `x_count`.
//! let text = "x{a=\"1\"} 1\nx_sum 1\nx_count 1\nx{a=\"2\"} 2\n";
//! let err = parse(text, Format::Prometheus).unwrap_err();
//! assert_eq!(err.to_string(), "line 4, column 1: metric family `x` appears again after another family: its lines must form one group");
//!
//! let exposition = parse_with(text, Format::Prometheus, Mode::Scrape).unwrap();
//! assert_eq!(exposition.family("x").map(|f| f.samples.len()), Some(2));
//! assert_eq!(exposition.findings[0].line, 4);
//! assert_eq!(exposition.findings[0].kind(), "interleaved_family");
//!
//! // Prometheus 3 names, and a series written twice: the second is left out.
//! let text = "{\"my.metric\", \"service.name\"=\"api\"} 1\n{\"my.metric\", \"service.name\"=\"api\"} 1\n";
//! let exposition = parse_with(text, Format::Prometheus, Mode::Scrape).unwrap();
//! assert_eq!(exposition.samples.len(), 1);
//! assert_eq!(exposition.samples[0].name, "my.metric");
//! assert_eq!(exposition.samples[0].labels.get("service.name").as_deref(), Some("api"));
//! let kinds: Vec<&str> = exposition.findings.iter().map(|f| f.kind()).collect();
//! assert_eq!(kinds, ["quoted_name", "duplicate_series"]);
//! assert!(parse(text, Format::Prometheus).is_err());
//! ```
//!
//! # What is checked, and where
//!
//! While reading (both formats): the line grammar (names, label syntax with a
//! comma between labels and no line feed inside quotes, escapes, numbers, the
//! final line feed, a metric name on every `# HELP` and `# TYPE` line and a type
//! on every `# TYPE` line), duplicate label names within a sample, the reserved
//! `__name__` label, one `# TYPE` / `# HELP` (and `# UNIT`) per family, metadata
//! before samples, the lines of a family forming one uninterrupted group, sample
//! names fitting their family's type (`x_bucket` of a histogram, `x_total` of an
//! OpenMetrics counter, ... as [`keviq_model::sample_suffix`] decides), an `le`
//! label on every histogram bucket, no quoted names.
//!
//! While reading (OpenMetrics only): single spaces as separators, no blank lines or
//! comments, no `\r`, `# EOF` at the very end, units that are a suffix of the family
//! name ([`keviq_model::check_family_unit`]) and none on `info` and `stateset`
//! families, exemplars only on counter totals and histogram buckets, with at most
//! 128 characters of labels, no label or family names starting with `__`.
//!
//! After reading, per family (both formats): every series (name and label set, in
//! any label order, an empty value counting as no label) once; counters not
//! negative; a number in every bucket's `le` and every summary `quantile`; a
//! `+Inf` bucket in every histogram, equal to its `_count`; buckets in increasing
//! order of `le`, their counts not negative and cumulative; a `quantile` label on
//! summary quantiles, within [0, 1]; no two families whose sample names could
//! coincide (`a_created` next to a counter `a`, as [`keviq_model::families_clash`]
//! decides). Prometheus text only: summary quantiles in increasing order.
//!
//! After reading (OpenMetrics only): counter totals not NaN, and a `_total` for
//! every counter metric (a `_created` sample alone is none); bucket and count
//! values integers, an infinite `le` written `+Inf`, exemplars within their
//! bucket, `_sum`/`_count` (and `_gsum`/`_gcount`) both or neither, no histogram
//! sum next to negative buckets and no negative sum without them; summary sums and
//! counts neither NaN nor negative, quantile values not negative; info values 1,
//! stateset samples with their state label and a value of 0 or 1; a series
//! repeated only with timestamps, all of its samples with one or all without, in
//! increasing time order; the samples of one metric (label set,
//! `le`/`quantile`/state aside) together, its points in time order.
//!
//! # Deliberate readings of the specifications
//!
//! * Prometheus 0.0.4 accepts only the escapes its documentation lists: `\\`, `\"`
//!   and `\n` in label values, `\\` and `\n` in `# HELP` texts (where `\"` is no
//!   escape); OpenMetrics also accepts `\` before any other character, which stands
//!   for itself (its ABNF allows it). Scrape mode reads Prometheus text like
//!   Prometheus: any escape, kept as written (`\"` in a HELP text too).
//! * Prometheus 0.0.4: trailing blanks are ignored, leading blanks of a `# HELP` text
//!   are skipped (they separate tokens), types are lower case as the spec lists
//!   them, and a family's lines must be one group, `# HELP`/`# TYPE` first, as the
//!   spec says (Prometheus is laxer here: scrape mode). A line whose first token
//!   after `#` is `HELP` or `TYPE` names a metric ("at least one more token is
//!   expected"), and `# TYPE` a type ("exactly two more tokens"): an error in both
//!   modes, as in Prometheus, except for the bare keyword, which Prometheus reads
//!   as a comment (scrape mode too, with a finding). `# HELP name` without text is
//!   the family's HELP line, with no help text.
//! * Prometheus 0.0.4 counters, bucket counts and summary quantiles follow the
//!   rules of their types as OpenMetrics states them: counters and bucket counts
//!   not negative, buckets cumulative, quantiles within [0, 1]. Prometheus' scraper
//!   checks none of them: scrape mode reports them as findings.
//! * Numbers follow Go's `strconv.ParseFloat` as the Prometheus reference parser uses
//!   it, which matches the OpenMetrics ABNF: decimal with optional fraction and
//!   exponent, `Inf`/`Infinity` with an optional sign and `NaN` without, case
//!   insensitive; no hex floats or `_`; overflow to infinity is an error. An infinite
//!   `le` is written `+Inf` in OpenMetrics (the canonical form exposers must write,
//!   as the official test suite reads it).
//! * An OpenMetrics `# HELP` text may hold a bare `"`, though the ABNF leaves it
//!   out of escaped strings: the official test suite accepts one (`help_escaping`:
//!   `# HELP a9 \\"`), as do the Python reference parser and Prometheus, and so
//!   does strict mode, which agrees with every case of the suite.
//! * OpenMetrics points of one series may repeat a timestamp (the official suite's
//!   `duplicate_timestamps_1`); scrape mode keeps the first of such points only.
//! * Timestamps keep their format's unit: integer milliseconds in Prometheus 0.0.4,
//!   float seconds in OpenMetrics ([`Timestamp`]).
//! * Lines end with `\n` in both formats: a `\r` before it is an error (it is
//!   content only inside label values, `# HELP` texts and Prometheus comments).
//! * Quoted UTF-8 names follow the Prometheus 3 text format and the OpenMetrics 2.0
//!   draft: a quoted metric name first inside the braces (`{"a.b"}`,
//!   `{"a.b", x="y"}`), quoted label names (`"x.y"="z"`), quoted names in
//!   `# TYPE`/`# HELP`/`# UNIT` lines (Prometheus' own parser also takes the metric
//!   name later in the braces; its documentation and OpenMetrics 2.0 put it first,
//!   and so does this parser). They are errors in strict mode, which reads
//!   OpenMetrics 1.0 and Prometheus 0.0.4. A quoted name holding an escape sequence
//!   cannot be borrowed from the input: scrape mode leaves its sample out, with a
//!   finding.
//!
//! # Scrape mode, in detail
//!
//! Scrape mode turns these errors into findings: families or metrics whose lines
//! are not contiguous (their samples are grouped by family in
//! [`Exposition::samples`]), metadata after samples or between other families
//! (a second `# TYPE`, `# HELP` or `# UNIT` line is ignored: the first counts), a
//! missing final line feed (Prometheus text), any escape in Prometheus text, a
//! line feed inside a quoted label value and a missing comma between labels
//! (Prometheus text, as Prometheus reads both), a bare `# HELP` or `# TYPE`
//! keyword (a comment to Prometheus), a trailing comma in an OpenMetrics label
//! set, sample names that do not fit their family's type, buckets without `le`,
//! unreadable `le` and `quantile` values, exemplars on other samples (kept) or
//! longer than 128 characters (left out), units on info and stateset families,
//! reserved names, and every rule checked after reading. A series repeated
//! without a new timestamp is left out, with a finding: the store never stores
//! one point twice. Everything else (the line grammar, unknown types, a `# TYPE`
//! line without a type, a `# HELP` or `# TYPE` line without a metric name,
//! `# EOF`, a unit that is no suffix of its family) fails in both modes, as it
//! fails Prometheus' scrape.
//!
//! # Cost
//!
//! Time: the line grammar runs at the speed it had before the checks after
//! reading existed; those add a hash per label while reading (for series
//! uniqueness, in any label order) and a pass over each family's samples, about
//! 10 to 20% on counter-heavy input and 40% on histogram-heavy input.
//!
//! Memory: a [`Sample`] takes 80 bytes and a [`MetricFamily`] 80; the sample
//! vector is sized from the line count of the input's first 64 KB and grows at the
//! rate the input shows instead of doubling; the checks use a 4-byte key per
//! sample and hash tables for the largest family. About one byte per input byte
//! for lines of 50 to 150 bytes, 2.3 for histograms, and at most about 31 for
//! degenerate 4-to-8-byte lines (`tests/memory.rs`).

pub use keviq_model::{Format, MetricType};

mod check;
mod error;
mod exposition;
mod findings;
mod hash;
mod hint;
mod labels;
mod mode;
mod number;
mod om;
mod parser;
mod prom;
mod scan;
#[cfg(test)]
mod tests;

pub use error::{
    EXCERPT_CHARS, ErrorReason, Expected, Finding, Found, Keyword, NumberField, ParseError, Place,
};
pub use exposition::{Exemplar, Exposition, MetricFamily, Sample, Timestamp};
pub use labels::{LabelSet, Labels};
pub use mode::Mode;

/// Parses a whole exposition in the given format, in [`Mode::Strict`].
///
/// # Errors
/// The first place where `input` breaks the format, with its line and column.
pub fn parse(input: &str, format: Format) -> Result<Exposition<'_>, ParseError> {
    parse_with(input, format, Mode::Strict)
}

/// Parses a whole exposition in the given format and mode.
///
/// # Errors
/// The first place where `input` breaks the format beyond what `mode` tolerates,
/// with its line and column.
pub fn parse_with(input: &str, format: Format, mode: Mode) -> Result<Exposition<'_>, ParseError> {
    let mut parser = parser::Parser::new(input, format, mode);
    match format {
        Format::Prometheus => parser.run_prometheus()?,
        Format::OpenMetrics => parser.run_openmetrics()?,
    }
    parser.finish()
}
