keviq::metric! {
    /// Requests by upper bound
    pub static REQUESTS: Counter(le: &str) = "requests_total";
}

fn main() {}
