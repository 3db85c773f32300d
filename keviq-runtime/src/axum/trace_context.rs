//! W3C Trace Context (<https://www.w3.org/TR/trace-context/>): a valid incoming
//! `traceparent` (with its `tracestate`) is kept for the request and forwarded on
//! its outgoing calls; an invalid one is ignored.
//!
//! keviq is not a tracer: it passes the caller's trace context through unchanged,
//! as the specification allows a pass-through service to (it does not start spans
//! or mint parent IDs). What it adds is correlation: the trace ID is a field of
//! every JSON log line of the request (`trace_id`) and, with the request ID, the
//! exemplar of the request's latency bucket.
//!
//! [`RequestIdLayer`](super::RequestIdLayer) reads the headers; the context is then
//! 1. in the request's extensions as a [`TraceContext`], and available to any code
//!    of the request's task through [`current`];
//! 2. forwarded by [`ForwardRequestIdLayer`](super::ForwardRequestIdLayer), with
//!    `X-Request-ID`, on outgoing requests that carry no `traceparent` of their own;
//! 3. the `trace_id` field of the `request` span and of keviq's JSON log lines.
//!
//! # What is valid
//!
//! `traceparent` is `version-trace_id-parent_id-flags` in lowercase hex (2, 32, 16
//! and 2 digits). It is ignored when the version is `ff` or not hex, a field has the
//! wrong length or an upper-case or non-hex digit, the trace ID or the parent ID is
//! all zeros, a version `00` value has anything after the flags, or the request has
//! two `traceparent` headers. A higher version is read as the specification says
//! (its first four fields, then the end or a `-`) and forwarded as version `00` with
//! only the `sampled` flag. Spaces and tabs around the value are allowed.
//!
//! `tracestate` is kept opaque but bounded: the values of every `tracestate` header
//! joined with `,`, at most [`MAX_TRACESTATE_LEN`] bytes, at most
//! [`MAX_TRACESTATE_MEMBERS`] list members, each `key=value` with the
//! specification's key and value grammar and no key twice. Anything else drops the
//! whole `tracestate` (the `traceparent` is still kept); without a valid
//! `traceparent` it is never read.
//!
//! An ignored header is removed from the request, so no handler forwards it by
//! copying headers, and is never echoed nor logged: only its length is, at `DEBUG`.

use std::fmt;

use http::{HeaderMap, HeaderName, HeaderValue};

use super::request_id;

/// The `traceparent` header.
pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
/// The `tracestate` header.
pub const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");
/// The longest `tracestate` kept, in bytes (all headers joined): the length the
/// specification asks every vendor to propagate.
pub const MAX_TRACESTATE_LEN: usize = 512;
/// The most list members a kept `tracestate` has (the specification's limit).
pub const MAX_TRACESTATE_MEMBERS: usize = 32;

/// The length of a version `00` `traceparent`.
const TRACEPARENT_LEN: usize = 55;

/// A trace ID: 16 bytes, never all zeros; shown as 32 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceId([u8; 16]);

/// The ID of the caller's span (`parent-id`): 8 bytes, never all zeros.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ParentId([u8; 8]);

impl TraceId {
    /// The 16 bytes.
    pub const fn to_bytes(self) -> [u8; 16] {
        self.0
    }

    /// The 32 lowercase hex digits, written into `buf`.
    pub fn hex<'b>(&self, buf: &'b mut [u8; 32]) -> &'b str {
        encode_hex(&self.0, buf)
    }
}

impl ParentId {
    /// The 8 bytes.
    pub const fn to_bytes(self) -> [u8; 8] {
        self.0
    }
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

impl fmt::Display for ParentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(encode_hex(&self.0, &mut [0; 16]))
    }
}

impl fmt::Debug for ParentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ParentId({self})")
    }
}

/// A parsed `traceparent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceParent {
    /// The trace the request belongs to.
    pub trace_id: TraceId,
    /// The caller's span.
    pub parent_id: ParentId,
    /// `trace-flags` (bit 0: sampled).
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
            parent_id: ParentId(parent_id),
            // Only `sampled` means the same in every version.
            flags: if version == 0 { flags } else { flags & 1 },
        })
    }

    /// Whether the caller sampled (recorded) the trace.
    pub fn sampled(&self) -> bool {
        self.flags & 1 == 1
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

/// The trace context a request came with: its `traceparent` and, if valid, its
/// `tracestate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    parent: TraceParent,
    tracestate: Option<HeaderValue>,
}

