keviq::metric! {
    /// Request duration
    #[metric(bukets = [1, 5])]
    pub static DURATION: Histogram = "request_duration_ms";
}

fn main() {}
