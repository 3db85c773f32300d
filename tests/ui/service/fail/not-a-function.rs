#[keviq::service(name = "agent-runtime")]
struct App;

fn main() {}
