use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::Series;
use crate::encode::Collect;
use crate::encode::Encoder;
use crate::shard::{self, Padded, SLOTS};

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
#[derive(Debug)]
pub struct Counter {
    slots: [Padded<AtomicU64>; SLOTS],
    shared: Padded<AtomicU64>,
}

impl Counter {
    /// A counter at zero.
    pub const fn new() -> Self {
        Self {
            slots: [const { Padded(AtomicU64::new(0)) }; SLOTS],
            shared: Padded(AtomicU64::new(0)),
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
            Some(i) => {
                let slot = &self.slots[i].0;
                slot.store(slot.load(Relaxed).wrapping_add(n), Relaxed);
            }
            None => {
                self.shared.0.fetch_add(n, Relaxed);
            }
        }
    }

    /// The current total over all threads.
    pub fn get(&self) -> u64 {
        self.slots
            .iter()
            .fold(self.shared.0.load(Relaxed), |sum, s| {
                sum.wrapping_add(s.0.load(Relaxed))
            })
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
        enc.counter(self.get());
    }
}

/// One series of a labeled counter family: a single atomic, 8 bytes.
#[derive(Debug, Default)]
pub struct LabeledCounter(AtomicU64);

impl LabeledCounter {
    /// A series at zero.
    pub const fn new() -> Self {
        Self(AtomicU64::new(0))
    }

    /// Adds one.
    #[inline(always)]
    pub fn inc(&self) {
        self.0.fetch_add(1, Relaxed);
    }

    /// Adds `n`.
    #[inline(always)]
    pub fn inc_by(&self, n: u64) {
        self.0.fetch_add(n, Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Relaxed)
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
    fn encode(&self, _: &(), enc: &mut Encoder<'_>) {
        enc.counter(self.get());
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
