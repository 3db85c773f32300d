//! Label sets, kept as the text the parser validated and decoded on access.

use std::borrow::Cow;
use std::fmt;

use crate::number::{NumError, parse_f64};
use crate::scan::{Special, find_special, scan_label_name};

/// The labels of a sample or exemplar: the text between `{` and `}`, validated by the
/// parser and decoded when iterated, so that parsing allocates nothing per sample.
///
/// Iteration yields `(name, value)` in written order; a value is borrowed from the
/// input unless it holds escapes. A quoted label name (`"service.name"="api"`, read
/// in [`Mode::Scrape`](crate::Mode::Scrape)) is yielded without its quotes; a quoted
/// metric name written inside the braces (`{"my.metric", a="b"}`) is the sample's
/// name, not part of its label set.
#[derive(Clone, Copy, Default)]
pub struct LabelSet<'a> {
    raw: &'a str,
    len: u32,
    /// The order-independent hash of the labels, with the parse's seed (see
    /// `hash.rs`); it shares the padding after `len`, so it costs no memory.
    hash: u32,
}

impl<'a> LabelSet<'a> {
    /// `raw` must be a label list the parser has validated, holding `len` labels
    /// whose pair hashes sum to `hash`.
    pub(crate) fn new(raw: &'a str, len: u32, hash: u32) -> Self {
        Self { raw, len, hash }
    }

    /// The number of labels.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// `true` for `{}` or no braces at all.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The labels, in written order.
    pub fn iter(&self) -> Labels<'a> {
        Labels {
            rest: self.raw,
            left: self.len,
            offset: 0,
        }
    }

    /// The value of the label `name`.
    pub fn get(&self, name: &str) -> Option<Cow<'a, str>> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// The text between the braces, as written (escaped; after the metric name and
    /// its comma when the name is written inside the braces).
    pub fn as_raw(&self) -> &'a str {
        self.raw
    }

    /// The labels, collected.
    pub fn to_vec(&self) -> Vec<(&'a str, Cow<'a, str>)> {
        self.iter().collect()
    }

    /// The pair named `name`, as written.
    pub(crate) fn find_raw(&self, name: &str) -> Option<RawPair<'a>> {
        // Writers put `le` and `quantile` last: look there first.
        if let Some(pair) = self.last_raw().filter(|p| p.name == name) {
            return Some(pair);
        }
        let mut labels = self.iter();
        while let Some(pair) = labels.next_raw() {
            if pair.name == name {
                return Some(pair);
            }
        }
        None
    }

    /// The last pair, read backwards when that is unambiguous (no backslash near
    /// its quotes); `None` otherwise.
    fn last_raw(&self) -> Option<RawPair<'a>> {
        let raw = self.raw;
        let b = raw.as_bytes();
        let mut end = b.len();
        while matches!(b.get(end.checked_sub(1)?), Some(b' ' | b'\t' | b',')) {
            end -= 1;
        }
        // The closing quote of the last value, then its opening quote.
        (b.get(end.checked_sub(1)?) == Some(&b'"')).then_some(())?;
        let close = end - 1;
        let mut open = close;
        loop {
            open = open.checked_sub(1)?;
            match b.get(open)? {
                b'"' => break,
                b'\\' => return None,
                _ => {}
            }
        }
        if b.get(open.checked_sub(1)?) == Some(&b'\\') {
            return None;
        }
        let value = raw.get(open + 1..close)?;
        let mut i = open;
        while matches!(b.get(i.checked_sub(1)?), Some(b' ' | b'\t')) {
            i -= 1;
        }
        (b.get(i.checked_sub(1)?) == Some(&b'=')).then_some(())?;
        i -= 1;
        while matches!(b.get(i.checked_sub(1)?), Some(b' ' | b'\t')) {
            i -= 1;
        }
        let name_end = i;
        // A plain name (a quoted one takes the forward walk).
        while b
            .get(i.wrapping_sub(1))
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            i -= 1;
        }
        if i == name_end || !(i == 0 || matches!(b.get(i - 1), Some(b' ' | b'\t' | b','))) {
            return None;
        }
        Some(RawPair {
            name: raw.get(i..name_end)?,
            value,
            escaped: false,
            span: (i, close + 1),
        })
    }

    /// The order-independent hash of the set.
    pub(crate) fn hash(&self) -> u32 {
        self.hash
    }

    /// Whether both sets identify the same series: the same labels in any order,
    /// a label with an empty value counting as absent (as Prometheus and
    /// OpenMetrics have it), the label `except` left out of both.
    ///
    /// Linear when both list their names in one order (the usual case), else
    /// `O(n log n)`: a hostile set of 100,000 labels costs no more than its size.
    pub(crate) fn same_labels_except(&self, other: &LabelSet<'_>, except: Option<&str>) -> bool {
        if self.raw == other.raw {
            return true;
        }
        let counted = |(n, v): &(&str, Cow<'_, str>)| !v.is_empty() && Some(*n) != except;
        let (mut mine, mut theirs) = (self.iter().filter(counted), other.iter().filter(counted));
        loop {
            match (mine.next(), theirs.next()) {
                (None, None) => return true,
                (Some((a, x)), Some((b, y))) if a == b => {
                    if x != y {
                        return false;
                    }
                }
                (Some(_), Some(_)) => break,
                // One has more labels than the other.
                _ => return false,
            }
        }
        // Another order: compare sorted lists.
        let mut a: Vec<_> = self.iter().filter(counted).collect();
        let mut b: Vec<_> = other.iter().filter(counted).collect();
        a.sort_unstable_by(|x, y| x.0.cmp(y.0));
        b.sort_unstable_by(|x, y| x.0.cmp(y.0));
        a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x.0 == y.0 && x.1 == y.1)
    }
}

