//! Where a counter or a histogram bucket keeps its latest exemplar: a double buffer
//! that recorders fill without waiting and renders read without blocking them.
//!
//! A slot has two buffers and a state word: which buffer is published, and whether a
//! recorder is at work. A recorder takes the state's writer bit with one
//! compare-and-swap (or, finding it taken, leaves its exemplar out: a slot keeps
//! one exemplar, and the other recorder's is as recent), writes the *unpublished*
//! buffer, and publishes it. Each buffer is a seqlock: its sequence number is odd
//! while it is written. A reader reads the published buffer and checks its sequence
//! number did not move; since recorders write the other buffer, it only has to retry
//! when two recordings complete during its read, and after [`READ_ATTEMPTS`] such
//! races it reports nothing rather than anything torn.
//!
//! Every field is an atomic accessed with the orderings of the classic seqlock
//! (Boehm, "Can seqlocks get along with programming language memory models?",
//! 2012), so there is no data race and no `unsafe` here. A slot is allocated on
//! the first exemplar, in a [`LazyBox`](crate::sync::LazyBox). `tests/loom.rs`
//! checks under loom that a read concurrent with recordings never returns a torn
//! exemplar.

use super::Exemplar;
use super::labels::{ExemplarLabels, WORDS};
use crate::sync::{
    AtomicU32, AtomicU64, Ordering::Acquire, Ordering::Relaxed, Ordering::Release, atomic_array,
    const_unless_loom, fence,
};

/// Bit of the state word: the index of the published buffer.
const PUBLISHED: u32 = 1;
/// Bit of the state word: a recorder is writing the unpublished buffer.
const WRITING: u32 = 2;
/// Reads a render tries before it gives up on a slot for this render.
#[cfg(not(loom))]
const READ_ATTEMPTS: usize = 16;
/// Under loom, fewer: each attempt multiplies the interleavings to explore, and
/// a torn read would show in the first ones.
#[cfg(loom)]
const READ_ATTEMPTS: usize = 3;

/// The latest exemplar of one counter or one histogram bucket.
#[derive(Debug)]
pub(crate) struct ExemplarSlot {
    state: AtomicU32,
    buffers: [Buffer; 2],
}

#[derive(Debug)]
struct Buffer {
    /// Even when stable, odd while written; 0 until first written.
    seq: AtomicU64,
    value: AtomicU64,
    /// Seconds as `f64` bits; NaN for no timestamp.
    timestamp: AtomicU64,
    labels: [AtomicU64; WORDS],
}

enum Read {
    Empty,
    Raced,
    Done(Exemplar),
}

impl ExemplarSlot {
    const_unless_loom! {
        pub(crate) fn new() -> Self {
            Self {
                state: AtomicU32::new(0),
                buffers: atomic_array![Buffer::new(); 2],
            }
        }
    }

    /// Records `labels` with `value`, stamped now; leaves it out if another
    /// recorder holds the slot at this instant.
    #[inline]
    pub(crate) fn record(&self, labels: &ExemplarLabels, value: f64) {
        let timestamp = super::now();
        let state = self.state.load(Relaxed);
        if state & WRITING != 0
            || self
                .state
                .compare_exchange(state, state | WRITING, Acquire, Relaxed)
                .is_err()
        {
            return;
        }
        let next = (state & PUBLISHED) ^ 1;
        self.buffers[next as usize].write(labels, value, timestamp);
        // Publishes the buffer and frees the slot; Release pairs with the next
        // recorder's and every reader's Acquire.
        self.state.store(next, Release);
    }

    /// The published exemplar, if any was recorded (and the read did not race more
    /// than [`READ_ATTEMPTS`] times).
    pub(crate) fn load(&self) -> Option<Exemplar> {
        for _ in 0..READ_ATTEMPTS {
            let state = self.state.load(Acquire);
            match self.buffers[(state & PUBLISHED) as usize].read() {
                Read::Empty => return None,
                Read::Done(exemplar) => return Some(exemplar),
                Read::Raced => std::hint::spin_loop(),
            }
        }
        None
    }
}

