keviq::metric! {
    /// Domain metrics of the agent runtime.
    pub static AGENT: AgentMetrics {
        /// Agent invocations started
        #[metric(crate = ::keviq)]
        invocations: Counter = "mona_agent_invocations_total",
    }
}

fn main() {
    AGENT.invocations.inc();
}
