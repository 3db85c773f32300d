keviq::metric! {
    /// Requests
    pub static REQUESTS: Counter(a: &str, b: &str, c: &str, d: &str, e: &str, f: &str, g: &str) = "requests_total";
}

fn main() {
    REQUESTS.labels("a", "b", "c", "d", "e", "f", "g").inc();
}
