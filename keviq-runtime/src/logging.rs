//! Structured JSON logs: one line per event, with the service name, the request ID
//! and, when the request came with a W3C `traceparent`, its trace ID.
//!
//! ```no_run
//! keviq_runtime::logging::init("agent-runtime").expect("logging");
//! tracing::info!(tool = "search", "tool call finished");
//! // {"timestamp":"…","level":"INFO","target":"…","service":"agent-runtime",
//! //  "request_id":"6f1c…","trace_id":"4bf9…","message":"tool call finished","tool":"search"}
//! ```
//!
//! `request_id` and `trace_id` come from the request scope that `RequestIdLayer`
//! opens, `service` from that scope too when the layer names its service (several
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
use std::fmt;
use std::panic::PanicHookInfo;
use std::sync::atomic::Ordering;

use serde_json::{Map, Value};
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

struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().to_owned(), Value::from(format!("{value:?}")));
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
        let mut timestamp = String::new();
        SystemTime.format_time(&mut Writer::new(&mut timestamp))?;
        let meta = event.metadata();
        let mut record = Map::new();
        record.insert("timestamp".into(), Value::from(timestamp));
        record.insert("level".into(), Value::from(meta.level().as_str()));
        record.insert("target".into(), Value::from(meta.target()));
        let scope = request_id::with_context(|c| {
            let trace = (
                c.trace.trace_id().to_string(),
                c.trace.span_id().to_string(),
            );
            (c.service, Value::from(c.id.as_str()), Some(trace))
        });
        let (service, id, trace) = match scope {
            Some((service, id, trace)) => (service, Some(id), trace),
            None => (None, None, None),
        };
        record.insert(
            "service".into(),
            Value::from(service.unwrap_or(self.service)),
        );
        if let Some(id) = id {
            record.insert("request_id".into(), id);
        }
        // The request's span; a span line's own fields (a call's span) replace it.
        if let Some((trace_id, span_id)) = trace {
            record.insert("trace_id".into(), Value::from(trace_id));
            record.insert("span_id".into(), Value::from(span_id));
        }
        event.record(&mut Fields(&mut record));
        // serde_json escapes control characters, so no field can break the line.
        let line = serde_json::to_string(&record).map_err(|_| fmt::Error)?;
        writeln!(writer, "{line}")
    }
}
