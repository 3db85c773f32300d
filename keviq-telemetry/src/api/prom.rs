//! The read side over a Prometheus-compatible query API (`TELEMETRY_QUERY_URL`:
//! Prometheus, VictoriaMetrics, Thanos Query, Mimir's `/prometheus`): the API's
//! `/api/v1/targets` and `/api/v1/services`, and so the dashboard, answer from PromQL
//! there instead of the local store, with the same JSON.
//!
//! | figure | PromQL |
//! |---|---|
//! | targets, up, last scrape | `up` (its sample's time) |
//! | last duration, samples | `scrape_duration_seconds`, `scrape_samples_scraped` |
//! | request rate | `sum by (instance) (rate(mona_http_requests_total[W]))` |
//! | error rate | `sum by (instance) (rate(mona_http_request_errors_total[W]))` |
//! | P50 / P99 | `histogram_quantile(q, sum by (instance, le) (rate(mona_http_request_duration_ms_bucket[W])))` |
//! | agent invocation rate | `sum by (instance) (rate(mona_agent_invocations_total[W]))` |
//! | history | per minute of the last hour (`query_range`, up to now): the request and error rates over `[1m]`, and P50/P99 of `[1m]` of the buckets |
//!
//! The targets are those the database knows (every telemetry process's, when
//! several share the targets), with this process's own targets added; a target's
//! service is its `job` ([`crate::remote::series`]). `last_error` and
//! `consecutive_failures` are known only for this process's targets. PromQL's `rate`
//! extrapolates to the window's edges, where the local store's figures do not
//! ([`crate::analytics`]): the two differ slightly on a young series.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::ACCEPT;
use http::{HeaderValue, Request, StatusCode};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use keviq::axum::names::{
    HTTP_REQUEST_DURATION_MS, HTTP_REQUEST_ERRORS_TOTAL, HTTP_REQUESTS_TOTAL,
};
use serde::Deserialize;

use super::error::ApiError;
use super::response::{History, Listed, ServiceEntry, ServicesResponse, TargetEntry};
use super::state::{BoxFuture, HealthSource, ServicesRequest};
use crate::analytics::{AGENT_INVOCATIONS_TOTAL, ServiceHealth};
use crate::clock::epoch_ms;
use crate::config::{QueryConfig, request_headers};
use crate::http_client;
use crate::sample::{SCRAPE_DURATION_SECONDS, SCRAPE_SAMPLES_SCRAPED, Target, UP};
use crate::scrape::{Scraper, TargetHealth};

/// Limit of one query, connection to last byte.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(20);
/// Largest answer accepted.
const ANSWER_LIMIT: usize = 64 * 1024 * 1024;

/// A query that got no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// No answer: connection refused, reset, or the timeout.
    #[error("cannot reach the query API: {0}")]
    Unreachable(String),
    /// An answer with an error status (PromQL refused, server failure).
    #[error("the query API answered {status}: {reason}")]
    Status {
        /// The status.
        status: u16,
        /// The `error` of its JSON, or the start of its body.
        reason: String,
    },
    /// An answer that is not the Prometheus API's JSON.
    #[error("the query API's answer is not Prometheus API JSON: {0}")]
    Malformed(String),
}

/// One element of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The series' labels.
    pub labels: BTreeMap<String, String>,
    /// The sample's time, Unix seconds.
    pub time: f64,
    /// The value (NaN and the infinities included).
    pub value: f64,
}

/// One series of a range query.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// The series' labels.
    pub labels: BTreeMap<String, String>,
    /// `(Unix seconds, value)`, oldest first.
    pub points: Vec<(f64, f64)>,
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    result: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    #[serde(default)]
    value: Option<(f64, String)>,
    #[serde(default)]
    values: Option<Vec<(f64, String)>>,
}

/// A value as the API writes it: `"1.5"`, `"NaN"`, `"+Inf"`, `"-Inf"`.
fn number(text: &str) -> f64 {
    match text {
        "+Inf" | "Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        other => other.parse().unwrap_or(f64::NAN),
    }
}

/// Percent-encodes a query-string value (everything but RFC 3986's unreserved).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A client of one Prometheus-compatible query API.
#[derive(Debug, Clone)]
pub struct PromQuery {
    base: String,
    client: Client<HttpConnector, Empty<Bytes>>,
    headers: Vec<(http::HeaderName, HeaderValue)>,
}

