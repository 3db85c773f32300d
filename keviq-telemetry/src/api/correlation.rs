//! From a latency spike to the requests behind it: the stored exemplars
//! (`GET /api/v1/exemplars`), and the spans and log lines of one request
//! (`GET /api/v1/requests/{request_id}`) or trace (`GET /api/v1/traces/{trace_id}`).

use std::time::SystemTime;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use keviq::axum::names::TRUNCATION_MARK;

use super::error::ApiError;
use super::params::{Params, limit, number, only, pairs, param};
use super::response::{ExemplarEntry, Listed};
use super::state::AppState;
use crate::clock::epoch_ms;
use crate::logs::{LogLimits, Trace};
use crate::store::ExemplarQuery;

/// The parameters `GET /api/v1/exemplars` takes.
const EXEMPLAR_PARAMETERS: [&str; 7] = [
    "service",
    "metric",
    "min_value",
    "since",
    "until",
    "sort",
    "limit",
];

/// Exemplars one answer holds at most (`limit` defaults to 100).
pub const EXEMPLAR_LIMIT: i64 = 1_000;

/// Exemplars an answer holds when `limit` is not given.
const EXEMPLAR_LIMIT_DEFAULT: i64 = 100;

/// Log lines one answer of `GET /api/v1/requests/{request_id}` holds at most; also
/// the default ([`LogLimits::DEFAULT`]).
pub const REQUEST_LINE_LIMIT: i64 = LogLimits::DEFAULT.max_lines as i64;

/// `GET /api/v1/exemplars?service=…&metric=…&min_value=…&since=…&until=…&sort=time|value&limit=…`:
/// the stored exemplars, newest first (`sort=value`: highest value first, the
/// slowest requests of a latency histogram). `service` is a service name or a
/// `host:port`; `since` defaults to an hour before `until` (now). One more than
/// `limit` is read, to know whether the answer is cut.
pub(super) async fn exemplars(
    State(state): State<AppState>,
    query: Result<Query<Params>, QueryRejection>,
) -> Result<Listed<Vec<ExemplarEntry>>, ApiError> {
    let params = pairs(query)?;
    only(
        &params,
        &EXEMPLAR_PARAMETERS,
        "service, metric, min_value, since, until, sort, limit",
    )?;
    let metric = match param(&params, "metric") {
        None => None,
        Some(m) if keviq::model::check_metric_name_syntax(m).is_ok() => Some(m.to_owned()),
        Some(_) => return Err(ApiError::InvalidMetric),
    };
    let health = state.scraper.health();
    let targets: Vec<String> = match param(&params, "service") {
        None => Vec::new(),
        Some(service) => {
            let targets: Vec<String> = health
                .iter()
                .filter(|h| h.service_name() == service || h.target.to_string() == service)
                .map(|h| h.target.to_string())
                .collect();
            if targets.is_empty() {
                return Err(ApiError::UnknownService);
            }
            targets
        }
    };
    let now = epoch_ms(SystemTime::now()) as f64 / 1000.0;
    let until = number(&params, "until", now, 0.0, 1e11)?;
    let since = number(&params, "since", until - 3600.0, 0.0, 1e11)?;
    if since > until {
        return Err(ApiError::SinceAfterUntil);
    }
    let min_value = number(&params, "min_value", f64::MIN, f64::MIN, f64::MAX)?;
    let by_value = match param(&params, "sort") {
        None | Some("time") => false,
        Some("value") => true,
        Some(_) => return Err(ApiError::Sort),
    };
    let limit = limit(&params, EXEMPLAR_LIMIT_DEFAULT, EXEMPLAR_LIMIT)?;
    let q = ExemplarQuery {
        metric,
        targets,
        min_value,
        since_ms: (since * 1000.0) as i64,
        until_ms: (until * 1000.0) as i64,
        by_value,
        limit: limit + 1,
    };
    let rows = state.store()?.exemplars(&q).await?;
    let service_of = |target: &str| {
        health
            .iter()
            .find(|h| h.target.to_string() == target)
            .map_or_else(|| target.to_owned(), |h| h.service_name())
    };
    let entries = rows
        .into_iter()
        .map(|r| {
            let service = service_of(&r.target);
            ExemplarEntry::new(r, service)
        })
        .collect();
    Ok(Listed::first(
        entries,
        usize::try_from(limit).unwrap_or(usize::MAX),
    ))
}

