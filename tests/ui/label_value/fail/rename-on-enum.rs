#[derive(keviq::LabelValue)]
#[label(rename = "outcome")]
enum Outcome {
    Ok,
    Failed,
}

fn main() {}
