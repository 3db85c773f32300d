keviq::metric! {
    /// Requests
    pub static REQUESTS: Counter(ratio: f64) = "requests_total";
}

fn main() {
    // The one error is on the declared type, not here.
    REQUESTS.labels(0.5).inc();
}
