//! keviq against the usual Rust Prometheus crates, case by case, in one run.
//!
//! Every group measures keviq, `prometheus`, `prometheus-client`, `metrics` (with
//! `metrics-exporter-prometheus`) and `measured`, plus `floor`: a raw
//! `AtomicU64::fetch_add(1, Relaxed)` on a static, the physical lower bound of
//! "count one event". `fastmetrics` 0.7 is in `labeled_inc`, `histogram_observe`,
//! `contended_inc`, `render_10k` and the heap report.
//!
//! `counter_inc`, `labeled_inc` and `histogram_observe` also record with an
//! exemplar (`*_with_exemplar`: a prepared 36-character `request_id` label, stamped
//! with the time of recording), against prometheus-client's `CounterWithExemplar`
//! and `HistogramWithExemplars` given the same label and a timestamp; the plain
//! `keviq` cases show that recording without one costs what it did.
//!
//! Before criterion starts, `main` prints the heap cost of a string-labeled series
//! (`heap_bytes_per_series ...`), measured with a counting global allocator.
//!
//! Run with `cargo bench --bench metrics`.

use keviq_benches::peers::{
    FmLabels, FmMethod, MMethod, MRender, MReq, MReqSet, MStatus, PcLabels, PcMethod,
};
use keviq_benches::{CountingAlloc, heap_of, n_threads};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use criterion::{Bencher, Criterion, Throughput, criterion_group};
use http::StatusCode;
use keviq_runtime::{
    Counter, Descriptor, ExemplarLabels, Family, Format, Histogram, HistogramCell, HttpMethod,
    LabelValue, LabeledCounter, MetricType, Registration, Registry, Site, Str,
};
use measured::MetricGroup as _;
use measured::label::StaticLabelSet;
use measured::lasso::{Rodeo, RodeoReader};
use measured::metric::histogram::Thresholds;
use measured::text::BufferedTextEncoder;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use prometheus_client::encoding::EncodeLabelSet;

// ---------------------------------------------------------------------------
// Heap accounting
// ---------------------------------------------------------------------------

/// `System`, counting the bytes currently allocated while `COUNTING` is on.
#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

// ---------------------------------------------------------------------------
// Shared data
// ---------------------------------------------------------------------------

static FLOOR_COUNTER: AtomicU64 = AtomicU64::new(0);
static FLOOR_CONTENDED: AtomicU64 = AtomicU64::new(0);
static FLOOR_HISTOGRAM: AtomicU64 = AtomicU64::new(0);
/// One per label combination of `labeled_inc`, so the floor pays for the rotation too.
static FLOOR_LABELED: [AtomicU64; COMBOS] = [const { AtomicU64::new(0) }; COMBOS];

/// Prometheus' default buckets: 11 bounds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Observations spread over every bucket, `+Inf` included.
const OBSERVATIONS: [f64; 16] = [
    0.001, 0.007, 0.02, 0.04, 0.08, 0.2, 0.4, 0.9, 2.0, 4.0, 8.0, 20.0, 0.003, 0.3, 3.0, 0.06,
];

const COMBOS: usize = 20;
const ROUTES: [&str; 5] = [
    "/api/v1/users",
    "/api/v1/users/{id}",
    "/api/v1/orders",
    "/api/v1/orders/{id}",
    "/healthz",
];

/// The route template as a fixed-cardinality keviq label (what
/// `#[derive(keviq::LabelValue)]` generates, written by hand).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Users,
    User,
    Orders,
    Order,
    Health,
}

impl Route {
    const ALL: [Route; 5] = [
        Route::Users,
        Route::User,
        Route::Orders,
        Route::Order,
        Route::Health,
    ];
}

impl LabelValue for Route {
    const CARDINALITY: Option<usize> = Some(5);
    type Arg<'a> = Route;
    #[inline(always)]
    fn index(arg: &Route) -> usize {
        *arg as usize
    }
    fn name(index: usize) -> &'static str {
        ROUTES.get(index).copied().unwrap_or("")
    }
}

/// The request ID every `*_with_exemplar` case records (a UUID's length).
const EXEMPLAR_ID: &str = "6f1c2b0e-9a57-4c43-8b8f-8d6d3c1f2a10";

/// keviq's exemplar label set, built once as a service builds it per request.
fn keviq_exemplar() -> ExemplarLabels {
    ExemplarLabels::new([("request_id", EXEMPLAR_ID)]).expect("within budget")
}

/// The same label set for `prometheus-client`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PcExemplar {
    request_id: &'static str,
}

