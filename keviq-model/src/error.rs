//! Why a name, label, unit or bucket list was refused.

/// Why a metric name, label name, unit or bucket list was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleError {
    /// The name is empty.
    EmptyName,
    /// The name starts with a digit.
    LeadingDigit,
    /// A metric name holds a character outside `[a-zA-Z0-9_:]`.
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
                "`le` (on histograms) and `quantile` are reserved for bucket and quantile series"
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
        }
    }
}
