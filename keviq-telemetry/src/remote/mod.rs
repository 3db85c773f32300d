//! Prometheus remote write 1.0: every scrape goes on to any Prometheus-compatible
//! time-series database (VictoriaMetrics, Mimir, Thanos Receive, Cortex, Prometheus
//! with `--web.enable-remote-write-receiver`), configured by the
//! `TELEMETRY_REMOTE_WRITE_*` variables of [`crate::config`].
//!
//! The pieces, in the order a sample goes through them:
//!
//! - the scraper ends every target's scrape with `scrape_duration_seconds`,
//!   `scrape_samples_scraped` and `up` (a failed scrape has these alone, `up` 0);
//! - with a local store, the writer stores the scrape and tells the [`Backlog`] its
//!   last row id; without one (`TELEMETRY_DATABASE_URL=none`) the scrape goes into
//!   the backlog itself ([`Backlog::push_scrape`]);
//! - one [`sender::Sender`] per endpoint takes batches after its cursor, reads their
//!   rows back from the store if there is one, converts them ([`series`]: labels,
//!   `instance`, `job`, staleness markers), encodes and compresses them ([`proto`])
//!   and posts them with retries; once delivered, its cursor moves, and with a store
//!   it is saved in `telemetry_core.remote_write_cursor`.
//!
//! Delivery is at least once and in order per series: one request at a time per
//! endpoint, each batch retried until it is delivered, refused (a 4xx other than
//! 429, counted as failed), or dropped by the backlog's bound (counted as dropped).
//! A restart with a local store resends from the saved cursor; a new endpoint starts
//! at the end of the store (it is not sent the history).
//!
//! ```
//! use keviq_telemetry::remote::proto::{Label, Sample, TimeSeries, WriteRequest, body};
//!
//! let request = WriteRequest {
//!     timeseries: vec![TimeSeries {
//!         labels: vec![
//!             Label { name: "__name__".into(), value: "up".into() },
//!             Label { name: "instance".into(), value: "api-gateway:8000".into() },
//!         ],
//!         samples: vec![Sample { value: 1.0, timestamp: 1_700_000_000_000 }],
//!     }],
//! };
//! let compressed = body(&request).unwrap();
//! assert!(!compressed.is_empty());
//! ```

mod backlog;
pub mod proto;
pub mod sender;
pub mod series;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use self::backlog::{Backlog, Batch, Chunk};
use self::sender::{Poster, Sender, Source};
pub use self::series::{Converter, Record, estimated_bytes, estimated_row_bytes};
use crate::clock::epoch_ms;
use crate::config::RemoteWriteConfig;
use crate::sample::Scrape;
use crate::store::{Store, StoreError};

keviq::metric! {
    /// The telemetry service's remote-write metrics, by endpoint (`host:port/path`).
    pub static REMOTE: RemoteWriteMetrics {
        /// Samples the receiver accepted
        pub sent: Counter(remote: &str) = "mona_telemetry_remote_samples_sent_total",
        /// Samples sent again after a network error, a timeout, a 5xx or a 429
        pub retried: Counter(remote: &str) = "mona_telemetry_remote_samples_retried_total",
        /// Samples the receiver refused (a 4xx other than 429): logged, not retried
        pub failed: Counter(remote: &str) = "mona_telemetry_remote_samples_failed_total",
        /// Samples dropped unsent: the backlog passed its bound, or retention deleted them first
        pub dropped: Counter(remote: &str) = "mona_telemetry_remote_samples_dropped_total",
        /// Samples waiting to be sent
        pub pending: Gauge(remote: &str) = "mona_telemetry_remote_samples_pending",
        /// Age of the oldest unsent sample (0 when nothing waits)
        #[metric(unit = "seconds")]
        pub lag: FloatGauge(remote: &str) = "mona_telemetry_remote_lag_seconds",
        /// Compressed request bytes the receiver accepted
        #[metric(unit = "bytes")]
        pub bytes: Counter(remote: &str) = "mona_telemetry_remote_sent_bytes_total",
    }
}

impl Backlog {
    /// Hands a scrape to the senders when there is no local store (with one, the
    /// writer tells the backlog of it once it is stored).
    pub fn push_scrape(&self, scrape: Scrape) {
        let bytes = scrape.samples.iter().map(estimated_bytes).sum();
        self.push_record(
            Record {
                instance: scrape.target.to_string(),
                ts_ms: epoch_ms(scrape.at),
                samples: scrape.samples,
            },
            bytes,
        );
    }
}