/// `measured` label group whose paths are all known up front.
#[derive(Debug, Clone, Copy, measured::LabelGroup)]
#[label(set = MReqFixedSet)]
struct MReqFixed<'a> {
    method: MMethod,
    #[label(fixed_with = RodeoReader)]
    path: &'a str,
    status: MStatus,
}

/// `prometheus-client` labels on the hot path (static paths: no allocation per call).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PcLabelsStatic {
    method: PcMethod,
    path: &'static str,
    status: u16,
}

/// `fastmetrics` labels on the hot path (static paths: no allocation per call).
#[derive(Debug, Clone, Hash, PartialEq, Eq, fastmetrics::derive::LabelSet)]
struct FmLabelsStatic {
    method: FmMethod,
    path: &'static str,
    status: u16,
}

/// One label combination, in the shape each library takes it.
#[derive(Debug, Clone, Copy)]
struct Combo {
    method: HttpMethod,
    method_str: &'static str,
    pc_method: PcMethod,
    m_method: MMethod,
    fm_method: FmMethod,
    route: Route,
    path: &'static str,
    status: u16,
    status_code: StatusCode,
    status_str: &'static str,
    m_status: MStatus,
}

fn combos() -> Vec<Combo> {
    let methods = [
        (
            HttpMethod::Get,
            "GET",
            PcMethod::GET,
            MMethod::Get,
            FmMethod::Get,
        ),
        (
            HttpMethod::Post,
            "POST",
            PcMethod::POST,
            MMethod::Post,
            FmMethod::Post,
        ),
    ];
    let statuses = [
        (200u16, StatusCode::OK, "200", MStatus::Ok),
        (404u16, StatusCode::NOT_FOUND, "404", MStatus::NotFound),
    ];
    let mut out = Vec::with_capacity(COMBOS);
    for route in Route::ALL {
        for &(method, method_str, pc_method, m_method, fm_method) in &methods {
            for &(status, status_code, status_str, m_status) in &statuses {
                out.push(Combo {
                    method,
                    method_str,
                    pc_method,
                    m_method,
                    fm_method,
                    route,
                    path: ROUTES[route as usize],
                    status,
                    status_code,
                    status_str,
                    m_status,
                });
            }
        }
    }
    assert_eq!(out.len(), COMBOS);
    out
}

/// Four methods, as each library spells them, for the many-series cases.
const METHODS4: [(HttpMethod, &str, PcMethod, MMethod); 4] = [
    (HttpMethod::Get, "GET", PcMethod::GET, MMethod::Get),
    (HttpMethod::Post, "POST", PcMethod::POST, MMethod::Post),
    (HttpMethod::Put, "PUT", PcMethod::PUT, MMethod::Put),
    (
        HttpMethod::Delete,
        "DELETE",
        PcMethod::DELETE,
        MMethod::Delete,
    ),
];
/// The same four methods for `fastmetrics`.
const FM_METHODS4: [FmMethod; 4] = [
    FmMethod::Get,
    FmMethod::Post,
    FmMethod::Put,
    FmMethod::Delete,
];
const STATUS2: [(u16, &str, MStatus); 2] =
    [(200, "200", MStatus::Ok), (404, "404", MStatus::NotFound)];

/// A rotating index over `n` entries.
struct Rotor {
    i: usize,
    n: usize,
}

impl Rotor {
    fn new(n: usize) -> Self {
        Self { i: 0, n }
    }
    #[inline(always)]
    fn next(&mut self) -> usize {
        let i = self.i;
        self.i = if i + 1 == self.n { 0 } else { i + 1 };
        i
    }
}

/// The process-wide `metrics` recorder (the way applications use the crate), with
/// histogram buckets so histograms render as histograms, not summaries.
fn metrics_global() -> &'static PrometheusHandle {
    static HANDLE: std::sync::OnceLock<PrometheusHandle> = std::sync::OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&BUCKETS)
            .expect("buckets")
            .build_recorder();
        let handle = recorder.handle();
        metrics::set_global_recorder(recorder).expect("global recorder set once");
        handle
    })
}

/// A private `metrics` recorder, for cases that must not see other cases' metrics.
fn metrics_local() -> PrometheusRecorder {
    PrometheusBuilder::new().build_recorder()
}

// ---------------------------------------------------------------------------
// 1. counter_inc
// ---------------------------------------------------------------------------

