use std::hash::BuildHasher;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use super::Series;
use super::key::SeriesKey;
use crate::encode::Collect;
use crate::encode::{Encoder, needs_escape};
use crate::label::{KeyBuf, KeyHasher, LabelSchema, key_eq};
use crate::sync::LazyBox;

/// Default cap on the number of series of a family with free-form labels.
pub const DEFAULT_MAX_SERIES: usize = 10_000;

/// The label value every label of the overflow series carries.
pub const OVERFLOW_LABEL_VALUE: &str = "__overflow__";

/// A metric family: one series of `M` per label set of schema `L`.
///
/// When every label type has fixed cardinality, series live in a dense array indexed
/// by the label values (no hashing). Otherwise they live in an append-only arena
/// found through a lock-free open-addressing index; only creating a series takes a
/// lock. Past `max_series` series, new label sets all record into one overflow
/// series whose labels read `__overflow__`; the first overflow is logged and every
/// one is counted in `keviq_series_overflow_total`.
///
/// Users reach families through the fields `metric!` generates, whose
/// `labels(..)` method takes the label values as typed arguments.
///
/// The label schema `L` is bounded only where it is used (`get`, rendering), not
/// on the type or on `new`: a static of a family whose label type is not a
/// [`LabelValue`](crate::label::LabelValue) then fails in one place, the check `metric!`
/// emits on the user's type, rather than in every item that names the family.
pub struct Family<L, M: Series> {
    name: &'static str,
    config: M::Config,
    max_series: usize,
    /// A lazily created series per label set, when the schema is dense.
    dense: OnceLock<Box<[LazyBox<M>]>>,
    sparse: OnceLock<SparseIndex<M>>,
    overflow: OnceLock<M>,
    overflow_logged: AtomicBool,
    _schema: PhantomData<fn() -> L>,
}

impl<L, M: Series> std::fmt::Debug for Family<L, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Family")
            .field("name", &self.name)
            .field("max_series", &self.max_series)
            .finish()
    }
}

impl<L, M: Series> Family<L, M> {
    /// An empty family. `name` is only used in overflow reports.
    pub const fn new(name: &'static str, config: M::Config, max_series: usize) -> Self {
        Self {
            name,
            config,
            max_series,
            dense: OnceLock::new(),
            sparse: OnceLock::new(),
            overflow: OnceLock::new(),
            overflow_logged: AtomicBool::new(false),
            _schema: PhantomData,
        }
    }
}

