//! Typed label values and label sets.
//!
//! A label type is either *fixed-cardinality* (a fieldless enum with
//! `#[derive(keviq::LabelValue)]`, [`bool`], [`HttpMethod`], [`http::StatusCode`]):
//! its values index a dense array, with no hashing; or *free-form* (`&str`, `String`,
//! integers): its values go through the family's concurrent index, under a cardinality
//! cap.

/// A type whose values can be used as one label of a metric family.
///
/// Implement it with `#[derive(keviq::LabelValue)]` on a fieldless enum; keviq
/// implements it for `&str`, `String`, `bool`, integers, [`HttpMethod`] and
/// [`http::StatusCode`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as a label value",
    label = "not a label type",
    note = "use `&str`, `String`, `bool`, an integer, `keviq::HttpMethod`, `http::StatusCode`, \
            or a fieldless enum with `#[derive(keviq::LabelValue)]`"
)]
pub trait LabelValue: 'static {
    /// `Some(n)` when the type has exactly `n` values, indexed `0..n`; `None` for
    /// free-form values.
    const CARDINALITY: Option<usize>;

    /// The argument type `labels(..)` takes for this label (`&'a str` for `&str`).
    type Arg<'a>;

    /// The dense index of a fixed-cardinality value; free-form types return 0.
    fn index(arg: &Self::Arg<'_>) -> usize;

    /// The text of the value with dense index `index` (fixed-cardinality types).
    fn name(index: usize) -> &'static str;

    /// Appends the value to a series key. The default writes the dense index.
    fn encode(arg: &Self::Arg<'_>, key: &mut KeyBuf) {
        key.push_index(Self::index(arg));
    }

    /// Reads one value written by [`encode`](Self::encode) from the front of `key`
    /// and hands its text to `out`.
    fn decode(key: &mut &[u8], out: impl FnOnce(&str)) {
        out(Self::name(take_index(key)));
    }
}

/// The label types of a family, as a tuple: `(HttpMethod, &'static str, StatusCode)`.
pub trait LabelSchema: 'static {
    /// Number of labels.
    const LEN: usize;
    /// `Some(n)`: every label is fixed-cardinality and there are `n` combinations.
    const DENSE_LEN: Option<usize>;
    /// The values `labels(..)` receives.
    type Values<'a>;
    /// Index of a combination in the dense array (only meaningful when `DENSE_LEN` is `Some`).
    fn dense_index(values: &Self::Values<'_>) -> usize;
    /// Writes the series key of a combination.
    fn encode(values: &Self::Values<'_>, key: &mut KeyBuf);
    /// Calls `each(i, text)` for each label of the series stored under `key`.
    fn decode_key(key: &[u8], each: impl FnMut(usize, &str));
    /// Calls `each(i, text)` for each label of dense combination `index`.
    fn decode_dense(index: usize, each: impl FnMut(usize, &str));
}

const fn product(a: Option<usize>, b: Option<usize>) -> Option<usize> {
    match (a, b) {
        (Some(a), Some(b)) => a.checked_mul(b),
        _ => None,
    }
}

/// Dense arrays larger than this fall back to the concurrent index.
pub(crate) const MAX_DENSE: usize = 1 << 16;

macro_rules! schema_tuple {
    ($len:literal; $($t:ident $i:tt),+) => {
        impl<$($t: LabelValue),+> LabelSchema for ($($t,)+) {
            const LEN: usize = $len;
            const DENSE_LEN: Option<usize> = {
                let n = schema_tuple!(@prod $($t)+);
                match n {
                    Some(n) if n <= MAX_DENSE => Some(n),
                    _ => None,
                }
            };
            type Values<'a> = ($($t::Arg<'a>,)+);

            #[inline(always)]
            fn dense_index(values: &Self::Values<'_>) -> usize {
                let mut index = 0;
                $(
                    index = index * $t::CARDINALITY.unwrap_or(1) + $t::index(&values.$i);
                )+
                index
            }

            #[inline]
            fn encode(values: &Self::Values<'_>, key: &mut KeyBuf) {
                $( $t::encode(&values.$i, key); )+
            }

            fn decode_key(mut key: &[u8], mut each: impl FnMut(usize, &str)) {
                $( $t::decode(&mut key, |v| each($i, v)); )+
            }

            fn decode_dense(index: usize, mut each: impl FnMut(usize, &str)) {
                let cardinalities = [$($t::CARDINALITY.unwrap_or(1)),+];
                let names: [fn(usize) -> &'static str; $len] = [$($t::name),+];
                // Mixed radix, the last label varying fastest (as in `dense_index`).
                let mut digits = [0usize; $len];
                let mut rest = index;
                for i in (0..$len).rev() {
                    digits[i] = rest % cardinalities[i];
                    rest /= cardinalities[i];
                }
                for i in 0..$len {
                    each(i, names[i](digits[i]));
                }
            }
        }
    };
    (@prod $t:ident) => { $t::CARDINALITY };
    (@prod $t:ident $($rest:ident)+) => { product($t::CARDINALITY, schema_tuple!(@prod $($rest)+)) };
}

