#[derive(keviq::LabelValue)]
enum Protocol {
    Http,
    HTTP,
    GrpcStream,
    GRPCStream,
}

fn main() {}
