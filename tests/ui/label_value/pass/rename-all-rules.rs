//! `#[label(rename_all = "...")]` takes serde's rule names; every rule but
//! `lowercase` and `UPPERCASE` splits the names into the same words as the default.

macro_rules! transports {
    ($($name:ident = $rule:literal),* $(,)?) => {$(
        #[derive(keviq::LabelValue)]
        #[label(rename_all = $rule)]
        #[allow(dead_code, clippy::upper_case_acronyms)]
        enum $name {
            HTTP,
            Http2,
            GRPCStream,
            WebSocket,
            V2Api,
        }
    )*};
}

transports! {
    Lower = "lowercase",
    Upper = "UPPERCASE",
    Snake = "snake_case",
    Kebab = "kebab-case",
    ScreamingSnake = "SCREAMING_SNAKE_CASE",
    ScreamingKebab = "SCREAMING-KEBAB-CASE",
    Camel = "camelCase",
    Pascal = "PascalCase",
}

fn names<T: keviq::LabelValue>() -> Vec<&'static str> {
    (0..T::CARDINALITY.expect("fixed cardinality"))
        .map(T::name)
        .collect()
}

fn main() {
    assert_eq!(
        names::<Lower>(),
        ["http", "http2", "grpcstream", "websocket", "v2api"]
    );
    assert_eq!(
        names::<Upper>(),
        ["HTTP", "HTTP2", "GRPCSTREAM", "WEBSOCKET", "V2API"]
    );
    assert_eq!(
        names::<Snake>(),
        ["http", "http2", "grpc_stream", "web_socket", "v2_api"]
    );
    assert_eq!(
        names::<Kebab>(),
        ["http", "http2", "grpc-stream", "web-socket", "v2-api"]
    );
    assert_eq!(
        names::<ScreamingSnake>(),
        ["HTTP", "HTTP2", "GRPC_STREAM", "WEB_SOCKET", "V2_API"],
    );
    assert_eq!(
        names::<ScreamingKebab>(),
        ["HTTP", "HTTP2", "GRPC-STREAM", "WEB-SOCKET", "V2-API"],
    );
    assert_eq!(
        names::<Camel>(),
        ["http", "http2", "grpcStream", "webSocket", "v2Api"]
    );
    assert_eq!(
        names::<Pascal>(),
        ["Http", "Http2", "GrpcStream", "WebSocket", "V2Api"]
    );
}
