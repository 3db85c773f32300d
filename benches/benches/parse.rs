//! Parser throughput on a 10,000-series exposition (about 900 KB), keviq's
//! `expfmt::parse` next to the `prometheus-parse` crate, with splitting the text into
//! owned lines as a reference point (what `prometheus-parse` needs as input).
//!
//! `cargo bench --bench parse`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http::StatusCode;
use keviq_expfmt::parse;
use keviq_runtime::{
    Descriptor, Family, Format, HttpMethod, LabeledCounter, MetricType, Registration, Registry,
    Site, Str,
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

criterion_group!(benches, parse_throughput);
criterion_main!(benches);
