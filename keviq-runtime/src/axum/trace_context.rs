//! W3C Trace Context (<https://www.w3.org/TR/trace-context-2/>, the Level 2 draft):
//! keviq takes part in the caller's trace. Every request a keviq service handles is
//! a span of its own, and every call it makes through
//! [`ForwardRequestIdLayer`](super::ForwardRequestIdLayer) is a client span, whose ID
//! the callee receives as its parent.
//!
//! [`RequestIdLayer`](super::RequestIdLayer) reads the headers:
//! - a valid `traceparent` is continued: its trace ID is kept, its `parent-id` is
//!   this span's parent, its `sampled` and `random` flags are kept;
//! - a missing or invalid one starts a new trace: a random 16-byte trace ID, the
//!   `random` flag set, and the `sampled` flag set unless the layer was built with
//!   [`RequestIdLayer::sample_new_traces(false)`](super::RequestIdLayer::sample_new_traces);
//!   the request's `tracestate` is then dropped;
//! - in both cases the request gets a fresh random span ID.
//!
//! The context is then
//! 1. in the request's extensions as a [`TraceContext`], and available to any code
//!    of the request's task through [`current`];
//! 2. sent on every outgoing call through `ForwardRequestIdLayer` (with
//!    `X-Request-ID`), as `00-<trace id>-<client span id>-<flags>` with a new span ID
//!    per call, unless the outgoing request has a `traceparent` of its own;
//! 3. the `trace_id` and `span_id` fields of the `request` span and of keviq's JSON
//!    log lines, and the `trace_id` of the request's exemplar.
//!
//! # What is valid
//!
//! `traceparent` is `version-trace_id-parent_id-flags` in lowercase hex (2, 32, 16
//! and 2 digits). It is invalid when the version is `ff` or not hex, a field has the
//! wrong length or an upper-case or non-hex digit, the trace ID or the parent ID is
//! all zeros, a version `00` value has anything after the flags, or the request has
//! more than one `traceparent` header. A higher version is read as the
//! specification says (its first four fields, then the end or a `-`); what goes on
//! is always version `00`. Only the flags the specification defines (`sampled`,
//! `random`) are kept; the others are sent as zero. Spaces and tabs around the value
//! are allowed.
//!
//! `tracestate` (the values of every `tracestate` header, joined with `,`) is kept
//! only with a continued `traceparent`, and only when every list member is
//! `key=value` with Level 2's grammar: a key of 1 to 256 characters, a lowercase
//! letter or a digit, then lowercase letters, digits and `_ - * / @`; a value of 1 to
//! 256 printable ASCII characters but `,` and `=`, not ending in a space. Empty
//! members are allowed and not forwarded; a key given twice is kept twice, as it
//! came. More than [`MAX_TRACESTATE_MEMBERS`] members, or any invalid member, drops
//! the whole `tracestate` (the `traceparent` is still continued). Beyond
//! [`MAX_TRACESTATE_LEN`] characters, whole members are removed as the
//! specification says: first those longer than 128 characters, then from the right.
//!
//! An ignored header is removed from the request, so no handler forwards it by
//! copying headers, and is never echoed nor logged: only its length is, at `DEBUG`.
//! A valid one stays as it came, for the handler to read; a call that carries it
//! copied (the caller's span as parent) gets a span of its own all the same.
//!
//! Trace and span IDs come from [`random_u64`], a per-thread SplitMix64 seeded from
//! the operating system: every byte of a trace ID, the right-most 7 the `random`
//! flag speaks for included, is uniformly pseudo-random.

use std::fmt;

use http::{HeaderMap, HeaderName, HeaderValue};

use super::request_id;

/// The `traceparent` header.
pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
/// The `tracestate` header.
pub const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");
/// The longest `tracestate` forwarded, in characters (members joined with `,`): the
/// length the specification asks every vendor to propagate at least.
pub const MAX_TRACESTATE_LEN: usize = 512;
/// The most list members a kept `tracestate` has (the specification's limit).
pub const MAX_TRACESTATE_MEMBERS: usize = 32;
/// Members longer than this are the first removed when a `tracestate` is too long.
const LONG_MEMBER: usize = 128;

