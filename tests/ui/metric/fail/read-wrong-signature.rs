fn cpu_seconds() -> f64 {
    1.0
}

keviq::metric! {
    /// CPU time
    #[metric(read = cpu_seconds)]
    pub static CPU: Counter = "process_cpu_seconds_total";
}

fn main() {}
