//! The data the pipeline carries, from the parser to the store and back: the one
//! sample type [`Sample`], with its labels as a sorted, owned [`Labels`]; a
//! scrape's [`Target`]; and a whole [`Scrape`] as the scraper hands it to the writer
//! and remote write. This module imports nothing of the pipeline.
//!
//! The parser hands out borrowed samples ([`keviq_expfmt::Sample`]) that live as
//! long as the scraped body; [`from_exposition`] turns each into an owned [`Sample`]
//! that keeps what the parser knew: the name, its family's type, the labels, the
//! value and the exposition's own timestamp.
//!
//! # What the store keeps
//!
//! `telemetry_core.metric_samples` has the columns `target, metric, labels, value,
//! ts_ms` in every deployment, and keeps them: the type and the exposition's
//! timestamp are carried in memory only. A sample read back from the store has the
//! type [`MetricType::Unknown`] (OpenMetrics' word for "not known") and no
//! timestamp of its own; its time is its scrape's (the store's `StoredSample::ts_ms`). The
//! readers know what they asked for: the analytics read counters and histogram
//! buckets by name.
//!
//! ```
//! use keviq_expfmt::{Format, MetricType, parse};
//! use keviq_telemetry::sample::from_exposition;
//!
//! let text = "# TYPE latency_ms histogram\nlatency_ms_bucket{path=\"/\",le=\"+Inf\"} 3 1700000000000\n";
//! let samples = from_exposition(&parse(text, Format::Prometheus).unwrap());
//! let s = &samples[0];
//! assert_eq!((s.name.as_str(), s.metric_type), ("latency_ms_bucket", MetricType::Histogram));
//! // Sorted by name, whatever the order the target wrote them in.
//! assert_eq!(s.labels.to_json(), r#"{"le":"+Inf","path":"/"}"#);
//! assert_eq!((s.value, s.timestamp_ms), (3.0, Some(1_700_000_000_000)));
//! ```

use std::fmt;

use keviq_expfmt::{Exposition, MetricType, Timestamp};
use serde::ser::{Serialize, SerializeMap, Serializer};

mod scrape;
mod target;

pub use self::scrape::{SCRAPE_DURATION_SECONDS, SCRAPE_SAMPLES_SCRAPED, Scrape, UP};
pub use self::target::Target;

/// One sample, owned: what a scrape hands to the writer and the store gives back.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The sample name, with its suffix (`mona_http_requests_total`, `..._bucket`).
    pub name: String,
    /// The type of the sample's family (for a `_bucket`, `Histogram`); `Unknown` when
    /// read back from the store (see the module docs).
    pub metric_type: MetricType,
    /// The labels, sorted by name.
    pub labels: Labels,
    /// The value (`NaN` and the infinities included).
    pub value: f64,
    /// The timestamp the exposition gave the sample, in milliseconds since the Unix
    /// epoch; `None` without one (keviq services write none) and when read back from
    /// the store.
    pub timestamp_ms: Option<i64>,
}

impl Sample {
    /// The owned form of a parsed sample of a family of type `metric_type`.
    pub fn from_parsed(metric_type: MetricType, sample: &keviq_expfmt::Sample<'_>) -> Self {
        Self {
            name: sample.name.to_owned(),
            metric_type,
            labels: sample
                .labels
                .iter()
                .map(|(name, value)| (name.to_owned(), value.into_owned()))
                .collect(),
            value: sample.value,
            timestamp_ms: sample.timestamp.and_then(timestamp_ms),
        }
    }

    /// The memory the sample holds: itself, its name and its labels, each heap block
    /// counted with [`ALLOCATION_OVERHEAD`]. What the write buffer is bounded by.
    pub fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + string_bytes(&self.name) + self.labels.heap_bytes()
    }
}

/// What the allocator spends on one heap block beyond its contents (glibc's malloc:
/// a 16-byte header and alignment), so that the estimates of
/// [`Sample::heap_bytes`] hold against the process's resident memory.
pub const ALLOCATION_OVERHEAD: usize = 16;

/// The heap block of a string, with [`ALLOCATION_OVERHEAD`] (none when empty).
fn string_bytes(text: &str) -> usize {
    if text.is_empty() {
        0
    } else {
        text.len() + ALLOCATION_OVERHEAD
    }
}

/// Every sample of an exposition, owned, in input order, each with its family's type.
pub fn from_exposition(exposition: &Exposition<'_>) -> Vec<Sample> {
    exposition
        .samples
        .iter()
        .map(|s| {
            let kind = exposition
                .family_of(s)
                .map_or(MetricType::Unknown, |f| f.kind);
            Sample::from_parsed(kind, s)
        })
        .collect()
}

