//! The runtime of [keviq](https://docs.rs/keviq): metric types, typed labels, the
//! registry, the exposition encoder and (feature `service`) the axum integration.
//!
//! Use it through the `keviq` crate, whose `metric!` macro generates statics of
//! these types and registers them. Everything here also works by hand:
//!
//! ```
//! use keviq_runtime::{Counter, Descriptor, Format, MetricType, Registration, Registry, Site};
//!
//! static JOBS: Counter = Counter::new();
//! static JOBS_REG: Registration = Registration::new(
//!     Descriptor::new("jobs_total", "Jobs run", MetricType::Counter, &[], Site { file: file!(), line: line!() }),
//!     &JOBS,
//! );
//!
//! JOBS.inc();
//! let registry = Registry::from_registrations([&JOBS_REG]).unwrap();
//! assert_eq!(
//!     registry.render(Format::Prometheus),
//!     "# HELP jobs_total Jobs run\n# TYPE jobs_total counter\njobs_total 1\n",
//! );
//! ```
//!
//! # Layers
//!
//! Each module imports only from the ones listed before it:
//!
//! 1. [`keviq_model`]: names, types, rules, formats (its own crate); `sync`: the
//!    atomics (std's, or loom's under `--cfg loom`) and `LazyBox`, the slot
//!    allocated on first use that families and exemplars share; `shard`: the
//!    per-thread slots of unlabeled counters and histograms;
//! 2. `descriptor`: [`Site`] and [`Descriptor`], what a family is called and where
//!    it was declared; [`exemplar`]: [`ExemplarLabels`] and the slots that keep
//!    the latest [`Exemplar`] of a counter or bucket;
//! 3. [`encode`]: the [`Encoder`](encode::Encoder) and [`Collect`](encode::Collect),
//!    what a metric implements to be rendered. It sits below the metric types
//!    because they write their own samples (a concrete encoder, no virtual call
//!    per sample);
//! 4. `registration`: [`Registration`] (a descriptor and its metric) and
//!    [`MetricGroup`];
//! 5. [`label`], then the metric types ([`Counter`], [`Gauge`], [`Histogram`],
//!    [`Family`], ...);
//! 6. [`registry`](Registry): every registration, checked for clashes, rendered;
//! 7. `axum` (feature `service`): layers, request IDs, `/metrics`, `serve`; and
//!    `logging`, `process`; `testing` (feature `testing`): snapshots of what the
//!    registry renders, and their deltas, for assertions in parallel tests.
#![deny(missing_docs)]

#[cfg(feature = "service")]
pub mod axum;
mod descriptor;
pub mod encode;
pub mod exemplar;
pub mod label;
#[cfg(feature = "service")]
pub mod logging;
mod metric;
#[cfg(all(feature = "process-metrics", target_os = "linux"))]
pub mod process;
mod registration;
mod registry;
mod shard;
mod sync;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use descriptor::{Descriptor, Site};
pub use exemplar::{Exemplar, ExemplarError, ExemplarLabels};
pub use keviq_model::{self as model, Format, MetricType};
pub use label::{HttpMethod, LabelSchema, LabelValue, Str};
pub use metric::{
    Counter, DEFAULT_MAX_SERIES, DEFAULT_MS_BUCKETS, Family, FloatGauge, Gauge, Histogram,
    HistogramCell, LabeledCounter, LabeledHistogram, MAX_SPARSE_SERIES, OVERFLOW_LABEL_VALUE,
    Observed, Series,
};
pub use registration::{MetricGroup, Registration};
pub use registry::{Clash, Registry, RegistryError};

// Not public API. Used by generated code: `metric!` reaches the runtime only
// through `::keviq::__private` (which re-exports this module), or through
// `<crate>::__private` with `#[metric(crate = ..)]`.
#[doc(hidden)]
pub mod __private {
    #[cfg(feature = "service")]
    pub use crate::axum::{ServiceInfo, ServiceRegistration, ServiceRouter};
    pub use crate::{
        Counter, DEFAULT_MAX_SERIES, DEFAULT_MS_BUCKETS, Descriptor, Family, FloatGauge, Gauge,
        Histogram, HistogramCell, LabelValue, LabeledCounter, LabeledHistogram, MetricGroup,
        MetricType, Observed, Registration, Site, Str,
    };
    pub use inventory;
}
