//! The unsent backlog: what every remote still has to send, bounded in bytes.
//!
//! The backlog is an index of scrapes in the order they were taken, each a
//! [`Chunk`] with the id of its last sample, its sample count, estimated bytes and
//! time. Ids grow with every sample: with a local store they are the rows' ids in
//! `telemetry_core.metric_samples` and a chunk holds no samples (the sender reads them
//! back from the store, so nothing is kept twice); without one
//! (`TELEMETRY_DATABASE_URL=none`) the ids are counted here and each chunk holds its
//! scrape.
//!
//! Each remote has a cursor: the id of the last sample it has delivered (or dropped).
//! A chunk is forgotten once every cursor has passed it. When the chunks kept pass the
//! bound, the oldest go first: the remotes that had not sent them count them in
//! `mona_telemetry_remote_samples_dropped_total` and their cursors jump past them.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use tokio::sync::Notify;

use super::REMOTE;
use super::series::{Record, estimated_bytes};
use crate::clock::epoch_ms;
use crate::sample::Scrape;
use crate::writer::Follower;

/// One scrape in the backlog.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// The id of its last sample; its first follows the previous chunk's last.
    pub last_id: i64,
    /// Its samples.
    pub samples: u64,
    /// Their estimated bytes ([`super::series::estimated_bytes`]).
    pub bytes: u64,
    /// The scrape's time, milliseconds since the epoch.
    pub ts_ms: i64,
    /// The scrape itself, without a local store.
    pub record: Option<Arc<Record>>,
}

/// Chunks for one remote to send: those after its cursor, up to a sample count.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The remote's cursor when the batch was taken: the batch starts after it.
    pub after_id: i64,
    /// The chunks, oldest first.
    pub chunks: Vec<Chunk>,
}

impl Batch {
    /// The last id of the batch: the cursor once it is delivered.
    pub fn last_id(&self) -> i64 {
        self.chunks.last().map_or(self.after_id, |c| c.last_id)
    }

    /// Its samples.
    pub fn samples(&self) -> u64 {
        self.chunks.iter().map(|c| c.samples).sum()
    }
}

#[derive(Debug)]
struct Inner {
    chunks: VecDeque<Chunk>,
    bytes: u64,
    /// Per remote: delivered (or dropped) up to this id.
    cursors: Vec<i64>,
    /// Per remote: samples after its cursor.
    pending: Vec<u64>,
    /// The last id handed out or seen.
    last_id: i64,
}

/// The backlog shared by the scrape (or store) side and the remotes' senders.
#[derive(Debug)]
pub struct Backlog {
    inner: Mutex<Inner>,
    bound: u64,
    remotes: Vec<String>,
    changed: Notify,
}

