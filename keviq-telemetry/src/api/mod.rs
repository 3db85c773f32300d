//! The JSON API and the health dashboard of the telemetry service.
//!
//! | route | answer |
//! |---|---|
//! | `GET /` | the health dashboard (HTML; script and style inside the binary) |
//! | `GET /api/v1/targets` | health of each target ([`TargetEntry`]) |
//! | `GET /api/v1/services?window=300&history=0` | per target over the window: request rate, error rate, P50/P99 latency, agent invocation rate; with `history=1`, the request and error rates and P50/P99 per minute over the last hour ([`History`]); `log_url` when `TELEMETRY_LOG_URL` is set ([`ServicesResponse`]) |
//! | `GET /api/v1/samples?metric=…&target=…&since=…&until=…&label=name=value&limit=…` | stored samples ([`SampleEntry`]) |
//! | `GET /api/v1/exemplars?service=…&metric=…&min_value=…&since=…&until=…&sort=time\|value&limit=…` | stored exemplars, newest (or highest value) first ([`ExemplarEntry`]) |
//! | `GET /api/v1/requests/{request_id}` | the log lines of one request from every service, in time order ([`crate::logs::RequestLog`]) |
//!
//! Times are Unix seconds. A bad parameter gets `400` with
//! `{"error": "...", "parameter": "<name>"}` ([`ApiError`]); queries bind every
//! value. The handlers read the store; the figures come from [`crate::analytics`].
//! With `TELEMETRY_QUERY_URL`, targets and services (and so the dashboard) come
//! from PromQL there instead ([`crate::query`]); without a local store
//! (`TELEMETRY_DATABASE_URL=none`), `samples` answers `404`.

mod correlation;

pub use self::correlation::EXEMPLAR_LIMIT;
mod error;
mod response;

use std::sync::Arc;
use std::time::SystemTime;

use axum::Json;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Html;
use axum::routing::get;
use keviq::axum::names::{
    HTTP_REQUEST_DURATION_MS, HTTP_REQUEST_ERRORS_TOTAL, HTTP_REQUESTS_TOTAL,
};

pub use self::error::{ApiError, ErrorBody};
pub use self::response::{
    ExemplarEntry, History, SampleEntry, ServiceEntry, ServicesResponse, TargetEntry,
};
use crate::analytics::{self, FirstScrapes, WindowIncreases};
use crate::config::LogConfig;
use crate::query::PromQuery;
use crate::remote::REMOTE;
use crate::scrape::{SCRAPER, Scraper};
use crate::store::{SampleQuery, Store, StoredSample, epoch_ms};
use crate::writer::STORAGE;

/// The agent runtime's invocation counter (a domain metric of the fleet, not one
/// every keviq service serves): its rate is on the dashboard.
pub const AGENT_INVOCATIONS_TOTAL: &str = "mona_agent_invocations_total";

/// The span of `history=1`: the last hour, per minute.
const HISTORY_MS: i64 = 3_600_000;

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
        .route("/api/v1/services", get(services))
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

/// Every sample of `metric` in a time range, all targets.
async fn rows(
    store: &Store,
    metric: &str,
    since_ms: i64,
    until_ms: i64,
) -> Result<Vec<StoredSample>, ApiError> {
    let q = SampleQuery {
        metric: metric.into(),
        target: None,
        since_ms,
        until_ms,
        limit: i64::MAX,
    };
    Ok(store.samples(&q).await?)
}

async fn first_scrapes(
    store: &Store,
    since_ms: i64,
    until_ms: i64,
) -> Result<FirstScrapes, ApiError> {
    Ok(store
        .first_scrapes(since_ms, until_ms)
        .await?
        .into_iter()
        .collect())
}

/// The counter increases of `metric` per target over a window.
async fn counter_increases(
    store: &Store,
    metric: &str,
    (since_ms, until_ms): (i64, i64),
    first: &FirstScrapes,
) -> Result<std::collections::BTreeMap<String, f64>, ApiError> {
    let rows = rows(store, metric, since_ms, until_ms).await?;
    Ok(analytics::increases_by_target(&analytics::series(
        &rows, first,
    )))
}

