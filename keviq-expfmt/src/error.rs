//! Parse errors and findings: where and why.

use std::fmt;

use keviq_model::MetricType;

/// Where an exposition breaks its format, and how.
///
/// Displays as `line 3, column 17: invalid escape sequence \q in label value`. Text
/// quoted from the input is cut to a short excerpt (see [`EXCERPT_CHARS`]), so a
/// 10 MB token gives a message of a few dozen characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {reason}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in characters (Unicode scalar values).
    pub column: usize,
    /// What is wrong there.
    pub reason: ErrorReason,
}

impl ParseError {
    /// The error at byte offset `pos` of `input`.
    pub(crate) fn at(input: &[u8], pos: usize, reason: ErrorReason) -> Self {
        let (line, column) = line_and_column(input, pos);
        Self {
            line,
            column,
            reason,
        }
    }
}

/// The 1-based line and column (in characters) of byte offset `pos`.
fn line_and_column(input: &[u8], pos: usize) -> (usize, usize) {
    let before = input.get(..pos).unwrap_or(input);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let column = before
        .get(line_start..)
        .unwrap_or(&[])
        .iter()
        .filter(|&&b| b & 0xC0 != 0x80)
        .count()
        + 1;
    (line, column)
}

/// Something [`Mode::Scrape`](crate::Mode::Scrape) tolerated: what
/// [`Mode::Strict`](crate::Mode::Strict) would have rejected there, with the same
/// reason. See [`Exposition::findings`](crate::Exposition::findings).
///
/// Displays like a [`ParseError`]: `line 4, column 1: metric family `a` appears
/// again after another family: its lines must form one group`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {reason}")]
pub struct Finding {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// What was tolerated.
    pub reason: ErrorReason,
}

impl Finding {
    /// A short, stable name for the kind of finding (`"interleaved_family"`), fit
    /// for a metric label.
    pub fn kind(&self) -> &'static str {
        self.reason.code()
    }

    /// Findings at byte offsets of `input`, with their lines and columns, in input
    /// order: one pass over the input for all of them.
    pub(crate) fn locate(input: &[u8], mut pending: Vec<(usize, ErrorReason)>) -> Vec<Self> {
        pending.sort_by_key(|(pos, _)| *pos);
        let mut out = Vec::with_capacity(pending.len());
        let (mut line, mut line_start, mut scanned) = (1, 0, 0);
        for (pos, reason) in pending {
            let pos = pos.min(input.len());
            for (i, b) in input.get(scanned..pos).unwrap_or(&[]).iter().enumerate() {
                if *b == b'\n' {
                    line += 1;
                    line_start = scanned + i + 1;
                }
            }
            scanned = scanned.max(pos);
            let column = input
                .get(line_start..pos)
                .unwrap_or(&[])
                .iter()
                .filter(|&&b| b & 0xC0 != 0x80)
                .count()
                + 1;
            out.push(Self {
                line,
                column,
                reason,
            });
        }
        out
    }
}

/// The most characters of input an error message quotes; longer text is cut and
/// ends in `…`.
pub const EXCERPT_CHARS: usize = 40;

/// Text quoted in a message, its control characters escaped (`\u{7}`, `\n`) so
/// that a message stays on one line and shows what is there.
struct Shown<'t>(&'t str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_debug())?;
            } else {
                f.write_fmt(format_args!("{c}"))?;
            }
        }
        Ok(())
    }
}

/// `text`, cut to [`EXCERPT_CHARS`] characters and `…` if it is longer. Messages
/// escape it when they display it.
pub(crate) fn excerpt(text: &str) -> String {
    match text.char_indices().nth(EXCERPT_CHARS) {
        Some((end, _)) => format!("{}…", text.get(..end).unwrap_or("")),
        None => text.to_owned(),
    }
}

