//! The JSON API and the health dashboard of the telemetry service.
//!
//! | route | answer |
//! |---|---|
//! | `GET /` | the health dashboard (HTML; script and style inside the binary) |
//! | `GET /api/v1/targets` | health of each target ([`TargetEntry`]) |
//! | `GET /api/v1/services?window=300&history=0&limit=…` | per target over the window: request rate, error rate, P50/P99 latency, agent invocation rate; with `history=1`, the request and error rates and P50/P99 per minute over the last hour, 60 points each ([`History`]); `log_url` when `TELEMETRY_LOG_URL` is set ([`ServicesResponse`]) |
//! | `GET /api/v1/samples?metric=…&target=…&since=…&until=…&label=name=value&limit=…` | stored samples, oldest first ([`SampleEntry`]) |
//! | `GET /api/v1/exemplars?service=…&metric=…&min_value=…&since=…&until=…&sort=time\|value&limit=…` | stored exemplars, newest (or highest value) first ([`ExemplarEntry`]) |
//! | `GET /api/v1/requests/{request_id}?limit=…` | the log lines of one request from every service, in time order ([`crate::logs::RequestLog`]) |
//!
//! Times are Unix seconds. A bad parameter gets `400` with
//! `{"error": "...", "parameter": "<name>"}` ([`ApiError`]); queries bind every
//! value. The handlers read the store; the figures come from [`crate::analytics`].
//! With `TELEMETRY_QUERY_URL`, targets and services (and so the dashboard) come
//! from PromQL there instead ([`crate::query`]); without a local store
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
//! | `requests/{id}` | [`REQUEST_LINE_LIMIT`] | [`REQUEST_LINE_LIMIT`] | log lines (and the scan's own bounds, [`crate::logs::LogLimits`]) |
//!
//! A `limit` outside `1..=cap` is a `400` naming the cap. An answer that stopped at
//! its limit while more matched carries `X-Truncated: true` (`false` otherwise;
//! [`TRUNCATED_HEADER`]); its JSON keeps its shape. Filters and limits are applied
//! by the database, so the rows read are the rows answered; the service figures are
//! aggregated by the database per target and minute ([`crate::store::Store::slot_sums`]).
//! Each query runs under a statement timeout
//! ([`crate::store::STATEMENT_TIMEOUT`], 5 s, on both backends): a query stopped by
//! it answers `503` with `{"error": "the query ran longer than 5 s and was stopped;
//! narrow ...", "parameter": null}`; when every read connection is busy as long,
//! `503` with `"every database connection is busy with other queries; retry
//! shortly"`.

mod correlation;
mod error;
mod response;
mod services;

pub use self::correlation::{EXEMPLAR_LIMIT, REQUEST_LINE_LIMIT};
pub use self::services::SERVICE_LIMIT;

use std::sync::Arc;
use std::time::SystemTime;

use axum::Json;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Html;
use axum::routing::get;

pub use self::error::{ApiError, ErrorBody};
pub use self::response::{
    ExemplarEntry, History, Listed, SampleEntry, ServiceEntry, ServicesResponse, TRUNCATED_HEADER,
    TargetEntry,
};
use crate::config::LogConfig;
use crate::query::PromQuery;
use crate::remote::REMOTE;
use crate::scrape::{SCRAPER, Scraper};
use crate::store::{LabelMatch, SampleQuery, Store, epoch_ms, is_label_name};
use crate::writer::STORAGE;

/// The agent runtime's invocation counter (a domain metric of the fleet, not one
/// every keviq service serves): its rate is on the dashboard.
pub const AGENT_INVOCATIONS_TOTAL: &str = "mona_agent_invocations_total";

/// Samples `GET /api/v1/samples` answers when `limit` is not given.
pub const SAMPLE_LIMIT_DEFAULT: i64 = 10_000;

/// The most samples one answer of `GET /api/v1/samples` holds (`limit`'s cap).
pub const SAMPLE_LIMIT: i64 = 50_000;

/// The most `label` matchers one query of `GET /api/v1/samples` takes.
pub const MAX_LABEL_MATCHERS: usize = 16;

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The scraper, for target health.
    pub scraper: Arc<Scraper>,
    /// The sample store; `None` for `TELEMETRY_DATABASE_URL=none`.
    pub store: Option<Store>,
    /// The query API that answers targets and services, when configured.
    pub query: Option<Arc<PromQuery>>,
    /// Where the request view finds log lines.
    pub logs: Arc<LogConfig>,
}

impl AppState {
    /// The state of a service reading its local store.
    pub fn local(scraper: Arc<Scraper>, store: Store) -> Self {
        Self {
            scraper,
            store: Some(store),
            query: None,
            logs: Arc::default(),
        }
    }

    /// The same state, with the request view reading `logs`.
    pub fn with_logs(mut self, logs: LogConfig) -> Self {
        self.logs = Arc::new(logs);
        self
    }

    fn store(&self) -> Result<&Store, ApiError> {
        self.store.as_ref().ok_or(ApiError::NoStore)
    }
}

