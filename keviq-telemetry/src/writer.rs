//! Puts scrapes into the store without losing any while the database is away.
//!
//! Scrapes wait in a bounded buffer (counted in samples) and are written oldest
//! first, one transaction each. When the database fails, they stay buffered and are
//! retried at the next flush; nothing already buffered is dropped. A scrape that
//! would overflow the buffer is refused: it is counted in
//! `mona_telemetry_samples_dropped_total` and logged.
//!
//! [`Writer::start`] runs the writer in its own task: the scraper hands scrapes over
//! through a bounded [`Handover`], the writer flushes after each one and every
//! [`RETRY_EVERY`] while the database is away, and it stops once every `Handover` is
//! dropped and what they handed over is written (or the database is still away).

use std::collections::VecDeque;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tokio::task::JoinHandle;

use crate::scrape::Scrape;
use crate::store::{Store, StoreError};

/// Samples the buffer holds by default: about 15 targets × 1,000 series × 60 scrapes.
pub const DEFAULT_BUFFER_SAMPLES: usize = 1_000_000;

/// Scrapes waiting between the scraper and the writer: a few rounds of a large fleet.
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
        }
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
        while let Some(scrape) = self.pending.front() {
            match self.store.write(scrape).await {
                Ok(n) => {
                    written += n;
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
                }
                Err(e) => {
                    STORAGE.write_errors.inc();
                    if !self.failing {
                        self.failing = true;
                        tracing::error!(error = %e, buffered = self.pending_samples, "database write failed; buffering samples");
                    }
                    return Err(e);
                }
            }
        }
        Ok(written)
    }

    /// Runs the writer in a task of its own; returns the scraper's end of the
    /// hand-over and the task, which ends once every [`Handover`] is dropped and
    /// everything handed over is written or, with the database away, given up on
    /// (logged).
    pub fn start(self) -> (Handover, JoinHandle<()>) {
        // Bounded: the write buffer is the only place scrapes wait, so memory stays
        // bounded even while a flush is stuck on the database.
        let (tx, rx) = mpsc::channel(HANDOVER_SCRAPES);
        (Handover(tx), tokio::spawn(self.run(rx)))
    }

    async fn run(mut self, mut inbox: mpsc::Receiver<Scrape>) {
        let mut retry = tokio::time::interval(RETRY_EVERY);
        loop {
            tokio::select! {
                scrape = inbox.recv() => match scrape {
                    Some(scrape) => { self.accept(scrape); }
                    None => break,
                },
                _ = retry.tick() => {}
            }
            // A failed flush keeps everything buffered; the next tick retries.
            let _ = self.flush().await;
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
