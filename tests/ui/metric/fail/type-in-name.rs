keviq::metric! {
    /// Queue metrics.
    pub static QUEUE: QueueMetrics {
        /// Jobs run
        jobs: Counter = "jobs_counter_total",
        /// Jobs waiting
        depth: Gauge = "queue_depth_gauge",
        /// Job duration
        duration: Histogram = "job_histogram_ms",
    }
}

fn main() {}
