//! Metric types: what the hot path touches.
//!
//! Unlabeled [`Counter`]s and [`Histogram`]s are sharded per thread (see the
//! `shard` module), so concurrent increments never contend. A [`Family`] holds
//! one compact series per label set.

mod counter;
mod family;
mod gauge;
mod histogram;

pub use counter::{Counter, LabeledCounter};
pub use family::{DEFAULT_MAX_SERIES, Family, MAX_SPARSE_SERIES, OVERFLOW_LABEL_VALUE};
pub use gauge::{FloatGauge, Gauge};
pub use histogram::{DEFAULT_MS_BUCKETS, Histogram, HistogramCell, LabeledHistogram};

use crate::expfmt::Encoder;

/// The Prometheus type of a metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricKind {
    /// A monotonically increasing count.
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// Observations counted into cumulative buckets, with their sum and count.
    Histogram,
}

impl MetricKind {
    /// The name used in `# TYPE` lines.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram => "histogram",
        }
    }
}

/// Something that writes its current samples to an [`Encoder`]. Implemented by every
/// metric type; the registry calls it on each render.
pub trait Collect: Sync {
    /// Writes the samples of the family the encoder has just opened.
    fn collect(&self, enc: &mut Encoder<'_>);
}

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
impl crate::registry::MetricGroup for Counter {}
impl crate::registry::MetricGroup for Gauge {}
impl crate::registry::MetricGroup for FloatGauge {}
impl<const N: usize> crate::registry::MetricGroup for Histogram<N> {}
impl<L: crate::label::LabelSchema, M: Series> crate::registry::MetricGroup for Family<L, M> {}
