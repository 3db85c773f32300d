//! Serves the W3C Trace Context test service on `KEVIQ_LISTEN` (default
//! `127.0.0.1:8000`).

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    keviq::logging::init("trace-context-test")?;
    keviq::axum::serve(trace_context_service::app()).await?;
    Ok(())
}
