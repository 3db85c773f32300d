//! The JSON answers of the API, one type each. Times are Unix seconds; fields keep
//! their order in the JSON.
//!
//! Every answer a `limit` bounds is a [`Listed`]: its JSON as before, and the header
//! [`TRUNCATED_HEADER`], `true` when more matched than the answer holds.

use std::time::SystemTime;

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::HeaderValue;
use serde::{Serialize, Serializer};

use crate::analytics::ServiceHealth;
use crate::clock::epoch_ms;
use crate::sample::Labels;
use crate::scrape::TargetHealth;
use crate::store::{StoredExemplar, StoredSample};
use keviq::axum::names::{REQUEST_ID_LABEL, TRACE_ID_LABEL};

/// Seconds since the epoch, with milliseconds.
fn seconds(t: SystemTime) -> f64 {
    epoch_ms(t) as f64 / 1000.0
}

/// The header of every answer a `limit` bounds: `true` when the answer stopped at
/// its limit and more matched (ask again with a narrower range, or a later `since`),
/// `false` when it holds everything that matched.
pub const TRUNCATED_HEADER: &str = "x-truncated";

/// An answer a `limit` bounds: `body` as JSON, with [`TRUNCATED_HEADER`].
#[derive(Debug, Clone, PartialEq)]
pub struct Listed<T> {
    /// The answer.
    pub body: T,
    /// More matched than it holds.
    pub truncated: bool,
}

impl<T> Listed<Vec<T>> {
    /// The first `limit` of `items`, truncated when there were more (a store read
    /// asked for `limit + 1` to know).
    pub fn first(mut items: Vec<T>, limit: usize) -> Self {
        let truncated = items.len() > limit;
        items.truncate(limit);
        Self {
            body: items,
            truncated,
        }
    }
}

impl<T: Serialize> IntoResponse for Listed<T> {
    fn into_response(self) -> Response {
        let mut response = Json(self.body).into_response();
        response.headers_mut().insert(
            TRUNCATED_HEADER,
            HeaderValue::from_static(if self.truncated { "true" } else { "false" }),
        );
        response
    }
}

/// One element of `GET /api/v1/targets`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetEntry {
    /// `host:port`.
    pub target: String,
    /// The service the target is ([`TargetHealth::service_name`]).
    pub service: String,
    /// Whether the last scrape succeeded.
    pub up: bool,
    /// When the last scrape started; `null` before the first.
    pub last_scrape: Option<f64>,
    /// How long the last scrape took, in ms.
    pub last_duration_ms: Option<f64>,
    /// Why the last scrape failed.
    pub last_error: Option<String>,
    /// Failed scrapes since the last success.
    pub consecutive_failures: u32,
    /// Samples of the last successful scrape.
    pub samples: usize,
    /// What the last scrape tolerated that the specifications do not allow, as
    /// `line:column: reason` (the target stays up); empty for a clean exposition.
    pub findings: Vec<String>,
}

impl From<TargetHealth> for TargetEntry {
    fn from(h: TargetHealth) -> Self {
        Self {
            target: h.target.to_string(),
            service: h.service_name(),
            up: h.up,
            last_scrape: h.last_scrape.map(seconds),
            last_duration_ms: h.last_duration.map(|d| d.as_secs_f64() * 1000.0),
            last_error: h.last_error,
            consecutive_failures: h.consecutive_failures,
            samples: h.samples,
            findings: h.findings,
        }
    }
}

/// `GET /api/v1/services`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServicesResponse {
    /// The window the rates are over, at most.
    pub window_seconds: f64,
    /// One entry per target.
    pub services: Vec<ServiceEntry>,
    /// `TELEMETRY_LOG_URL`: the link, with `{request_id}`, the dashboard opens for
    /// a request instead of its own request view; absent when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_url: Option<String>,
}

/// With `history=1`: one target's figures per minute over the last hour, oldest
/// first, 60 values each; the last minute ends at `until`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct History {
    /// The end of the last minute (Unix seconds).
    pub until: f64,
    /// HTTP requests per second.
    pub request_rate: Vec<f64>,
    /// HTTP requests answered with status >= 500, per second.
    pub error_rate: Vec<f64>,
    /// Median request duration in ms; `null` for a minute without requests.
    pub p50_ms: Vec<Option<f64>>,
    /// 99th percentile of the request duration in ms; `null` likewise.
    pub p99_ms: Vec<Option<f64>>,
}

/// One target's figures over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceEntry {
    /// `host:port`.
    pub target: String,
    /// The service the target is.
    pub service: String,
    /// Whether the last scrape succeeded.
    pub up: bool,
    /// When the last scrape started; `null` before the first.
    pub last_scrape: Option<f64>,
    /// The rates and latency quantiles over the window, as fields of this object.
    #[serde(flatten)]
    pub health: ServiceHealth,
    /// With `history=1`: the figures per minute over the last hour; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<History>,
}

impl ServiceEntry {
    /// The entry of a target with its health over the window.
    pub fn new(target: &TargetHealth, health: ServiceHealth, history: Option<History>) -> Self {
        Self {
            target: target.target.to_string(),
            service: target.service_name(),
            up: target.up,
            last_scrape: target.last_scrape.map(seconds),
            health,
            history,
        }
    }
}

