//! Where the point label of a histogram or summary sample sits, noted while
//! parsing for the checks after reading.

/// Where a histogram bucket's `le` or a summary's `quantile` sits in a sample's
/// label set (offsets into its raw text), noted while parsing so that the checks
/// after reading need not look for it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hint {
    /// The sample's index.
    pub(crate) sample: u32,
    /// The hash of its labels without this one.
    pub(crate) metric: u32,
    /// The start of the label's name.
    pub(crate) start: u32,
    /// The range of its value.
    pub(crate) value: (u32, u32),
}