schema_tuple!(1; A 0);
schema_tuple!(2; A 0, B 1);
schema_tuple!(3; A 0, B 1, C 2);
schema_tuple!(4; A 0, B 1, C 2, D 3);
schema_tuple!(5; A 0, B 1, C 2, D 3, E 4);
schema_tuple!(6; A 0, B 1, C 2, D 3, E 4, F 5);

/// The bytes that identify one series of a family: built on the stack for lookups,
/// copied to the heap only when a new series is created.
#[derive(Debug)]
pub struct KeyBuf {
    inline: [u8; 96],
    len: usize,
    spill: Vec<u8>,
}

impl KeyBuf {
    /// An empty key.
    #[inline(always)]
    pub const fn new() -> Self {
        Self {
            inline: [0; 96],
            len: 0,
            spill: Vec::new(),
        }
    }

    /// Appends raw bytes.
    #[inline(always)]
    pub fn push(&mut self, bytes: &[u8]) {
        if self.spill.is_empty() && self.len + bytes.len() <= self.inline.len() {
            self.inline[self.len..self.len + bytes.len()].copy_from_slice(bytes);
            self.len += bytes.len();
        } else {
            if self.spill.is_empty() {
                self.spill.extend_from_slice(&self.inline[..self.len]);
            }
            self.spill.extend_from_slice(bytes);
        }
    }

    /// Appends a dense index (fixed-cardinality labels never exceed `u16`).
    #[inline(always)]
    pub fn push_index(&mut self, index: usize) {
        self.push(&(index as u16).to_le_bytes());
    }

    /// Appends a length-prefixed string: one length byte below 255, else `0xFF` and
    /// four bytes (short values are the common case, and every byte counts per series).
    #[inline(always)]
    pub fn push_str(&mut self, s: &str) {
        match u8::try_from(s.len()) {
            Ok(len) if len < u8::MAX => self.push(&[len]),
            _ => {
                self.push(&[u8::MAX]);
                self.push(&(s.len() as u32).to_le_bytes());
            }
        }
        self.push(s.as_bytes());
    }

    /// The key so far.
    #[inline(always)]
    pub fn as_bytes(&self) -> &[u8] {
        if self.spill.is_empty() {
            &self.inline[..self.len]
        } else {
            &self.spill
        }
    }
}

impl Default for KeyBuf {
    fn default() -> Self {
        Self::new()
    }
}

fn take<'k>(key: &mut &'k [u8], n: usize) -> &'k [u8] {
    let n = n.min(key.len());
    let (head, tail) = key.split_at(n);
    *key = tail;
    head
}

fn take_index(key: &mut &[u8]) -> usize {
    let b = take(key, 2);
    match b {
        [lo, hi] => u16::from_le_bytes([*lo, *hi]) as usize,
        _ => 0,
    }
}

