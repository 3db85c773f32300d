// A syntax error in one option is the only error: the other options of that
// metric, the other fields and the other statics of the block all still expand.
keviq::metric! {
    /// Domain metrics of the agent runtime.
    pub static AGENT: AgentMetrics {
        /// Agent invocations started
        invocations: Counter = "mona_agent_invocations_total",
        /// Time per turn
        #[metric(buckets = [1, 5,, 25], unit = "ms")]
        turn_duration: Histogram = "mona_agent_turn_duration_ms",
    }

    /// Jobs run
    pub static JOBS: Counter = "jobs_total";
}

fn main() {
    AGENT.invocations.inc();
    AGENT.turn_duration.observe(3.0);
    JOBS.inc();
}
