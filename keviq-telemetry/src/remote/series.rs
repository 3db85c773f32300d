//! From scrapes to remote-write series: every sample gets `__name__`, its target's
//! `instance` and `job`, labels sorted by name; and a series that a target stops
//! exposing, or every series of a target that went down, gets a staleness marker.
//!
//! `instance` is the target (`host:port`); `job` is the service the target
//! announces in `keviq_service_info{service}`, else its host name (the compose
//! fleet's `api-gateway:8000` is `api-gateway`), else the target: the same `job` the
//! generated Prometheus configuration gives each service, so the Grafana dashboard
//! reads either. A scraped `job` or `instance` label is kept as `exported_job` /
//! `exported_instance`, as Prometheus does without `honor_labels`; a label with an
//! empty value is no label (Prometheus's rule) and is left out.

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use keviq::axum::names::{SERVICE_INFO, SERVICE_LABEL};

use super::proto::{Label, Sample as WireSample, TimeSeries, stale_nan};
use crate::sample::Sample;
use crate::sample::Target;

/// What the sender forwards: one scrape of one target, its samples at the scrape's
/// time (the synthetic `up` and `scrape_*` samples included, see
/// [`crate::scrape::Scraper::scrape_round`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The target, `host:port`.
    pub instance: String,
    /// The scrape's time, milliseconds since the epoch: every sample's timestamp.
    pub ts_ms: i64,
    /// The samples.
    pub samples: Vec<Sample>,
}

/// The bytes a sample adds to the backlog: its name and labels with the protobuf's
/// framing and the target labels, before compression. An estimate, the same for
/// samples in memory and rows in the store ([`estimated_row_bytes`]).
pub fn estimated_bytes(sample: &Sample) -> u64 {
    let labels: usize = sample
        .labels
        .iter()
        .map(|(k, v)| k.len() + v.len() + 6)
        .sum();
    (sample.name.len() + labels + ROW_OVERHEAD) as u64
}

/// [`estimated_bytes`] of a stored row, from the lengths of its `metric` and its
/// JSON `labels` (which spend about the same six bytes a label on quotes and commas).
pub const fn estimated_row_bytes(metric_len: u64, labels_json_len: u64) -> u64 {
    metric_len + labels_json_len + ROW_OVERHEAD as u64
}

/// `__name__`, `instance`, `job`, the value, the timestamp and the framing.
const ROW_OVERHEAD: usize = 64;

/// The series of each target's previous scrape, to mark those that disappear.
///
/// It keeps, per target, the previous scrape itself (shared with the backlog when
/// there is no store) and the hashes of its series, not a copy of their labels: a
/// series' labels are built again only for the staleness marker.
#[derive(Debug, Default)]
pub struct Converter {
    targets: HashMap<String, TargetState>,
}

#[derive(Debug, Default)]
struct TargetState {
    job: Option<String>,
    /// The previous scrape, the `job` its series had, and their keys.
    previous: Option<(Arc<Record>, String, HashSet<u64>)>,
}

/// What identifies a series of one target: its `job`, name and scraped labels (the
/// rest of its labels follow from these).
fn key(job: &str, sample: &Sample) -> u64 {
    let mut h = DefaultHasher::new();
    job.hash(&mut h);
    sample.name.hash(&mut h);
    sample.labels.hash(&mut h);
    h.finish()
}

/// The `job` of a target that announced nothing: its host name, or for an IP
/// address the target itself (as [`crate::scrape::TargetHealth::service_name`]).
fn fallback_job(instance: &str) -> String {
    match Target::parse(instance) {
        Ok(t) if t.host.parse::<std::net::IpAddr>().is_err() => t.host,
        _ => instance.to_owned(),
    }
}

fn label(name: &str, value: &str) -> Label {
    Label {
        name: name.to_owned(),
        value: value.to_owned(),
    }
}

/// The remote-write labels of a sample: `__name__`, its labels (renamed where they
/// clash, empty ones left out), `instance` and `job`, sorted by name.
fn labels(sample: &Sample, instance: &str, job: &str) -> Vec<Label> {
    let mut labels = Vec::with_capacity(sample.labels.len() + 3);
    labels.push(label("__name__", &sample.name));
    for (name, value) in sample.labels.iter().filter(|(_, v)| !v.is_empty()) {
        let name = match name {
            "job" => "exported_job",
            "instance" => "exported_instance",
            other => other,
        };
        labels.push(label(name, value));
    }
    labels.push(label("instance", instance));
    labels.push(label("job", job));
    // Byte order, as the specification asks: `__name__` sorts after upper-case
    // names and before lower-case ones.
    labels.sort_by(|a, b| a.name.cmp(&b.name));
    labels.dedup_by(|b, a| a.name == b.name);
    labels
}

