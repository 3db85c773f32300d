fn depth() -> Option<f64> {
    Some(1.0)
}

keviq::metric! {
    /// Jobs waiting
    #[metric(read = depth, buckets = [1, 5])]
    pub static QUEUED: Gauge = "jobs_queued";
}

fn main() {}
