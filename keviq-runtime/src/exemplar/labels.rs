//! [`ExemplarLabels`]: a checked label set in a fixed inline buffer, so that
//! recording it copies bytes and never allocates.

use std::fmt;

use keviq_model::{MetricType, RuleError, check_label_name};

/// Labels at most.
const MAX_LABELS: usize = 8;
/// Bytes of names and values at most.
const MAX_BYTES: usize = 128;
/// Where the text starts in the packed form: byte 0 holds the label count, bytes
/// `1 + 2i` and `2 + 2i` the lengths of label `i`'s name and value, the rest of the
/// first three words is zero.
const TEXT: usize = 24;
/// The packed form's size: three header words and the text.
pub(super) const PACKED: usize = TEXT + MAX_BYTES;
/// The packed form in `u64` words, as an exemplar slot stores it.
pub(super) const WORDS: usize = PACKED / 8;

/// The label set of an exemplar: checked once when built, then recorded by copying.
///
/// OpenMetrics 1.0 limits an exemplar's label set to 128 UTF-8 characters, names
/// and values together. keviq stores the set inline in 128 bytes, so the budget it
/// checks is 128 *bytes*: exactly the specification's 128 characters for ASCII text
/// (request IDs, trace IDs), and fewer characters for text with multi-byte ones. A
/// set over budget is refused with [`ExemplarError::TooLong`], never cut silently
/// (Prometheus drops over-long exemplars without a word).
///
/// Label names follow the Prometheus grammar (`[a-zA-Z_][a-zA-Z0-9_]*`, not starting
/// with `__`), each at most once; a set holds at most 8 labels.
///
/// ```
/// use keviq_runtime::{ExemplarError, ExemplarLabels};
///
/// let labels = ExemplarLabels::new([("request_id", "abc-123"), ("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736")])?;
/// assert_eq!(labels.get("request_id"), Some("abc-123"));
/// assert_eq!(labels.chars(), 57);
///
/// let long = "x".repeat(120);
/// assert!(matches!(
///     ExemplarLabels::new([("request_id", long.as_str())]),
///     Err(ExemplarError::TooLong { bytes: 130, chars: 130 })
/// ));
/// # Ok::<(), ExemplarError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ExemplarLabels {
    packed: [u8; PACKED],
}

/// Why an exemplar's label set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExemplarError {
    /// Names and values together are over the budget of
    /// [`ExemplarLabels::MAX_BYTES`].
    #[error(
        "exemplar labels take {bytes} bytes ({chars} characters) of names and values; \
         at most 128 fit (OpenMetrics allows 128 characters, keviq stores 128 bytes)"
    )]
    TooLong {
        /// Bytes of names and values, with the refused label.
        bytes: usize,
        /// Characters of names and values, with the refused label.
        chars: usize,
    },
    /// A label name breaks the Prometheus grammar.
    #[error("`{name}` is not a valid exemplar label name: {reason}")]
    InvalidName {
        /// The name, as given.
        name: String,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// A label name appears twice.
    #[error("exemplar label `{0}` is given twice")]
    DuplicateName(String),
    /// More than [`ExemplarLabels::MAX_LABELS`] labels.
    #[error("an exemplar holds at most 8 labels")]
    TooManyLabels,
}

impl ExemplarLabels {
    /// The OpenMetrics budget: characters of names and values together.
    pub const MAX_CHARS: usize = 128;
    /// keviq's budget: bytes of names and values together (see the type's docs).
    pub const MAX_BYTES: usize = MAX_BYTES;
    /// Labels in one set at most.
    pub const MAX_LABELS: usize = MAX_LABELS;

    /// The empty set (`# {}` in OpenMetrics).
    pub const fn empty() -> Self {
        Self {
            packed: [0; PACKED],
        }
    }

    /// A set of `(name, value)` labels.
    ///
    /// # Errors
    /// The first label that does not fit or is not valid; see [`push`](Self::push).
    pub fn new<'a>(
        labels: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, ExemplarError> {
        let mut set = Self::empty();
        for (name, value) in labels {
            set.push(name, value)?;
        }
        Ok(set)
    }

    /// Adds a label; on error the set is left as it was.
    ///
    /// # Errors
    /// [`ExemplarError::InvalidName`], [`ExemplarError::DuplicateName`],
    /// [`ExemplarError::TooManyLabels`], or [`ExemplarError::TooLong`] when the label
    /// would take the set over [`MAX_BYTES`](Self::MAX_BYTES).
    pub fn push(&mut self, name: &str, value: &str) -> Result<(), ExemplarError> {
        check_name(name)?;
        if self.iter().any(|(n, _)| n == name) {
            return Err(ExemplarError::DuplicateName(name.to_owned()));
        }
        self.append(name, value)
    }