/// Why an exposition was rejected, or what scrape mode tolerated.
///
/// Texts quoted from the input are [excerpts](EXCERPT_CHARS); messages escape them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorReason {
    /// A backslash followed by a character that cannot follow it there (`'\n'`: a
    /// backslash ending the line).
    #[error("{}", describe_escape(*.escape, *.place))]
    InvalidEscape {
        /// The character after the backslash.
        escape: char,
        /// What was being read.
        place: Place,
    },
    /// A label value whose closing `"` is missing before the end of the line (in
    /// scrape mode, of the input: Prometheus text may hold line feeds there).
    #[error("label value is not closed by `\"` before the end of the line")]
    UnterminatedLabelValue,
    /// A line feed inside a quoted label value or name of Prometheus text, where it
    /// must be escaped (Prometheus reads it: scrape mode too).
    #[error("line feed inside a quoted label value or name: it must be written `\\n`")]
    LineFeedInQuotes,
    /// Two labels of a Prometheus label set without a `,` between them
    /// (Prometheus reads them: scrape mode too).
    #[error("missing `,` between labels: the labels of a set are separated by commas")]
    MissingComma,
    /// The same label name twice in one label set.
    #[error("duplicate label name `{}`", Shown(.0))]
    DuplicateLabel(String),
    /// A label name reserved for Prometheus: `__name__` in both formats, any name
    /// starting with `__` in OpenMetrics.
    #[error("label name `{}` is reserved", Shown(.0))]
    ReservedLabel(String),
    /// Something else than the grammar allows at this place.
    #[error("expected {expected}, found {found}")]
    Expected {
        /// What the grammar allows here.
        expected: Expected,
        /// What is there.
        found: Found,
    },
    /// A sample line that ends before its value.
    #[error("missing sample value")]
    MissingValue,
    /// A number that does not parse.
    #[error("invalid {field} `{}`", Shown(.text))]
    InvalidNumber {
        /// Which number.
        field: NumberField,
        /// Its text.
        text: String,
    },
    /// A number too large for its type (a float beyond `f64::MAX`, a timestamp
    /// beyond `i64`).
    #[error("{field} `{}` is out of range", Shown(.text))]
    NumberOutOfRange {
        /// Which number.
        field: NumberField,
        /// Its text.
        text: String,
    },
    /// A `# HELP` or `# TYPE` line without a metric name.
    #[error("{}", describe_missing_name(*.0))]
    MissingMetadataName(Keyword),
    /// A `# TYPE` line with a metric name but no type.
    #[error(
        "`# TYPE` line for metric family `{}` without a type: `# TYPE` is followed by a metric name and its type",
        Shown(.0)
    )]
    MissingType(String),
    /// A `# TYPE` line naming no type of the format.
    #[error("unknown metric type `{}`", Shown(.0))]
    UnknownType(String),
    /// A second `# TYPE`, `# HELP` or `# UNIT` line for one family (scrape mode
    /// keeps the first).
    #[error("second `{keyword}` line for metric family `{}`", Shown(.family))]
    DuplicateMetadata {
        /// The metadata line.
        keyword: Keyword,
        /// The family.
        family: String,
    },
    /// A metadata line after samples of its family.
    #[error("`{keyword}` line for metric family `{}` after its samples", Shown(.family))]
    MetadataAfterSamples {
        /// The metadata line.
        keyword: Keyword,
        /// The family.
        family: String,
    },
    /// Lines of a family after those of another family, once the family's own group
    /// of lines has ended (families must not be interleaved, nor repeated).
    #[error(
        "metric family `{}` appears again after another family: its lines must form one group",
        Shown(.0)
    )]
    Interleaved(String),
    /// A sample whose name has the family's name but not a suffix its type allows.
    #[error(
        "sample name `{}` does not fit {kind} family `{}`: expected {}",
        Shown(.name),
        Shown(.family),
        describe_suffixes(.family, .suffixes)
    )]
    InvalidSampleName {
        /// The sample name.
        name: String,
        /// The family.
        family: String,
        /// The family's type.
        kind: MetricType,
        /// The suffixes allowed.
        suffixes: &'static [&'static str],
    },
    /// A histogram bucket sample without an `le` label.
    #[error("histogram bucket sample without an `le` label")]
    MissingLe,
    /// An OpenMetrics unit that is not the last `_`-separated part of the family name.
    #[error(
        "unit `{}` is not a suffix of metric family name `{}`",
        Shown(.unit),
        Shown(.family)
    )]
    UnitNotSuffix {
        /// The unit.
        unit: String,
        /// The family.
        family: String,
    },
    /// A unit on an OpenMetrics `info` or `stateset` family.
    #[error("{0} families cannot have a unit")]
    UnitNotAllowed(MetricType),
    /// An exemplar on another sample than a counter's `_total` or a histogram's
    /// `_bucket`.
    #[error("exemplars are only allowed on counter `_total` and histogram `_bucket` samples")]
    ExemplarNotAllowed,
    /// Exemplar labels longer than the 128 characters OpenMetrics allows (scrape
    /// mode leaves the exemplar out).
    #[error("exemplar labels are {0} characters long, more than the 128 allowed")]
    ExemplarTooLong(usize),
    /// An OpenMetrics line starting with `#` that is not `# TYPE`, `# HELP`, `# UNIT`
    /// or `# EOF`.
    #[error(
        "OpenMetrics allows no comments: `#` starts only `# TYPE`, `# HELP`, `# UNIT` and `# EOF` lines"
    )]
    InvalidComment,
    /// An empty line in OpenMetrics.
    #[error("empty line (OpenMetrics allows none)")]
    EmptyLine,
    /// Input that ends without a final line feed.
    #[error("the last line does not end with a line feed")]
    MissingNewline,
    /// OpenMetrics input that ends without `# EOF`.
    #[error("missing `# EOF` at the end of the exposition")]
    MissingEof,
    /// Text after OpenMetrics' `# EOF`.
    #[error("text after `# EOF`")]
    TextAfterEof,
    /// A quoted metric or label name (`{"my.metric"}`, `"label.x"="v"`): Prometheus
    /// 3 and OpenMetrics 2.0 syntax, which OpenMetrics 1.0 and Prometheus text 0.0.4
    /// do not have.
    #[error(
        "quoted name `\"{}\"`: OpenMetrics 1.0 and Prometheus text 0.0.4 allow only unquoted names (quoted UTF-8 names are Prometheus 3 syntax, read in scrape mode)",
        Shown(.0)
    )]
    QuotedName(String),
    /// A quoted name holding an escape sequence, which this zero-copy parser cannot
    /// hand out as a borrowed name: scrape mode leaves the sample (or exemplar) out.
    #[error(
        "escape sequence in quoted name `\"{}\"`: not supported, the sample is left out",
        Shown(.0)
    )]
    EscapedName(String),
    /// An OpenMetrics metric family name starting with `__`, which the specification
    /// reserves.
    #[error("metric family name `{}` starts with `__`, which OpenMetrics reserves", Shown(.0))]
    ReservedName(String),
    /// A sample value a type's semantics forbid: a NaN or negative counter total, a
    /// fractional bucket count, an info value other than 1, ...
    #[error("sample `{}` has value `{value}`: {rule}", Shown(.name))]
    InvalidValue {
        /// The sample name.
        name: String,
        /// The value, as Rust displays it.
        value: String,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// A histogram or gauge histogram metric point without a `+Inf` bucket.
    #[error("histogram `{}` has a metric point without a `le=\"+Inf\"` bucket", Shown(.0))]
    MissingInfBucket(String),
    /// A `_count` (or `_gcount`) that differs from the `+Inf` bucket of its point.
    #[error(
        "`{}` is {count} but its `+Inf` bucket is {inf}: they must be equal",
        Shown(.name)
    )]
    CountMismatch {
        /// The count sample's name.
        name: String,
        /// Its value.
        count: String,
        /// The `+Inf` bucket's value.
        inf: String,
    },
    /// Buckets (or Prometheus summary quantiles) out of increasing order, or a
    /// threshold repeated.
    #[error(
        "`{label}=\"{}\"` comes after `{label}=\"{}\"`: they must be in increasing order",
        Shown(.value),
        Shown(.previous)
    )]
    Unsorted {
        /// `le` or `quantile`.
        label: &'static str,
        /// The value out of order.
        value: String,
        /// The value before it.
        previous: String,
    },
    /// A bucket counting less than the bucket before it.
    #[error(
        "bucket `le=\"{}\"` counts {value}, less than the bucket before it ({previous}): buckets are cumulative",
        Shown(.le)
    )]
    NonCumulative {
        /// The bucket's `le`.
        le: String,
        /// Its value.
        value: String,
        /// The previous bucket's value.
        previous: String,
    },
    /// A histogram `_sum` without `_count` or the reverse (`_gsum`, `_gcount` for
    /// gauge histograms): OpenMetrics has both or neither.
    #[error("`{}` without `{}`: a histogram has both or neither", Shown(.present), Shown(.missing))]
    Unpaired {
        /// The sample that is there.
        present: String,
        /// The sample that is missing.
        missing: String,
    },
    /// A histogram `_sum` next to buckets with a negative threshold.
    #[error("`{}` next to a bucket with a negative `le`: such a histogram has no sum", Shown(.0))]
    SumWithNegativeBuckets(String),
    /// An infinite `le` not written `+Inf`.
    #[error("`le=\"{}\"`: OpenMetrics writes the infinite bucket as `+Inf`", Shown(.0))]
    NonCanonicalInf(String),
    /// A summary sample named like its family, without a `quantile` label.
    #[error("summary quantile sample without a `quantile` label")]
    MissingQuantile,
    /// A `quantile` outside [0, 1].
    #[error("`quantile=\"{}\"` is outside [0, 1], where quantiles lie", Shown(.0))]
    QuantileOutOfRange(String),
    /// An OpenMetrics counter metric with a `_created` sample but no `_total`.
    #[error(
        "`{}` without `{}`: every counter metric has a total",
        Shown(.created),
        Shown(.total)
    )]
    CreatedWithoutTotal {
        /// The `_created` sample, with its labels.
        created: String,
        /// The `_total` sample name it lacks.
        total: String,
    },
    /// A stateset sample without the label named after its family.
    #[error("stateset sample without its state label `{}`", Shown(.0))]
    MissingStateLabel(String),
    /// An exemplar whose value is above its bucket's threshold.
    #[error("exemplar value {value} is above its bucket's `le=\"{}\"`", Shown(.le))]
    ExemplarOutOfBucket {
        /// The exemplar's value.
        value: String,
        /// The bucket's `le`.
        le: String,
    },
    /// The same series (name and label set) twice, without timestamps that tell
    /// its points apart (scrape mode leaves the second out).
    #[error("series `{}` appears twice", Shown(.0))]
    DuplicateSeries(String),
    /// A series with samples with and without a timestamp.
    #[error("series `{}` has samples with and without a timestamp", Shown(.0))]
    MixedTimestamps(String),
    /// A series whose timestamps go backwards.
    #[error("series `{}` goes back in time: its timestamps must increase", Shown(.0))]
    TimestampBackwards(String),
    /// Within an OpenMetrics family, the samples of one metric (one label set, `le`,
    /// `quantile` and state labels aside) after those of another.
    #[error(
        "metric family `{}`: the samples of one label set appear again after another's (a metric's lines must form one group)",
        Shown(.0)
    )]
    InterleavedMetric(String),
    /// Two families whose sample names can coincide (`foo_created` next to a counter
    /// `foo`).
    #[error(
        "metric family `{}` clashes with the sample names of {kind} family `{}`",
        Shown(.family),
        Shown(.other)
    )]
    NameClash {
        /// The family whose name is a sample name of the other.
        family: String,
        /// The other family.
        other: String,
        /// The other family's type.
        kind: MetricType,
    },
}