/// `trace-flags` bit: the caller may have recorded the trace.
pub const SAMPLED: u8 = 0x01;
/// `trace-flags` bit (Level 2): the trace ID's right-most 7 bytes are random.
pub const RANDOM: u8 = 0x02;
/// The flags this version knows; the others go on as zero.
const KNOWN_FLAGS: u8 = SAMPLED | RANDOM;

/// The length of a version `00` `traceparent`.
const TRACEPARENT_LEN: usize = 55;

/// A trace ID: 16 bytes, never all zeros; shown as 32 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceId([u8; 16]);

/// A span ID (the `parent-id` of a `traceparent`): 8 bytes, never all zeros; shown
/// as 16 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpanId([u8; 8]);

/// The name 0.1 gave [`SpanId`], the ID of the caller's span.
pub type ParentId = SpanId;

impl TraceId {
    /// A new random trace ID: 16 bytes from [`random_u64`], never all zeros.
    pub fn random() -> Self {
        loop {
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&random_u64().to_be_bytes());
            id[8..].copy_from_slice(&random_u64().to_be_bytes());
            if id != [0; 16] {
                return Self(id);
            }
        }
    }

    /// The 16 bytes.
    pub const fn to_bytes(self) -> [u8; 16] {
        self.0
    }

    /// The 32 lowercase hex digits, written into `buf`.
    pub fn hex<'b>(&self, buf: &'b mut [u8; 32]) -> &'b str {
        encode_hex(&self.0, buf)
    }
}

impl SpanId {
    /// A new random span ID from [`random_u64`], never zero.
    pub fn random() -> Self {
        loop {
            let id = random_u64();
            if id != 0 {
                return Self(id.to_be_bytes());
            }
        }
    }

    /// The 8 bytes.
    pub const fn to_bytes(self) -> [u8; 8] {
        self.0
    }

    /// The 16 lowercase hex digits, written into `buf`.
    pub fn hex<'b>(&self, buf: &'b mut [u8; 16]) -> &'b str {
        encode_hex(&self.0, buf)
    }
}

/// A pseudo-random `u64` for trace, span and request IDs: SplitMix64 on a per-thread
/// state seeded from the operating system's randomness (through uuid's generator)
/// when the thread first asks. Uniform over all 64-bit values, as the `random` flag
/// asks of a trace ID's right-most 7 bytes; an ID needs to be unique, not secret,
/// and a cryptographic generator for three IDs a request cost about 0.8 µs over
/// loopback (BENCHMARKS.md).
pub fn random_u64() -> u64 {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new(uuid::Uuid::new_v4().as_u64_pair().0);
    }
    STATE.with(|state| {
        let next = state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        state.set(next);
        let mut z = next;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    })
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.hex(&mut [0; 32]))
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceId({self})")
    }
}

impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.hex(&mut [0; 16]))
    }
}

impl fmt::Debug for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpanId({self})")
    }
}

/// A parsed `traceparent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceParent {
    /// The trace the request belongs to.
    pub trace_id: TraceId,
    /// The sender's span.
    pub parent_id: SpanId,
    /// `trace-flags`: [`SAMPLED`], [`RANDOM`]; other bits are read as zero.
    pub flags: u8,
}

