keviq::metric! {
    /// Requests
    #[metric(buckets = [1, 5])]
    pub static REQUESTS: Counter = "requests_total";
}

fn main() {}
