//! A request's log lines as a tree of spans: each span line (`"target":
//! "keviq::span"`) is a span; the other lines go under the span whose `span_id`
//! they carry; spans are ordered parent first, children by start time.
//!
//! A span whose parent is not among the lines (the caller is outside the fleet, or
//! a service that does not log) is kept at the top, marked `parent_missing`.

use serde::Serialize;
use serde_json::{Map, Value};

/// The span lines' target.
pub const SPAN_TARGET: &str = "keviq::span";

/// One span: a request a service handled (`server`) or a call it made (`client`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Span {
    /// The trace it belongs to.
    pub trace_id: Option<String>,
    /// Its ID.
    pub span_id: String,
    /// The span it was made for, if any.
    pub parent_span_id: Option<String>,
    /// The parent is not among the lines read.
    pub parent_missing: bool,
    /// How deep it is drawn: 0 for a span at the top.
    pub depth: usize,
    /// The service that wrote it.
    pub service: Option<String>,
    /// `server` or `client`.
    pub kind: Option<String>,
    /// The HTTP method.
    pub method: Option<String>,
    /// The route template (server) or the path called (client).
    pub route: Option<String>,
    /// The service called (`host:port`, client spans).
    pub peer: Option<String>,
    /// The status answered or received.
    pub status: Option<u64>,
    /// Why a call failed (client spans).
    pub error: Option<String>,
    /// Start, milliseconds since the epoch.
    pub start: Option<u64>,
    /// Duration in milliseconds.
    pub duration_ms: Option<f64>,
    /// The span's own log lines (the span line itself left out), oldest first.
    pub lines: Vec<Map<String, Value>>,
}

/// What `/api/v1/requests/{id}` and `/api/v1/traces/{id}` answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trace {
    /// The request ID asked for, or the first seen in the trace.
    pub request_id: Option<String>,
    /// The trace (the first, if the request's lines name several).
    pub trace_id: Option<String>,
    /// The services that logged, in order of first appearance.
    pub services: Vec<String>,
    /// The spans, parents first (depth-first, children by start).
    pub spans: Vec<Span>,
    /// Every line, oldest first (span lines included).
    pub lines: Vec<Map<String, Value>>,
    /// A bound cut the lines short, or older lines were forgotten.
    pub truncated: bool,
}

