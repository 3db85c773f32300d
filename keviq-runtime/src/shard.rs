//! Per-thread slots that make unlabeled counters and histograms contention-free.
//!
//! Each OS thread that records into a sharded metric claims one of [`SLOTS`] slots
//! the first time it does so, and gives it back when it exits. Only the owning thread
//! ever writes to a slot, so an increment is a plain load and store of an atomic
//! (no `lock`-prefixed instruction, no cache-line ping-pong); the encoder sums the
//! slots when it renders. Threads beyond [`SLOTS`] share one extra slot updated with
//! ordinary atomic read-modify-write operations, so correctness never depends on
//! how many threads there are.

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering};

/// Number of owned slots. Each sharded metric carries one cache line per slot.
pub(crate) const SLOTS: usize = 16;

const UNASSIGNED: usize = usize::MAX;
const SHARED: usize = usize::MAX - 1;

/// Bit `i` set: slot `i` is owned by a live thread.
static CLAIMED: AtomicU32 = AtomicU32::new(0);

thread_local! {
    // Const-initialised and without `Drop`, so reading it is one TLS load.
    static SLOT: Cell<usize> = const { Cell::new(UNASSIGNED) };
    static GUARD: SlotGuard = const { SlotGuard(Cell::new(UNASSIGNED)) };
}

/// Releases the thread's slot when the thread exits.
struct SlotGuard(Cell<usize>);

impl Drop for SlotGuard {
    fn drop(&mut self) {
        let slot = self.0.get();
        if slot < SLOTS {
            // Later recordings from other TLS destructors of this thread go to the
            // shared slot instead of the one we give back.
            let _ = SLOT.try_with(|s| s.set(SHARED));
            // Release: the next owner's Acquire sees every store we made.
            CLAIMED.fetch_and(!(1 << slot), Ordering::Release);
        }
    }
}

/// Where the current thread records: `Some(i)` for an owned slot, `None` for the
/// shared one.
#[inline(always)]
pub(crate) fn current() -> Option<usize> {
    let slot = SLOT.with(Cell::get);
    if slot < SLOTS {
        Some(slot)
    } else if slot == UNASSIGNED {
        claim()
    } else {
        None
    }
}

#[cold]
fn claim() -> Option<usize> {
    let mut claimed = CLAIMED.load(Ordering::Acquire);
    let slot = loop {
        let free = (!claimed).trailing_zeros() as usize;
        if free >= SLOTS {
            break SHARED;
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
        SLOT.with(|s| s.set(SHARED));
        return None;
    }
    SLOT.with(|s| s.set(slot));
    (slot < SLOTS).then_some(slot)
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
        let here = current();
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
        let mut owned: Vec<usize> = handles
            .into_iter()
            .filter_map(|h| h.join().expect("thread"))
            .collect();
        owned.extend(here);
        let count = owned.len();
        owned.sort_unstable();
        owned.dedup();
        assert_eq!(owned.len(), count, "a slot was shared");
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
        let shared = handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .filter(Option::is_none)
            .count();
        assert!(shared >= 4);
    }
}
