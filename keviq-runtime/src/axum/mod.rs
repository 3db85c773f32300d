//! The axum integration: what `#[keviq::service]` puts on a router (request IDs,
//! the HTTP metrics layer, `/metrics`), the registry of services, and `serve`.
//!
//! `#[keviq::service]` puts all of it on a router in the right order; every piece
//! also works by hand, as a tower `Layer` or an axum handler.

mod client;
mod exposition;
mod metrics;
pub mod names;
mod prometheus_config;
pub mod request_id;
mod serve;
mod server;
mod service;
pub mod span_record;
pub mod trace_context;

pub use client::{Client, client};
pub use exposition::metrics_handler;
pub use metrics::{
    CLIENT_CLOSED, HTTP, HttpMetrics, Metrics, MetricsFuture, MetricsLayer, UNMATCHED_PATH,
};
pub use prometheus_config::{DuplicateService, prometheus_config};
pub use request_id::{ForwardRequestIdLayer, RequestIdLayer};
pub use serve::{
    DEFAULT_LISTEN, LISTEN_VAR, ServeError, listen_addr, listen_addr_or, serve, serve_listener,
    serve_or, shutdown_signal,
};
pub use server::{
    BODY_TIMEOUT_VAR, HEADER_READ_TIMEOUT_VAR, MAX_CONNECTIONS_VAR, MAX_HEADERS, ServeOptions,
    serve_with,
};
/// For `logging`'s panic hook.
pub(crate) use service::{PANICS_LOGGED, adding_metrics_route};
pub use service::{
    ServiceInfo, ServiceRegistration, ServiceRouter, instrument, metrics_router, services,
};
