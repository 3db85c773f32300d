//! Why a name, label, unit or bucket list was refused.

/// Why a metric name, label name, unit or bucket list was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleError {
    /// The name is empty.
    EmptyName,
    /// The name starts with a digit.
    LeadingDigit,
    /// A metric name holds a character outside `[a-zA-Z0-9_:]` (the grammar).
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
    /// A declared metric name holds `:`, which Prometheus reserves for recording rules.
    ColonInName,
    /// A metric name in camelCase (a lower-case letter followed by an upper-case one).
    CamelCaseName,
    /// A label name in camelCase.
    CamelCaseLabel,
    /// A metric name that includes a type (`_counter`, `_gauge`, `_histogram`,
    /// `_summary`), which `# TYPE` already states.
    TypeInName,
    /// A counter's or gauge's name ends in `_sum`, `_count` or `_bucket`, which only
    /// histograms and summaries own.
    ReservedSuffix,
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
                "`le` is reserved for histogram buckets and `quantile` for summary quantiles; name the label after what it holds"
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
            Self::ColonInName => "`:` is reserved for recording rules; separate the words with `_`",
            Self::CamelCaseName => {
                "metric names are written in snake_case, not camelCase; separate the words with `_` in lower case"
            }
            Self::CamelCaseLabel => {
                "label names are written in snake_case, not camelCase; separate the words with `_` in lower case"
            }
            Self::TypeInName => {
                "a metric name should not include its type (`_counter`, `_gauge`, `_histogram`, `_summary`): `# TYPE` states it; drop that word"
            }
            Self::ReservedSuffix => {
                "only histograms and summaries end in `_sum`, `_count` or `_bucket`; rename it, or declare it as a `Histogram`"
            }
        }
    }
}
