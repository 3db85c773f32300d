//! Helpers the example packages' system tests share: real external tools
//! (`promtool`, Python's `prometheus_client`), child processes, the repository root.

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

/// Names whose promtool finding DESIGN.md forces: `_ms` is an abbreviated unit, but
/// dashboards and alerts depend on these names byte for byte.
pub const DESIGN_FORCED_MS_NAMES: &[&str] = &["mona_http_request_duration_ms"];

/// Checks an exposition with `promtool check metrics`: it must parse, and its only
/// lint findings may be the `_ms` names DESIGN.md forces.
pub fn assert_promtool_accepts(text: &str) {
    let out = run_with_stdin("promtool", &["check", "metrics"], text);
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Exit 1 is a parse error; 3 is lint findings only.
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "promtool rejected the exposition:\n{report}\n{text}"
    );
    for finding in report.lines().filter(|l| !l.trim().is_empty()) {
        let forced = DESIGN_FORCED_MS_NAMES
            .iter()
            .any(|n| finding == format!("{n} metric names should not contain abbreviated units"));
        assert!(forced, "unexpected promtool finding: {finding}\n{text}");
    }
}

/// Parses an exposition with Python's `prometheus_client` and returns its samples as
/// `name{label="value",...} value` lines (labels sorted), one per sample.
pub fn python_samples(text: &str, openmetrics: bool) -> Vec<String> {
    let parser = if openmetrics {
        "from prometheus_client.openmetrics.parser import text_string_to_metric_families"
    } else {
        "from prometheus_client.parser import text_string_to_metric_families"
    };
    let script = format!(
        r#"
import sys, json
{parser}
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        labels = ",".join('%s=%s' % (k, json.dumps(v, ensure_ascii=False)) for k, v in sorted(s.labels.items()))
        print("%s{{%s}} %r" % (s.name, labels, float(s.value)))
"#
    );
    let out = run_with_stdin("python3", &["-c", &script], text);
    assert!(
        out.status.success(),
        "prometheus_client rejected the exposition:\n{}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The repository's root, for the files tests read there (`infra/`, `README.md`).
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
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