/// One OpenMetrics exemplar, owned: the sample it was on (name and series labels)
/// and its own labels, value and timestamp. What `telemetry_core.exemplars` keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct Exemplar {
    /// The sample name it was on (`mona_http_request_duration_ms_bucket`).
    pub metric: String,
    /// The labels of that sample (a bucket's `le` included).
    pub series: Labels,
    /// The exemplar's own labels (`request_id`, `trace_id`).
    pub labels: Labels,
    /// The exemplar's value (for a latency bucket, the observed duration).
    pub value: f64,
    /// Its timestamp in milliseconds since the epoch, if the exposition gave one.
    pub timestamp_ms: Option<i64>,
}

impl Exemplar {
    /// The memory the exemplar holds, as [`Sample::heap_bytes`] counts it.
    pub fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + string_bytes(&self.metric)
            + self.series.heap_bytes()
            + self.labels.heap_bytes()
    }
}

/// Every exemplar of an exposition, owned, in input order (OpenMetrics only: the
/// Prometheus text format has none).
///
/// ```
/// use keviq_expfmt::{Format, parse};
/// use keviq_telemetry::sample::exemplars_of;
///
/// let text = "# TYPE d histogram\nd_bucket{le=\"+Inf\"} 1 # {request_id=\"r1\"} 12.5 1700000000.5\nd_count 1\nd_sum 12.5\n# EOF\n";
/// let exemplars = exemplars_of(&parse(text, Format::OpenMetrics).unwrap());
/// assert_eq!(exemplars[0].metric, "d_bucket");
/// assert_eq!(exemplars[0].labels.get("request_id"), Some("r1"));
/// assert_eq!((exemplars[0].value, exemplars[0].timestamp_ms), (12.5, Some(1_700_000_000_500)));
/// ```
pub fn exemplars_of(exposition: &Exposition<'_>) -> Vec<Exemplar> {
    exposition
        .samples
        .iter()
        .filter_map(|s| {
            let e = s.exemplar.as_deref()?;
            Some(Exemplar {
                metric: s.name.to_owned(),
                series: s
                    .labels
                    .iter()
                    .map(|(n, v)| (n.to_owned(), v.into_owned()))
                    .collect(),
                labels: e
                    .labels
                    .iter()
                    .map(|(n, v)| (n.to_owned(), v.into_owned()))
                    .collect(),
                value: e.value,
                timestamp_ms: e
                    .timestamp
                    .and_then(|t| timestamp_ms(Timestamp::Seconds(t))),
            })
        })
        .collect()
}

/// A timestamp in milliseconds; `None` for an OpenMetrics timestamp that is not a
/// finite number of seconds (out of range saturates).
fn timestamp_ms(t: Timestamp) -> Option<i64> {
    match t {
        Timestamp::Millis(ms) => Some(ms),
        Timestamp::Seconds(s) if s.is_finite() => Some((s * 1000.0).round() as i64),
        Timestamp::Seconds(_) => None,
    }
}

/// The labels of a sample, owned and sorted by name, each name once: two label sets
/// are equal, ordered and hashed the same whatever order a target wrote them in, so
/// they identify a series.
///
/// ```
/// use keviq_telemetry::sample::Labels;
///
/// let labels: Labels = [("path", "/a"), ("le", "5"), ("method", "GET")].into_iter().collect();
/// assert_eq!(labels.get("le"), Some("5"));
/// assert_eq!(labels.without("le").to_json(), r#"{"method":"GET","path":"/a"}"#);
/// assert_eq!(Labels::from_json(&labels.to_json()).ok(), Some(labels));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Labels(Vec<(String, String)>);

impl Labels {
    /// No labels.
    pub const fn new() -> Self {
        Self(Vec::new())
    }

