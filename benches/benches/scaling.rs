//! How each cost grows with the work (issue 14, item 6), one criterion group per
//! table, group and case names chosen so `scripts/bench-plot` can draw a curve per
//! library:
//!
//! - `threads_inc/<library>/<threads>`: one unlabeled counter, 1, 2, 16 and 64 threads
//!   incrementing it; aggregate nanoseconds per increment (wall time / total
//!   increments). On a machine with fewer cores than threads, this measures
//!   oversubscription as much as contention: read the 64-thread row on a machine
//!   with 64 cores for the full picture.
//! - `lookup_scaling/<library>/<distinct>`: a free-form `(method, path, status)`
//!   lookup plus increment, cycling through 10, 1,000 and 100,000 distinct label
//!   sets in a shuffled order (so the larger sets miss the caches as a service with
//!   that many series would).
//! - `lookup_10k_paths/<library>/10000`: the same over 10,000 distinct paths (one
//!   method, one status): the free-form case of issue 14, item 1, with cache misses.
//! - `render_scaling/<library>/<series>`: rendering 1,000 to 1,000,000 counter series
//!   with three labels, for keviq, measured and prometheus-client (the two best
//!   render peers of `metrics`), fastmetrics, and prometheus up to 100,000. Before
//!   each size is timed, the bench prints the heap bytes each library holds for
//!   those series (`render_scaling_memory ...`), measured with a counting global
//!   allocator.
//!
//! `fastmetrics` 0.7 is a peer in every group.
//!
//! `KEVIQ_SCALING_MAX` (default 1,000,000) caps the largest render size, for a quick
//! run. Run with `cargo bench -p keviq-benches --bench scaling`.

use keviq_benches::peers::{
    FmLabels, FmMethod, MMethod, MRender, MReq, MReqSet, MStatus, PcLabels, PcMethod,
};
use keviq_benches::{CountingAlloc, heap_of, n_threads};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use keviq_runtime::{
    Counter, Descriptor, Family, Format, HttpMethod, LabeledCounter, MetricType, Registration,
    Registry, Site, Str,
};
use measured::MetricGroup as _;

// ---------------------------------------------------------------------------
// Heap accounting (`keviq_benches::heap_of`)
// ---------------------------------------------------------------------------

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

// ---------------------------------------------------------------------------
// Label sets
// ---------------------------------------------------------------------------

const M_METHODS: [MMethod; 4] = [MMethod::Get, MMethod::Post, MMethod::Put, MMethod::Delete];
const M_STATUSES: [MStatus; 2] = [MStatus::Ok, MStatus::NotFound];

const METHODS: [(HttpMethod, &str, PcMethod, FmMethod); 4] = [
    (HttpMethod::Get, "GET", PcMethod::GET, FmMethod::Get),
    (HttpMethod::Post, "POST", PcMethod::POST, FmMethod::Post),
    (HttpMethod::Put, "PUT", PcMethod::PUT, FmMethod::Put),
    (
        HttpMethod::Delete,
        "DELETE",
        PcMethod::DELETE,
        FmMethod::Delete,
    ),
];
const STATUSES: [(u16, &str); 2] = [(200, "200"), (404, "404")];

/// `n` distinct `(method, path, status)` sets: `n / 8` paths x 4 methods x 2
/// statuses (at least one path), in a fixed shuffled order.
fn label_sets(n: usize) -> LabelSets {
    let paths = n.div_ceil(8).max(1);
    let mut out = Vec::with_capacity(paths * 8);
    for p in 0..paths {
        let path = format!("/api/v1/tenants/{p}/items");
        for m in 0..4 {
            for s in 0..2 {
                out.push((m, path.clone(), s));
            }
        }
    }
    out.truncate(n);
    // Fisher-Yates with a fixed xorshift seed: the same order every run.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for i in (1..out.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.swap(i, (x % (i as u64 + 1)) as usize);
    }
    out
}

/// A keviq family with room for `cap` series, registered under `name`.
fn keviq_family(
    name: &'static str,
    cap: usize,
) -> (
    &'static Family<(HttpMethod, Str, u16), LabeledCounter>,
    &'static Registration,
) {
    let family: &'static Family<(HttpMethod, Str, u16), LabeledCounter> =
        Box::leak(Box::new(Family::new(name, (), cap)));
    let reg: &'static Registration = Box::leak(Box::new(Registration::new(
        Descriptor::new(
            name,
            "Requests served",
            MetricType::Counter,
            &["method", "path", "status"],
            Site {
                file: file!(),
                line: line!(),
            },
        ),
        family,
    )));
    (family, reg)
}

// ---------------------------------------------------------------------------
// threads_inc
// ---------------------------------------------------------------------------

const THREADS: [usize; 4] = [1, 2, 16, 64];

static FLOOR: AtomicU64 = AtomicU64::new(0);

