//! Parser throughput on a 10,000-series exposition (about 900 KB), keviq's
//! `expfmt::parse` next to the `prometheus-parse` crate, with splitting the text into
//! owned lines as a reference point (what `prometheus-parse` needs as input).
//!
//! `parse_shapes/<parser>/<shape>` compares keviq with prometheus-parse on three
//! input shapes: `counters` (the 10,000-series counter family above), `histograms`
//! (1,000 histogram series of 11 buckets, about 14,000 lines) and `process` (a
//! process-and-runtime exposition as the Go client writes it: summaries with
//! quantiles, gauges and counters in exponent notation, one series each, repeated
//! for 20 jobs). Each input is also written to `target/parse_shapes/<shape>.txt`,
//! where `benches/parse_python.py` times the Python `prometheus_client` parser on
//! the same bytes.
//!
//! `cargo bench --bench parse`

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use http::StatusCode;
use keviq_expfmt::{Mode, parse, parse_with};
use keviq_runtime::{
    Descriptor, Family, Format, HistogramCell, HttpMethod, LabeledCounter, MetricType,
    Registration, Registry, Site, Str,
};

type Requests = Family<(HttpMethod, Str, StatusCode), LabeledCounter>;

/// Renders one counter family of `series` series in `format`.
fn exposition(format: Format, series: usize) -> String {
    let family: &'static Requests = Box::leak(Box::new(Family::new(
        "bench_requests_total",
        (),
        series + 1,
    )));
    let methods = [
        HttpMethod::Get,
        HttpMethod::Post,
        HttpMethod::Put,
        HttpMethod::Delete,
    ];
    let statuses = [
        StatusCode::OK,
        StatusCode::CREATED,
        StatusCode::NOT_FOUND,
        StatusCode::INTERNAL_SERVER_ERROR,
    ];
    for i in 0..series {
        let path = format!("/api/v1/resource{}/items/{{id}}", i / 4);
        family
            .get((methods[i % 4], &path, statuses[(i / 4) % 4]))
            .inc_by(i as u64 * 7 + 1);
    }
    let registration: &'static Registration = Box::leak(Box::new(Registration::new(
        Descriptor::new(
            "bench_requests_total",
            "Requests served, by method, path and status",
            MetricType::Counter,
            &["method", "path", "status"],
            Site {
                file: file!(),
                line: line!(),
            },
        ),
        family,
    )));
    match Registry::from_registrations([registration]) {
        Ok(registry) => registry.render(format),
        Err(e) => panic!("{e}"),
    }
}

type Durations = Family<(HttpMethod, Str), HistogramCell<11>>;

const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Renders one histogram family of `series` series (Prometheus text).
fn histograms(series: usize) -> String {
    let family: &'static Durations = Box::leak(Box::new(Family::new(
        "bench_request_duration_seconds",
        BUCKETS,
        series + 1,
    )));
    let methods = [HttpMethod::Get, HttpMethod::Post];
    for i in 0..series {
        let path = format!("/api/v1/resource{}/items/{{id}}", i / 2);
        let h = family.get((methods[i % 2], &path));
        for k in 0..20 {
            h.observe(((i * 31 + k * 17) % 1000) as f64 / 77.0);
        }
    }
    let registration: &'static Registration = Box::leak(Box::new(Registration::new(
        Descriptor::new(
            "bench_request_duration_seconds",
            "Request duration, by method and path",
            MetricType::Histogram,
            &["method", "path"],
            Site {
                file: file!(),
                line: line!(),
            },
        ),
        family,
    )));
    match Registry::from_registrations([registration]) {
        Ok(registry) => registry.render(Format::Prometheus),
        Err(e) => panic!("{e}"),
    }
}

/// A Go-client-style process and runtime exposition, for `jobs` jobs (a label
/// distinguishes them, as on a federation endpoint).
fn process(jobs: usize) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let mut family = |name: &str, help: &str, kind: &str, lines: &dyn Fn(&mut String, usize)| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for j in 0..jobs {
            lines(&mut out, j);
        }
    };
    family(
        "go_gc_duration_seconds",
        "A summary of the pause duration of garbage collection cycles.",
        "summary",
        &|o, j| {
            for (q, v) in [
                ("0", 2.7551e-05),
                ("0.25", 4.3701e-05),
                ("0.5", 5.6221e-05),
                ("0.75", 8.1003e-05),
                ("1", 0.001206834),
            ] {
                let _ = writeln!(
                    o,
                    "go_gc_duration_seconds{{job=\"job{j}\",quantile=\"{q}\"}} {v:e}"
                );
            }
            let _ = writeln!(
                o,
                "go_gc_duration_seconds_sum{{job=\"job{j}\"}} 0.{j}2345678"
            );
            let _ = writeln!(o, "go_gc_duration_seconds_count{{job=\"job{j}\"}} 18{j}");
        },
    );
    let gauges: [(&str, &str, f64); 12] = [
        (
            "go_goroutines",
            "Number of goroutines that currently exist.",
            42.0,
        ),
        ("go_threads", "Number of OS threads created.", 13.0),
        (
            "go_memstats_alloc_bytes",
            "Number of bytes allocated and still in use.",
            7.123456e+06,
        ),
        (
            "go_memstats_heap_alloc_bytes",
            "Number of heap bytes allocated and still in use.",
            7.123456e+06,
        ),
        (
            "go_memstats_heap_idle_bytes",
            "Number of heap bytes waiting to be used.",
            5.734016e+06,
        ),
        (
            "go_memstats_heap_inuse_bytes",
            "Number of heap bytes that are in use.",
            9.158656e+06,
        ),
        (
            "go_memstats_heap_objects",
            "Number of allocated objects.",
            45012.0,
        ),
        (
            "go_memstats_stack_inuse_bytes",
            "Number of bytes in use by the stack allocator.",
            786432.0,
        ),
        (
            "go_memstats_sys_bytes",
            "Number of bytes obtained from system.",
            2.4462344e+07,
        ),
        (
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            3.1178752e+07,
        ),
        (
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes.",
            1.269563392e+09,
        ),
        (
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            1.71234567891e+09,
        ),
    ];
    for (name, help, v) in gauges {
        family(name, help, "gauge", &|o, j| {
            let _ = writeln!(o, "{name}{{job=\"job{j}\"}} {:e}", v + j as f64);
        });
    }
    let counters: [(&str, &str, f64); 5] = [
        (
            "go_memstats_alloc_bytes_total",
            "Total number of bytes allocated, even if freed.",
            1.23456789e+09,
        ),
        (
            "go_memstats_frees_total",
            "Total number of frees.",
            1.234567e+07,
        ),
        (
            "go_memstats_mallocs_total",
            "Total number of mallocs.",
            1.2401234e+07,
        ),
        (
            "process_cpu_seconds_total",
            "Total user and system CPU time spent in seconds.",
            123.45,
        ),
        (
            "promhttp_metric_handler_requests_total",
            "Total number of scrapes by HTTP status code.",
            1234.0,
        ),
    ];
    for (name, help, v) in counters {
        family(name, help, "counter", &|o, j| {
            let _ = writeln!(o, "{name}{{job=\"job{j}\"}} {}", v * (j + 1) as f64);
        });
    }
    out
}