impl Buffer {
    const_unless_loom! {
        fn new() -> Self {
            Self {
                seq: AtomicU64::new(0),
                value: AtomicU64::new(0),
                timestamp: AtomicU64::new(0),
                labels: atomic_array![AtomicU64::new(0); WORDS],
            }
        }
    }

    /// Only the holder of the slot's writer bit calls this.
    #[inline]
    fn write(&self, labels: &ExemplarLabels, value: f64, timestamp: Option<f64>) {
        let seq = self.seq.load(Relaxed);
        self.seq.store(seq.wrapping_add(1), Relaxed);
        // Orders the odd sequence number before the data: a reader that sees any of
        // the new data sees the sequence number move.
        fence(Release);
        self.value.store(value.to_bits(), Relaxed);
        self.timestamp
            .store(timestamp.unwrap_or(f64::NAN).to_bits(), Relaxed);
        // Only the words the set uses: the reader ignores the rest.
        for (i, word) in self.labels.iter().enumerate().take(labels.words_used()) {
            word.store(labels.word(i), Relaxed);
        }
        self.seq.store(seq.wrapping_add(2), Release);
    }

    fn read(&self) -> Read {
        let before = self.seq.load(Acquire);
        if before == 0 {
            return Read::Empty;
        }
        if before & 1 == 1 {
            return Read::Raced;
        }
        let value = f64::from_bits(self.value.load(Relaxed));
        let timestamp = f64::from_bits(self.timestamp.load(Relaxed));
        let words: [u64; WORDS] = std::array::from_fn(|i| self.labels[i].load(Relaxed));
        // Orders the data loads before the second sequence load.
        fence(Acquire);
        if self.seq.load(Relaxed) != before {
            return Read::Raced;
        }
        match ExemplarLabels::from_words(&words) {
            Some(labels) => Read::Done(Exemplar {
                labels,
                value,
                timestamp: timestamp.is_finite().then_some(timestamp),
            }),
            None => Read::Raced,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_then_latest() {
        let slot = ExemplarSlot::new();
        assert_eq!(slot.load(), None);
        let a = ExemplarLabels::new([("id", "a")]).unwrap();
        let b = ExemplarLabels::new([("id", "bb")]).unwrap();
        slot.record(&a, 1.0);
        assert_eq!(slot.load().map(|e| (e.labels, e.value)), Some((a, 1.0)));
        slot.record(&b, 2.0);
        slot.record(&b, 3.0);
        let e = slot.load().unwrap();
        assert_eq!((e.labels, e.value), (b, 3.0));
        assert!(e.timestamp.is_some_and(|t| t > 1.6e9));
    }

    #[test]
    fn a_busy_slot_leaves_the_exemplar_out_and_readers_keep_the_published_one() {
        let slot = ExemplarSlot::new();
        let a = ExemplarLabels::new([("id", "a")]).unwrap();
        slot.record(&a, 1.0);
        // A recorder stalled mid-write: others skip, readers see the last one.
        slot.state.fetch_or(WRITING, Relaxed);
        let next = ((slot.state.load(Relaxed) & PUBLISHED) ^ 1) as usize;
        slot.buffers[next].seq.fetch_add(1, Relaxed);
        slot.record(&ExemplarLabels::new([("id", "b")]).unwrap(), 2.0);
        assert_eq!(slot.load().map(|e| e.value), Some(1.0));
    }

    #[test]
    fn a_reader_that_keeps_racing_reports_nothing() {
        let slot = ExemplarSlot::new();
        slot.record(&ExemplarLabels::new([("id", "a")]).unwrap(), 1.0);
        // The published buffer stays "being written" (as if recorders lapped the
        // reader on every attempt).
        let published = (slot.state.load(Relaxed) & PUBLISHED) as usize;
        slot.buffers[published].seq.fetch_add(1, Relaxed);
        assert_eq!(slot.load(), None);
    }

    #[test]
    fn sizes_the_docs_state() {
        assert_eq!(size_of::<ExemplarSlot>(), 360);
        assert_eq!(size_of::<crate::sync::LazyBox<ExemplarSlot>>(), 8);
        assert_eq!(size_of::<crate::LabeledCounter>(), 16);
    }
}
