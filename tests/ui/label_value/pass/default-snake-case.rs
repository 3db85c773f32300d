//! With no `rename_all`, a variant renders as its name in snake case, with the
//! word boundaries of `heck`: an acronym is one word, and a digit stays in the word
//! it follows.

#[derive(keviq::LabelValue)]
enum Transport {
    HTTP,
    Http2,
    GRPCStream,
    WebSocket,
    V2Api,
    ToolCall,
    r#Loop,
}

keviq::metric! {
    /// Connections opened, by transport
    static CONNECTIONS: Counter(transport: Transport) = "label_value_connections_total";
}

fn names<T: keviq::LabelValue>() -> Vec<&'static str> {
    (0..T::CARDINALITY.expect("fixed cardinality"))
        .map(T::name)
        .collect()
}

fn main() {
    assert_eq!(
        names::<Transport>(),
        [
            "http",
            "http2",
            "grpc_stream",
            "web_socket",
            "v2_api",
            "tool_call",
            "loop"
        ],
    );
    for transport in [
        Transport::HTTP,
        Transport::Http2,
        Transport::GRPCStream,
        Transport::WebSocket,
        Transport::V2Api,
        Transport::ToolCall,
        Transport::r#Loop,
    ] {
        CONNECTIONS.labels(transport).inc();
    }
    let text = keviq::Registry::global()
        .expect("no clash")
        .render(keviq::Format::Prometheus);
    for value in names::<Transport>() {
        let line = format!("label_value_connections_total{{transport=\"{value}\"}} 1\n");
        assert!(text.contains(&line), "{text}");
    }
}
