use super::Series;
use crate::encode::Collect;
use crate::encode::Encoder;
use crate::exemplar::{Exemplar, ExemplarLabels, ExemplarSlot};
use crate::shard::{self, Padded, SLOTS, STRIPES, Slot};
use crate::sync::{AtomicU64, LazyBox, Ordering::Relaxed, atomic_array, const_unless_loom};

pub use keviq_model::DEFAULT_MS_BUCKETS;

/// The bucket an observation falls in: `i` means `v <= bounds[i]`, `N` means `+Inf`.
#[inline(always)]
fn bucket_index<const N: usize>(bounds: &[f64; N], v: f64) -> usize {
    // Branch-free: counting bounds below `v` vectorises and never mispredicts.
    bounds.iter().map(|&b| (b < v) as usize).sum()
}

/// Counts of one histogram series (or one shard of it): a counter per finite bucket,
/// one for `+Inf`, and the sum of observations as `f64` bits.
#[derive(Debug)]
struct Counts<const N: usize> {
    buckets: [AtomicU64; N],
    inf: AtomicU64,
    sum: AtomicU64,
}

/// Exemplar slots of a histogram series: a pointer per bucket (`+Inf` last),
/// created on the series' first exemplar, and a slot per bucket, created on the
/// bucket's first: a series pays for the buckets its exemplars fall in.
type BucketExemplars = LazyBox<Box<[LazyBox<ExemplarSlot>]>>;

/// The bucket pointers of a series with `N` finite bounds, all null.
#[cold]
fn bucket_slots<const N: usize>() -> Box<[LazyBox<ExemplarSlot>]> {
    (0..=N).map(|_| LazyBox::new()).collect()
}

/// Records an exemplar on bucket `i`.
#[inline]
fn record_exemplar<const N: usize>(
    slots: &BucketExemplars,
    i: usize,
    v: f64,
    labels: &ExemplarLabels,
) {
    if let Some(slot) = slots.get_or_init(bucket_slots::<N>).get(i) {
        slot.get_or_init(ExemplarSlot::new).record(labels, v);
    }
}

fn load_exemplar(slots: &BucketExemplars, i: usize) -> Option<Exemplar> {
    slots.get()?.get(i)?.get()?.load()
}

impl<const N: usize> Counts<N> {
    const_unless_loom! {
        fn new() -> Self {
            Self {
                buckets: atomic_array![AtomicU64::new(0); N],
                inf: AtomicU64::new(0),
                sum: AtomicU64::new(0),
            }
        }
    }

    fn bucket(&self, i: usize) -> &AtomicU64 {
        self.buckets.get(i).unwrap_or(&self.inf)
    }

    /// Records with atomic read-modify-writes: safe from any number of threads.
    #[inline(always)]
    fn observe_shared(&self, i: usize, v: f64) {
        self.bucket(i).fetch_add(1, Relaxed);
        let _ = self.sum.fetch_update(Relaxed, Relaxed, |b| {
            Some((f64::from_bits(b) + v).to_bits())
        });
    }

    /// Records with plain loads and stores: only for a cell one thread owns.
    #[inline(always)]
    fn observe_owned(&self, i: usize, v: f64) {
        let b = self.bucket(i);
        b.store(b.load(Relaxed) + 1, Relaxed);
        self.sum.store(
            (f64::from_bits(self.sum.load(Relaxed)) + v).to_bits(),
            Relaxed,
        );
    }

    fn add_into(&self, counts: &mut [u64], sum: &mut f64) {
        for (c, b) in counts
            .iter_mut()
            .zip(self.buckets.iter().chain([&self.inf]))
        {
            *c += b.load(Relaxed);
        }
        *sum += f64::from_bits(self.sum.load(Relaxed));
    }
}