impl<L: LabelSchema, M: Series> Family<L, M> {
    /// The series for one label set, created at zero on first use. Keep the handle to
    /// skip the lookup next time.
    #[inline(always)]
    pub fn get(&self, values: L::Values<'_>) -> M::Handle<'_> {
        let series = match L::DENSE_LEN {
            Some(len) => self.dense(len, L::dense_index(&values)),
            None => self.sparse(&values),
        };
        series.handle(&self.config)
    }

    #[inline(always)]
    fn dense(&self, len: usize, index: usize) -> &M {
        let slots = self
            .dense
            .get_or_init(|| (0..len).map(|_| LazyBox::new()).collect());
        let Some(slot) = slots.get(index) else {
            return self.overflow();
        };
        slot.get_or_init(|| M::create(&self.config))
    }

    #[inline(always)]
    fn sparse(&self, values: &L::Values<'_>) -> &M {
        let index = self
            .sparse
            .get_or_init(|| SparseIndex::new(self.max_series));
        let mut h = KeyHasher::new(&index.seeds);
        L::hash(values, &mut h);
        let hash = h.finish();
        match index.find(hash, |key| L::matches(values, key)) {
            Some(series) => series,
            None => self.create(index, values, hash),
        }
    }

    /// A lookup that missed: builds the key and inserts its series.
    #[cold]
    #[inline(never)]
    fn create<'a>(&'a self, index: &'a SparseIndex<M>, values: &L::Values<'_>, hash: u64) -> &'a M {
        let mut key = KeyBuf::new();
        L::encode(values, &mut key);
        let mut plain = true;
        L::decode_key(key.as_bytes(), |_, v| plain &= !needs_escape(v));
        match index.insert(key.as_bytes(), plain, hash, self.max_series, &self.config) {
            Some(series) => series,
            None => self.overflow(),
        }
    }

    #[cold]
    fn overflow(&self) -> &M {
        super::overflow::SERIES_OVERFLOW.labels(self.name).inc();
        if !self.overflow_logged.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                metric = self.name,
                max_series = self.max_series,
                "metric family reached its series cap; new label sets are recorded under `{OVERFLOW_LABEL_VALUE}`"
            );
        }
        self.overflow.get_or_init(|| M::create(&self.config))
    }

    /// Number of series created so far (not counting the overflow series).
    pub fn len(&self) -> usize {
        let dense = self
            .dense
            .get()
            .map_or(0, |s| s.iter().filter(|slot| slot.get().is_some()).count());
        dense + self.sparse.get().map_or(0, SparseIndex::len)
    }

    /// `true` before the first series is created.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<L: LabelSchema, M: Series> Collect for Family<L, M> {
    fn collect(&self, enc: &mut Encoder<'_>) {
        if let Some(slots) = self.dense.get() {
            for (index, slot) in slots.iter().enumerate() {
                let Some(series) = slot.get() else {
                    continue;
                };
                enc.clear_labels();
                L::decode_dense(index, |i, v| enc.label_at(i, v));
                series.encode(&self.config, enc);
            }
        }
        if let Some(index) = self.sparse.get() {
            for (series, key) in index.entries() {
                enc.clear_labels();
                if key.plain() {
                    L::decode_key(
                        key.as_bytes(),
                        #[inline(always)]
                        |i, v| enc.plain_label_at(i, v),
                    );
                } else {
                    L::decode_key(key.as_bytes(), |i, v| enc.label_text_at(i, v));
                }
                series.encode(&self.config, enc);
            }
        }
        if let Some(series) = self.overflow.get() {
            enc.clear_labels();
            for i in 0..L::LEN {
                enc.label_at(i, OVERFLOW_LABEL_VALUE);
            }
            series.encode(&self.config, enc);
        }
    }
}

/// Series of a family with free-form labels, found by key.
///
/// `slots` is an open-addressing table sized once for `max_series` at a load factor
/// of at most one half, so it never resizes and lookups never wait. Each slot is a
/// `u32`: the top 8 bits of the hash as a tag, then `arena index + 1` (zero is
/// empty), which caps a family at [`MAX_SPARSE_SERIES`].
///
/// Series live in an append-only arena of fixed-size chunks whose entries never
/// move, so handles stay valid. An entry holds the series and its key, inline when
/// the key is short ([`SeriesKey`]): a lookup that hits reads the slot, then one
/// cache line with the key to compare and the counter to bump. Chunks are
/// allocated as the family grows, so a family pays for the series it has, not for
/// its cap, and fixed chunks waste at most one chunk (a doubling arena wasted up to
/// half of itself).
struct SparseIndex<M> {
    /// Per-family random seeds of [`KeyHasher`].
    seeds: [u64; 2],
    slots: Box<[AtomicU32]>,
    /// The first chunk, also `chunks[0]`'s place: a lookup in a family that fits in
    /// one chunk (most do) finds its entry at a fixed offset from this pointer,
    /// which it loads while it hashes, instead of loading it from the chunk table
    /// once the slot gave the index.
    first: Chunk<M>,
    /// Chunks `1..`; slot 0 is never used.
    chunks: Box<[Chunk<M>]>,
    /// log2 of a chunk's length.
    chunk_shift: u32,
    /// Entries in use: entries `0..len` are set, in order.
    len: AtomicUsize,
    insert_lock: Mutex<()>,
}

