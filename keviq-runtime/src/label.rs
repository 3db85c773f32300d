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
    #[inline(always)]
    fn decode(key: &mut &[u8], out: impl FnOnce(&str)) {
        out(Self::name(take_index(key)));
    }

    /// Like [`decode`](Self::decode), as bytes: what the encoder renders (it checks
    /// the whole exposition is UTF-8 once, not each value). The default calls
    /// `decode`.
    #[inline(always)]
    fn decode_text(key: &mut &[u8], out: impl FnOnce(&[u8])) {
        Self::decode(
            key,
            #[inline(always)]
            |s| out(s.as_bytes()),
        );
    }

    /// Feeds the value to the hash of a series key. A lookup hashes the values it
    /// is given, so it never builds the key; what this feeds must only depend on
    /// what [`encode`](Self::encode) writes. The default feeds the dense index of a
    /// fixed-cardinality type (what the default `encode` writes), and otherwise the
    /// bytes `encode` writes.
    #[inline(always)]
    fn hash(arg: &Self::Arg<'_>, h: &mut KeyHasher) {
        if Self::CARDINALITY.is_some() {
            h.write_index(Self::index(arg));
        } else {
            let mut key = KeyBuf::new();
            Self::encode(arg, &mut key);
            h.write_bytes(key.as_bytes());
        }
    }

    /// Whether the front of `key` holds what [`encode`](Self::encode) writes for
    /// `arg`; if so, steps past it. A lookup compares the values it is given with a
    /// stored key this way, without building its own. The defaults follow the
    /// same rule as [`hash`](Self::hash)'s.
    #[inline(always)]
    fn matches(arg: &Self::Arg<'_>, key: &mut &[u8]) -> bool {
        if Self::CARDINALITY.is_some() {
            // Two bytes as one `u16`, in registers (a byte slice compare went
            // through the stack).
            match key.split_first_chunk::<2>() {
                Some((head, tail)) if u16::from_le_bytes(*head) == Self::index(arg) as u16 => {
                    *key = tail;
                    true
                }
                _ => false,
            }
        } else {
            let mut own = KeyBuf::new();
            Self::encode(arg, &mut own);
            strip(key, own.as_bytes())
        }
    }
}

