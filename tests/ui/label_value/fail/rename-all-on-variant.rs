#[derive(keviq::LabelValue)]
enum Outcome {
    Ok,
    #[label(rename_all = "UPPERCASE")]
    Failed,
}

fn main() {}
