fn latency() -> Option<f64> {
    Some(1.0)
}

keviq::metric! {
    /// Latency
    #[metric(read = latency, buckets = [1, 5])]
    pub static LATENCY: Histogram = "latency_ms";
}

fn main() {}