    /// The value of the label `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()
            .and_then(|i| self.0.get(i))
            .map(|(_, v)| v.as_str())
    }

    /// The same labels without `name` (a histogram bucket's series without `le`).
    pub fn without(&self, name: &str) -> Self {
        Self(self.0.iter().filter(|(n, _)| n != name).cloned().collect())
    }

    /// The `(name, value)` pairs, sorted by name.
    pub fn as_slice(&self) -> &[(String, String)] {
        &self.0
    }

    /// The `(name, value)` pairs, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The number of labels.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// `true` for no labels.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The heap memory of the label set (the pairs and their text), as
    /// [`Sample::heap_bytes`] counts it.
    pub fn heap_bytes(&self) -> usize {
        if self.0.capacity() == 0 {
            return 0;
        }
        let pairs = self.0.capacity() * std::mem::size_of::<(String, String)>();
        let text: usize = self
            .0
            .iter()
            .map(|(k, v)| string_bytes(k) + string_bytes(v))
            .sum();
        pairs + ALLOCATION_OVERHEAD + text
    }

    /// The JSON object stored in the `labels` column: `{"name":"value",...}`, sorted
    /// by name.
    pub fn to_json(&self) -> String {
        let map: serde_json::Map<String, serde_json::Value> = self
            .0
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str())))
            .collect();
        serde_json::Value::Object(map).to_string()
    }

    /// The labels of a stored JSON object. A value that is not a string reads as the
    /// empty string (the store only writes strings).
    ///
    /// # Errors
    /// Text that is not a JSON object.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)?;
        Ok(map
            .into_iter()
            .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_owned()))
            .collect())
    }
}

/// Sorts by name; of two labels with the same name, the last one is kept.
impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Labels {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut pairs: Vec<(String, String)> = iter
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        // Stable: equal names keep their order, and the last of them wins below.
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let mut labels: Vec<(String, String)> = Vec::with_capacity(pairs.len());
        for pair in pairs {
            match labels.last_mut() {
                Some(last) if last.0 == pair.0 => *last = pair,
                _ => labels.push(pair),
            }
        }
        Self(labels)
    }
}

/// `{a="b",c="d"}`, as in the text format (values unescaped, for messages).
impl fmt::Display for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (name, value)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{name}={value:?}")?;
        }
        f.write_str("}")
    }
}

/// A JSON object, `{"name": "value", ...}`, sorted by name.
impl Serialize for Labels {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use keviq_expfmt::{Format, parse};

    use super::*;

    #[test]
    fn samples_keep_type_labels_and_timestamp() {
        let text = "# TYPE up gauge\nup{b=\"2\",a=\"x\\\"y\"} 1\nother 2 1700000000000\n";
        let samples = from_exposition(&parse(text, Format::Prometheus).expect("parses"));
        assert_eq!(samples.len(), 2);
        assert_eq!(samples[0].metric_type, MetricType::Gauge);
        assert_eq!(
            samples[0].labels.as_slice(),
            [
                ("a".to_owned(), "x\"y".to_owned()),
                ("b".to_owned(), "2".to_owned())
            ]
        );
        assert_eq!(samples[0].timestamp_ms, None);
        assert_eq!(samples[1].metric_type, MetricType::Untyped);
        assert_eq!(samples[1].timestamp_ms, Some(1_700_000_000_000));
    }

    #[test]
    fn openmetrics_seconds_become_milliseconds() {
        let text = "# TYPE up gauge\nup 1 1520879607.789\n# EOF\n";
        let samples = from_exposition(&parse(text, Format::OpenMetrics).expect("parses"));
        assert_eq!(samples[0].timestamp_ms, Some(1_520_879_607_789));
        assert_eq!(timestamp_ms(Timestamp::Seconds(f64::NAN)), None);
    }

    #[test]
    fn label_order_does_not_make_another_series() {
        let a: Labels = [("x", "1"), ("y", "2")].into_iter().collect();
        let b: Labels = [("y", "2"), ("x", "1")].into_iter().collect();
        assert_eq!(a, b);
        let last_wins: Labels = [("x", "1"), ("x", "2")].into_iter().collect();
        assert_eq!(last_wins.as_slice(), [("x".to_owned(), "2".to_owned())]);
        assert_eq!(a.get("z"), None);
        assert_eq!(a.to_string(), r#"{x="1",y="2"}"#);
    }

    #[test]
    fn json_round_trips_and_tolerates_old_rows() {
        let labels: Labels = [("quote", "a \"b\" é ✓"), ("path", "/p")]
            .into_iter()
            .collect();
        assert_eq!(Labels::from_json(&labels.to_json()).expect("json"), labels);
        // Rows written before labels were sorted, and odd values.
        let old = Labels::from_json(r#"{"z":"1","a":2}"#).expect("json");
        assert_eq!(old.to_json(), r#"{"a":"","z":"1"}"#);
        assert!(Labels::from_json("[1]").is_err());
        assert_eq!(
            serde_json::to_string(&labels).expect("serializes"),
            labels.to_json()
        );
    }
}
