keviq::metric! {
    /// Request duration
    pub static DURATION: Histogram(le: &str) = "request_duration_ms";
}

fn main() {}
