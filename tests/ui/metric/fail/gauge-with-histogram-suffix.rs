keviq::metric! {
    /// Queue metrics.
    pub static QUEUE: QueueMetrics {
        /// Jobs waiting, summed over queues
        waiting: Gauge = "jobs_waiting_sum",
        /// Jobs seen
        seen: Gauge = "jobs_seen_count",
        /// Jobs by bucket
        by_bucket: Gauge = "jobs_bucket",
    }
}

fn main() {}
