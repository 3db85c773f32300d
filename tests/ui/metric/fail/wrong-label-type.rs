use keviq::HttpMethod;

keviq::metric! {
    /// Requests
    pub static REQUESTS: Counter(method: HttpMethod, path: &str) = "requests_total";
}

fn record() {
    REQUESTS.labels("GET", "/api/v1/tasks").inc();
}

fn main() {}
