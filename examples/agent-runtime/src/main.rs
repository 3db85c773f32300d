//! The agent-runtime service on its own, with a simulated model and sandbox.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    if let Err(e) = keviq::logging::init("agent-runtime") {
        eprintln!("agent-runtime: {e}");
        return ExitCode::FAILURE;
    }
    match keviq::axum::serve(agent_runtime::app(agent_runtime::Simulated)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "agent-runtime stopped");
            eprintln!("agent-runtime: {e}");
            ExitCode::FAILURE
        }
    }
}