impl TraceParent {
    /// The header value if it is valid (see the [module docs](self)).
    ///
    /// ```
    /// use keviq_runtime::axum::trace_context::TraceParent;
    /// let p = TraceParent::parse(b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
    /// assert_eq!(p.trace_id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
    /// assert!(p.sampled());
    /// assert!(TraceParent::parse(b"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").is_none());
    /// ```
    pub fn parse(value: &[u8]) -> Option<Self> {
        let v = trim_ows(value);
        if v.len() < TRACEPARENT_LEN {
            return None;
        }
        let version = hex_byte(v[0], v[1])?;
        let rest_ok = match version {
            0xff => false,
            0 => v.len() == TRACEPARENT_LEN,
            // A later version may append fields, after a `-`.
            _ => v.len() == TRACEPARENT_LEN || v[TRACEPARENT_LEN] == b'-',
        };
        if !rest_ok || v[2] != b'-' || v[35] != b'-' || v[52] != b'-' {
            return None;
        }
        let trace_id: [u8; 16] = decode_hex(&v[3..35])?;
        let parent_id: [u8; 8] = decode_hex(&v[36..52])?;
        let flags = hex_byte(v[53], v[54])?;
        if trace_id == [0; 16] || parent_id == [0; 8] {
            return None;
        }
        Some(Self {
            trace_id: TraceId(trace_id),
            parent_id: SpanId(parent_id),
            flags: flags & KNOWN_FLAGS,
        })
    }

    /// Whether the sender sampled (recorded) the trace.
    pub fn sampled(&self) -> bool {
        self.flags & SAMPLED != 0
    }

    /// The version `00` header value: `00-<trace_id>-<parent_id>-<flags>`.
    pub fn header_value(&self) -> HeaderValue {
        let mut buf = [0u8; TRACEPARENT_LEN];
        buf[..3].copy_from_slice(b"00-");
        encode_hex(&self.trace_id.0, &mut buf[3..35]);
        buf[35] = b'-';
        encode_hex(&self.parent_id.0, &mut buf[36..52]);
        buf[52] = b'-';
        encode_hex(&[self.flags], &mut buf[53..55]);
        HeaderValue::from_bytes(&buf).unwrap_or(HeaderValue::from_static(""))
    }
}

/// The trace context of a request: its trace, its own span, the caller's span if
/// the trace was continued, the flags and the `tracestate` to pass on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    trace_id: TraceId,
    span_id: SpanId,
    parent_id: Option<SpanId>,
    flags: u8,
    tracestate: Option<HeaderValue>,
}

/// What the request's headers hold.
#[derive(Debug)]
pub(crate) struct Extracted {
    /// The continued trace, if the request had a valid `traceparent`.
    pub(crate) context: Option<TraceContext>,
    /// Length of an ignored `traceparent` (all of them, when there are several).
    pub(crate) rejected_traceparent: Option<usize>,
    /// Length of an ignored `tracestate` (all headers joined).
    pub(crate) rejected_tracestate: Option<usize>,
}

