use keviq::HttpMethod;

keviq::metric! {
    /// Requests
    pub static REQUESTS: Counter(method: HttpMethod, path: &str, status: u16) = "requests_total";
}

fn record() {
    REQUESTS.labels(HttpMethod::Get, "/api/v1/tasks").inc();
}

fn main() {}
