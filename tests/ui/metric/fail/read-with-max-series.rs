fn cpu_seconds() -> Option<f64> {
    Some(1.0)
}

keviq::metric! {
    /// CPU time
    #[metric(read = cpu_seconds, max_series = 10)]
    pub static CPU: Counter = "process_cpu_seconds_total";
}

fn main() {}
