//! The scraper: every target's `/metrics`, all at once, each bounded in time and size.
//!
//! A target that is down, hangs, answers byte by byte, returns garbage, a 500 or a
//! 100 MB body fails *its own* scrape, after at most the timeout, and never delays or
//! breaks the others: every target is scraped in its own task, under one deadline
//! covering connection, headers and body, with the body read through a size limit.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use keviq::Format;
use keviq::axum::names::{SERVICE_INFO, SERVICE_LABEL};
use keviq_expfmt::{Mode, ParseError, parse_with};
use tokio::task::JoinSet;

use crate::config::ScrapeConfig;
use crate::http_client;
use crate::sample::{
    Exemplar, Labels, SCRAPE_DURATION_SECONDS, SCRAPE_SAMPLES_SCRAPED, Sample, Scrape, Target, UP,
    exemplars_of, from_exposition,
};

/// What the scraper asks for: OpenMetrics first, then the Prometheus text format,
/// as Prometheus does.
pub const ACCEPT_HEADER: &str =
    "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

keviq::metric! {
    /// The telemetry service's own scrape metrics.
    pub static SCRAPER: ScraperMetrics {
        /// Time one scrape of one target took, failed or not
        #[metric(buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], unit = "seconds")]
        pub duration: Histogram(target: &str) = "mona_telemetry_scrape_duration_seconds",
        /// Samples scraped and handed to storage
        pub samples: Counter(target: &str) = "mona_telemetry_samples_scraped_total",
        /// Failed scrapes, by target and reason
        pub failures: Counter(target: &str, reason: FailureReason) = "mona_telemetry_scrape_failures_total",
        /// Targets whose last scrape succeeded
        pub targets_up: Gauge = "mona_telemetry_targets_up",
    }
}

/// Why a scrape failed, as the `reason` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, keviq::LabelValue)]
pub enum FailureReason {
    /// The connection could not be made.
    Connect,
    /// No complete answer within the timeout.
    Timeout,
    /// A status other than 200.
    Status,
    /// The body exceeded the size limit.
    TooLarge,
    /// The body is not UTF-8.
    Encoding,
    /// The body is not a valid exposition.
    Parse,
    /// The connection failed while reading.
    Read,
    /// More samples than the sample limit.
    SampleLimitExceeded,
}

