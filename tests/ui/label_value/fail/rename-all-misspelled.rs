#[derive(keviq::LabelValue)]
#[label(rename_all = "SHOUTY_SNAKE_CASE")]
enum Outcome {
    Ok,
    Failed,
}

fn main() {}
