#[keviq::service(name = "agent-runtime")]
fn app() -> String {
    String::from("routes")
}

fn main() {}
