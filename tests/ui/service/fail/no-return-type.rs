#[keviq::service(name = "agent-runtime")]
fn app() {
    let _ = axum::Router::<()>::new();
}

fn main() {}