impl TraceContext {
    /// The context that continues the trace of `headers`, if they hold a valid
    /// `traceparent`: its trace, the sender's span as parent, a new span ID.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        extract(headers).context
    }

    /// A new trace: a random trace ID, a random span ID, the `random` flag, and
    /// `sampled` if asked.
    ///
    /// ```
    /// use keviq_runtime::axum::trace_context::{RANDOM, SAMPLED, TraceContext};
    /// let t = TraceContext::new_trace(true);
    /// assert_eq!(t.flags(), SAMPLED | RANDOM);
    /// assert!(t.parent_id().is_none());
    /// ```
    pub fn new_trace(sampled: bool) -> Self {
        Self {
            trace_id: TraceId::random(),
            span_id: SpanId::random(),
            parent_id: None,
            flags: RANDOM | if sampled { SAMPLED } else { 0 },
            tracestate: None,
        }
    }

    /// The trace ID.
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// This request's own span.
    pub fn span_id(&self) -> SpanId {
        self.span_id
    }

    /// The caller's span, when the trace was continued.
    pub fn parent_id(&self) -> Option<SpanId> {
        self.parent_id
    }

    /// `trace-flags` as sent on ([`SAMPLED`], [`RANDOM`]).
    pub fn flags(&self) -> u8 {
        self.flags
    }

    /// Whether the trace is sampled.
    pub fn sampled(&self) -> bool {
        self.flags & SAMPLED != 0
    }

    /// The `traceparent` naming this request's span: what a call made for it carries
    /// when it is not a span of its own.
    pub fn traceparent(&self) -> TraceParent {
        self.child(self.span_id)
    }

    /// The `traceparent` of a call made as span `span_id` of this trace.
    pub fn child(&self, span_id: SpanId) -> TraceParent {
        TraceParent {
            trace_id: self.trace_id,
            parent_id: span_id,
            flags: self.flags,
        }
    }

    /// The `tracestate` passed on (valid members joined with `,`).
    pub fn tracestate(&self) -> Option<&HeaderValue> {
        self.tracestate.as_ref()
    }

    /// Starts a client span on an outgoing request: sets `traceparent` with a new
    /// span ID, and `tracestate` unless the request has its own; returns the new
    /// span's ID. A request with a `traceparent` of its own is left alone (`None`),
    /// unless it is the one this request came with, copied: that one is replaced
    /// (with its `tracestate`), as a participant must not pass its caller's span on.
    pub fn inject(&self, headers: &mut HeaderMap) -> Option<SpanId> {
        if let Some(own) = headers.get(TRACEPARENT) {
            let copied = self.parent_id.is_some()
                && TraceParent::parse(own.as_bytes()).is_some_and(|p| {
                    p.trace_id == self.trace_id && Some(p.parent_id) == self.parent_id
                });
            if !copied {
                return None;
            }
            headers.remove(TRACESTATE);
        }
        let span = SpanId::random();
        headers.insert(TRACEPARENT, self.child(span).header_value());
        if let Some(state) = &self.tracestate
            && !headers.contains_key(TRACESTATE)
        {
            headers.insert(TRACESTATE, state.clone());
        }
        Some(span)
    }
}

/// The trace context of the request the current task is handling.
pub fn current() -> Option<TraceContext> {
    request_id::with_context(|c| c.trace.clone())
}

/// Reads both headers, remembering what was ignored.
pub(crate) fn extract(headers: &HeaderMap) -> Extracted {
    let mut values = headers.get_all(TRACEPARENT).iter();
    let Some(first) = values.next() else {
        return Extracted {
            context: None,
            rejected_traceparent: None,
            rejected_tracestate: None,
        };
    };
    let mut len = first.len();
    let mut several = false;
    for other in values {
        several = true;
        len = len.saturating_add(other.len());
    }
    let parent = if several {
        None
    } else {
        TraceParent::parse(first.as_bytes())
    };
    let Some(parent) = parent else {
        return Extracted {
            context: None,
            rejected_traceparent: Some(len),
            rejected_tracestate: None,
        };
    };
    let (tracestate, rejected_tracestate) = match tracestate(headers) {
        Ok(state) => (state, None),
        Err(len) => (None, Some(len)),
    };
    Extracted {
        context: Some(TraceContext {
            trace_id: parent.trace_id,
            span_id: SpanId::random(),
            parent_id: Some(parent.parent_id),
            flags: parent.flags,
            tracestate,
        }),
        rejected_traceparent: None,
        rejected_tracestate,
    }
}

