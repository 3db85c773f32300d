//! Structured JSON logs: one line per event, with the service name and, inside a
//! request, its request ID, trace ID and span ID. A line is written straight into
//! the output (no map, no string per field); every string is JSON-escaped, so no
//! field can break the line, and a non-finite number is `null`.
//!
//! ```no_run
//! keviq_runtime::logging::init("agent-runtime").expect("logging");
//! tracing::info!(tool = "search", "tool call finished");
//! // {"timestamp":"…","level":"INFO","target":"…","service":"agent-runtime",
//! //  "request_id":"6f1c…","trace_id":"4bf9…","span_id":"00f0…",
//! //  "message":"tool call finished","tool":"search"}
//! ```
//!
//! `request_id`, `trace_id` and `span_id` come from the request scope that
//! `RequestIdLayer` opens (a member the event sets itself, as a span line's
//! `span_id`, is written once, the event's), `service` from that scope too when the layer names its service (several
//! services in one process), and otherwise from [`init`]. `RUST_LOG` filters as
//! usual (default `info`).
//!
//! # Panics
//!
//! [`init`] also installs a panic hook ([`install_panic_hook`]) that logs a panic as
//! one `ERROR` line with target `panic`, in place of Rust's plain-text report on
//! stderr: the panic's message, its `location` (`file:line:column`), the `thread`,
//! the `backtrace` (unless `RUST_BACKTRACE=0`), and, when a request's handler
//! panicked, that request's `request_id` and `trace_id`:
//!
//! ```text
//! {"timestamp":"…","level":"ERROR","target":"panic","service":"agent-runtime",
//!  "request_id":"abc-123","message":"index out of bounds: …","location":"src/tools.rs:42:17",
//!  "thread":"tokio-runtime-worker","backtrace":"   0: …\n   1: …"}
//! ```
//!
//! The panic itself goes on as before: `#[keviq::service]` still answers `500` and
//! counts it in the HTTP families.

use std::backtrace::Backtrace;
use std::fmt::{self, Write as _};
use std::panic::PanicHookInfo;
use std::sync::atomic::Ordering;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::axum::request_id;
use crate::axum::{PANICS_LOGGED, adding_metrics_route};

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    /// `RUST_LOG` holds a directive that does not parse.
    #[error("RUST_LOG is not a valid filter: {0}")]
    InvalidFilter(#[from] tracing_subscriber::filter::FromEnvError),
    /// A global subscriber was already installed.
    #[error("a tracing subscriber is already installed: {0}")]
    AlreadyInitialised(String),
}

/// Installs the JSON subscriber for the process, writing to stdout, and the panic
/// hook that logs panics through it ([`install_panic_hook`]).
///
/// # Errors
/// An invalid `RUST_LOG`, or a subscriber already installed; the panic hook is
/// then left as it was.
pub fn init(service: &'static str) -> Result<(), LoggingError> {
    let filter = EnvFilter::builder()
        .with_default_directive(tracing::Level::INFO.into())
        .from_env()?;
    tracing_subscriber::fmt()
        .event_format(JsonFormat::new(service))
        .with_env_filter(filter)
        .try_init()
        .map_err(|e| LoggingError::AlreadyInitialised(e.to_string()))?;
    install_panic_hook();
    Ok(())
}

/// Replaces the process's panic hook with one that logs each panic as one `ERROR`
/// event with target `panic` (see [Panics](self#panics)), through the installed
/// `tracing` subscriber, and writes nothing to stderr. [`init`] calls it; call it
/// yourself with a subscriber of your own (such as `tracing_subscriber::fmt()`
/// with [`JsonFormat`]).
///
/// The hook replaces whatever hook was installed (Rust's default included) and
/// does not call it. The backtrace is captured for every panic unless
/// `RUST_BACKTRACE` is `0` when this is called. `#[keviq::service]`'s panic layer
/// then answers `500` without logging the panic a second time.
pub fn install_panic_hook() {
    let backtrace = std::env::var_os("RUST_BACKTRACE").is_none_or(|v| v != "0");
    std::panic::set_hook(Box::new(move |info| log_panic(info, backtrace)));
    PANICS_LOGGED.store(true, Ordering::Release);
}

/// The hook: one event, in the scope (and so with the request IDs) of the code that
/// panicked, since a hook runs on the panicking thread before it unwinds.
fn log_panic(info: &PanicHookInfo<'_>, backtrace: bool) {
    // axum refusing keviq's metrics route: the panic that follows reports it.
    if cfg!(panic = "unwind") && adding_metrics_route() {
        return;
    }
    let message = info
        .payload_as_str()
        .unwrap_or("a panic without a message (its payload is not a string)");
    let location = info.location().map(tracing::field::display);
    let thread = std::thread::current();
    let thread = thread.name().unwrap_or("<unnamed>");
    if backtrace {
        let backtrace = Backtrace::force_capture();
        tracing::error!(
            target: "panic",
            location,
            thread,
            backtrace = %backtrace,
            "{message}"
        );
    } else {
        tracing::error!(target: "panic", location, thread, "{message}");
    }
}

/// The event format of keviq's JSON logs; use it with `tracing_subscriber::fmt()`
/// to choose your own writer or filter.
#[derive(Debug, Clone, Copy)]
pub struct JsonFormat {
    service: &'static str,
}

