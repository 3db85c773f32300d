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
struct f64;
struct Sized;
struct Debug;
struct PhantomData;
struct Registration;
struct Descriptor;
fn file() {}
fn line() {}
fn vec() {}
fn unreachable() {}

fn read_depth() -> ::core::option::Option<::core::primitive::f64> {
    ::core::option::Option::Some(1.0)
}

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

keviq::metric! {
    /// A group
    static GROUP: Group {
        /// Runs by lane
        runs: Counter(lane: Lane, queue: &::core::primitive::str) = "shadow_runs_total",
        /// Depth, read at each render
        #[metric(read = read_depth)]
        depth: Gauge = "shadow_depth",
    }

    /// A set of its own
    struct Own {
        /// Latency by lane
        latency: Histogram(lane: Lane) = "shadow_own_latency_ms",
    }
}

#[derive(keviq::LabelValue)]
enum Lane {
    Fast,
    Slow,
}

keviq::metric! {
    /// Lanes used
    static LANES: Counter(lane: Lane) = "shadow_lanes_total";

    /// Jobs by type: a keyword is a fine label name
    static KINDS: Counter(type: &::core::primitive::str) = "shadow_kinds_total";
}

fn main() {
    JOBS.inc();
    QUEUED.labels("default", true).set(3);
    LATENCY.observe(0.7);
    LANES.labels(Lane::Slow).inc();
    KINDS.labels("batch").inc();
    GROUP.runs.labels(Lane::Fast, "default").inc();
    static OWN: Own = Own::new();
    OWN.latency.labels(Lane::Fast).observe(1.0);
    let _ = (OWN.registrations(), GROUP.registrations(), &GROUP.depth);
}