async fn services(
    State(state): State<AppState>,
    query: Result<Query<Params>, QueryRejection>,
) -> Result<Json<ServicesResponse>, ApiError> {
    let params = pairs(query)?;
    let window = number(&params, "window", 300.0, 1.0, 86_400.0)?;
    let history = match param(&params, "history") {
        None | Some("0" | "false") => false,
        Some("1" | "true") => true,
        Some(_) => return Err(ApiError::History),
    };
    if let Some(query) = &state.query {
        let mut response = query.services(&state.scraper, window, history).await?;
        response.log_url.clone_from(&state.logs.url);
        return Ok(Json(response));
    }
    let until_ms = epoch_ms(SystemTime::now());
    let span = (until_ms - (window * 1000.0) as i64, until_ms);
    let store = state.store()?;

    let first = first_scrapes(store, span.0, span.1).await?;
    let buckets = rows(
        store,
        &format!("{HTTP_REQUEST_DURATION_MS}_bucket"),
        span.0,
        span.1,
    )
    .await?;
    let increases = WindowIncreases {
        seconds: window,
        until_ms,
        requests: counter_increases(store, HTTP_REQUESTS_TOTAL, span, &first).await?,
        errors: counter_increases(store, HTTP_REQUEST_ERRORS_TOTAL, span, &first).await?,
        invocations: counter_increases(store, AGENT_INVOCATIONS_TOTAL, span, &first).await?,
        latency_buckets: analytics::buckets_by_target(&analytics::series(&buckets, &first)),
        first_scrapes: first,
    };
    // One scrape a minute is all a per-minute figure needs (see
    // `Store::samples_last_per_minute`).
    let since = until_ms - HISTORY_MS;
    let mut per_minute = Vec::new();
    let history_first = if history {
        first_scrapes(store, since, until_ms).await?
    } else {
        FirstScrapes::new()
    };
    for metric in [
        HTTP_REQUESTS_TOTAL.to_owned(),
        HTTP_REQUEST_ERRORS_TOTAL.to_owned(),
        format!("{HTTP_REQUEST_DURATION_MS}_bucket"),
    ] {
        per_minute.push(if history {
            store
                .samples_last_per_minute(&metric, since, until_ms)
                .await?
        } else {
            Vec::new()
        });
    }
    let [request_series, error_series, bucket_series] =
        [0, 1, 2].map(|i| analytics::series(&per_minute[i], &history_first));

    let services = state
        .scraper
        .health()
        .into_iter()
        .map(|h| {
            let target = h.target.to_string();
            let minutes = history.then(|| {
                let quantiles = analytics::per_minute_quantiles(
                    &bucket_series,
                    &target,
                    until_ms,
                    &[0.5, 0.99],
                );
                History {
                    until: until_ms as f64 / 1000.0,
                    request_rate: analytics::per_minute_rate(&request_series, &target, until_ms),
                    error_rate: analytics::per_minute_rate(&error_series, &target, until_ms),
                    p50_ms: quantiles.iter().map(|q| q[0]).collect(),
                    p99_ms: quantiles.iter().map(|q| q[1]).collect(),
                }
            });
            ServiceEntry::new(&h, increases.health(&target), minutes)
        })
        .collect();
    Ok(Json(ServicesResponse {
        window_seconds: window,
        services,
        log_url: state.logs.url.clone(),
    }))
}

/// The parameters `GET /api/v1/samples` takes.
const SAMPLE_PARAMETERS: [&str; 6] = ["metric", "target", "since", "until", "label", "limit"];

async fn samples(
    State(state): State<AppState>,
    query: Result<Query<Params>, QueryRejection>,
) -> Result<Json<Vec<SampleEntry>>, ApiError> {
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
    let limit = number(&params, "limit", 10_000.0, 1.0, 100_000.0)? as i64;
    let mut matchers = Vec::new();
    for (_, m) in params.iter().filter(|(k, _)| k == "label") {
        match m.split_once('=') {
            Some((name, value)) if !name.is_empty() => matchers.push((name, value)),
            _ => return Err(ApiError::LabelMatcher),
        }
    }
    let q = SampleQuery {
        metric: metric.to_owned(),
        target,
        since_ms: (since * 1000.0) as i64,
        until_ms: (until * 1000.0) as i64,
        // With matchers, the limit applies after filtering.
        limit: if matchers.is_empty() { limit } else { i64::MAX },
    };
    let rows = state.store()?.samples(&q).await?;
    Ok(Json(
        rows.into_iter()
            .filter(|r| {
                matchers
                    .iter()
                    .all(|(k, v)| r.sample.labels.get(k) == Some(*v))
            })
            .take(limit as usize)
            .map(SampleEntry::from)
            .collect(),
    ))
}
