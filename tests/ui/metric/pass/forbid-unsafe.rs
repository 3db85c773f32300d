//! Generated code compiles in a crate that forbids `unsafe`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

keviq::metric! {
    /// Domain metrics of the agent runtime.
    pub static AGENT: AgentMetrics {
        /// Agent invocations started
        pub invocations: Counter = "mona_agent_invocations_total",
        /// Requests by route
        pub requests: Counter(path: &str) = "pass_requests_total",
        /// Duration
        pub duration: Histogram(ok: bool) = "pass_duration_ms",
    }
}

fn main() {
    AGENT.invocations.inc();
    AGENT.requests.labels("/a").inc();
    AGENT.duration.labels(true).observe(1.0);
}
