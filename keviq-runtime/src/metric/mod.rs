//! Metric types: what the hot path touches.
//!
//! Unlabeled [`Counter`]s and [`Histogram`]s are sharded per thread (see the
//! `shard` module), so concurrent increments never contend. A [`Family`] holds
//! one compact series per label set.

mod counter;
mod family;
mod gauge;
mod histogram;
mod key;
mod observed;
pub(crate) mod overflow;

pub use counter::{Counter, LabeledCounter};
pub use family::{DEFAULT_MAX_SERIES, Family, MAX_SPARSE_SERIES, OVERFLOW_LABEL_VALUE};
pub use gauge::{FloatGauge, Gauge};
pub use histogram::{DEFAULT_MS_BUCKETS, Histogram, HistogramCell, LabeledHistogram};
pub use observed::Observed;

use crate::encode::Encoder;
use crate::label::LabelSchema;
use crate::registration::MetricGroup;

/// One series of a labeled [`Family`]: created on first use of its label set.
pub trait Series: Send + Sync + 'static {
    /// Shared by every series of the family (histogram bounds, for example).
    type Config: Send + Sync + 'static;
    /// What `labels(..)` returns.
    type Handle<'a>;
    /// A fresh series, at zero.
    fn create(config: &Self::Config) -> Self;
    /// The handle users record through.
    fn handle<'a>(&'a self, config: &'a Self::Config) -> Self::Handle<'a>;
    /// Writes the series' samples; the encoder holds its labels.
    fn encode(&self, config: &Self::Config, enc: &mut Encoder<'_>);
}

// A metric static on its own is a group of one.
impl MetricGroup for Counter {}
impl MetricGroup for Gauge {}
impl MetricGroup for FloatGauge {}
impl MetricGroup for Observed {}
impl<const N: usize> MetricGroup for Histogram<N> {}
impl<L: LabelSchema, M: Series> MetricGroup for Family<L, M> {}