impl ErrorReason {
    /// A short, stable name for the reason (`"duplicate_series"`), fit for a metric
    /// label.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidEscape { .. } => "invalid_escape",
            Self::UnterminatedLabelValue => "unterminated_label_value",
            Self::LineFeedInQuotes => "line_feed_in_quotes",
            Self::MissingComma => "missing_comma",
            Self::DuplicateLabel(_) => "duplicate_label",
            Self::ReservedLabel(_) => "reserved_label",
            Self::Expected { .. } => "syntax",
            Self::MissingValue => "missing_value",
            Self::InvalidNumber { .. } => "invalid_number",
            Self::NumberOutOfRange { .. } => "number_out_of_range",
            Self::MissingMetadataName(_) => "missing_metadata_name",
            Self::MissingType(_) => "missing_type",
            Self::UnknownType(_) => "unknown_type",
            Self::DuplicateMetadata { .. } => "duplicate_metadata",
            Self::MetadataAfterSamples { .. } => "metadata_after_samples",
            Self::Interleaved(_) => "interleaved_family",
            Self::InvalidSampleName { .. } => "invalid_sample_name",
            Self::MissingLe => "missing_le",
            Self::UnitNotSuffix { .. } => "unit_not_suffix",
            Self::UnitNotAllowed(_) => "unit_not_allowed",
            Self::ExemplarNotAllowed => "exemplar_not_allowed",
            Self::ExemplarTooLong(_) => "exemplar_too_long",
            Self::InvalidComment => "invalid_comment",
            Self::EmptyLine => "empty_line",
            Self::MissingNewline => "missing_newline",
            Self::MissingEof => "missing_eof",
            Self::TextAfterEof => "text_after_eof",
            Self::QuotedName(_) => "quoted_name",
            Self::EscapedName(_) => "escaped_name",
            Self::ReservedName(_) => "reserved_name",
            Self::InvalidValue { .. } => "invalid_value",
            Self::MissingInfBucket(_) => "missing_inf_bucket",
            Self::CountMismatch { .. } => "count_mismatch",
            Self::Unsorted { .. } => "unsorted",
            Self::NonCumulative { .. } => "non_cumulative",
            Self::Unpaired { .. } => "unpaired_sum_count",
            Self::SumWithNegativeBuckets(_) => "sum_with_negative_buckets",
            Self::NonCanonicalInf(_) => "non_canonical_inf",
            Self::MissingQuantile => "missing_quantile",
            Self::QuantileOutOfRange(_) => "quantile_out_of_range",
            Self::CreatedWithoutTotal { .. } => "created_without_total",
            Self::MissingStateLabel(_) => "missing_state_label",
            Self::ExemplarOutOfBucket { .. } => "exemplar_out_of_bucket",
            Self::DuplicateSeries(_) => "duplicate_series",
            Self::MixedTimestamps(_) => "mixed_timestamps",
            Self::TimestampBackwards(_) => "timestamp_backwards",
            Self::InterleavedMetric(_) => "interleaved_metric",
            Self::NameClash { .. } => "name_clash",
        }
    }
}

