//! Declares the agent-runtime metrics of DESIGN.md and a labeled family, simulates a
//! few invocations and prints what `/metrics` will serve (the HTTP families, which
//! the middleware records, appear empty).
//!
//! ```text
//! cargo run --example exposition                 # Prometheus text 0.0.4
//! cargo run --example exposition -- openmetrics  # OpenMetrics 1.0
//! ```

use keviq::{Format, Registry};

keviq::metric! {
    /// Domain metrics of the agent runtime.
    pub static AGENT: AgentMetrics {
        /// Agent invocations started
        invocations: Counter = "mona_agent_invocations_total",
        /// Tool calls executed across all invocations
        tool_calls: Counter = "mona_agent_tool_calls_total",
        /// LLM turns completed
        turns: Counter = "mona_agent_turns_total",
        /// Guardrail-triggered retries
        guardrail_retries: Counter = "mona_agent_guardrail_retries_total",
        /// Invocations stopped due to budget limits
        budget_exhausted: Counter = "mona_agent_budget_exhausted_total",
    }

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
