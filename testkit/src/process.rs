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

/// A field of `/proc/{pid}/status` in KiB (`"VmRSS:"`, `"VmHWM:"`); 0 when the
/// process or the field is gone.
pub fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// CPU time of a process, in clock ticks (`/proc/{pid}/stat`): its own user and
/// system time, and, with `children`, that of its children it has waited for.
/// `None` when the process is gone.
pub fn cpu_ticks(pid: u32, children: bool) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command, which is in parentheses and may hold spaces.
    let fields: Vec<u64> = stat
        .rsplit_once(')')?
        .1
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    // utime, stime, cutime, cstime are fields 14–17 of the line, 12–15 here.
    let own = fields.get(11)? + fields.get(12)?;
    Some(if children {
        own + fields.get(13)? + fields.get(14)?
    } else {
        own
    })
}

/// The CPU time of every process named `comm` (`/proc/*/comm`), with the children
/// each has waited for, in clock ticks: what a server of many processes
/// (PostgreSQL's `postgres`) has used so far.
pub fn cpu_ticks_of_all(comm: &str) -> u64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == comm)
        })
        .filter_map(|pid| cpu_ticks(pid, true))
        .sum()
}

/// Clock ticks a second (`sysconf(_SC_CLK_TCK)`), for [`cpu_ticks`].
pub fn ticks_per_second() -> u64 {
    unsafe extern "C" {
        fn sysconf(name: i32) -> i64;
    }
    // SAFETY: sysconf reads a constant of the system; _SC_CLK_TCK is 2 on Linux.
    u64::try_from(unsafe { sysconf(2) }).unwrap_or(100)
}