/// One element of `GET /api/v1/samples`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleEntry {
    /// `host:port` it was scraped from.
    pub target: String,
    /// The sample name.
    pub metric: String,
    /// The labels, as an object.
    pub labels: Labels,
    /// The value: a number, or `"NaN"`, `"inf"`, `"-inf"` as text (JSON has no such
    /// numbers).
    #[serde(serialize_with = "number_or_text")]
    pub value: f64,
    /// The scrape time.
    pub timestamp: f64,
}

impl From<StoredSample> for SampleEntry {
    fn from(r: StoredSample) -> Self {
        Self {
            target: r.target,
            metric: r.sample.name,
            labels: r.sample.labels,
            value: r.sample.value,
            timestamp: r.ts_ms as f64 / 1000.0,
        }
    }
}

/// One element of `GET /api/v1/exemplars`: a request behind a latency bucket or
/// an error counter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExemplarEntry {
    /// `host:port` it was scraped from.
    pub target: String,
    /// The service that target is.
    pub service: String,
    /// The sample it was on (`mona_http_request_duration_ms_bucket`).
    pub metric: String,
    /// That sample's labels (`method`, `path`, `status`, `le`, …).
    pub series: Labels,
    /// The exemplar's own labels.
    pub labels: Labels,
    /// The `request_id` label, when there is one (ending in `…` when shortened:
    /// `GET /api/v1/requests/{id}` matches it as a prefix).
    pub request_id: Option<String>,
    /// The `trace_id` label, when there is one.
    pub trace_id: Option<String>,
    /// The exemplar's value (a latency bucket's: the duration in ms; an error
    /// counter's: the increment). Non-finite values as text.
    #[serde(serialize_with = "number_or_text")]
    pub value: f64,
    /// Its timestamp (else its scrape's), Unix seconds.
    pub timestamp: f64,
}

impl ExemplarEntry {
    /// The entry of a stored exemplar of `service`.
    pub fn new(stored: StoredExemplar, service: String) -> Self {
        let e = stored.exemplar;
        let label = |name: &str| e.labels.get(name).map(str::to_owned);
        Self {
            target: stored.target,
            service,
            request_id: label(REQUEST_ID_LABEL),
            trace_id: label(TRACE_ID_LABEL),
            metric: e.metric,
            series: e.series,
            labels: e.labels.clone(),
            value: e.value,
            timestamp: stored.ts_ms as f64 / 1000.0,
        }
    }
}

fn number_or_text<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    if value.is_finite() {
        serializer.serialize_f64(*value)
    } else {
        serializer.collect_str(value)
    }
}

#[cfg(test)]
mod tests {
    use keviq::MetricType;

    use super::*;
    use crate::sample::Sample;

    #[test]
    fn samples_keep_their_shape_and_spell_out_non_finite_values() {
        let entry = |value| {
            let r = StoredSample {
                target: "h:1".into(),
                ts_ms: 1_500,
                sample: Sample {
                    name: "m".into(),
                    metric_type: MetricType::Unknown,
                    labels: [("path", "/")].into_iter().collect(),
                    value,
                    timestamp_ms: None,
                },
            };
            serde_json::to_string(&SampleEntry::from(r)).expect("serializes")
        };
        assert_eq!(
            entry(2.5),
            r#"{"target":"h:1","metric":"m","labels":{"path":"/"},"value":2.5,"timestamp":1.5}"#
        );
        assert!(entry(f64::NAN).contains(r#""value":"NaN""#));
        assert!(entry(f64::NEG_INFINITY).contains(r#""value":"-inf""#));
    }

    #[test]
    fn listed_answers_say_whether_they_were_cut() {
        let cut = Listed::first(vec![1, 2, 3], 2);
        assert_eq!((cut.body.clone(), cut.truncated), (vec![1, 2], true));
        let response = cut.into_response();
        assert_eq!(response.headers()[TRUNCATED_HEADER], "true");
        let whole = Listed::first(vec![1, 2], 2);
        assert!(!whole.truncated);
        assert_eq!(whole.into_response().headers()[TRUNCATED_HEADER], "false");
    }

    #[test]
    fn service_entries_keep_their_shape() {
        let target = TargetHealth::never_scraped(crate::sample::Target {
            host: "api-gateway".into(),
            port: 8000,
        });
        let health = ServiceHealth {
            request_rate: 2.0,
            error_rate: 0.0,
            p50_ms: Some(1.5),
            p99_ms: None,
            agent_invocation_rate: None,
        };
        let json = |history| {
            serde_json::to_string(&ServiceEntry::new(&target, health, history)).expect("json")
        };
        assert_eq!(
            json(None),
            r#"{"target":"api-gateway:8000","service":"api-gateway","up":false,"last_scrape":null,"request_rate":2.0,"error_rate":0.0,"p50_ms":1.5,"p99_ms":null,"agent_invocation_rate":null}"#
        );
        let history = History {
            until: 60.0,
            request_rate: vec![0.5],
            error_rate: vec![0.0],
            p50_ms: vec![Some(2.0)],
            p99_ms: vec![None],
        };
        assert!(json(Some(history)).ends_with(
            r#""agent_invocation_rate":null,"history":{"until":60.0,"request_rate":[0.5],"error_rate":[0.0],"p50_ms":[2.0],"p99_ms":[null]}}"#
        ));
    }
}