/// A failed scrape.
#[derive(Debug, thiserror::Error)]
pub enum ScrapeError {
    /// The connection could not be made.
    #[error("cannot connect: {0}")]
    Connect(String),
    /// No complete answer within the timeout.
    #[error("no complete answer within {0:?}")]
    Timeout(Duration),
    /// A status other than 200.
    #[error("HTTP status {0}")]
    Status(u16),
    /// More samples than [`ScrapeConfig::sample_limit`]: nothing of the scrape is
    /// kept, as Prometheus does.
    #[error("sample_limit_exceeded: {found} samples, more than the limit of {limit}")]
    SampleLimit {
        /// The limit.
        limit: usize,
        /// Samples the exposition held.
        found: usize,
    },
    /// The body exceeded the size limit.
    #[error("body larger than {0} bytes")]
    TooLarge(usize),
    /// The body is not UTF-8.
    #[error("body is not UTF-8")]
    Encoding,
    /// The body is not a valid exposition.
    #[error("invalid exposition: {0}")]
    Parse(#[from] ParseError),
    /// The connection failed while reading.
    #[error("read failed: {0}")]
    Read(String),
}

impl ScrapeError {
    /// The `reason` label of this failure.
    pub fn reason(&self) -> FailureReason {
        match self {
            Self::Connect(_) => FailureReason::Connect,
            Self::Timeout(_) => FailureReason::Timeout,
            Self::Status(_) => FailureReason::Status,
            Self::TooLarge(_) => FailureReason::TooLarge,
            Self::Encoding => FailureReason::Encoding,
            Self::Parse(_) => FailureReason::Parse,
            Self::Read(_) => FailureReason::Read,
            Self::SampleLimit { .. } => FailureReason::SampleLimitExceeded,
        }
    }
}

/// Exemplars kept from one scrape at most: a keviq service has one per latency
/// bucket and error counter series, far fewer.
pub const MAX_EXEMPLARS_PER_SCRAPE: usize = 2_000;

/// Series whose last exemplar the scraper remembers, at most; past it the memory is
/// cleared (the next scrape then keeps every exemplar it sees once more).
const MAX_REMEMBERED_SERIES: usize = 200_000;

/// One target's scrape in a round.
#[derive(Debug)]
struct Outcome {
    target: Target,
    at: SystemTime,
    took: Duration,
    /// `None` for a failed scrape.
    samples: Option<Vec<Sample>>,
    /// The exemplars that are new since the previous scrape.
    exemplars: Vec<Exemplar>,
}

impl Outcome {
    /// The scrape to store: the target's samples followed by the three samples
    /// Prometheus adds ([`SCRAPE_DURATION_SECONDS`], [`SCRAPE_SAMPLES_SCRAPED`], [`UP`]).
    fn into_scrape(self) -> Scrape {
        let up = self.samples.is_some();
        let mut samples = self.samples.unwrap_or_default();
        let scraped = samples.len();
        let synthetic = |name: &str, value: f64| Sample {
            name: name.to_owned(),
            metric_type: keviq::MetricType::Gauge,
            labels: Labels::new(),
            value,
            timestamp_ms: None,
        };
        samples.push(synthetic(SCRAPE_DURATION_SECONDS, self.took.as_secs_f64()));
        samples.push(synthetic(SCRAPE_SAMPLES_SCRAPED, scraped as f64));
        samples.push(synthetic(UP, if up { 1.0 } else { 0.0 }));
        Scrape {
            target: self.target,
            at: self.at,
            samples,
            exemplars: self.exemplars,
        }
    }
}

/// The health of one target, as of its last scrape.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetHealth {
    /// The target.
    pub target: Target,
    /// Whether the last scrape succeeded.
    pub up: bool,
    /// When the last scrape started; `None` before the first.
    pub last_scrape: Option<SystemTime>,
    /// How long the last scrape took.
    pub last_duration: Option<Duration>,
    /// Why the last scrape failed.
    pub last_error: Option<String>,
    /// Failed scrapes since the last success.
    pub consecutive_failures: u32,
    /// Samples of the last successful scrape.
    pub samples: usize,
    /// The service the target says it is, in `keviq_service_info{service}`: every
    /// `#[keviq::service]` serves it. Kept from the last scrape that had one.
    pub announced: Option<String>,
    /// What the last successful scrape tolerated that the specifications do not
    /// allow (a non-contiguous family, a repeated series, ...), as
    /// `line:column: reason`, at most [`MAX_FINDINGS_SHOWN`]: the target stays up.
    pub findings: Vec<String>,
}

/// Tolerated problems kept per target, for the API and the dashboard.
pub const MAX_FINDINGS_SHOWN: usize = 10;

/// A parsed scrape: its samples and exemplars, and what the scrape-mode parse
/// tolerated.
#[derive(Debug)]
struct Parsed {
    samples: Vec<Sample>,
    exemplars: Vec<Exemplar>,
    findings: Vec<String>,
}

impl TargetHealth {
    /// A target before its first scrape: down, with nothing known.
    pub fn never_scraped(target: Target) -> Self {
        Self {
            target,
            up: false,
            last_scrape: None,
            last_duration: None,
            last_error: None,
            consecutive_failures: 0,
            samples: 0,
            announced: None,
            findings: Vec::new(),
        }
    }

    /// The service this target is: the name it announces, else its host name, else
    /// (an IP address) the target itself.
    pub fn service_name(&self) -> String {
        if let Some(name) = &self.announced {
            return name.clone();
        }
        let host = &self.target.host;
        if host.parse::<std::net::IpAddr>().is_ok() {
            self.target.to_string()
        } else {
            host.clone()
        }
    }
}