impl PromQuery {
    /// A client for `config`'s endpoint, token and headers.
    pub fn new(config: &QueryConfig) -> Self {
        let client = http_client::client(QUERY_TIMEOUT);
        let headers = request_headers(&config.headers, config.bearer_token.as_ref());
        Self {
            base: config.endpoint.url.trim_end_matches('/').to_owned(),
            client,
            headers,
        }
    }

    async fn get(&self, path_and_query: &str) -> Result<Data, QueryError> {
        let mut request = Request::get(format!("{}{path_and_query}", self.base))
            .header(ACCEPT, "application/json");
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let request = request
            .body(Empty::new())
            .map_err(|e| QueryError::Unreachable(e.to_string()))?;
        let (status, body) = tokio::time::timeout(QUERY_TIMEOUT, async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| QueryError::Unreachable(http_client::source_chain(&e)))?;
            let status = response.status();
            let body = Limited::new(response.into_body(), ANSWER_LIMIT)
                .collect()
                .await
                .map_err(|e| QueryError::Unreachable(e.to_string()))?
                .to_bytes();
            Ok::<_, QueryError>((status, body))
        })
        .await
        .map_err(|_| QueryError::Unreachable(format!("no answer within {QUERY_TIMEOUT:?}")))??;
        let envelope: Result<Envelope, _> = serde_json::from_slice(&body);
        match envelope {
            Ok(Envelope {
                status: s,
                data: Some(data),
                ..
            }) if s == "success" && status == StatusCode::OK => Ok(data),
            Ok(e) => Err(QueryError::Status {
                status: status.as_u16(),
                reason: e.error.unwrap_or(e.status).chars().take(300).collect(),
            }),
            Err(e) if status == StatusCode::OK => Err(QueryError::Malformed(e.to_string())),
            Err(_) => Err(QueryError::Status {
                status: status.as_u16(),
                reason: String::from_utf8_lossy(&body)
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(300)
                    .collect(),
            }),
        }
    }

    /// An instant query at `time` (Unix seconds).
    ///
    /// # Errors
    /// No answer, an error answer, or not a vector.
    pub async fn instant(&self, promql: &str, time: f64) -> Result<Vec<Point>, QueryError> {
        let data = self
            .get(&format!(
                "/api/v1/query?query={}&time={time:.3}",
                encode(promql)
            ))
            .await?;
        if data.result_type != "vector" {
            return Err(QueryError::Malformed(format!(
                "expected a vector, got a {}",
                data.result_type
            )));
        }
        Ok(data
            .result
            .into_iter()
            .filter_map(|e| {
                let (time, value) = e.value?;
                Some(Point {
                    labels: e.metric,
                    time,
                    value: number(&value),
                })
            })
            .collect())
    }

    /// A range query from `start` to `end` every `step` seconds.
    ///
    /// # Errors
    /// No answer, an error answer, or not a matrix.
    pub async fn range(
        &self,
        promql: &str,
        start: f64,
        end: f64,
        step: f64,
    ) -> Result<Vec<Line>, QueryError> {
        let data = self
            .get(&format!(
                "/api/v1/query_range?query={}&start={start:.3}&end={end:.3}&step={step}",
                encode(promql)
            ))
            .await?;
        if data.result_type != "matrix" {
            return Err(QueryError::Malformed(format!(
                "expected a matrix, got a {}",
                data.result_type
            )));
        }
        Ok(data
            .result
            .into_iter()
            .map(|e| Line {
                labels: e.metric,
                points: e
                    .values
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(t, v)| (t, number(&v)))
                    .collect(),
            })
            .collect())
    }

    /// Each instance's value of an instant query (by the `instance` label).
    async fn by_instance(
        &self,
        promql: &str,
        time: f64,
    ) -> Result<BTreeMap<String, Point>, QueryError> {
        Ok(self
            .instant(promql, time)
            .await?
            .into_iter()
            .filter_map(|p| Some((p.labels.get("instance")?.clone(), p)))
            .collect())
    }

    /// Every target's health: the database's `up`, with this process's own targets
    /// (their errors and failure counts) merged in.
    ///
    /// # Errors
    /// The query API failed.
    pub async fn health(&self, scraper: &Scraper) -> Result<Vec<TargetHealth>, QueryError> {
        let now = epoch_ms(SystemTime::now()) as f64 / 1000.0;
        let up = self.by_instance(UP, now).await?;
        let durations = self.by_instance(SCRAPE_DURATION_SECONDS, now).await?;
        let samples = self.by_instance(SCRAPE_SAMPLES_SCRAPED, now).await?;
        let mut health: BTreeMap<Target, TargetHealth> = scraper
            .health()
            .into_iter()
            .map(|h| (h.target.clone(), h))
            .collect();
        for (instance, point) in up {
            let Ok(target) = Target::parse(&instance) else {
                continue;
            };
            let local = health.remove(&target);
            let is_up = point.value == 1.0;
            let (last_error, consecutive_failures, findings) = match &local {
                Some(l) => (
                    l.last_error.clone(),
                    l.consecutive_failures,
                    l.findings.clone(),
                ),
                None => (None, u32::from(!is_up), Vec::new()),
            };
            let entry = TargetHealth {
                up: is_up,
                last_scrape: SystemTime::UNIX_EPOCH
                    .checked_add(Duration::from_secs_f64(point.time.max(0.0))),
                last_duration: durations
                    .get(&instance)
                    .filter(|p| p.value.is_finite() && p.value >= 0.0)
                    .map(|p| Duration::from_secs_f64(p.value)),
                last_error,
                consecutive_failures,
                findings,
                samples: samples
                    .get(&instance)
                    .filter(|p| p.value.is_finite() && p.value >= 0.0)
                    .map_or(0, |p| p.value as usize),
                announced: point
                    .labels
                    .get("job")
                    .cloned()
                    .or_else(|| local.as_ref().and_then(|l| l.announced.clone())),
                target: target.clone(),
            };
            health.insert(target, entry);
        }
        Ok(health.into_values().collect())
    }

    /// `GET /api/v1/targets` from the database.
    ///
    /// # Errors
    /// The query API failed.
    pub async fn targets(&self, scraper: &Scraper) -> Result<Vec<TargetEntry>, QueryError> {
        Ok(self
            .health(scraper)
            .await?
            .into_iter()
            .map(TargetEntry::from)
            .collect())
    }

    /// `GET /api/v1/services` from the database.
    ///
    /// # Errors
    /// The query API failed.
    pub async fn services(
        &self,
        scraper: &Scraper,
        window: f64,
        history: bool,
    ) -> Result<ServicesResponse, QueryError> {
        let now = epoch_ms(SystemTime::now()) as f64 / 1000.0;
        let range = format!("[{}ms]", (window * 1000.0).round() as u64);
        let rate = |metric: &str| format!("sum by (instance) (rate({metric}{range}))");
        let quantile = |q: f64| {
            format!(
                "histogram_quantile({q}, sum by (instance, le) (rate({HTTP_REQUEST_DURATION_MS}_bucket{range})))"
            )
        };
        let requests = self.by_instance(&rate(HTTP_REQUESTS_TOTAL), now).await?;
        let errors = self
            .by_instance(&rate(HTTP_REQUEST_ERRORS_TOTAL), now)
            .await?;
        let invocations = self
            .by_instance(&rate(AGENT_INVOCATIONS_TOTAL), now)
            .await?;
        let p50 = self.by_instance(&quantile(0.5), now).await?;
        let p99 = self.by_instance(&quantile(0.99), now).await?;
        // Up to now, not to the last whole minute: the newest point holds the
        // last minute's traffic, as the local store's history does.
        let end = now.floor();
        let mut history_lines: [BTreeMap<String, Vec<Option<f64>>>; 4] = Default::default();
        if history {
            let per_minute_quantile = |q: f64| {
                format!(
                    "histogram_quantile({q}, sum by (instance, le) (rate({HTTP_REQUEST_DURATION_MS}_bucket[1m])))"
                )
            };
            let exprs = [
                format!("sum by (instance) (rate({HTTP_REQUESTS_TOTAL}[1m]))"),
                format!("sum by (instance) (rate({HTTP_REQUEST_ERRORS_TOTAL}[1m]))"),
                per_minute_quantile(0.5),
                per_minute_quantile(0.99),
            ];
            for (lines, expr) in history_lines.iter_mut().zip(exprs) {
                *lines = self.per_minute(&expr, end).await?;
            }
        }
        let finite = |m: &BTreeMap<String, Point>, instance: &str| {
            m.get(instance).map(|p| p.value).filter(|v| v.is_finite())
        };
        let services = self
            .health(scraper)
            .await?
            .into_iter()
            .map(|h| {
                let instance = h.target.to_string();
                let health = ServiceHealth {
                    request_rate: finite(&requests, &instance).unwrap_or(0.0),
                    error_rate: finite(&errors, &instance).unwrap_or(0.0),
                    p50_ms: finite(&p50, &instance),
                    p99_ms: finite(&p99, &instance),
                    agent_invocation_rate: finite(&invocations, &instance),
                };
                let per_minute = history.then(|| {
                    let line = |i: usize| {
                        history_lines[i]
                            .get(&instance)
                            .cloned()
                            .unwrap_or_else(|| vec![None; 60])
                    };
                    let rate = |i: usize| line(i).into_iter().map(|v| v.unwrap_or(0.0)).collect();
                    History {
                        until: end,
                        request_rate: rate(0),
                        error_rate: rate(1),
                        p50_ms: line(2),
                        p99_ms: line(3),
                    }
                });
                ServiceEntry::new(&h, health, per_minute)
            })
            .collect();
        Ok(ServicesResponse {
            window_seconds: window,
            services,
            log_url: None,
        })
    }

    /// `expr` per minute over the hour ending at `end`, by `instance`: 60 values,
    /// oldest first, `None` where the database has no finite value.
    async fn per_minute(
        &self,
        expr: &str,
        end: f64,
    ) -> Result<BTreeMap<String, Vec<Option<f64>>>, QueryError> {
        let lines = self.range(expr, end - 59.0 * 60.0, end, 60.0).await?;
        Ok(lines
            .into_iter()
            .filter_map(|l| {
                let instance = l.labels.get("instance")?.clone();
                let mut minutes = vec![None; 60];
                for (t, v) in l.points {
                    let age = ((end - t) / 60.0).round();
                    if (0.0..60.0).contains(&age) && v.is_finite() {
                        minutes[59 - age as usize] = Some(v);
                    }
                }
                Some((instance, minutes))
            })
            .collect())
    }
}

