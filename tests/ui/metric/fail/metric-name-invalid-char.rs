keviq::metric! {
    /// Invocations
    pub static INVOCATIONS: Counter = "mona-agent-invocations_total";
}

fn main() {}
