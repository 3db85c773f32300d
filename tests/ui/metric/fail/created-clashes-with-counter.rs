keviq::metric! {
    /// Jobs run
    pub static JOBS: Counter = "jobs_total";
    /// When the jobs counter was created (OpenMetrics renders `jobs_created` for it)
    pub static JOBS_CREATED: Gauge = "jobs_created";
    /// Jobs, as a gauge of the family `jobs`
    pub static JOBS_NOW: Gauge = "jobs";
}

fn main() {}
