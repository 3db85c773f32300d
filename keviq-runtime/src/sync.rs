//! The atomics the lock-free parts of the runtime are built from, and the one
//! lock-free primitive they share: [`LazyBox`], a slot allocated on first use.
//!
//! Normally the atomics are `std`'s and this module costs nothing. Under
//! `--cfg loom` they are [loom](https://docs.rs/loom)'s, which run a test under
//! every interleaving of its threads (and every value a relaxed load may read):
//! `tests/loom.rs` model-checks the sharded counter, the lazy slots and the
//! exemplar slot that way:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
//!     cargo test -p keviq-runtime --no-default-features --release --test loom
//! ```
//!
//! The counters, the histograms' cells, the shard slot table, [`LazyBox`] and the
//! exemplar slot take their atomics from here. Gauges (single atomics) and a
//! free-form family's index (which creates series under a lock) keep `std`'s:
//! no model runs them.
//!
//! Loom's atomics have no `const` constructor, so the constructors that build
//! them are `const fn` only outside loom ([`const_unless_loom`]) and build their
//! arrays with [`atomic_array`]. Statics of them (`metric!`'s, the process
//! metrics) do not build under loom, hence `--no-default-features`.

use std::marker::PhantomData;
use std::ptr;

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{
    AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering, fence,
};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering, fence};

/// Defines a constructor that is a `const fn`, except under loom.
macro_rules! const_unless_loom {
    ($(#[$attr:meta])* $vis:vis fn $name:ident $params:tt -> $ret:ty $body:block) => {
        #[cfg(not(loom))]
        $(#[$attr])*
        $vis const fn $name $params -> $ret $body
        #[cfg(loom)]
        $(#[$attr])*
        $vis fn $name $params -> $ret $body
    };
}
pub(crate) use const_unless_loom;

/// `[$item; $len]` for an item that is not `Copy` (an atomic): an array built in
/// const context, except under loom.
#[cfg(not(loom))]
macro_rules! atomic_array {
    ($item:expr; $len:expr) => {
        [const { $item }; $len]
    };
}
#[cfg(loom)]
macro_rules! atomic_array {
    ($item:expr; $len:expr) => {
        std::array::from_fn(|_| $item)
    };
}
pub(crate) use atomic_array;

/// A `Box<T>` created on first use and shared from then on: one pointer, null
/// until then. A series' exemplar slot, a histogram's bucket slots and a dense
/// family's series live in one.
///
/// The first callers of [`get_or_init`](Self::get_or_init) may each build a `T`;
/// one compare-and-swap publishes the winner's, and the others drop theirs. After
/// that, reading it is one `Acquire` load: no lock, no allocation.
pub(crate) struct LazyBox<T> {
    ptr: AtomicPtr<T>,
    /// Owns a `T` (drop check, and `Send`/`Sync` only when `T` is).
    _owns: PhantomData<Box<T>>,
}

impl<T> LazyBox<T> {
    const_unless_loom! {
        pub(crate) fn new() -> Self {
            Self {
                ptr: AtomicPtr::new(ptr::null_mut()),
                _owns: PhantomData,
            }
        }
    }

    /// The value, if it was created.
    #[inline(always)]
    pub(crate) fn get(&self) -> Option<&T> {
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: a non-null pointer came from `Box::into_raw` in `init` and was
        // published with Release (paired with this Acquire), so it points to an
        // initialised `T`; it is only freed in `Drop`, which cannot run while
        // `&self` is borrowed.
        unsafe { p.as_ref() }
    }
}

impl<T: Send + Sync> LazyBox<T> {
    /// The value, created with `init` on first use.
    #[inline(always)]
    pub(crate) fn get_or_init(&self, init: impl FnOnce() -> T) -> &T {
        match self.get() {
            Some(value) => value,
            None => self.init(init),
        }
    }

    #[cold]
    #[inline(never)]
    fn init(&self, init: impl FnOnce() -> T) -> &T {
        let fresh = Box::into_raw(Box::new(init()));
        // Success: Release publishes the new `T`. Failure: Acquire pairs with the
        // winner's Release, so its `T` is initialised for us too.
        match self
            .ptr
            .compare_exchange(ptr::null_mut(), fresh, Ordering::AcqRel, Ordering::Acquire)
        {
            // SAFETY: `fresh` is ours and now published; freed only in `Drop`.
            Ok(_) => unsafe { &*fresh },
            Err(winner) => {
                // SAFETY: `fresh` came from `Box::into_raw` above and was never shared.
                drop(unsafe { Box::from_raw(fresh) });
                // SAFETY: as in `get`: the winner's pointer, published with Release
                // and read with Acquire, freed only in `Drop`.
                unsafe { &*winner }
            }
        }
    }
}

impl<T> Default for LazyBox<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Drop for LazyBox<T> {
    fn drop(&mut self) {
        // Not `get_mut`: loom's `AtomicPtr` has none, and `&mut self` leaves no
        // one to race with.
        let p = self.ptr.load(Ordering::Relaxed);
        if !p.is_null() {
            // SAFETY: a non-null pointer came from `Box::into_raw` and is owned by
            // this `LazyBox`; `&mut self` means no reference to it is alive.
            drop(unsafe { Box::from_raw(p) });
        }
    }
}

impl<T> std::fmt::Debug for LazyBox<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.ptr.load(Ordering::Relaxed).is_null() {
            "LazyBox(empty)"
        } else {
            "LazyBox(..)"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_once_under_contention() {
        let lazy: LazyBox<AtomicU64> = LazyBox::new();
        assert!(lazy.get().is_none());
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    lazy.get_or_init(|| AtomicU64::new(0))
                        .fetch_add(1, Ordering::Relaxed);
                });
            }
        });
        assert_eq!(lazy.get().map(|v| v.load(Ordering::Relaxed)), Some(4));
    }

    #[test]
    fn drops_what_it_holds() {
        let value = std::sync::Arc::new(());
        let lazy = LazyBox::new();
        lazy.get_or_init(|| value.clone());
        assert_eq!(std::sync::Arc::strong_count(&value), 2);
        drop(lazy);
        assert_eq!(std::sync::Arc::strong_count(&value), 1);
    }
}