impl Backlog {
    /// A backlog for `remotes` (their names, for the metrics), every cursor at
    /// `cursors[i]`, holding at most `bound` bytes, starting with `chunks` (a
    /// restart's unsent scrapes, read from the store).
    pub fn new(
        remotes: Vec<String>,
        cursors: Vec<i64>,
        bound: u64,
        chunks: Vec<Chunk>,
    ) -> Arc<Self> {
        let last_id = chunks
            .last()
            .map_or(0, |c| c.last_id)
            .max(cursors.iter().copied().max().unwrap_or(0));
        let pending = cursors
            .iter()
            .map(|&cursor| {
                chunks
                    .iter()
                    .filter(|c| c.last_id > cursor)
                    .map(|c| c.samples)
                    .sum()
            })
            .collect();
        let backlog = Arc::new(Self {
            inner: Mutex::new(Inner {
                bytes: chunks.iter().map(|c| c.bytes).sum(),
                chunks: chunks.into(),
                cursors,
                pending,
                last_id,
            }),
            bound,
            remotes,
            changed: Notify::new(),
        });
        {
            let mut inner = backlog.lock();
            backlog.enforce_bound(&mut inner);
            backlog.publish(&inner);
        }
        backlog
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The remotes' names.
    pub fn remotes(&self) -> &[String] {
        &self.remotes
    }

    /// Adds a scrape the store has written, its last row being `chunk.last_id`.
    pub fn push(&self, chunk: Chunk) {
        let mut inner = self.lock();
        inner.last_id = inner.last_id.max(chunk.last_id);
        inner.bytes += chunk.bytes;
        for pending in &mut inner.pending {
            *pending += chunk.samples;
        }
        inner.chunks.push_back(chunk);
        self.enforce_bound(&mut inner);
        self.publish(&inner);
        drop(inner);
        self.changed.notify_waiters();
    }

    /// Adds a scrape kept in memory (no local store), numbering its samples.
    pub fn push_record(&self, record: Record, bytes: u64) {
        let samples = record.samples.len() as u64;
        let last_id = self.lock().last_id + samples as i64;
        self.push(Chunk {
            last_id,
            samples,
            bytes,
            ts_ms: record.ts_ms,
            record: Some(Arc::new(record)),
        });
    }

    /// Drops the oldest chunks while the backlog is over its bound; every remote that
    /// had not sent a dropped chunk counts its samples as dropped.
    fn enforce_bound(&self, inner: &mut Inner) {
        while inner.bytes > self.bound {
            let Some(chunk) = inner.chunks.pop_front() else {
                break;
            };
            inner.bytes -= chunk.bytes;
            for (r, cursor) in inner.cursors.iter_mut().enumerate() {
                if *cursor < chunk.last_id {
                    *cursor = chunk.last_id;
                    inner.pending[r] = inner.pending[r].saturating_sub(chunk.samples);
                    let name = &self.remotes[r];
                    REMOTE.dropped.labels(name).inc_by(chunk.samples);
                    tracing::error!(
                        remote = %name,
                        samples = chunk.samples,
                        bound_bytes = self.bound,
                        "remote-write backlog over its bound: dropping the oldest unsent scrape"
                    );
                }
            }
        }
    }

    fn publish(&self, inner: &Inner) {
        let now = epoch_ms(SystemTime::now());
        for (r, name) in self.remotes.iter().enumerate() {
            REMOTE.pending.labels(name).set(inner.pending[r] as i64);
            let cursor = inner.cursors[r];
            let first = inner.chunks.partition_point(|c| c.last_id <= cursor);
            let lag = inner
                .chunks
                .get(first)
                .map_or(0.0, |c| (now - c.ts_ms).max(0) as f64 / 1000.0);
            REMOTE.lag.labels(name).set(lag);
        }
    }

    /// The chunks remote `r` has to send next, up to `max_samples` (at least one
    /// chunk); `None` when it is up to date.
    pub fn take(&self, r: usize, max_samples: u64) -> Option<Batch> {
        let inner = self.lock();
        let cursor = inner.cursors[r];
        let first = inner.chunks.partition_point(|c| c.last_id <= cursor);
        let mut chunks = Vec::new();
        let mut samples = 0;
        for chunk in inner.chunks.range(first..) {
            if !chunks.is_empty() && samples + chunk.samples > max_samples {
                break;
            }
            samples += chunk.samples;
            chunks.push(chunk.clone());
        }
        (!chunks.is_empty()).then_some(Batch {
            after_id: cursor,
            chunks,
        })
    }

    /// Whether remote `r`'s cursor is at or past `id`: a batch being retried was
    /// dropped under it by the bound.
    pub fn passed(&self, r: usize, id: i64) -> bool {
        self.lock().cursors[r] >= id
    }

    /// Remote `r` delivered (or gave up on) everything up to `id`.
    pub fn ack(&self, r: usize, id: i64) {
        let mut inner = self.lock();
        let cursor = inner.cursors[r];
        if id <= cursor {
            return;
        }
        let from = inner.chunks.partition_point(|c| c.last_id <= cursor);
        let to = inner.chunks.partition_point(|c| c.last_id <= id);
        let done: u64 = inner.chunks.range(from..to).map(|c| c.samples).sum();
        inner.pending[r] = inner.pending[r].saturating_sub(done);
        inner.cursors[r] = id;
        let slowest = inner.cursors.iter().copied().min().unwrap_or(id);
        while inner.chunks.front().is_some_and(|c| c.last_id <= slowest) {
            if let Some(c) = inner.chunks.pop_front() {
                inner.bytes -= c.bytes;
            }
        }
        self.publish(&inner);
    }

    /// Remote `r`'s cursor.
    pub fn cursor(&self, r: usize) -> i64 {
        self.lock().cursors[r]
    }

    /// Samples remote `r` has not sent.
    pub fn pending(&self, r: usize) -> u64 {
        self.lock().pending[r]
    }

    /// Bytes the backlog holds.
    pub fn bytes(&self) -> u64 {
        self.lock().bytes
    }

    /// Updates the lag gauges (the oldest unsent sample ages while nothing happens).
    pub fn refresh(&self) {
        self.publish(&self.lock());
    }

    /// Completes at the next push; call it, then check [`Backlog::take`] again.
    pub fn changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.changed.notified()
    }
}

