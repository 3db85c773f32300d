//! The cases of the W3C Trace Context test suite (github.com/w3c/trace-context,
//! `test/test.py`, at `SPEC_LEVEL=2` with the Level 2 `tracestate` key grammar),
//! written as this project's own tests: the service under test is
//! [`trace_context_service::app`] on 127.0.0.1, this file plays the suite's
//! harness. A request goes to the service with the case's headers, written on the
//! socket as given (names in any case, duplicates, white space); its body asks the
//! service to call the harness back; the harness records the `traceparent` and
//! `tracestate` headers of each call back and checks them as the suite does.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use keviq_testkit::serve::serve;

const TID: &str = "12345678901234567890123456789012";
const PID: &str = "1234567890123456";
const TP01: &str = "00-12345678901234567890123456789012-1234567890123456-01";
const TP00: &str = "00-12345678901234567890123456789012-1234567890123456-00";

/// What one call back carried.
#[derive(Debug, Clone, Default)]
struct Callback {
    traceparents: Vec<String>,
    tracestates: Vec<String>,
}

type Seen = Arc<Mutex<HashMap<String, Callback>>>;

/// The harness: records each call back under its path.
async fn harness() -> (SocketAddr, Seen) {
    let seen: Seen = Arc::default();
    let router = Router::new()
        .route(
            "/{scope}",
            post(
                |State(seen): State<Seen>, Path(scope): Path<String>, headers: HeaderMap| async move {
                    let values = |name: &str| {
                        headers
                            .get_all(name)
                            .iter()
                            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                            .collect()
                    };
                    let callback = Callback {
                        traceparents: values("traceparent"),
                        tracestates: values("tracestate"),
                    };
                    seen.lock().expect("harness lock").insert(scope, callback);
                    axum::Json(serde_json::Value::Null)
                },
            ),
        )
        .with_state(seen.clone());
    (serve(router).await, seen)
}

struct Suite {
    service: SocketAddr,
    harness: SocketAddr,
    seen: Seen,
    next: std::sync::atomic::AtomicU64,
}

