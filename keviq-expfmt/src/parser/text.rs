//! What both grammars read between quotes and braces: label sets (quoted names
//! included), label values and their escapes, and HELP texts.

use std::borrow::Cow;

use keviq_model::{Format, is_reserved_name};

use super::Parser;
use crate::error::{ErrorReason, Expected, Found, ParseError, Place, excerpt};
use crate::hash;
use crate::labels::{LabelSet, closing_quote, unescape, unescape_prometheus_help};
use crate::scan::{
    HELP_END, Special, VALUE_END, class, find_special, same, scan_label_name, skip_blanks,
    skip_plain_text,
};

/// A label set as parsed, with the values the sample checks need.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ParsedLabels<'a> {
    pub(crate) set: LabelSet<'a>,
    /// Just past the closing `}`.
    pub(crate) end: usize,
    /// Where the `le` label is.
    pub(crate) le: Option<PairAt>,
    /// Where the `quantile` label is.
    pub(crate) quantile: Option<PairAt>,
    /// Where the raw text of [`ParsedLabels::set`] starts.
    pub(crate) raw_start: usize,
    /// Byte range of a quoted metric name written inside the braces.
    pub(crate) name: Option<(usize, usize)>,
    /// Byte offset of a quoted name holding an escape, if any.
    pub(crate) escaped_name: Option<usize>,
}

/// Where a label sits in the input, and its part of the set's hash.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PairAt {
    /// The start of its name.
    pub(crate) start: usize,
    /// Its value's range.
    pub(crate) value: (usize, usize),
    /// What it adds to the set's hash.
    pub(crate) hash: u32,
}

/// Label sets up to this size are checked for duplicates by linear search.
const LINEAR_DUPLICATE_CHECK: usize = 16;

