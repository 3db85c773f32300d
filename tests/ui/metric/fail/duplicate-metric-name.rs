keviq::metric! {
    /// Domain metrics of the agent runtime.
    pub static AGENT: AgentMetrics {
        /// Agent invocations started
        invocations: Counter = "mona_agent_invocations_total",
        /// Agent invocations started, again
        started: Counter = "mona_agent_invocations_total",
    }
}

fn main() {}