    /// Adds a label whose name is one of keviq's own (`request_id`, `trace_id`),
    /// valid and not yet in the set, so only the count and the budget are checked:
    /// what the HTTP layer does on every request.
    #[cfg(feature = "service")]
    pub(crate) fn push_known(
        &mut self,
        name: &'static str,
        value: &str,
    ) -> Result<(), ExemplarError> {
        debug_assert!(check_name(name).is_ok() && self.get(name).is_none());
        self.append(name, value)
    }

    /// Appends a label after the name checks.
    fn append(&mut self, name: &str, value: &str) -> Result<(), ExemplarError> {
        let count = self.len();
        if count == MAX_LABELS {
            return Err(ExemplarError::TooManyLabels);
        }
        let start = self.text_len();
        let bytes = start + name.len() + value.len();
        if bytes > MAX_BYTES {
            return Err(ExemplarError::TooLong {
                bytes,
                chars: self.chars() + name.chars().count() + value.chars().count(),
            });
        }
        // Both lengths are at most `MAX_BYTES`, which fits a byte.
        self.packed[1 + 2 * count] = name.len() as u8;
        self.packed[2 + 2 * count] = value.len() as u8;
        let text = TEXT + start;
        self.packed[text..text + name.len()].copy_from_slice(name.as_bytes());
        self.packed[text + name.len()..TEXT + bytes].copy_from_slice(value.as_bytes());
        self.packed[0] = count as u8 + 1;
        Ok(())
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        usize::from(self.packed[0])
    }

    /// `true` for the empty set.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of names and values, what [`MAX_BYTES`](Self::MAX_BYTES) bounds.
    pub fn text_len(&self) -> usize {
        let lengths = self.packed.get(1..1 + 2 * self.len()).unwrap_or_default();
        lengths.iter().map(|&l| usize::from(l)).sum()
    }

    /// Characters of names and values, what OpenMetrics'
    /// [`MAX_CHARS`](Self::MAX_CHARS) bounds.
    pub fn chars(&self) -> usize {
        self.iter()
            .map(|(n, v)| n.chars().count() + v.chars().count())
            .sum()
    }

    /// The labels, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        let mut at = TEXT;
        (0..self.len()).map_while(move |i| {
            let name_len = usize::from(*self.packed.get(1 + 2 * i)?);
            let value_len = usize::from(*self.packed.get(2 + 2 * i)?);
            let name = self.packed.get(at..at + name_len)?;
            let value = self.packed.get(at + name_len..at + name_len + value_len)?;
            at += name_len + value_len;
            Some((
                std::str::from_utf8(name).ok()?,
                std::str::from_utf8(value).ok()?,
            ))
        })
    }

    /// The value of label `name`, if the set has it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Word `i` of the packed form.
    #[inline(always)]
    pub(super) fn word(&self, i: usize) -> u64 {
        let mut bytes = [0u8; 8];
        if let Some(chunk) = self.packed.get(8 * i..8 * i + 8) {
            bytes.copy_from_slice(chunk);
        }
        u64::from_ne_bytes(bytes)
    }

    /// How many words of the packed form hold the set (the rest is zero): what a
    /// slot copies.
    #[inline(always)]
    pub(super) fn words_used(&self) -> usize {
        (TEXT + self.text_len()).div_ceil(8)
    }

    /// The set whose packed form starts with `words` (the words after
    /// [`words_used`](Self::words_used) may hold anything), if it is one
    /// [`push`](Self::push) can build: a slot only ever stores those, but this never
    /// trusts it blindly.
    pub(super) fn from_words(words: &[u64; WORDS]) -> Option<Self> {
        let mut packed = [0u8; PACKED];
        for (chunk, word) in packed.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&word.to_ne_bytes());
        }
        let mut set = Self { packed };
        let count = set.len();
        if count > MAX_LABELS {
            return None;
        }
        let text_len = set.text_len();
        if text_len > MAX_BYTES {
            return None;
        }
        // Whatever a longer set left behind in the slot.
        set.packed[1 + 2 * count..TEXT].fill(0);
        set.packed[TEXT + text_len..].fill(0);
        (set.iter().count() == count).then_some(set)
    }
}

impl Default for ExemplarLabels {
    fn default() -> Self {
        Self::empty()
    }
}

