keviq::metric! {
    /// Request duration
    #[metric(buckets = [1, 5, 1e999])]
    pub static DURATION: Histogram = "request_duration_ms";
}

fn main() {}
