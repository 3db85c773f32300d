use std::hash::BuildHasher;
use std::marker::PhantomData;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

use super::Series;
use super::key::SeriesKey;
use crate::encode::Collect;
use crate::encode::Encoder;
use crate::label::{KeyBuf, LabelSchema};

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
    dense: OnceLock<Box<[AtomicPtr<M>]>>,
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
    #[inline]
    pub fn get(&self, values: L::Values<'_>) -> M::Handle<'_> {
        let series = match L::DENSE_LEN {
            Some(len) => self.dense(len, L::dense_index(&values)),
            None => {
                let mut key = KeyBuf::new();
                L::encode(&values, &mut key);
                self.sparse(key.as_bytes())
            }
        };
        series.handle(&self.config)
    }

    #[inline(always)]
    fn dense(&self, len: usize, index: usize) -> &M {
        let slots = self
            .dense
            .get_or_init(|| (0..len).map(|_| AtomicPtr::new(ptr::null_mut())).collect());
        let Some(slot) = slots.get(index) else {
            return self.overflow();
        };
        let mut p = slot.load(Ordering::Acquire);
        if p.is_null() {
            let fresh = Box::into_raw(Box::new(M::create(&self.config)));
            p = match slot.compare_exchange(
                ptr::null_mut(),
                fresh,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => fresh,
                Err(winner) => {
                    // SAFETY: `fresh` came from `Box::into_raw` above and was never shared.
                    drop(unsafe { Box::from_raw(fresh) });
                    winner
                }
            };
        }
        // SAFETY: a non-null slot holds a pointer from `Box::into_raw` that is only
        // freed in `Drop`, which cannot run while `&self` is borrowed.
        unsafe { &*p }
    }

    #[inline(always)]
    fn sparse(&self, key: &[u8]) -> &M {
        let index = self
            .sparse
            .get_or_init(|| SparseIndex::new(self.max_series));
        let hash = key_hash(&index.seeds, key);
        match index.find(key, hash) {
            Some(series) => series,
            None => match index.insert(key, hash, self.max_series, &self.config) {
                Some(series) => series,
                None => self.overflow(),
            },
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
        let dense = self.dense.get().map_or(0, |s| {
            s.iter()
                .filter(|p| !p.load(Ordering::Acquire).is_null())
                .count()
        });
        dense + self.sparse.get().map_or(0, |s| s.series.count())
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
                let p = slot.load(Ordering::Acquire);
                if p.is_null() {
                    continue;
                }
                enc.clear_labels();
                L::decode_dense(index, |i, v| enc.label_at(i, v));
                // SAFETY: as in `dense`: published once, freed only in `Drop`.
                unsafe { &*p }.encode(&self.config, enc);
            }
        }
        if let Some(index) = self.sparse.get() {
            for (_, (key, series)) in index.series.iter() {
                enc.clear_labels();
                L::decode_key(key.as_bytes(), |i, v| enc.label_at(i, v));
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

impl<L, M: Series> Drop for Family<L, M> {
    fn drop(&mut self) {
        if let Some(slots) = self.dense.get_mut() {
            for slot in slots.iter_mut() {
                let p = *slot.get_mut();
                if !p.is_null() {
                    // SAFETY: every non-null slot owns a pointer from `Box::into_raw`,
                    // and `&mut self` means no handle is alive.
                    drop(unsafe { Box::from_raw(p) });
                }
            }
        }
    }
}

/// Series of a family with free-form labels, found by key.
///
/// `slots` is an open-addressing table sized once for `max_series` at a load factor
/// of at most one half, so it never resizes and lookups never wait. Each slot is a
/// `u32`: the top 8 bits of the hash as a tag, then `arena index + 1` (zero is
/// empty), which caps a family at [`MAX_SPARSE_SERIES`]. Series live in an
/// append-only arena whose elements never move, so handles stay valid; each holds
/// its key behind a thin pointer ([`SeriesKey`]).
struct SparseIndex<M> {
    /// Per-family random seeds of [`key_hash`].
    seeds: [u64; 2],
    slots: Box<[AtomicU32]>,
    series: boxcar::Vec<(SeriesKey, M)>,
    insert_lock: Mutex<()>,
}

impl<M: Series> SparseIndex<M> {
    fn new(max_series: usize) -> Self {
        let capacity = max_series
            .min(MAX_SPARSE_SERIES)
            .saturating_mul(2)
            .max(16)
            .next_power_of_two();
        Self {
            seeds: {
                let state = foldhash::fast::RandomState::default();
                [state.hash_one(0u64), state.hash_one(1u64)]
            },
            slots: (0..capacity).map(|_| AtomicU32::new(0)).collect(),
            series: boxcar::Vec::new(),
            insert_lock: Mutex::new(()),
        }
    }

    /// Probes from the key's home slot; returns the series, or `None` at the first
    /// empty slot.
    #[inline(always)]
    fn find(&self, key: &[u8], hash: u64) -> Option<&M> {
        let mask = self.slots.len() - 1;
        let tag = tag(hash);
        let mut pos = hash as usize & mask;
        loop {
            let slot = self.slots[pos].load(Ordering::Acquire);
            if slot == 0 {
                return None;
            }
            if slot & TAG_MASK == tag
                && let Some((k, series)) = self.series.get((slot & INDEX_MASK) as usize - 1)
                && key_eq(k.as_bytes(), key)
            {
                return Some(series);
            }
            pos = (pos + 1) & mask;
        }
    }

    #[cold]
    fn insert(&self, key: &[u8], hash: u64, max_series: usize, config: &M::Config) -> Option<&M> {
        // A poisoned lock only means another insert panicked; the table is still
        // consistent because a slot is published last.
        let _guard = self.insert_lock.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(series) = self.find(key, hash) {
            return Some(series);
        }
        if self.series.count() >= max_series.min(MAX_SPARSE_SERIES) {
            return None;
        }
        let index = self.series.push((SeriesKey::new(key), M::create(config)));
        let mask = self.slots.len() - 1;
        let mut pos = hash as usize & mask;
        while self.slots[pos].load(Ordering::Relaxed) != 0 {
            pos = (pos + 1) & mask;
        }
        self.slots[pos].store(tag(hash) | (index as u32 + 1), Ordering::Release);
        self.series.get(index).map(|(_, s)| s)
    }
}

/// The hash of a series key, inline (a lookup pays no call), in the wyhash scheme:
/// 16 bytes per 64x64->128 multiply, folded. Label keys are short (a method byte,
/// a path of 10 to 40 bytes, a status), which is where foldhash's out-of-line long
/// path cost a fifth of a lookup. Seeded per family at random, so label values an
/// attacker chooses cannot be aimed at one probe chain of every process.
#[inline(always)]
fn key_hash(seeds: &[u64; 2], key: &[u8]) -> u64 {
    const P0: u64 = 0xa076_1d64_78bd_642f;
    const P1: u64 = 0xe703_7ed1_a0b4_28db;
    let len = key.len();
    let (x, y, mut s) = if len <= 16 {
        let (x, y) = if len >= 8 {
            (read_u64(key, 0), read_u64(key, len - 8))
        } else if len >= 4 {
            (
                u64::from(read_u32(key, 0)),
                u64::from(read_u32(key, len - 4)),
            )
        } else if len > 0 {
            let b = |i: usize| u64::from(key.get(i).copied().unwrap_or(0));
            (b(0) | b(len / 2) << 8 | b(len - 1) << 16, 0)
        } else {
            (0, 0)
        };
        (x, y, seeds[0])
    } else {
        let mut s = seeds[0];
        let mut i = 0;
        while len - i > 16 {
            s = folded_multiply(read_u64(key, i) ^ P0, read_u64(key, i + 8) ^ s);
            i += 16;
        }
        (read_u64(key, len - 16), read_u64(key, len - 8), s)
    };
    s = folded_multiply(x ^ P0, y ^ s ^ seeds[1]);
    folded_multiply(s ^ P1, (len as u64) ^ seeds[1] ^ P0)
}

#[inline(always)]
fn folded_multiply(x: u64, y: u64) -> u64 {
    let full = u128::from(x) * u128::from(y);
    (full as u64) ^ ((full >> 64) as u64)
}

/// Bytes `i..i + 8` (the caller keeps `i + 8 <= b.len()`).
#[inline(always)]
fn read_u64(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    if let Some(src) = b.get(i..i + 8) {
        w.copy_from_slice(src);
    }
    u64::from_le_bytes(w)
}

/// Bytes `i..i + 4` (the caller keeps `i + 4 <= b.len()`).
#[inline(always)]
fn read_u32(b: &[u8], i: usize) -> u32 {
    let mut w = [0u8; 4];
    if let Some(src) = b.get(i..i + 4) {
        w.copy_from_slice(src);
    }
    u32::from_le_bytes(w)
}

/// Key equality, inline: 8 bytes per compare instead of a call to `memcmp`, which
/// showed as a tenth of a lookup for keys of 20 to 40 bytes.
#[inline(always)]
fn key_eq(a: &[u8], b: &[u8]) -> bool {
    let len = a.len();
    if len != b.len() {
        return false;
    }
    if len < 8 {
        return a == b;
    }
    let mut diff = 0;
    let mut i = 0;
    while i + 8 < len {
        diff |= read_u64(a, i) ^ read_u64(b, i);
        i += 8;
    }
    // The last 8 bytes, overlapping what the loop compared.
    diff |= read_u64(a, len - 8) ^ read_u64(b, len - 8);
    diff == 0
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
    fn key_hash_and_eq_cover_every_length() {
        let seeds = [0x1234_5678_9abc_def0, 0x0fed_cba9_8765_4321];
        let bytes: Vec<u8> = (0..100u8).map(|i| i.wrapping_mul(37)).collect();
        let mut hashes = Vec::new();
        for len in 0..bytes.len() {
            let key = &bytes[..len];
            assert!(key_eq(key, key));
            hashes.push(key_hash(&seeds, key));
            if len > 0 {
                // Any single changed byte changes the key, and (here) the hash.
                for at in [0, len / 2, len - 1] {
                    let mut other = key.to_vec();
                    other[at] ^= 1;
                    assert!(!key_eq(key, &other), "len {len} at {at}");
                    assert_ne!(
                        key_hash(&seeds, key),
                        key_hash(&seeds, &other),
                        "len {len} at {at}"
                    );
                }
                assert!(!key_eq(key, &bytes[..len - 1]));
            }
        }
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), bytes.len(), "prefixes collide");
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
