//! Child processes: run a tool with input, stop a server with SIGTERM, and never
//! leave one behind a failed test.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs `program args` with `input` on stdin. A missing tool fails the test: CI
/// installs every tool (see `.ci/run`), and a skipped check would hide a regression.
pub fn run_with_stdin(program: &str, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run `{program}` ({e}); install it as `.ci/run` does"));
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.as_bytes())
        .expect("write to the tool's stdin");
    child.wait_with_output().expect("wait for the tool")
}

/// Kills the child if the test fails before it exits, so no process outlives the test.
#[derive(Debug)]
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Sends SIGTERM to a child and waits up to `within` for it to exit.
pub fn terminate(
    child: &mut std::process::Child,
    within: std::time::Duration,
) -> std::process::ExitStatus {
    unsafe extern "C" {
        #[link_name = "kill"]
        fn libc_kill(pid: i32, signal: i32) -> i32;
    }
    let pid = i32::try_from(child.id()).expect("a pid fits in i32");
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc_kill(pid, 15) }, 0, "SIGTERM to {pid}");
    let deadline = std::time::Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no exit within {within:?} of SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
