//! The agent-runtime service of ARCHITECTURE.md: `POST /api/v1/invocations` runs an agent
//! loop within a budget and records the five domain counters at its lifecycle
//! points. The loop is written once; what a turn and a tool call reach is a
//! [`Backend`]: [`Simulated`] when the service runs on its own, the fleet's model
//! gateway and execution service in the fleet demo.
//!
//! ```text
//! cargo run -p example-agent-runtime      # listens on KEVIQ_LISTEN (default 127.0.0.1:8000)
//! curl -s -XPOST localhost:8000/api/v1/invocations -H 'content-type: application/json' -d '{"budget": 4}'
//! curl -s localhost:8000/metrics | grep mona_
//! ```

use std::future::Future;

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

keviq::metric! {
    /// Domain metrics of the agent runtime.
    pub static AGENT: AgentMetrics {
        /// Agent invocations started
        pub invocations: Counter = "mona_agent_invocations_total",
        /// Tool calls executed across all invocations
        pub tool_calls: Counter = "mona_agent_tool_calls_total",
        /// LLM turns completed
        pub turns: Counter = "mona_agent_turns_total",
        /// Guardrail-triggered retries
        pub guardrail_retries: Counter = "mona_agent_guardrail_retries_total",
        /// Invocations stopped due to budget limits
        pub budget_exhausted: Counter = "mona_agent_budget_exhausted_total",
    }
}

/// What an agent reaches while it runs: the language model for each turn, the
/// sandbox for each tool call, and the store for its transcript.
pub trait Backend: Clone + Send + Sync + 'static {
    /// Why a call failed; answered as the invocation's response.
    type Error: IntoResponse + Send;

    /// One LLM call for turn `turn` (a retried turn calls again).
    fn complete(
        &self,
        prompt: &serde_json::Value,
        turn: u32,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// One tool call during turn `turn`.
    fn execute(&self, turn: u32) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Stores the transcript of a finished invocation.
    fn store_transcript(&self, turns: u32) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// A backend that answers at once: the service on its own, with no peers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Simulated;

impl Backend for Simulated {
    type Error = std::convert::Infallible;

    async fn complete(&self, _: &serde_json::Value, _: u32) -> Result<(), Self::Error> {
        Ok(())
    }

    async fn execute(&self, _: u32) -> Result<(), Self::Error> {
        Ok(())
    }

    async fn store_transcript(&self, _: u32) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// The agent-runtime service's routes; `#[keviq::service]` adds request IDs,
/// metrics and `/metrics`.
#[keviq::service(name = "agent-runtime", metrics = [AGENT])]
pub fn app<B: Backend>(backend: B) -> Router {
    Router::new()
        .route("/api/v1/invocations", post(invoke::<B>))
        .with_state(backend)
}

/// An invocation request. Every field is optional; other fields (the caller's
/// subject or workspace) are ignored.
#[derive(Debug, Default, Deserialize)]
pub struct Invocation {
    /// Work units the agent may spend: each LLM turn costs 1, each tool call 1,
    /// each guardrail retry 1. Default 12, at most 1,000.
    pub budget: Option<u32>,
    /// LLM turns the task needs to finish. Default 3, at most 50.
    pub turns: Option<u32>,
    /// What the agent is asked to do, passed to the model.
    #[serde(default)]
    pub prompt: serde_json::Value,
}

/// What the invocation did.
#[derive(Debug, Serialize)]
pub struct Outcome {
    /// `completed` or `budget_exhausted`.
    pub status: &'static str,
    /// LLM turns completed.
    pub turns: u32,
    /// Tool calls executed.
    pub tool_calls: u32,
    /// Guardrail-triggered retries.
    pub guardrail_retries: u32,
    /// Work units spent.
    pub spent: u32,
    /// The correlation ID of the request.
    pub request_id: String,
}

async fn invoke<B: Backend>(
    State(backend): State<B>,
    body: Option<Json<Invocation>>,
) -> Result<Json<Outcome>, B::Error> {
    let request = body.map(|Json(b)| b).unwrap_or_default();
    let budget = request.budget.unwrap_or(12).min(1_000);
    let needed = request.turns.unwrap_or(3).clamp(1, 50);
    let request_id = keviq::request_id::current()
        .map(|id| id.to_string())
        .unwrap_or_default();
    // A cheap deterministic "random" source: the same request ID replays the same run.
    let mut seed = request_id
        .bytes()
        .fold(0x9e37_79b9_u32, |h, b| h.rotate_left(5) ^ u32::from(b));

    AGENT.invocations.inc();
    tracing::info!(budget, needed, "invocation started");
    let mut outcome = Outcome {
        status: "completed",
        turns: 0,
        tool_calls: 0,
        guardrail_retries: 0,
        spent: 0,
        request_id,
    };
    while outcome.turns < needed {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let tools = 1 + (seed >> 16) % 3;
        let retry = (seed >> 8) % 5 == 0;
        let cost = 1 + tools + u32::from(retry);
        if outcome.spent + cost > budget {
            AGENT.budget_exhausted.inc();
            outcome.status = "budget_exhausted";
            tracing::warn!(spent = outcome.spent, budget, "budget exhausted");
            break;
        }
        let turn = outcome.turns + 1;
        backend.complete(&request.prompt, turn).await?;
        if retry {
            // The guardrail rejected the answer: the turn is asked again.
            AGENT.guardrail_retries.inc();
            outcome.guardrail_retries += 1;
            tracing::info!(turn, "guardrail triggered a retry");
            backend.complete(&request.prompt, turn).await?;
        }
        for _ in 0..tools {
            backend.execute(turn).await?;
            AGENT.tool_calls.inc();
        }
        outcome.tool_calls += tools;
        AGENT.turns.inc();
        outcome.turns += 1;
        outcome.spent += cost;
        tracing::info!(turn = outcome.turns, tools, "turn completed");
    }
    backend.store_transcript(outcome.turns).await?;
    Ok(Json(outcome))
}