fn threads_inc(c: &mut Criterion) {
    let mut g = c.benchmark_group("threads_inc");
    static KEVIQ: Counter = Counter::new();
    let prom = prometheus::IntCounter::new("bench_threads_total", "help").expect("counter");
    let pc: prometheus_client::metrics::counter::Counter = Default::default();
    let measured = measured::Counter::new();
    let fm: fastmetrics::metrics::counter::Counter = Default::default();
    for n in THREADS {
        let mut case = |name: &str, f: &(dyn Fn() + Sync)| {
            g.bench_function(BenchmarkId::new(name, n), |b| {
                b.iter_custom(|iters| n_threads(n, iters, f))
            });
        };
        case("keviq", &|| black_box(&KEVIQ).inc());
        case("prometheus", &|| black_box(&prom).inc());
        case("prometheus_client", &|| {
            black_box(&pc).inc();
        });
        case("measured", &|| black_box(&measured).inc());
        case("fastmetrics", &|| black_box(&fm).inc());
        // One atomic for everyone: what keviq's threads beyond the 16 owned slots
        // paid when they shared a single slot.
        case("floor", &|| {
            black_box(&FLOOR).fetch_add(1, Relaxed);
        });
    }
    g.finish();
}

// ---------------------------------------------------------------------------
// lookup_scaling
// ---------------------------------------------------------------------------

const DISTINCT: [usize; 3] = [10, 1_000, 100_000];

fn lookup_scaling(c: &mut Criterion) {
    let cases = DISTINCT.iter().map(|&n| (n, label_sets(n))).collect();
    lookup_group(c, "lookup_scaling", cases);
}

/// The second free-form case: 10,000 distinct paths (one method and
/// status), rotating in a shuffled order, so most lookups miss the L1 and L2 caches.
fn lookup_10k_paths(c: &mut Criterion) {
    let mut sets: LabelSets = label_sets(80_000)
        .into_iter()
        .filter(|(m, _, s)| *m == 0 && *s == 0)
        .collect();
    sets.truncate(10_000);
    assert_eq!(sets.len(), 10_000);
    lookup_group(c, "lookup_10k_paths", vec![(10_000, sets)]);
}

/// Label sets as `(method index, path, status index)`.
type LabelSets = Vec<(usize, String, usize)>;

fn lookup_group(c: &mut Criterion, name: &str, cases: Vec<(usize, LabelSets)>) {
    let mut g = c.benchmark_group(name);
    g.sample_size(20);
    for (n, sets) in cases {
        let mut i = 0usize;
        let mut next = || {
            let s = &sets[i];
            i = if i + 1 == sets.len() { 0 } else { i + 1 };
            s
        };

        let (keviq, _) = keviq_family("bench_lookup_total", n * 2);
        g.bench_function(BenchmarkId::new("keviq", n), |b| {
            b.iter(|| {
                let (m, path, s) = black_box(next());
                keviq
                    .get((METHODS[*m].0, path.as_str(), STATUSES[*s].0))
                    .inc();
            })
        });

        let prom = prometheus::IntCounterVec::new(
            prometheus::Opts::new("bench_lookup_total", "help"),
            &["method", "path", "status"],
        )
        .expect("counter vec");
        g.bench_function(BenchmarkId::new("prometheus", n), |b| {
            b.iter(|| {
                let (m, path, s) = black_box(next());
                prom.with_label_values(&[METHODS[*m].1, path, STATUSES[*s].1])
                    .inc();
            })
        });

        // prometheus-client's family is keyed by an owned label set: a lookup
        // builds one (a `String` clone), as a service with free-form paths must.
        let pc = prometheus_client::metrics::family::Family::<
            PcLabels,
            prometheus_client::metrics::counter::Counter,
        >::default();
        g.bench_function(BenchmarkId::new("prometheus_client", n), |b| {
            b.iter(|| {
                let (m, path, s) = black_box(next());
                pc.get_or_create(&PcLabels {
                    method: METHODS[*m].2,
                    path: path.clone(),
                    status: STATUSES[*s].0,
                })
                .inc();
            })
        });

        let fm = fastmetrics::metrics::family::Family::<
            FmLabels,
            fastmetrics::metrics::counter::Counter,
        >::default();
        g.bench_function(BenchmarkId::new("fastmetrics", n), |b| {
            b.iter(|| {
                let (m, path, s) = black_box(next());
                fm.with_or_new(
                    &FmLabels {
                        method: METHODS[*m].3,
                        path: path.clone(),
                        status: STATUSES[*s].0,
                    },
                    |c| c.inc(),
                );
            })
        });
    }
    g.finish();
}

// ---------------------------------------------------------------------------
// render_scaling
// ---------------------------------------------------------------------------

