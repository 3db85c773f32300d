keviq::metric! {
    /// Request duration
    pub static DURATION: Histogram = "mona_http_request_duration_total";
}

fn main() {}
