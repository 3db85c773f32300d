#[keviq::service(name = "Agent_Runtime")]
fn app() -> axum::Router {
    axum::Router::new()
}

fn main() {}