fn render_sizes() -> Vec<usize> {
    let max = std::env::var("KEVIQ_SCALING_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000usize);
    [1_000, 10_000, 100_000, 1_000_000]
        .into_iter()
        .filter(|&n| n <= max)
        .collect()
}

fn render_scaling(c: &mut Criterion) {
    let mut g = c.benchmark_group("render_scaling");
    g.sample_size(10);
    let value = |i: usize| (i % 97) as u64 + 1;
    for n in render_sizes() {
        let sets = label_sets(n);

        // keviq
        let ((family, reg), keviq_bytes) = heap_of(|| {
            let (family, reg) = keviq_family("bench_http_requests_total", n);
            for (i, (m, path, s)) in sets.iter().enumerate() {
                family
                    .get((METHODS[*m].0, path.as_str(), STATUSES[*s].0))
                    .inc_by(value(i));
            }
            (family, reg)
        });
        let _ = family;
        let keviq = Registry::from_registrations([reg]).expect("registry");
        let keviq_render = || keviq.render(Format::Prometheus);

        // prometheus-client
        let ((pc_registry, pc), pc_bytes) = heap_of(|| {
            let mut registry = prometheus_client::registry::Registry::default();
            let pc = prometheus_client::metrics::family::Family::<
                PcLabels,
                prometheus_client::metrics::counter::Counter,
            >::default();
            registry.register("bench_http_requests", "Requests served", pc.clone());
            for (i, (m, path, s)) in sets.iter().enumerate() {
                pc.get_or_create(&PcLabels {
                    method: METHODS[*m].2,
                    path: path.clone(),
                    status: STATUSES[*s].0,
                })
                .inc_by(value(i));
            }
            (registry, pc)
        });
        let pc_render = || {
            let mut out = String::new();
            prometheus_client::encoding::text::encode(&mut out, &pc_registry).expect("encode");
            out
        };

        // prometheus
        let ((prom_registry, prom), prom_bytes) = heap_of(|| {
            let registry = prometheus::Registry::new();
            let prom = prometheus::IntCounterVec::new(
                prometheus::Opts::new("bench_http_requests_total", "Requests served"),
                &["method", "path", "status"],
            )
            .expect("counter vec");
            registry.register(Box::new(prom.clone())).expect("register");
            for (i, (m, path, s)) in sets.iter().enumerate() {
                prom.with_label_values(&[METHODS[*m].1, path, STATUSES[*s].1])
                    .inc_by(value(i));
            }
            (registry, prom)
        });
        let prom_render = || {
            let mut out = String::new();
            prometheus::TextEncoder::new()
                .encode_utf8(&prom_registry.gather(), &mut out)
                .expect("encode");
            out
        };

        // fastmetrics
        let ((fm_registry, fm), fm_bytes) = heap_of(|| {
            let mut registry = fastmetrics::registry::Registry::default();
            let fm = fastmetrics::metrics::family::Family::<
                FmLabels,
                fastmetrics::metrics::counter::Counter,
            >::default();
            registry
                .register("bench_http_requests", "Requests served", fm.clone())
                .expect("register");
            for (i, (m, path, s)) in sets.iter().enumerate() {
                fm.with_or_new(
                    &FmLabels {
                        method: METHODS[*m].3,
                        path: path.clone(),
                        status: STATUSES[*s].0,
                    },
                    |c| c.inc_by(value(i)),
                );
            }
            (registry, fm)
        });
        let fm_render = || {
            let mut out = String::new();
            fastmetrics::format::text::encode(
                &mut out,
                &fm_registry,
                fastmetrics::format::text::TextProfile::default(),
            )
            .expect("encode");
            out
        };

        // measured
        let (measured, measured_bytes) = heap_of(|| {
            let measured = MRender {
                bench_http_requests_total: measured::CounterVec::with_label_set(MReqSet::default()),
            };
            for (i, (m, path, s)) in sets.iter().enumerate() {
                measured.bench_http_requests_total.inc_by(
                    MReq {
                        method: M_METHODS[*m],
                        path,
                        status: M_STATUSES[*s],
                    },
                    value(i),
                );
            }
            measured
        });
        let mut measured_enc = measured::text::BufferedTextEncoder::new();
        let mut measured_render = move || {
            let Ok(()) = measured.collect_group_into(&mut measured_enc);
            measured_enc.finish()
        };

        let per = |b: i64| b as f64 / n as f64;
        println!(
            "render_scaling_memory series={n} keviq={:.1}B/series prometheus_client={:.1}B/series prometheus={:.1}B/series fastmetrics={:.1}B/series measured={:.1}B/series",
            per(keviq_bytes),
            per(pc_bytes),
            per(prom_bytes),
            per(fm_bytes),
            per(measured_bytes),
        );

        let bytes = keviq_render().len() as u64;
        g.throughput(Throughput::Bytes(bytes));
        g.bench_function(BenchmarkId::new("keviq", n), |b| b.iter(keviq_render));
        g.bench_function(BenchmarkId::new("prometheus_client", n), |b| {
            b.iter(pc_render)
        });
        g.bench_function(BenchmarkId::new("fastmetrics", n), |b| b.iter(fm_render));
        g.bench_function(BenchmarkId::new("measured", n), |b| {
            b.iter(&mut measured_render)
        });
        // prometheus renders 10x slower than the others: past 100,000 series one
        // sample takes seconds, so it stops there.
        if n <= 100_000 {
            g.bench_function(BenchmarkId::new("prometheus", n), |b| b.iter(prom_render));
        }
        drop((pc, prom, fm));
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = threads_inc, lookup_scaling, lookup_10k_paths, render_scaling
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
