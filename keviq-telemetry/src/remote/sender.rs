//! One remote's sender: takes batches from the [`Backlog`], turns them into
//! requests and posts them, one at a time, so every series arrives in order.
//!
//! A request that fails on the network, times out, or is answered 5xx or 429 is
//! retried with exponential backoff from [`MIN_BACKOFF`] to [`MAX_BACKOFF`] (a
//! 429's `Retry-After`, in seconds, is honoured up to that cap) until it is
//! delivered, the backlog's bound drops it, or the service stops. Any other answer
//! outside 2xx (a 400 for a sample the receiver refuses) is never retried: the
//! batch's samples are counted as failed, the answer is logged, and the sender moves
//! on (the specification's rule: a 4xx will fail again).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use http::{HeaderValue, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use tokio::sync::watch;

use super::REMOTE;
use super::backlog::{Backlog, Batch};
use super::proto::{TimeSeries, WriteRequest, body};
use super::series::{Converter, Record};
use crate::config::{Endpoint, RemoteWriteConfig, request_headers};
use crate::http_client;
use crate::store::Store;

/// The first wait before a retry.
pub const MIN_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait between two retries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long a sender waits before reading the store again after it failed.
const STORE_RETRY: Duration = Duration::from_secs(1);

/// The `User-Agent` of every request.
pub const USER_AGENT_VALUE: &str = concat!("keviq-telemetry/", env!("CARGO_PKG_VERSION"));

/// What the receiver made of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx.
    Delivered,
    /// A network error, a timeout, a 5xx or a 429: try again (after at least the
    /// given time, for a 429's `Retry-After`).
    Retry(String, Option<Duration>),
    /// Anything else: do not try again.
    Refused(String),
}

/// The outcome of an answer's status.
pub fn classify(status: StatusCode) -> Option<bool> {
    if status.is_success() {
        None
    } else {
        Some(status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS)
    }
}

/// The wait before retry `attempt` (0 for the first).
pub fn backoff(attempt: u32) -> Duration {
    MIN_BACKOFF
        .saturating_mul(1u32.checked_shl(attempt.min(16)).unwrap_or(u32::MAX))
        .min(MAX_BACKOFF)
}

/// Posts write requests to one endpoint.
#[derive(Debug, Clone)]
pub struct Poster {
    endpoint: Endpoint,
    client: Client<HttpConnector, Full<Bytes>>,
    headers: Vec<(http::HeaderName, HeaderValue)>,
    timeout: Duration,
}

impl Poster {
    /// A poster for `endpoint` with the configuration's token, headers and timeout.
    pub fn new(endpoint: Endpoint, config: &RemoteWriteConfig) -> Self {
        let client = http_client::client(config.timeout);
        let headers = request_headers(&config.headers, config.bearer_token.as_ref());
        Self {
            endpoint,
            client,
            headers,
            timeout: config.timeout,
        }
    }

    /// The endpoint's name, for metrics and logs.
    pub fn name(&self) -> String {
        self.endpoint.name()
    }

    /// One POST of a compressed body.
    pub async fn post(&self, body: Bytes) -> Outcome {
        let mut request = Request::post(self.endpoint.uri.clone())
            .header(CONTENT_ENCODING, "snappy")
            .header(CONTENT_TYPE, "application/x-protobuf")
            .header("X-Prometheus-Remote-Write-Version", "0.1.0")
            .header(USER_AGENT, USER_AGENT_VALUE);
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let request = match request.body(Full::new(body)) {
            Ok(request) => request,
            Err(e) => return Outcome::Refused(format!("cannot build the request: {e}")),
        };
        let answer = tokio::time::timeout(self.timeout, async {
            let response = self.client.request(request).await?;
            let status = response.status();
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            // The receiver's reason, shortened, for the log; the body is drained so
            // the connection is reused.
            let text = Limited::new(response.into_body(), 64 * 1024)
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let reason: String = String::from_utf8_lossy(&text)
                .chars()
                .filter(|c| !c.is_control())
                .take(300)
                .collect();
            Ok::<_, hyper_util::client::legacy::Error>((status, retry_after, reason))
        })
        .await;
        match answer {
            Err(_) => Outcome::Retry(format!("no answer within {:?}", self.timeout), None),
            Ok(Err(e)) => Outcome::Retry(http_client::source_chain(&e), None),
            Ok(Ok((status, retry_after, reason))) => match classify(status) {
                None => Outcome::Delivered,
                Some(true) => Outcome::Retry(format!("HTTP {status}: {reason}"), retry_after),
                Some(false) => Outcome::Refused(format!("HTTP {status}: {reason}")),
            },
        }
    }
}

