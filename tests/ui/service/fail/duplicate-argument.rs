#[keviq::service(name = "agent-runtime", name = "agent")]
fn app() -> axum::Router {
    axum::Router::new()
}

fn main() {}
