//! The JSON API and the health dashboard of the telemetry service.
//!
//! | route | answer |
//! |---|---|
//! | `GET /` | the health dashboard (HTML; script and style inside the binary) |
//! | `GET /api/v1/targets` | health of each target ([`TargetEntry`]) |
//! | `GET /api/v1/services?window=300&history=0&limit=…` | per target over the window: request rate, error rate, P50/P99 latency, agent invocation rate; with `history=1`, the request and error rates and P50/P99 per minute over the last hour, 60 points each ([`History`]); `log_url` when `TELEMETRY_LOG_URL` is set ([`ServicesResponse`]) |
//! | `GET /api/v1/samples?metric=…&target=…&since=…&until=…&label=name=value&limit=…` | stored samples, oldest first ([`SampleEntry`]) |
//! | `GET /api/v1/exemplars?service=…&metric=…&min_value=…&since=…&until=…&sort=time\|value&limit=…` | stored exemplars, newest (or highest value) first ([`ExemplarEntry`]) |
//! | `GET /api/v1/requests/{request_id}?limit=…` | the request's spans as a tree and its log lines from every service, in time order ([`crate::logs::Trace`]) |
//! | `GET /api/v1/traces/{trace_id}?limit=…` | the same for a trace ID |
//!
//! Times are Unix seconds. A bad parameter gets `400` with
//! `{"error": "...", "parameter": "<name>"}` ([`ApiError`]); queries bind every
//! value. The handlers read the store; the figures come from [`crate::analytics`].
//! With `TELEMETRY_QUERY_URL`, targets and services (and so the dashboard) come
//! from PromQL there instead ([`prom`]); both are a [`HealthSource`]; without a local store
//! (`TELEMETRY_DATABASE_URL=none`), `samples` answers `404`.
//!
//! # Bounds
//!
//! Every answer is bounded in rows, time and memory, however large the store:
//!
//! | endpoint | `limit` default | `limit` cap | what it counts |
//! |---|---|---|---|
//! | `samples` | [`SAMPLE_LIMIT_DEFAULT`] | [`SAMPLE_LIMIT`] | samples, after the `label` matchers (at most [`MAX_LABEL_MATCHERS`]) |
//! | `exemplars` | 100 | [`EXEMPLAR_LIMIT`] | exemplars |
//! | `services` | [`SERVICE_LIMIT`] | [`SERVICE_LIMIT`] | services (targets); `history` is always 60 points |
//! | `requests/{id}`, `traces/{id}` | [`REQUEST_LINE_LIMIT`] | [`REQUEST_LINE_LIMIT`] | log lines (and the lookup's own bounds, [`crate::logs::LogLimits`]) |
//!
//! A `limit` outside `1..=cap` is a `400` naming the cap. An answer that stopped at
//! its limit while more matched carries `X-Truncated: true` (`false` otherwise;
//! [`TRUNCATED_HEADER`]); its JSON keeps its shape. Filters and limits are applied
//! by the database, so the rows read are the rows answered; the service figures are
//! aggregated by the database per target and minute ([`crate::store::Store::slot_sums`]).
//! Each query runs under a statement timeout
//! ([`crate::config::STATEMENT_TIMEOUT`], 5 s by default, `TELEMETRY_QUERY_TIMEOUT_SECONDS`, on both backends): a query stopped by
//! it answers `503` with `{"error": "the query ran longer than N s and was stopped;
//! narrow ...", "parameter": null}`; when every read connection is busy as long,
//! `503` with `"every database connection is busy with other queries; retry
//! shortly"`.

mod correlation;
mod error;
mod params;
pub mod prom;
mod response;
mod samples;
mod services;
mod state;

pub use self::correlation::{EXEMPLAR_LIMIT, REQUEST_LINE_LIMIT};
pub use self::error::{ApiError, ErrorBody};
pub use self::response::{
    ExemplarEntry, History, Listed, SampleEntry, ServiceEntry, ServicesResponse, TRUNCATED_HEADER,
    TargetEntry,
};
pub use self::samples::{MAX_LABEL_MATCHERS, SAMPLE_LIMIT, SAMPLE_LIMIT_DEFAULT};
pub use self::services::SERVICE_LIMIT;
pub use self::state::{AppState, BoxFuture, HealthSource, ServicesRequest};

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;

use crate::remote::REMOTE;
use crate::scrape::SCRAPER;
use crate::writer::STORAGE;

/// The telemetry service's routes, instrumented like every keviq service. Its scrape
/// and storage metrics are its own: in a process shared with other services, only
/// its `/metrics` shows them.
#[keviq::service(name = "telemetry-service", metrics = [SCRAPER, STORAGE, REMOTE])]
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(dashboard))
        .route("/api/v1/targets", get(targets))
        .route("/api/v1/services", get(services::services))
        .route("/api/v1/samples", get(samples::samples))
        .route("/api/v1/exemplars", get(correlation::exemplars))
        .route("/api/v1/requests/{request_id}", get(correlation::request))
        .route("/api/v1/traces/{trace_id}", get(correlation::trace))
        .with_state(state)
}

async fn dashboard() -> Html<&'static str> {
    Html(include_str!("../dashboard.html"))
}

/// `GET /api/v1/targets`: from the query API when configured, else the scraper.
async fn targets(State(state): State<AppState>) -> Result<Json<Vec<TargetEntry>>, ApiError> {
    match state.health() {
        Ok(source) => Ok(Json(source.targets(&state.scraper).await?)),
        Err(_) => Ok(Json(state::scraper_targets(&state.scraper))),
    }
}
