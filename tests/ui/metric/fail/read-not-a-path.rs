keviq::metric! {
    /// Jobs waiting
    #[metric(read = || Some(1.0))]
    pub static QUEUED: Gauge = "jobs_queued";
}

fn main() {}
