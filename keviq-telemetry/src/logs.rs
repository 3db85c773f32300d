//! The log lines of one request, read from the fleet's JSON log files
//! (`TELEMETRY_LOG_FILES`): what `GET /api/v1/requests/{request_id}` answers.
//!
//! Every keviq service writes one JSON object per line with `timestamp`, `service`
//! and, inside a request, `request_id` (see `keviq::logging`). Reading is bounded
//! whatever the files hold: only the last [`LogLimits::scan_bytes`] of each file
//! are read, a line longer than [`LogLimits::line_bytes`] is skipped, at most
//! [`LogLimits::max_lines`] lines are kept, and the scan stops at
//! [`LogLimits::deadline`]. A result cut by any of these says so (`truncated`).

use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use keviq::axum::names::TRUNCATION_MARK;
use serde::Serialize;
use serde_json::{Map, Value};

/// How much of the log files one request may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLimits {
    /// Bytes read from the end of each file.
    pub scan_bytes: u64,
    /// Longest line considered; longer ones are skipped.
    pub line_bytes: usize,
    /// Lines kept at most.
    pub max_lines: usize,
    /// Time the whole scan may take.
    pub deadline: Duration,
}

impl LogLimits {
    /// 64 MiB per file, lines up to 64 KiB, 1,000 lines, 2 s.
    pub const DEFAULT: Self = Self {
        scan_bytes: 64 << 20,
        line_bytes: 64 << 10,
        max_lines: 1_000,
        deadline: Duration::from_secs(2),
    };
}

impl Default for LogLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The log lines of one request, in time order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestLog {
    /// The request's correlation ID.
    pub request_id: String,
    /// The lines, as the services wrote them, oldest first.
    pub lines: Vec<Map<String, Value>>,
    /// The services that logged the request, in order of first appearance.
    pub services: Vec<String>,
    /// Whether a limit cut the scan short (older lines may exist).
    pub truncated: bool,
}

/// Reads the log lines of `request_id` from `paths`. A file that cannot be read is
/// skipped with a warning: the others still answer.
///
/// An ID ending in [`TRUNCATION_MARK`] (`…`) is one an exemplar had to shorten to fit
/// the OpenMetrics budget: it matches every ID starting with what precedes the mark.
pub fn request_log(paths: &[PathBuf], request_id: &str, limits: LogLimits) -> RequestLog {
    let started = Instant::now();
    let (key, prefix) = match request_id.strip_suffix(TRUNCATION_MARK) {
        Some(key) => (key, true),
        None => (request_id, false),
    };
    // Serialized with serde_json, the ID appears exactly like this in its lines (a
    // prefix without its closing quote).
    let mut needle = format!("\"request_id\":{}", Value::from(key));
    if prefix {
        needle.pop();
    }
    let matcher = IdMatch { key, prefix };
    let mut lines = Vec::new();
    let mut truncated = false;
    for path in paths {
        match scan_file(path, &needle, matcher, limits, started, &mut lines) {
            Ok(cut) => truncated |= cut,
            Err(e) => tracing::warn!(path = %path.display(), error = %e, "cannot read log file"),
        }
        if lines.len() >= limits.max_lines || started.elapsed() >= limits.deadline {
            truncated = true;
            break;
        }
    }
    lines.truncate(limits.max_lines);
    // RFC 3339 timestamps in UTC, as keviq writes them, sort as text.
    lines.sort_by(|a, b| timestamp(a).cmp(timestamp(b)));
    let mut services: Vec<String> = Vec::new();
    for line in &lines {
        if let Some(service) = line.get("service").and_then(Value::as_str)
            && !services.iter().any(|s| s == service)
        {
            services.push(service.to_owned());
        }
    }
    RequestLog {
        request_id: request_id.to_owned(),
        lines,
        services,
        truncated,
    }
}

/// The IDs a request view shows: one, or (truncated) all with a prefix.
#[derive(Debug, Clone, Copy)]
struct IdMatch<'a> {
    key: &'a str,
    prefix: bool,
}

impl IdMatch<'_> {
    fn matches(self, id: &str) -> bool {
        if self.prefix {
            id.starts_with(self.key)
        } else {
            id == self.key
        }
    }
}

fn timestamp(line: &Map<String, Value>) -> &str {
    line.get("timestamp").and_then(Value::as_str).unwrap_or("")
}

/// Scans the tail of one file; returns whether a limit cut it short.
fn scan_file(
    path: &Path,
    needle: &str,
    request_id: IdMatch<'_>,
    limits: LogLimits,
    started: Instant,
    out: &mut Vec<Map<String, Value>>,
) -> std::io::Result<bool> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let mut truncated = false;
    let mut reader = if len > limits.scan_bytes {
        file.seek(SeekFrom::Start(len - limits.scan_bytes))?;
        truncated = true;
        let mut reader = BufReader::new(file);
        // Skip the partial line the seek landed in.
        let mut partial = Vec::new();
        read_line_bounded(&mut reader, &mut partial, limits.line_bytes)?;
        reader
    } else {
        BufReader::new(file)
    };
    let mut line = Vec::with_capacity(1024);
    loop {
        line.clear();
        let Some(complete) = read_line_bounded(&mut reader, &mut line, limits.line_bytes)? else {
            return Ok(truncated);
        };
        if !complete || !contains(&line, needle.as_bytes()) {
            continue;
        }
        if let Ok(Value::Object(record)) = serde_json::from_slice::<Value>(&line)
            && record
                .get("request_id")
                .and_then(Value::as_str)
                .is_some_and(|id| request_id.matches(id))
        {
            out.push(record);
            if out.len() >= limits.max_lines {
                return Ok(true);
            }
        }
        if started.elapsed() >= limits.deadline {
            return Ok(true);
        }
    }
}