/// The service name a scrape announces, if it is a well-formed one (a DNS label).
fn announced_name(samples: &[Sample]) -> Option<String> {
    samples
        .iter()
        .filter(|s| s.name == SERVICE_INFO)
        .find_map(|s| s.labels.get(SERVICE_LABEL))
        .filter(|v| keviq::model::check_service_name(v).is_ok())
        .map(str::to_owned)
}

/// Scrapes every configured target.
#[derive(Debug)]
pub struct Scraper {
    config: ScrapeConfig,
    client: Client<HttpConnector, Empty<Bytes>>,
    health: Mutex<BTreeMap<Target, TargetHealth>>,
    /// The last exemplar seen on each series: an unchanged one is not kept again.
    last_exemplars: Mutex<HashMap<(Target, String, Labels), Exemplar>>,
}

impl Scraper {
    /// A scraper for `config`'s targets; every target starts down, never scraped.
    pub fn new(config: ScrapeConfig) -> Arc<Self> {
        let client = http_client::client(config.timeout);
        let health = config
            .targets
            .iter()
            .map(|t| (t.clone(), TargetHealth::never_scraped(t.clone())))
            .collect();
        Arc::new(Self {
            config,
            client,
            health: Mutex::new(health),
            last_exemplars: Mutex::new(HashMap::new()),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &ScrapeConfig {
        &self.config
    }

    /// The health of every target, sorted by target.
    pub fn health(&self) -> Vec<TargetHealth> {
        self.health
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Scrapes every target concurrently and returns the successful scrapes; failures
    /// are recorded in the targets' health and the scraper's metrics.
    pub async fn scrape_all(self: &Arc<Self>) -> Vec<Scrape> {
        let mut scrapes = Vec::new();
        self.round(|o| {
            if let Some(samples) = o.samples {
                scrapes.push(Scrape {
                    samples,
                    target: o.target,
                    at: o.at,
                    exemplars: o.exemplars,
                });
            }
        })
        .await;
        scrapes
    }

    /// Scrapes every target concurrently, as [`Scraper::scrape_all`], and returns one
    /// scrape per target, failed ones included, each ending with the samples
    /// Prometheus adds to every scrape: [`SCRAPE_DURATION_SECONDS`],
    /// [`SCRAPE_SAMPLES_SCRAPED`] and, last, [`UP`] (`1`, or `0` for a failed scrape,
    /// which has these three samples alone). What is stored and remote-written.
    pub async fn scrape_round(self: &Arc<Self>) -> Vec<Scrape> {
        let mut scrapes = Vec::new();
        self.round(|o| scrapes.push(o.into_scrape())).await;
        scrapes
    }

    /// Scrapes every target at once, handing each outcome to `each` as soon as it
    /// completes (a scrape never waits in memory for the round's slowest target).
    async fn round(self: &Arc<Self>, mut each: impl FnMut(Outcome)) {
        let mut tasks = JoinSet::new();
        for target in self.config.targets.clone() {
            let scraper = Arc::clone(self);
            tasks.spawn(async move {
                let at = SystemTime::now();
                let started = Instant::now();
                let result = scraper.scrape_one(&target).await;
                let took = started.elapsed();
                let (result, exemplars) = match result {
                    Ok(parsed) => (
                        Ok((parsed.samples, parsed.findings)),
                        scraper.new_exemplars(&target, parsed.exemplars),
                    ),
                    Err(e) => (Err(e), Vec::new()),
                };
                let samples = scraper.record(&target, at, took, result);
                Outcome {
                    target,
                    at,
                    took,
                    samples,
                    exemplars,
                }
            });
        }
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(outcome) => each(outcome),
                Err(e) => tracing::error!(error = %e, "a scrape task failed"),
            }
        }
        let up = self
            .health
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .filter(|h| h.up)
            .count();
        SCRAPER.targets_up.set(up as i64);
    }

    /// The exemplars of a scrape that differ from the last one seen on their series,
    /// at most [`MAX_EXEMPLARS_PER_SCRAPE`].
    fn new_exemplars(&self, target: &Target, exemplars: Vec<Exemplar>) -> Vec<Exemplar> {
        let mut last = self
            .last_exemplars
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if last.len() > MAX_REMEMBERED_SERIES {
            last.clear();
        }
        let mut fresh = Vec::new();
        for exemplar in exemplars {
            let key = (
                target.clone(),
                exemplar.metric.clone(),
                exemplar.series.clone(),
            );
            if last.get(&key) == Some(&exemplar) {
                continue;
            }
            if fresh.len() < MAX_EXEMPLARS_PER_SCRAPE {
                fresh.push(exemplar.clone());
            }
            last.insert(key, exemplar);
        }
        fresh
    }

    /// One scrape of one target, bounded by the timeout and the body limit.
    async fn scrape_one(&self, target: &Target) -> Result<Parsed, ScrapeError> {
        let timeout = self.config.timeout;
        match tokio::time::timeout(timeout, self.fetch_and_parse(target)).await {
            Ok(result) => result,
            Err(_) => Err(ScrapeError::Timeout(timeout)),
        }
    }

    async fn fetch_and_parse(&self, target: &Target) -> Result<Parsed, ScrapeError> {
        let request = Request::get(target.metrics_url())
            .header(ACCEPT, ACCEPT_HEADER)
            .body(Empty::new())
            .map_err(|e| ScrapeError::Connect(e.to_string()))?;
        let response = self.client.request(request).await.map_err(|e| {
            if e.is_connect() {
                ScrapeError::Connect(http_client::source_chain(&e))
            } else {
                ScrapeError::Read(http_client::source_chain(&e))
            }
        })?;
        if response.status() != StatusCode::OK {
            return Err(ScrapeError::Status(response.status().as_u16()));
        }
        let format = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map_or(Format::Prometheus, Format::from_content_type);
        let limit = self.config.body_limit;
        let body = Limited::new(response.into_body(), limit)
            .collect()
            .await
            .map_err(|e| {
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some()
                {
                    ScrapeError::TooLarge(limit)
                } else {
                    ScrapeError::Read(e.to_string())
                }
            })?;
        let bytes = body.to_bytes();
        let text = std::str::from_utf8(&bytes).map_err(|_| ScrapeError::Encoding)?;
        // Scrape mode: what Prometheus's scraper accepts is accepted here too.
        let exposition = parse_with(text, format, Mode::Scrape)?;
        let limit = self.config.sample_limit;
        if limit > 0 && exposition.samples.len() > limit {
            return Err(ScrapeError::SampleLimit {
                limit,
                found: exposition.samples.len(),
            });
        }
        let mut findings: Vec<String> = exposition
            .findings
            .iter()
            .take(MAX_FINDINGS_SHOWN)
            .map(|f| format!("{}:{}: {}", f.line, f.column, f.reason))
            .collect();
        let more = exposition.findings.len() + exposition.findings_omitted;
        if more > findings.len() {
            findings.push(format!("… and {} more", more - findings.len()));
        }
        Ok(Parsed {
            samples: from_exposition(&exposition),
            exemplars: exemplars_of(&exposition),
            findings,
        })
    }

    fn record(
        &self,
        target: &Target,
        at: SystemTime,
        took: Duration,
        result: Result<(Vec<Sample>, Vec<String>), ScrapeError>,
    ) -> Option<Vec<Sample>> {
        let name = target.to_string();
        SCRAPER.duration.labels(&name).observe(took.as_secs_f64());
        let mut health = self.health.lock().unwrap_or_else(|e| e.into_inner());
        let entry = health.get_mut(target)?;
        entry.last_scrape = Some(at);
        entry.last_duration = Some(took);
        match result {
            Ok((samples, findings)) => {
                SCRAPER.samples.labels(&name).inc_by(samples.len() as u64);
                if !findings.is_empty() && entry.findings.is_empty() {
                    tracing::info!(target = %name, first = %findings[0], "scrape tolerated problems");
                }
                entry.findings = findings;
                entry.up = true;
                entry.last_error = None;
                entry.consecutive_failures = 0;
                entry.samples = samples.len();
                if let Some(name) = announced_name(&samples) {
                    entry.announced = Some(name);
                }
                Some(samples)
            }
            Err(e) => {
                SCRAPER.failures.labels(&name, e.reason()).inc();
                tracing::warn!(target = %name, error = %e, "scrape failed");
                entry.up = false;
                entry.last_error = Some(e.to_string());
                entry.consecutive_failures = entry.consecutive_failures.saturating_add(1);
                None
            }
        }
    }

    /// Scrapes every `interval` until `shutdown` completes, handing every target's
    /// scrape of each round to `sink` ([`Scraper::scrape_round`]: failed ones too,
    /// with `up` 0). A round that runs long delays the next one rather than
    /// overlapping it.
    pub async fn run(
        self: Arc<Self>,
        mut sink: impl FnMut(Scrape) + Send,
        shutdown: impl Future<Output = ()>,
    ) {
        let mut ticks = tokio::time::interval(self.config.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => return,
                _ = ticks.tick() => self.round(|o| sink(o.into_scrape())).await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(labels: &[(&str, &str)]) -> Sample {
        Sample {
            name: SERVICE_INFO.to_owned(),
            metric_type: keviq::MetricType::Gauge,
            labels: labels.iter().copied().collect(),
            value: 1.0,
            timestamp_ms: None,
        }
    }

    #[test]
    fn an_exemplar_is_kept_once_until_its_series_gets_a_new_one() {
        let target = Target::parse("127.0.0.1:8001").unwrap();
        let scraper = Scraper::new(ScrapeConfig {
            targets: vec![target.clone()],
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            body_limit: 1024,
            sample_limit: 0,
        });
        let exemplar = |le: &str, id: &str| Exemplar {
            metric: "d_bucket".into(),
            series: [("le", le)].into_iter().collect(),
            labels: [("request_id", id)].into_iter().collect(),
            value: 1.0,
            timestamp_ms: Some(1),
        };
        let first = vec![exemplar("1", "a"), exemplar("+Inf", "b")];
        assert_eq!(scraper.new_exemplars(&target, first.clone()), first);
        let next = vec![exemplar("1", "a"), exemplar("+Inf", "c")];
        assert_eq!(
            scraper.new_exemplars(&target, next),
            [exemplar("+Inf", "c")],
            "the unchanged bucket is not kept twice"
        );
        let many = (0..MAX_EXEMPLARS_PER_SCRAPE + 5)
            .map(|i| exemplar(&i.to_string(), "x"))
            .collect();
        assert_eq!(
            scraper.new_exemplars(&target, many).len(),
            MAX_EXEMPLARS_PER_SCRAPE
        );
    }

    #[test]
    fn a_target_is_named_by_what_it_announces_when_well_formed() {
        assert_eq!(
            announced_name(&[info(&[("service", "api-gateway")])]).as_deref(),
            Some("api-gateway")
        );
        assert_eq!(announced_name(&[info(&[("service", "<script>")])]), None);
        assert_eq!(announced_name(&[info(&[("job", "api-gateway")])]), None);
        assert_eq!(announced_name(&[]), None);

        let mut health = TargetHealth {
            up: true,
            ..TargetHealth::never_scraped(Target::parse("127.0.0.1:8001").unwrap())
        };
        assert_eq!(health.service_name(), "127.0.0.1:8001");
        health.target = Target::parse("[::1]:8001").unwrap();
        assert_eq!(health.service_name(), "[::1]:8001");
        health.target = Target::parse("auth-service:8000").unwrap();
        assert_eq!(health.service_name(), "auth-service");
        health.announced = Some("api-gateway".to_owned());
        assert_eq!(health.service_name(), "api-gateway");
    }
}