impl JsonFormat {
    /// Records name `service` unless the request scope names another.
    pub const fn new(service: &'static str) -> Self {
        Self { service }
    }
}

/// Writes what it is given as the inside of a JSON string: `"` and `\\` escaped,
/// control characters as `\\n`, `\\t`, `\\u00XX`, so no field can break the line.
struct Escaped<'w, W: fmt::Write>(&'w mut W);

impl<W: fmt::Write> fmt::Write for Escaped<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s;
        while let Some(i) = rest.find(|c: char| c == '"' || c == '\\' || c < ' ') {
            self.0.write_str(&rest[..i])?;
            let c = rest[i..].chars().next().unwrap_or(' ');
            match c {
                '"' => self.0.write_str("\\\"")?,
                '\\' => self.0.write_str("\\\\")?,
                '\n' => self.0.write_str("\\n")?,
                '\r' => self.0.write_str("\\r")?,
                '\t' => self.0.write_str("\\t")?,
                c => write!(self.0, "\\u{:04x}", u32::from(c))?,
            }
            rest = &rest[i + c.len_utf8()..];
        }
        self.0.write_str(rest)
    }
}

/// Writes `,"key":"value"` (the key and value escaped).
fn string_field(w: &mut impl fmt::Write, key: &str, value: impl fmt::Display) -> fmt::Result {
    w.write_str(",\"")?;
    Escaped(&mut *w).write_str(key)?;
    w.write_str("\":\"")?;
    write!(Escaped(&mut *w), "{value}")?;
    w.write_char('"')
}

/// An event's fields, written straight into the line as JSON members: no map, no
/// string per field.
struct Fields<'w, W: fmt::Write> {
    out: &'w mut W,
    result: fmt::Result,
}

impl<W: fmt::Write> Fields<'_, W> {
    fn raw(&mut self, field: &Field, value: impl fmt::Display) {
        if self.result.is_ok() {
            self.result = (|| {
                self.out.write_str(",\"")?;
                Escaped(&mut *self.out).write_str(field.name())?;
                write!(self.out, "\":{value}")
            })();
        }
    }
}

impl<W: fmt::Write> Visit for Fields<'_, W> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if self.result.is_ok() {
            self.result = string_field(self.out, field.name(), value);
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.raw(field, value);
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.raw(field, value);
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        // JSON has no NaN or infinity: `null`, as serde_json writes them.
        if value.is_finite() {
            self.raw(field, value);
        } else {
            self.raw(field, "null");
        }
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.raw(field, value);
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.result.is_ok() {
            self.result = string_field(self.out, field.name(), format_args!("{value:?}"));
        }
    }
}

impl<S, N> FormatEvent<S, N> for JsonFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        // A member the event sets itself (a span line's `span_id`) is not written
        // from the request's scope too.
        let own = |name: &str| meta.fields().field(name).is_some();
        writer.write_str("{\"timestamp\":\"")?;
        SystemTime.format_time(&mut writer)?;
        writer.write_char('"')?;
        string_field(&mut writer, "level", meta.level().as_str())?;
        string_field(&mut writer, "target", meta.target())?;
        let scope = request_id::with_context(|c| -> fmt::Result {
            if !own("service") {
                string_field(&mut writer, "service", c.service.unwrap_or(self.service))?;
            }
            if !own("request_id") {
                string_field(&mut writer, "request_id", c.id.as_str())?;
            }
            if !own("trace_id") {
                string_field(
                    &mut writer,
                    "trace_id",
                    c.trace.trace_id().hex(&mut [0; 32]),
                )?;
            }
            if !own("span_id") {
                string_field(&mut writer, "span_id", c.trace.span_id().hex(&mut [0; 16]))?;
            }
            Ok(())
        });
        match scope {
            Some(written) => written?,
            None if !own("service") => string_field(&mut writer, "service", self.service)?,
            None => {}
        }
        let mut fields = Fields {
            out: &mut writer,
            result: Ok(()),
        };
        event.record(&mut fields);
        fields.result?;
        writer.write_str("}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_is_one_json_object_whatever_the_fields_hold() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .event_format(JsonFormat::new("svc"))
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(
                text = "a \"quoted\"\nline\twith \\ and \u{1}",
                n = -3i64,
                u = 7u64,
                x = 1.5f64,
                nan = f64::NAN,
                ok = true,
                shown = %"dis\"play",
                "message with \"quotes\" and\na newline"
            );
            tracing::warn!(span_id = "00000000000000aa", "its own span_id");
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        let first = &lines[0];
        assert_eq!(first["text"], "a \"quoted\"\nline\twith \\ and \u{1}");
        assert_eq!(first["message"], "message with \"quotes\" and\na newline");
        assert_eq!(first["n"], -3);
        assert_eq!(first["u"], 7);
        assert_eq!(first["x"], 1.5);
        assert!(first["nan"].is_null());
        assert_eq!(first["ok"], true);
        assert_eq!(first["shown"], "dis\"play");
        assert_eq!(first["service"], "svc");
        assert_eq!(first["level"], "INFO");
        assert!(
            first["timestamp"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z'))
        );
        // Outside a request: no request or trace IDs; an event's own member once.
        assert!(first.get("request_id").is_none());
        assert_eq!(lines[1]["span_id"], "00000000000000aa");
        assert_eq!(
            text.lines().nth(1).unwrap().matches("\"span_id\"").count(),
            1
        );
    }
}
