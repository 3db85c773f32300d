//! Hashes and a compact hash table, for the checks that need a whole family at hand.
//!
//! Each label set gets a 32-bit hash while it is parsed, from the bytes already in
//! cache: the wrapping sum of one hash per `(name, value)` pair, so that two sets
//! holding the same labels in another order hash alike. Values are hashed as they
//! decode, so `\\` and `\"` hash like the characters they stand for. The seed is
//! random per parse: input cannot be made to collide on purpose.
//!
//! [`IndexTable`] maps such hashes to sample or family indices in 8 bytes a slot;
//! equal hashes are told apart by the caller, so a collision costs a comparison,
//! never a wrong answer.

const K1: u64 = 0x9E37_79B9_7F4A_7C15;
const K2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const K3: u64 = 0x1656_67B1_9E37_79F9;
const K4: u64 = 0x27D4_EB2F_1656_67C5;

#[inline(always)]
fn finish(h: u64) -> u64 {
    let h = (h ^ (h >> 32)).wrapping_mul(K2);
    h ^ (h >> 29)
}

/// The high and low halves of the 128-bit product, folded together.
#[inline(always)]
fn fold(a: u64, b: u64) -> u64 {
    let full = u128::from(a) * u128::from(b);
    (full as u64) ^ ((full >> 64) as u64)
}

#[inline(always)]
fn load8(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
        .map_or(0, u64::from_le_bytes)
}

#[inline(always)]
fn load4(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 4)
        .and_then(|w| <[u8; 4]>::try_from(w).ok())
        .map_or(0, |w| u64::from(u32::from_le_bytes(w)))
}

/// A keyed hash of `b`, in the manner of foldhash: one folded multiply of seeded
/// words per 16 bytes, the chunks independent of each other (so they multiply in
/// parallel) but keyed by position (so they cannot be swapped), the last chunk
/// overlapping. Inline, because label names and values are short.
#[inline(always)]
pub(crate) fn bytes(seed: u64, b: &[u8]) -> u64 {
    let n = b.len();
    let (lo, hi) = if n >= 8 {
        (load8(b, 0), load8(b, n - 8))
    } else if n >= 4 {
        (load4(b, 0), load4(b, n - 4))
    } else if n > 0 {
        let first = b.first().map_or(0, |&c| u64::from(c));
        let mid = b.get(n / 2).map_or(0, |&c| u64::from(c));
        let last = b.last().map_or(0, |&c| u64::from(c));
        (first | (mid << 8), last)
    } else {
        (0, 0)
    };
    let mut acc = fold(lo ^ seed ^ K1, hi ^ K2 ^ (n as u64));
    if n > 16 {
        let mut at = 8;
        let mut key = seed;
        while at < n - 8 {
            key = key.wrapping_add(K3);
            acc = acc.wrapping_add(fold(load8(b, at) ^ key, load8(b, (at + 8).min(n - 8)) ^ K4));
            at += 16;
        }
    }
    acc
}

/// The hash of an escaped string as it decodes: `\n`, `\\` and `\"` stand for one
/// character, a backslash before anything else for itself (as
/// [`unescape`](crate::labels::unescape) decodes).
#[cold]
pub(crate) fn escaped(seed: u64, raw: &[u8]) -> u64 {
    let text = String::from_utf8_lossy(raw);
    bytes(seed, crate::labels::unescape(&text).as_bytes())
}

/// The contribution of the label `name="value"` to its set's hash, from the hash
/// of the name (seeded by the parse) and the hash of the decoded value seeded by
/// it: one more multiply per label.
#[inline(always)]
pub(crate) fn label(value: u64) -> u32 {
    (value ^ (value >> 32)) as u32
}

/// A hash of a sample name that tells apart the names of one family: they differ
/// in their length or their last 8 bytes (the family name is their common start).
#[inline(always)]
pub(crate) fn name_key32(name: &str) -> u32 {
    let b = name.as_bytes();
    let tail = match b.len().checked_sub(8) {
        Some(start) => load8(b, start),
        None => b.iter().fold(0u64, |acc, &c| (acc << 8) | u64::from(c)),
    };
    ((tail ^ (b.len() as u64).rotate_left(48)).wrapping_mul(K1) >> 32) as u32
}

/// A hash of a name, as 32 bits.
#[inline(always)]
pub(crate) fn name32(seed: u64, name: &str) -> u32 {
    (finish(bytes(seed, name.as_bytes())) >> 32) as u32
}

/// A hasher for keys that are already hashes: one multiply spreads them over the
/// 64 bits `HashMap` reads (its control bytes come from the top bits).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PreHashed(u64);

impl std::hash::Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(K1);
        }
    }

    #[inline(always)]
    fn write_u32(&mut self, key: u32) {
        self.0 = (u64::from(key) | (u64::from(key) << 32)).wrapping_mul(K1);
    }
}