/// Reads a string written by [`KeyBuf::push_str`].
fn take_str<'k>(key: &mut &'k [u8]) -> &'k [u8] {
    let len = match take(key, 1) {
        [u8::MAX] => match take(key, 4) {
            [a, b, c, d] => u32::from_le_bytes([*a, *b, *c, *d]) as usize,
            _ => 0,
        },
        [len] => *len as usize,
        _ => 0,
    };
    take(key, len)
}

/// Marker for free-form string labels declared as `&str`.
#[derive(Debug, Clone, Copy)]
pub struct Str;

impl LabelValue for Str {
    const CARDINALITY: Option<usize> = None;
    type Arg<'a> = &'a str;
    fn index(_: &&str) -> usize {
        0
    }
    fn name(_: usize) -> &'static str {
        ""
    }
    #[inline(always)]
    fn encode(arg: &&str, key: &mut KeyBuf) {
        key.push_str(arg);
    }
    fn decode(key: &mut &[u8], out: impl FnOnce(&str)) {
        let bytes = take_str(key);
        match std::str::from_utf8(bytes) {
            Ok(text) => out(text),
            // Only a key cut short by a buggy custom `LabelValue` can get here.
            Err(_) => out(&String::from_utf8_lossy(bytes)),
        }
    }
}

impl LabelValue for String {
    const CARDINALITY: Option<usize> = None;
    type Arg<'a> = String;
    fn index(_: &String) -> usize {
        0
    }
    fn name(_: usize) -> &'static str {
        ""
    }
    fn encode(arg: &String, key: &mut KeyBuf) {
        key.push_str(arg);
    }
    fn decode(key: &mut &[u8], out: impl FnOnce(&str)) {
        Str::decode(key, out);
    }
}

macro_rules! integer_label {
    ($($t:ty),*) => {$(
        impl LabelValue for $t {
            const CARDINALITY: Option<usize> = None;
            type Arg<'a> = $t;
            fn index(_: &$t) -> usize { 0 }
            fn name(_: usize) -> &'static str { "" }
            #[inline(always)]
            fn encode(arg: &$t, key: &mut KeyBuf) { key.push(&arg.to_le_bytes()); }
            fn decode(key: &mut &[u8], out: impl FnOnce(&str)) {
                let mut bytes = [0u8; size_of::<$t>()];
                let got = take(key, bytes.len());
                bytes[..got.len()].copy_from_slice(got);
                out(itoa::Buffer::new().format(<$t>::from_le_bytes(bytes)));
            }
        }
    )*};
}
integer_label!(u8, u16, u32, u64, i32, i64);

impl LabelValue for bool {
    const CARDINALITY: Option<usize> = Some(2);
    type Arg<'a> = bool;
    #[inline(always)]
    fn index(arg: &bool) -> usize {
        *arg as usize
    }
    fn name(index: usize) -> &'static str {
        if index == 1 { "true" } else { "false" }
    }
}

/// The HTTP method of a request, folded to the standard set: any other method is
/// [`HttpMethod::Other`], so a client cannot create series by inventing methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpMethod {
    /// `GET`
    Get,
    /// `HEAD`
    Head,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `DELETE`
    Delete,
    /// `CONNECT`
    Connect,
    /// `OPTIONS`
    Options,
    /// `TRACE`
    Trace,
    /// `PATCH`
    Patch,
    /// Any non-standard method, rendered as `OTHER`.
    Other,
}

impl HttpMethod {
    const NAMES: [&'static str; 10] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "OTHER",
    ];

    /// The method as rendered in the label.
    pub const fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

impl From<&http::Method> for HttpMethod {
    fn from(m: &http::Method) -> Self {
        match *m {
            http::Method::GET => Self::Get,
            http::Method::HEAD => Self::Head,
            http::Method::POST => Self::Post,
            http::Method::PUT => Self::Put,
            http::Method::DELETE => Self::Delete,
            http::Method::CONNECT => Self::Connect,
            http::Method::OPTIONS => Self::Options,
            http::Method::TRACE => Self::Trace,
            http::Method::PATCH => Self::Patch,
            _ => Self::Other,
        }
    }
}

impl LabelValue for HttpMethod {
    const CARDINALITY: Option<usize> = Some(10);
    type Arg<'a> = HttpMethod;
    #[inline(always)]
    fn index(arg: &HttpMethod) -> usize {
        *arg as usize
    }
    fn name(index: usize) -> &'static str {
        Self::NAMES.get(index).copied().unwrap_or("OTHER")
    }
}