/// Writes one histogram series from per-bucket (non-cumulative) counts.
fn encode<const N: usize>(
    bounds: &[f64; N],
    cells: &mut dyn Iterator<Item = &Counts<N>>,
    exemplars: &BucketExemplars,
    enc: &mut Encoder<'_>,
) {
    let exemplar = |i| load_exemplar(exemplars, i);
    let mut counts = [0u64; 64];
    let mut sum = 0.0;
    if N < counts.len() {
        for cell in cells {
            cell.add_into(&mut counts[..=N], &mut sum);
        }
        enc.histogram_with_exemplars(bounds, &counts[..=N], sum, exemplar);
    } else {
        let mut counts = vec![0u64; N + 1];
        for cell in cells {
            cell.add_into(&mut counts, &mut sum);
        }
        enc.histogram_with_exemplars(bounds, &counts, sum, exemplar);
    }
}

/// A histogram with `N` fixed bucket bounds (plus `+Inf`), sharded per thread.
///
/// `observe` finds the bucket without branching and updates a cache line owned by the
/// calling thread. `NaN` observations are ignored, so one bad value cannot turn the
/// sum into `NaN` for the rest of the process's life.
///
/// ```
/// use keviq_runtime::Histogram;
/// static LATENCY: Histogram<3> = Histogram::new([1.0, 10.0, 100.0]);
/// LATENCY.observe(4.2);
/// assert_eq!(LATENCY.count(), 1);
/// ```
///
/// Bounds are checked when the static is built; bad ones do not compile:
///
/// ```compile_fail
/// use keviq_runtime::Histogram;
/// static BAD: Histogram<2> = Histogram::new([10.0, 1.0]);
/// ```
///
/// [`observe_with_exemplar`](Self::observe_with_exemplar) also keeps the observation
/// as the [exemplar](crate::exemplar) of the bucket it falls in.
#[derive(Debug)]
pub struct Histogram<const N: usize> {
    bounds: [f64; N],
    slots: [Padded<Counts<N>>; SLOTS],
    shared: [Padded<Counts<N>>; STRIPES],
    // Beside the counts: `observe` never touches it.
    exemplars: BucketExemplars,
}

impl<const N: usize> Histogram<N> {
    const_unless_loom! {
        /// A histogram with the given finite, strictly increasing bounds.
        ///
        /// # Panics
        /// In const context (a `static`), bad bounds are a compile error.
        pub fn new(bounds: [f64; N]) -> Self {
            if let Err(e) = keviq_model::check_buckets(&bounds) {
                panic!("{}", e.message());
            }
            Self {
                bounds,
                slots: atomic_array![Padded(Counts::new()); SLOTS],
                shared: atomic_array![Padded(Counts::new()); STRIPES],
                exemplars: LazyBox::new(),
            }
        }
    }

    /// Records one observation.
    #[inline(always)]
    pub fn observe(&self, v: f64) {
        if v.is_nan() {
            return;
        }
        let i = bucket_index(&self.bounds, v);
        match shard::current() {
            Slot::Owned(s) => self.slots[s].0.observe_owned(i, v),
            Slot::Shared(s) => self.shared[s].0.observe_shared(i, v),
        }
    }

    /// Records one observation, with `labels` as the exemplar of its bucket (`NaN`
    /// is ignored, exemplar included). See [`crate::exemplar`] for what it costs.
    #[inline]
    pub fn observe_with_exemplar(&self, v: f64, labels: &ExemplarLabels) {
        if v.is_nan() {
            return;
        }
        let i = bucket_index(&self.bounds, v);
        match shard::current() {
            Slot::Owned(s) => self.slots[s].0.observe_owned(i, v),
            Slot::Shared(s) => self.shared[s].0.observe_shared(i, v),
        }
        record_exemplar::<N>(&self.exemplars, i, v, labels);
    }

    /// The latest exemplar of bucket `bucket` (`0..N` for the finite bounds, `N`
    /// for `+Inf`), if one was recorded.
    pub fn exemplar(&self, bucket: usize) -> Option<Exemplar> {
        load_exemplar(&self.exemplars, bucket)
    }

    /// The bucket bounds, without `+Inf`.
    pub fn bounds(&self) -> &[f64; N] {
        &self.bounds
    }

