#[derive(keviq::LabelValue)]
enum Outcome {
    Ok,
    #[label(rename = "ok")]
    Success,
    Failed,
    #[label(rename = "failed")]
    Error,
}

fn main() {}
