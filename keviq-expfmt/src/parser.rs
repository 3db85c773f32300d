//! The parser state and what both grammars share: scanning, label sets, HELP text,
//! numbers, and the bookkeeping of families.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use foldhash::fast::RandomState;

use super::error::{ErrorReason, Expected, Found, Keyword, NumberField, ParseError, Place};
use super::labels::{LabelSet, unescape};
use super::number::{MAX_EXACT, NumError, POW10, parse_f64};
use super::{Exposition, Format, MetricFamily, MetricType, Sample};

/// Byte classes, as bit flags.
const LABEL: u8 = 1; // [a-zA-Z0-9_]
const METRIC: u8 = 2; // [a-zA-Z0-9_:]
const VALUE_END: u8 = 4; // `"`, `\`, line feed: stops a label value scan
const HELP_END: u8 = 8; // `"`, `\`, line feed: stops a HELP text scan
const TOKEN_END: u8 = 16; // space, tab, line feed, carriage return

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
fn class(b: &[u8], i: usize) -> u8 {
    match b.get(i) {
        Some(&c) => CLASS[c as usize],
        None => 0,
    }
}

/// Byte equality for short strings, inline (a `memcmp` call costs more than the
/// comparison on names of a few dozen bytes).
#[inline(always)]
pub(super) fn same(a: &[u8], b: &[u8]) -> bool {
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
enum Special {
    /// A `"` at this index.
    Quote(usize),
    /// A `\` or line feed at this index.
    Other(usize),
    /// Fewer than 8 bytes remain from this index.
    Tail(usize),
}

/// The first `"`, `\` or line feed from `i`, 8 bytes at a time.
#[inline(always)]
fn find_special(b: &[u8], mut i: usize) -> Special {
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
fn skip_plain_text(b: &[u8], i: usize) -> usize {
    match find_special(b, i) {
        Special::Quote(i) | Special::Other(i) | Special::Tail(i) => i,
    }
}

/// Skips spaces and tabs.
#[inline(always)]
pub(super) fn skip_blanks(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    i
}

/// The end of the metric name at `i` (`i` itself when there is none).
#[inline(always)]
pub(super) fn scan_metric_name(b: &[u8], i: usize) -> usize {
    scan_name(b, i, true)
}

/// The end of the label name at `i` (`i` itself when there is none).
#[inline(always)]
fn scan_label_name(b: &[u8], i: usize) -> usize {
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
pub(super) fn scan_token(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && class(b, i) & TOKEN_END == 0 {
        i += 1;
    }
    i
}

/// What the parser knows about a family beyond [`MetricFamily`].
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Meta {
    pub(super) typed: bool,
    pub(super) help: bool,
    pub(super) unit: bool,
}

impl Meta {
    pub(super) fn has(self, keyword: Keyword) -> bool {
        match keyword {
            Keyword::Type => self.typed,
            Keyword::Help => self.help,
            Keyword::Unit => self.unit,
        }
    }

    pub(super) fn set(&mut self, keyword: Keyword) {
        match keyword {
            Keyword::Type => self.typed = true,
            Keyword::Help => self.help = true,
            Keyword::Unit => self.unit = true,
        }
    }
}

/// A label set as parsed, with the values the sample checks need.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct ParsedLabels<'a> {
    pub(super) set: LabelSet<'a>,
    /// Just past the closing `}`.
    pub(super) end: usize,
    /// Byte range of the `le` value.
    pub(super) le: Option<(usize, usize)>,
    /// Byte range of the `quantile` value.
    pub(super) quantile: Option<(usize, usize)>,
}

/// Label sets up to this size are checked for duplicates by linear search.
const LINEAR_DUPLICATE_CHECK: usize = 16;

pub(super) struct Parser<'a> {
    pub(super) src: &'a str,
    pub(super) b: &'a [u8],
    pub(super) format: Format,
    pub(super) families: Vec<MetricFamily<'a>>,
    pub(super) meta: Vec<Meta>,
    pub(super) samples: Vec<Sample<'a>>,
    /// Every family opened so far, by name.
    seen: HashMap<&'a str, usize, RandomState>,
    /// Label names of the label set being parsed.
    names: Vec<&'a [u8]>,
    /// The same, for large label sets.
    name_set: HashSet<&'a [u8], RandomState>,
    /// The name of the last sample, its family and suffix.
    last_sample: Option<(&'a str, usize, &'static str)>,
}

impl<'a> Parser<'a> {
    pub(super) fn new(src: &'a str, format: Format) -> Self {
        Self {
            src,
            b: src.as_bytes(),
            format,
            families: Vec::new(),
            meta: Vec::new(),
            // Typical sample lines are 50 to 150 bytes long.
            samples: Vec::with_capacity(src.len() / 64),
            seen: HashMap::with_hasher(RandomState::default()),
            names: Vec::new(),
            name_set: HashSet::with_hasher(RandomState::default()),
            last_sample: None,
        }
    }

    pub(super) fn finish(mut self) -> Exposition<'a> {
        self.close_current();
        Exposition {
            families: self.families,
            samples: self.samples,
        }
    }

    #[cold]
    #[inline(never)]
    pub(super) fn err(&self, pos: usize, reason: ErrorReason) -> ParseError {
        ParseError::at(self.b, pos, reason)
    }

    /// What is at `pos`, for error messages.
    pub(super) fn found(&self, pos: usize) -> Found {
        match self.b.get(pos) {
            None => Found::EndOfInput,
            Some(b'\n') => Found::EndOfLine,
            Some(_) => Found::Char(
                self.src
                    .get(pos..)
                    .and_then(|s| s.chars().next())
                    .unwrap_or(char::REPLACEMENT_CHARACTER),
            ),
        }
    }

    #[cold]
    #[inline(never)]
    pub(super) fn expected(&self, pos: usize, expected: Expected) -> ParseError {
        let found = self.found(pos);
        self.err(pos, ErrorReason::Expected { expected, found })
    }

    /// `src[start..end]`, for boundaries the scanners found.
    #[inline(always)]
    pub(super) fn text(&self, start: usize, end: usize) -> &'a str {
        self.src.get(start..end).unwrap_or("")
    }

    /// Checks that `pos` holds the line feed ending the line.
    #[inline(always)]
    pub(super) fn expect_line_end(&self, pos: usize) -> Result<(), ParseError> {
        match self.b.get(pos) {
            Some(b'\n') => Ok(()),
            None => Err(self.err(pos, ErrorReason::MissingNewline)),
            Some(_) => Err(self.expected(pos, Expected::LineEnd)),
        }
    }

    /// The index just past the line feed ending the line at `pos`.
    pub(super) fn skip_line(&self, pos: usize) -> Result<usize, ParseError> {
        match self
            .b
            .get(pos..)
            .and_then(|rest| rest.iter().position(|&c| c == b'\n'))
        {
            Some(offset) => Ok(pos + offset + 1),
            None => Err(self.err(self.b.len(), ErrorReason::MissingNewline)),
        }
    }

    /// The number token starting at `start` (not at its end); returns the number and
    /// the token's end.
    #[inline(always)]
    pub(super) fn number_token(
        &self,
        start: usize,
        field: NumberField,
        special: bool,
    ) -> Result<(f64, usize), ParseError> {
        let b = self.b;
        // Fast path: plain decimals of up to 19 digits, as counters, integer gauges and
        // most floats are written; anything else takes the general path.
        let mut i = start;
        let negative = b.get(i) == Some(&b'-');
        i += usize::from(negative);
        let int_start = i;
        let mut mantissa = 0u64;
        while let Some(d) = b.get(i).map(|c| c.wrapping_sub(b'0')).filter(|d| *d < 10) {
            mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d));
            i += 1;
        }
        let mut digits = i - int_start;
        let mut fraction = 0;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let frac_start = i;
            while let Some(d) = b.get(i).map(|c| c.wrapping_sub(b'0')).filter(|d| *d < 10) {
                mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d));
                i += 1;
            }
            fraction = i - frac_start;
            digits += fraction;
        }
        if (1..=19).contains(&digits) && self.at_token_end(i) {
            let value = if fraction == 0 {
                // `u64 as f64` rounds to nearest, ties to even.
                Some(mantissa as f64)
            } else if mantissa <= MAX_EXACT {
                // One correctly rounded operation on exact operands (Clinger).
                POW10.get(fraction).map(|p| mantissa as f64 / p)
            } else {
                // A valid decimal: the standard library rounds it correctly.
                self.text(start, i).parse::<f64>().ok().map(f64::abs)
            };
            if let Some(v) = value {
                return Ok((if negative { -v } else { v }, i));
            }
        }
        let end = scan_token(b, i);
        Ok((self.number(start, end, field, special)?, end))
    }

    /// Whether `i` ends a token (or the input).
    #[inline(always)]
    pub(super) fn at_token_end(&self, i: usize) -> bool {
        i >= self.b.len() || class(self.b, i) & TOKEN_END != 0
    }

    /// The number in `start..end`.
    pub(super) fn number(
        &self,
        start: usize,
        end: usize,
        field: NumberField,
        special: bool,
    ) -> Result<f64, ParseError> {
        parse_f64(self.text(start, end), special)
            .map_err(|e| self.number_error(start, end, field, e))
    }

    #[cold]
    #[inline(never)]
    pub(super) fn number_error(
        &self,
        start: usize,
        end: usize,
        field: NumberField,
        e: NumError,
    ) -> ParseError {
        let text = self.text(start, end).to_owned();
        self.err(
            start,
            match e {
                NumError::Invalid => ErrorReason::InvalidNumber { field, text },
                NumError::OutOfRange => ErrorReason::NumberOutOfRange { field, text },
            },
        )
    }

    // --- Families ---

    /// The family being read: the last one opened.
    #[inline(always)]
    pub(super) fn current(&self) -> Option<usize> {
        self.families.len().checked_sub(1)
    }

    /// Whether family `index` has samples yet.
    pub(super) fn has_samples(&self, index: usize) -> bool {
        self.families
            .get(index)
            .is_some_and(|f| f.samples.start < self.samples.len())
    }

    fn close_current(&mut self) {
        let end = self.samples.len();
        if let Some(family) = self.families.last_mut() {
            family.samples.end = end;
        }
    }

    /// Opens a new family (the caller checked that its name is new).
    pub(super) fn open_family(&mut self, name: &'a str, kind: MetricType) -> usize {
        self.close_current();
        self.last_sample = None;
        let index = self.families.len();
        let start = self.samples.len();
        self.families.push(MetricFamily {
            name,
            kind,
            help: None,
            unit: None,
            samples: start..start,
        });
        self.meta.push(Meta::default());
        self.seen.insert(name, index);
        index
    }

    /// Resolves the family of a sample named `name` at `pos`: the current family when
    /// the name fits it, else a new family, unless the name belongs to a family seen
    /// before. Returns the family and the suffix the sample name adds to it.
    #[inline(always)]
    pub(super) fn sample_family(
        &mut self,
        name: &'a str,
        pos: usize,
    ) -> Result<(usize, &'static str), ParseError> {
        // Consecutive samples mostly share their name.
        if let Some((last, family, suffix)) = self.last_sample
            && same(last.as_bytes(), name.as_bytes())
        {
            return Ok((family, suffix));
        }
        let (family, suffix) = self.resolve_sample(name, pos)?;
        self.last_sample = Some((name, family, suffix));
        Ok((family, suffix))
    }

    fn resolve_sample(
        &mut self,
        name: &'a str,
        pos: usize,
    ) -> Result<(usize, &'static str), ParseError> {
        if let Some(current) = self.current()
            && let Some(family) = self.families.get(current)
        {
            let suffixes = family.kind.sample_suffixes(self.format);
            let (base, rest) = name.as_bytes().split_at(family.name.len().min(name.len()));
            if same(base, family.name.as_bytes())
                && let Some(&suffix) = suffixes.iter().find(|s| same(s.as_bytes(), rest))
            {
                return Ok((current, suffix));
            }
            if name == family.name {
                return Err(self.err(
                    pos,
                    ErrorReason::InvalidSampleName {
                        name: name.to_owned(),
                        family: family.name.to_owned(),
                        kind: family.kind,
                        suffixes,
                    },
                ));
            }
        }
        self.check_new_family(name, pos)?;
        let kind = MetricType::untyped_in(self.format);
        Ok((self.open_family(name, kind), ""))
    }

    /// Fails if a sample named `name` belongs to a family seen before.
    fn check_new_family(&self, name: &str, pos: usize) -> Result<(), ParseError> {
        if self.seen.contains_key(name) {
            return Err(self.err(pos, ErrorReason::Interleaved(name.to_owned())));
        }
        for suffix in MetricType::SAMPLE_SUFFIXES {
            if let Some(base) = name.strip_suffix(suffix)
                && let Some(family) = self.seen.get(base).and_then(|&i| self.families.get(i))
                && family.kind.sample_suffixes(self.format).contains(&suffix)
            {
                return Err(self.err(pos, ErrorReason::Interleaved(base.to_owned())));
            }
        }
        Ok(())
    }

    /// Resolves the family a metadata line for `name` at `pos` is about: the current
    /// one if it has that name and no samples yet, else a new one.
    pub(super) fn metadata_family(
        &mut self,
        keyword: Keyword,
        name: &'a str,
        pos: usize,
    ) -> Result<usize, ParseError> {
        let index = match self.current() {
            Some(current) if self.families.get(current).is_some_and(|f| f.name == name) => {
                Some(current)
            }
            _ => self.seen.get(name).copied(),
        };
        let Some(index) = index else {
            let kind = MetricType::untyped_in(self.format);
            return Ok(self.open_family(name, kind));
        };
        let family = name.to_owned();
        if self.meta.get(index).is_some_and(|m| m.has(keyword)) {
            return Err(self.err(pos, ErrorReason::DuplicateMetadata { keyword, family }));
        }
        if self.has_samples(index) {
            return Err(self.err(pos, ErrorReason::MetadataAfterSamples { keyword, family }));
        }
        if Some(index) != self.current() {
            return Err(self.err(pos, ErrorReason::Interleaved(family)));
        }
        Ok(index)
    }

    // --- Lines ---

    /// Parses the label set whose `{` is at `open`. Prometheus allows blanks around
    /// tokens and a trailing comma; OpenMetrics neither.
    pub(super) fn labels(&mut self, open: usize) -> Result<ParsedLabels<'a>, ParseError> {
        let b = self.b;
        let blanks = self.format == Format::Prometheus;
        let mut out = ParsedLabels::default();
        let mut i = open + 1;
        let mut count = 0u32;
        self.names.clear();
        loop {
            if blanks {
                i = skip_blanks(b, i);
            }
            if b.get(i) == Some(&b'}') && (blanks || count == 0) {
                break;
            }
            let name_end = scan_label_name(b, i);
            if name_end == i {
                return Err(self.expected(i, Expected::LabelName));
            }
            let name = b.get(i..name_end).unwrap_or(&[]);
            self.check_label_name(name, i)?;
            i = name_end;
            if blanks {
                i = skip_blanks(b, i);
            }
            if b.get(i) != Some(&b'=') {
                return Err(self.expected(i, Expected::Equals));
            }
            i += 1;
            if blanks {
                i = skip_blanks(b, i);
            }
            if b.get(i) != Some(&b'"') {
                return Err(self.expected(i, Expected::Quote));
            }
            let value_start = i + 1;
            let value_end = self.label_value(value_start)?;
            match name.len() {
                2 if same(name, b"le") => out.le = Some((value_start, value_end)),
                8 if same(name, b"quantile") => {
                    out.quantile = Some((value_start, value_end));
                }
                _ => {}
            }
            count = count.saturating_add(1);
            i = value_end + 1;
            if blanks {
                i = skip_blanks(b, i);
            }
            match b.get(i) {
                Some(b',') => i += 1,
                Some(b'}') => break,
                _ => return Err(self.expected(i, Expected::CommaOrBrace)),
            }
        }
        out.set = LabelSet::new(self.text(open + 1, i), count);
        out.end = i + 1;
        Ok(out)
    }

    #[inline]
    fn check_label_name(&mut self, name: &'a [u8], pos: usize) -> Result<(), ParseError> {
        if same(name, b"__name__") {
            let name = String::from_utf8_lossy(name).into_owned();
            return Err(self.err(pos, ErrorReason::ReservedLabel(name)));
        }
        let duplicate = if self.names.len() < LINEAR_DUPLICATE_CHECK {
            let duplicate = self.names.iter().any(|n| same(n, name));
            self.names.push(name);
            if self.names.len() == LINEAR_DUPLICATE_CHECK {
                self.name_set.clear();
                self.name_set.extend(self.names.iter().copied());
            }
            duplicate
        } else {
            !self.name_set.insert(name)
        };
        if duplicate {
            let name = String::from_utf8_lossy(name).into_owned();
            return Err(self.err(pos, ErrorReason::DuplicateLabel(name)));
        }
        Ok(())
    }

    /// Scans the label value starting at `start` (after its `"`), checking escapes;
    /// returns the index of the closing `"`.
    #[inline]
    fn label_value(&self, start: usize) -> Result<usize, ParseError> {
        let b = self.b;
        let mut i = start;
        loop {
            match find_special(b, i) {
                Special::Quote(end) => return Ok(end),
                Special::Other(at) => i = at,
                Special::Tail(at) => {
                    i = at;
                    while i < b.len() && class(b, i) & VALUE_END == 0 {
                        i += 1;
                    }
                }
            }
            match b.get(i) {
                Some(b'"') => return Ok(i),
                Some(b'\\') if i + 1 < b.len() => {
                    self.check_escape(i, Place::LabelValue)?;
                    i += 2;
                }
                _ => {
                    return Err(self.err(start - 1, ErrorReason::UnterminatedLabelValue));
                }
            }
        }
    }

    /// Checks the escape whose backslash is at `pos`.
    #[inline]
    fn check_escape(&self, pos: usize, place: Place) -> Result<(), ParseError> {
        match self.b.get(pos + 1) {
            Some(b'\\' | b'"' | b'n') => Ok(()),
            // (Label values check for this before.)
            None => Err(self.err(pos + 1, ErrorReason::MissingNewline)),
            // OpenMetrics: a backslash before any other character stands for itself.
            Some(c) if *c != b'\n' && self.format == Format::OpenMetrics => Ok(()),
            Some(_) => {
                let escape = match self.found(pos + 1) {
                    Found::Char(c) => c,
                    _ => '\n',
                };
                Err(self.err(pos, ErrorReason::InvalidEscape { escape, place }))
            }
        }
    }

    /// Reads the HELP text starting at `start`, up to the line feed; returns it
    /// unescaped and the index of the line feed.
    pub(super) fn help_text(&self, start: usize) -> Result<(Cow<'a, str>, usize), ParseError> {
        let b = self.b;
        let mut i = start;
        let mut escaped = false;
        loop {
            i = skip_plain_text(b, i);
            while i < b.len() && class(b, i) & HELP_END == 0 {
                i += 1;
            }
            match b.get(i) {
                Some(b'\n') => break,
                None => return Err(self.err(i, ErrorReason::MissingNewline)),
                Some(b'"') if self.format == Format::OpenMetrics => {
                    return Err(self.err(i, ErrorReason::UnescapedQuote));
                }
                Some(b'\\') => {
                    self.check_escape(i, Place::Help)?;
                    escaped = true;
                    i += 2;
                }
                Some(_) => i += 1,
            }
        }
        let raw = self.text(start, i);
        let help = if escaped {
            unescape(raw)
        } else {
            Cow::Borrowed(raw)
        };
        Ok((help, i))
    }

    /// Checks the labels the sample's family type gives a meaning: a numeric `le` on
    /// histogram buckets, a numeric `quantile` on summaries.
    #[inline]
    pub(super) fn check_special_labels(
        &self,
        family: usize,
        suffix: &str,
        labels: &ParsedLabels<'a>,
        name_pos: usize,
    ) -> Result<(), ParseError> {
        let Some(kind) = self.families.get(family).map(|f| f.kind) else {
            return Ok(());
        };
        match kind {
            MetricType::Histogram | MetricType::GaugeHistogram
                if same(suffix.as_bytes(), b"_bucket") =>
            {
                let Some((start, end)) = labels.le else {
                    return Err(self.err(name_pos, ErrorReason::MissingLe));
                };
                let le = self.label_number(start, end, NumberField::Le)?;
                if le.is_nan() {
                    let text = self.text(start, end).to_owned();
                    let field = NumberField::Le;
                    return Err(self.err(start, ErrorReason::InvalidNumber { field, text }));
                }
            }
            MetricType::Summary => {
                if let Some((start, end)) = labels.quantile {
                    self.label_number(start, end, NumberField::Quantile)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn label_number(
        &self,
        start: usize,
        end: usize,
        field: NumberField,
    ) -> Result<f64, ParseError> {
        let raw = self.text(start, end);
        // A number holds no backslash: only unescape when the raw text fails.
        parse_f64(raw, true)
            .or_else(|e| match unescape(raw) {
                Cow::Owned(value) => parse_f64(&value, true),
                Cow::Borrowed(_) => Err(e),
            })
            .map_err(|e| self.number_error(start, end, field, e))
    }
}