/// Remote write running: the backlog and one sender per endpoint.
#[derive(Debug)]
pub struct RemoteWrite {
    backlog: Arc<Backlog>,
    memory: bool,
    stop: watch::Sender<bool>,
    senders: Vec<JoinHandle<()>>,
}

impl RemoteWrite {
    /// Starts a sender per endpoint. With a `store`, each endpoint resumes from its
    /// saved cursor (a new one from the store's end), and the scrapes stored after the
    /// oldest cursor form the backlog.
    ///
    /// # Errors
    /// The store failed.
    pub async fn start(
        config: &RemoteWriteConfig,
        store: Option<&Store>,
    ) -> Result<Self, StoreError> {
        let posters: Vec<Poster> = config
            .endpoints
            .iter()
            .map(|e| Poster::new(e.clone(), config))
            .collect();
        let names: Vec<String> = posters.iter().map(Poster::name).collect();
        let (cursors, chunks) = match store {
            None => (vec![0; names.len()], Vec::new()),
            Some(store) => {
                let end = store.max_id().await?;
                let mut cursors = Vec::with_capacity(names.len());
                for name in &names {
                    let cursor = match store.cursor(name).await? {
                        Some(cursor) if cursor <= end => cursor,
                        Some(cursor) => {
                            // Ids only grow, unless every row was deleted and SQLite
                            // started counting again: then every row is unsent.
                            tracing::warn!(remote = %name, cursor, end, "the store's row ids restarted; sending every stored row");
                            0
                        }
                        None => {
                            store.save_cursor(name, end).await?;
                            end
                        }
                    };
                    cursors.push(cursor);
                }
                let oldest = cursors.iter().copied().min().unwrap_or(end);
                let chunks: Vec<Chunk> = store
                    .scrapes_after(oldest)
                    .await?
                    .into_iter()
                    .map(|(last_id, rows, text_bytes, ts_ms)| Chunk {
                        last_id,
                        samples: rows.max(0) as u64,
                        bytes: text_bytes.max(0) as u64
                            + rows.max(0) as u64 * estimated_row_bytes(0, 0),
                        ts_ms,
                        record: None,
                    })
                    .collect();
                if !chunks.is_empty() {
                    tracing::info!(
                        scrapes = chunks.len(),
                        samples = chunks.iter().map(|c| c.samples).sum::<u64>(),
                        "remote write resumes with samples stored and not yet sent"
                    );
                }
                (cursors, chunks)
            }
        };
        let backlog = Backlog::new(names, cursors, config.queue_bytes, chunks);
        let (stop, stopped) = watch::channel(false);
        let source = store.map_or(Source::Memory, |s| Source::Store(s.clone()));
        let senders = posters
            .into_iter()
            .enumerate()
            .map(|(index, poster)| {
                tokio::spawn(
                    Sender {
                        index,
                        poster,
                        backlog: backlog.clone(),
                        source: source.clone(),
                        batch_samples: config.batch_samples,
                    }
                    .run(stopped.clone()),
                )
            })
            .collect();
        Ok(Self {
            backlog,
            memory: store.is_none(),
            stop,
            senders,
        })
    }

    /// The backlog, for the writer to tell of stored scrapes.
    pub fn backlog(&self) -> &Arc<Backlog> {
        &self.backlog
    }

    /// Whether scrapes go through [`Backlog::push_scrape`] (no local store).
    pub fn in_memory(&self) -> bool {
        self.memory
    }

    /// Sends what is pending for at most `within` (as long as the receivers take
    /// it), then stops the senders. With a local store, what is left is sent after
    /// the next start.
    pub async fn stop(self, within: Duration) {
        let _ = self.stop.send(true);
        let deadline = tokio::time::Instant::now() + within;
        for sender in self.senders {
            let abort = sender.abort_handle();
            if tokio::time::timeout_at(deadline, sender).await.is_err() {
                abort.abort();
            }
        }
        for (r, name) in self.backlog.remotes().iter().enumerate() {
            let pending = self.backlog.pending(r);
            if pending > 0 {
                if self.memory {
                    tracing::error!(remote = %name, samples = pending, "stopping with unsent samples; without a local store they are lost");
                } else {
                    tracing::warn!(remote = %name, samples = pending, "stopping with unsent samples; they are sent after the next start");
                }
            }
        }
    }
}
