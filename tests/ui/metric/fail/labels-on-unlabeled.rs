keviq::metric! {
    /// Requests
    pub static REQUESTS: Counter = "requests_total";
}

fn record() {
    REQUESTS.labels("GET").inc();
}

fn main() {}