fn text(line: &Map<String, Value>, key: &str) -> Option<String> {
    line.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn timestamp(line: &Map<String, Value>) -> &str {
    line.get("timestamp").and_then(Value::as_str).unwrap_or("")
}

impl Trace {
    /// Builds the tree of `lines` (in any order).
    pub fn build(
        request_id: Option<String>,
        mut lines: Vec<Map<String, Value>>,
        truncated: bool,
    ) -> Self {
        // RFC 3339 timestamps in UTC, as keviq writes them, sort as text.
        lines.sort_by(|a, b| timestamp(a).cmp(timestamp(b)));
        let mut services: Vec<String> = Vec::new();
        let mut spans: Vec<Span> = Vec::new();
        for line in &lines {
            if let Some(service) = line.get("service").and_then(Value::as_str)
                && !services.iter().any(|s| s == service)
            {
                services.push(service.to_owned());
            }
            if line.get("target").and_then(Value::as_str) == Some(SPAN_TARGET)
                && let Some(span_id) = text(line, "span_id")
                && !spans.iter().any(|s| s.span_id == span_id)
            {
                spans.push(Span {
                    trace_id: text(line, "trace_id"),
                    span_id,
                    parent_span_id: text(line, "parent_span_id"),
                    parent_missing: false,
                    depth: 0,
                    service: text(line, "service"),
                    kind: text(line, "kind"),
                    method: text(line, "method"),
                    route: text(line, "route").or_else(|| text(line, "path")),
                    peer: text(line, "peer"),
                    status: line.get("status").and_then(Value::as_u64),
                    error: text(line, "error"),
                    start: line.get("start_ms").and_then(Value::as_u64),
                    duration_ms: line.get("duration_ms").and_then(Value::as_f64),
                    lines: Vec::new(),
                });
            }
        }
        // Each other line under the span it names.
        for line in &lines {
            if line.get("target").and_then(Value::as_str) == Some(SPAN_TARGET) {
                continue;
            }
            if let Some(span_id) = line.get("span_id").and_then(Value::as_str)
                && let Some(span) = spans.iter_mut().find(|s| s.span_id == span_id)
            {
                span.lines.push(line.clone());
            }
        }
        let spans = nest(spans);
        let trace_id = spans
            .iter()
            .find_map(|s| s.trace_id.clone())
            .or_else(|| lines.iter().find_map(|l| text(l, "trace_id")));
        let request_id = request_id.or_else(|| lines.iter().find_map(|l| text(l, "request_id")));
        Self {
            request_id,
            trace_id,
            services,
            spans,
            lines,
            truncated,
        }
    }
}

/// Orders spans depth-first, parents before children, siblings by start; marks
/// those whose parent is missing.
fn nest(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort_by_key(|s| s.start.unwrap_or(0));
    let ids: Vec<String> = spans.iter().map(|s| s.span_id.clone()).collect();
    for span in &mut spans {
        span.parent_missing = span
            .parent_span_id
            .as_ref()
            .is_some_and(|p| !ids.contains(p));
    }
    let mut ordered = Vec::with_capacity(spans.len());
    let mut placed = vec![false; spans.len()];
    // Tops first (no parent, or a missing one), each followed by its subtree.
    let tops: Vec<usize> = (0..spans.len())
        .filter(|&i| spans[i].parent_span_id.is_none() || spans[i].parent_missing)
        .collect();
    let mut stack: Vec<(usize, usize)> = tops.into_iter().rev().map(|i| (i, 0)).collect();
    while let Some((i, depth)) = stack.pop() {
        if placed[i] {
            continue;
        }
        placed[i] = true;
        let mut span = spans[i].clone();
        span.depth = depth;
        let id = span.span_id.clone();
        ordered.push(span);
        let children: Vec<usize> = (0..spans.len())
            .filter(|&c| !placed[c] && spans[c].parent_span_id.as_deref() == Some(id.as_str()))
            .collect();
        stack.extend(children.into_iter().rev().map(|c| (c, depth + 1)));
    }
    // A cycle (IDs reused by a broken client) leaves spans unplaced: keep them at the top.
    for (i, span) in spans.into_iter().enumerate() {
        if !placed[i] {
            ordered.push(Span {
                parent_missing: true,
                ..span
            });
        }
    }
    ordered
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(json: &str) -> Map<String, Value> {
        match serde_json::from_str(json).expect("JSON") {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn spans_nest_by_parent_and_take_their_lines() {
        let lines = vec![
            line(
                r#"{"timestamp":"3","target":"keviq::span","service":"b","kind":"server","span_id":"s3","parent_span_id":"s2","trace_id":"t","request_id":"r","route":"/b","status":200,"start_ms":3,"duration_ms":1.0}"#,
            ),
            line(
                r#"{"timestamp":"4","target":"keviq::span","service":"a","kind":"client","span_id":"s2","parent_span_id":"s1","trace_id":"t","request_id":"r","peer":"b:8000","path":"/b","status":200,"start_ms":2,"duration_ms":3.0}"#,
            ),
            line(
                r#"{"timestamp":"5","target":"keviq::span","service":"a","kind":"server","span_id":"s1","parent_span_id":"p0","trace_id":"t","request_id":"r","route":"/a","status":502,"start_ms":1,"duration_ms":6.0}"#,
            ),
            line(
                r#"{"timestamp":"2","target":"app","service":"b","span_id":"s3","request_id":"r","message":"in b"}"#,
            ),
            line(
                r#"{"timestamp":"6","target":"keviq::span","service":"c","kind":"server","span_id":"x1","parent_span_id":"gone","trace_id":"t","request_id":"r","start_ms":2}"#,
            ),
        ];
        let trace = Trace::build(Some("r".into()), lines, false);
        let order: Vec<(&str, usize, bool)> = trace
            .spans
            .iter()
            .map(|s| (s.span_id.as_str(), s.depth, s.parent_missing))
            .collect();
        assert_eq!(
            order,
            [
                ("s1", 0, true),
                ("s2", 1, false),
                ("s3", 2, false),
                ("x1", 0, true)
            ]
        );
        assert_eq!(trace.trace_id.as_deref(), Some("t"));
        assert_eq!(trace.services, ["b", "a", "c"]);
        let s3 = &trace.spans[2];
        assert_eq!(s3.lines.len(), 1);
        assert_eq!(s3.route.as_deref(), Some("/b"));
        assert_eq!(
            trace.spans[1].route.as_deref(),
            Some("/b"),
            "a client span's path"
        );
        assert_eq!(trace.spans[0].status, Some(502));
        assert_eq!(trace.lines.len(), 5);
    }

    #[test]
    fn a_cycle_is_kept_at_the_top() {
        let lines = vec![
            line(r#"{"target":"keviq::span","span_id":"a","parent_span_id":"b"}"#),
            line(r#"{"target":"keviq::span","span_id":"b","parent_span_id":"a"}"#),
        ];
        let trace = Trace::build(None, lines, false);
        assert_eq!(trace.spans.len(), 2);
        assert!(trace.spans.iter().all(|s| s.parent_missing));
    }
}