    /// The number of observations so far.
    pub fn count(&self) -> u64 {
        self.cells()
            .flat_map(|cell| cell.buckets.iter().chain([&cell.inf]))
            .map(|b| b.load(Relaxed))
            .sum()
    }

    fn cells(&self) -> impl Iterator<Item = &Counts<N>> {
        self.slots.iter().chain(&self.shared).map(|p| &p.0)
    }
}

impl<const N: usize> Collect for Histogram<N> {
    fn collect(&self, enc: &mut Encoder<'_>) {
        enc.clear_labels();
        encode(&self.bounds, &mut self.cells(), &self.exemplars, enc);
    }
}

/// One series of a labeled histogram family: its counts, and a pointer to its
/// bucket exemplar slots, null until the series records its first exemplar.
#[derive(Debug)]
pub struct HistogramCell<const N: usize> {
    counts: Counts<N>,
    exemplars: BucketExemplars,
}

impl<const N: usize> HistogramCell<N> {
    const_unless_loom! {
        fn new() -> Self {
            Self {
                counts: Counts::new(),
                exemplars: LazyBox::new(),
            }
        }
    }
}

/// A handle on one series of a labeled histogram family.
#[derive(Debug, Clone, Copy)]
pub struct LabeledHistogram<'a, const N: usize> {
    bounds: &'a [f64; N],
    cell: &'a HistogramCell<N>,
}

impl<const N: usize> LabeledHistogram<'_, N> {
    /// Records one observation (`NaN` is ignored).
    #[inline(always)]
    pub fn observe(&self, v: f64) {
        if !v.is_nan() {
            self.cell
                .counts
                .observe_shared(bucket_index(self.bounds, v), v);
        }
    }

    /// Records one observation, with `labels` as the exemplar of its bucket (`NaN`
    /// is ignored, exemplar included).
    #[inline]
    pub fn observe_with_exemplar(&self, v: f64, labels: &ExemplarLabels) {
        if v.is_nan() {
            return;
        }
        let i = bucket_index(self.bounds, v);
        self.cell.counts.observe_shared(i, v);
        record_exemplar::<N>(&self.cell.exemplars, i, v, labels);
    }

    /// The latest exemplar of bucket `bucket` (`0..N` for the finite bounds, `N`
    /// for `+Inf`), if one was recorded.
    pub fn exemplar(&self, bucket: usize) -> Option<Exemplar> {
        load_exemplar(&self.cell.exemplars, bucket)
    }
}

impl<const N: usize> Series for HistogramCell<N> {
    type Config = [f64; N];
    type Handle<'a> = LabeledHistogram<'a, N>;
    fn create(_: &[f64; N]) -> Self {
        Self::new()
    }
    #[inline(always)]
    fn handle<'a>(&'a self, bounds: &'a [f64; N]) -> LabeledHistogram<'a, N> {
        LabeledHistogram { bounds, cell: self }
    }
    fn encode(&self, bounds: &[f64; N], enc: &mut Encoder<'_>) {
        encode(
            bounds,
            &mut std::iter::once(&self.counts),
            &self.exemplars,
            enc,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_index_follows_le_semantics() {
        let b = [1.0, 2.0, 3.0];
        assert_eq!(bucket_index(&b, 0.5), 0);
        assert_eq!(bucket_index(&b, 1.0), 0);
        assert_eq!(bucket_index(&b, 1.5), 1);
        assert_eq!(bucket_index(&b, 3.0), 2);
        assert_eq!(bucket_index(&b, 3.5), 3);
        assert_eq!(bucket_index(&b, f64::INFINITY), 3);
        assert_eq!(bucket_index(&b, f64::NEG_INFINITY), 0);
    }

    #[test]
    fn nan_is_ignored_and_threads_add_up() {
        static H: Histogram<2> = Histogram::new([1.0, 2.0]);
        H.observe(f64::NAN);
        std::thread::scope(|s| {
            for _ in 0..(SLOTS + 4) {
                s.spawn(|| {
                    for _ in 0..100 {
                        H.observe(1.5);
                    }
                });
            }
        });
        assert_eq!(H.count(), (SLOTS as u64 + 4) * 100);
    }
}
