#[keviq::service(name = "agent-runtime", metrics_path = "/:metrics")]
fn app() -> axum::Router {
    axum::Router::new()
}

fn main() {}