fn counter_inc(c: &mut Criterion) {
    let mut g = c.benchmark_group("counter_inc");

    static KEVIQ: Counter = Counter::new();
    g.bench_function("keviq", |b| b.iter(|| black_box(&KEVIQ).inc()));

    static KEVIQ_EXEMPLAR: Counter = Counter::new();
    let exemplar = keviq_exemplar();
    g.bench_function("keviq_with_exemplar", |b| {
        b.iter(|| black_box(&KEVIQ_EXEMPLAR).inc_with_exemplar(black_box(&exemplar)))
    });

    let pc_exemplar: prometheus_client::metrics::exemplar::CounterWithExemplar<PcExemplar> =
        Default::default();
    g.bench_function("prometheus_client_with_exemplar", |b| {
        b.iter(|| {
            black_box(&pc_exemplar).inc_by(
                1,
                Some(PcExemplar {
                    request_id: black_box(EXEMPLAR_ID),
                }),
                Some(std::time::SystemTime::now()),
            );
        })
    });

    let prom = prometheus::IntCounter::new("bench_counter_total", "help").expect("counter");
    g.bench_function("prometheus", |b| b.iter(|| black_box(&prom).inc()));

    let pc: prometheus_client::metrics::counter::Counter = Default::default();
    g.bench_function("prometheus_client", |b| {
        b.iter(|| {
            black_box(&pc).inc();
        })
    });

    metrics_global();
    let handle = metrics::counter!("bench_counter_total");
    g.bench_function("metrics", |b| b.iter(|| black_box(&handle).increment(1)));
    g.bench_function("metrics_macro", |b| {
        b.iter(|| metrics::counter!("bench_counter_macro_total").increment(1))
    });

    let measured = measured::Counter::new();
    g.bench_function("measured", |b| b.iter(|| black_box(&measured).inc()));

    g.bench_function("floor", |b| {
        b.iter(|| black_box(&FLOOR_COUNTER).fetch_add(1, Relaxed))
    });
    g.finish();
}

// ---------------------------------------------------------------------------
// 1b. counter_inc_call_site
// ---------------------------------------------------------------------------

/// Counters a call site picks from at run time (`CALL_SITES` of them).
const CALL_SITES: usize = 8;

static FLOOR_CALL_SITE: [AtomicU64; CALL_SITES] = [const { AtomicU64::new(0) }; CALL_SITES];

/// A handler's own work: a short xorshift chain the compiler cannot fold.
#[inline(always)]
fn handler_work(mut x: u64) -> u64 {
    for _ in 0..4 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x
}

/// A call site as a service has one: an out-of-line handler that does some work and
/// increments a counter it was handed at run time. Out of line, so the thread-local
/// read and the address computation cannot be hoisted out of criterion's loop;
/// picked at run time, so successive increments do not form one store-to-load chain
/// the core can rename away; `inc` false gives the same handler without the
/// increment, whose time is subtracted to get what the increment adds.
#[inline(never)]
fn call_site<F: Fn(usize)>(x: u64, pick: usize, inc: bool, f: &F) -> u64 {
    let y = handler_work(x);
    if inc {
        f(pick);
    }
    y
}

fn run_call_site<F: Fn(usize)>(b: &mut Bencher<'_>, inc: bool, f: F) {
    run_call_site_over(b, CALL_SITES, inc, f)
}

/// `run_call_site` over the first `n` counters; `n = 1` chains every increment on
/// the previous one through memory (the call site in a loop).
fn run_call_site_over<F: Fn(usize)>(b: &mut Bencher<'_>, n: usize, inc: bool, f: F) {
    let mut r = Rotor::new(n);
    b.iter(|| {
        call_site(
            black_box(0x9e37_79b9_7f4a_7c15),
            black_box(r.next()),
            inc,
            &f,
        )
    })
}

/// The unlabeled increment as a real call site pays it (see [`call_site`]). Subtract
/// `work_only` from each case for the increment's own cost.
fn counter_inc_call_site(c: &mut Criterion) {
    let mut g = c.benchmark_group("counter_inc_call_site");

    g.bench_function("work_only", |b| run_call_site(b, false, |_| {}));

    static KEVIQ: [Counter; CALL_SITES] = [const { Counter::new() }; CALL_SITES];
    g.bench_function("keviq", |b| run_call_site(b, true, |i| KEVIQ[i].inc()));
    g.bench_function("keviq_same_counter", |b| {
        run_call_site_over(b, 1, true, |i| KEVIQ[i].inc())
    });

    let prom: Vec<prometheus::IntCounter> = (0..CALL_SITES)
        .map(|_| prometheus::IntCounter::new("bench_call_site_total", "help").expect("counter"))
        .collect();
    g.bench_function("prometheus", |b| run_call_site(b, true, |i| prom[i].inc()));

    let pc: Vec<prometheus_client::metrics::counter::Counter> =
        (0..CALL_SITES).map(|_| Default::default()).collect();
    g.bench_function("prometheus_client", |b| {
        run_call_site(b, true, |i| {
            pc[i].inc();
        })
    });

    metrics_global();
    let handles: Vec<metrics::Counter> = (0..CALL_SITES)
        .map(|i| metrics::counter!(format!("bench_call_site_{i}_total")))
        .collect();
    g.bench_function("metrics", |b| {
        run_call_site(b, true, |i| handles[i].increment(1))
    });

    let measured: Vec<measured::Counter> =
        (0..CALL_SITES).map(|_| measured::Counter::new()).collect();
    g.bench_function("measured", |b| {
        run_call_site(b, true, |i| measured[i].inc())
    });

    g.bench_function("floor", |b| {
        run_call_site(b, true, |i| {
            FLOOR_CALL_SITE[i].fetch_add(1, Relaxed);
        })
    });
    g.bench_function("floor_same_counter", |b| {
        run_call_site_over(b, 1, true, |i| {
            FLOOR_CALL_SITE[i].fetch_add(1, Relaxed);
        })
    });
    g.finish();
}

