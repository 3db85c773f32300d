//! The parser state and what both grammars share: numbers, samples, the
//! bookkeeping of families, and (in `text`) label sets, quoted names and HELP
//! texts. Once the input is read, it hands what it parsed to the checks
//! (`check`), which report to the same [`Findings`].

use std::collections::HashSet;
use std::hash::BuildHasher;

use foldhash::fast::RandomState;
use keviq_model::{Format, MetricType, is_reserved_name, sample_name_splits, sample_suffix};

use crate::check;
use crate::error::{ErrorReason, Expected, Found, Keyword, NumberField, ParseError, excerpt};
use crate::exposition::{Exposition, MetricFamily, Sample};
use crate::findings::Findings;
use crate::hash::{self, IndexTable};
use crate::hint::Hint;
use crate::mode::Mode;
use crate::number::{MAX_EXACT, NumError, POW10, parse_f64};
use crate::scan::{TOKEN_END, class, same, scan_token};

mod text;

pub(crate) use text::ParsedLabels;

/// What the parser knows about a family beyond [`MetricFamily`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Meta {
    pub(crate) typed: bool,
    pub(crate) help: bool,
    pub(crate) unit: bool,
    pub(crate) has_samples: bool,
}

impl Meta {
    pub(crate) fn has(self, keyword: Keyword) -> bool {
        match keyword {
            Keyword::Type => self.typed,
            Keyword::Help => self.help,
            Keyword::Unit => self.unit,
        }
    }

    pub(crate) fn set(&mut self, keyword: Keyword) {
        match keyword {
            Keyword::Type => self.typed = true,
            Keyword::Help => self.help = true,
            Keyword::Unit => self.unit = true,
        }
    }
}

