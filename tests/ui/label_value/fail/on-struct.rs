#[derive(keviq::LabelValue)]
struct Route {
    path: String,
}

fn main() {}
