//! Exemplars, as OpenMetrics 1.0 defines them: a label set of at most 128
//! characters (names and values together), a value, and a timestamp, attached to a
//! counter's `_total` sample or to one histogram bucket.
//!
//! ```
//! use keviq_runtime::{Counter, ExemplarLabels, Histogram};
//!
//! static LATENCY: Histogram<3> = Histogram::new([1.0, 10.0, 100.0]);
//! static FAILURES: Counter = Counter::new();
//!
//! let exemplar = ExemplarLabels::new([("request_id", "6f1c2b0e")]).expect("short enough");
//! LATENCY.observe_with_exemplar(42.0, &exemplar); // on the `le="100.0"` bucket
//! FAILURES.inc_with_exemplar(&exemplar);
//!
//! let kept = LATENCY.exemplar(2).expect("recorded");
//! assert_eq!(kept.value, 42.0);
//! assert_eq!(kept.labels.iter().collect::<Vec<_>>(), [("request_id", "6f1c2b0e")]);
//! ```
//!
//! Only the OpenMetrics format renders them
//! (`foo_bucket{le="100.0"} 1 # {request_id="6f1c2b0e"} 42.0 1700000000.123`); the
//! Prometheus text format 0.0.4 has no syntax for exemplars, and its render does not
//! change.
//!
//! # Cost
//!
//! - Recording *without* an exemplar (`inc`, `observe`) is untouched: the exemplar
//!   state lives beside the counts, behind a pointer that only the `_with_exemplar`
//!   methods and the render read.
//! - Recording *with* one allocates that state on first use: a slot (360 bytes) per
//!   counter series, and per histogram series a pointer per bucket, then a slot per
//!   bucket that receives an exemplar. After that it never allocates and never
//!   waits: it reads the clock, then copies the label set into the spare half of a
//!   double buffer under a try-lock that only recorders take. When two threads
//!   record an exemplar on the same counter or bucket at the same instant, the one
//!   that finds the slot busy leaves it to the other (a slot keeps one exemplar
//!   anyway).
//! - A render reads the published half under a sequence number and never blocks a
//!   recorder. A render that races with a recording keeps the exemplar published
//!   before it; one that keeps racing (two recordings completing during each of 16
//!   reads in a row) leaves that exemplar out of this render. It never shows a torn
//!   one.
//! - The timestamp is a read of the system clock (`SystemTime::now`), which is most
//!   of what recording with an exemplar costs.

mod labels;
mod slot;

pub use labels::{ExemplarError, ExemplarLabels};
pub(crate) use slot::ExemplarSlot;

/// One recorded exemplar: its labels, the value recorded with them, and when.
#[derive(Debug, Clone, PartialEq)]
pub struct Exemplar {
    /// The label set (`request_id="..."`).
    pub labels: ExemplarLabels,
    /// The observed value (histograms) or the increment (counters).
    pub value: f64,
    /// Seconds since the Unix epoch at recording time, to the millisecond; `None`
    /// when the system clock reads before the epoch.
    pub timestamp: Option<f64>,
}

/// The time now, in seconds since the Unix epoch (OpenMetrics timestamps), to the
/// millisecond: what Prometheus stores, and it renders short (`1700000000.123`).
#[inline]
pub(crate) fn now() -> Option<f64> {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_millis() as f64 / 1e3)
}
