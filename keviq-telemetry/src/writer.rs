//! Puts scrapes into the store, with the memory between the scraper and the store
//! bounded in bytes and every sample either stored or counted as dropped.
//!
//! The scraper hands each scrape over through a [`Handover`] into one queue, bounded
//! by the bytes its scrapes hold ([`Scrape::heap_bytes`]): there is no other place a
//! scrape waits. A [`Writer`] takes the oldest scrape and writes it in one
//! transaction; while it writes, that scrape still counts as buffered. When the
//! queue is full (the database is away or slower than the targets), the oldest
//! waiting scrapes are dropped, whole, to make room for the new one; a scrape larger
//! than the whole bound is dropped itself. Both are counted in
//! `mona_telemetry_samples_dropped_total` and logged; `mona_telemetry_buffered_samples`
//! and `mona_telemetry_buffered_bytes` are what waits, the scrape being written
//! included. So after a crash, what is lost is at most what the buffer gauges showed.
//!
//! [`Writer::start`] runs the writer in a task of its own. A failed write keeps its
//! scrape at the head of the queue and is retried every [`RETRY_EVERY`]. Once the
//! queue is closed ([`Handover::close`], at shutdown), the writer drains it within
//! its drain limit ([`Writer::with_drain_limit`]) and returns a [`Drained`] report;
//! what it could not write is logged by target, exactly.
//! A [`Follower`] (the daemon hands in remote write's backlog) is told of every
//! scrape written, so the writer knows nothing of what follows the store.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::config::DEFAULT_DRAIN_LIMIT;
use crate::sample::{Scrape, Target};
use crate::store::{Store, StoreError};

/// How often a running writer retries a failed write.
pub const RETRY_EVERY: Duration = Duration::from_secs(2);

keviq::metric! {
    /// The telemetry service's storage metrics.
    pub static STORAGE: StorageMetrics {
        /// Samples handed to the write buffer: each is stored, dropped, or still buffered
        pub samples_in: Counter = "mona_telemetry_samples_in_total",
        /// Samples written to the database
        pub stored: Counter = "mona_telemetry_samples_stored_total",
        /// Samples dropped before reaching the database: the write buffer was full, or shutdown could not write them
        pub dropped: Counter = "mona_telemetry_samples_dropped_total",
        /// Samples waiting to be written, the scrape being written included
        pub buffered: Gauge = "mona_telemetry_buffered_samples",
        /// Bytes of memory the waiting scrapes hold
        pub buffered_bytes: Gauge = "mona_telemetry_buffered_bytes",
        /// Failed database writes
        pub write_errors: Counter = "mona_telemetry_store_write_errors_total",
    }
}

/// An amount of buffered work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Amount {
    /// Whole scrapes.
    pub scrapes: u64,
    /// Their samples.
    pub samples: u64,
    /// The memory they hold ([`Scrape::heap_bytes`]).
    pub bytes: u64,
}

impl Amount {
    fn of(scrape: &Scrape) -> Self {
        Self {
            scrapes: 1,
            samples: scrape.samples.len() as u64,
            bytes: scrape.heap_bytes() as u64,
        }
    }

    fn add(&mut self, other: Self) {
        self.scrapes += other.scrapes;
        self.samples += other.samples;
        self.bytes += other.bytes;
    }

    fn remove(&mut self, other: Self) {
        self.scrapes -= other.scrapes;
        self.samples -= other.samples;
        self.bytes -= other.bytes;
    }
}

/// What became of a scrape handed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Queued; `evicted` are the oldest scrapes dropped to make room (none when
    /// it fitted).
    Queued {
        /// What was dropped for it.
        evicted: Amount,
    },
    /// Dropped: larger than the whole buffer, or handed over after shutdown began.
    Refused,
}

/// What the writer did not write when it stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drained {
    /// Everything left in the buffer.
    pub unwritten: Amount,
    /// The same, by target: scrapes and samples.
    pub by_target: BTreeMap<String, (u64, u64)>,
}