/// The `tracestate` to pass on: the headers' valid members joined with `,`, cut to
/// [`MAX_TRACESTATE_LEN`] by whole members; `Ok(None)` when there is none;
/// `Err(length)` when a member is invalid or there are too many.
fn tracestate(headers: &HeaderMap) -> Result<Option<HeaderValue>, usize> {
    let values = headers.get_all(TRACESTATE);
    let len = values
        .iter()
        .fold(0usize, |n, v| n.saturating_add(v.len() + 1));
    if values.iter().next().is_none() {
        return Ok(None);
    }
    let mut members: Vec<&[u8]> = Vec::new();
    for value in values.iter() {
        for member in value.as_bytes().split(|&b| b == b',') {
            let member = trim_ows(member);
            if member.is_empty() {
                continue;
            }
            if members.len() == MAX_TRACESTATE_MEMBERS || !valid_member(member) {
                return Err(len);
            }
            members.push(member);
        }
    }
    let joined = |members: &[&[u8]]| {
        members.iter().map(|m| m.len()).sum::<usize>() + members.len().saturating_sub(1)
    };
    // Too long: members over 128 characters go first, then from the right.
    while joined(&members) > MAX_TRACESTATE_LEN {
        match members.iter().rposition(|m| m.len() > LONG_MEMBER) {
            Some(long) => members.remove(long),
            None => members.pop().unwrap_or_default(),
        };
    }
    if members.is_empty() {
        return Ok(None);
    }
    HeaderValue::from_bytes(&members.join(&b","[..]))
        .map(Some)
        .map_err(|_| len)
}

/// `key "=" value` with Level 2's key grammar.
fn valid_member(member: &[u8]) -> bool {
    match member.iter().position(|&b| b == b'=') {
        Some(eq) => valid_key(&member[..eq]) && valid_value(&member[eq + 1..]),
        None => false,
    }
}

/// `key = (lcalpha / DIGIT) 0*255(keychar)`, `keychar = lcalpha / DIGIT / "_" / "-"
/// / "*" / "/" / "@"` (Level 2; Level 1's `tenant@system` keys are among them).
fn valid_key(key: &[u8]) -> bool {
    match key.split_first() {
        Some((first, rest)) => {
            key.len() <= 256
                && (first.is_ascii_lowercase() || first.is_ascii_digit())
                && rest.iter().all(|b| {
                    b.is_ascii_lowercase()
                        || b.is_ascii_digit()
                        || matches!(b, b'_' | b'-' | b'*' | b'/' | b'@')
                })
        }
        None => false,
    }
}

/// `value = 0*255(chr) nblk-chr`: printable ASCII but `,` and `=`, not ending in a
/// space.
fn valid_value(value: &[u8]) -> bool {
    !value.is_empty()
        && value.len() <= 256
        && value.last() != Some(&b' ')
        && value
            .iter()
            .all(|&b| (0x20..=0x7e).contains(&b) && b != b',' && b != b'=')
}

/// Without the optional white space (spaces and tabs) around a value.
fn trim_ows(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

/// One lowercase hex digit.
fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

fn hex_byte(hi: u8, lo: u8) -> Option<u8> {
    Some(hex_digit(hi)? << 4 | hex_digit(lo)?)
}

/// `2 * N` lowercase hex digits as `N` bytes.
fn decode_hex<const N: usize>(digits: &[u8]) -> Option<[u8; N]> {
    if digits.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = hex_byte(pair[0], pair[1])?;
    }
    Some(out)
}

