keviq::metric! {
    /// Queue depth
    pub static DEPTH: Gauge(quantile: &str) = "queue_depth";
}

fn main() {}
