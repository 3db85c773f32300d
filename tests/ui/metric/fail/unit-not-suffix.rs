keviq::metric! {
    /// Request duration
    #[metric(unit = "seconds")]
    pub static DURATION: Histogram = "request_duration_ms";
}

fn main() {}
