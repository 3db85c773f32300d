keviq::metric! {
    /// Jobs run
    #[metric(crate = "not a path")]
    pub static JOBS: Counter = "jobs_total";
}

fn main() {
    JOBS.inc();
}
