#[derive(keviq::LabelValue)]
enum Outcome {
    Ok,
    #[label(renam = "failed")]
    Error,
}

fn main() {}