/// `GET /api/v1/requests/{request_id}?limit=…`: the request's trace from the
/// fleet's log files ([`crate::logs`]): its spans as a tree, each with its log lines,
/// and every line in time order, found through the log index (so a lookup reads the
/// request's lines, not the files), with at most `limit` lines (up to
/// [`REQUEST_LINE_LIMIT`]). The lines of the request ID are read, then those of the
/// trace they name (a hop that started its own request ID is still in it). The ID
/// must be well formed (`keviq::request_id::is_well_formed`), or be one an exemplar
/// shortened: a well-formed start followed by `…`, matched as a prefix. Without log
/// files the answer is `404`, pointing at `TELEMETRY_LOG_URL`. A cut answer says so
/// twice: its `truncated` field and the `X-Truncated` header.
pub(super) async fn request(
    State(state): State<AppState>,
    Path(request_id): Path<String>,
    query: Result<Query<Params>, QueryRejection>,
) -> Result<Listed<Trace>, ApiError> {
    let limits = line_limits(query)?;
    let well_formed = match request_id.strip_suffix(TRUNCATION_MARK) {
        Some(prefix) => !prefix.is_empty() && keviq::request_id::is_well_formed(prefix.as_bytes()),
        None => keviq::request_id::is_well_formed(request_id.as_bytes()),
    };
    if !well_formed {
        return Err(ApiError::RequestId);
    }
    if state.logs.files.is_empty() {
        return Err(ApiError::NoLogs);
    }
    let index = state.log_index.clone();
    lookup(move || {
        let (mut lines, mut truncated) = index.request_lines(&request_id, limits);
        if let Some(trace) = index.traces_of(&lines).into_iter().next() {
            let (more, cut) = index.trace_lines(&trace, limits);
            truncated |= cut;
            for line in more {
                if !lines.contains(&line) {
                    lines.push(line);
                }
            }
            if lines.len() > limits.max_lines {
                lines.truncate(limits.max_lines);
                truncated = true;
            }
        }
        Trace::build(Some(request_id), lines, truncated)
    })
    .await
}

/// `GET /api/v1/traces/{trace_id}?limit=…`: the trace's spans and lines, as
/// [`request`] answers them, for every request ID seen with the trace ID (32
/// lowercase hex digits, not all zeros).
pub(super) async fn trace(
    State(state): State<AppState>,
    Path(trace_id): Path<String>,
    query: Result<Query<Params>, QueryRejection>,
) -> Result<Listed<Trace>, ApiError> {
    let limits = line_limits(query)?;
    let hex = trace_id.len() == 32
        && trace_id
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        && trace_id.bytes().any(|b| b != b'0');
    if !hex {
        return Err(ApiError::TraceId);
    }
    if state.logs.files.is_empty() {
        return Err(ApiError::NoLogs);
    }
    let index = state.log_index.clone();
    lookup(move || {
        let (lines, truncated) = index.trace_lines(&trace_id, limits);
        Trace::build(None, lines, truncated)
    })
    .await
}

/// The `limit` of a lookup, as log limits.
fn line_limits(query: Result<Query<Params>, QueryRejection>) -> Result<LogLimits, ApiError> {
    let params = pairs(query)?;
    only(&params, &["limit"], "limit")?;
    let max_lines = limit(&params, REQUEST_LINE_LIMIT, REQUEST_LINE_LIMIT)?;
    Ok(LogLimits {
        max_lines: usize::try_from(max_lines).unwrap_or(0),
        ..LogLimits::DEFAULT
    })
}

/// Runs a lookup in a blocking task (it reads files).
async fn lookup(read: impl FnOnce() -> Trace + Send + 'static) -> Result<Listed<Trace>, ApiError> {
    tokio::task::spawn_blocking(read)
        .await
        .map(|trace| Listed {
            truncated: trace.truncated,
            body: trace,
        })
        .map_err(|e| {
            tracing::error!(error = %e, "the log lookup failed");
            ApiError::LogScan
        })
}