// ---------------------------------------------------------------------------
// 2. labeled_inc
// ---------------------------------------------------------------------------

fn labeled_inc(c: &mut Criterion) {
    let mut g = c.benchmark_group("labeled_inc");
    let combos = combos();
    let combos = combos.as_slice();

    // Every label fixed-cardinality: a dense array, indexed without hashing.
    static TYPED: Family<(HttpMethod, Route, StatusCode), LabeledCounter> =
        Family::new("bench_typed_total", (), 10_000);
    g.bench_function("keviq_typed", |b| {
        let mut r = Rotor::new(COMBOS);
        b.iter(|| {
            let c = black_box(&combos[r.next()]);
            TYPED.get((c.method, c.route, c.status_code)).inc();
        })
    });
    static TYPED_EXEMPLAR: Family<(HttpMethod, Route, StatusCode), LabeledCounter> =
        Family::new("bench_typed_exemplar_total", (), 10_000);
    let exemplar = keviq_exemplar();
    g.bench_function("keviq_typed_with_exemplar", |b| {
        let mut r = Rotor::new(COMBOS);
        b.iter(|| {
            let c = black_box(&combos[r.next()]);
            TYPED_EXEMPLAR
                .get((c.method, c.route, c.status_code))
                .inc_with_exemplar(black_box(&exemplar));
        })
    });

    // Free-form path: hashed key in the concurrent index.
    static STR: Family<(HttpMethod, Str, u16), LabeledCounter> =
        Family::new("bench_str_total", (), 10_000);
    g.bench_function("keviq_str", |b| {
        let mut r = Rotor::new(COMBOS);
        b.iter(|| {
            let c = black_box(&combos[r.next()]);
            STR.get((c.method, c.path, c.status)).inc();
        })
    });

    let prom = prometheus::IntCounterVec::new(
        prometheus::Opts::new("bench_labeled_total", "help"),
        &["method", "path", "status"],
    )
    .expect("counter vec");
    g.bench_function("prometheus", |b| {
        let mut r = Rotor::new(COMBOS);
        b.iter(|| {
            let c = black_box(&combos[r.next()]);
            prom.with_label_values(&[c.method_str, c.path, c.status_str])
                .inc();
        })
    });

    let pc = prometheus_client::metrics::family::Family::<
        PcLabelsStatic,
        prometheus_client::metrics::counter::Counter,
    >::default();
    g.bench_function("prometheus_client", |b| {
        let mut r = Rotor::new(COMBOS);
        b.iter(|| {
            let c = black_box(&combos[r.next()]);
            pc.get_or_create(&PcLabelsStatic {
                method: c.pc_method,
                path: c.path,
                status: c.status,
            })
            .inc();
        })
    });

    let fm = fastmetrics::metrics::family::Family::<
        FmLabelsStatic,
        fastmetrics::metrics::counter::Counter,
    >::default();
    g.bench_function("fastmetrics", |b| {
        let mut r = Rotor::new(COMBOS);
        b.iter(|| {
            let c = black_box(&combos[r.next()]);
            fm.with_or_new(
                &FmLabelsStatic {
                    method: c.fm_method,
                    path: c.path,
                    status: c.status,
                },
                |c| c.inc(),
            );
        })
    });

    metrics_global();
    g.bench_function("metrics", |b| {
        let mut r = Rotor::new(COMBOS);
        b.iter(|| {
            let c = black_box(&combos[r.next()]);
            metrics::counter!(
                "bench_labeled_total",
                "method" => c.method_str,
                "path" => c.path,
                "status" => c.status_str
            )
            .increment(1);
        })
    });

    let measured = measured::CounterVec::with_label_set(MReqSet::default());
    g.bench_function("measured", |b| {
        let mut r = Rotor::new(COMBOS);
        b.iter(|| {
            let c = black_box(&combos[r.next()]);
            measured.inc(MReq {
                method: c.m_method,
                path: c.path,
                status: c.m_status,
            });
        })
    });

    let measured_fixed = measured::CounterVec::with_label_set(MReqFixedSet {
        method: StaticLabelSet::new(),
        path: Rodeo::from_iter(ROUTES).into_reader(),
        status: StaticLabelSet::new(),
    });
    g.bench_function("measured_fixed", |b| {
        let mut r = Rotor::new(COMBOS);
        b.iter(|| {
            let c = black_box(&combos[r.next()]);
            measured_fixed.inc(MReqFixed {
                method: c.m_method,
                path: c.path,
                status: c.m_status,
            });
        })
    });

    g.bench_function("floor", |b| {
        let mut r = Rotor::new(COMBOS);
        b.iter(|| black_box(&FLOOR_LABELED)[r.next()].fetch_add(1, Relaxed))
    });
    g.finish();

    // Sanity: keviq saw the 20 series (or none, when filtered out).
    assert!(matches!(TYPED.len(), 0 | COMBOS));
    assert!(matches!(STR.len(), 0 | COMBOS));
}

