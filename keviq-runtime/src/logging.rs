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

use std::fmt;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::axum::request_id;

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

/// Installs the JSON subscriber for the process, writing to stdout.
///
/// # Errors
/// An invalid `RUST_LOG`, or a subscriber already installed.
pub fn init(service: &'static str) -> Result<(), LoggingError> {
    let filter = EnvFilter::builder()
        .with_default_directive(tracing::Level::INFO.into())
        .from_env()?;
    tracing_subscriber::fmt()
        .event_format(JsonFormat::new(service))
        .with_env_filter(filter)
        .try_init()
        .map_err(|e| LoggingError::AlreadyInitialised(e.to_string()))
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
            let trace_id = c.trace.as_ref().map(|t| t.trace_id().to_string());
            (c.service, Value::from(c.id.as_str()), trace_id)
        });
        let (service, id, trace_id) = match scope {
            Some((service, id, trace_id)) => (service, Some(id), trace_id),
            None => (None, None, None),
        };
        record.insert(
            "service".into(),
            Value::from(service.unwrap_or(self.service)),
        );
        if let Some(id) = id {
            record.insert("request_id".into(), id);
        }
        if let Some(trace_id) = trace_id {
            record.insert("trace_id".into(), Value::from(trace_id));
        }
        event.record(&mut Fields(&mut record));
        // serde_json escapes control characters, so no field can break the line.
        let line = serde_json::to_string(&record).map_err(|_| fmt::Error)?;
        writeln!(writer, "{line}")
    }
}
