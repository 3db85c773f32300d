//! Uses the agent-runtime metrics of ARCHITECTURE.md and declares a labeled family, simulates a
//! few invocations and prints what `/metrics` will serve (the HTTP families, which
//! the middleware records, appear empty).
//!
//! ```text
//! cargo run -p example-agent-runtime --bin exposition                 # Prometheus text 0.0.4
//! cargo run -p example-agent-runtime --bin exposition -- openmetrics  # OpenMetrics 1.0
//! ```

use agent_runtime::AGENT;
use keviq::{Format, Registry};

keviq::metric! {
    /// LLM calls by model and outcome.
    pub static LLM: LlmMetrics {
        /// LLM calls made
        calls: Counter(model: &str, ok: bool) = "demo_llm_calls_total",
        /// LLM call latency
        #[metric(buckets = [50, 100, 250, 500, 1000, 2500])]
        latency: Histogram(model: &str) = "demo_llm_latency_ms",
    }
}

fn main() {
    let format = match std::env::args().nth(1).as_deref() {
        Some("openmetrics") => Format::OpenMetrics,
        Some("prometheus") | None => Format::Prometheus,
        Some(other) => {
            eprintln!("unknown format `{other}`; expected `prometheus` or `openmetrics`");
            std::process::exit(2);
        }
    };
    for budget in [3, 5] {
        AGENT.invocations.inc();
        for turn in 0..5 {
            if turn == budget {
                AGENT.budget_exhausted.inc();
                break;
            }
            AGENT.turns.inc();
            AGENT.tool_calls.inc_by(2);
        }
        LLM.calls.labels("model-a", budget > 3).inc();
        LLM.latency.labels("model-a").observe(120.0 * budget as f64);
    }
    match Registry::global() {
        Ok(registry) => print!("{}", registry.render(format)),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
