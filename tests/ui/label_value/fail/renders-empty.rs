#[derive(keviq::LabelValue)]
#[allow(non_camel_case_types)]
enum Marker {
    Set,
    __,
}

fn main() {}
