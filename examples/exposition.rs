//! Declares the agent-runtime metrics of DESIGN.md, simulates a few invocations and
//! prints what `/metrics` will serve.
//!
//! ```text
//! cargo run --example exposition                 # Prometheus text 0.0.4
//! cargo run --example exposition -- openmetrics  # OpenMetrics 1.0
//! ```

use keviq::{Format, HttpMethod, Registry};

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

    /// HTTP metrics of the service.
    pub static HTTP: HttpMetrics {
        /// Total HTTP requests
        requests: Counter(method: HttpMethod, path: &str, status: u16) = "mona_http_requests_total",
        /// Request duration in milliseconds
        duration: Histogram(method: HttpMethod, path: &str) = "mona_http_request_duration_ms",
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
        HTTP.requests
            .labels(HttpMethod::Post, "/api/v1/invocations", 200)
            .inc();
        HTTP.duration
            .labels(HttpMethod::Post, "/api/v1/invocations")
            .observe(12.5 * budget as f64);
    }
    match Registry::global() {
        Ok(registry) => print!("{}", registry.render(format)),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
