keviq::metric! {
    /// Domain metrics of the agent runtime.
    pub static AGENT: AgentMetrics {
        /// Agent invocations started
        invocations: Counter = "mona_agent_invocations_total",
    }
}

fn record() {
    AGENT.invocatons.inc();
}

fn main() {}