fn describe_escape(escape: char, place: Place) -> String {
    if escape == '\n' {
        return format!("backslash at the end of the line in {place}");
    }
    let allowed = match place {
        Place::LabelValue => "`\\\\`, `\\\"` and `\\n`",
        Place::Help => "`\\\\` and `\\n`",
    };
    let shown = escape.to_string();
    format!(
        "invalid escape sequence \\{} in {place}: Prometheus text allows only the escapes {allowed} there",
        Shown(&shown)
    )
}

fn describe_missing_name(keyword: Keyword) -> String {
    let then = match keyword {
        Keyword::Type => "its type",
        Keyword::Help => "its docstring",
        Keyword::Unit => "its unit",
    };
    format!(
        "`{keyword}` line without a metric name: `{keyword}` is followed by a metric name and {then}"
    )
}

fn describe_suffixes(family: &str, suffixes: &[&str]) -> String {
    let family = Shown(family);
    let names: Vec<String> = suffixes.iter().map(|s| format!("`{family}{s}`")).collect();
    match names.as_slice() {
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
        [] => "no sample".to_owned(),
    }
}

/// What text an escape was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Place {
    /// A label value.
    LabelValue,
    /// A `# HELP` text.
    Help,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::LabelValue => "label value",
            Self::Help => "HELP text",
        })
    }
}

