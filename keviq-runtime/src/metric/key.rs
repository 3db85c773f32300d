//! [`SeriesKey`]: a series' key bytes behind a thin pointer.
//!
//! A family with free-form labels keeps `(key, series)` per series in its arena. A
//! `Box<[u8]>` key is a fat pointer (16 bytes); this one is 8, its length stored in
//! the allocation instead (one byte below 255). Every string-labeled series then
//! takes 7 bytes less, which keeps a counter series, with its exemplar pointer, at
//! the size it had before exemplars (the arena entry stays at 32 bytes).

use std::ptr::{self, NonNull};

/// The header byte of a key of 255 bytes or more: the length follows in 8 bytes.
const LONG: u8 = u8::MAX;

/// A series key: immutable bytes, owned.
pub(super) struct SeriesKey(NonNull<u8>);

// SAFETY: a `SeriesKey` owns its allocation and never mutates it after `new`, as a
// `Box<[u8]>` does, which is `Send` and `Sync`.
unsafe impl Send for SeriesKey {}
// SAFETY: as above: shared access only ever reads.
unsafe impl Sync for SeriesKey {}

impl SeriesKey {
    /// A copy of `bytes`, with its length in front.
    pub(super) fn new(bytes: &[u8]) -> Self {
        let short = u8::try_from(bytes.len()).ok().filter(|&n| n < LONG);
        let header = if short.is_some() { 1 } else { 9 };
        // Exactly the final size, so `into_boxed_slice` does not reallocate.
        let mut buf = Vec::with_capacity(header + bytes.len());
        match short {
            Some(n) => buf.push(n),
            None => {
                buf.push(LONG);
                buf.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            }
        }
        buf.extend_from_slice(bytes);
        let raw: *mut [u8] = Box::into_raw(buf.into_boxed_slice());
        // `Box::into_raw` never returns null (the allocation holds at least the header).
        Self(NonNull::new(raw.cast::<u8>()).unwrap_or(NonNull::dangling()))
    }

    /// The header's length and the key's.
    #[inline(always)]
    fn lengths(&self) -> (usize, usize) {
        let p = self.0.as_ptr();
        // SAFETY: the allocation starts with the header's first byte (see `new`).
        let first = unsafe { p.read() };
        if first < LONG {
            return (1, usize::from(first));
        }
        let mut len = [0u8; 8];
        // SAFETY: a `LONG` header byte is followed by the 8 bytes of the length, in
        // the same allocation; `len` is a distinct local.
        unsafe { ptr::copy_nonoverlapping(p.add(1), len.as_mut_ptr(), 8) };
        (9, u64::from_le_bytes(len) as usize)
    }

    /// The key.
    #[inline(always)]
    pub(super) fn as_bytes(&self) -> &[u8] {
        let (header, len) = self.lengths();
        // SAFETY: bytes `header..header + len` of the allocation are the key, written
        // in `new` and never changed; the allocation lives as long as `self`.
        unsafe { std::slice::from_raw_parts(self.0.as_ptr().add(header), len) }
    }
}

impl Drop for SeriesKey {
    fn drop(&mut self) {
        let (header, len) = self.lengths();
        let slice = ptr::slice_from_raw_parts_mut(self.0.as_ptr(), header + len);
        // SAFETY: this is the `Box<[u8]>` of `new`, whose length was `header + len`,
        // given back once.
        drop(unsafe { Box::from_raw(slice) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_keys_of_every_length() {
        for len in [0, 1, 100, 254, 255, 256, 70_000] {
            let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let key = SeriesKey::new(&bytes);
            assert_eq!(key.as_bytes(), &bytes[..], "{len}");
        }
        assert_eq!(size_of::<SeriesKey>(), 8);
    }
}