/// The telemetry service's routes, instrumented like every keviq service. Its scrape
/// and storage metrics are its own: in a process shared with other services, only
/// its `/metrics` shows them.
#[keviq::service(name = "telemetry-service", metrics = [SCRAPER, STORAGE, REMOTE])]
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(dashboard))
        .route("/api/v1/targets", get(targets))
        .route("/api/v1/services", get(services::services))
        .route("/api/v1/samples", get(samples))
        .route("/api/v1/exemplars", get(correlation::exemplars))
        .route("/api/v1/requests/{request_id}", get(correlation::request))
        .with_state(state)
}

type Params = Vec<(String, String)>;

/// The query string as pairs; a malformed one is a `400` like any bad parameter.
fn pairs(query: Result<Query<Params>, QueryRejection>) -> Result<Params, ApiError> {
    query
        .map(|Query(p)| p)
        .map_err(|e| ApiError::MalformedQuery(e.to_string()))
}

/// Refuses a parameter not in `known` (`expected` lists them for the message).
fn only(params: &Params, known: &[&str], expected: &'static str) -> Result<(), ApiError> {
    match params
        .iter()
        .find(|(name, _)| !known.contains(&name.as_str()))
    {
        Some((name, _)) => Err(ApiError::UnknownParameter {
            name: name.chars().take(64).collect(),
            expected,
        }),
        None => Ok(()),
    }
}

fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn number(
    params: &Params,
    parameter: &'static str,
    default: f64,
    min: f64,
    max: f64,
) -> Result<f64, ApiError> {
    match param(params, parameter) {
        None => Ok(default),
        Some(text) => match text.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && (min..=max).contains(&v) => Ok(v),
            _ => Err(ApiError::OutOfRange {
                parameter,
                min,
                max,
            }),
        },
    }
}

/// The `limit` parameter: `default` when absent, else a whole number from 1 to
/// `cap` ([`ApiError::Limit`] names the cap).
fn limit(params: &Params, default: i64, cap: i64) -> Result<i64, ApiError> {
    match param(params, "limit") {
        None => Ok(default),
        Some(text) => match text.trim().parse::<i64>() {
            Ok(n) if (1..=cap).contains(&n) => Ok(n),
            _ => Err(ApiError::Limit { max: cap }),
        },
    }
}

async fn dashboard() -> Html<&'static str> {
    Html(include_str!("../dashboard.html"))
}

async fn targets(State(state): State<AppState>) -> Result<Json<Vec<TargetEntry>>, ApiError> {
    if let Some(query) = &state.query {
        return Ok(Json(query.targets(&state.scraper).await?));
    }
    Ok(Json(
        state
            .scraper
            .health()
            .into_iter()
            .map(TargetEntry::from)
            .collect(),
    ))
}

/// The parameters `GET /api/v1/samples` takes.
const SAMPLE_PARAMETERS: [&str; 6] = ["metric", "target", "since", "until", "label", "limit"];

/// `GET /api/v1/samples`: the matchers and the limit are applied by the database;
/// one row more than the limit is asked for, to know whether the answer is cut.
async fn samples(
    State(state): State<AppState>,
    query: Result<Query<Params>, QueryRejection>,
) -> Result<Listed<Vec<SampleEntry>>, ApiError> {
    let params = pairs(query)?;
    only(
        &params,
        &SAMPLE_PARAMETERS,
        "metric, target, since, until, label, limit",
    )?;
    let metric = param(&params, "metric").ok_or(ApiError::MissingMetric)?;
    // Any sample name the grammar allows (recording rules' `:` included).
    if keviq::model::check_metric_name_syntax(metric).is_err() {
        return Err(ApiError::InvalidMetric);
    }
    let target = param(&params, "target").map(str::to_owned);
    let now = epoch_ms(SystemTime::now()) as f64 / 1000.0;
    let until = number(&params, "until", now, 0.0, 1e11)?;
    let since = number(&params, "since", until - 3600.0, 0.0, 1e11)?;
    if since > until {
        return Err(ApiError::SinceAfterUntil);
    }
    let limit = limit(&params, SAMPLE_LIMIT_DEFAULT, SAMPLE_LIMIT)?;
    let matchers = label_matchers(&params)?;
    let q = SampleQuery {
        metric: metric.to_owned(),
        target,
        since_ms: (since * 1000.0) as i64,
        until_ms: (until * 1000.0) as i64,
        limit: limit + 1,
    };
    let rows = state.store()?.samples_matching(&q, &matchers).await?;
    let rows = rows.into_iter().map(SampleEntry::from).collect();
    Ok(Listed::first(
        rows,
        usize::try_from(limit).unwrap_or(usize::MAX),
    ))
}

/// The `label=name=value` matchers: at most [`MAX_LABEL_MATCHERS`], each name in
/// the label grammar.
fn label_matchers(params: &Params) -> Result<Vec<LabelMatch>, ApiError> {
    let mut matchers = Vec::new();
    for (_, m) in params.iter().filter(|(k, _)| k == "label") {
        let Some((name, value)) = m.split_once('=') else {
            return Err(ApiError::LabelMatcher);
        };
        if name.is_empty() {
            return Err(ApiError::LabelMatcher);
        }
        if !is_label_name(name) {
            return Err(ApiError::LabelName);
        }
        matchers.push(LabelMatch {
            name: name.to_owned(),
            value: value.to_owned(),
        });
    }
    if matchers.len() > MAX_LABEL_MATCHERS {
        return Err(ApiError::TooManyMatchers {
            max: MAX_LABEL_MATCHERS,
        });
    }
    Ok(matchers)
}
