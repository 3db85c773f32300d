//! The agent-runtime example as a real process: `KEVIQ_LISTEN` is validated with a
//! message naming the variable, and SIGTERM shuts the server down gracefully.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `target/<profile>/examples/agent_runtime`, which `cargo test` builds with the tests.
fn example() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    let path = profile_dir.join("examples").join("agent_runtime");
    assert!(
        path.exists(),
        "{} is missing: run through `cargo test`, which builds examples",
        path.display()
    );
    path
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

/// Kills the child if the test fails before it exits, so no server outlives the test.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
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

    // SAFETY: sending a signal to our own child process.
    let rc = unsafe { libc_kill(child.0.id() as i32, 15) };
    assert_eq!(rc, 0);
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.0.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "no exit within 10 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        rest.iter()
            .any(|l| l.contains("\"message\":\"shutting down\"")),
        "{rest:?}"
    );
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, signal: i32) -> i32;
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
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc_kill(child.0.id() as i32, 15) }, 0);
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.0.stdout.take().expect("piped"), &mut stdout)
        .expect("read");
    assert!(child.0.wait().expect("wait").success());
    assert!(!stdout.contains("\"level\":\"INFO\""), "{stdout}");
}