/// `bytes` as lowercase hex into `out` (twice as long), returned as text.
fn encode_hex<'b>(bytes: &[u8], out: &'b mut [u8]) -> &'b str {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(b >> 4)];
        pair[1] = DIGITS[usize::from(b & 0xf)];
    }
    std::str::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn parse(s: &str) -> Option<TraceParent> {
        TraceParent::parse(s.as_bytes())
    }

    #[test]
    fn a_valid_traceparent_round_trips() {
        let p = parse(VALID).unwrap();
        assert_eq!(p.trace_id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(p.parent_id.to_string(), "00f067aa0ba902b7");
        assert_eq!(p.flags, 1);
        assert!(p.sampled());
        assert_eq!(p.header_value(), VALID);
        let unsampled = parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00").unwrap();
        assert!(!unsampled.sampled());
        // Flags are kept as they came for version 00 (bits later levels define).
        assert_eq!(
            parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03")
                .unwrap()
                .flags,
            3
        );
        // Optional white space around the value.
        assert_eq!(parse(&format!(" \t{VALID}\t ")), Some(p));
    }

    #[test]
    fn invalid_traceparents_are_refused() {
        let cases = [
            // version
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            // lengths
            "",
            "00",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e47366-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b77-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-011",
            // version 00 with trailing data
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future",
            // upper case and non-hex
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A",
            "00-4bf92f3577b34da6a3ce929d0e0e473z-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0z",
            // separators
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
            // all-zero IDs
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            // a future version must still end or continue with `-`
            "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.what",
            // white space inside
            "00-4bf92f3577b34da6a3ce929d0e0e4736 -00f067aa0ba902b7-01",
        ];
        for case in cases {
            assert_eq!(parse(case), None, "{case:?}");
        }
    }

    #[test]
    fn a_higher_version_is_read_and_forwarded_as_00() {
        for case in [
            "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09",
            "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-what-the-future",
            "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
        ] {
            let p = parse(case).unwrap();
            assert_eq!(p.flags, SAMPLED, "{case}: unknown flags go on as zero");
            assert_eq!(p.header_value(), VALID);
        }
        // Shorter than 55 characters, upper case, zero IDs: a new trace.
        for case in [
            "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
            "cc-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "cc-00000000000000000000000000000000-00f067aa0ba902b7-01",
        ] {
            assert_eq!(parse(case), None, "{case}");
        }
    }

    #[test]
    fn only_the_known_flags_are_kept() {
        let flags = |f: &str| {
            parse(&format!(
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-{f}"
            ))
            .unwrap()
            .flags
        };
        assert_eq!(flags("00"), 0);
        assert_eq!(flags("01"), SAMPLED);
        assert_eq!(flags("02"), RANDOM);
        assert_eq!(flags("03"), SAMPLED | RANDOM);
        assert_eq!(flags("ff"), SAMPLED | RANDOM);
        assert_eq!(flags("fc"), 0);
    }

    fn headers(pairs: &[(&HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_bytes(value.as_bytes()).unwrap());
        }
        map
    }

    fn state(values: &[&str]) -> Option<String> {
        let mut map = headers(&[(&TRACEPARENT, VALID)]);
        for v in values {
            map.append(TRACESTATE, HeaderValue::from_bytes(v.as_bytes()).unwrap());
        }
        let got = extract(&map);
        let context = got.context.expect("the traceparent is still continued");
        context.tracestate().map(|v| v.to_str().unwrap().to_owned())
    }

    #[test]
    fn a_continued_trace_is_a_new_span_of_the_same_trace() {
        let got = TraceContext::from_headers(&headers(&[(&TRACEPARENT, VALID)])).unwrap();
        assert_eq!(
            got.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(got.parent_id().unwrap().to_string(), "00f067aa0ba902b7");
        assert_ne!(got.span_id(), got.parent_id().unwrap());
        assert_eq!(got.flags(), SAMPLED);
        // What a call made for it carries: this span as the parent.
        let own = got.traceparent();
        assert_eq!(own.trace_id, got.trace_id());
        assert_eq!(own.parent_id, got.span_id());
        // Random and unsampled are kept as they came.
        let random = TraceContext::from_headers(&headers(&[(
            &TRACEPARENT,
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02",
        )]))
        .unwrap();
        assert_eq!(random.flags(), RANDOM);
    }

    #[test]
    fn a_new_trace_is_random_and_sampled_unless_asked_otherwise() {
        let a = TraceContext::new_trace(true);
        let b = TraceContext::new_trace(false);
        assert_ne!(a.trace_id(), b.trace_id());
        assert_ne!(a.span_id(), b.span_id());
        assert_ne!(a.trace_id().to_bytes(), [0; 16]);
        assert_eq!(a.flags(), SAMPLED | RANDOM);
        assert_eq!(b.flags(), RANDOM);
        assert_eq!(a.parent_id(), None);
        assert_eq!(a.tracestate(), None);
        let value = a.traceparent().header_value();
        assert_eq!(parse(value.to_str().unwrap()), Some(a.traceparent()));
    }

    #[test]
    fn two_traceparents_are_refused() {
        let got = extract(&headers(&[(&TRACEPARENT, VALID), (&TRACEPARENT, VALID)]));
        assert!(got.context.is_none());
        assert_eq!(got.rejected_traceparent, Some(2 * VALID.len()));
    }

    #[test]
    fn tracestate_members_are_joined_and_kept_in_order() {
        assert_eq!(
            state(&[
                "rojo=00f067aa0ba902b7",
                "congo=t61rcWkgMzE, tenant1@vendor=x y"
            ])
            .as_deref(),
            Some("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE,tenant1@vendor=x y")
        );
        // Empty members and optional white space are not forwarded.
        assert_eq!(state(&["a=1,,b=2"]).as_deref(), Some("a=1,b=2"));
        assert_eq!(
            state(&["foo=1 \t , \t bar=2,\tbaz=3"]).as_deref(),
            Some("foo=1,bar=2,baz=3")
        );
        assert_eq!(state(&["foo=1", ""]).as_deref(), Some("foo=1"));
        assert_eq!(state(&["", "foo=1"]).as_deref(), Some("foo=1"));
        assert_eq!(state(&[" , "]), None);
        // A value's leading spaces are part of it.
        assert_eq!(state(&["k=  v"]).as_deref(), Some("k=  v"));
        // A key twice is kept as it came.
        assert_eq!(state(&["foo=1,foo=2"]).as_deref(), Some("foo=1,foo=2"));
        assert_eq!(state(&["foo=1", "foo=1"]).as_deref(), Some("foo=1,foo=1"));
    }

    #[test]
    fn level_2_keys_are_accepted() {
        let all_chars = "abcdefghijklmnopqrstuvwxyz0123456789_-*/";
        let value: String = (0x20u8..=0x7e)
            .filter(|&b| b != b',' && b != b'=')
            .map(char::from)
            .collect();
        for key in [
            "foo@",
            "foo@@bar",
            "foo@bar@baz",
            "1abc",
            all_chars,
            &format!("{all_chars}@a-z0-9_-*/"),
            &"z".repeat(256),
            &format!("{}@{}", "t".repeat(241), "v".repeat(14)),
            &format!("{}@v", "t".repeat(242)),
            &format!("t@{}", "v".repeat(15)),
        ] {
            assert_eq!(
                state(&["foo=1", &format!("{key}={value}")])
                    .as_deref()
                    .map(|s| s.len()),
                // Within 512 characters unless the key is long.
                Some("foo=1,".len() + key.len() + 1 + value.len())
                    .filter(|&n| n <= MAX_TRACESTATE_LEN)
                    .or(Some(5)),
                "{key}"
            );
        }
    }

    #[test]
    fn an_invalid_member_or_too_many_drop_the_whole_tracestate() {
        let members = |n: usize| {
            (1..=n)
                .map(|i| format!("bar{i:02}={i:02}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        assert_eq!(
            state(&[&members(32)]).map(|s| s.split(',').count()),
            Some(32)
        );
        for bad in [
            members(33).as_str(),
            "novalue",
            "=v",
            "@foo=1,bar=2",
            "foo =1",
            "FOO=1",
            "foo.bar=1",
            "foo=bar=baz",
            "foo=,bar=3",
            "a=\tb",
            "a=\u{e9}",
            &format!("{}=1", "z".repeat(257)),
            &format!("k={}", "v".repeat(257)),
        ] {
            let got = extract(&headers(&[
                (&TRACEPARENT, VALID),
                (&TRACESTATE, "foo=1"),
                (&TRACESTATE, bad),
            ]));
            let context = got.context.expect("the traceparent is still continued");
            assert_eq!(context.tracestate(), None, "{bad:?}");
            assert!(got.rejected_tracestate.is_some(), "{bad:?}");
        }
    }

    #[test]
    fn a_long_tracestate_loses_whole_members_long_ones_first() {
        let long = format!("long={}", "x".repeat(200));
        let short = (0..30)
            .map(|i| format!("k{i:02}=vvvvvvvvvvv"))
            .collect::<Vec<_>>();
        // 30 × 15 + 29 commas = 479 characters, then a 205-character member.
        let mut all = short.clone();
        all.insert(3, long.clone());
        let got = state(&[&all.join(",")]).unwrap();
        assert_eq!(got, short.join(","), "the long member goes first");
        // Without long members: from the right.
        let many = (0..32)
            .map(|i| format!("k{i:02}={}", "v".repeat(20)))
            .collect::<Vec<_>>();
        let got = state(&[&many.join(",")]).unwrap();
        assert!(got.len() <= MAX_TRACESTATE_LEN);
        assert!(
            many.join(",").starts_with(&got),
            "members dropped from the right"
        );
        assert_eq!(got.split(',').count(), 20);
    }

    #[test]
    fn tracestate_without_a_valid_traceparent_is_not_read() {
        let got = extract(&headers(&[(&TRACEPARENT, "garbage"), (&TRACESTATE, "a=1")]));
        assert!(got.context.is_none());
        assert_eq!(got.rejected_traceparent, Some(7));
        assert_eq!(got.rejected_tracestate, None);
        assert!(TraceContext::from_headers(&headers(&[(&TRACESTATE, "a=1")])).is_none());
    }

    #[test]
    fn every_call_is_a_new_client_span() {
        let context =
            TraceContext::from_headers(&headers(&[(&TRACEPARENT, VALID), (&TRACESTATE, "a=1")]))
                .unwrap();
        let mut spans = Vec::new();
        for _ in 0..3 {
            let mut out = HeaderMap::new();
            let span = context.inject(&mut out).expect("a client span");
            let sent = parse(out[&TRACEPARENT].to_str().unwrap()).unwrap();
            assert_eq!(sent.trace_id, context.trace_id());
            assert_eq!(sent.parent_id, span);
            assert_eq!(sent.flags, SAMPLED);
            assert_eq!(out[&TRACESTATE], "a=1");
            spans.push(span);
        }
        spans.sort_by_key(|s| s.to_bytes());
        spans.dedup();
        assert_eq!(spans.len(), 3);

        // The request's own traceparent, copied onto the call: a span all the same.
        let mut out = headers(&[(&TRACEPARENT, VALID), (&TRACESTATE, "a=1")]);
        let span = context.inject(&mut out).expect("a client span");
        assert_eq!(out[&TRACEPARENT], context.child(span).header_value());
        assert_eq!(out[&TRACESTATE], "a=1");

        // A request with a traceparent of its own is left alone.
        let own = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        let mut out = headers(&[(&TRACEPARENT, own)]);
        assert_eq!(context.inject(&mut out), None);
        assert_eq!(out[&TRACEPARENT], own);
        assert!(!out.contains_key(&TRACESTATE));
    }

    #[test]
    fn hostile_headers_are_refused_without_panic() {
        let mut many = HeaderMap::new();
        for _ in 0..100 {
            many.append(TRACEPARENT, HeaderValue::from_static(VALID));
        }
        assert!(extract(&many).context.is_none());
        let huge = (0..5_000)
            .map(|i| format!("k{i}=vvvvvvvvvv"))
            .collect::<Vec<_>>()
            .join(",");
        assert!(huge.len() > 64 * 1024);
        assert_eq!(state(&[&huge]), None);
        let bytes: Vec<u8> = (0u8..=255)
            .filter(|&b| b != b'\r' && b != b'\n' && b != 0)
            .collect();
        for value in [&bytes[..], "00-\u{e9}".as_bytes(), &[b'0'; 70_000][..]] {
            if let Ok(value) = HeaderValue::from_bytes(value) {
                let mut map = HeaderMap::new();
                map.insert(TRACEPARENT, value.clone());
                map.insert(TRACESTATE, value);
                let got = extract(&map);
                assert!(got.context.is_none());
            }
        }
    }
}
