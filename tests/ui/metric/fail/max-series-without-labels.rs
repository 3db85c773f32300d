keviq::metric! {
    /// Requests
    #[metric(max_series = 100)]
    pub static REQUESTS: Counter = "requests_total";
}

fn main() {}
