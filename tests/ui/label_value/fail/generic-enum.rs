#[derive(keviq::LabelValue)]
enum Level<const N: usize> {
    Low,
    High,
}

fn main() {}
