#[derive(keviq::LabelValue)]
enum Never {}

fn main() {}