/// A chunk of the arena, allocated when the family first needs it.
type Chunk<M> = OnceLock<Box<[Entry<M>]>>;

/// One arena entry: set once, under the insert lock, before its slot is published.
/// Aligned to a cache line so that a counter's entry (16-byte series, 40-byte key,
/// the once-flag) never straddles two.
#[repr(align(64))]
struct Entry<M>(OnceLock<(M, SeriesKey)>);

impl<M: Series> SparseIndex<M> {
    fn new(max_series: usize) -> Self {
        let cap = max_series.clamp(1, MAX_SPARSE_SERIES);
        let capacity = cap.saturating_mul(2).max(16).next_power_of_two();
        // A 64th of the cap per chunk, within 16..=4096 entries: a family of a few
        // series holds one small chunk, a large one a few dozen.
        let chunk_len = (cap.next_power_of_two() / 64).clamp(16, 4096);
        let chunk_shift = chunk_len.trailing_zeros();
        Self {
            seeds: {
                let state = foldhash::fast::RandomState::default();
                [state.hash_one(0u64), state.hash_one(1u64)]
            },
            slots: (0..capacity).map(|_| AtomicU32::new(0)).collect(),
            first: OnceLock::new(),
            chunks: (0..cap.div_ceil(chunk_len))
                .map(|_| OnceLock::new())
                .collect(),
            chunk_shift,
            len: AtomicUsize::new(0),
            insert_lock: Mutex::new(()),
        }
    }

    /// Series created so far.
    fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    /// The entry at arena index `i`, once set.
    #[inline(always)]
    fn entry(&self, i: usize) -> Option<&(M, SeriesKey)> {
        let chunk = self.chunk(i >> self.chunk_shift)?;
        chunk.get(i & ((1 << self.chunk_shift) - 1))?.0.get()
    }

    /// Every series with its key, in creation order.
    fn entries(&self) -> impl Iterator<Item = (&M, &SeriesKey)> {
        (0..self.chunks.len())
            .map_while(|c| self.chunk(c))
            .flat_map(|chunk| chunk.iter())
            .map_while(|e| e.0.get())
            .map(|(series, key)| (series, key))
    }

    /// Chunk `c`, once allocated.
    #[inline(always)]
    fn chunk(&self, c: usize) -> Option<&[Entry<M>]> {
        let chunk = if c == 0 {
            &self.first
        } else {
            self.chunks.get(c)?
        };
        chunk.get().map(|b| &b[..])
    }

    /// Probes from the hash's home slot for a key `is_key` accepts; returns its
    /// series, or `None` at the first empty slot.
    #[inline(always)]
    fn find(&self, hash: u64, is_key: impl Fn(&[u8]) -> bool) -> Option<&M> {
        let mask = self.slots.len() - 1;
        let tag = tag(hash);
        let mut pos = hash as usize & mask;
        loop {
            let slot = self.slots.get(pos)?.load(Ordering::Acquire);
            if slot == 0 {
                return None;
            }
            if slot & TAG_MASK == tag
                && let Some((series, key)) = self.entry((slot & INDEX_MASK) as usize - 1)
                && is_key(key.as_bytes())
            {
                return Some(series);
            }
            pos = (pos + 1) & mask;
        }
    }