/// What the request's headers hold.
#[derive(Debug)]
pub(crate) struct Extracted {
    pub(crate) context: Option<TraceContext>,
    /// Length of an ignored `traceparent` (all of them, when there are several).
    pub(crate) rejected_traceparent: Option<usize>,
    /// Length of an ignored `tracestate` (all headers joined).
    pub(crate) rejected_tracestate: Option<usize>,
}

impl TraceContext {
    /// The trace context of `headers`, if they hold a valid `traceparent`.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        extract(headers).context
    }

    /// The trace ID.
    pub fn trace_id(&self) -> TraceId {
        self.parent.trace_id
    }

    /// The parsed `traceparent`.
    pub fn traceparent(&self) -> &TraceParent {
        &self.parent
    }

    /// The `tracestate` kept with it (the headers' values joined with `,`).
    pub fn tracestate(&self) -> Option<&HeaderValue> {
        self.tracestate.as_ref()
    }

    /// Sets `traceparent` and `tracestate` on an outgoing request that has no
    /// `traceparent` of its own (and keeps its own `tracestate` if it has one).
    pub fn inject(&self, headers: &mut HeaderMap) {
        if headers.contains_key(TRACEPARENT) {
            return;
        }
        headers.insert(TRACEPARENT, self.parent.header_value());
        if let Some(state) = &self.tracestate
            && !headers.contains_key(TRACESTATE)
        {
            headers.insert(TRACESTATE, state.clone());
        }
    }
}

/// The trace context of the request the current task is handling, if it came with
/// one.
pub fn current() -> Option<TraceContext> {
    request_id::with_context(|c| c.trace.clone()).flatten()
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
        len += other.len();
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
        context: Some(TraceContext { parent, tracestate }),
        rejected_traceparent: None,
        rejected_tracestate,
    }
}

/// The `tracestate` headers joined, if valid and not empty; `Err(length)` if invalid.
fn tracestate(headers: &HeaderMap) -> Result<Option<HeaderValue>, usize> {
    let mut values = headers.get_all(TRACESTATE).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    let mut joined: Option<Vec<u8>> = None;
    let mut len = first.len();
    for more in values {
        len += 1 + more.len();
        // Beyond the bound the value is dropped anyway: stop copying.
        if len <= MAX_TRACESTATE_LEN {
            let buf = joined.get_or_insert_with(|| first.as_bytes().to_vec());
            buf.push(b',');
            buf.extend_from_slice(more.as_bytes());
        }
    }
    if len > MAX_TRACESTATE_LEN {
        return Err(len);
    }
    let bytes = joined.as_deref().unwrap_or(first.as_bytes());
    match members(bytes) {
        None => Err(len),
        Some(0) => Ok(None),
        Some(_) => Ok(Some(match joined {
            Some(buf) => HeaderValue::from_bytes(&buf).map_err(|_| len)?,
            None => first.clone(),
        })),
    }
}

/// The number of list members of a valid `tracestate`, or `None` if it is invalid.
/// Empty members (`a=1,,b=2`) are allowed and not counted.
fn members(value: &[u8]) -> Option<usize> {
    let mut keys: [&[u8]; MAX_TRACESTATE_MEMBERS] = [&[]; MAX_TRACESTATE_MEMBERS];
    let mut count = 0;
    for member in value.split(|&b| b == b',') {
        let member = trim_ows(member);
        if member.is_empty() {
            continue;
        }
        if count == MAX_TRACESTATE_MEMBERS {
            return None;
        }
        let eq = member.iter().position(|&b| b == b'=')?;
        let (key, value) = (&member[..eq], &member[eq + 1..]);
        if !valid_key(key) || !valid_value(value) || keys[..count].contains(&key) {
            return None;
        }
        keys[count] = key;
        count += 1;
    }
    Some(count)
}

