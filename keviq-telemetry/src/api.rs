//! The JSON API and the health dashboard of the telemetry service.
//!
//! | route | answer |
//! |---|---|
//! | `GET /` | the health dashboard (HTML; script and style inside the binary) |
//! | `GET /api/v1/targets` | health of each target |
//! | `GET /api/v1/services?window=300&history=0` | per target over the window: request rate, error rate, P50/P99 latency, agent invocation rate; with `history=1`, the request rate per minute over the last hour |
//! | `GET /api/v1/samples?metric=…&target=…&since=…&until=…&label=name=value&limit=…` | stored samples |
//!
//! Times are Unix seconds. A bad parameter gets `400` with
//! `{"error": "...", "parameter": "<name>"}`; queries bind every value.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Json;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use http::StatusCode;
use serde_json::{Value, json};

use crate::scrape::{SCRAPER, Scraper};
use crate::stats::{histogram_quantile, increase, merge_buckets};
use crate::store::{SampleQuery, Store, StoredSample, epoch_ms};
use crate::writer::STORAGE;

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The scraper, for target health.
    pub scraper: Arc<Scraper>,
    /// The sample store.
    pub store: Store,
}

/// The telemetry service's routes, instrumented like every keviq service. Its scrape
/// and storage metrics are its own: in a process shared with other services, only
/// its `/metrics` shows them.
#[keviq::service(name = "telemetry-service", metrics = [SCRAPER, STORAGE])]
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(dashboard))
        .route("/api/v1/targets", get(targets))
        .route("/api/v1/services", get(services))
        .route("/api/v1/samples", get(samples))
        .with_state(state)
}

/// A `400` naming the parameter, or a `503` when the database fails.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    parameter: Option<&'static str>,
    message: String,
}

impl ApiError {
    fn bad(parameter: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            parameter: Some(parameter),
            message: message.into(),
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        tracing::error!(error = %e, "query failed");
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            parameter: None,
            message: "the database is unavailable".into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({ "error": self.message, "parameter": self.parameter })),
        )
            .into_response()
    }
}

type Params = Vec<(String, String)>;
type Labels = Vec<(String, String)>;

/// The query string as pairs; a malformed one is a `400` like any bad parameter.
fn pairs(query: Result<Query<Params>, QueryRejection>) -> Result<Params, ApiError> {
    query.map(|Query(p)| p).map_err(|e| ApiError {
        status: StatusCode::BAD_REQUEST,
        parameter: None,
        message: format!("malformed query string: {e}"),
    })
}

fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn number(
    params: &Params,
    name: &'static str,
    default: f64,
    min: f64,
    max: f64,
) -> Result<f64, ApiError> {
    match param(params, name) {
        None => Ok(default),
        Some(text) => match text.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && (min..=max).contains(&v) => Ok(v),
            _ => Err(ApiError::bad(
                name,
                format!("`{name}` must be a number from {min} to {max}"),
            )),
        },
    }
}

fn now_secs() -> f64 {
    epoch_ms(SystemTime::now()) as f64 / 1000.0
}

async fn dashboard() -> Html<&'static str> {
    Html(include_str!("dashboard.html"))
}

fn system_time_secs(t: Option<SystemTime>) -> Value {
    t.map_or(Value::Null, |t| json!(epoch_ms(t) as f64 / 1000.0))
}

async fn targets(State(state): State<AppState>) -> Json<Value> {
    let list: Vec<Value> = state
        .scraper
        .health()
        .into_iter()
        .map(|h| {
            json!({
                "target": h.target.to_string(),
                "service": h.service_name(),
                "up": h.up,
                "last_scrape": system_time_secs(h.last_scrape),
                "last_duration_ms": h.last_duration.map(|d| d.as_secs_f64() * 1000.0),
                "last_error": h.last_error,
                "consecutive_failures": h.consecutive_failures,
                "samples": h.samples,
            })
        })
        .collect();
    Json(Value::Array(list))
}

/// Each target's first scrape in the window.
type FirstScrapes = BTreeMap<String, i64>;

/// The increase of each series (target and labels) over the window. A series first
/// seen after its target's first scrape in the window was created in between, at
/// zero: its first value counts as an increase.
fn series_increases<'a>(
    rows: &'a [StoredSample],
    first_scrape: &FirstScrapes,
) -> Vec<(&'a str, &'a Labels, f64)> {
    let mut series: BTreeMap<(&str, String), (i64, &Labels, Vec<f64>)> = BTreeMap::new();
    for r in rows {
        series
            .entry((r.target.as_str(), format!("{:?}", r.labels)))
            .or_insert((r.ts_ms, &r.labels, Vec::new()))
            .2
            .push(r.value);
    }
    series
        .into_iter()
        .map(|((target, _), (born, labels, mut values))| {
            if first_scrape.get(target).is_some_and(|first| born > *first) {
                values.insert(0, 0.0);
            }
            (target, labels, increase(&values))
        })
        .collect()
}