// ---------------------------------------------------------------------------
// 3. histogram_observe
// ---------------------------------------------------------------------------

fn histogram_observe(c: &mut Criterion) {
    let mut g = c.benchmark_group("histogram_observe");
    let values = OBSERVATIONS.as_slice();
    let n = values.len();

    static KEVIQ: Histogram<11> = Histogram::new(BUCKETS);
    g.bench_function("keviq", |b| {
        let mut r = Rotor::new(n);
        b.iter(|| KEVIQ.observe(black_box(values[r.next()])))
    });

    static KEVIQ_EXEMPLAR: Histogram<11> = Histogram::new(BUCKETS);
    let exemplar = keviq_exemplar();
    g.bench_function("keviq_with_exemplar", |b| {
        let mut r = Rotor::new(n);
        b.iter(|| {
            KEVIQ_EXEMPLAR.observe_with_exemplar(black_box(values[r.next()]), black_box(&exemplar))
        })
    });

    // One series of a labeled family, through a kept handle (as the HTTP layer
    // records its durations, with the request's exemplar).
    static LABELED: Family<(HttpMethod,), HistogramCell<11>> =
        Family::new("bench_labeled_hist", BUCKETS, 10_000);
    g.bench_function("keviq_labeled", |b| {
        let series = LABELED.get((HttpMethod::Get,));
        let mut r = Rotor::new(n);
        b.iter(|| series.observe(black_box(values[r.next()])))
    });
    g.bench_function("keviq_labeled_with_exemplar", |b| {
        let series = LABELED.get((HttpMethod::Post,));
        let mut r = Rotor::new(n);
        b.iter(|| series.observe_with_exemplar(black_box(values[r.next()]), black_box(&exemplar)))
    });

    let pc_exemplar =
        prometheus_client::metrics::exemplar::HistogramWithExemplars::<PcExemplar>::new(
            BUCKETS.into_iter(),
        );
    g.bench_function("prometheus_client_with_exemplar", |b| {
        let mut r = Rotor::new(n);
        b.iter(|| {
            pc_exemplar.observe(
                black_box(values[r.next()]),
                Some(PcExemplar {
                    request_id: black_box(EXEMPLAR_ID),
                }),
                Some(std::time::SystemTime::now()),
            )
        })
    });

    let prom = prometheus::Histogram::with_opts(
        prometheus::HistogramOpts::new("bench_hist", "help").buckets(BUCKETS.to_vec()),
    )
    .expect("histogram");
    g.bench_function("prometheus", |b| {
        let mut r = Rotor::new(n);
        b.iter(|| prom.observe(black_box(values[r.next()])))
    });

    let pc = prometheus_client::metrics::histogram::Histogram::new(BUCKETS);
    g.bench_function("prometheus_client", |b| {
        let mut r = Rotor::new(n);
        b.iter(|| pc.observe(black_box(values[r.next()])))
    });

    let fm = fastmetrics::metrics::histogram::Histogram::new(BUCKETS);
    g.bench_function("fastmetrics", |b| {
        let mut r = Rotor::new(n);
        b.iter(|| fm.observe(black_box(values[r.next()])))
    });

    // `metrics` appends raw samples to a lock-free bucket and sorts them into
    // histogram buckets later, at upkeep or render. `metrics` times the recording
    // only (draining untimed between chunks, so memory stays bounded);
    // `metrics_incl_drain` also times the deferred bucketing.
    let handle = metrics_global();
    let hist = metrics::histogram!("bench_hist");
    let chunk: u64 = 1 << 16;
    g.bench_function("metrics", |b| {
        b.iter_custom(|iters| {
            let mut r = Rotor::new(n);
            let mut total = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let k = left.min(chunk);
                let start = Instant::now();
                for _ in 0..k {
                    hist.record(black_box(values[r.next()]));
                }
                total += start.elapsed();
                handle.run_upkeep();
                left -= k;
            }
            total
        })
    });
    g.bench_function("metrics_incl_drain", |b| {
        b.iter_custom(|iters| {
            let mut r = Rotor::new(n);
            let start = Instant::now();
            let mut left = iters;
            while left > 0 {
                let k = left.min(chunk);
                for _ in 0..k {
                    hist.record(black_box(values[r.next()]));
                }
                handle.run_upkeep();
                left -= k;
            }
            start.elapsed()
        })
    });

    let measured = measured::Histogram::with_metadata(Thresholds::with_buckets(BUCKETS));
    g.bench_function("measured", |b| {
        let mut r = Rotor::new(n);
        b.iter(|| measured.observe(black_box(values[r.next()])))
    });

    g.bench_function("floor", |b| {
        b.iter(|| black_box(&FLOOR_HISTOGRAM).fetch_add(1, Relaxed))
    });
    g.finish();
}

