#[derive(keviq::LabelValue)]
#[label(rename_all = "lowercase")]
enum Transport {
    WebSocket,
    Websocket,
}

fn main() {}
