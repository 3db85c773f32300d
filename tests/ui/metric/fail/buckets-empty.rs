keviq::metric! {
    /// Request duration
    #[metric(buckets = [])]
    pub static DURATION: Histogram = "request_duration_ms";
}

fn main() {}
