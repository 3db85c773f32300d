keviq::metric! {
    /// Requests
    pub static REQUESTS: Counter = requests_total;
}

fn main() {}
