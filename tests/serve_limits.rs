//! `keviq::axum::serve_with` against hostile clients on 127.0.0.1: idle and
//! slowloris connections are closed after the header-read timeout, a trickled body
//! hits its deadline, and the connection cap keeps file descriptors bounded while
//! normal requests are still answered. Short limits keep the test fast.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::{get, post};
use keviq::axum::{ServeOptions, serve_with};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const TIMEOUT: Duration = Duration::from_millis(800);

fn app() -> Router {
    Router::new()
        .route("/", get(|| async { "ok" }))
        .route("/echo", post(|body: String| async move { body }))
}

async fn start(options: ServeOptions) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(serve_with(listener, app(), std::future::pending(), options));
    addr
}

fn options() -> ServeOptions {
    ServeOptions::DEFAULT
        .with_header_read_timeout(TIMEOUT)
        .with_body_timeout(TIMEOUT)
}

/// A plain `GET /` on a fresh connection, with its status line.
async fn get_status(addr: SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut response = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut response));
    read.await.expect("answered within 5 s").expect("read");
    String::from_utf8_lossy(&response)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Whether the server closed `stream` (EOF or reset) within `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 256];
    loop {
        match tokio::time::timeout(within, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            // A `408`-style answer before closing is fine: keep reading to EOF.
            Ok(Ok(_)) => {}
        }
    }
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed_after_the_header_read_timeout() {
    let addr = start(options()).await;
    let mut idle = Vec::new();
    for _ in 0..50 {
        idle.push(TcpStream::connect(addr).await.expect("connect"));
    }
    // A keep-alive connection idle after a full request is closed the same way.
    let mut kept = TcpStream::connect(addr).await.expect("connect");
    kept.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .expect("write");
    let mut first = [0u8; 64];
    let n = kept.read(&mut first).await.expect("answer");
    assert!(first[..n].starts_with(b"HTTP/1.1 200"));

    assert_eq!(get_status(addr).await, "HTTP/1.1 200 OK");
    let started = Instant::now();
    for stream in &mut idle {
        assert!(
            closed_within(stream, TIMEOUT * 4).await,
            "an idle connection stayed open"
        );
    }
    assert!(
        closed_within(&mut kept, TIMEOUT * 4).await,
        "a kept-alive connection stayed open"
    );
    assert!(started.elapsed() < TIMEOUT * 4);
    assert_eq!(get_status(addr).await, "HTTP/1.1 200 OK");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slowloris_head_is_cut_off() {
    let addr = start(options()).await;
    let mut slow = TcpStream::connect(addr).await.expect("connect");
    slow.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n")
        .await
        .expect("write");
    let started = Instant::now();
    let mut cut = false;
    // One header line every 100 ms, for at most 5 timeouts' worth.
    while started.elapsed() < TIMEOUT * 5 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if slow.write_all(b"x-slow: 1\r\n").await.is_err() {
            cut = true;
            break;
        }
        if closed_within(&mut slow, Duration::from_millis(1)).await {
            cut = true;
            break;
        }
    }
    assert!(
        cut,
        "a head trickled for {:?} was not cut off",
        started.elapsed()
    );
    assert!(started.elapsed() < TIMEOUT * 3);
    assert_eq!(get_status(addr).await, "HTTP/1.1 200 OK");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_body_hits_its_deadline() {
    let addr = start(options()).await;
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n")
        .await
        .expect("write");
    let started = Instant::now();
    let mut response = Vec::new();
    let mut buf = [0u8; 512];
    // One byte every 100 ms: each gap is short, the whole body never ends.
    while started.elapsed() < TIMEOUT * 5 {
        let _ = stream.write_all(b"a").await;
        match tokio::time::timeout(Duration::from_millis(100), stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(n)) => {
                response.extend_from_slice(&buf[..n]);
                break;
            }
            Err(_) => {}
        }
    }
    let elapsed = started.elapsed();
    assert!(elapsed < TIMEOUT * 3, "the body ran for {elapsed:?}");
    let status = String::from_utf8_lossy(&response);
    assert!(
        status.is_empty() || status.starts_with("HTTP/1.1 4"),
        "answered {status}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_cap_bounds_descriptors_and_normal_requests_still_get_through() {
    const CAP: usize = 16;
    let addr = start(
        options()
            .with_header_read_timeout(Duration::from_secs(30))
            .with_max_connections(CAP),
    )
    .await;
    // Warm up, then count: the test's own descriptors are counted too.
    assert_eq!(get_status(addr).await, "HTTP/1.1 200 OK");
    let before = open_fds();
    let mut flood = Vec::new();
    // Past the cap, connections wait in the listener's backlog (128 for this
    // test's listener): stay below cap + backlog, where clients would retry SYNs.
    for _ in 0..100 {
        flood.push(TcpStream::connect(addr).await.expect("connect"));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let during = open_fds();

    // Each flood connection costs the test one descriptor; the server accepted at
    // most CAP of them.
    assert!(
        during <= before + flood.len() + CAP,
        "{before} descriptors before, {during} during a flood of {}",
        flood.len()
    );
    // The cap is full of idle connections: a new request waits for a slot, and
    // gets one as soon as a flood connection goes away.
    let waiting = tokio::spawn(get_status(addr));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !waiting.is_finished(),
        "a request past the cap was answered at once"
    );
    flood.truncate(0);
    let status = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("answered once the flood closed")
        .expect("task");
    assert_eq!(status, "HTTP/1.1 200 OK");
}

#[test]
fn limits_come_from_the_environment_with_the_variable_named() {
    let vars = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        }
    };
    let options = ServeOptions::from_vars(vars(&[
        ("KEVIQ_MAX_CONNECTIONS", "64"),
        ("KEVIQ_HEADER_READ_TIMEOUT_SECONDS", "5"),
    ]))
    .expect("valid");
    assert_eq!(options.max_connections, 64);
    assert_eq!(options.header_read_timeout, Duration::from_secs(5));
    assert_eq!(options.body_timeout, ServeOptions::DEFAULT.body_timeout);
    let err = ServeOptions::from_vars(vars(&[("KEVIQ_BODY_TIMEOUT_SECONDS", "0")]))
        .expect_err("zero is refused");
    assert_eq!(
        err.to_string(),
        "KEVIQ_BODY_TIMEOUT_SECONDS=`0` is not a whole number of at least 1"
    );
}

#[keviq::service(name = "hangup")]
fn hangup_service() -> Router {
    Router::new().route(
        "/upload",
        post(|body: String| async move { body.len().to_string() }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_hangs_up_mid_body_is_recorded_as_499() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(serve_with(
        listener,
        hangup_service(),
        std::future::pending(),
        options(),
    ));

    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(b"POST /upload HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\nonly ten b")
        .await
        .expect("write");
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(stream);

    let series = r#"mona_http_requests_total{method="POST",path="/upload",status="499"} 1"#;
    let registry = keviq::axum::services()
        .iter()
        .find(|s| s.name == "hangup")
        .expect("registered")
        .registry()
        .expect("no clash");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = registry.render(keviq::Format::Prometheus);
        if text.contains(series) {
            assert!(!text.contains(r#"path="/upload",status="400""#), "{text}");
            break;
        }
        assert!(Instant::now() < deadline, "no 499 recorded:\n{text}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