impl LabelSet<'_> {
    /// Whether both sets identify the same series (see
    /// [`same_labels_except`](Self::same_labels_except)).
    pub(crate) fn same_series(&self, other: &LabelSet<'_>) -> bool {
        self.same_labels_except(other, None)
    }
}

impl fmt::Debug for LabelSet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Equal when they hold the same labels in the same order, however written.
impl PartialEq for LabelSet<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl<'a> IntoIterator for LabelSet<'a> {
    type Item = (&'a str, Cow<'a, str>);
    type IntoIter = Labels<'a>;
    fn into_iter(self) -> Labels<'a> {
        self.iter()
    }
}

impl<'a> IntoIterator for &LabelSet<'a> {
    type Item = (&'a str, Cow<'a, str>);
    type IntoIter = Labels<'a>;
    fn into_iter(self) -> Labels<'a> {
        self.iter()
    }
}

/// Iterator over the `(name, value)` pairs of a [`LabelSet`].
#[derive(Debug, Clone)]
pub struct Labels<'a> {
    rest: &'a str,
    left: u32,
    /// Where `rest` starts in the set's raw text.
    offset: usize,
}

/// The index of the `"` closing the quoted text that starts at `i` (after its
/// opening quote), skipping escaped characters.
pub(crate) fn closing_quote(b: &[u8], i: usize) -> Option<usize> {
    closing_quote_escaped(b, i).map(|(end, _)| end)
}

/// [`closing_quote`], and whether the text holds an escape; 8 bytes at a time.
fn closing_quote_escaped(b: &[u8], mut i: usize) -> Option<(usize, bool)> {
    let mut escaped = false;
    loop {
        match find_special(b, i) {
            Special::Quote(end) => return Some((end, escaped)),
            Special::Other(at) | Special::Tail(at) => i = at,
        }
        // A backslash, a line feed (in validated text, only in Prometheus text read
        // in scrape mode), or the last bytes.
        match b.get(i)? {
            b'"' => return Some((i, escaped)),
            b'\\' => {
                escaped = true;
                i += 2;
            }
            _ => i += 1,
        }
    }
}

/// One `name="value"` of a label set, as written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawPair<'a> {
    /// The name, without quotes.
    pub(crate) name: &'a str,
    /// The value, escaped as written.
    pub(crate) value: &'a str,
    /// Whether `value` holds an escape.
    pub(crate) escaped: bool,
    /// Where the pair starts and ends (just past the value's closing quote) in
    /// [`LabelSet::as_raw`].
    pub(crate) span: (usize, usize),
}

