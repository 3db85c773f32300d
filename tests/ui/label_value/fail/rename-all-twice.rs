#[derive(keviq::LabelValue)]
#[label(rename_all = "kebab-case")]
#[label(rename_all = "snake_case")]
enum Outcome {
    Ok,
    Failed,
}

fn main() {}
