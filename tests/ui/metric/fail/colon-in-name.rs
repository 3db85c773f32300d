keviq::metric! {
    /// Requests, per five minutes
    pub static RATE: Gauge = "job:requests:rate5m";
}

fn main() {}
