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