/// Status codes 100–999 (all that [`http::StatusCode`] can hold), as decimal strings.
static STATUS_NAMES: [&str; 900] = {
    const DIGITS: &[u8; 10] = b"0123456789";
    // Each entry points into one static buffer of 900 three-digit numbers.
    static TEXT: [u8; 2700] = {
        let mut text = [0u8; 2700];
        let mut i = 0;
        while i < 900 {
            let code = i + 100;
            text[i * 3] = DIGITS[code / 100];
            text[i * 3 + 1] = DIGITS[code / 10 % 10];
            text[i * 3 + 2] = DIGITS[code % 10];
            i += 1;
        }
        text
    };
    let mut names = [""; 900];
    let mut i = 0;
    while i < 900 {
        let bytes = TEXT.split_at(i * 3).1.split_at(3).0;
        names[i] = match std::str::from_utf8(bytes) {
            Ok(s) => s,
            Err(_) => "",
        };
        i += 1;
    }
    names
};

impl LabelValue for http::StatusCode {
    const CARDINALITY: Option<usize> = Some(900);
    type Arg<'a> = http::StatusCode;
    #[inline(always)]
    fn index(arg: &http::StatusCode) -> usize {
        (arg.as_u16() as usize).saturating_sub(100).min(899)
    }
    fn name(index: usize) -> &'static str {
        STATUS_NAMES.get(index).copied().unwrap_or("999")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;

    type Http = (HttpMethod, Str, StatusCode);

    #[test]
    fn mixed_schema_round_trips_through_the_key() {
        let mut key = KeyBuf::new();
        Http::encode(
            &(HttpMethod::Post, "/api/{id}", StatusCode::CREATED),
            &mut key,
        );
        let mut seen = Vec::new();
        Http::decode_key(key.as_bytes(), |i, v| seen.push((i, v.to_owned())));
        assert_eq!(
            seen,
            [
                (0, "POST".into()),
                (1, "/api/{id}".into()),
                (2, "201".into())
            ]
        );
        assert_eq!(Http::DENSE_LEN, None);
    }

    #[test]
    fn dense_schema_round_trips_through_the_index() {
        type Dense = (HttpMethod, bool, StatusCode);
        assert_eq!(Dense::DENSE_LEN, Some(10 * 2 * 900));
        let idx = Dense::dense_index(&(HttpMethod::Patch, true, StatusCode::NOT_FOUND));
        let mut seen = Vec::new();
        Dense::decode_dense(idx, |_, v| seen.push(v.to_owned()));
        assert_eq!(seen, ["PATCH", "true", "404"]);
    }

    #[test]
    fn long_keys_spill_to_the_heap() {
        let long = "x".repeat(500);
        let mut key = KeyBuf::new();
        <(Str, u16)>::encode(&(long.as_str(), 7), &mut key);
        let mut seen = Vec::new();
        <(Str, u16)>::decode_key(key.as_bytes(), |_, v| seen.push(v.to_owned()));
        assert_eq!(seen, [long, "7".to_owned()]);
    }

    #[test]
    fn truncated_keys_decode_without_panicking() {
        let mut seen = Vec::new();
        <(Str, u16, HttpMethod)>::decode_key(&[9, b'a'], |_, v: &str| seen.push(v.to_owned()));
        assert_eq!(seen, ["a", "0", "GET"]);
    }

    #[test]
    fn status_names() {
        assert_eq!(StatusCode::name(0), "100");
        assert_eq!(StatusCode::name(404 - 100), "404");
        assert_eq!(StatusCode::name(899), "999");
    }
}