impl Suite {
    async fn start() -> Self {
        // keviq's own server, as `keviq::axum::serve` runs it.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let service = listener.local_addr().expect("address");
        tokio::spawn(keviq::axum::serve_listener(
            listener,
            trace_context_service::app(),
            std::future::pending(),
        ));
        let (harness, seen) = harness().await;
        Self {
            service,
            harness,
            seen,
            next: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Sends `POST /test` with `headers` as written, asking for `calls` call backs;
    /// returns what each carried.
    async fn run(&self, headers: &[(&str, &str)], calls: usize) -> Vec<Callback> {
        let scope = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let urls: Vec<serde_json::Value> = (0..calls)
            .map(|i| {
                serde_json::json!({"url": format!("http://{}/s{scope}.{i}", self.harness), "arguments": []})
            })
            .collect();
        let body = serde_json::to_string(&urls).expect("JSON");
        let mut request = format!(
            "POST /test HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            self.service,
            body.len()
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(&body);
        let service = self.service;
        let response = tokio::task::spawn_blocking(move || {
            let mut stream = std::net::TcpStream::connect(service).expect("connect");
            stream.write_all(request.as_bytes()).expect("send");
            let mut response = String::new();
            let _ = stream.read_to_string(&mut response);
            response
        })
        .await
        .expect("the request task");
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        let seen = self.seen.lock().expect("harness lock");
        (0..calls)
            .map(|i| {
                seen.get(&format!("s{scope}.{i}"))
                    .cloned()
                    .unwrap_or_else(|| panic!("call back {i} of {headers:?} never came"))
            })
            .collect()
    }

    async fn one(&self, headers: &[(&str, &str)]) -> Callback {
        self.run(headers, 1).await.remove(0)
    }
}

/// The call back's `traceparent` as the suite reads it: exactly one header,
/// version `00`, lowercase hex, no zero IDs. `(trace id, parent id, flags)`.
fn traceparent(callback: &Callback) -> (String, String, u8) {
    assert_eq!(
        callback.traceparents.len(),
        1,
        "one traceparent: {callback:?}"
    );
    let value = &callback.traceparents[0];
    let fields: Vec<&str> = value.split('-').collect();
    assert_eq!(fields.len(), 4, "{value}");
    let hex = |s: &str, n: usize| {
        s.len() == n && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    assert_eq!(fields[0], "00", "{value}");
    assert!(hex(fields[1], 32) && fields[1] != "0".repeat(32), "{value}");
    assert!(hex(fields[2], 16) && fields[2] != "0".repeat(16), "{value}");
    assert!(hex(fields[3], 2), "{value}");
    (
        fields[1].to_owned(),
        fields[2].to_owned(),
        u8::from_str_radix(fields[3], 16).expect("hex flags"),
    )
}

/// The call back's `tracestate` as the suite reads it: every header, split on
/// commas with white space, each member `key=value` with Level 2's grammar; the
/// first of a repeated key wins. In order.
fn tracestate(callback: &Callback) -> Vec<(String, String)> {
    let mut members: Vec<(String, String)> = Vec::new();
    for value in &callback.tracestates {
        for member in value.split(',') {
            let member = member.trim_matches([' ', '\t']);
            if member.is_empty() {
                continue;
            }
            let (key, value) = member.split_once('=').expect(member);
            let key_ok = key.len() <= 256
                && key
                    .bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                && key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-*/@".contains(&b));
            let value_ok = !value.is_empty()
                && value.len() <= 256
                && !value.ends_with(' ')
                && value
                    .bytes()
                    .all(|b| (0x20..=0x7e).contains(&b) && b != b',' && b != b'=');
            assert!(key_ok && value_ok, "not a valid member: {member:?}");
            if !members.iter().any(|(k, _)| k == key) {
                members.push((key.to_owned(), value.to_owned()));
            }
        }
    }
    members
}

fn get<'a>(members: &'a [(String, String)], key: &str) -> Option<&'a str> {
    members
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The same trace, with a new parent-id.
fn same_trace(callback: &Callback) {
    let (trace, parent, _) = traceparent(callback);
    assert_eq!(trace, TID, "{callback:?}");
    assert_ne!(
        parent, PID,
        "the parent-id is this service's span: {callback:?}"
    );
}

/// A new trace (not `TID`).
fn new_trace(callback: &Callback) {
    let (trace, _, _) = traceparent(callback);
    assert_ne!(trace, TID, "{callback:?}");
}

#[tokio::test]
async fn traceparent_cases() {
    let suite = Suite::start().await;

    // Neither header: a new trace, sampled and random.
    let got = suite.one(&[]).await;
    assert_eq!(traceparent(&got).2, 0x03);
    // A valid one: the same trace, this service's span as the parent.
    same_trace(&suite.one(&[("traceparent", TP01)]).await);
    // Two headers: invalid, a new trace whatever they say.
    let got = suite
        .one(&[
            (
                "traceparent",
                "00-12345678901234567890123456789011-1234567890123456-01",
            ),
            ("traceparent", TP01),
        ])
        .await;
    let (trace, _, _) = traceparent(&got);
    assert!(trace != TID && trace != "12345678901234567890123456789011");
    // Header names: other spellings are other headers; any case is the same one.
    for name in ["trace-parent", "trace.parent"] {
        new_trace(&suite.one(&[(name, TP01)]).await);
    }
    for name in ["TraceParent", "TrAcEpArEnT", "TRACEPARENT"] {
        same_trace(&suite.one(&[(name, TP01)]).await);
    }
    // Version 00 is exactly 55 characters.
    for value in [
        format!("00-{TID}-{PID}-01."),
        format!("00-{TID}-{PID}-01-what-the-future-will-be-like"),
    ] {
        new_trace(&suite.one(&[("traceparent", &value)]).await);
    }
    // A later version: its first four fields, then the end or a `-`.
    for value in [
        format!("cc-{TID}-{PID}-01"),
        format!("cc-{TID}-{PID}-01-what-the-future-will-be-like"),
    ] {
        same_trace(&suite.one(&[("traceparent", &value)]).await);
    }
    let invalid = [
        format!("cc-{TID}-{PID}-01.what-the-future-will-be-like"),
        format!("ff-{TID}-{PID}-01"),
        format!(".0-{TID}-{PID}-01"),
        format!("0.-{TID}-{PID}-01"),
        format!("000-{TID}-{PID}-01"),
        format!("0000-{TID}-{PID}-01"),
        format!("0-{TID}-{PID}-01"),
        format!("00-{TID}-0000000000000000-01"),
        format!("00-{TID}-.234567890123456-01"),
        format!("00-{TID}-123456789012345.-01"),
        format!("00-{TID}-12345678901234567-01"),
        format!("00-{TID}-123456789012345-01"),
        format!("00-{TID}-{PID}-.0"),
        format!("00-{TID}-{PID}-0."),
        format!("00-{TID}-{PID}-001"),
        format!("00-{TID}-{PID}-1"),
        format!("00-{}-{PID}-01", TID.to_uppercase().replace('1', "A")),
    ];
    for value in &invalid {
        new_trace(&suite.one(&[("traceparent", value)]).await);
    }
    // Trace IDs that are invalid: a new, valid one (never salvaged by truncation).
    for value in [
        format!("00-{}-{PID}-01", "0".repeat(32)),
        format!("00-.2345678901234567890123456789012-{PID}-01"),
        format!("00-1234567890123456789012345678901.-{PID}-01"),
        format!("00-1234567890123456789012345678901-{PID}-01"),
    ] {
        new_trace(&suite.one(&[("traceparent", &value)]).await);
    }
    let got = suite
        .one(&[(
            "traceparent",
            &format!("00-123456789012345678901234567890123-{PID}-01"),
        )])
        .await;
    let (trace, _, _) = traceparent(&got);
    assert!(trace != TID && trace != "23456789012345678901234567890123");
    // White space around the value.
    for value in [
        format!(" {TP01}"),
        format!("\t{TP01}"),
        format!("{TP01} "),
        format!("{TP01}\t"),
        format!("\t {TP01} \t"),
    ] {
        same_trace(&suite.one(&[("traceparent", &value)]).await);
    }
}

#[tokio::test]
async fn tracestate_cases() {
    let suite = Suite::start().await;

    // Without a traceparent, a tracestate is not read.
    let one = tracestate(&suite.one(&[("tracestate", "foo=1")]).await);
    let two = tracestate(&suite.one(&[("tracestate", "foo=1,bar=2")]).await);
    assert_eq!(one.len(), two.len());
    assert_eq!(get(&one, "foo"), None);

    let got = suite
        .one(&[("traceparent", TP00), ("tracestate", "foo=1,bar=2")])
        .await;
    same_trace(&got);
    let members = tracestate(&got);
    assert_eq!(get(&members, "foo"), Some("1"));
    assert_eq!(get(&members, "bar"), Some("2"));

    for name in ["trace-state", "trace.state"] {
        let got = suite.one(&[("traceparent", TP00), (name, "foo=1")]).await;
        assert_eq!(get(&tracestate(&got), "foo"), None);
    }
    for name in ["TraceState", "TrAcEsTaTe", "TRACESTATE"] {
        let got = suite.one(&[("traceparent", TP00), (name, "foo=1")]).await;
        assert_eq!(get(&tracestate(&got), "foo"), Some("1"));
    }

    // Empty headers are empty members.
    same_trace(
        &suite
            .one(&[("traceparent", TP00), ("tracestate", "")])
            .await,
    );
    for headers in [
        [
            ("traceparent", TP00),
            ("tracestate", "foo=1"),
            ("tracestate", ""),
        ],
        [
            ("traceparent", TP00),
            ("tracestate", ""),
            ("tracestate", "foo=1"),
        ],
    ] {
        let got = suite.one(&headers).await;
        same_trace(&got);
        assert_eq!(get(&tracestate(&got), "foo"), Some("1"));
    }

    // Several headers: one list, in order.
    let got = suite
        .one(&[
            ("traceparent", TP00),
            ("tracestate", "foo=1,bar=2"),
            ("tracestate", "rojo=1,congo=2"),
            ("tracestate", "baz=3"),
        ])
        .await;
    same_trace(&got);
    let keys: Vec<String> = tracestate(&got).into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["foo", "bar", "rojo", "congo", "baz"]);

    // A repeated key does not drop the list.
    for headers in [
        vec![("tracestate", "foo=1,foo=1")],
        vec![("tracestate", "foo=1,foo=2")],
        vec![("tracestate", "foo=1"), ("tracestate", "foo=1")],
        vec![("tracestate", "foo=1"), ("tracestate", "foo=2")],
    ] {
        let mut all = vec![("traceparent", TP00)];
        all.extend(headers);
        let got = suite.one(&all).await;
        same_trace(&got);
        assert!(matches!(get(&tracestate(&got), "foo"), Some("1" | "2")));
    }

    // Every character the grammar allows, in keys and values.
    let key = "abcdefghijklmnopqrstuvwxyz0123456789_-*/";
    let value: String = (0x20u8..=0x7e)
        .filter(|&b| b != b',' && b != b'=')
        .map(char::from)
        .collect();
    for key in [key.to_owned(), format!("{key}@a-z0-9_-*/")] {
        let got = suite
            .one(&[
                ("traceparent", TP00),
                ("tracestate", &format!("{key}={value}")),
            ])
            .await;
        assert_eq!(get(&tracestate(&got), &key), Some(value.as_str()));
    }

    // White space around members.
    for state in [
        "foo=1 \t , \t bar=2, \t baz=3",
        "foo=1\t \t,\t \tbar=2,\t \tbaz=3",
    ] {
        let members = tracestate(
            &suite
                .one(&[("traceparent", TP00), ("tracestate", state)])
                .await,
        );
        assert_eq!(get(&members, "foo"), Some("1"));
        assert_eq!(get(&members, "bar"), Some("2"));
        assert_eq!(get(&members, "baz"), Some("3"));
    }
    for state in [" foo=1", "\tfoo=1", "foo=1 ", "foo=1\t", "\t foo=1 \t"] {
        let got = suite
            .one(&[("traceparent", TP00), ("tracestate", state)])
            .await;
        same_trace(&got);
        assert_eq!(get(&tracestate(&got), "foo"), Some("1"));
    }
}

#[tokio::test]
async fn strict_tracestate_cases() {
    let suite = Suite::start().await;
    let members_of = |headers: Vec<(&'static str, String)>| {
        let suite = &suite;
        async move {
            let mut all: Vec<(&str, &str)> = vec![("traceparent", TP00)];
            all.extend(headers.iter().map(|(n, v)| (*n, v.as_str())));
            let got = suite.one(&all).await;
            same_trace(&got);
            tracestate(&got)
        }
    };

    // An invalid key drops the list.
    for state in ["foo =1", "FOO=1", "foo.bar=1"] {
        let members = members_of(vec![("tracestate", state.to_owned())]).await;
        assert!(members.is_empty(), "{state}: {members:?}");
    }
    // Level 2 keys: `@` anywhere after the first character.
    for (state, key) in [
        ("foo@=1,bar=2", "foo@"),
        ("foo@@bar=1,bar=2", "foo@@bar"),
        ("foo@bar@baz=1,bar=2", "foo@bar@baz"),
    ] {
        let members = members_of(vec![("tracestate", state.to_owned())]).await;
        assert_eq!(get(&members, key), Some("1"), "{state}");
        assert_eq!(get(&members, "bar"), Some("2"), "{state}");
    }
    let members = members_of(vec![("tracestate", "@foo=1,bar=2".to_owned())]).await;
    assert_eq!(get(&members, "bar"), None);

    // 32 members are kept, 33 drop the list.
    let run = |from: usize, to: usize| {
        (from..=to)
            .map(|i| format!("bar{i:02}={i:02}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let headers = |last: usize| {
        vec![
            ("tracestate", run(1, 10)),
            ("tracestate", run(11, 20)),
            ("tracestate", run(21, 30)),
            ("tracestate", run(31, last)),
        ]
    };
    let members = members_of(headers(32)).await;
    assert_eq!(get(&members, "bar01"), Some("01"));
    assert_eq!(members.len(), 32);
    let members = members_of(headers(33)).await;
    assert_eq!(get(&members, "bar01"), None);

    // Key lengths: up to 256 characters, `@` anywhere.
    for (key, kept) in [
        ("z".repeat(256), true),
        ("z".repeat(257), false),
        (format!("{}@{}", "t".repeat(241), "v".repeat(14)), true),
        (format!("{}@v", "t".repeat(242)), true),
        (format!("t@{}", "v".repeat(15)), true),
    ] {
        let members = members_of(vec![
            ("tracestate", "foo=1".to_owned()),
            ("tracestate", format!("{key}=1")),
        ])
        .await;
        assert_eq!(get(&members, "foo").is_some(), kept, "{}", key.len());
        assert_eq!(get(&members, &key).is_some(), kept, "{}", key.len());
    }

    // Invalid values drop the list.
    let members = members_of(vec![("tracestate", "foo=bar=baz".to_owned())]).await;
    assert_eq!(get(&members, "foo"), None);
    let members = members_of(vec![("tracestate", "foo=,bar=3".to_owned())]).await;
    assert!(get(&members, "foo").is_none() && get(&members, "bar").is_none());
}

#[tokio::test]
async fn every_call_is_a_span_of_its_own() {
    let suite = Suite::start().await;
    let zero_trace = format!("00-{}-{PID}-01", "0".repeat(32));
    for headers in [
        vec![("traceparent", TP01)],
        vec![],
        vec![("traceparent", zero_trace.as_str())],
    ] {
        let calls = suite.run(&headers, 3).await;
        let parsed: Vec<(String, String, u8)> = calls.iter().map(traceparent).collect();
        let mut parents: Vec<&String> = parsed.iter().map(|(_, p, _)| p).collect();
        parents.sort();
        parents.dedup();
        assert_eq!(parents.len(), 3, "a new parent-id per call: {calls:?}");
        assert!(
            parsed.iter().all(|(t, _, _)| *t == parsed[0].0),
            "one trace"
        );
        if headers.first().is_some_and(|(_, v)| *v == TP01) {
            assert_eq!(parsed[0].0, TID);
        }
    }
}

#[tokio::test]
async fn the_random_flag_is_kept_and_set_on_new_traces() {
    let suite = Suite::start().await;
    let got = suite
        .one(&[("traceparent", &format!("00-{TID}-{PID}-02"))])
        .await;
    same_trace(&got);
    assert_eq!(traceparent(&got).2, 0x02, "random kept, unsampled kept");
    let got = suite.one(&[("traceparent", TP00)]).await;
    assert_eq!(
        traceparent(&got).2,
        0x00,
        "no random flag when the caller set none"
    );
    let got = suite
        .one(&[("traceparent", &format!("00-{TID}-{PID}-ff"))])
        .await;
    assert_eq!(traceparent(&got).2, 0x03, "unknown flags go on as zero");
    // A restarted trace has flags of its own: sampled and random.
    let got = suite
        .one(&[("traceparent", &format!("00-{TID}-{PID}-2"))])
        .await;
    new_trace(&got);
    assert_eq!(traceparent(&got).2, 0x03);
}

#[tokio::test]
async fn hostile_trace_headers_are_served_and_never_echoed() {
    let suite = Suite::start().await;
    let many: Vec<(&str, &str)> = std::iter::repeat_n(("traceparent", TP01), 100).collect();
    new_trace(&suite.one(&many).await);
    let huge = (0..4_000)
        .map(|i| format!("k{i}=vvvvvvvvvvvvv"))
        .collect::<Vec<_>>()
        .join(",");
    assert!(huge.len() > 64 * 1024);
    let got = suite
        .one(&[("traceparent", TP01), ("tracestate", &huge)])
        .await;
    same_trace(&got);
    assert!(tracestate(&got).is_empty());
    let got = suite
        .one(&[
            ("traceparent", "00-\u{e9}\u{e9}-\tx\u{ff}"),
            ("tracestate", "k=\u{e9},j=\tv"),
        ])
        .await;
    let (trace, _, _) = traceparent(&got);
    assert_ne!(trace, TID);
    assert!(got.tracestates.is_empty());
    // Control bytes other than a tab are refused by the HTTP parser itself (400),
    // before any middleware: nothing to serve, nothing echoed.
    // A later version with fields of its own: the trace continues, as version 00.
    let future = format!("01-{TID}-{PID}-01-{}", "ab".repeat(200));
    same_trace(&suite.one(&[("traceparent", &future)]).await);
}
