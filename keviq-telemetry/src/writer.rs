//! Puts scrapes into the store without losing any while the database is away.
//!
//! Scrapes wait in a bounded buffer (counted in samples) and are written oldest
//! first, one transaction each. When the database fails, they stay buffered and are
//! retried at the next flush; nothing already buffered is dropped. A scrape that
//! would overflow the buffer is refused: it is counted in
//! `mona_telemetry_samples_dropped_total` and logged.
//!
//! [`Writer::start`] runs the writer in its own task: the scraper hands scrapes over
//! through a bounded [`Handover`], the writer moves everything handed over into its
//! buffer before each write (one scrape per transaction), retries every
//! [`RETRY_EVERY`] while the database is away, and stops once every `Handover` is
//! dropped and what they handed over is written (or the database is still away).
//! With remote write, it tells the [`Backlog`] of every scrape written.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tokio::task::JoinHandle;

use crate::remote::{Backlog, Chunk, estimated_bytes};
use crate::scrape::Scrape;
use crate::store::{Store, StoreError, epoch_ms};

/// Samples the buffer holds by default: about 15 targets × 1,000 series × 60 scrapes.
pub const DEFAULT_BUFFER_SAMPLES: usize = 1_000_000;

/// Scrapes waiting between the scraper and the writer, at least: a few rounds of a
/// fleet of tens of services. [`Writer::with_handover`] raises it for more targets: a
/// round hands all its scrapes over at once.
pub const HANDOVER_SCRAPES: usize = 256;

/// How often a running writer retries a failed flush.
pub const RETRY_EVERY: Duration = Duration::from_secs(2);

keviq::metric! {
    /// The telemetry service's storage metrics.
    pub static STORAGE: StorageMetrics {
        /// Samples written to the database
        pub stored: Counter = "mona_telemetry_samples_stored_total",
        /// Samples refused because the write buffer was full
        pub dropped: Counter = "mona_telemetry_samples_dropped_total",
        /// Samples waiting to be written
        pub buffered: Gauge = "mona_telemetry_buffered_samples",
        /// Failed database writes
        pub write_errors: Counter = "mona_telemetry_store_write_errors_total",
    }
}

/// The bounded write buffer in front of a [`Store`].
#[derive(Debug)]
pub struct Writer {
    store: Store,
    pending: VecDeque<Scrape>,
    pending_samples: usize,
    capacity: usize,
    failing: bool,
    backlog: Option<Arc<Backlog>>,
    handover: usize,
}

impl Writer {
    /// A writer holding at most `capacity` samples while the database is away.
    pub fn new(store: Store, capacity: usize) -> Self {
        Self {
            store,
            pending: VecDeque::new(),
            pending_samples: 0,
            capacity,
            failing: false,
            backlog: None,
            handover: HANDOVER_SCRAPES,
        }
    }

    /// Lets the hand-over hold `scrapes` (at least [`HANDOVER_SCRAPES`]): two rounds of
    /// every target, so a round never overflows it while the writer is busy with one
    /// write. The buffer behind it stays bounded in samples.
    pub fn with_handover(mut self, scrapes: usize) -> Self {
        self.handover = scrapes.max(HANDOVER_SCRAPES);
        self
    }

    /// Tells `backlog` of every scrape written (its last row id, samples, bytes), so
    /// the remote-write senders read it back from the store.
    pub fn with_backlog(mut self, backlog: Arc<Backlog>) -> Self {
        self.backlog = Some(backlog);
        self
    }

    /// Samples waiting to be written.
    pub fn pending_samples(&self) -> usize {
        self.pending_samples
    }

    /// Buffers a scrape, or refuses it (counted and logged) if it does not fit.
    pub fn accept(&mut self, scrape: Scrape) -> bool {
        let n = scrape.samples.len();
        if self.pending_samples + n > self.capacity {
            STORAGE.dropped.inc_by(n as u64);
            tracing::error!(
                target = %scrape.target,
                samples = n,
                buffered = self.pending_samples,
                "write buffer full: dropping the new scrape (buffered samples are kept)"
            );
            return false;
        }
        self.pending_samples += n;
        self.pending.push_back(scrape);
        STORAGE.buffered.set(self.pending_samples as i64);
        true
    }

