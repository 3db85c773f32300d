//! Per-thread slots that make unlabeled counters and histograms contention-free.
//!
//! Each OS thread that records into a sharded metric claims one of [`SLOTS`] slots
//! the first time it does so, and gives it back when it exits. Only the owning thread
//! ever writes to a slot, so an increment is a plain load and store of an atomic
//! (no `lock`-prefixed instruction, no cache-line ping-pong); the encoder sums the
//! slots when it renders. Threads beyond [`SLOTS`] share slots updated with ordinary
//! atomic read-modify-write operations, so correctness never depends on how many
//! threads there are.
//!
//! Those threads are spread over [`STRIPES`] shared slots, each on its own cache
//! line, in the order they first record (round robin, so the spread is even, which
//! a hash of the thread id does not promise). With one shared slot, a 64-core server
//! running a worker per core had 48 threads contending on one cache line, every
//! increment a cross-core transfer of it; with 8 stripes, they share a line six at
//! a time. The cost: 8 more cache lines (1 KiB) per unlabeled counter or histogram.
//!
//! Under `--cfg loom` the slot table, the thread-locals and the atomics are loom's
//! (see `crate::sync`), with 2 owned slots and 2 stripes, so that a model's few
//! threads reach every path: an owned slot, a slot handed over by a thread that
//! exited, and a shared stripe.

use std::cell::Cell;

use crate::sync::{AtomicU32, AtomicUsize, Ordering};

/// Number of owned slots. Each sharded metric carries one cache line per slot.
#[cfg(not(loom))]
pub(crate) const SLOTS: usize = 16;
/// Number of owned slots: few under loom, whose models have at most 4 threads.
#[cfg(loom)]
pub(crate) const SLOTS: usize = 2;

/// Number of shared slots for the threads beyond [`SLOTS`].
#[cfg(not(loom))]
pub(crate) const STRIPES: usize = 8;
/// Number of shared slots for the threads beyond [`SLOTS`].
#[cfg(loom)]
pub(crate) const STRIPES: usize = 2;

const UNASSIGNED: usize = usize::MAX;

/// Round-robin counter that picks the next shared stripe.
#[cfg(not(loom))]
static NEXT_STRIPE: AtomicUsize = AtomicUsize::new(0);

/// The TLS value of a thread on a shared stripe: `SLOTS + stripe`.
fn next_shared() -> usize {
    SLOTS + NEXT_STRIPE.fetch_add(1, Ordering::Relaxed) % STRIPES
}

/// Bit `i` set: slot `i` is owned by a live thread.
#[cfg(not(loom))]
static CLAIMED: AtomicU32 = AtomicU32::new(0);

#[cfg(not(loom))]
thread_local! {
    // Const-initialised and without `Drop`, so reading it is one TLS load.
    static SLOT: Cell<usize> = const { Cell::new(UNASSIGNED) };
    static GUARD: SlotGuard = const { SlotGuard(Cell::new(UNASSIGNED)) };
}

// Loom's statics are created anew for each execution it explores, and its
// thread-locals are per modelled thread. Loom drops its statics when the model's
// main thread returns, and its `join` returns before the joined thread's
// thread-locals are dropped (std's waits for them): a joined thread's guard has
// taken its reference to `CLAIMED` by then, but may still be inside `fetch_and`.
// The atomics are leaked (a few bytes per execution) so that the reference stays
// valid. (A guard of the main thread would run after the statics are gone: the
// models record only on spawned threads.)
#[cfg(loom)]
loom::lazy_static! {
    static ref NEXT_STRIPE: &'static AtomicUsize = Box::leak(Box::new(AtomicUsize::new(0)));
    static ref CLAIMED: &'static AtomicU32 = Box::leak(Box::new(AtomicU32::new(0)));
}

#[cfg(loom)]
loom::thread_local! {
    static SLOT: Cell<usize> = Cell::new(UNASSIGNED);
    static GUARD: SlotGuard = SlotGuard(Cell::new(UNASSIGNED));
}

