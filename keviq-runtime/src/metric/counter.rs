use super::Series;
use crate::encode::Collect;
use crate::encode::Encoder;
use crate::exemplar::{Exemplar, ExemplarLabels, ExemplarSlot};
use crate::shard::{self, Padded, SLOTS, STRIPES, Slot};
use crate::sync::{AtomicU64, LazyBox, Ordering::Relaxed, atomic_array, const_unless_loom};

/// A monotonically increasing `u64` count, sharded per thread.
///
/// `inc` on the hot path is one thread-local read plus a plain load and store to a
/// cache line no other thread writes: no lock, no allocation, no contention.
///
/// ```
/// use keviq_runtime::Counter;
/// static REQUESTS: Counter = Counter::new();
/// REQUESTS.inc();
/// REQUESTS.inc_by(2);
/// assert_eq!(REQUESTS.get(), 3);
/// ```
///
/// [`inc_with_exemplar`](Self::inc_with_exemplar) also keeps the increment as the
/// counter's [exemplar](crate::exemplar), which OpenMetrics renders on `_total`.
#[derive(Debug)]
pub struct Counter {
    slots: [Padded<AtomicU64>; SLOTS],
    shared: [Padded<AtomicU64>; STRIPES],
    // Beside the counts: `inc` never touches it.
    exemplar: LazyBox<ExemplarSlot>,
}

impl Counter {
    const_unless_loom! {
        /// A counter at zero.
        pub fn new() -> Self {
            Self {
                slots: atomic_array![Padded(AtomicU64::new(0)); SLOTS],
                shared: atomic_array![Padded(AtomicU64::new(0)); STRIPES],
                exemplar: LazyBox::new(),
            }
        }
    }

    /// Adds one.
    #[inline(always)]
    pub fn inc(&self) {
        self.inc_by(1);
    }

    /// Adds `n`.
    #[inline(always)]
    pub fn inc_by(&self, n: u64) {
        match shard::current() {
            // Only this thread writes this slot: a plain load and store cannot lose
            // an update, and avoids the `lock` prefix of `fetch_add`.
            Slot::Owned(i) => {
                let slot = &self.slots[i].0;
                slot.store(slot.load(Relaxed).wrapping_add(n), Relaxed);
            }
            Slot::Shared(i) => {
                self.shared[i].0.fetch_add(n, Relaxed);
            }
        }
    }

    /// Adds one, with `labels` as the exemplar (value 1). See [`crate::exemplar`]
    /// for what it costs.
    #[inline]
    pub fn inc_with_exemplar(&self, labels: &ExemplarLabels) {
        self.inc_by_with_exemplar(1, labels);
    }

    /// Adds `n`, with `labels` as the exemplar (value `n`).
    #[inline]
    pub fn inc_by_with_exemplar(&self, n: u64, labels: &ExemplarLabels) {
        self.inc_by(n);
        self.exemplar
            .get_or_init(ExemplarSlot::new)
            .record(labels, n as f64);
    }

    /// The current total over all threads.
    pub fn get(&self) -> u64 {
        self.slots
            .iter()
            .chain(&self.shared)
            .fold(0u64, |sum, s| sum.wrapping_add(s.0.load(Relaxed)))
    }

    /// The latest exemplar, if one was recorded.
    pub fn exemplar(&self) -> Option<Exemplar> {
        self.exemplar.get().and_then(ExemplarSlot::load)
    }
}

impl Default for Counter {
    fn default() -> Self {
        Self::new()
    }
}

impl Collect for Counter {
    fn collect(&self, enc: &mut Encoder<'_>) {
        enc.clear_labels();
        enc.counter_with_exemplar(self.get(), || self.exemplar());
    }
}

/// One series of a labeled counter family: an atomic count, and a pointer to its
/// exemplar slot, null until the series records its first exemplar (16 bytes).
#[derive(Debug, Default)]
pub struct LabeledCounter {
    value: AtomicU64,
    exemplar: LazyBox<ExemplarSlot>,
}

impl LabeledCounter {
    const_unless_loom! {
        /// A series at zero.
        pub fn new() -> Self {
            Self {
                value: AtomicU64::new(0),
                exemplar: LazyBox::new(),
            }
        }
    }

    /// Adds one.
    #[inline(always)]
    pub fn inc(&self) {
        self.value.fetch_add(1, Relaxed);
    }

    /// Adds `n`.
    #[inline(always)]
    pub fn inc_by(&self, n: u64) {
        self.value.fetch_add(n, Relaxed);
    }

    /// Adds one, with `labels` as the series' exemplar (value 1).
    #[inline]
    pub fn inc_with_exemplar(&self, labels: &ExemplarLabels) {
        self.inc_by_with_exemplar(1, labels);
    }

    /// Adds `n`, with `labels` as the series' exemplar (value `n`).
    #[inline]
    pub fn inc_by_with_exemplar(&self, n: u64, labels: &ExemplarLabels) {
        self.inc_by(n);
        self.exemplar
            .get_or_init(ExemplarSlot::new)
            .record(labels, n as f64);
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.value.load(Relaxed)
    }

    /// The latest exemplar, if one was recorded.
    pub fn exemplar(&self) -> Option<Exemplar> {
        self.exemplar.get().and_then(ExemplarSlot::load)
    }
}

impl Series for LabeledCounter {
    type Config = ();
    type Handle<'a> = &'a LabeledCounter;
    fn create(_: &()) -> Self {
        Self::new()
    }
    #[inline(always)]
    fn handle<'a>(&'a self, _: &'a ()) -> &'a LabeledCounter {
        self
    }
    #[inline]
    fn encode(&self, _: &(), enc: &mut Encoder<'_>) {
        enc.counter_with_exemplar(self.get(), || self.exemplar());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_across_threads_including_the_shared_slot() {
        static C: Counter = Counter::new();
        std::thread::scope(|s| {
            for _ in 0..(SLOTS + 8) {
                s.spawn(|| {
                    for _ in 0..1000 {
                        C.inc();
                    }
                });
            }
        });
        assert_eq!(C.get(), (SLOTS as u64 + 8) * 1000);
    }
}