impl fmt::Debug for ExemplarLabels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// The Prometheus label grammar, from `keviq_model`. The checks it adds for declared
/// labels do not apply to exemplars: `le` and `quantile` are reserved only among a
/// series' labels, and `traceID` is the name some tracing backends expect.
fn check_name(name: &str) -> Result<(), ExemplarError> {
    match check_label_name(name, MetricType::Counter) {
        Ok(()) | Err(RuleError::ReservedLabel | RuleError::CamelCaseLabel) => Ok(()),
        Err(RuleError::EmptyName) => Err(ExemplarError::InvalidName {
            name: String::new(),
            reason: "a label name cannot be empty",
        }),
        Err(e) => Err(ExemplarError::InvalidName {
            name: name.to_owned(),
            reason: e.message(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_labels_in_order() {
        let set = ExemplarLabels::new([("request_id", "abc"), ("trace_id", "")]).unwrap();
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            [("request_id", "abc"), ("trace_id", "")]
        );
        assert_eq!((set.len(), set.text_len(), set.chars()), (2, 21, 21));
        assert!(ExemplarLabels::empty().is_empty());
    }

    #[test]
    fn the_budget_is_128_bytes_of_names_and_values() {
        let fits = "v".repeat(128 - "request_id".len());
        let set = ExemplarLabels::new([("request_id", fits.as_str())]).unwrap();
        assert_eq!(set.text_len(), 128);

        let over = format!("{fits}v");
        assert_eq!(
            ExemplarLabels::new([("request_id", over.as_str())]),
            Err(ExemplarError::TooLong {
                bytes: 129,
                chars: 129
            })
        );
        // 100 characters, 200 bytes: within OpenMetrics' budget, over keviq's.
        let wide = "é".repeat(100);
        assert_eq!(
            ExemplarLabels::new([("x", wide.as_str())]),
            Err(ExemplarError::TooLong {
                bytes: 201,
                chars: 101
            })
        );
        let wide = "é".repeat(50);
        let set = ExemplarLabels::new([("x", wide.as_str())]).unwrap();
        assert_eq!((set.text_len(), set.chars()), (101, 51));
    }

    #[test]
    fn a_refused_label_leaves_the_set_as_it_was() {
        let mut set = ExemplarLabels::new([("a", "1")]).unwrap();
        let before = set.clone();
        let long = "x".repeat(200);
        assert!(set.push("b", &long).is_err());
        assert_eq!(
            set.push("a", "2"),
            Err(ExemplarError::DuplicateName("a".into()))
        );
        assert!(matches!(
            set.push("1a", "x"),
            Err(ExemplarError::InvalidName { .. })
        ));
        assert!(matches!(
            set.push("__a", "x"),
            Err(ExemplarError::InvalidName { .. })
        ));
        assert!(matches!(
            set.push("", "x"),
            Err(ExemplarError::InvalidName { .. })
        ));
        assert!(matches!(
            set.push("a-b", "x"),
            Err(ExemplarError::InvalidName { .. })
        ));
        assert_eq!(set, before);
        // What only declared labels reserve is fine here.
        set.push("le", "1").unwrap();
        set.push("traceID", "1").unwrap();
    }

    #[test]
    fn at_most_eight_labels() {
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        let mut set = ExemplarLabels::empty();
        for name in &names[..8] {
            set.push(name, "").unwrap();
        }
        assert_eq!(set.push(names[8], ""), Err(ExemplarError::TooManyLabels));
    }

    #[test]
    fn round_trips_through_words_and_refuses_garbage() {
        let set = ExemplarLabels::new([("request_id", "x\"y\\z\n"), ("k", "é")]).unwrap();
        let words: [u64; WORDS] = std::array::from_fn(|i| set.word(i));
        assert_eq!(ExemplarLabels::from_words(&words), Some(set.clone()));
        // Only the used words count: a slot does not clear the rest.
        let mut stale = words;
        for w in &mut stale[set.words_used()..] {
            *w = u64::MAX;
        }
        assert_eq!(ExemplarLabels::from_words(&stale), Some(set.clone()));
        assert_eq!(set.words_used(), (24 + set.text_len()).div_ceil(8));

        let mut bad = words;
        bad[0] = u64::MAX;
        assert_eq!(ExemplarLabels::from_words(&bad), None);
        // A length that cuts a character in two.
        let set = ExemplarLabels::new([("k", "é")]).unwrap();
        let mut bytes = words_to_bytes(&std::array::from_fn(|i| set.word(i)));
        bytes[2] = 1;
        assert_eq!(ExemplarLabels::from_words(&bytes_to_words(&bytes)), None);
    }

    fn words_to_bytes(words: &[u64; WORDS]) -> [u8; PACKED] {
        let mut out = [0u8; PACKED];
        for (c, w) in out.chunks_exact_mut(8).zip(words) {
            c.copy_from_slice(&w.to_ne_bytes());
        }
        out
    }

    fn bytes_to_words(bytes: &[u8; PACKED]) -> [u64; WORDS] {
        std::array::from_fn(|i| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[8 * i..8 * i + 8]);
            u64::from_ne_bytes(b)
        })
    }
}
