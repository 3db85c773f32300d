//! How much of the specifications a parse enforces.

/// How much of the specifications a parse enforces.
///
/// ```
/// use keviq_expfmt::{Format, Mode, parse_with};
///
/// // A counter cannot go negative: an error in strict mode, a finding in scrape mode.
/// let text = "# TYPE jobs counter\njobs_total -1\n# EOF\n";
/// let err = parse_with(text, Format::OpenMetrics, Mode::Strict).unwrap_err();
/// assert_eq!(err.to_string(), "line 2, column 1: sample `jobs_total` has value `-1`: a counter total cannot be negative");
/// let exposition = parse_with(text, Format::OpenMetrics, Mode::Scrape).unwrap();
/// assert_eq!(exposition.samples[0].value, -1.0);
/// assert_eq!(exposition.findings[0].to_string(), err.to_string());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Mode {
    /// Every rule of the format's specification; the first broken one is the error.
    #[default]
    Strict,
    /// What Prometheus' scraper accepts; what strict mode would reject is reported
    /// in [`Exposition::findings`](crate::Exposition::findings).
    Scrape,
}
