//! Loom models of the runtime's lock-free primitives: the sharded counter, the
//! lazily allocated slots ([`Family`]'s dense series, a series' exemplar slot, a
//! histogram's bucket slots) and the exemplar slot's double buffer.
//!
//! Loom runs each model under every interleaving of its threads, and lets each
//! relaxed or acquire load read any value the memory model allows, so a missing
//! `Release`/`Acquire` pair shows up as a stale read, a lost increment or loom's
//! "causality violation" (an atomic used by a thread its creation does not
//! happen before). The primitives are built on loom's atomics only under
//! `--cfg loom`; without it this file is empty:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
//!     cargo test -p keviq-runtime --no-default-features --release --test loom
//! ```
//!
//! Under loom a sharded metric has 2 owned slots and 2 shared stripes (16 and 8
//! otherwise), so that three threads reach an owned slot, a slot handed over by a
//! thread that exited, and a shared stripe.
#![cfg(loom)]

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use keviq_runtime::encode::Encoder;
use keviq_runtime::{Counter, Exemplar, ExemplarLabels, Family, Histogram, LabeledCounter, Series};
use loom::sync::Arc;
use loom::thread;

/// Runs `f` under loom, with at most 3 preemptions per execution unless
/// `LOOM_MAX_PREEMPTIONS` says otherwise: unbounded, the counter models take
/// hours; bounded at 3 the whole file runs in seconds, and every weakened
/// ordering tried on the primitives failed at 2 already.
fn model(f: impl Fn() + Send + Sync + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound.get_or_insert(3);
    builder.check(f);
}

fn labels(id: &str) -> ExemplarLabels {
    ExemplarLabels::new([("id", id)]).expect("a short label set")
}

/// The `id` label of an exemplar, and its value.
fn seen(e: &Exemplar) -> (String, f64) {
    let id = e.labels.get("id").expect("an id label");
    (id.to_owned(), e.value)
}

#[test]
fn concurrent_increments_sum_exactly() {
    model(|| {
        let counter = Arc::new(Counter::new());
        // Three recording threads for two owned slots: one takes a shared stripe,
        // or the slot of a thread that has already exited.
        let threads: Vec<_> = [1, 10, 100]
            .into_iter()
            .map(|n| {
                let counter = counter.clone();
                thread::spawn(move || counter.inc_by(n))
            })
            .collect();
        // A concurrent read sees some of the increments, each whole.
        let read = counter.get();
        assert!(
            [0, 1, 10, 11, 100, 101, 110, 111].contains(&read),
            "read {read}"
        );
        for t in threads {
            t.join().expect("recording thread");
        }
        assert_eq!(counter.get(), 111);
    });
}

#[test]
fn a_thread_that_inherits_a_slot_sees_its_count() {
    model(|| {
        let counter = Arc::new(Counter::new());
        // Two threads take both owned slots; the one that exits first hands its
        // slot to the third (or the third takes a stripe).
        let first: Vec<_> = [1, 10]
            .into_iter()
            .map(|n| {
                let counter = counter.clone();
                thread::spawn(move || {
                    counter.inc_by(n);
                    counter.inc_by(n);
                })
            })
            .collect();
        let third = {
            let counter = counter.clone();
            thread::spawn(move || counter.inc_by(100))
        };
        for t in first {
            t.join().expect("recording thread");
        }
        third.join().expect("recording thread");
        assert_eq!(counter.get(), 122);
    });
}

/// Counts the series a family built and dropped.
#[derive(Debug, Default)]
struct Tally {
    built: AtomicUsize,
    dropped: AtomicUsize,
}

/// A series whose state is a loom atomic created in `create`: a thread that
/// reads it without the publication's happens-before is a causality violation.
#[derive(Debug)]
struct Tracked {
    tally: std::sync::Arc<Tally>,
    state: loom::sync::atomic::AtomicU64,
}

impl Series for Tracked {
    type Config = std::sync::Arc<Tally>;
    type Handle<'a> = &'a Tracked;
    fn create(tally: &Self::Config) -> Self {
        tally.built.fetch_add(1, Relaxed);
        Self {
            tally: tally.clone(),
            state: loom::sync::atomic::AtomicU64::new(7),
        }
    }
    fn handle<'a>(&'a self, _: &'a Self::Config) -> &'a Tracked {
        self
    }
    fn encode(&self, _: &Self::Config, _: &mut Encoder<'_>) {}
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.tally.dropped.fetch_add(1, Relaxed);
    }
}

