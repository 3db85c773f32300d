keviq::metric! {
    /// Invocations
    pub static INVOCATIONS: Counter = "1st_invocations_total";
}

fn main() {}
