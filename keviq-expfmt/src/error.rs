//! Parse errors: where and why.

use std::fmt;

use super::MetricType;

/// Where an exposition breaks its format, and how.
///
/// Displays as `line 3, column 17: invalid escape sequence \q in label value`.
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
    pub(super) fn at(input: &[u8], pos: usize, reason: ErrorReason) -> Self {
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
        Self {
            line,
            column,
            reason,
        }
    }
}

/// Why an exposition was rejected.
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
    /// A label value whose closing `"` is missing before the end of the line.
    #[error("label value is not closed by `\"` before the end of the line")]
    UnterminatedLabelValue,
    /// An OpenMetrics `# HELP` text with a `"` that is not escaped as `\"`.
    #[error("unescaped `\"` in HELP text (OpenMetrics requires `\\\"`)")]
    UnescapedQuote,
    /// The same label name twice in one label set.
    #[error("duplicate label name `{0}`")]
    DuplicateLabel(String),
    /// A label name reserved for Prometheus (`__name__`).
    #[error("label name `{0}` is reserved")]
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
    #[error("invalid {field} `{}`", .text.escape_debug())]
    InvalidNumber {
        /// Which number.
        field: NumberField,
        /// Its text.
        text: String,
    },
    /// A number too large for its type (a float beyond `f64::MAX`, a timestamp
    /// beyond `i64`).
    #[error("{field} `{text}` is out of range")]
    NumberOutOfRange {
        /// Which number.
        field: NumberField,
        /// Its text.
        text: String,
    },
    /// A `# TYPE` line naming no type of the format.
    #[error("unknown metric type `{}`", .0.escape_debug())]
    UnknownType(String),
    /// A second `# TYPE`, `# HELP` or `# UNIT` line for one family.
    #[error("second `{keyword}` line for metric family `{family}`")]
    DuplicateMetadata {
        /// The metadata line.
        keyword: Keyword,
        /// The family.
        family: String,
    },
    /// A metadata line after samples of its family.
    #[error("`{keyword}` line for metric family `{family}` after its samples")]
    MetadataAfterSamples {
        /// The metadata line.
        keyword: Keyword,
        /// The family.
        family: String,
    },
    /// Lines of a family after those of another family, once the family's own group
    /// of lines has ended (families must not be interleaved, nor repeated).
    #[error(
        "metric family `{0}` appears again after another family: its lines must form one group"
    )]
    Interleaved(String),
    /// A sample whose name has the family's name but not a suffix its type allows.
    #[error(
        "sample name `{name}` does not fit {kind} family `{family}`: expected {}",
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
    #[error("unit `{unit}` is not a suffix of metric family name `{family}`")]
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
    /// Exemplar labels longer than the 128 characters OpenMetrics allows.
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
}

fn describe_escape(escape: char, place: Place) -> String {
    if escape == '\n' {
        format!("backslash at the end of the line in {place}")
    } else {
        format!(
            "invalid escape sequence \\{} in {place}",
            escape.escape_debug()
        )
    }
}

fn describe_suffixes(family: &str, suffixes: &[&str]) -> String {
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
