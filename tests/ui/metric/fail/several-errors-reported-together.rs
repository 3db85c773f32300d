keviq::metric! {
    /// Domain metrics of the agent runtime.
    pub static AGENT: AgentMetrics {
        /// Agent invocations started
        invocations: Counter = "mona_agent_invocations",
        /// LLM turns completed
        turns: Counter = "mona-agent-turns_total",
        /// Tool calls executed
        tool_calls: Gauge = "mona_agent_tool_calls_total",
    }
}

fn main() {
    // The fallback expansion keeps the fields usable: no error here.
    AGENT.invocations.inc();
    AGENT.tool_calls.set(1);
}
