//! Shared by the criterion benchmarks in `benches/` (see BENCHMARKS.md): heap
//! accounting through a counting global allocator, threads released together, and
//! the peers' label types.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering::Relaxed};
use std::thread;
use std::time::{Duration, Instant};

/// A global allocator that forwards to `System` and, while [`heap_of`] runs,
/// counts the bytes that stay allocated. A bench installs it with
/// `#[global_allocator] static GLOBAL: CountingAlloc = CountingAlloc;`.
#[derive(Debug)]
pub struct CountingAlloc;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE_BYTES: AtomicI64 = AtomicI64::new(0);

#[inline(always)]
fn account(delta: i64) {
    if COUNTING.load(Relaxed) {
        LIVE_BYTES.fetch_add(delta, Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees carry over; the bookkeeping around it never touches the memory.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours, forwarded.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            account(layout.size() as i64);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours, forwarded.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            account(layout.size() as i64);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours, forwarded.
        unsafe { System.dealloc(ptr, layout) };
        account(-(layout.size() as i64));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as ours, forwarded.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            account(new_size as i64 - layout.size() as i64);
        }
        p
    }
}

/// Heap bytes `build` leaves allocated (what it returns keeps them alive).
pub fn heap_of<T>(build: impl FnOnce() -> T) -> (T, i64) {
    COUNTING.store(true, Relaxed);
    let before = LIVE_BYTES.load(Relaxed);
    let built = build();
    let after = LIVE_BYTES.load(Relaxed);
    COUNTING.store(false, Relaxed);
    (built, after - before)
}

/// `n` threads, `iters / n` calls of `f` each; the wall time from release to the
/// last one done. Criterion divides by `iters`: aggregate time per increment.
pub fn n_threads(n: usize, iters: u64, f: &(dyn Fn() + Sync)) -> Duration {
    let per_thread = iters.div_ceil(n as u64);
    let start_line = Barrier::new(n + 1);
    thread::scope(|s| {
        let workers: Vec<_> = (0..n)
            .map(|_| {
                s.spawn(|| {
                    // Per-thread setup (keviq's shard claim) is not timed.
                    f();
                    start_line.wait();
                    for _ in 0..per_thread {
                        f();
                    }
                })
            })
            .collect();
        start_line.wait();
        let start = Instant::now();
        for w in workers {
            w.join().expect("worker");
        }
        start.elapsed()
    })
}

/// The peers' label types, shared by the `metrics` and `scaling` benches.
pub mod peers {
    use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};

    /// HTTP method for `prometheus-client` (rendered by variant name).
    #[allow(clippy::upper_case_acronyms, missing_docs)]
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EncodeLabelValue)]
    pub enum PcMethod {
        GET,
        POST,
        PUT,
        DELETE,
    }

    /// `prometheus-client` labels with owned, free-form paths.
    #[allow(missing_docs)]
    #[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
    pub struct PcLabels {
        pub method: PcMethod,
        pub path: String,
        pub status: u16,
    }

    /// HTTP method for `measured`.
    #[allow(missing_docs)]
    #[derive(Debug, Clone, Copy, PartialEq, Eq, measured::FixedCardinalityLabel)]
    #[label(rename_all = "SHOUTY_SNAKE_CASE")]
    pub enum MMethod {
        Get,
        Post,
        Put,
        Delete,
    }

    /// Status for `measured` (integers are not label values there).
    #[allow(missing_docs)]
    #[derive(Debug, Clone, Copy, PartialEq, Eq, measured::FixedCardinalityLabel)]
    pub enum MStatus {
        #[label(rename = "200")]
        Ok,
        #[label(rename = "404")]
        NotFound,
    }

    /// `measured` label group with a free-form (interned on demand) path.
    #[allow(missing_docs)]
    #[derive(Debug, Clone, Copy, measured::LabelGroup)]
    #[label(set = MReqSet)]
    pub struct MReq<'a> {
        pub method: MMethod,
        #[label(dynamic_with = measured::lasso::ThreadedRodeo, default)]
        pub path: &'a str,
        pub status: MStatus,
    }

    /// HTTP method for `fastmetrics` (rendered by variant name: its derive takes no
    /// rename, and `Get` vs `GET` changes neither the cost nor the output's size).
    #[allow(missing_docs)]
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, fastmetrics::derive::EncodeLabelValue)]
    pub enum FmMethod {
        Get,
        Post,
        Put,
        Delete,
    }

    /// `fastmetrics` labels with owned, free-form paths (its family is keyed by value).
    #[allow(missing_docs)]
    #[derive(Debug, Clone, Hash, PartialEq, Eq, fastmetrics::derive::LabelSet)]
    pub struct FmLabels {
        pub method: FmMethod,
        pub path: String,
        pub status: u16,
    }

    /// `measured` group used for rendering.
    #[allow(missing_docs, missing_debug_implementations)]
    #[derive(measured::MetricGroup)]
    pub struct MRender {
        /// Requests served
        pub bench_http_requests_total: measured::CounterVec<MReqSet>,
    }
}