/// The queue between the scraper and the writer.
#[derive(Debug)]
struct Queue {
    state: Mutex<State>,
    /// Woken when a scrape arrives or the queue closes.
    arrived: Notify,
    closed: watch::Sender<bool>,
    capacity: u64,
}

#[derive(Debug, Default)]
struct State {
    /// Scrapes not yet taken by the writer, oldest first.
    waiting: VecDeque<(Scrape, Amount)>,
    /// The scrape being written, if any.
    writing: Amount,
    /// Everything buffered: `waiting` and `writing`.
    total: Amount,
    closed: bool,
}

impl Queue {
    fn new(capacity: u64) -> Self {
        Self {
            state: Mutex::default(),
            arrived: Notify::new(),
            closed: watch::Sender::new(false),
            capacity,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `scrape`, dropping the oldest waiting scrapes if it needs their room.
    fn push(&self, scrape: Scrape) -> Admission {
        let amount = Amount::of(&scrape);
        STORAGE.samples_in.inc_by(amount.samples);
        let mut state = self.lock();
        let refusal = if state.closed {
            Some("shutdown has begun")
        } else if amount.bytes > self.capacity {
            Some("the scrape alone is larger than the write buffer (TELEMETRY_BUFFER_BYTES)")
        } else if amount.bytes + state.writing.bytes > self.capacity {
            Some("the write buffer cannot hold it beside the scrape being written")
        } else {
            None
        };
        if let Some(reason) = refusal {
            drop(state);
            STORAGE.dropped.inc_by(amount.samples);
            tracing::error!(
                target = %scrape.target,
                samples = amount.samples,
                bytes = amount.bytes,
                "scrape dropped: {reason}"
            );
            return Admission::Refused;
        }
        let mut evicted = Vec::new();
        let mut dropped = Amount::default();
        while state.total.bytes + amount.bytes > self.capacity {
            // Terminates: with every waiting scrape gone, `writing` and the new one fit.
            let Some((old, old_amount)) = state.waiting.pop_front() else {
                break;
            };
            state.total.remove(old_amount);
            dropped.add(old_amount);
            evicted.push(old);
        }
        state.total.add(amount);
        state.waiting.push_back((scrape, amount));
        publish(state.total);
        let buffered = state.total;
        drop(state);
        self.arrived.notify_one();
        if dropped.scrapes > 0 {
            STORAGE.dropped.inc_by(dropped.samples);
            let targets: Vec<String> = evicted.iter().map(|s| s.target.to_string()).collect();
            tracing::error!(
                scrapes = dropped.scrapes,
                samples = dropped.samples,
                targets = %targets.join(","),
                buffered_samples = buffered.samples,
                buffered_bytes = buffered.bytes,
                "write buffer full: dropped the oldest scrapes to make room"
            );
        }
        Admission::Queued { evicted: dropped }
    }

    /// Takes the oldest waiting scrape for writing (it stays counted until
    /// [`Queue::written`] or [`Queue::put_back`]).
    fn take(&self) -> Option<Scrape> {
        let mut state = self.lock();
        let (scrape, amount) = state.waiting.pop_front()?;
        state.writing = amount;
        Some(scrape)
    }

    /// The scrape taken is in the database.
    fn written(&self) {
        let mut state = self.lock();
        let amount = std::mem::take(&mut state.writing);
        state.total.remove(amount);
        publish(state.total);
    }

    /// The scrape taken could not be written: it goes back to the head.
    fn put_back(&self, scrape: Scrape) {
        let mut state = self.lock();
        let amount = std::mem::take(&mut state.writing);
        state.waiting.push_front((scrape, amount));
    }

    fn close(&self) {
        self.lock().closed = true;
        self.closed.send_replace(true);
        self.arrived.notify_one();
    }

    fn is_closed(&self) -> bool {
        self.lock().closed
    }

    fn total(&self) -> Amount {
        self.lock().total
    }

    /// Empties the queue (at the end of shutdown), counting what it held as dropped:
    /// the waiting scrapes and, if the drain cut its write, the one of `in_flight`.
    fn abandon(&self, in_flight: Option<Target>) -> Drained {
        let mut state = self.lock();
        let waiting = std::mem::take(&mut state.waiting);
        let writing = std::mem::take(&mut state.writing);
        state.total = Amount::default();
        publish(state.total);
        drop(state);
        let mut drained = Drained::default();
        let cut = in_flight.map(|target| (target, writing));
        let left = waiting.iter().map(|(s, a)| (s.target.clone(), *a));
        for (target, amount) in cut.into_iter().chain(left) {
            drained.unwritten.add(amount);
            let entry = drained.by_target.entry(target.to_string()).or_default();
            entry.0 += 1;
            entry.1 += amount.samples;
        }
        STORAGE.dropped.inc_by(drained.unwritten.samples);
        drained
    }
}

fn publish(total: Amount) {
    STORAGE.buffered.set(total.samples as i64);
    STORAGE.buffered_bytes.set(total.bytes as i64);
}

/// The scraper's end of the write buffer.
#[derive(Debug, Clone)]
pub struct Handover(Arc<Queue>);

impl Handover {
    /// Queues a scrape for the writer. When the buffer is full, the oldest waiting
    /// scrapes are dropped to make room; a scrape larger than the whole buffer, or
    /// handed over after [`Handover::close`], is dropped itself. Every drop is
    /// counted and logged.
    pub fn send(&self, scrape: Scrape) -> Admission {
        self.0.push(scrape)
    }

    /// Ends the hand-over (shutdown): the writer writes what is buffered, within its
    /// drain limit, and stops; later scrapes are refused.
    pub fn close(&self) {
        self.0.close();
    }

    /// What is buffered now, the scrape being written included.
    pub fn buffered(&self) -> Amount {
        self.0.total()
    }
}

/// What follows the store: told of every scrape the [`Writer`] has stored.
pub trait Follower: Send + Sync + std::fmt::Debug {
    /// `scrape` is stored, in `samples` rows; the last row's id is `last_id`.
    fn stored(&self, scrape: &Scrape, last_id: i64, samples: u64);
}

/// Writes the buffer into a [`Store`], oldest scrape first.
#[derive(Debug)]
pub struct Writer {
    store: Store,
    queue: Arc<Queue>,
    follower: Option<Arc<dyn Follower>>,
    drain_limit: Duration,
    failing: bool,
}

impl Writer {
    /// A writer whose buffer holds at most `capacity` bytes of scrapes.
    pub fn new(store: Store, capacity: u64) -> Self {
        Self {
            store,
            queue: Arc::new(Queue::new(capacity)),
            follower: None,
            drain_limit: DEFAULT_DRAIN_LIMIT,
            failing: false,
        }
    }

    /// How long the writer goes on writing once the hand-over is closed.
    pub fn with_drain_limit(mut self, limit: Duration) -> Self {
        self.drain_limit = limit;
        self
    }

    /// Tells `follower` of every scrape written (with its last row id and its
    /// samples), so that, for example, the remote-write senders read it back from
    /// the store.
    pub fn with_follower(mut self, follower: Arc<dyn Follower>) -> Self {
        self.follower = Some(follower);
        self
    }

    /// The scraper's end of this writer's buffer.
    pub fn handover(&self) -> Handover {
        Handover(Arc::clone(&self.queue))
    }

    /// What is buffered, the scrape being written included.
    pub fn buffered(&self) -> Amount {
        self.queue.total()
    }

    /// Writes buffered scrapes, oldest first, until the buffer is empty or the
    /// database fails; returns the samples written.
    ///
    /// # Errors
    /// The first database failure; the failed scrape and all later ones stay buffered.
    pub async fn flush(&mut self) -> Result<usize, StoreError> {
        let mut written = 0;
        while let Some(scrape) = self.queue.take() {
            written += self.write(scrape).await?;
        }
        Ok(written)
    }

    /// Writes one taken scrape; on failure it goes back to the head of the queue.
    async fn write(&mut self, scrape: Scrape) -> Result<usize, StoreError> {
        match self.store.write_with_id(&scrape).await {
            Ok((n, last_id)) => {
                self.queue.written();
                if let Some(follower) = &self.follower
                    && n > 0
                {
                    follower.stored(&scrape, last_id, n as u64);
                }
                STORAGE.stored.inc_by(n as u64);
                if self.failing {
                    self.failing = false;
                    tracing::info!(
                        buffered = self.queue.total().samples,
                        "database is back; writing buffered samples"
                    );
                }
                Ok(n)
            }
            Err(e) => {
                self.queue.put_back(scrape);
                STORAGE.write_errors.inc();
                if !self.failing {
                    self.failing = true;
                    tracing::error!(
                        error = %e,
                        buffered = self.queue.total().samples,
                        "database write failed; buffering samples"
                    );
                }
                Err(e)
            }
        }
    }

    /// Runs the writer in a task of its own; returns the scraper's end of the buffer
    /// and the task, which ends once the hand-over is closed and the buffer written
    /// or the drain limit reached, with what it could not write (logged).
    pub fn start(self) -> (Handover, JoinHandle<Drained>) {
        (self.handover(), tokio::spawn(self.run()))
    }

    async fn run(mut self) -> Drained {
        let mut closed = self.queue.closed.subscribe();
        // Set once the hand-over closes: the end of the drain.
        let mut deadline: Option<Instant> = None;
        let mut timed_out: Option<Target> = None;
        loop {
            if deadline.is_none() && self.queue.is_closed() {
                deadline = Some(Instant::now() + self.drain_limit);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            let Some(scrape) = self.queue.take() else {
                if deadline.is_some() {
                    break;
                }
                tokio::select! {
                    () = self.queue.arrived.notified() => {}
                    _ = closed.wait_for(|c| *c) => {}
                }
                continue;
            };
            let target = scrape.target.clone();
            match self.write_within(scrape, &mut deadline, &mut closed).await {
                Some(Ok(_)) => {}
                Some(Err(_)) => {
                    let retry = Instant::now() + RETRY_EVERY;
                    let until = deadline.map_or(retry, |d| d.min(retry));
                    tokio::select! {
                        () = tokio::time::sleep_until(until) => {}
                        _ = closed.wait_for(|c| *c), if deadline.is_none() => {}
                    }
                }
                None => {
                    timed_out = Some(target);
                    break;
                }
            }
        }
        let drained = self.queue.abandon(timed_out);
        report(&drained);
        drained
    }

    /// Writes a taken scrape; once the hand-over is closed (before or during the
    /// write), only until the drain's `deadline`. `None` when the deadline cut the
    /// write: the transaction is rolled back and the scrape is lost.
    async fn write_within(
        &mut self,
        scrape: Scrape,
        deadline: &mut Option<Instant>,
        closed: &mut watch::Receiver<bool>,
    ) -> Option<Result<usize, StoreError>> {
        let drain_limit = self.drain_limit;
        let write = self.write(scrape);
        tokio::pin!(write);
        if deadline.is_none() {
            tokio::select! {
                result = &mut write => return Some(result),
                _ = closed.wait_for(|c| *c) => {
                    *deadline = Some(Instant::now() + drain_limit);
                }
            }
        }
        let until = (*deadline)?;
        tokio::time::timeout_at(until, write).await.ok()
    }
}

/// Logs what shutdown left unwritten, by target.
fn report(drained: &Drained) {
    if drained.unwritten.scrapes == 0 {
        tracing::info!("every buffered scrape is written");
        return;
    }
    let by_target: Vec<String> = drained
        .by_target
        .iter()
        .map(|(target, (scrapes, samples))| {
            format!("{target}: {scrapes} scrapes, {samples} samples")
        })
        .collect();
    tracing::error!(
        scrapes = drained.unwritten.scrapes,
        samples = drained.unwritten.samples,
        by_target = %by_target.join("; "),
        "shutdown: the drain limit passed; these buffered samples are not written (counted as dropped)"
    );
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;
    use crate::sample::Sample;

    fn scrape(port: u16, samples: usize) -> Scrape {
        Scrape {
            target: Target {
                host: "10.0.0.1".into(),
                port,
            },
            at: SystemTime::now(),
            samples: (0..samples)
                .map(|i| Sample {
                    name: "x_total".into(),
                    metric_type: keviq::MetricType::Counter,
                    labels: [("i", i.to_string())].into_iter().collect(),
                    value: 1.0,
                    timestamp_ms: None,
                })
                .collect(),
            exemplars: Vec::new(),
        }
    }

    fn ports(queue: &Queue) -> Vec<u16> {
        queue
            .lock()
            .waiting
            .iter()
            .map(|(s, _)| s.target.port)
            .collect()
    }

    #[test]
    fn the_bound_is_in_bytes_and_the_oldest_scrapes_make_room() {
        let size = Amount::of(&scrape(1, 100));
        let queue = Queue::new(3 * size.bytes);
        for port in 1..=3 {
            assert_eq!(
                queue.push(scrape(port, 100)),
                Admission::Queued {
                    evicted: Amount::default()
                }
            );
        }
        assert_eq!(queue.total().samples, 300);
        // One and a half times the size: the two oldest go, whole.
        let larger = Amount::of(&scrape(4, 150));
        assert!(size.bytes < larger.bytes && larger.bytes <= 2 * size.bytes);
        let Admission::Queued { evicted } = queue.push(scrape(4, 150)) else {
            panic!("queued")
        };
        assert_eq!((evicted.scrapes, evicted.samples), (2, 200));
        assert_eq!(ports(&queue), [3, 4]);
        assert_eq!(queue.total().samples, 250);
        assert!(queue.total().bytes <= queue.capacity);
    }

    #[test]
    fn the_scrape_being_written_counts_and_is_never_evicted() {
        let size = Amount::of(&scrape(1, 100));
        let queue = Queue::new(2 * size.bytes);
        queue.push(scrape(1, 100));
        let taken = queue.take().expect("a scrape");
        assert_eq!(
            queue.total().samples,
            100,
            "being written is still buffered"
        );
        queue.push(scrape(2, 100));
        // No room beside the one being written and the waiting one: the waiting
        // one goes, the one being written stays.
        let Admission::Queued { evicted } = queue.push(scrape(3, 100)) else {
            panic!("queued")
        };
        assert_eq!(evicted.scrapes, 1);
        assert_eq!(ports(&queue), [3]);
        // A failed write puts it back at the head.
        queue.put_back(taken);
        assert_eq!(ports(&queue), [1, 3]);
        assert_eq!(queue.total().samples, 200);
        let _ = queue.take();
        queue.written();
        assert_eq!(queue.total().samples, 100);
    }

    #[test]
    fn too_large_or_after_close_is_refused_and_the_rest_kept() {
        let queue = Queue::new(Amount::of(&scrape(1, 100)).bytes);
        queue.push(scrape(1, 100));
        assert_eq!(queue.push(scrape(2, 1_000)), Admission::Refused);
        assert_eq!(ports(&queue), [1]);
        queue.close();
        assert_eq!(queue.push(scrape(3, 1)), Admission::Refused);
        let drained = queue.abandon(None);
        assert_eq!(drained.unwritten.samples, 100);
        assert_eq!(drained.by_target["10.0.0.1:1"], (1, 100));
        assert_eq!(queue.total(), Amount::default());
    }

    #[test]
    fn the_estimate_covers_the_heap_the_scrape_holds() {
        // 100 samples of `x_total{i="n"}`: at least the structs, names and labels.
        let bytes = Amount::of(&scrape(1, 100)).bytes as usize;
        let floor = 100 * (std::mem::size_of::<Sample>() + "x_total".len() + 2 * 24 + 3);
        assert!(bytes > floor, "{bytes} <= {floor}");
        assert!(bytes < 4 * floor, "{bytes}");
    }
}
