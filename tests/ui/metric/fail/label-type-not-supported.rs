keviq::metric! {
    /// Requests
    pub static REQUESTS: Counter(ratio: f64) = "requests_total";
}

fn main() {}
