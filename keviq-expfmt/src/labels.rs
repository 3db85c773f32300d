//! Label sets, kept as the text the parser validated and decoded on access.

use std::borrow::Cow;
use std::fmt;

/// The labels of a sample or exemplar: the text between `{` and `}`, validated by the
/// parser and decoded when iterated, so that parsing allocates nothing per sample.
///
/// Iteration yields `(name, value)` in written order; a value is borrowed from the
/// input unless it holds escapes.
#[derive(Clone, Copy, Default)]
pub struct LabelSet<'a> {
    raw: &'a str,
    len: u32,
}

impl<'a> LabelSet<'a> {
    /// `raw` must be a label list the parser has validated, holding `len` labels.
    pub(super) fn new(raw: &'a str, len: u32) -> Self {
        Self { raw, len }
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
        }
    }

    /// The value of the label `name`.
    pub fn get(&self, name: &str) -> Option<Cow<'a, str>> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// The text between the braces, as written (escaped).
    pub fn as_raw(&self) -> &'a str {
        self.raw
    }

    /// The labels, collected.
    pub fn to_vec(&self) -> Vec<(&'a str, Cow<'a, str>)> {
        self.iter().collect()
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
}

impl<'a> Iterator for Labels<'a> {
    type Item = (&'a str, Cow<'a, str>);

    fn next(&mut self) -> Option<Self::Item> {
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
        let name_start = i;
        while b
            .get(i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            i += 1;
        }
        let name = text.get(name_start..i)?;
        while matches!(b.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        (b.get(i) == Some(&b'=')).then_some(())?;
        i += 1;
        while matches!(b.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        (b.get(i) == Some(&b'"')).then_some(())?;
        i += 1;
        let value_start = i;
        let mut escaped = false;
        loop {
            match b.get(i)? {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    i += 2;
                }
                _ => i += 1,
            }
        }
        let raw = text.get(value_start..i)?;
        self.rest = text.get(i + 1..).unwrap_or("");
        self.left -= 1;
        Some((
            name,
            if escaped {
                unescape(raw)
            } else {
                Cow::Borrowed(raw)
            },
        ))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.left as usize))
    }
}

/// Decodes an escaped label value or HELP text: `\\`, `\"` and `\n`; a backslash
/// before any other character stands for itself (OpenMetrics; Prometheus text was
/// validated to hold no such escape).
pub(super) fn unescape(raw: &str) -> Cow<'_, str> {
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
            Some('"') => out.push('"'),
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
