//! Generated code names everything by absolute path, so shadowed prelude and std
//! names do not break it.
#![allow(dead_code, non_camel_case_types)]

struct Option;
struct Some;
struct None;
struct Result;
struct Ok;
struct Box;
struct Vec;
struct str;
mod core {}
mod std {}
mod inventory {}
struct Counter;
struct Family;
struct usize;
struct bool;
fn file() {}
fn line() {}

keviq::metric! {
    /// Jobs run
    static JOBS: Counter = "shadow_jobs_total";
    /// Jobs by queue
    #[metric(max_series = 50)]
    static QUEUED: Gauge(queue: &::core::primitive::str, urgent: ::core::primitive::bool) = "shadow_queued";
    /// Latency
    #[metric(buckets = [0.5, 1, 2])]
    static LATENCY: Histogram = "shadow_latency_ms";
}

#[derive(keviq::LabelValue)]
enum Lane {
    Fast,
    Slow,
}

keviq::metric! {
    /// Lanes used
    static LANES: Counter(lane: Lane) = "shadow_lanes_total";
}

fn main() {
    JOBS.inc();
    QUEUED.labels("default", true).set(3);
    LATENCY.observe(0.7);
    LANES.labels(Lane::Slow).inc();
}
