//! The fourteen services of the fleet written here (the fifteenth, the telemetry
//! service, comes from `keviq-telemetry`), each a `#[keviq::service]` router whose
//! handlers call their peers the way the real platform does:
//!
//! ```text
//! api-gateway ─┬─> auth-service ─┬─> secret-broker
//!              │                 └─> policy-service
//!              ├─> orchestrator ─┬─> workspace-service
//!              │                 ├─> agent-runtime ─┬─> model-gateway ──> secret-broker
//!              │                 │                  ├─> execution-service ──> policy-service
//!              │                 │                  └─> artifact-service ──> event-store
//!              │                 ├─> event-store
//!              │                 └─> audit-service, notification-service (on the side)
//!              └─> sse-gateway ──> event-store
//! ```
//!
//! Leaf services fail (`503`) or stall for a configurable share of requests, so error
//! rates and tail latencies travel up the chains as they would in production.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::Method;
use keviq::request_id;
use serde_json::{Value, json};

use crate::peers::{CallError, Peers};

/// Share of requests the leaf services fail or slow down.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Faults {
    /// Share answered `503`, from 0 to 1.
    pub(crate) error_share: f64,
    /// Share that stalls for 150 to 600 ms, from 0 to 1.
    pub(crate) slow_share: f64,
}

impl Faults {
    /// A leaf's bad luck: sometimes a `503`, sometimes a stall, then `work_ms` of work.
    async fn work(self, work_ms: std::ops::RangeInclusive<u64>) -> Result<(), Failure> {
        if fastrand::f64() < self.error_share {
            tracing::warn!("injected failure: answering 503");
            return Err(Failure(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily unavailable".into(),
            ));
        }
        let mut ms = fastrand::u64(work_ms);
        if fastrand::f64() < self.slow_share {
            let stall = fastrand::u64(150..=600);
            tracing::warn!(stall_ms = stall, "injected stall");
            ms += stall;
        }
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Ok(())
    }
}

/// A call slower than this is logged at `warn`.
const SLOW_CALL_MS: f64 = 100.0;

/// What every handler of the fleet reaches: its peers and the fault shares.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    /// The other services.
    pub(crate) peers: Peers,
    /// Injected failures and stalls.
    pub(crate) faults: Faults,
}

impl Ctx {
    async fn call(
        &self,
        peer: &'static str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, Failure> {
        // Every call is logged under the request's ID, so one request's lines come
        // from every service on its path: at `info` always, at `warn` (the demo's
        // default) when it failed or was slow, the requests the dashboard points at.
        let started = std::time::Instant::now();
        let result = self.peers.call(peer, method.clone(), path, body).await;
        // To the tenth of a millisecond: what a person reads in the request view.
        let elapsed_ms = (started.elapsed().as_secs_f64() * 10_000.0).round() / 10.0;
        match &result {
            Err(e) => tracing::warn!(peer, %method, path, elapsed_ms, error = %e, "call failed"),
            Ok(_) if elapsed_ms >= SLOW_CALL_MS => {
                tracing::warn!(peer, %method, path, elapsed_ms, "slow call");
            }
            Ok(_) => tracing::info!(peer, %method, path, elapsed_ms, "call"),
        }
        Ok(result?)
    }

    /// A call whose outcome the caller does not wait for (audit, notifications):
    /// moved to its own task, still under the request's ID.
    fn on_the_side(&self, peer: &'static str, path: &'static str, body: Value) {
        let ctx = self.clone();
        let work = async move {
            if let Err(e) = ctx.call(peer, Method::POST, path, Some(&body)).await {
                tracing::warn!(peer, error = %e.1, "side call failed");
            }
        };
        match request_id::current() {
            Some(id) => drop(tokio::spawn(request_id::scope(id, work))),
            None => drop(tokio::spawn(work)),
        }
    }
}

/// A failed request: its status and a message, answered as JSON.
#[derive(Debug)]
pub(crate) struct Failure(StatusCode, String);