    #[cold]
    fn insert(
        &self,
        key: &[u8],
        plain: bool,
        hash: u64,
        max_series: usize,
        config: &M::Config,
    ) -> Option<&M> {
        // A poisoned lock only means another insert panicked; the table is still
        // consistent because a slot is published last.
        let _guard = self.insert_lock.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(series) = self.find(hash, |k| key_eq(k, key)) {
            return Some(series);
        }
        let index = self.len.load(Ordering::Relaxed);
        if index >= max_series.min(MAX_SPARSE_SERIES) {
            return None;
        }
        let chunk_len = 1usize << self.chunk_shift;
        let c = index >> self.chunk_shift;
        let slot = if c == 0 {
            &self.first
        } else {
            self.chunks.get(c)?
        };
        let chunk = slot.get_or_init(|| (0..chunk_len).map(|_| Entry(OnceLock::new())).collect());
        let (series, _) = chunk
            .get(index & (chunk_len - 1))?
            .0
            .get_or_init(|| (M::create(config), SeriesKey::new(key, plain)));
        self.len.store(index + 1, Ordering::Release);
        let mask = self.slots.len() - 1;
        let mut pos = hash as usize & mask;
        while self.slots.get(pos)?.load(Ordering::Relaxed) != 0 {
            pos = (pos + 1) & mask;
        }
        self.slots
            .get(pos)?
            .store(tag(hash) | (index as u32 + 1), Ordering::Release);
        Some(series)
    }
}

/// The most series a family with free-form labels holds (the index keeps 24 bits).
pub const MAX_SPARSE_SERIES: usize = (1 << 24) - 2;
const INDEX_MASK: u32 = (1 << 24) - 1;
const TAG_MASK: u32 = !INDEX_MASK;

fn tag(hash: u64) -> u32 {
    ((hash >> 56) as u32) << 24
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::label::{HttpMethod, Str};
    use crate::metric::{Gauge, LabeledCounter};

    #[test]
    fn an_entry_of_a_counter_is_one_cache_line() {
        assert_eq!(size_of::<Entry<LabeledCounter>>(), 64);
    }

    #[test]
    fn long_keys_and_many_chunks() {
        let f: Family<(Str, u32), LabeledCounter> = Family::new("t_long_total", (), 5_000);
        let long = "z".repeat(100);
        for i in 0..3_000u32 {
            f.get((&long, i)).inc();
            f.get((&long, i)).inc();
        }
        assert_eq!(f.len(), 3_000);
        assert_eq!(f.get((&long, 2_999)).get(), 2);
        let index = f.sparse.get().expect("sparse index");
        assert!(index.first.get().is_some());
        assert!(index.chunks.iter().any(|c| c.get().is_some()));
        assert_eq!(index.entries().count(), 3_000);
    }

    #[test]
    fn sparse_family_finds_the_same_series_again() {
        let f: Family<(HttpMethod, Str), LabeledCounter> = Family::new("t_total", (), 10);
        f.get((HttpMethod::Get, "/a")).inc();
        f.get((HttpMethod::Get, "/a")).inc();
        f.get((HttpMethod::Post, "/a")).inc();
        assert_eq!(f.get((HttpMethod::Get, "/a")).get(), 2);
        assert_eq!(f.len(), 2);
    }

    #[test]
    fn cap_folds_new_label_sets_into_one_overflow_series() {
        let f: Family<(Str,), Gauge> = Family::new("t_capped", (), 3);
        for i in 0..100 {
            f.get((&format!("v{i}"),)).inc();
        }
        assert_eq!(f.len(), 3);
        assert_eq!(f.overflow.get().map(Gauge::get), Some(97));
        // Existing series keep working after the cap is reached.
        f.get(("v1",)).inc();
        assert_eq!(f.get(("v1",)).get(), 2);
    }

    #[test]
    fn dense_family_creates_series_lazily() {
        let f: Family<(bool, HttpMethod), LabeledCounter> = Family::new("t_dense_total", (), 10);
        assert!(f.is_empty());
        f.get((true, HttpMethod::Put)).inc_by(5);
        assert_eq!(f.len(), 1);
        assert_eq!(f.get((true, HttpMethod::Put)).get(), 5);
    }

    #[test]
    fn concurrent_creation_yields_one_series_per_key() {
        let f: Family<(Str,), LabeledCounter> = Family::new("t_race_total", (), 1000);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for i in 0..200 {
                        f.get((&format!("k{i}"),)).inc();
                    }
                });
            }
        });
        assert_eq!(f.len(), 200);
        assert_eq!(f.get(("k7",)).get(), 4);
    }
}
