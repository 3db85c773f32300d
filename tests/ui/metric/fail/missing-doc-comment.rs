keviq::metric! {
    /// Domain metrics of the agent runtime.
    pub static AGENT: AgentMetrics {
        invocations: Counter = "mona_agent_invocations_total",
    }
}

fn main() {}
