#[derive(keviq::LabelValue)]
enum Outcome {
    Ok,
    #[label(rename = "failed", rename = "error")]
    Failed,
}

fn main() {}
