#[derive(keviq::LabelValue)]
#[label(totally_bogus = 42)]
enum Outcome {
    Ok,
    Failed,
}

fn main() {}