impl From<CallError> for Failure {
    /// A peer's client error is passed on (`401` stays `401`); anything else is this
    /// service's `502`.
    fn from(e: CallError) -> Self {
        match e {
            CallError::Status { status, .. } if status.is_client_error() => {
                Self(status, e.to_string())
            }
            _ => Self(StatusCode::BAD_GATEWAY, e.to_string()),
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

type Answer = Result<Json<Value>, Failure>;

// ------------------------------------------------------------------ the edge

/// The public entry: authenticates, then routes to the orchestrator or the SSE
/// gateway.
#[keviq::service(name = "api-gateway")]
pub(crate) fn api_gateway(ctx: Ctx) -> Router {
    Router::new()
        .route("/api/v1/tasks", post(create_task))
        .route("/api/v1/tasks/{id}", get(get_task))
        .route("/api/v1/streams/{id}", get(open_stream))
        .with_state(ctx)
}

async fn authenticate(ctx: &Ctx, headers: &HeaderMap) -> Result<Value, Failure> {
    let token = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let body = json!({ "token": token });
    ctx.call("auth-service", Method::POST, "/api/v1/verify", Some(&body))
        .await
}

async fn create_task(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Json(task): Json<Value>,
) -> Answer {
    let who = authenticate(&ctx, &headers).await?;
    let run = json!({ "subject": who["subject"], "workspace": task["workspace"], "prompt": task["prompt"] });
    let run = ctx
        .call("orchestrator", Method::POST, "/api/v1/runs", Some(&run))
        .await?;
    Ok(Json(
        json!({ "task": run["run"], "outcome": run["outcome"] }),
    ))
}

async fn get_task(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<u64>) -> Answer {
    authenticate(&ctx, &headers).await?;
    let path = format!("/api/v1/runs/{id}");
    Ok(Json(
        ctx.call("orchestrator", Method::GET, &path, None).await?,
    ))
}

async fn open_stream(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<u64>) -> Answer {
    authenticate(&ctx, &headers).await?;
    let path = format!("/api/v1/streams/{id}");
    Ok(Json(
        ctx.call("sse-gateway", Method::GET, &path, None).await?,
    ))
}

/// Checks bearer tokens: the signing key from the secret broker, the subject's
/// rights from the policy service.
#[keviq::service(name = "auth-service")]
pub(crate) fn auth_service(ctx: Ctx) -> Router {
    Router::new()
        .route("/api/v1/verify", post(verify))
        .with_state(ctx)
}

async fn verify(State(ctx): State<Ctx>, Json(body): Json<Value>) -> Answer {
    let token = body["token"].as_str().unwrap_or("");
    ctx.call(
        "secret-broker",
        Method::GET,
        "/api/v1/secrets/token-signing-key",
        None,
    )
    .await?;
    let Some(subject) = token.strip_prefix("user-") else {
        return Err(Failure(StatusCode::UNAUTHORIZED, "invalid token".into()));
    };
    let question = json!({ "subject": subject, "action": "tasks:run" });
    ctx.call(
        "policy-service",
        Method::POST,
        "/api/v1/decisions",
        Some(&question),
    )
    .await?;
    Ok(Json(json!({ "subject": subject })))
}

// ------------------------------------------------------------ orchestration

/// Runs tasks: loads the workspace, invokes the agent, records the run.
#[keviq::service(name = "orchestrator")]
pub(crate) fn orchestrator(ctx: Ctx) -> Router {
    Router::new()
        .route("/api/v1/runs", post(start_run))
        .route("/api/v1/runs/{id}", get(get_run))
        .with_state(ctx)
}

async fn start_run(State(ctx): State<Ctx>, Json(run): Json<Value>) -> Answer {
    let workspace = run["workspace"].as_u64().unwrap_or(1);
    let path = format!("/api/v1/workspaces/{workspace}");
    ctx.call("workspace-service", Method::GET, &path, None)
        .await?;
    let outcome = ctx
        .call(
            "agent-runtime",
            Method::POST,
            "/api/v1/invocations",
            Some(&run),
        )
        .await?;
    let id = fastrand::u64(1..1_000_000);
    let event = json!({ "stream": id, "type": "run.finished", "outcome": outcome["status"] });
    ctx.call("event-store", Method::POST, "/api/v1/events", Some(&event))
        .await?;
    ctx.on_the_side(
        "audit-service",
        "/api/v1/records",
        json!({ "action": "run", "run": id, "subject": run["subject"] }),
    );
    ctx.on_the_side(
        "notification-service",
        "/api/v1/notifications",
        json!({ "to": run["subject"], "run": id }),
    );
    Ok(Json(json!({ "run": id, "outcome": outcome })))
}

async fn get_run(State(ctx): State<Ctx>, Path(id): Path<u64>) -> Answer {
    let path = format!("/api/v1/artifacts/{id}");
    let artifact = ctx
        .call("artifact-service", Method::GET, &path, None)
        .await?;
    Ok(Json(json!({ "run": id, "artifact": artifact })))
}

/// Runs agents (the `example-agent-runtime` package): each LLM turn through the
/// model gateway, each tool call through the execution service, the transcript to
/// the artifact service.
impl agent_runtime::Backend for Ctx {
    type Error = Failure;

    async fn complete(&self, prompt: &Value, turn: u32) -> Result<(), Failure> {
        let prompt = json!({ "prompt": prompt, "turn": turn });
        let path = "/api/v1/completions";
        self.call("model-gateway", Method::POST, path, Some(&prompt))
            .await
            .map(drop)
    }

    async fn execute(&self, turn: u32) -> Result<(), Failure> {
        let tool = json!({ "tool": "python", "turn": turn });
        let path = "/api/v1/executions";
        self.call("execution-service", Method::POST, path, Some(&tool))
            .await
            .map(drop)
    }

    async fn store_transcript(&self, turns: u32) -> Result<(), Failure> {
        let artifact = json!({ "kind": "transcript", "turns": turns });
        let path = "/api/v1/artifacts";
        self.call("artifact-service", Method::POST, path, Some(&artifact))
            .await
            .map(drop)
    }
}

/// Reaches the language models, with API keys from the secret broker.
#[keviq::service(name = "model-gateway")]
pub(crate) fn model_gateway(ctx: Ctx) -> Router {
    Router::new()
        .route("/api/v1/completions", post(complete))
        .with_state(ctx)
}

async fn complete(State(ctx): State<Ctx>) -> Answer {
    ctx.call(
        "secret-broker",
        Method::GET,
        "/api/v1/secrets/model-api-key",
        None,
    )
    .await?;
    ctx.faults.work(5..=30).await?;
    Ok(Json(
        json!({ "text": "…", "tokens": fastrand::u32(20..=400) }),
    ))
}

/// Runs tools in sandboxes, after asking the policy service.
#[keviq::service(name = "execution-service")]
pub(crate) fn execution_service(ctx: Ctx) -> Router {
    Router::new()
        .route("/api/v1/executions", post(execute))
        .with_state(ctx)
}

async fn execute(State(ctx): State<Ctx>, Json(tool): Json<Value>) -> Answer {
    let question = json!({ "action": "tools:run", "tool": tool["tool"] });
    ctx.call(
        "policy-service",
        Method::POST,
        "/api/v1/decisions",
        Some(&question),
    )
    .await?;
    ctx.faults.work(2..=20).await?;
    Ok(Json(json!({ "exit_code": 0 })))
}

// ------------------------------------------------------------------ storage

/// Stores run artifacts and announces them on the event store.
#[keviq::service(name = "artifact-service")]
pub(crate) fn artifact_service(ctx: Ctx) -> Router {
    Router::new()
        .route("/api/v1/artifacts", post(put_artifact))
        .route("/api/v1/artifacts/{id}", get(get_artifact))
        .with_state(ctx)
}

async fn put_artifact(State(ctx): State<Ctx>) -> Result<(StatusCode, Json<Value>), Failure> {
    ctx.faults.work(1..=5).await?;
    let id = fastrand::u64(1..1_000_000);
    let event = json!({ "stream": id, "type": "artifact.created" });
    ctx.call("event-store", Method::POST, "/api/v1/events", Some(&event))
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "artifact": id }))))
}