pub(crate) struct Parser<'a> {
    pub(crate) src: &'a str,
    pub(crate) b: &'a [u8],
    pub(crate) format: Format,
    pub(crate) families: Vec<MetricFamily<'a>>,
    pub(crate) meta: Vec<Meta>,
    pub(crate) samples: Vec<Sample<'a>>,
    /// Each sample's series key (label-set hash and name key), for the checks
    /// after reading: 4 bytes a sample they read instead of the 80 of a sample.
    pub(crate) keys: Vec<u32>,
    /// Point labels of histogram and summary samples (see [`Hint`]); valid unless
    /// the samples were regrouped.
    pub(crate) hints: Vec<Hint>,
    pub(crate) findings: Findings<'a>,
    /// The seed of this parse's hashes.
    pub(crate) seed: u64,
    /// Every family opened so far, by the hash of its name.
    family_index: IndexTable,
    /// Label names of the label set being parsed.
    names: Vec<&'a [u8]>,
    /// The same, for large label sets.
    name_set: HashSet<&'a [u8], RandomState>,
    /// The name of the last sample, its family and suffix.
    last_sample: Option<(&'a str, usize, &'static str)>,
    /// Samples were attached to a family opened before the last one (scrape mode):
    /// they are grouped by family at the end.
    pub(crate) regroup: bool,
    /// The family of the last line.
    active: Option<usize>,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(src: &'a str, format: Format, mode: Mode) -> Self {
        let state = RandomState::default();
        Self {
            src,
            b: src.as_bytes(),
            format,
            families: Vec::new(),
            meta: Vec::new(),
            // See `push_sample`.
            samples: Vec::with_capacity(expected_lines(src.as_bytes())),
            keys: Vec::with_capacity(expected_lines(src.as_bytes())),
            hints: Vec::new(),
            findings: Findings::new(src.as_bytes(), mode),
            seed: state.hash_one(0x006B_6576_6971_u64),
            family_index: IndexTable::default(),
            names: Vec::new(),
            name_set: HashSet::with_hasher(state),
            last_sample: None,
            regroup: false,
            active: None,
        }
    }

    pub(crate) fn finish(mut self) -> Result<Exposition<'a>, ParseError> {
        self.close_current();
        if self.regroup {
            // Stable: a family's samples keep their input order.
            self.samples.sort_by_key(|s| s.family);
            self.keys = self.samples.iter().map(series_key).collect();
            // Their sample indices no longer hold: the checks look labels up.
            self.hints = Vec::new();
            self.recompute_ranges();
        }
        let dropped = {
            let (index, families, seed) = (&self.family_index, &self.families, self.seed);
            let find = |name: &str| find_family(index, families, seed, name);
            let parsed = check::Parsed {
                src: self.src,
                format: self.format,
                seed: self.seed,
                families: &self.families,
                samples: &self.samples,
                keys: &self.keys,
                hints: &self.hints,
                hinted: !self.regroup,
                find_family: &find,
            };
            check::run(&parsed, &mut self.findings)?
        };
        if !dropped.is_empty() {
            let mut index = 0;
            self.samples.retain(|_| {
                let keep = !dropped.contains(index);
                index += 1;
                keep
            });
            self.recompute_ranges();
        }
        drop(std::mem::take(&mut self.keys));
        drop(std::mem::take(&mut self.hints));
        let (findings, findings_omitted) = self.findings.into_parts();
        Ok(Exposition {
            families: self.families,
            samples: self.samples,
            findings,
            findings_omitted,
        })
    }

    /// Sets every family's range from samples grouped by family.
    fn recompute_ranges(&mut self) {
        let mut at = 0;
        let samples = &self.samples;
        for (index, family) in self.families.iter_mut().enumerate() {
            let start = at;
            while samples.get(at).is_some_and(|s| s.family == index) {
                at += 1;
            }
            family.samples = start..at;
        }
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn err(&self, pos: usize, reason: ErrorReason) -> ParseError {
        ParseError::at(self.b, pos, reason)
    }

    /// See [`Findings::tolerate`].
    #[inline(always)]
    pub(crate) fn tolerate(&mut self, pos: usize, reason: ErrorReason) -> Result<(), ParseError> {
        self.findings.tolerate(pos, reason)
    }

    /// What is at `pos`, for error messages.
    pub(crate) fn found(&self, pos: usize) -> Found {
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
    pub(crate) fn expected(&self, pos: usize, expected: Expected) -> ParseError {
        self.err(pos, self.expected_reason(pos, expected))
    }

    #[cold]
    pub(crate) fn expected_reason(&self, pos: usize, expected: Expected) -> ErrorReason {
        let found = self.found(pos);
        ErrorReason::Expected { expected, found }
    }

    /// `src[start..end]`, for boundaries the scanners found.
    #[inline(always)]
    pub(crate) fn text(&self, start: usize, end: usize) -> &'a str {
        self.src.get(start..end).unwrap_or("")
    }

    /// Checks that `pos` holds the line feed ending the line (or, for Prometheus
    /// text in scrape mode, the end of the input, as Prometheus reads it).
    #[inline(always)]
    pub(crate) fn expect_line_end(&mut self, pos: usize) -> Result<(), ParseError> {
        match self.b.get(pos) {
            Some(b'\n') => Ok(()),
            None => self.missing_newline(pos),
            Some(_) => Err(self.expected(pos, Expected::LineEnd)),
        }
    }

    /// The input ends at `pos` without a final line feed.
    #[cold]
    pub(crate) fn missing_newline(&mut self, pos: usize) -> Result<(), ParseError> {
        match self.format {
            // Prometheus appends a line feed to what it scrapes.
            Format::Prometheus => self.tolerate(pos, ErrorReason::MissingNewline),
            Format::OpenMetrics => Err(self.err(pos, ErrorReason::MissingNewline)),
        }
    }

    /// The index just past the line feed ending the line at `pos`.
    pub(crate) fn skip_line(&mut self, pos: usize) -> Result<usize, ParseError> {
        match self
            .b
            .get(pos..)
            .and_then(|rest| rest.iter().position(|&c| c == b'\n'))
        {
            Some(offset) => Ok(pos + offset + 1),
            None => {
                self.missing_newline(self.b.len())?;
                Ok(self.b.len())
            }
        }
    }

    /// The number token starting at `start` (not at its end); returns the number and
    /// the token's end.
    #[inline(always)]
    pub(crate) fn number_token(
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
    pub(crate) fn at_token_end(&self, i: usize) -> bool {
        i >= self.b.len() || class(self.b, i) & TOKEN_END != 0
    }

    /// The number in `start..end`.
    pub(crate) fn number(
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
    pub(crate) fn number_error(
        &self,
        start: usize,
        end: usize,
        field: NumberField,
        e: NumError,
    ) -> ParseError {
        self.err(start, self.number_reason(start, end, field, e))
    }

    #[cold]
    fn number_reason(
        &self,
        start: usize,
        end: usize,
        field: NumberField,
        e: NumError,
    ) -> ErrorReason {
        let text = excerpt(self.text(start, end));
        match e {
            NumError::Invalid => ErrorReason::InvalidNumber { field, text },
            NumError::OutOfRange => ErrorReason::NumberOutOfRange { field, text },
        }
    }

    // --- Samples ---

    /// Notes where the point label of the sample about to be pushed is, if it is
    /// a histogram or summary sample that has one.
    #[inline(always)]
    pub(crate) fn note_point(&mut self, family: usize, labels: &ParsedLabels<'a>) {
        let pair = match self.families.get(family).map(|f| f.kind) {
            Some(MetricType::Histogram | MetricType::GaugeHistogram) => labels.le,
            Some(MetricType::Summary) => labels.quantile,
            _ => None,
        };
        if let Some(pair) = pair {
            let at = |offset: usize| offset.saturating_sub(labels.raw_start) as u32;
            self.hints.push(Hint {
                sample: self.samples.len() as u32,
                metric: labels.set.hash().wrapping_sub(pair.hash),
                start: at(pair.start),
                value: (at(pair.value.0), at(pair.value.1)),
            });
        }
    }

    /// Adds a sample whose line starts at `pos`, reserving room for the rest of the
    /// input at the rate seen so far, so that memory follows the input's shape
    /// instead of doubling.
    #[inline(always)]
    pub(crate) fn push_sample(&mut self, sample: Sample<'a>, pos: usize) {
        if self.samples.len() == self.samples.capacity() {
            self.reserve_samples(pos);
        }
        self.keys.push(series_key(&sample));
        self.samples.push(sample);
    }

    #[cold]
    #[inline(never)]
    fn reserve_samples(&mut self, pos: usize) {
        let more = estimate_more(self.samples.len(), pos, self.b.len());
        self.samples.reserve_exact(more);
        self.keys
            .reserve_exact(self.samples.capacity() - self.keys.len());
    }

    // --- Families ---

    /// The family being read: that of the last line. It is the last family opened,
    /// unless scrape mode went back to an earlier one.
    #[inline(always)]
    pub(crate) fn current(&self) -> Option<usize> {
        self.active
    }

    fn close_current(&mut self) {
        let end = self.samples.len();
        if let Some(family) = self.families.last_mut()
            && !self.regroup
        {
            family.samples.end = end;
        }
    }

    /// The family named `name`, if one was opened.
    fn find_family(&self, name: &str) -> Option<usize> {
        find_family(&self.family_index, &self.families, self.seed, name)
    }

    /// Opens a new family (the caller checked that its name is new) whose name is at
    /// `pos`.
    pub(crate) fn open_family(
        &mut self,
        name: &'a str,
        kind: MetricType,
        pos: usize,
    ) -> Result<usize, ParseError> {
        if self.format == Format::OpenMetrics && is_reserved_name(name) {
            self.tolerate(pos, ErrorReason::ReservedName(excerpt(name)))?;
        }
        self.close_current();
        self.last_sample = None;
        let index = self.families.len();
        let start = self.samples.len();
        if index == self.families.capacity() {
            let more = estimate_more(index, pos, self.b.len());
            self.families.reserve_exact(more);
            self.meta.reserve_exact(more);
        }
        self.families.push(MetricFamily {
            name,
            kind,
            help: None,
            unit: None,
            samples: start..start,
        });
        self.meta.push(Meta::default());
        let h = hash::name32(self.seed, name);
        self.family_index.push(h, index);
        self.active = Some(index);
        Ok(index)
    }

    /// Resolves the family of a sample named `name` at `pos`: the current family when
    /// the name fits it, else a new family, unless the name belongs to a family seen
    /// before. Returns the family and the suffix the sample name adds to it.
    #[inline(always)]
    pub(crate) fn sample_family(
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
        if let Some(meta) = self.meta.get_mut(family) {
            meta.has_samples = true;
        }
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
            if let Some(suffix) = sample_suffix(family.name, family.kind, name, self.format) {
                return Ok((current, suffix));
            }
            if name == family.name {
                let reason = self.misfit(current, name);
                self.tolerate(pos, reason)?;
                return Ok((current, ""));
            }
        }
        if let Some((index, suffix)) = self.earlier_family(name) {
            let family = self.families.get(index).map_or("", |f| f.name);
            self.tolerate(pos, ErrorReason::Interleaved(excerpt(family)))?;
            self.regroup = true;
            self.active = Some(index);
            return Ok((index, suffix.unwrap_or("")));
        }
        let kind = MetricType::untyped_in(self.format);
        Ok((self.open_family(name, kind, pos)?, ""))
    }

    #[cold]
    fn misfit(&self, index: usize, name: &str) -> ErrorReason {
        let (family, kind) = self
            .families
            .get(index)
            .map_or(("", MetricType::Unknown), |f| (f.name, f.kind));
        ErrorReason::InvalidSampleName {
            name: excerpt(name),
            family: excerpt(family),
            kind,
            suffixes: kind.sample_suffixes(self.format),
        }
    }

    /// The family opened before that a sample named `name` belongs to, and the
    /// suffix the name adds to it (`None`: the name is the family's own name, but
    /// its type gives its samples a suffix).
    fn earlier_family(&self, name: &str) -> Option<(usize, Option<&'static str>)> {
        if let Some(index) = self.find_family(name) {
            let family = self.families.get(index)?;
            return Some((
                index,
                sample_suffix(family.name, family.kind, name, self.format),
            ));
        }
        sample_name_splits(name).find_map(|(base, suffix)| {
            let index = self.find_family(base)?;
            let family = self.families.get(index)?;
            let fits = family.kind.sample_suffixes(self.format).contains(&suffix);
            fits.then_some((index, Some(suffix)))
        })
    }

    /// Resolves the family a metadata line for `name` at `pos` is about: the current
    /// one if it has that name, one seen before, or a new one. `None`: scrape mode
    /// ignores the line (a second line of the same kind: the first one counts).
    pub(crate) fn metadata_family(
        &mut self,
        keyword: Keyword,
        name: &'a str,
        pos: usize,
    ) -> Result<Option<usize>, ParseError> {
        let index = match self.current() {
            Some(current) if self.families.get(current).is_some_and(|f| f.name == name) => {
                Some(current)
            }
            _ => self.find_family(name),
        };
        let Some(index) = index else {
            let kind = MetricType::untyped_in(self.format);
            return self.open_family(name, kind, pos).map(Some);
        };
        let meta = self.meta.get(index).copied().unwrap_or_default();
        let family = excerpt(name);
        if meta.has(keyword) {
            self.tolerate(pos, ErrorReason::DuplicateMetadata { keyword, family })?;
            return Ok(None);
        }
        if meta.has_samples {
            self.tolerate(pos, ErrorReason::MetadataAfterSamples { keyword, family })?;
        } else if Some(index) != self.current() {
            self.tolerate(pos, ErrorReason::Interleaved(family))?;
        }
        if keyword == Keyword::Type || self.active != Some(index) {
            // The suffixes of the family's samples depend on its type, and the
            // next sample is resolved against the family this line is about.
            self.last_sample = None;
        }
        self.active = Some(index);
        Ok(Some(index))
    }
}

/// A sample's series key: its label-set hash and the key of its name.
#[inline(always)]
fn series_key(sample: &Sample<'_>) -> u32 {
    sample.labels.hash() ^ hash::name_key32(sample.name)
}

/// The family named `name` in `families`, found through `index` (their names
/// hashed with `seed`).
fn find_family(
    index: &IndexTable,
    families: &[MetricFamily<'_>],
    seed: u64,
    name: &str,
) -> Option<usize> {
    let h = hash::name32(seed, name);
    let at = index.find(h, |i| families.get(i).is_some_and(|f| f.name == name))?;
    Some(index.index(at))
}

/// How many lines an input of this size probably has, from the lines of its first
/// 64 KB (8 bytes at a time): a vector of samples sized so rarely grows.
fn expected_lines(b: &[u8]) -> usize {
    const SAMPLE: usize = 64 * 1024;
    let head = b.get(..SAMPLE).unwrap_or(b);
    let mut lines = 0usize;
    let mut words = head.chunks_exact(8);
    for word in &mut words {
        let x = <[u8; 8]>::try_from(word).map_or(0, u64::from_le_bytes);
        lines += count_line_feeds(x);
    }
    lines += words.remainder().iter().filter(|&&c| c == b'\n').count();
    if head.is_empty() {
        return 0;
    }
    let estimate = (lines as u128 * b.len() as u128 / head.len() as u128) as usize;
    estimate + estimate / 32 + 16
}

/// The line feeds in the 8 bytes of `x`.
#[inline(always)]
fn count_line_feeds(x: u64) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = ONES << 7;
    // Exact per byte: a zero byte of `y` is a line feed of `x`.
    let y = x ^ (ONES * u64::from(b'\n'));
    let nonzero = ((y & !HIGHS) + !HIGHS) | y;
    (!nonzero & HIGHS).count_ones() as usize
}

/// How many more items to reserve when `len` items came from the first `consumed`
/// bytes of a `total`-byte input: the rest at the same rate, and a little more.
fn estimate_more(len: usize, consumed: usize, total: usize) -> usize {
    let rest = total.saturating_sub(consumed);
    let more = if consumed == 0 || len == 0 {
        16
    } else {
        (len as u128 * rest as u128 / consumed as u128) as usize
    };
    (more + more / 16).clamp(16, total / 2 + 16)
}
