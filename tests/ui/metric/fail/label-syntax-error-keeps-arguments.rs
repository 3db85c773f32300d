use keviq::HttpMethod;

keviq::metric! {
    /// Requests
    pub static REQUESTS: Counter(method HttpMethod, path: &str) = "requests_total";
}

fn main() {
    // `labels(..)` still takes two arguments while the first label is fixed.
    REQUESTS.labels(HttpMethod::Get, "/").inc();
}