// ---------------------------------------------------------------------------
// 4. contended_inc
// ---------------------------------------------------------------------------

fn contended(b: &mut Bencher<'_>, f: &(dyn Fn() + Sync)) {
    b.iter_custom(|iters| n_threads(2, iters, f));
}

fn contended_inc(c: &mut Criterion) {
    let mut g = c.benchmark_group("contended_inc");

    static KEVIQ: Counter = Counter::new();
    g.bench_function("keviq", |b| contended(b, &|| black_box(&KEVIQ).inc()));

    let prom = prometheus::IntCounter::new("bench_contended_total", "help").expect("counter");
    g.bench_function("prometheus", |b| contended(b, &|| black_box(&prom).inc()));

    let pc: prometheus_client::metrics::counter::Counter = Default::default();
    g.bench_function("prometheus_client", |b| {
        contended(b, &|| {
            black_box(&pc).inc();
        })
    });

    metrics_global();
    let handle = metrics::counter!("bench_contended_total");
    g.bench_function("metrics", |b| {
        contended(b, &|| black_box(&handle).increment(1))
    });

    let measured = measured::Counter::new();
    g.bench_function("measured", |b| contended(b, &|| black_box(&measured).inc()));

    let fm: fastmetrics::metrics::counter::Counter = Default::default();
    g.bench_function("fastmetrics", |b| contended(b, &|| black_box(&fm).inc()));

    g.bench_function("floor", |b| {
        contended(b, &|| {
            black_box(&FLOOR_CONTENDED).fetch_add(1, Relaxed);
        })
    });
    g.finish();
}

// ---------------------------------------------------------------------------
// 5. render_10k
// ---------------------------------------------------------------------------

const RENDER_PATHS: usize = 2_500;

/// 10,000 series: 2,500 free-form paths x 2 methods x 2 statuses.
fn render_series() -> Vec<(usize, String, usize)> {
    let mut out = Vec::with_capacity(RENDER_PATHS * 4);
    for p in 0..RENDER_PATHS {
        let path = format!("/api/v1/tenants/{p}/items");
        for m in 0..2 {
            for s in 0..2 {
                out.push((m, path.clone(), s));
            }
        }
    }
    out
}

static RENDER_FAMILY: Family<(HttpMethod, Str, u16), LabeledCounter> =
    Family::new("bench_http_requests_total", (), 10_000);
static RENDER_REG: Registration = Registration::new(
    Descriptor::new(
        "bench_http_requests_total",
        "Requests served",
        MetricType::Counter,
        &["method", "path", "status"],
        Site {
            file: file!(),
            line: line!(),
        },
    ),
    &RENDER_FAMILY,
);

/// Number of sample lines (not comments) in an exposition.
fn samples(text: &str) -> usize {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count()
}