/// The writer tells the backlog of every scrape it stored; the senders read the
/// scrape back from the store.
impl Follower for Backlog {
    fn stored(&self, scrape: &Scrape, last_id: i64, samples: u64) {
        self.push(Chunk {
            last_id,
            samples,
            bytes: scrape.samples.iter().map(estimated_bytes).sum(),
            ts_ms: epoch_ms(scrape.at),
            record: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(last_id: i64, samples: u64, bytes: u64) -> Chunk {
        Chunk {
            last_id,
            samples,
            bytes,
            ts_ms: 0,
            record: None,
        }
    }

    fn names(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("backlog-test-{i}-{}", std::process::id()))
            .collect()
    }

    #[test]
    fn batches_follow_each_cursor_and_chunks_go_once_everyone_sent_them() {
        let b = Backlog::new(names(2), vec![0, 0], 1_000, Vec::new());
        for i in 1..=4 {
            b.push(chunk(i * 10, 10, 100));
        }
        let batch = b.take(0, 25).expect("pending");
        assert_eq!(
            (batch.after_id, batch.last_id(), batch.samples()),
            (0, 20, 20)
        );
        b.ack(0, batch.last_id());
        assert_eq!((b.pending(0), b.pending(1)), (20, 40));
        assert_eq!(b.bytes(), 400, "remote 1 has sent nothing yet");
        b.ack(1, 30);
        assert_eq!(b.bytes(), 200);
        // A chunk larger than the batch is still taken, alone.
        assert_eq!(b.take(0, 1).expect("pending").samples(), 10);
        b.ack(0, 40);
        b.ack(1, 40);
        assert!(b.take(0, 100).is_none());
        assert_eq!(b.bytes(), 0);
    }

    #[test]
    fn past_the_bound_the_oldest_are_dropped_and_counted() {
        let remotes = names(2);
        let b = Backlog::new(remotes.clone(), vec![0, 0], 250, Vec::new());
        b.push(chunk(10, 10, 100));
        b.ack(1, 10);
        b.push(chunk(20, 10, 100));
        b.push(chunk(30, 10, 100));
        // 300 bytes > 250: the first chunk goes; only remote 0 had not sent it.
        assert_eq!(REMOTE.dropped.labels(&remotes[0]).get(), 10);
        assert_eq!(REMOTE.dropped.labels(&remotes[1]).get(), 0);
        assert_eq!((b.cursor(0), b.pending(0)), (10, 20));
        assert!(b.passed(0, 10));
        assert_eq!(b.take(0, 100).expect("pending").after_id, 10);
    }

    #[test]
    fn records_in_memory_are_numbered() {
        let b = Backlog::new(names(1), vec![0], 1 << 20, Vec::new());
        let record = |n| Record {
            instance: "h:1".into(),
            ts_ms: 5,
            samples: vec![
                crate::sample::Sample {
                    name: "up".into(),
                    metric_type: keviq::MetricType::Gauge,
                    labels: crate::sample::Labels::new(),
                    value: 1.0,
                    timestamp_ms: None,
                };
                n
            ],
        };
        b.push_record(record(3), 10);
        b.push_record(record(2), 10);
        let batch = b.take(0, 100).expect("pending");
        assert_eq!(
            batch.chunks.iter().map(|c| c.last_id).collect::<Vec<_>>(),
            [3, 5]
        );
        assert!(batch.chunks[0].record.is_some());
    }
}
