//! [`SeriesKey`]: a series' key bytes, kept inside its arena entry when short.
//!
//! A family with free-form labels keeps `(series, key)` per series in its arena.
//! Keys of up to [`INLINE`] bytes (a method, a route of up to 33 bytes and a status)
//! live in the entry itself, so a lookup that hits reads the key and the counter
//! from one cache line; longer keys go to the heap.

/// Longest key kept inline: 38 bytes make the key 40 bytes, and a counter's arena
/// entry (16-byte series, key, and the entry's once-flag) one 64-byte line.
pub(super) const INLINE: usize = 38;
const _: () = assert!(INLINE < ESCAPED as usize);

/// In [`SeriesKey::Inline`]'s `len`: the label text needs escaping.
const ESCAPED: u8 = 0x80;

/// A series key: immutable bytes, owned, and whether the series' label values
/// need escaping when rendered (known once, when the series is created, so a
/// render of the common case copies them without looking at them).
#[derive(Debug)]
pub(super) enum SeriesKey {
    /// `len & !ESCAPED` bytes at the front of `bytes`; the `ESCAPED` bit is set when
    /// the label text needs escaping.
    Inline { len: u8, bytes: [u8; INLINE] },
    /// A key longer than [`INLINE`].
    Heap { bytes: Box<[u8]>, plain: bool },
}

impl SeriesKey {
    /// A copy of `key`; `plain` when no label value of it needs escaping.
    pub(super) fn new(key: &[u8], plain: bool) -> Self {
        match u8::try_from(key.len()) {
            Ok(len) if key.len() <= INLINE => {
                let mut bytes = [0u8; INLINE];
                bytes[..key.len()].copy_from_slice(key);
                let len = if plain { len } else { len | ESCAPED };
                Self::Inline { len, bytes }
            }
            _ => Self::Heap {
                bytes: key.into(),
                plain,
            },
        }
    }

    /// The key.
    #[inline(always)]
    pub(super) fn as_bytes(&self) -> &[u8] {
        match self {
            // The length fits by construction; `get` keeps the check cheap and safe.
            Self::Inline { len, bytes } => {
                bytes.get(..usize::from(*len & !ESCAPED)).unwrap_or(bytes)
            }
            Self::Heap { bytes, .. } => bytes,
        }
    }

    /// Whether no label value of the key needs escaping.
    #[inline(always)]
    pub(super) fn plain(&self) -> bool {
        match self {
            Self::Inline { len, .. } => len & ESCAPED == 0,
            Self::Heap { plain, .. } => *plain,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_keys_of_every_length() {
        for len in [0, 1, 37, 38, 39, 100, 254, 255, 256, 70_000] {
            let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            for plain in [true, false] {
                let key = SeriesKey::new(&bytes, plain);
                assert_eq!(key.as_bytes(), &bytes[..], "{len}");
                assert_eq!(key.plain(), plain);
                assert_eq!(matches!(key, SeriesKey::Inline { .. }), len <= INLINE);
            }
        }
        assert_eq!(size_of::<SeriesKey>(), 40);
    }
}
