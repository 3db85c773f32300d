keviq::metric! {
    /// Domain metrics of the agent runtime.
    #[metric(unit = "ms")]
    pub static AGENT: AgentMetrics {
        /// Time per turn
        turn_duration: Histogram = "mona_agent_turn_duration_ms",
    }
}

fn main() {
    AGENT.turn_duration.observe(1.0);
}