impl<'a> Parser<'a> {
    /// Parses the label set whose `{` is at `open`. Prometheus allows blanks around
    /// tokens and a trailing comma; OpenMetrics neither. With `allow_name`, a quoted
    /// string first in the braces and followed by `,` or `}` is the metric name.
    pub(crate) fn labels(
        &mut self,
        open: usize,
        allow_name: bool,
    ) -> Result<ParsedLabels<'a>, ParseError> {
        let b = self.b;
        let blanks = self.format == Format::Prometheus;
        let mut out = ParsedLabels::default();
        let mut i = open + 1;
        let mut raw_start = i;
        let mut count = 0u32;
        let mut hash = 0u32;
        let mut after_comma = false;
        self.names.clear();
        loop {
            if blanks {
                i = skip_blanks(b, i);
            }
            if b.get(i) == Some(&b'}') {
                if after_comma && !blanks {
                    let reason = self.expected_reason(i, Expected::LabelName);
                    self.tolerate(i, reason)?;
                }
                break;
            }
            let name_pos = i;
            let (name_start, name_end) = if b.get(i) == Some(&b'"') {
                let (end, escaped) = self.quoted(i)?;
                if escaped {
                    out.escaped_name.get_or_insert(i);
                }
                i = end + 1;
                (name_pos + 1, end)
            } else {
                let end = scan_label_name(b, i);
                if end == i {
                    return Err(self.expected(i, Expected::LabelName));
                }
                i = end;
                (name_pos, end)
            };
            if blanks {
                i = skip_blanks(b, i);
            }
            if name_start != name_pos {
                self.quoted_name(name_pos, name_start, name_end)?;
                if allow_name
                    && count == 0
                    && out.name.is_none()
                    && matches!(b.get(i), Some(b',' | b'}'))
                {
                    out.name = Some((name_start, name_end));
                    if b.get(i) == Some(&b',') {
                        i += 1;
                        after_comma = true;
                    }
                    raw_start = i;
                    continue;
                }
            }
            let name = b.get(name_start..name_end).unwrap_or(&[]);
            self.check_label_name(name, name_start)?;
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
            let (value_end, escaped) = self.label_value(value_start)?;
            let value = b.get(value_start..value_end).unwrap_or(&[]);
            // An empty value identifies no series: it hashes like an absent label.
            let pair_hash = if value.is_empty() {
                0
            } else {
                let name_hash = hash::bytes(self.seed, name);
                let value_hash = if escaped {
                    hash::escaped(name_hash, value)
                } else {
                    hash::bytes(name_hash, value)
                };
                hash::label(value_hash)
            };
            hash = hash.wrapping_add(pair_hash);
            let at = || PairAt {
                start: name_pos,
                value: (value_start, value_end),
                hash: pair_hash,
            };
            match name.len() {
                2 if same(name, b"le") => out.le = Some(at()),
                8 if same(name, b"quantile") => out.quantile = Some(at()),
                _ => {}
            }
            count = count.saturating_add(1);
            i = value_end + 1;
            if blanks {
                i = skip_blanks(b, i);
            }
            match b.get(i) {
                Some(b',') => {
                    i += 1;
                    after_comma = true;
                }
                Some(b'}') => break,
                // Prometheus reads the next label without a comma before it.
                Some(&c) if blanks && (c == b'"' || c == b'_' || c.is_ascii_alphabetic()) => {
                    self.tolerate(i, ErrorReason::MissingComma)?;
                }
                _ => return Err(self.expected(i, Expected::CommaOrBrace)),
            }
        }
        out.set = LabelSet::new(self.text(raw_start, i), count, hash);
        out.raw_start = raw_start;
        out.end = i + 1;
        Ok(out)
    }

    /// A quoted metric or label name at `pos`: an error in strict mode; in scrape
    /// mode, one finding for the whole exposition.
    #[cold]
    fn quoted_name(&mut self, pos: usize, start: usize, end: usize) -> Result<(), ParseError> {
        if self.findings.strict() || !self.findings.quoted_noted {
            self.findings.quoted_noted = true;
            let name = excerpt(self.text(start, end));
            self.tolerate(pos, ErrorReason::QuotedName(name))?;
        }
        Ok(())
    }

    /// Scans the quoted name whose opening `"` is at `open`; returns the index of the
    /// closing `"` and whether the name holds an escape.
    pub(crate) fn quoted(&mut self, open: usize) -> Result<(usize, bool), ParseError> {
        let (end, escaped) = self.label_value(open + 1)?;
        if end == open + 1 {
            // `escaped-string-non-empty`.
            return Err(self.expected(end, Expected::LabelName));
        }
        Ok((end, escaped))
    }

    /// A quoted name with an escape, its opening `"` at `open`: in scrape mode the
    /// sample (or metadata line, or exemplar) is left out.
    #[cold]
    pub(crate) fn escaped_name(&mut self, open: usize) -> Result<(), ParseError> {
        let end = closing_quote(self.b, open + 1).unwrap_or(open + 1);
        let name = excerpt(self.text(open + 1, end));
        self.tolerate(open, ErrorReason::EscapedName(name))
    }

    /// The quoted name of a metadata line, from its `"` at `open` to the `"` at `end`.
    #[cold]
    pub(crate) fn quoted_metadata_name(
        &mut self,
        open: usize,
        end: usize,
    ) -> Result<(), ParseError> {
        self.quoted_name(open, open + 1, end)
    }

    #[inline]
    fn check_label_name(&mut self, name: &'a [u8], pos: usize) -> Result<(), ParseError> {
        if name.first() == Some(&b'_') {
            self.reserved_label(name, pos)?;
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
            let name = excerpt(&String::from_utf8_lossy(name));
            return Err(self.err(pos, ErrorReason::DuplicateLabel(name)));
        }
        Ok(())
    }

    /// `__name__` is reserved in both formats, any `__` name in OpenMetrics.
    #[cold]
    fn reserved_label(&mut self, name: &[u8], pos: usize) -> Result<(), ParseError> {
        let text = String::from_utf8_lossy(name);
        if same(name, b"__name__") {
            return Err(self.err(pos, ErrorReason::ReservedLabel(excerpt(&text))));
        }
        if self.format == Format::OpenMetrics && is_reserved_name(&text) {
            self.tolerate(pos, ErrorReason::ReservedLabel(excerpt(&text)))?;
        }
        Ok(())
    }

    /// Scans the label value starting at `start` (after its `"`), checking escapes;
    /// returns the index of the closing `"` and whether the value holds an escape.
    #[inline(always)]
    fn label_value(&mut self, start: usize) -> Result<(usize, bool), ParseError> {
        let b = self.b;
        let mut i = start;
        let mut escaped = false;
        // Whether a line feed was met and a closing quote is known to follow.
        let mut closed = false;
        loop {
            match find_special(b, i) {
                Special::Quote(end) => return Ok((end, escaped)),
                Special::Other(at) => i = at,
                Special::Tail(at) => {
                    i = at;
                    while i < b.len() && class(b, i) & VALUE_END == 0 {
                        i += 1;
                    }
                }
            }
            match b.get(i) {
                Some(b'"') => return Ok((i, escaped)),
                Some(b'\\') if i + 1 < b.len() => {
                    self.check_escape(i, Place::LabelValue)?;
                    escaped = true;
                    i += 2;
                }
                Some(b'\n') if self.format == Format::Prometheus => {
                    if !closed {
                        self.line_feed_in_quotes(start - 1, i)?;
                        closed = true;
                    }
                    i += 1;
                }
                _ => {
                    return Err(self.err(start - 1, ErrorReason::UnterminatedLabelValue));
                }
            }
        }
    }

    /// A line feed at `pos` inside the Prometheus quoted text opened at `open`:
    /// Prometheus reads on to the closing quote (scrape mode too, with a finding),
    /// unless there is none.
    #[cold]
    #[inline(never)]
    fn line_feed_in_quotes(&mut self, open: usize, pos: usize) -> Result<(), ParseError> {
        if closing_quote(self.b, pos + 1).is_none() {
            return Err(self.err(open, ErrorReason::UnterminatedLabelValue));
        }
        self.tolerate(pos, ErrorReason::LineFeedInQuotes)
    }

    /// Checks the escape whose backslash is at `pos`.
    #[inline]
    fn check_escape(&mut self, pos: usize, place: Place) -> Result<(), ParseError> {
        match self.b.get(pos + 1) {
            Some(b'\\' | b'n') => Ok(()),
            // Prometheus text escapes no `"` in HELP texts.
            Some(b'"') if place == Place::LabelValue || self.format == Format::OpenMetrics => {
                Ok(())
            }
            // (Label values check for this before.)
            None => Err(self.err(pos + 1, ErrorReason::MissingNewline)),
            // OpenMetrics: a backslash before any other character stands for itself.
            Some(c) if *c != b'\n' && self.format == Format::OpenMetrics => Ok(()),
            Some(c) => {
                let newline = *c == b'\n';
                let escape = match self.found(pos + 1) {
                    Found::Char(c) => c,
                    _ => '\n',
                };
                let reason = ErrorReason::InvalidEscape { escape, place };
                if newline {
                    return Err(self.err(pos, reason));
                }
                // Prometheus reads any escape, and keeps it as written.
                self.tolerate(pos, reason)
            }
        }
    }

    /// Reads the HELP text starting at `start`, up to the line feed; returns it
    /// unescaped and the index of the line feed.
    pub(crate) fn help_text(&mut self, start: usize) -> Result<(Cow<'a, str>, usize), ParseError> {
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
                None => {
                    self.missing_newline(i)?;
                    break;
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
        let help = match (escaped, self.format) {
            (false, _) => Cow::Borrowed(raw),
            (true, Format::Prometheus) => unescape_prometheus_help(raw),
            (true, Format::OpenMetrics) => unescape(raw),
        };
        Ok((help, i))
    }

    /// Checks that a histogram bucket has an `le` label (its number, and a
    /// summary's `quantile`, are read by the checks after reading, which need them).
    #[inline]
    pub(crate) fn check_special_labels(
        &mut self,
        family: usize,
        suffix: &str,
        labels: &ParsedLabels<'a>,
        name_pos: usize,
    ) -> Result<(), ParseError> {
        let Some(kind) = self.families.get(family).map(|f| f.kind) else {
            return Ok(());
        };
        if kind.has_buckets() && same(suffix.as_bytes(), b"_bucket") && labels.le.is_none() {
            return self.tolerate(name_pos, ErrorReason::MissingLe);
        }
        Ok(())
    }
}