/// Builds [`PreHashed`] hashers.
pub(crate) type BuildPreHashed = std::hash::BuildHasherDefault<PreHashed>;

/// An open-addressing table of `(hash, index)` pairs in one `u64` each, linear
/// probing, several entries per hash allowed. Reused across families: it is cleared
/// only as far as the next family needs.
#[derive(Debug, Default)]
pub(crate) struct IndexTable {
    slots: Vec<u64>,
    mask: usize,
    len: usize,
}

/// Slot contents: the hash in the high half, the index + 1 in the low half; 0 is free.
const FREE: u64 = 0;

impl IndexTable {
    /// Empties the table, sized for `n` entries.
    pub(crate) fn reset(&mut self, n: usize) {
        let size = (n + n / 2 + 1).next_power_of_two().max(8);
        if self.slots.len() < size {
            self.slots.clear();
            self.slots.resize(size, FREE);
        } else if let Some(used) = self.slots.get_mut(..size) {
            used.fill(FREE);
        }
        self.mask = size - 1;
        self.len = 0;
    }

    #[inline(always)]
    fn home(&self, hash: u32) -> usize {
        ((u64::from(hash).wrapping_mul(K1) >> 32) as usize) & self.mask
    }

    /// The slot of the first entry for `hash` whose index `matches`.
    #[inline]
    pub(crate) fn find(&self, hash: u32, mut matches: impl FnMut(usize) -> bool) -> Option<usize> {
        let mut at = self.home(hash);
        loop {
            let slot = *self.slots.get(at)?;
            if slot == FREE {
                return None;
            }
            if (slot >> 32) as u32 == hash && matches((slot as u32).wrapping_sub(1) as usize) {
                return Some(at);
            }
            at = (at + 1) & self.mask;
        }
    }

    /// The index in slot `at`.
    #[inline]
    pub(crate) fn index(&self, at: usize) -> usize {
        self.slots
            .get(at)
            .map_or(0, |slot| (*slot as u32).wrapping_sub(1) as usize)
    }

    /// Adds an entry, growing the table as needed (indices must fit in 32 bits).
    #[inline]
    pub(crate) fn push(&mut self, hash: u32, index: usize) {
        if (self.len + 1) * 4 > (self.mask + 1) * 3 {
            self.grow();
        }
        let mut at = self.home(hash);
        while let Some(slot) = self.slots.get_mut(at) {
            if *slot == FREE {
                *slot = (u64::from(hash) << 32) | (index as u64 + 1);
                self.len += 1;
                return;
            }
            at = (at + 1) & self.mask;
        }
    }

    #[cold]
    fn grow(&mut self) {
        let size = (self.mask + 1) * 2;
        let old = std::mem::replace(&mut self.slots, vec![FREE; size]);
        self.mask = size - 1;
        self.len = 0;
        for slot in old.into_iter().filter(|s| *s != FREE) {
            let (hash, index) = ((slot >> 32) as u32, (slot as u32).wrapping_sub(1) as usize);
            self.push(hash, index);
        }
    }

    /// The bytes the table holds on the heap.
    #[cfg(test)]
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.capacity() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_hashes_are_those_of_the_decoded_text() {
        assert_eq!(escaped(1, br#"a\"b\\c\nd"#), bytes(1, b"a\"b\\c\nd"));
        assert_eq!(escaped(1, b"plain"), bytes(1, b"plain"));
        // A backslash before another character stands for itself.
        assert_eq!(escaped(1, br"\q"), bytes(1, br"\q"));
        assert_eq!(escaped(1, br"\\q"), bytes(1, br"\q"));
        assert_ne!(bytes(1, b"ab"), bytes(1, b"ba"));
        assert_ne!(bytes(1, b""), bytes(1, b"\0"));
    }

    #[test]
    fn table_finds_every_entry_of_a_hash() {
        let mut t = IndexTable::default();
        t.reset(4);
        t.push(5, 0);
        t.push(5, 1);
        t.push(9, 2);
        assert_eq!(t.find(5, |i| i == 1).map(|at| t.index(at)), Some(1));
        assert_eq!(t.find(5, |_| true).map(|at| t.index(at)), Some(0));
        assert_eq!(t.find(6, |_| true), None);
        // Growth keeps every entry.
        for i in 0..1000 {
            t.push(i as u32 % 17, i + 10);
        }
        for i in 0..1000 {
            assert!(t.find(i as u32 % 17, |j| j == i + 10).is_some(), "{i}");
        }
        t.reset(2);
        assert_eq!(t.find(5, |_| true), None);
        assert!(t.heap_bytes() >= 8 * 1024);
    }
}