fn render_10k(c: &mut Criterion) {
    let series = render_series();
    let value = |i: usize| (i % 97) as u64 + 1;

    // keviq
    for (i, (m, path, s)) in series.iter().enumerate() {
        RENDER_FAMILY
            .get((METHODS4[*m].0, path, STATUS2[*s].0))
            .inc_by(value(i));
    }
    let keviq = Registry::from_registrations([&RENDER_REG]).expect("registry");
    let keviq_render = || keviq.render(Format::Prometheus);

    // prometheus
    let prom_registry = prometheus::Registry::new();
    let prom = prometheus::IntCounterVec::new(
        prometheus::Opts::new("bench_http_requests_total", "Requests served"),
        &["method", "path", "status"],
    )
    .expect("counter vec");
    prom_registry
        .register(Box::new(prom.clone()))
        .expect("register");
    for (i, (m, path, s)) in series.iter().enumerate() {
        prom.with_label_values(&[METHODS4[*m].1, path, STATUS2[*s].1])
            .inc_by(value(i));
    }
    let prom_render = || {
        let mut out = String::new();
        prometheus::TextEncoder::new()
            .encode_utf8(&prom_registry.gather(), &mut out)
            .expect("encode");
        out
    };

    // prometheus-client (appends `_total` to counter names itself)
    let mut pc_registry = prometheus_client::registry::Registry::default();
    let pc = prometheus_client::metrics::family::Family::<
        PcLabels,
        prometheus_client::metrics::counter::Counter,
    >::default();
    pc_registry.register("bench_http_requests", "Requests served", pc.clone());
    for (i, (m, path, s)) in series.iter().enumerate() {
        pc.get_or_create(&PcLabels {
            method: METHODS4[*m].2,
            path: path.clone(),
            status: STATUS2[*s].0,
        })
        .inc_by(value(i));
    }
    let pc_render = || {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &pc_registry).expect("encode");
        out
    };

    // fastmetrics (appends `_total` to counter names itself)
    let mut fm_registry = fastmetrics::registry::Registry::default();
    let fm = fastmetrics::metrics::family::Family::<
        FmLabels,
        fastmetrics::metrics::counter::Counter,
    >::default();
    fm_registry
        .register("bench_http_requests", "Requests served", fm.clone())
        .expect("register");
    for (i, (m, path, s)) in series.iter().enumerate() {
        fm.with_or_new(
            &FmLabels {
                method: FM_METHODS4[*m],
                path: path.clone(),
                status: STATUS2[*s].0,
            },
            |c| c.inc_by(value(i)),
        );
    }
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

    // metrics
    let recorder = metrics_local();
    let metrics_handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || {
        metrics::describe_counter!("bench_http_requests_total", "Requests served");
        for (i, (m, path, s)) in series.iter().enumerate() {
            metrics::counter!(
                "bench_http_requests_total",
                "method" => METHODS4[*m].1,
                "path" => path.clone(),
                "status" => STATUS2[*s].1
            )
            .increment(value(i));
        }
    });
    let metrics_render = || metrics_handle.render();

    // measured
    let measured = MRender {
        bench_http_requests_total: measured::CounterVec::with_label_set(MReqSet::default()),
    };
    for (i, (m, path, s)) in series.iter().enumerate() {
        measured.bench_http_requests_total.inc_by(
            MReq {
                method: METHODS4[*m].3,
                path,
                status: STATUS2[*s].2,
            },
            value(i),
        );
    }
    let mut measured_enc = BufferedTextEncoder::new();
    let mut measured_render = move || {
        let Ok(()) = measured.collect_group_into(&mut measured_enc);
        measured_enc.finish()
    };

    let sizes = [
        ("keviq", keviq_render().len(), samples(&keviq_render())),
        ("prometheus", prom_render().len(), samples(&prom_render())),
        (
            "prometheus_client",
            pc_render().len(),
            samples(&pc_render()),
        ),
        (
            "metrics",
            metrics_render().len(),
            samples(&metrics_render()),
        ),
        {
            let text = measured_render();
            let text = std::str::from_utf8(&text).expect("utf-8").to_owned();
            ("measured", text.len(), samples(&text))
        },
        ("fastmetrics", fm_render().len(), samples(&fm_render())),
    ];
    let line: Vec<String> = sizes
        .iter()
        .map(|(name, bytes, n)| format!("{name}={bytes}B/{n}samples"))
        .collect();
    println!("render_10k output: {}", line.join(" "));
    for (name, _, n) in &sizes {
        assert_eq!(*n, series.len(), "{name} renders every series");
    }

    let mut g = c.benchmark_group("render_10k");
    g.throughput(Throughput::Bytes(sizes[0].1 as u64));
    g.bench_function("keviq", |b| b.iter(keviq_render));
    g.throughput(Throughput::Bytes(sizes[1].1 as u64));
    g.bench_function("prometheus", |b| b.iter(prom_render));
    g.throughput(Throughput::Bytes(sizes[2].1 as u64));
    g.bench_function("prometheus_client", |b| b.iter(pc_render));
    g.throughput(Throughput::Bytes(sizes[3].1 as u64));
    g.bench_function("metrics", |b| b.iter(metrics_render));
    g.throughput(Throughput::Bytes(sizes[4].1 as u64));
    g.bench_function("measured", |b| b.iter(&mut measured_render));
    g.throughput(Throughput::Bytes(sizes[5].1 as u64));
    g.bench_function("fastmetrics", |b| b.iter(fm_render));
    g.finish();
}