/// Per target: the increases of every series of a counter, summed.
fn increases_by_target(
    rows: &[StoredSample],
    first_scrape: &FirstScrapes,
) -> BTreeMap<String, f64> {
    let mut totals = BTreeMap::new();
    for (target, _, inc) in series_increases(rows, first_scrape) {
        *totals.entry(target.to_owned()).or_insert(0.0) += inc;
    }
    totals
}

async fn window_rows(
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

async fn services(
    State(state): State<AppState>,
    query: Result<Query<Params>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let params = pairs(query)?;
    let window = number(&params, "window", 300.0, 1.0, 86_400.0)?;
    let history = match param(&params, "history") {
        None | Some("0" | "false") => false,
        Some("1" | "true") => true,
        Some(_) => return Err(ApiError::bad("history", "`history` must be 0 or 1")),
    };
    let until_ms = epoch_ms(SystemTime::now());
    let since_ms = until_ms - (window * 1000.0) as i64;
    let store = &state.store;

    let first: FirstScrapes = store
        .first_scrapes(since_ms, until_ms)
        .await?
        .into_iter()
        .collect();
    let counter = async |metric: &str| -> Result<BTreeMap<String, f64>, ApiError> {
        Ok(increases_by_target(
            &window_rows(store, metric, since_ms, until_ms).await?,
            &first,
        ))
    };
    let requests = counter("mona_http_requests_total").await?;
    let errors = counter("mona_http_request_errors_total").await?;
    let invocations = counter("mona_agent_invocations_total").await?;
    let bucket_rows = window_rows(
        store,
        "mona_http_request_duration_ms_bucket",
        since_ms,
        until_ms,
    )
    .await?;
    let mut buckets: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for (target, labels, inc) in series_increases(&bucket_rows, &first) {
        let le = labels
            .iter()
            .find(|(k, _)| k == "le")
            .map_or(f64::NAN, |(_, v)| parse_le(v));
        buckets
            .entry(target.to_owned())
            .or_default()
            .push((le, inc));
    }
    let (history_rows, history_first): (Vec<StoredSample>, FirstScrapes) = if history {
        let since = until_ms - 3_600_000;
        let rows = window_rows(store, "mona_http_requests_total", since, until_ms).await?;
        (
            rows,
            store
                .first_scrapes(since, until_ms)
                .await?
                .into_iter()
                .collect(),
        )
    } else {
        (Vec::new(), FirstScrapes::new())
    };

    let list: Vec<Value> = state
        .scraper
        .health()
        .into_iter()
        .map(|h| {
            let target = h.target.to_string();
            let merged = merge_buckets(buckets.get(&target).cloned().unwrap_or_default());
            let span = covered_seconds(window, first.get(&target).copied(), until_ms);
            let mut entry = json!({
                "target": target,
                "service": h.service_name(),
                "up": h.up,
                "last_scrape": system_time_secs(h.last_scrape),
                "request_rate": requests.get(&target).copied().unwrap_or(0.0) / span,
                "error_rate": errors.get(&target).copied().unwrap_or(0.0) / span,
                "p50_ms": histogram_quantile(0.5, &merged),
                "p99_ms": histogram_quantile(0.99, &merged),
                "agent_invocation_rate": invocations.get(&target).map(|v| v / span),
            });
            if history {
                entry["history"] = json!(per_minute_rate(
                    &history_rows,
                    &target,
                    until_ms,
                    history_first.get(&target).copied()
                ));
            }
            entry
        })
        .collect();
    Ok(Json(json!({ "window_seconds": window, "services": list })))
}

fn parse_le(v: &str) -> f64 {
    if v == "+Inf" {
        f64::INFINITY
    } else {
        v.parse().unwrap_or(f64::NAN)
    }
}

/// Requests per second in each of the last 60 minutes (oldest first), from the
/// counter deltas between consecutive scrapes of each series.
/// The seconds a target's rates are averaged over: the window, or less when the
/// target's first scrape in it came later (a fleet started two minutes ago is not
/// averaged over five).
fn covered_seconds(window: f64, first_ms: Option<i64>, until_ms: i64) -> f64 {
    first_ms.map_or(window, |first| {
        ((until_ms - first) as f64 / 1000.0).clamp(1.0, window)
    })
}

fn per_minute_rate(
    rows: &[StoredSample],
    target: &str,
    until_ms: i64,
    first_scrape: Option<i64>,
) -> Vec<f64> {
    let mut minutes = vec![0.0; 60];
    let mut series: BTreeMap<String, Vec<(i64, f64)>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.target == target) {
        series
            .entry(format!("{:?}", r.labels))
            .or_default()
            .push((r.ts_ms, r.value));
    }
    for points in series.values_mut() {
        // Created after the hour's first scrape: it started from zero just before.
        if let (Some(first), Some(&(born, _))) = (first_scrape, points.first())
            && born > first
        {
            points.insert(0, (born, 0.0));
        }
        for w in points.windows(2) {
            let delta = increase(&[w[0].1, w[1].1]);
            let age = until_ms - w[1].0;
            let slot = 59 - (age / 60_000).clamp(0, 59) as usize;
            minutes[slot] += delta / 60.0;
        }
    }
    minutes
}

