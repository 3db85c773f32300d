//! `metrics` takes a bracketed list of paths, given once.

#[keviq::service(name = "agent-runtime", metrics = ["AGENT"])]
fn quoted() -> axum::Router {
    axum::Router::new()
}

keviq::metric! {
    /// Agent invocations
    static INVOCATIONS: Counter = "mona_agent_invocations_total";
}

#[keviq::service(name = "agent-runtime", metrics = [INVOCATIONS], metrics = [INVOCATIONS])]
fn twice() -> axum::Router {
    axum::Router::new()
}

fn main() {
    let _ = quoted();
    let _ = twice();
}
