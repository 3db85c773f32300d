//! The fleet's JSON log files (`TELEMETRY_LOG_FILES`), read by request and by trace:
//! what `GET /api/v1/requests/{request_id}` and `GET /api/v1/traces/{trace_id}`
//! answer.
//!
//! Every keviq service writes one JSON object per line with `timestamp`, `service`
//! and, inside a request, `request_id`, `trace_id` and `span_id`; each finished
//! request and each call it made adds a span line (target `keviq::span`, see
//! `keviq::axum::span_record`). [`LogIndex`] follows the files as they grow and
//! remembers, for each request ID, where its lines are, and for each trace ID, its
//! request IDs ([`index`]); a lookup reads only those lines and builds the request's
//! spans into a tree ([`tree`]).

pub mod index;
pub mod tree;

pub use index::{LogIndex, LogLimits, MAX_INDEXED_LINES};
pub use tree::{Span, Trace};
