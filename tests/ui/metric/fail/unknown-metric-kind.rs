keviq::metric! {
    /// Request duration
    pub static DURATION: Summary = "request_duration_ms";
}

fn main() {}
