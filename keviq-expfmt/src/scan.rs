//! Byte scanning shared by both grammars: byte classes, and scanners that read 8
//! bytes at a time where they can (SWAR: bit tricks on one `u64`).

/// Byte classes, as bit flags.
const LABEL: u8 = 1; // [a-zA-Z0-9_]
const METRIC: u8 = 2; // [a-zA-Z0-9_:]
pub(crate) const VALUE_END: u8 = 4; // `"`, `\`, line feed: stops a label value scan
pub(crate) const HELP_END: u8 = 8; // `"`, `\`, line feed: stops a HELP text scan
pub(crate) const TOKEN_END: u8 = 16; // space, tab, line feed, carriage return

static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_alphanumeric() || b == b'_' {
            t[c] |= LABEL | METRIC;
        }
        if b == b':' {
            t[c] |= METRIC;
        }
        if b == b'"' || b == b'\\' || b == b'\n' {
            t[c] |= VALUE_END | HELP_END;
        }
        if b == b' ' || b == b'\t' || b == b'\n' || b == b'\r' {
            t[c] |= TOKEN_END;
        }
        c += 1;
    }
    t
};

#[inline(always)]
pub(crate) fn class(b: &[u8], i: usize) -> u8 {
    match b.get(i) {
        Some(&c) => CLASS[c as usize],
        None => 0,
    }
}

/// Byte equality for short strings, inline (a `memcmp` call costs more than the
/// comparison on names of a few dozen bytes).
#[inline(always)]
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n >= 8 {
        let mut i = 0;
        while i + 8 < n {
            if word(a, i) != word(b, i) {
                return false;
            }
            i += 8;
        }
        // The last 8 bytes, overlapping the previous word.
        return word(a, n - 8) == word(b, n - 8);
    }
    if n >= 4 {
        return half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4);
    }
    a.first() == b.first() && a.get(1) == b.get(1) && a.last() == b.last()
}

#[inline(always)]
fn word(s: &[u8], i: usize) -> u64 {
    s.get(i..i + 8)
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
        .map_or(0, u64::from_le_bytes)
}

#[inline(always)]
fn half(s: &[u8], i: usize) -> u32 {
    s.get(i..i + 4)
        .and_then(|w| <[u8; 4]>::try_from(w).ok())
        .map_or(0, u32::from_le_bytes)
}

const ONES: u64 = 0x0101_0101_0101_0101;

/// High bit set in each byte of `x` equal to `c` (and possibly in bytes after one).
#[inline(always)]
fn bytes_equal_to(x: u64, c: u8) -> u64 {
    let y = x ^ (ONES * c as u64);
    y.wrapping_sub(ONES) & !y & (ONES << 7)
}

/// What [`find_special`] found.
pub(crate) enum Special {
    /// A `"` at this index.
    Quote(usize),
    /// A `\` or line feed at this index.
    Other(usize),
    /// Fewer than 8 bytes remain from this index.
    Tail(usize),
}

/// The first `"`, `\` or line feed from `i`, 8 bytes at a time.
#[inline(always)]
pub(crate) fn find_special(b: &[u8], mut i: usize) -> Special {
    while let Some(w) = b.get(i..i + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()) {
        let x = u64::from_le_bytes(w);
        let quotes = bytes_equal_to(x, b'"');
        let hits = quotes | bytes_equal_to(x, b'\\') | bytes_equal_to(x, b'\n');
        if hits != 0 {
            let bit = hits.trailing_zeros();
            let at = i + (bit / 8) as usize;
            // The lowest hit is exact, so its bit in `quotes` tells a quote.
            return if quotes >> bit & 1 != 0 {
                Special::Quote(at)
            } else {
                Special::Other(at)
            };
        }
        i += 8;
    }
    Special::Tail(i)
}

/// The index of the first `"`, `\` or line feed from `i`, 8 bytes at a time, or the
/// index where fewer than 8 bytes remain.
#[inline(always)]
pub(crate) fn skip_plain_text(b: &[u8], i: usize) -> usize {
    match find_special(b, i) {
        Special::Quote(i) | Special::Other(i) | Special::Tail(i) => i,
    }
}

/// Skips spaces and tabs.
#[inline(always)]
pub(crate) fn skip_blanks(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    i
}

/// The end of the metric name at `i` (`i` itself when there is none).
#[inline(always)]
pub(crate) fn scan_metric_name(b: &[u8], i: usize) -> usize {
    scan_name(b, i, true)
}

/// The end of the label name at `i` (`i` itself when there is none).
#[inline(always)]
pub(crate) fn scan_label_name(b: &[u8], i: usize) -> usize {
    scan_name(b, i, false)
}

/// The end of the name (`[a-zA-Z_:][a-zA-Z0-9_:]*`, without `:` unless `colon`) at
/// `i`, 8 bytes at a time.
#[inline(always)]
fn scan_name(b: &[u8], i: usize, colon: bool) -> usize {
    if matches!(b.get(i), Some(c) if c.is_ascii_digit()) {
        return i;
    }
    let mut j = i;
    while let Some(w) = b.get(j..j + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()) {
        let invalid = !name_bytes(u64::from_le_bytes(w), colon) & HIGHS;
        if invalid != 0 {
            return j + (invalid.trailing_zeros() / 8) as usize;
        }
        j += 8;
    }
    let class_bit = if colon { METRIC } else { LABEL };
    while class(b, j) & class_bit != 0 {
        j += 1;
    }
    j
}

const HIGHS: u64 = ONES << 7;
const LOW7: u64 = !HIGHS;

/// High bit set in each byte of `x` equal to `c`, exactly.
#[inline(always)]
fn bytes_exactly(x: u64, c: u8) -> u64 {
    let y = x ^ (ONES * c as u64);
    !(((y & LOW7) + LOW7) | y) & HIGHS
}

/// High bit set in each byte of `x` that may be in a name: `[a-zA-Z0-9_]`, and `:`
/// when `colon`.
#[inline(always)]
fn name_bytes(x: u64, colon: bool) -> u64 {
    let ascii = !x & HIGHS;
    let x7 = x & LOW7;
    // lo <= c <= hi, per 7-bit byte: (c + 128 - lo) has its high bit set and
    // (c + 127 - hi) has not.
    let lower = x7 | (ONES * 0x20);
    let alpha = (lower + ONES * (128 - b'a' as u64)) & !(lower + ONES * (127 - b'z' as u64));
    let digit = (x7 + ONES * (128 - b'0' as u64)) & !(x7 + ONES * (127 - b'9' as u64));
    let mut ok = alpha | digit | bytes_exactly(x, b'_');
    if colon {
        ok |= bytes_exactly(x, b':');
    }
    ok & ascii & HIGHS
}

/// The end of the token at `i`: the next space, tab, line feed, carriage return or
/// the end of the input.
#[inline(always)]
pub(crate) fn scan_token(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && class(b, i) & TOKEN_END == 0 {
        i += 1;
    }
    i
}
