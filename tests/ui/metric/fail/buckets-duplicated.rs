keviq::metric! {
    /// Request duration
    #[metric(buckets = [1, 5, 5.0, 100])]
    pub static DURATION: Histogram = "request_duration_ms";
}

fn main() {}
