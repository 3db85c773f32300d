keviq::metric! {
    /// Domain metrics of the agent runtime.
    pub static AGENT: AgentMetrics {
        /// Agent invocations started
        invocations: Counter = "mona_agent_invocations_total",
        /// Tool calls
        invocations: Counter = "mona_agent_tool_calls_total",
    }
}

fn main() {}
