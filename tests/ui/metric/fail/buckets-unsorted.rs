keviq::metric! {
    /// Request duration
    #[metric(buckets = [1, 10, 5, 100])]
    pub static DURATION: Histogram = "request_duration_ms";
}

fn main() {}