/// `simple-key = lcalpha 0*255(keychar)`, or
/// `tenant-id "@" system-id` with `tenant-id = (lcalpha / DIGIT) 0*240(keychar)` and
/// `system-id = lcalpha 0*13(keychar)`.
fn valid_key(key: &[u8]) -> bool {
    fn keychar(b: &u8) -> bool {
        b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'*' | b'/')
    }
    fn part(s: &[u8], max: usize, digit_first: bool) -> bool {
        match s.first() {
            Some(first) => {
                s.len() <= max
                    && (first.is_ascii_lowercase() || (digit_first && first.is_ascii_digit()))
                    && s.iter().all(keychar)
            }
            None => false,
        }
    }
    match key.iter().position(|&b| b == b'@') {
        None => part(key, 256, false),
        Some(at) => part(&key[..at], 241, true) && part(&key[at + 1..], 14, false),
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
        ] {
            let p = parse(case).unwrap();
            assert_eq!(p.flags, 1, "only `sampled` is known across versions");
            assert_eq!(p.header_value(), VALID);
        }
    }

    fn headers(pairs: &[(&HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_bytes(value.as_bytes()).unwrap());
        }
        map
    }

    #[test]
    fn two_traceparents_are_refused() {
        let got = extract(&headers(&[(&TRACEPARENT, VALID), (&TRACEPARENT, VALID)]));
        assert!(got.context.is_none());
        assert_eq!(got.rejected_traceparent, Some(2 * VALID.len()));
    }

    #[test]
    fn tracestate_is_kept_joined_and_bounded() {
        let got = TraceContext::from_headers(&headers(&[
            (&TRACEPARENT, VALID),
            (&TRACESTATE, "rojo=00f067aa0ba902b7"),
            (&TRACESTATE, "congo=t61rcWkgMzE, tenant1@vendor=x y"),
        ]))
        .unwrap();
        assert_eq!(
            got.tracestate().unwrap(),
            "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE, tenant1@vendor=x y"
        );

        let single = headers(&[(&TRACEPARENT, VALID), (&TRACESTATE, "a=1,,b=2")]);
        assert_eq!(
            TraceContext::from_headers(&single)
                .unwrap()
                .tracestate()
                .unwrap(),
            "a=1,,b=2"
        );
        // Empty: nothing to forward.
        let empty = headers(&[(&TRACEPARENT, VALID), (&TRACESTATE, " , ")]);
        assert_eq!(
            TraceContext::from_headers(&empty).unwrap().tracestate(),
            None
        );

        let members = |n: usize| {
            (0..n)
                .map(|i| format!("k{i}=v"))
                .collect::<Vec<_>>()
                .join(",")
        };
        let ok = headers(&[(&TRACEPARENT, VALID), (&TRACESTATE, &members(32))]);
        assert!(
            TraceContext::from_headers(&ok)
                .unwrap()
                .tracestate()
                .is_some()
        );
        let too_many = members(33);
        let too_long = format!("k={}", "v".repeat(256)) + &format!(",j={}", "v".repeat(256));
        for bad in [
            too_many.as_str(),
            too_long.as_str(),
            "novalue",
            "=v",
            "Upper=v",
            "1abc=v",
            "a=b=c",
            "a=1,a=2",
            "a=",
            "a=\u{e9}",
            &format!("k={}", "v".repeat(257)),
            "tenant@Vendor=v",
            "tenant@vendorislongerthan14=v",
            "@vendor=v",
            "tenant@=v",
        ] {
            let got = extract(&headers(&[(&TRACEPARENT, VALID), (&TRACESTATE, bad)]));
            let context = got.context.expect("the traceparent is still kept");
            assert_eq!(context.tracestate(), None, "{bad:?}");
            assert!(got.rejected_tracestate.is_some(), "{bad:?}");
        }
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
    fn inject_never_overrides_the_callers_own_headers() {
        let context =
            TraceContext::from_headers(&headers(&[(&TRACEPARENT, VALID), (&TRACESTATE, "a=1")]))
                .unwrap();
        let mut out = HeaderMap::new();
        context.inject(&mut out);
        assert_eq!(out[&TRACEPARENT], VALID);
        assert_eq!(out[&TRACESTATE], "a=1");

        let own = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        let mut out = headers(&[(&TRACEPARENT, own)]);
        context.inject(&mut out);
        assert_eq!(out[&TRACEPARENT], own);
        assert!(!out.contains_key(&TRACESTATE));
    }
}