/// The three inputs of `parse_shapes`, also written for the Python script.
fn shapes() -> [(&'static str, String); 3] {
    // No `{id}` in the paths here: prometheus-parse silently drops a line whose
    // label value holds a brace (0 samples on the `parse_10k` input), which would
    // time it on work it skips.
    let unbraced = |t: String| t.replace("/items/{id}", "/items/id");
    let shapes = [
        ("counters", unbraced(exposition(Format::Prometheus, 10_000))),
        ("histograms", unbraced(histograms(1_000))),
        ("process", process(20)),
    ];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/parse_shapes");
    if std::fs::create_dir_all(&dir).is_ok() {
        for (name, text) in &shapes {
            let _ = std::fs::write(dir.join(format!("{name}.txt")), text);
        }
    }
    shapes
}

fn parse_shapes(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse_shapes");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    for (shape, text) in shapes() {
        // Both parsers agree on the sample count before anything is timed.
        let keviq_samples = parse(&text, Format::Prometheus)
            .expect("valid")
            .samples
            .len();
        let pp_samples = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))
            .expect("valid")
            .samples
            .len();
        assert!(pp_samples > 0, "prometheus-parse read no sample of {shape}");
        println!(
            "parse_shapes input {shape}: {} bytes, {keviq_samples} samples (prometheus-parse: {pp_samples})",
            text.len()
        );
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(BenchmarkId::new("keviq", shape), |b| {
            b.iter(|| {
                let parsed = parse(black_box(&text), Format::Prometheus).expect("valid");
                black_box(parsed.samples.len())
            })
        });
        group.bench_function(BenchmarkId::new("prometheus_parse", shape), |b| {
            b.iter(|| {
                let lines = black_box(&text).lines().map(|l| Ok(l.to_owned()));
                let scrape = prometheus_parse::Scrape::parse(lines).expect("valid");
                black_box(scrape.samples.len())
            })
        });
    }
    group.finish();
}

fn parse_throughput(c: &mut Criterion) {
    let prometheus = exposition(Format::Prometheus, 10_000);
    let openmetrics = exposition(Format::OpenMetrics, 10_000);
    let mut group = c.benchmark_group("parse_10k");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    group.throughput(Throughput::Bytes(prometheus.len() as u64));

    group.bench_function("keviq_prometheus", |b| {
        b.iter(|| {
            let parsed = parse(black_box(&prometheus), Format::Prometheus).expect("valid");
            black_box(parsed.samples.len())
        })
    });
    group.bench_function("keviq_openmetrics", |b| {
        b.iter(|| {
            let parsed = parse(black_box(&openmetrics), Format::OpenMetrics).expect("valid");
            black_box(parsed.samples.len())
        })
    });
    // Scrape mode: what the telemetry service and Prometheus' scraper accept.
    for (name, text, format) in [
        ("keviq_prometheus_scrape", &prometheus, Format::Prometheus),
        (
            "keviq_openmetrics_scrape",
            &openmetrics,
            Format::OpenMetrics,
        ),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let parsed = parse_with(black_box(text), format, Mode::Scrape).expect("valid");
                black_box(parsed.samples.len())
            })
        });
    }
    group.bench_function("prometheus_parse", |b| {
        b.iter(|| {
            let lines = black_box(&prometheus).lines().map(|l| Ok(l.to_owned()));
            let scrape = prometheus_parse::Scrape::parse(lines).expect("valid");
            black_box(scrape.samples.len())
        })
    });
    group.bench_function("owned_lines", |b| {
        b.iter(|| {
            let lines: Vec<String> = black_box(&prometheus).lines().map(str::to_owned).collect();
            black_box(lines.len())
        })
    });
    group.finish();
    println!(
        "parse_10k input: {} bytes Prometheus, {} bytes OpenMetrics",
        prometheus.len(),
        openmetrics.len()
    );
}

criterion_group!(benches, parse_throughput, parse_shapes);
criterion_main!(benches);