async fn get_artifact(State(ctx): State<Ctx>, Path(id): Path<u64>) -> Answer {
    ctx.faults.work(1..=5).await?;
    // Old runs have had their artifacts expired.
    if id % 10 == 0 {
        return Err(Failure(StatusCode::NOT_FOUND, format!("no artifact {id}")));
    }
    Ok(Json(
        json!({ "artifact": id, "bytes": fastrand::u32(100..=100_000) }),
    ))
}

/// The append-only event log.
#[keviq::service(name = "event-store")]
pub(crate) fn event_store(ctx: Ctx) -> Router {
    Router::new()
        .route("/api/v1/events", post(append_event))
        .route("/api/v1/streams/{id}/events", get(read_stream))
        .with_state(ctx)
}

async fn append_event(State(ctx): State<Ctx>) -> Result<StatusCode, Failure> {
    ctx.faults.work(1..=3).await?;
    Ok(StatusCode::CREATED)
}

async fn read_stream(State(ctx): State<Ctx>, Path(id): Path<u64>) -> Answer {
    ctx.faults.work(1..=8).await?;
    Ok(Json(
        json!({ "stream": id, "events": fastrand::u32(0..=50) }),
    ))
}

/// Streams run events to browsers, reading the event store.
#[keviq::service(name = "sse-gateway")]
pub(crate) fn sse_gateway(ctx: Ctx) -> Router {
    Router::new()
        .route("/api/v1/streams/{id}", get(stream))
        .with_state(ctx)
}

