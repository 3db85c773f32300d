//! A user crate needs only `keviq`: registration goes through `::keviq::__private`,
//! and every declared metric is rendered, at zero, without a register call.

keviq::metric! {
    /// Domain metrics of the agent runtime.
    pub static AGENT: AgentMetrics {
        /// Agent invocations started
        invocations: Counter = "mona_agent_invocations_total",
        /// LLM turns completed
        turns: Counter = "mona_agent_turns_total",
    }
}

fn main() {
    AGENT.turns.inc();
    let text = keviq::Registry::global().expect("no clash").render(keviq::Format::Prometheus);
    assert!(text.contains("mona_agent_invocations_total 0\n"), "{text}");
    assert!(text.contains("mona_agent_turns_total 1\n"), "{text}");
}