impl RawPair<'_> {
    /// The value, decoded.
    pub(crate) fn decoded(&self) -> Cow<'_, str> {
        if self.escaped {
            unescape(self.value)
        } else {
            Cow::Borrowed(self.value)
        }
    }
}

impl<'a> Labels<'a> {
    /// The next pair, as written.
    pub(crate) fn next_raw(&mut self) -> Option<RawPair<'a>> {
        if self.left == 0 {
            return None;
        }
        let text = self.rest;
        let b = text.as_bytes();
        // The text was validated; any surprise just ends the iteration.
        let mut i = 0;
        while matches!(b.get(i), Some(b' ' | b'\t' | b',')) {
            i += 1;
        }
        let start = i;
        let name = if b.get(i) == Some(&b'"') {
            // A quoted name holds no escapes: the parser leaves such samples out.
            let end = closing_quote(b, i + 1)?;
            let name = text.get(i + 1..end)?;
            i = end + 1;
            name
        } else {
            i = scan_label_name(b, i);
            text.get(start..i)?
        };
        while matches!(b.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        (b.get(i) == Some(&b'=')).then_some(())?;
        i += 1;
        while matches!(b.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        (b.get(i) == Some(&b'"')).then_some(())?;
        let value_start = i + 1;
        let (value_end, escaped) = closing_quote_escaped(b, value_start)?;
        let value = text.get(value_start..value_end)?;
        self.rest = text.get(value_end + 1..).unwrap_or("");
        self.left -= 1;
        let offset = self.offset;
        self.offset += value_end + 1;
        Some(RawPair {
            name,
            value,
            escaped,
            span: (offset + start, offset + value_end + 1),
        })
    }
}

impl<'a> Iterator for Labels<'a> {
    type Item = (&'a str, Cow<'a, str>);

    fn next(&mut self) -> Option<Self::Item> {
        let pair = self.next_raw()?;
        let value = if pair.escaped {
            unescape(pair.value)
        } else {
            Cow::Borrowed(pair.value)
        };
        Some((pair.name, value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.left as usize))
    }
}

/// Decodes an escaped label value, or an OpenMetrics HELP text: `\\`, `\"` and
/// `\n`; a backslash before any other character stands for itself (OpenMetrics,
/// and Prometheus text in scrape mode; strict Prometheus text was validated to
/// hold no such escape).
pub(crate) fn unescape(raw: &str) -> Cow<'_, str> {
    decode(raw, true)
}

/// Decodes a Prometheus 0.0.4 HELP text: `\\` and `\n`; a backslash before any
/// other character, `"` included, stands for itself, as Prometheus reads it.
pub(crate) fn unescape_prometheus_help(raw: &str) -> Cow<'_, str> {
    decode(raw, false)
}

/// Decodes `\\`, `\n`, and `\"` when `quote`; a backslash before any other
/// character stands for itself.
fn decode(raw: &str, quote: bool) -> Cow<'_, str> {
    let Some(first) = raw.find('\\') else {
        return Cow::Borrowed(raw);
    };
    let mut out = String::with_capacity(raw.len());
    let (head, mut rest) = raw.split_at(first);
    out.push_str(head);
    loop {
        // `rest` starts with a backslash.
        let mut chars = rest.chars();
        chars.next();
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('\\') => out.push('\\'),
            Some('"') if quote => out.push('"'),
            Some(c) => {
                out.push('\\');
                out.push(c);
            }
            None => out.push('\\'),
        }
        rest = chars.as_str();
        match rest.find('\\') {
            Some(next) => {
                let (plain, tail) = rest.split_at(next);
                out.push_str(plain);
                rest = tail;
            }
            None => {
                out.push_str(rest);
                return Cow::Owned(out);
            }
        }
    }
}

/// The number a label value (`le`, `quantile`) holds.
pub(crate) fn label_number(raw: &str) -> Result<f64, NumError> {
    // A number holds no backslash: only unescape when the raw text fails.
    parse_f64(raw, true).or_else(|e| match unescape(raw) {
        Cow::Owned(value) => parse_f64(&value, true),
        Cow::Borrowed(_) => Err(e),
    })
}
