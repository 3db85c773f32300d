#[derive(keviq::LabelValue)]
enum Outcome {
    Ok,
    Failed(String),
}

fn main() {}
