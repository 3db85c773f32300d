//! Names promlint accepts pass, including those that merely contain a type word
//! or a reserved suffix inside another word, and abbreviated units such as `_ms`,
//! which ARCHITECTURE.md's names use (promlint still reports those; see the README).

keviq::metric! {
    /// Names that come close to a rule without breaking it.
    static CLOSE: CloseCalls {
        /// Gauges seen by the collector
        gauges: Counter = "gauges_seen_total",
        /// Counterfeit bills found
        counterfeits: Counter = "counterfeits_found_total",
        /// Jobs counted, as a counter of counts
        counts: Counter = "jobs_count_total",
        /// Summed latency budget left
        budget: Gauge = "latency_sum_budget",
        /// Request duration in milliseconds
        duration: Histogram(status_code: u16) = "close_request_duration_ms",
    }
}

fn main() {
    CLOSE.gauges.inc();
    CLOSE.duration.labels(200).observe(1.0);
}
