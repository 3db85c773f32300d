keviq::metric! {
    /// Request duration
    #[metric(unit = "ms", unit = "ms")]
    pub static DURATION: Histogram = "request_duration_ms";
}

fn main() {}