async fn stream(State(ctx): State<Ctx>, Path(id): Path<u64>) -> Answer {
    let path = format!("/api/v1/streams/{id}/events");
    Ok(Json(
        ctx.call("event-store", Method::GET, &path, None).await?,
    ))
}

// ------------------------------------------------------------ the supporting cast

/// Workspaces and their settings.
#[keviq::service(name = "workspace-service")]
pub(crate) fn workspace_service(ctx: Ctx) -> Router {
    Router::new()
        .route("/api/v1/workspaces/{id}", get(get_workspace))
        .with_state(ctx)
}

async fn get_workspace(State(ctx): State<Ctx>, Path(id): Path<u64>) -> Answer {
    ctx.faults.work(1..=4).await?;
    Ok(Json(json!({ "workspace": id, "plan": "team" })))
}

/// Answers "may this subject do that?".
#[keviq::service(name = "policy-service")]
pub(crate) fn policy_service() -> Router {
    Router::new().route(
        "/api/v1/decisions",
        post(|| async { Json(json!({ "allow": true })) }),
    )
}

/// Hands out secrets to the services that need them.
#[keviq::service(name = "secret-broker")]
pub(crate) fn secret_broker() -> Router {
    Router::new().route(
        "/api/v1/secrets/{name}",
        get(|Path(name): Path<String>| async move { Json(json!({ "name": name, "version": 3 })) }),
    )
}

/// Keeps the audit trail.
#[keviq::service(name = "audit-service")]
pub(crate) fn audit_service() -> Router {
    Router::new().route("/api/v1/records", post(|| async { StatusCode::ACCEPTED }))
}

/// Sends notifications.
#[keviq::service(name = "notification-service")]
pub(crate) fn notification_service() -> Router {
    Router::new().route(
        "/api/v1/notifications",
        post(|| async { StatusCode::ACCEPTED }),
    )
}

/// The router of one of the fourteen services above, by name.
pub(crate) fn router(name: &str, ctx: Ctx) -> Option<Router> {
    Some(match name {
        "api-gateway" => api_gateway(ctx),
        "auth-service" => auth_service(ctx),
        "workspace-service" => workspace_service(ctx),
        "policy-service" => policy_service(),
        "orchestrator" => orchestrator(ctx),
        "agent-runtime" => agent_runtime::app(ctx),
        "artifact-service" => artifact_service(ctx),
        "execution-service" => execution_service(ctx),
        "event-store" => event_store(ctx),
        "model-gateway" => model_gateway(ctx),
        "sse-gateway" => sse_gateway(ctx),
        "audit-service" => audit_service(),
        "notification-service" => notification_service(),
        "secret-broker" => secret_broker(),
        _ => return None,
    })
}