/// A metadata line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Keyword {
    /// `# TYPE`.
    Type,
    /// `# HELP`.
    Help,
    /// `# UNIT`.
    Unit,
}

impl fmt::Display for Keyword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Type => "# TYPE",
            Self::Help => "# HELP",
            Self::Unit => "# UNIT",
        })
    }
}

/// The number a [`ErrorReason::InvalidNumber`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NumberField {
    /// A sample value.
    Value,
    /// A sample timestamp.
    Timestamp,
    /// An exemplar value.
    ExemplarValue,
    /// An exemplar timestamp.
    ExemplarTimestamp,
    /// The value of an `le` label.
    Le,
    /// The value of a `quantile` label.
    Quantile,
}

impl fmt::Display for NumberField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Value => "sample value",
            Self::Timestamp => "timestamp",
            Self::ExemplarValue => "exemplar value",
            Self::ExemplarTimestamp => "exemplar timestamp",
            Self::Le => "`le` label value",
            Self::Quantile => "`quantile` label value",
        })
    }
}

/// What the grammar allows where an [`ErrorReason::Expected`] occurred.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Expected {
    /// A metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    MetricName,
    /// A label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
    LabelName,
    /// `=` after a label name.
    Equals,
    /// `"` opening a label value.
    Quote,
    /// `,` or `}` after a label value.
    CommaOrBrace,
    /// A single space (OpenMetrics separator).
    Space,
    /// A space or tab after a metric name in a Prometheus `# HELP` or `# TYPE` line.
    Blank,
    /// A number.
    Number,
    /// The line feed ending the line.
    LineEnd,
    /// `# {` starting an exemplar.
    Exemplar,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MetricName => "a metric name",
            Self::LabelName => "a label name",
            Self::Equals => "`=`",
            Self::Quote => "`\"` opening the label value",
            Self::CommaOrBrace => "`,` or `}`",
            Self::Space => "a single space",
            Self::Blank => "a space or tab after the metric name",
            Self::Number => "a number",
            Self::LineEnd => "the end of the line",
            Self::Exemplar => "`# {` starting an exemplar",
        })
    }
}

/// What was found where an [`ErrorReason::Expected`] occurred.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Found {
    /// A character.
    Char(char),
    /// The line feed ending the line.
    EndOfLine,
    /// The end of the input.
    EndOfInput,
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Char(' ') => f.write_str("a space"),
            Self::Char('\t') => f.write_str("a tab"),
            Self::Char('\r') => f.write_str("a carriage return"),
            Self::Char(c) => write!(f, "`{}`", c.escape_debug()),
            Self::EndOfLine => f.write_str("the end of the line"),
            Self::EndOfInput => f.write_str("the end of the input"),
        }
    }
}