    /// Writes buffered scrapes, oldest first, until the buffer is empty or the
    /// database fails; returns the samples written.
    ///
    /// # Errors
    /// The first database failure; the failed scrape and all later ones stay buffered.
    pub async fn flush(&mut self) -> Result<usize, StoreError> {
        let mut written = 0;
        while let Some(n) = self.flush_one().await? {
            written += n;
        }
        Ok(written)
    }

    /// Writes the oldest buffered scrape; `None` when the buffer is empty.
    async fn flush_one(&mut self) -> Result<Option<usize>, StoreError> {
        let Some(scrape) = self.pending.front() else {
            return Ok(None);
        };
        match self.store.write_with_id(scrape).await {
            Ok((n, last_id)) => {
                if let Some(backlog) = &self.backlog
                    && n > 0
                {
                    backlog.push(Chunk {
                        last_id,
                        samples: n as u64,
                        bytes: scrape.samples.iter().map(estimated_bytes).sum(),
                        ts_ms: epoch_ms(scrape.at),
                        record: None,
                    });
                }
                self.pending_samples -= n;
                self.pending.pop_front();
                STORAGE.stored.inc_by(n as u64);
                STORAGE.buffered.set(self.pending_samples as i64);
                if self.failing {
                    self.failing = false;
                    tracing::info!(
                        buffered = self.pending_samples,
                        "database is back; writing buffered samples"
                    );
                }
                Ok(Some(n))
            }
            Err(e) => {
                STORAGE.write_errors.inc();
                if !self.failing {
                    self.failing = true;
                    tracing::error!(error = %e, buffered = self.pending_samples, "database write failed; buffering samples");
                }
                Err(e)
            }
        }
    }

    /// Runs the writer in a task of its own; returns the scraper's end of the
    /// hand-over and the task, which ends once every [`Handover`] is dropped and
    /// everything handed over is written or, with the database away, given up on
    /// (logged).
    pub fn start(self) -> (Handover, JoinHandle<()>) {
        // Bounded: the write buffer is the only place scrapes wait, so memory stays
        // bounded even while a flush is stuck on the database.
        let (tx, rx) = mpsc::channel(self.handover);
        (Handover(tx), tokio::spawn(self.run(rx)))
    }

    async fn run(mut self, mut inbox: mpsc::Receiver<Scrape>) {
        let mut retry = tokio::time::interval(RETRY_EVERY);
        let mut open = true;
        loop {
            // Everything handed over moves into the buffer before each write, so a
            // round of many targets never overflows the hand-over while the buffer
            // (counted in samples) has room.
            while let Ok(scrape) = inbox.try_recv() {
                self.accept(scrape);
            }
            if !self.pending.is_empty() && !self.failing {
                // A failed write keeps everything buffered; the next tick retries.
                let _ = self.flush_one().await;
                continue;
            }
            if !open {
                break;
            }
            tokio::select! {
                scrape = inbox.recv() => match scrape {
                    Some(scrape) => { self.accept(scrape); }
                    None => open = false,
                },
                _ = retry.tick() => {
                    if self.failing {
                        let _ = self.flush_one().await;
                    }
                }
            }
        }
        if let Err(e) = self.flush().await {
            tracing::error!(error = %e, "samples not written at shutdown");
        }
    }
}

/// The scraper's end of the hand-over to a running [`Writer`].
#[derive(Debug, Clone)]
pub struct Handover(mpsc::Sender<Scrape>);

impl Handover {
    /// Hands a scrape to the writer; when the writer is behind (the hand-over is
    /// full) or gone, the scrape is dropped, counted and logged.
    pub fn send(&self, scrape: Scrape) {
        if let Err(e) = self.0.try_send(scrape) {
            let (TrySendError::Full(scrape) | TrySendError::Closed(scrape)) = e;
            STORAGE.dropped.inc_by(scrape.samples.len() as u64);
            tracing::error!(target = %scrape.target, "writer is behind: dropping a new scrape");
        }
    }
}