async fn samples(
    State(state): State<AppState>,
    query: Result<Query<Params>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let params = pairs(query)?;
    for (name, _) in &params {
        if !matches!(
            name.as_str(),
            "metric" | "target" | "since" | "until" | "label" | "limit"
        ) {
            return Err(ApiError {
                status: StatusCode::BAD_REQUEST,
                parameter: None,
                message: format!(
                    "unknown parameter `{}`; expected metric, target, since, until, label, limit",
                    name.chars().take(64).collect::<String>()
                ),
            });
        }
    }
    let metric =
        param(&params, "metric").ok_or_else(|| ApiError::bad("metric", "`metric` is required"))?;
    // Any valid sample name: a counter's (`_total`) or anything else's.
    let valid = [keviq::MetricKind::Counter, keviq::MetricKind::Gauge]
        .into_iter()
        .any(|kind| keviq::rules::check_metric_name(metric, kind).is_ok());
    if !valid {
        return Err(ApiError::bad(
            "metric",
            "`metric` is not a valid metric name",
        ));
    }
    let target = param(&params, "target").map(str::to_owned);
    let now = now_secs();
    let until = number(&params, "until", now, 0.0, 1e11)?;
    let since = number(&params, "since", until - 3600.0, 0.0, 1e11)?;
    if since > until {
        return Err(ApiError::bad("since", "`since` is after `until`"));
    }
    let limit = number(&params, "limit", 10_000.0, 1.0, 100_000.0)? as i64;
    let mut matchers = Vec::new();
    for (_, m) in params.iter().filter(|(k, _)| k == "label") {
        match m.split_once('=') {
            Some((name, value)) if !name.is_empty() => {
                matchers.push((name.to_owned(), value.to_owned()))
            }
            _ => return Err(ApiError::bad("label", "`label` must be `name=value`")),
        }
    }
    let q = SampleQuery {
        metric: metric.to_owned(),
        target,
        since_ms: (since * 1000.0) as i64,
        until_ms: (until * 1000.0) as i64,
        limit: if matchers.is_empty() { limit } else { i64::MAX },
    };
    let rows = state.store.samples(&q).await?;
    let list: Vec<Value> = rows
        .into_iter()
        .filter(|r| matchers.iter().all(|(k, v)| r.labels.iter().any(|(lk, lv)| lk == k && lv == v)))
        .take(limit as usize)
        .map(|r| {
            let labels: serde_json::Map<String, Value> = r.labels.into_iter().map(|(k, v)| (k, Value::from(v))).collect();
            json!({
                "target": r.target,
                "metric": r.metric,
                "labels": labels,
                "value": if r.value.is_finite() { json!(r.value) } else { json!(r.value.to_string()) },
                "timestamp": r.ts_ms as f64 / 1000.0,
            })
        })
        .collect();
    Ok(Json(Value::Array(list)))
}

/// Deletes samples older than `retention` every `retention / 24` (at most hourly).
pub async fn retention_loop(store: Store, retention: Duration) {
    let every = (retention / 24).clamp(Duration::from_secs(10), Duration::from_secs(3600));
    let mut ticks = tokio::time::interval(every);
    loop {
        ticks.tick().await;
        match store.delete_older_than(SystemTime::now() - retention).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "retention removed old samples"),
            Err(e) => tracing::warn!(error = %e, "retention delete failed; will retry"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::covered_seconds;

    #[test]
    fn rates_cover_the_window_or_the_time_since_the_first_scrape() {
        let now = 1_000_000;
        assert_eq!(covered_seconds(300.0, None, now), 300.0);
        assert_eq!(covered_seconds(300.0, Some(now - 120_000), now), 120.0);
        assert_eq!(covered_seconds(300.0, Some(now - 900_000), now), 300.0);
        assert_eq!(covered_seconds(300.0, Some(now), now), 1.0);
    }
}
