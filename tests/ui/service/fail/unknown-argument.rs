#[keviq::service(name = "agent-runtime", port = 8000)]
fn app() -> axum::Router {
    axum::Router::new()
}

fn main() {}
