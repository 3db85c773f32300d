//! The axum integration: middleware, request IDs, `/metrics`, serving.
//!
//! `#[keviq::service]` puts all of it on a router in the right order; every piece
//! also works by hand.

mod exposition;
mod metrics;
mod prometheus_config;
pub mod request_id;
mod serve;
mod service;

pub use exposition::metrics_handler;
pub use metrics::{
    CLIENT_CLOSED, HTTP, HttpMetrics, MetricsLayer, MetricsService, ResponseFuture, UNMATCHED_PATH,
};
pub use prometheus_config::{DuplicateService, prometheus_config};
pub use request_id::{ForwardRequestIdLayer, RequestIdLayer};
pub use serve::{
    DEFAULT_LISTEN, LISTEN_VAR, ServeError, listen_addr, listen_addr_or, serve, serve_listener,
    serve_or, shutdown_signal,
};
pub use service::{
    ServiceInfo, ServiceRegistration, ServiceRouter, instrument, metrics_router, services,
};
