keviq::metric! {
    /// Requests
    pub static REQUESTS: Counter(__name: &str) = "requests_total";
}

fn main() {}