/// Releases the thread's slot when the thread exits.
struct SlotGuard(Cell<usize>);

impl Drop for SlotGuard {
    fn drop(&mut self) {
        let slot = self.0.get();
        if slot < SLOTS {
            // Later recordings from other TLS destructors of this thread go to the
            // shared slot instead of the one we give back.
            let _ = SLOT.try_with(|s| s.set(next_shared()));
            // Release: the next owner's Acquire sees every store we made.
            CLAIMED.fetch_and(!(1 << slot), Ordering::Release);
        }
    }
}

/// Where the current thread records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    /// An owned slot (`< SLOTS`): plain load and store.
    Owned(usize),
    /// A shared stripe (`< STRIPES`): atomic read-modify-write.
    Shared(usize),
}

/// Where the current thread records.
#[inline(always)]
pub(crate) fn current() -> Slot {
    let slot = SLOT.with(Cell::get);
    if slot < SLOTS {
        Slot::Owned(slot)
    } else if slot == UNASSIGNED {
        claim()
    } else {
        // `slot - SLOTS < STRIPES` by construction; the `min` lets the compiler drop
        // the bounds check at the call site.
        Slot::Shared((slot - SLOTS).min(STRIPES - 1))
    }
}

#[cold]
fn claim() -> Slot {
    let mut claimed = CLAIMED.load(Ordering::Acquire);
    let slot = loop {
        let free = (!claimed).trailing_zeros() as usize;
        if free >= SLOTS {
            break next_shared();
        }
        match CLAIMED.compare_exchange_weak(
            claimed,
            claimed | (1 << free),
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => break free,
            Err(now) => claimed = now,
        }
    };
    if slot < SLOTS && GUARD.try_with(|g| g.0.set(slot)).is_err() {
        // The thread is already tearing down its locals: nobody would give the
        // slot back, so do not keep it.
        CLAIMED.fetch_and(!(1 << slot), Ordering::Release);
        let shared = next_shared();
        SLOT.with(|s| s.set(shared));
        return Slot::Shared(shared - SLOTS);
    }
    SLOT.with(|s| s.set(slot));
    if slot < SLOTS {
        Slot::Owned(slot)
    } else {
        Slot::Shared(slot - SLOTS)
    }
}

/// A value padded to its own cache line, so two slots never share one.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct Padded<T>(pub(crate) T);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_threads_never_share_a_slot() {
        // Other tests run threads too, so any thread may find every slot taken;
        // what must always hold is that two live threads never own the same slot.
        let owned = |s: Slot| match s {
            Slot::Owned(i) => Some(i),
            Slot::Shared(_) => None,
        };
        let here = owned(current());
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let b = barrier.clone();
                std::thread::spawn(move || {
                    let s = current();
                    b.wait();
                    s
                })
            })
            .collect();
        let mut slots: Vec<usize> = handles
            .into_iter()
            .filter_map(|h| owned(h.join().expect("thread")))
            .collect();
        slots.extend(here);
        let count = slots.len();
        slots.sort_unstable();
        slots.dedup();
        assert_eq!(slots.len(), count, "a slot was shared");
    }

    #[test]
    fn more_threads_than_slots_fall_back_to_the_shared_slot() {
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(SLOTS + 4));
        let handles: Vec<_> = (0..SLOTS + 4)
            .map(|_| {
                let b = barrier.clone();
                std::thread::spawn(move || {
                    let s = current();
                    b.wait();
                    s
                })
            })
            .collect();
        let mut stripes: Vec<usize> = handles
            .into_iter()
            .filter_map(|h| match h.join().expect("thread") {
                Slot::Owned(_) => None,
                Slot::Shared(i) => Some(i),
            })
            .collect();
        assert!(stripes.len() >= 4);
        assert!(stripes.iter().all(|&i| i < STRIPES));
        // Round robin: four or more overflow threads land on more than one stripe.
        stripes.sort_unstable();
        stripes.dedup();
        assert!(stripes.len() > 1, "overflow threads all on one stripe");
    }
}