/// Reads one line into `buf`, keeping at most `max` bytes of it. `None` at the end
/// of the file; `Some(false)` for a line longer than `max` (its rest is skipped).
fn read_line_bounded(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<bool>> {
    let mut complete = true;
    let mut any = false;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok(any.then_some(complete));
        }
        any = true;
        let (chunk, found) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..i], Some(i + 1)),
            None => (available, None),
        };
        if buf.len() + chunk.len() <= max {
            buf.extend_from_slice(chunk);
        } else {
            complete = false;
        }
        let used = found.unwrap_or(available.len());
        reader.consume(used);
        if found.is_some() {
            return Ok(Some(complete));
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(name: &str, lines: &[&str]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("keviq-logs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(name);
        let mut f = File::create(&path).expect("create");
        for line in lines {
            writeln!(f, "{line}").expect("write");
        }
        path
    }

    #[test]
    fn lines_of_one_request_from_every_file_in_time_order() {
        let a = file(
            "a.log",
            &[
                r#"{"timestamp":"2026-11-30T10:00:02Z","service":"orchestrator","request_id":"r-1","message":"run"}"#,
                r#"{"timestamp":"2026-11-30T10:00:03Z","service":"orchestrator","request_id":"r-2","message":"other"}"#,
                "not json at all \"request_id\":\"r-1\"",
            ],
        );
        let b = file(
            "b.log",
            &[
                r#"{"timestamp":"2026-11-30T10:00:01Z","service":"api-gateway","request_id":"r-1","message":"in"}"#,
                r#"{"timestamp":"2026-11-30T10:00:04Z","service":"api-gateway","request_id":"r-1","message":"out"}"#,
            ],
        );
        let missing = PathBuf::from("/nonexistent/keviq.log");
        let log = request_log(&[a, missing, b], "r-1", LogLimits::DEFAULT);
        let messages: Vec<&str> = log
            .lines
            .iter()
            .filter_map(|l| l.get("message").and_then(Value::as_str))
            .collect();
        assert_eq!(messages, ["in", "run", "out"]);
        assert_eq!(log.services, ["api-gateway", "orchestrator"]);
        assert!(!log.truncated);
    }

    #[test]
    fn limits_cut_the_scan_and_say_so() {
        let long = format!(
            r#"{{"timestamp":"2026-11-30T10:00:00Z","request_id":"r-9","pad":"{}"}}"#,
            "x".repeat(200)
        );
        let short = r#"{"timestamp":"2026-11-30T10:00:01Z","request_id":"r-9"}"#;
        let path = file("c.log", &[&long, short, short, short]);
        let limits = LogLimits {
            line_bytes: 100,
            max_lines: 2,
            ..LogLimits::DEFAULT
        };
        let log = request_log(std::slice::from_ref(&path), "r-9", limits);
        assert_eq!(log.lines.len(), 2, "the long line is skipped, two kept");
        assert!(log.truncated);

        let tail = LogLimits {
            scan_bytes: 60,
            ..LogLimits::DEFAULT
        };
        let log = request_log(&[path], "r-9", tail);
        assert_eq!(log.lines.len(), 1, "only the last line fits in 60 bytes");
        assert!(log.truncated);
    }

    #[test]
    fn a_quote_in_the_id_matches_only_its_own_lines() {
        let path = file(
            "d.log",
            &[
                r#"{"timestamp":"t","request_id":"a\"b"}"#,
                r#"{"timestamp":"t","request_id":"a"}"#,
            ],
        );
        let log = request_log(&[path], "a\"b", LogLimits::DEFAULT);
        assert_eq!(log.lines.len(), 1);
    }

    #[test]
    fn a_truncated_id_matches_by_prefix() {
        let path = file(
            "e.log",
            &[
                r#"{"timestamp":"2","service":"b","request_id":"long-id-0123456789"}"#,
                r#"{"timestamp":"1","service":"a","request_id":"long-id-0123456789"}"#,
                r#"{"timestamp":"3","service":"c","request_id":"other"}"#,
            ],
        );
        let log = request_log(
            std::slice::from_ref(&path),
            "long-id-01\u{2026}",
            LogLimits::DEFAULT,
        );
        assert_eq!(log.services, ["a", "b"]);
        assert_eq!(log.request_id, "long-id-01\u{2026}");
        assert!(
            request_log(&[path], "long-id-01", LogLimits::DEFAULT)
                .lines
                .is_empty()
        );
    }
}