impl Converter {
    /// A converter that knows no previous scrape.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends the series of `record` to `out`, one sample each at the scrape's time,
    /// then a staleness marker for every series the target's previous scrape had and
    /// this one has not. Returns how many series it appended.
    pub fn convert(&mut self, record: &Arc<Record>, out: &mut Vec<TimeSeries>) -> usize {
        let start = out.len();
        let state = self.targets.entry(record.instance.clone()).or_default();
        let announced = record
            .samples
            .iter()
            .filter(|s| s.name == SERVICE_INFO)
            .find_map(|s| s.labels.get(SERVICE_LABEL))
            .filter(|v| keviq::model::check_service_name(v).is_ok());
        if let Some(name) = announced {
            state.job = Some(name.to_owned());
        }
        let job = state
            .job
            .clone()
            .unwrap_or_else(|| fallback_job(&record.instance));
        let mut current = HashSet::with_capacity(record.samples.len());
        for sample in &record.samples {
            // A duplicate in the exposition: the first value wins, as one series
            // cannot have two samples at one time.
            if !current.insert(key(&job, sample)) {
                continue;
            }
            out.push(TimeSeries {
                labels: labels(sample, &record.instance, &job),
                samples: vec![WireSample {
                    value: sample.value,
                    timestamp: record.ts_ms,
                }],
            });
        }
        if let Some((previous, previous_job, _)) = &state.previous {
            let mut marked = HashSet::new();
            for sample in &previous.samples {
                let k = key(previous_job, sample);
                if !current.contains(&k) && marked.insert(k) {
                    out.push(TimeSeries {
                        labels: labels(sample, &record.instance, previous_job),
                        samples: vec![WireSample {
                            value: stale_nan(),
                            timestamp: record.ts_ms,
                        }],
                    });
                }
            }
        }
        state.previous = Some((Arc::clone(record), job, current));
        out.len() - start
    }
}

#[cfg(test)]
mod tests {
    use keviq::MetricType;

    use super::*;
    use crate::remote::proto::STALE_NAN_BITS;

    fn sample(name: &str, labels: &[(&str, &str)], value: f64) -> Sample {
        Sample {
            name: name.to_owned(),
            metric_type: MetricType::Unknown,
            labels: labels.iter().copied().collect(),
            value,
            timestamp_ms: None,
        }
    }

    fn names(s: &TimeSeries) -> Vec<(&str, &str)> {
        s.labels
            .iter()
            .map(|l| (l.name.as_str(), l.value.as_str()))
            .collect()
    }

    #[test]
    fn labels_are_sorted_with_the_target_and_the_announced_job() {
        let record = Record {
            instance: "127.0.0.1:8001".into(),
            ts_ms: 1_000,
            samples: vec![
                sample(
                    "mona_http_requests_total",
                    &[
                        ("path", "/a"),
                        ("Zeta", "z"),
                        ("job", "mine"),
                        ("empty", ""),
                    ],
                    3.0,
                ),
                sample(SERVICE_INFO, &[("service", "api-gateway")], 1.0),
            ],
        };
        let mut out = Vec::new();
        assert_eq!(Converter::new().convert(&Arc::new(record), &mut out), 2);
        assert_eq!(
            names(&out[0]),
            [
                ("Zeta", "z"),
                ("__name__", "mona_http_requests_total"),
                ("exported_job", "mine"),
                ("instance", "127.0.0.1:8001"),
                ("job", "api-gateway"),
                ("path", "/a"),
            ]
        );
        assert_eq!(
            out[0].samples,
            [WireSample {
                value: 3.0,
                timestamp: 1_000
            }]
        );
    }

    #[test]
    fn a_target_without_an_announcement_is_its_host() {
        let mut out = Vec::new();
        let record = |instance: &str| {
            Arc::new(Record {
                instance: instance.into(),
                ts_ms: 1,
                samples: vec![sample("up", &[], 0.0)],
            })
        };
        let mut c = Converter::new();
        c.convert(&record("auth-service:8000"), &mut out);
        c.convert(&record("[::1]:9000"), &mut out);
        assert_eq!(names(&out[0])[2], ("job", "auth-service"));
        assert_eq!(names(&out[1])[2], ("job", "[::1]:9000"));
    }

    #[test]
    fn disappearing_series_and_down_targets_get_staleness_markers() {
        let mut c = Converter::new();
        let mut out = Vec::new();
        let scrape = |ts, samples| {
            Arc::new(Record {
                instance: "h:1".into(),
                ts_ms: ts,
                samples,
            })
        };
        c.convert(
            &scrape(
                1,
                vec![
                    sample("a", &[], 1.0),
                    sample("b", &[], 2.0),
                    sample("up", &[], 1.0),
                ],
            ),
            &mut out,
        );
        out.clear();
        // `b` is gone: marked stale at the second scrape's time.
        c.convert(
            &scrape(2, vec![sample("a", &[], 1.0), sample("up", &[], 1.0)]),
            &mut out,
        );
        assert_eq!(out.len(), 3);
        assert_eq!(names(&out[2])[0], ("__name__", "b"));
        assert_eq!(out[2].samples[0].value.to_bits(), STALE_NAN_BITS);
        assert_eq!(out[2].samples[0].timestamp, 2);
        out.clear();
        // Down: only `up` (0) remains, `a` is marked stale.
        c.convert(&scrape(3, vec![sample("up", &[], 0.0)]), &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(names(&out[1])[0], ("__name__", "a"));
        assert!(out[1].samples[0].value.is_nan());
        out.clear();
        // Nothing stale twice.
        c.convert(&scrape(4, vec![sample("up", &[], 0.0)]), &mut out);
        assert_eq!(out.len(), 1);
    }
}
