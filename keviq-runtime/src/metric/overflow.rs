//! `keviq_series_overflow_total`: how many label sets each family folded into its
//! overflow series.

keviq_macros::metric! {
    /// Label sets recorded into a family's overflow series because the family reached its series cap
    #[metric(crate = crate)]
    pub(crate) static SERIES_OVERFLOW: Counter(metric: &str) = "keviq_series_overflow_total";
}
