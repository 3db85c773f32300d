keviq::metric! {
    /// Domain metrics of the agent runtime.
    pub static AGENT: AgentMetrics {
        /// Agent invocations started
        invocations Counter = "mona_agent_invocations_total",
        /// Tool calls executed across all invocations
        tool_calls: Counter = "mona_agent_tool_calls_total",
    }
}

fn main() {
    AGENT.invocations.inc();
    AGENT.tool_calls.inc();
}
