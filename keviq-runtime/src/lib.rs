//! The runtime of [keviq](https://docs.rs/keviq): metric types, typed labels, the
//! registry and the exposition encoder.
//!
//! Use it through the `keviq` crate, whose `metric!` macro generates statics of
//! these types and registers them. Everything here also works by hand:
//!
//! ```
//! use keviq_runtime::{Counter, Descriptor, Format, MetricKind, Registration, Registry, Site};
//!
//! static JOBS: Counter = Counter::new();
//! static JOBS_REG: Registration = Registration::new(
//!     Descriptor::new("jobs_total", "Jobs run", MetricKind::Counter, &[], Site { file: file!(), line: line!() }),
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
#![deny(missing_docs)]

pub mod expfmt;
#[cfg(feature = "service")]
pub mod http;
pub mod label;
#[cfg(feature = "service")]
pub mod logging;
mod metric;
#[cfg(all(feature = "process-metrics", target_os = "linux"))]
pub mod process;
mod registry;
pub mod rules;
mod shard;

pub use expfmt::{Encoder, Format};
pub use label::{HttpMethod, LabelSchema, LabelValue, Str};
pub use metric::{
    Collect, Counter, DEFAULT_MAX_SERIES, DEFAULT_MS_BUCKETS, Family, FloatGauge, Gauge, Histogram,
    HistogramCell, LabeledCounter, LabeledHistogram, MAX_SPARSE_SERIES, MetricKind,
    OVERFLOW_LABEL_VALUE, Series,
};
pub use registry::{Clash, Descriptor, MetricGroup, Registration, Registry, RegistryError, Site};

// Not public API. Used by generated code.
#[doc(hidden)]
pub use inventory;