/// Steps past `prefix` if `key` starts with it.
#[inline(always)]
fn strip(key: &mut &[u8], prefix: &[u8]) -> bool {
    match key.split_at_checked(prefix.len()) {
        Some((head, tail)) if key_eq(head, prefix) => {
            *key = tail;
            true
        }
        _ => false,
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
    /// Feeds a combination to the hash of its series key (see [`LabelValue::hash`]).
    fn hash(values: &Self::Values<'_>, h: &mut KeyHasher);
    /// Whether `key` is the series key of a combination (see [`LabelValue::matches`]).
    fn matches(values: &Self::Values<'_>, key: &[u8]) -> bool;
    /// Calls `each(i, text)` for each label of the series stored under `key`.
    fn decode_key(key: &[u8], each: impl FnMut(usize, &[u8]));
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

            #[inline(always)]
            fn hash(values: &Self::Values<'_>, h: &mut KeyHasher) {
                $( $t::hash(&values.$i, h); )+
            }

            #[inline(always)]
            fn matches(values: &Self::Values<'_>, mut key: &[u8]) -> bool {
                $( $t::matches(&values.$i, &mut key) && )+ key.is_empty()
            }

            #[inline(always)]
            fn decode_key(mut key: &[u8], mut each: impl FnMut(usize, &[u8])) {
                $( $t::decode_text(
                    &mut key,
                    #[inline(always)]
                    |v| each($i, v),
                ); )+
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

/// The hash of a series key, computed from the label values: what a lookup pays
/// instead of building the key. Seeded per family at random, so label values an
/// attacker chooses cannot be aimed at one probe chain of every process.
///
/// Strings go through a wyhash-style scheme (16 bytes per 64x64->128 multiply,
/// folded), integers through one multiply each, and fixed-cardinality indices and
/// string lengths are folded in at the end. Label keys are short (a method, a path
/// of 10 to 40 bytes, a status), so all of it stays inline.
#[derive(Debug, Clone)]
pub struct KeyHasher {
    /// The strings' chain.
    s: u64,
    /// The integers' chain (independent of `s`, so the two overlap).
    ints: u64,
    /// Indices and lengths, rotated in.
    fixed: u64,
    seed: u64,
}

const P0: u64 = 0xa076_1d64_78bd_642f;
const P1: u64 = 0xe703_7ed1_a0b4_28db;

impl KeyHasher {
    /// A hasher with a family's seeds.
    #[inline(always)]
    pub(crate) fn new(seeds: &[u64; 2]) -> Self {
        Self {
            s: seeds[0],
            ints: seeds[0] ^ P1,
            fixed: 0,
            seed: seeds[1],
        }
    }

    /// Feeds a small index (a fixed-cardinality value).
    #[inline(always)]
    pub fn write_index(&mut self, index: usize) {
        self.fixed = self.fixed.rotate_left(16) ^ index as u64;
    }

    /// Feeds an integer.
    #[inline(always)]
    pub fn write_u64(&mut self, v: u64) {
        self.ints = folded_multiply(self.ints ^ v ^ P0, self.seed ^ P1);
    }

    /// Feeds a string's bytes (its length included).
    #[inline(always)]
    pub fn write_bytes(&mut self, key: &[u8]) {
        let len = key.len();
        let (x, y) = if len <= 16 {
            if len >= 8 {
                (read_u64(key, 0), read_u64(key, len - 8))
            } else if len >= 4 {
                (
                    u64::from(read_u32(key, 0)),
                    u64::from(read_u32(key, len - 4)),
                )
            } else if len > 0 {
                let b = |i: usize| u64::from(key.get(i).copied().unwrap_or(0));
                (b(0) | b(len / 2) << 8 | b(len - 1) << 16, 0)
            } else {
                (0, 0)
            }
        } else {
            let mut i = 0;
            while len - i > 16 {
                self.s = folded_multiply(read_u64(key, i) ^ P0, read_u64(key, i + 8) ^ self.s);
                i += 16;
            }
            (read_u64(key, len - 16), read_u64(key, len - 8))
        };
        self.s = folded_multiply(x ^ P0, y ^ self.s ^ self.seed);
        self.fixed = self.fixed.rotate_left(16) ^ len as u64;
    }

    /// The hash. The indices and lengths are known before the strings are read, so
    /// their multiply runs beside the strings' chain; only an `xor` follows it.
    #[inline(always)]
    pub(crate) fn finish(&self) -> u64 {
        self.s ^ self.ints ^ folded_multiply(self.fixed ^ self.seed ^ P1, P0)
    }
}

#[inline(always)]
fn folded_multiply(x: u64, y: u64) -> u64 {
    let full = u128::from(x) * u128::from(y);
    (full as u64) ^ ((full >> 64) as u64)
}

/// Bytes `i..i + 8` (the caller keeps `i + 8 <= b.len()`).
#[inline(always)]
pub(crate) fn read_u64(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    if let Some(src) = b.get(i..i + 8) {
        w.copy_from_slice(src);
    }
    u64::from_le_bytes(w)
}

/// Bytes `i..i + 4` (the caller keeps `i + 4 <= b.len()`).
#[inline(always)]
fn read_u32(b: &[u8], i: usize) -> u32 {
    let mut w = [0u8; 4];
    if let Some(src) = b.get(i..i + 4) {
        w.copy_from_slice(src);
    }
    u32::from_le_bytes(w)
}

/// Key equality, inline: 8 bytes per compare instead of a call to `memcmp`, which
/// showed as a tenth of a lookup for keys of 20 to 40 bytes.
#[inline(always)]
pub(crate) fn key_eq(a: &[u8], b: &[u8]) -> bool {
    let len = a.len();
    if len != b.len() {
        return false;
    }
    if len < 8 {
        // Two overlapping 4-byte words, or the bytes: `==` on slices this short
        // called `bcmp`.
        return if len >= 4 {
            (read_u32(a, 0) ^ read_u32(b, 0)) | (read_u32(a, len - 4) ^ read_u32(b, len - 4)) == 0
        } else {
            a.iter().zip(b).all(|(x, y)| x == y)
        };
    }
    let mut diff = 0;
    let mut i = 0;
    while i + 8 < len {
        diff |= read_u64(a, i) ^ read_u64(b, i);
        i += 8;
    }
    // The last 8 bytes, overlapping what the loop compared.
    diff |= read_u64(a, len - 8) ^ read_u64(b, len - 8);
    diff == 0
}

#[inline(always)]
fn take<'k>(key: &mut &'k [u8], n: usize) -> &'k [u8] {
    let n = n.min(key.len());
    let (head, tail) = key.split_at(n);
    *key = tail;
    head
}

/// The next `N` bytes, zero-padded when the key is cut short. A whole array, read
/// in one load: copying a short slice into a zeroed array went through `memcpy`,
/// whose byte stores the load of the array then waited on.
#[inline(always)]
fn take_array<const N: usize>(key: &mut &[u8]) -> [u8; N] {
    match key.split_first_chunk::<N>() {
        Some((head, tail)) => {
            *key = tail;
            *head
        }
        None => {
            let mut bytes = [0u8; N];
            let got = take(key, N);
            bytes[..got.len()].copy_from_slice(got);
            bytes
        }
    }
}

#[inline(always)]
fn take_index(key: &mut &[u8]) -> usize {
    u16::from_le_bytes(take_array(key)) as usize
}

/// Reads a string written by [`KeyBuf::push_str`].
#[inline(always)]
fn take_str<'k>(key: &mut &'k [u8]) -> &'k [u8] {
    let len = match take_array::<1>(key) {
        [u8::MAX] => u32::from_le_bytes(take_array(key)) as usize,
        [len] => usize::from(len),
    };
    take(key, len)
}

/// [`Str::matches`] for a key whose string takes the long form (255 bytes or more):
/// out of the lookup's way.
#[cold]
#[inline(never)]
fn long_str_matches(arg: &str, key: &mut &[u8]) -> bool {
    let mut own = KeyBuf::new();
    own.push_str(arg);
    strip(key, own.as_bytes())
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
    #[inline(always)]
    fn decode_text(key: &mut &[u8], out: impl FnOnce(&[u8])) {
        out(take_str(key));
    }
    #[inline(always)]
    fn hash(arg: &&str, h: &mut KeyHasher) {
        h.write_bytes(arg.as_bytes());
    }
    #[inline(always)]
    fn matches(arg: &&str, key: &mut &[u8]) -> bool {
        match key.split_first() {
            // The short form of `push_str`: one length byte, then the bytes.
            Some((&len, rest)) if len < u8::MAX => {
                usize::from(len) == arg.len() && {
                    *key = rest;
                    strip(key, arg.as_bytes())
                }
            }
            _ => long_str_matches(arg, key),
        }
    }
}

/// Owned text, for families built by hand (`Family<(String,), _>::get` takes the
/// `String`). `metric!` looks a label declared `String` up as [`Str`] instead: its
/// `labels(..)` takes `impl AsRef<str>` (`&str`, `&String` or `String`), and finding
/// a series that exists allocates nothing. Both write the same key.
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
    #[inline(always)]
    fn decode_text(key: &mut &[u8], out: impl FnOnce(&[u8])) {
        out(take_str(key));
    }
    #[inline(always)]
    fn hash(arg: &String, h: &mut KeyHasher) {
        h.write_bytes(arg.as_bytes());
    }
    #[inline(always)]
    fn matches(arg: &String, key: &mut &[u8]) -> bool {
        Str::matches(&arg.as_str(), key)
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
            #[inline(always)]
            fn decode(key: &mut &[u8], out: impl FnOnce(&str)) {
                out(itoa::Buffer::new().format(<$t>::from_le_bytes(take_array(key))));
            }
            #[inline(always)]
            fn decode_text(key: &mut &[u8], out: impl FnOnce(&[u8])) {
                let v = <$t>::from_le_bytes(take_array(key));
                match u64::try_from(v).ok().and_then(crate::encode::small_number) {
                    Some(text) => out(text),
                    None => out(itoa::Buffer::new().format(v).as_bytes()),
                }
            }
            #[inline(always)]
            fn hash(arg: &$t, h: &mut KeyHasher) {
                h.write_u64(*arg as u64);
            }
            #[inline(always)]
            fn matches(arg: &$t, key: &mut &[u8]) -> bool {
                match key.split_first_chunk::<{ size_of::<$t>() }>() {
                    Some((head, tail)) if <$t>::from_le_bytes(*head) == *arg => {
                        *key = tail;
                        true
                    }
                    _ => false,
                }
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

    keviq_macros::metric! {
        /// Orders placed, by currency and channel
        #[metric(crate = crate)]
        static ORDERS: Counter(currency: String, channel: &str) = "label_test_orders_total";
    }

    type Http = (HttpMethod, Str, StatusCode);

    fn text(v: &[u8]) -> String {
        String::from_utf8_lossy(v).into_owned()
    }

    /// `hash` and `matches` agree with `encode` for every kind of label.
    #[test]
    fn hash_and_matches_follow_the_key() {
        type Mixed = (HttpMethod, Str, u16, String, StatusCode, i64);
        let seeds = [0x1234_5678_9abc_def0, 0x0fed_cba9_8765_4321];
        let long = "y".repeat(300);
        let values = |path: &'static str, name: &str| {
            (
                HttpMethod::Put,
                path,
                7u16,
                name.to_owned(),
                StatusCode::IM_A_TEAPOT,
                -3i64,
            )
        };
        let a = values("/a/{id}", "x");
        let mut key = KeyBuf::new();
        Mixed::encode(&a, &mut key);
        assert!(Mixed::matches(&a, key.as_bytes()));
        let hash = |v: &<Mixed as LabelSchema>::Values<'_>| {
            let mut h = KeyHasher::new(&seeds);
            Mixed::hash(v, &mut h);
            h.finish()
        };
        for other in [
            values("/a/{id}", "xx"),
            values("/a/{iD}", "x"),
            values("", "x"),
        ] {
            assert!(!Mixed::matches(&other, key.as_bytes()));
            assert_ne!(hash(&a), hash(&other));
        }
        // A key with one more or one less byte is another key.
        let mut longer = key.as_bytes().to_vec();
        longer.push(0);
        assert!(!Mixed::matches(&a, &longer));
        assert!(!Mixed::matches(
            &a,
            &key.as_bytes()[..key.as_bytes().len() - 1]
        ));
        // Strings of 255 bytes and more take the long form.
        let mut key = KeyBuf::new();
        let b = (long.as_str(),);
        <(Str,)>::encode(&b, &mut key);
        assert!(<(Str,)>::matches(&b, key.as_bytes()));
        assert!(!<(Str,)>::matches(&(&long[1..],), key.as_bytes()));
    }

    #[test]
    fn hash_covers_every_length() {
        let seeds = [0x1234_5678_9abc_def0, 0x0fed_cba9_8765_4321];
        let bytes: Vec<u8> = (0..100u8).map(|i| i.wrapping_mul(37)).collect();
        let hash = |b: &[u8]| {
            let mut h = KeyHasher::new(&seeds);
            h.write_bytes(b);
            h.finish()
        };
        let mut hashes = Vec::new();
        for len in 0..bytes.len() {
            let key = &bytes[..len];
            assert!(key_eq(key, key));
            hashes.push(hash(key));
            if len > 0 {
                // Any single changed byte changes the key, and (here) the hash.
                for at in [0, len / 2, len - 1] {
                    let mut other = key.to_vec();
                    other[at] ^= 1;
                    assert!(!key_eq(key, &other), "len {len} at {at}");
                    assert_ne!(hash(key), hash(&other), "len {len} at {at}");
                }
                assert!(!key_eq(key, &bytes[..len - 1]));
            }
        }
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), bytes.len(), "prefixes collide");
    }

    #[test]
    fn mixed_schema_round_trips_through_the_key() {
        let mut key = KeyBuf::new();
        Http::encode(
            &(HttpMethod::Post, "/api/{id}", StatusCode::CREATED),
            &mut key,
        );
        let mut seen = Vec::new();
        Http::decode_key(key.as_bytes(), |i, v| seen.push((i, text(v))));
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
        <(Str, u16)>::decode_key(key.as_bytes(), |_, v| seen.push(text(v)));
        assert_eq!(seen, [long, "7".to_owned()]);
    }

    #[test]
    fn truncated_keys_decode_without_panicking() {
        let mut seen = Vec::new();
        <(Str, u16, HttpMethod)>::decode_key(&[9, b'a'], |_, v| seen.push(text(v)));
        assert_eq!(seen, ["a", "0", "GET"]);
    }

    /// A label declared `String` takes `&str`, `&String` or `String`, and each finds
    /// the one series.
    #[test]
    fn string_labels_take_borrowed_or_owned_text() {
        let currency = String::from("EUR");
        let first = ORDERS.labels(&currency, "web");
        first.inc();
        ORDERS.labels(currency.as_str(), "web").inc();
        ORDERS.labels(currency.clone(), "web").inc();
        ORDERS.labels("EUR", "web").inc();
        assert!(std::ptr::eq(first, ORDERS.labels(&currency, "web")));
        assert_eq!(first.get(), 4);
        assert_eq!(ORDERS.labels(&currency, "app").get(), 0);
        // Only borrowed: still ours.
        assert_eq!(currency, "EUR");

        // The key of a `String` value and of a `&str` one is the same.
        let (mut owned, mut borrowed) = (KeyBuf::new(), KeyBuf::new());
        <(String, Str)>::encode(&(currency.clone(), "web"), &mut owned);
        <(Str, Str)>::encode(&("EUR", "web"), &mut borrowed);
        assert_eq!(owned.as_bytes(), borrowed.as_bytes());
    }

    #[test]
    fn status_names() {
        assert_eq!(StatusCode::name(0), "100");
        assert_eq!(StatusCode::name(404 - 100), "404");
        assert_eq!(StatusCode::name(899), "999");
    }
}
