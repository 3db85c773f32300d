#[derive(keviq::LabelValue)]
#[label(rename_all = "Title Case")]
enum Outcome {
    Ok,
    Failed,
}

fn main() {}
