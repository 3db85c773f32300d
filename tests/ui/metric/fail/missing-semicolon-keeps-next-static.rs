keviq::metric! {
    /// Jobs run
    pub static JOBS: Counter = "jobs_total"

    /// Jobs waiting
    pub static QUEUED: Gauge = "jobs_queued";
}

fn main() {
    JOBS.inc();
    QUEUED.set(2);
}