// ---------------------------------------------------------------------------
// 6. heap bytes per string-labeled series
// ---------------------------------------------------------------------------

const MEMORY_SERIES: usize = 100_000;

/// Live heap bytes `build` leaves behind, per series.
fn heap_per_series<T>(build: impl FnOnce() -> T) -> f64 {
    let (built, bytes) = heap_of(build);
    drop(black_box(built));
    bytes as f64 / MEMORY_SERIES as f64
}

fn memory_report() {
    // The label values exist before counting starts: only the libraries' own copies
    // and structures are counted.
    let paths: Vec<String> = (0..MEMORY_SERIES)
        .map(|i| format!("/api/v1/tenants/{i}/items"))
        .collect();
    let label = |i: usize| (METHODS4[i % 4], STATUS2[(i / 4) % 2]);

    let keviq_with_cap = |cap: usize| {
        heap_per_series(|| {
            let f: Family<(HttpMethod, Str, u16), LabeledCounter> =
                Family::new("mem_total", (), cap);
            for (i, path) in paths.iter().enumerate() {
                let ((m, ..), (s, ..)) = label(i);
                f.get((m, path, s)).inc();
            }
            assert_eq!(f.len(), MEMORY_SERIES);
            f
        })
    };
    let keviq = keviq_with_cap(200_000);
    let keviq_tight = keviq_with_cap(MEMORY_SERIES);

    let prometheus = heap_per_series(|| {
        let v = prometheus::IntCounterVec::new(
            prometheus::Opts::new("mem_total", "help"),
            &["method", "path", "status"],
        )
        .expect("counter vec");
        for (i, path) in paths.iter().enumerate() {
            let ((_, m, ..), (_, s, _)) = label(i);
            v.with_label_values(&[m, path.as_str(), s]).inc();
        }
        v
    });

    let prometheus_client = heap_per_series(|| {
        let f = prometheus_client::metrics::family::Family::<
            PcLabels,
            prometheus_client::metrics::counter::Counter,
        >::default();
        for (i, path) in paths.iter().enumerate() {
            let ((_, _, m, _), (s, ..)) = label(i);
            f.get_or_create(&PcLabels {
                method: m,
                path: path.clone(),
                status: s,
            })
            .inc();
        }
        f
    });

    let metrics = heap_per_series(|| {
        let recorder = metrics_local();
        metrics::with_local_recorder(&recorder, || {
            for (i, path) in paths.iter().enumerate() {
                let ((_, m, ..), (_, s, _)) = label(i);
                metrics::counter!(
                    "mem_total",
                    "method" => m,
                    "path" => path.clone(),
                    "status" => s
                )
                .increment(1);
            }
        });
        recorder
    });

    let fastmetrics = heap_per_series(|| {
        let f = fastmetrics::metrics::family::Family::<
            FmLabels,
            fastmetrics::metrics::counter::Counter,
        >::default();
        for (i, path) in paths.iter().enumerate() {
            let (_, (s, ..)) = label(i);
            f.with_or_new(
                &FmLabels {
                    method: FM_METHODS4[i % 4],
                    path: path.clone(),
                    status: s,
                },
                |c| c.inc(),
            );
        }
        f
    });

    let measured = heap_per_series(|| {
        let v = measured::CounterVec::with_label_set(MReqSet::default());
        for (i, path) in paths.iter().enumerate() {
            let ((.., m), (.., s)) = label(i);
            v.inc(MReq {
                method: m,
                path,
                status: s,
            });
        }
        v
    });

    println!(
        "heap_bytes_per_series keviq={keviq:.1} prometheus={prometheus:.1} \
         prometheus_client={prometheus_client:.1} metrics={metrics:.1} measured={measured:.1} \
         fastmetrics={fastmetrics:.1}"
    );
    println!(
        "heap_bytes_per_series_note keviq(max_series=200000)={keviq:.1} \
         keviq(max_series=100000)={keviq_tight:.1} series={MEMORY_SERIES} labels=3 \
         (method, free-form path, status); requested bytes, allocator overhead excluded"
    );
}

// ---------------------------------------------------------------------------

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(25);
    targets = counter_inc, counter_inc_call_site, labeled_inc, histogram_observe, contended_inc, render_10k
}

fn main() {
    memory_report();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
