use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

use super::Series;
use crate::encode::Collect;
use crate::encode::Encoder;

/// An integer value that goes up and down.
///
/// ```
/// use keviq_runtime::Gauge;
/// static IN_FLIGHT: Gauge = Gauge::new();
/// IN_FLIGHT.inc();
/// IN_FLIGHT.dec();
/// IN_FLIGHT.set(7);
/// assert_eq!(IN_FLIGHT.get(), 7);
/// ```
#[derive(Debug, Default)]
pub struct Gauge(AtomicI64);

impl Gauge {
    /// A gauge at zero.
    pub const fn new() -> Self {
        Self(AtomicI64::new(0))
    }
    /// Adds one.
    #[inline(always)]
    pub fn inc(&self) {
        self.add(1);
    }
    /// Subtracts one.
    #[inline(always)]
    pub fn dec(&self) {
        self.add(-1);
    }
    /// Adds `n` (which may be negative).
    #[inline(always)]
    pub fn add(&self, n: i64) {
        self.0.fetch_add(n, Relaxed);
    }
    /// Sets the value.
    #[inline(always)]
    pub fn set(&self, v: i64) {
        self.0.store(v, Relaxed);
    }
    /// The current value.
    pub fn get(&self) -> i64 {
        self.0.load(Relaxed)
    }
}

/// A floating-point value that goes up and down.
///
/// ```
/// use keviq_runtime::FloatGauge;
/// static LOAD: FloatGauge = FloatGauge::new();
/// LOAD.set(0.5);
/// LOAD.add(0.25);
/// assert_eq!(LOAD.get(), 0.75);
/// ```
#[derive(Debug, Default)]
pub struct FloatGauge(AtomicU64);

impl FloatGauge {
    /// A gauge at `0.0`.
    pub const fn new() -> Self {
        Self(AtomicU64::new(0))
    }
    /// Sets the value.
    #[inline(always)]
    pub fn set(&self, v: f64) {
        self.0.store(v.to_bits(), Relaxed);
    }
    /// Adds `d` (which may be negative).
    #[inline]
    pub fn add(&self, d: f64) {
        let _ = self.0.fetch_update(Relaxed, Relaxed, |b| {
            Some((f64::from_bits(b) + d).to_bits())
        });
    }
    /// The current value.
    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Relaxed))
    }
}

impl Collect for Gauge {
    fn collect(&self, enc: &mut Encoder<'_>) {
        enc.clear_labels();
        enc.gauge_i64(self.get());
    }
}

impl Collect for FloatGauge {
    fn collect(&self, enc: &mut Encoder<'_>) {
        enc.clear_labels();
        enc.gauge_f64(self.get());
    }
}

impl Series for Gauge {
    type Config = ();
    type Handle<'a> = &'a Gauge;
    fn create(_: &()) -> Self {
        Self::new()
    }
    #[inline(always)]
    fn handle<'a>(&'a self, _: &'a ()) -> &'a Gauge {
        self
    }
    #[inline]
    fn encode(&self, _: &(), enc: &mut Encoder<'_>) {
        enc.gauge_i64(self.get());
    }
}

impl Series for FloatGauge {
    type Config = ();
    type Handle<'a> = &'a FloatGauge;
    fn create(_: &()) -> Self {
        Self::new()
    }
    #[inline(always)]
    fn handle<'a>(&'a self, _: &'a ()) -> &'a FloatGauge {
        self
    }
    #[inline]
    fn encode(&self, _: &(), enc: &mut Encoder<'_>) {
        enc.gauge_f64(self.get());
    }
}