/// Where a sender finds the samples of its batches.
#[derive(Debug, Clone)]
pub enum Source {
    /// In the chunks themselves (no local store).
    Memory,
    /// In the local store, by row id; the cursor is saved there too.
    Store(Store),
}

/// One remote's sender.
#[derive(Debug)]
pub struct Sender {
    /// Its index among the backlog's remotes.
    pub index: usize,
    /// Its endpoint.
    pub poster: Poster,
    /// The shared backlog.
    pub backlog: Arc<Backlog>,
    /// Where the samples are.
    pub source: Source,
    /// Samples per request.
    pub batch_samples: usize,
}

/// Whether the service is stopping (or whoever could tell is gone).
fn stopping(stop: &watch::Receiver<bool>) -> bool {
    *stop.borrow() || stop.has_changed().is_err()
}

/// How a batch ended.
enum Sent {
    /// Delivered, refused (counted), or dropped under it: move on.
    Done,
    /// The service is stopping and the receiver is not taking it.
    Stopped,
}

impl Sender {
    /// Sends until `stop` turns true, then what is pending as long as the receiver
    /// takes it (the caller bounds that in time).
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let name = self.poster.name();
        let mut converter = Converter::new();
        loop {
            let changed = self.backlog.changed();
            let Some(batch) = self.backlog.take(self.index, self.batch_samples as u64) else {
                if stopping(&stop) {
                    return;
                }
                tokio::select! {
                    () = changed => {}
                    _ = stop.changed() => {}
                    // The lag gauge ages while nothing is sent.
                    () = tokio::time::sleep(Duration::from_secs(1)) => self.backlog.refresh(),
                }
                continue;
            };
            let records = match self.records(&batch).await {
                Ok(records) => records,
                Err(e) => {
                    tracing::warn!(remote = %name, error = %e, "cannot read unsent samples from the store; retrying");
                    if stopping(&stop) {
                        return;
                    }
                    tokio::time::sleep(STORE_RETRY).await;
                    continue;
                }
            };
            let mut series = Vec::new();
            for record in &records {
                converter.convert(record, &mut series);
            }
            match self.send(&series, batch.last_id(), &mut stop).await {
                Sent::Done => {
                    self.backlog.ack(self.index, batch.last_id());
                    if let Source::Store(store) = &self.source
                        && let Err(e) = store
                            .save_cursor(&name, self.backlog.cursor(self.index))
                            .await
                    {
                        // The next save catches up; a restart before it resends (at
                        // least once).
                        tracing::warn!(remote = %name, error = %e, "cannot save the remote-write cursor");
                    }
                }
                Sent::Stopped => return,
            }
        }
    }

    /// The scrapes of a batch: from the chunks, or read back from the store. Rows
    /// the store no longer has (retention deleted them) are counted as dropped.
    async fn records(&self, batch: &Batch) -> Result<Vec<Arc<Record>>, crate::store::StoreError> {
        match &self.source {
            Source::Memory => Ok(batch
                .chunks
                .iter()
                .filter_map(|c| c.record.clone())
                .collect()),
            Source::Store(store) => {
                let rows = store.rows_between(batch.after_id, batch.last_id()).await?;
                let mut rows = rows.into_iter().peekable();
                let mut records = Vec::with_capacity(batch.chunks.len());
                let mut missing = 0;
                for chunk in &batch.chunks {
                    let mut record: Option<Record> = None;
                    while let Some((id, row)) = rows.next_if(|(id, _)| *id <= chunk.last_id) {
                        let _ = id;
                        record
                            .get_or_insert_with(|| Record {
                                instance: row.target.clone(),
                                ts_ms: row.ts_ms,
                                samples: Vec::with_capacity(chunk.samples as usize),
                            })
                            .samples
                            .push(row.sample);
                    }
                    let found = record.as_ref().map_or(0, |r| r.samples.len() as u64);
                    missing += chunk.samples.saturating_sub(found);
                    records.extend(record.map(Arc::new));
                }
                if missing > 0 {
                    let name = self.poster.name();
                    REMOTE.dropped.labels(&name).inc_by(missing);
                    tracing::error!(remote = %name, samples = missing, "unsent samples were deleted from the store (retention) before they were sent");
                }
                Ok(records)
            }
        }
    }

    /// Sends the series of one batch in requests of at most `batch_samples`.
    async fn send(
        &self,
        series: &[TimeSeries],
        last_id: i64,
        stop: &mut watch::Receiver<bool>,
    ) -> Sent {
        let name = self.poster.name();
        for piece in series.chunks(self.batch_samples.max(1)) {
            let samples = piece.len() as u64;
            let request = WriteRequest {
                timeseries: piece.to_vec(),
            };
            let body = match body(&request) {
                Ok(body) => Bytes::from(body),
                Err(e) => {
                    REMOTE.failed.labels(&name).inc_by(samples);
                    tracing::error!(remote = %name, error = %e, samples, "cannot compress a batch; dropping it");
                    continue;
                }
            };
            let mut attempt = 0;
            loop {
                match self.poster.post(body.clone()).await {
                    Outcome::Delivered => {
                        REMOTE.sent.labels(&name).inc_by(samples);
                        REMOTE.bytes.labels(&name).inc_by(body.len() as u64);
                        break;
                    }
                    Outcome::Refused(reason) => {
                        REMOTE.failed.labels(&name).inc_by(samples);
                        tracing::error!(remote = %name, samples, %reason, "the receiver refused a batch; dropping it (not retried)");
                        break;
                    }
                    Outcome::Retry(reason, at_least) => {
                        if stopping(stop) {
                            tracing::warn!(remote = %name, %reason, "stopping with unsent samples");
                            return Sent::Stopped;
                        }
                        if self.backlog.passed(self.index, last_id) {
                            // The bound dropped this batch (counted there).
                            return Sent::Done;
                        }
                        let wait =
                            backoff(attempt).max(at_least.unwrap_or_default().min(MAX_BACKOFF));
                        if attempt == 0 {
                            tracing::warn!(remote = %name, %reason, samples, "remote write failed; retrying with backoff");
                        }
                        attempt = attempt.saturating_add(1);
                        REMOTE.retried.labels(&name).inc_by(samples);
                        tokio::select! {
                            () = tokio::time::sleep(wait) => {}
                            _ = stop.changed() => {}
                        }
                    }
                }
            }
        }
        Sent::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_server_errors_and_429_are_retried() {
        assert_eq!(classify(StatusCode::NO_CONTENT), None);
        assert_eq!(classify(StatusCode::OK), None);
        assert_eq!(classify(StatusCode::INTERNAL_SERVER_ERROR), Some(true));
        assert_eq!(classify(StatusCode::SERVICE_UNAVAILABLE), Some(true));
        assert_eq!(classify(StatusCode::TOO_MANY_REQUESTS), Some(true));
        assert_eq!(classify(StatusCode::BAD_REQUEST), Some(false));
        assert_eq!(classify(StatusCode::UNAUTHORIZED), Some(false));
        assert_eq!(classify(StatusCode::PAYLOAD_TOO_LARGE), Some(false));
        assert_eq!(classify(StatusCode::MOVED_PERMANENTLY), Some(false));
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        assert_eq!(backoff(0), Duration::from_millis(100));
        assert_eq!(backoff(1), Duration::from_millis(200));
        assert_eq!(backoff(5), Duration::from_millis(3200));
        assert_eq!(backoff(6), MAX_BACKOFF);
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
    }
}
