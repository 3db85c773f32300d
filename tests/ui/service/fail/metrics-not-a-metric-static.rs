//! `metrics = [..]` lists metric statics; anything else is named as the mistake.

keviq::metric! {
    /// Agent invocations
    static INVOCATIONS: Counter = "mona_agent_invocations_total";
}

static RETRIES: u64 = 0;

#[keviq::service(name = "agent-runtime", metrics = [INVOCATIONS, RETRIES])]
fn app() -> axum::Router {
    axum::Router::new()
}

fn main() {
    let _ = app();
}
