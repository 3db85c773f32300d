//! The agent-runtime example as a real process: `KEVIQ_LISTEN` is validated with a
//! message naming the variable, and SIGTERM shuts the server down gracefully.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use keviq_testkit::{KillOnDrop, terminate};

fn example() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_agent-runtime"))
}

#[test]
fn invalid_listen_address_names_the_variable() {
    let out = Command::new(example())
        .env("KEVIQ_LISTEN", "localhost-without-port")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("KEVIQ_LISTEN=`localhost-without-port` is not a socket address"),
        "{stderr}"
    );
}

#[test]
fn sigterm_shuts_down_gracefully() {
    let mut child = Command::new(example())
        .env("KEVIQ_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the example");
    let stdout = child.stdout.take().expect("piped");
    let mut child = KillOnDrop(child);
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().expect("a log line").expect("utf-8");
    let record: serde_json::Value = serde_json::from_str(&first).expect("JSON log line");
    assert_eq!(record["message"], "listening");
    assert_eq!(record["service"], "agent-runtime");
    let addr = record["addr"].as_str().expect("addr field").to_owned();
    assert!(!addr.ends_with(":0"), "the bound port is reported: {addr}");
    std::net::TcpStream::connect(&addr).expect("the server accepts connections");

    let status = terminate(&mut child.0, Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        rest.iter()
            .any(|l| l.contains("\"message\":\"shutting down\"")),
        "{rest:?}"
    );
}

#[test]
fn rust_log_filters_and_an_invalid_filter_is_refused() {
    let out = Command::new(example())
        .env("RUST_LOG", "info,[[[")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("RUST_LOG is not a valid filter"),
        "{stderr}"
    );

    // At `warn`, the `info` start-up line is filtered out; SIGTERM still stops it.
    let child = Command::new(example())
        .env("KEVIQ_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the example");
    let mut child = KillOnDrop(child);
    std::thread::sleep(Duration::from_millis(500));
    assert!(terminate(&mut child.0, Duration::from_secs(10)).success());
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.0.stdout.take().expect("piped"), &mut stdout)
        .expect("read");
    assert!(!stdout.contains("\"level\":\"INFO\""), "{stdout}");
}
