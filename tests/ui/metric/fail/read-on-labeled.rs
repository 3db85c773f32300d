fn depth() -> Option<f64> {
    Some(1.0)
}

keviq::metric! {
    /// Jobs waiting, by queue
    #[metric(read = depth, max_series = 10)]
    pub static QUEUED: Gauge(queue: &str) = "jobs_queued";
}

fn main() {}
