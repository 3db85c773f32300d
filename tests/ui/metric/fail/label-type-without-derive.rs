enum Outcome {
    Ok,
}

keviq::metric! {
    /// Domain metrics of the agent runtime.
    pub struct AgentMetrics {
        /// Jobs by outcome
        jobs: Counter(queue: &str, outcome: Outcome) = "mona_jobs_total",
        /// Time per job
        duration: Histogram(outcome: Outcome) = "mona_job_duration_ms",
    }
}

static AGENT: AgentMetrics = AgentMetrics::new();

fn main() {
    AGENT.jobs.labels("default", Outcome::Ok).inc();
    AGENT.duration.labels(Outcome::Ok).observe(1.0);
    let _ = AGENT.registrations();
}
