keviq::metric! {
    /// Requests
    pub static REQUESTS: Counter(método: &str) = "requests_total";
}

fn main() {}
