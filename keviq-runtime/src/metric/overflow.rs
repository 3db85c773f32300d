//! `keviq_series_overflow_total`: how many label sets each family folded into its
//! overflow series.

#[cfg(not(loom))]
keviq_macros::metric! {
    /// Label sets recorded into a family's overflow series because the family reached its series cap
    #[metric(crate = crate)]
    pub(crate) static SERIES_OVERFLOW: Counter(metric: &str) = "keviq_series_overflow_total";
}

/// Under loom the overflow is not counted: `metric!` builds a `Counter` in a
/// static, which loom's atomics (no `const` constructor) cannot be, and no model
/// reaches a family's series cap.
#[cfg(loom)]
pub(crate) static SERIES_OVERFLOW: Uncounted = Uncounted;

#[cfg(loom)]
#[derive(Debug)]
pub(crate) struct Uncounted;

#[cfg(loom)]
impl Uncounted {
    pub(crate) fn labels(&self, _metric: &str) -> &Self {
        self
    }

    pub(crate) fn inc(&self) {}
}
