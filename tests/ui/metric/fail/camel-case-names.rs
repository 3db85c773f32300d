keviq::metric! {
    /// Requests by status
    pub static REQUESTS: Counter(statusCode: u16) = "httpRequests_total";
}

fn main() {}
