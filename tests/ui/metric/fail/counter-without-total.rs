keviq::metric! {
    /// Domain metrics of the agent runtime.
    pub static AGENT: AgentMetrics {
        /// LLM turns completed
        turns: Counter = "mona_agent_turns",
    }
}

fn main() {}
