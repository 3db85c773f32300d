keviq::metric! {
    /// Requests
    pub static REQUESTS: Counter(path: &str, path: &str) = "requests_total";
}

fn main() {}