#[test]
fn a_dense_series_is_created_once_and_never_leaks() {
    model(|| {
        let tally = std::sync::Arc::new(Tally::default());
        let family: Arc<Family<(bool,), Tracked>> =
            Arc::new(Family::new("loom_dense", tally.clone(), 10));
        // The series table itself is a `OnceLock`; build it before the race.
        family.get((false,));
        let racers: Vec<_> = (0..2)
            .map(|_| {
                let family = family.clone();
                thread::spawn(move || {
                    let series = family.get((true,));
                    // Initialised, whichever thread built it.
                    assert_eq!(series.state.load(Relaxed), 7);
                    std::ptr::from_ref(series) as usize
                })
            })
            .collect();
        let seen: Vec<usize> = racers
            .into_iter()
            .map(|t| t.join().expect("racing thread"))
            .collect();
        assert_eq!(seen[0], seen[1], "two series for one label set");
        assert_eq!(family.len(), 2);
        let built = tally.built.load(Relaxed);
        // One for `false`, one or two (a loser's) for `true`.
        assert!((2..=3).contains(&built), "built {built}");
        assert_eq!(tally.dropped.load(Relaxed), built - 2, "a loser leaked");
        drop(family);
        assert_eq!(tally.dropped.load(Relaxed), built, "a series leaked");
    });
}

#[test]
fn the_first_exemplars_share_one_slot() {
    model(|| {
        let counter = Arc::new(LabeledCounter::new());
        let histogram = Arc::new(Histogram::new([1.0]));
        let threads: Vec<_> = [("a", 1), ("b", 2)]
            .into_iter()
            .map(|(id, n)| {
                let counter = counter.clone();
                let histogram = histogram.clone();
                thread::spawn(move || {
                    counter.inc_by_with_exemplar(n, &labels(id));
                    histogram.observe_with_exemplar(n as f64, &labels(id));
                })
            })
            .collect();
        // A reader during the race finds no slot, or a published exemplar.
        if let Some(e) = counter.exemplar() {
            assert!(
                matches!(seen(&e), (id, v) if (id == "a" && v == 1.0) || (id == "b" && v == 2.0))
            );
        }
        for t in threads {
            t.join().expect("recording thread");
        }
        assert_eq!(counter.get(), 3);
        assert_eq!(histogram.count(), 2);
        // Each keeps one of the two; had each thread published its own slot, one
        // would have been lost and the other read without an exemplar.
        let e = counter.exemplar().expect("a counter exemplar");
        assert!(matches!(seen(&e), (id, v) if (id == "a" && v == 1.0) || (id == "b" && v == 2.0)));
        // Bucket 0 is `le="1.0"` (only "a"), bucket 1 is `+Inf` (only "b").
        assert_eq!(
            histogram.exemplar(0).map(|e| seen(&e)),
            Some(("a".into(), 1.0))
        );
        assert_eq!(
            histogram.exemplar(1).map(|e| seen(&e)),
            Some(("b".into(), 2.0))
        );
    });
}

/// The exemplar's id, checked against the value it was recorded with: ids of
/// one length, so that a label set torn between two recordings still decodes and
/// only the pairing with the value can tell.
fn whole(e: &Exemplar) -> String {
    let (id, value) = seen(e);
    let want = match id.as_str() {
        "a" => 1.0,
        "b" => 2.0,
        "c" => 3.0,
        "d" => 4.0,
        other => panic!("torn labels: {other:?}"),
    };
    assert_eq!(value, want, "torn exemplar: {id} with {value}");
    id
}

#[test]
fn a_read_never_sees_a_torn_exemplar() {
    model(|| {
        let counter = Arc::new(LabeledCounter::new());
        counter.inc_by_with_exemplar(1, &labels("a"));
        // The recorder writes the spare buffer, then the one it just left: the
        // one a reader that loaded the state before it may be reading.
        let recorder = {
            let counter = counter.clone();
            thread::spawn(move || {
                counter.inc_by_with_exemplar(2, &labels("b"));
                counter.inc_by_with_exemplar(3, &labels("c"));
            })
        };
        // `None` when every attempt raced (a render then leaves the exemplar out).
        if let Some(read) = counter.exemplar() {
            whole(&read);
        }
        recorder.join().expect("recording thread");
        assert_eq!(whole(&counter.exemplar().expect("an exemplar")), "c");
        assert_eq!(counter.get(), 6);
    });
}

#[test]
fn contending_recorders_keep_one_whole_exemplar() {
    model(|| {
        let counter = Arc::new(LabeledCounter::new());
        counter.inc_by_with_exemplar(1, &labels("a"));
        let recorders: Vec<_> = [(2, "b"), (3, "c"), (4, "d")]
            .into_iter()
            .map(|(n, id)| {
                let counter = counter.clone();
                thread::spawn(move || counter.inc_by_with_exemplar(n, &labels(id)))
            })
            .collect();
        for t in recorders {
            t.join().expect("recording thread");
        }
        // A recorder leaves its exemplar out only while another holds the slot,
        // or has just published: one of theirs is kept, whole. Three of them, so
        // that the one that rewrites the first one's buffer learns its sequence
        // number only through the second.
        let kept = whole(&counter.exemplar().expect("an exemplar"));
        assert!(kept != "a", "all three left their exemplar out");
        assert_eq!(counter.get(), 10);
    });
}