/// The query API's figures: PromQL over what the time-series database holds.
impl HealthSource for PromQuery {
    fn targets<'a>(
        &'a self,
        scraper: &'a Scraper,
    ) -> BoxFuture<'a, Result<Vec<TargetEntry>, ApiError>> {
        Box::pin(async move { Ok(PromQuery::targets(self, scraper).await?) })
    }

    fn services<'a>(
        &'a self,
        scraper: &'a Scraper,
        request: ServicesRequest,
    ) -> BoxFuture<'a, Result<Listed<ServicesResponse>, ApiError>> {
        Box::pin(async move {
            let mut body =
                PromQuery::services(self, scraper, request.window, request.history).await?;
            let truncated = body.services.len() > request.limit;
            body.services.truncate(request.limit);
            Ok(Listed { body, truncated })
        })
    }
}

/// A failed query is logged and answered `503`; the message says no more.
impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        tracing::error!(error = %e, "query API failed");
        Self::QueryUnavailable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            encode("sum by (instance) (rate(x[5m]))"),
            "sum%20by%20%28instance%29%20%28rate%28x%5B5m%5D%29%29"
        );
        assert_eq!(encode("a-b_c.d~"), "a-b_c.d~");
        assert_eq!(encode("é"), "%C3%A9");
    }

    #[test]
    fn api_values_read_as_numbers() {
        assert_eq!(number("1.5"), 1.5);
        assert_eq!(number("+Inf"), f64::INFINITY);
        assert_eq!(number("-Inf"), f64::NEG_INFINITY);
        assert!(number("NaN").is_nan());
        assert!(number("junk").is_nan());
        let envelope: Envelope = serde_json::from_str(
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"instance":"a:1"},"value":[1700000000.5,"1"]}]}}"#,
        )
        .expect("json");
        let data = envelope.data.expect("data");
        assert_eq!(
            data.result[0].value,
            Some((1_700_000_000.5, "1".to_owned()))
        );
    }
}
