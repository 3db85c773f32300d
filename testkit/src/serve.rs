//! Serves a router on a free port of 127.0.0.1 in the current runtime: the targets
//! and receivers the tests and benches scrape.

use std::net::SocketAddr;

/// Serves `router` on `127.0.0.1:0`; its address.
pub async fn serve(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("bound address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

/// A target of `series` distinct counter series, served on 127.0.0.1: the load of
/// the soak benches (`soak_requests_total{path="/r/{i}",status="200"} {i}`, about
/// 50 bytes a line, the same body at every scrape).
pub async fn counter_target(series: u64) -> SocketAddr {
    use std::fmt::Write as _;
    let mut text = String::from("# TYPE soak_requests_total counter\n");
    for i in 0..series {
        let _ = writeln!(
            text,
            "soak_requests_total{{path=\"/r/{i}\",status=\"200\"}} {i}"
        );
    }
    let body = axum::body::Bytes::from(text);
    let router = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let body = body.clone();
            async move { ([("content-type", "text/plain; version=0.0.4")], body) }
        }),
    );
    serve(router).await
}
