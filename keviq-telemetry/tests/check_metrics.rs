//! `keviq-telemetry check-metrics`, run as a process on files and standard input.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use keviq::registry::{Descriptor, Registration, Site};
use keviq::{Counter, Format, Gauge, Histogram, MetricType, Registry};

const BIN: &str = env!("CARGO_BIN_EXE_keviq-telemetry");

/// Writes `contents` to a fresh file under Cargo's temporary directory for tests.
fn temp_file(contents: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("check-metrics-{}-{n}.txt", std::process::id()));
    std::fs::write(&path, contents).expect("write temp file");
    path
}

fn run_file(extra: &[&str], contents: &str) -> (Output, PathBuf) {
    let path = temp_file(contents);
    let output = Command::new(BIN)
        .arg("check-metrics")
        .args(extra)
        .arg(&path)
        .output()
        .expect("run keviq-telemetry");
    (output, path)
}

fn run_stdin(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn keviq-telemetry");
    child
        .stdin
        .take()
        .expect("stdin piped")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait for keviq-telemetry")
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("exit code")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const VALID: &str = "\
# HELP http_requests_total Requests served
# TYPE http_requests_total counter
http_requests_total{method=\"GET\",path=\"/\"} 3
http_requests_total{method=\"POST\",path=\"/\"} 1
# HELP request_duration_seconds Request latency
# TYPE request_duration_seconds histogram
request_duration_seconds_bucket{le=\"0.1\"} 1
request_duration_seconds_bucket{le=\"1\"} 3
request_duration_seconds_bucket{le=\"+Inf\"} 4
request_duration_seconds_sum 2.5
request_duration_seconds_count 4
";

#[test]
fn valid_file_exits_0() {
    let (output, _) = run_file(&[], VALID);
    assert_eq!(code(&output), 0, "stderr: {}", stderr(&output));
    assert_eq!(stdout(&output), "");
    assert_eq!(stderr(&output), "");
}

#[test]
fn valid_stdin_exits_0() {
    assert_eq!(code(&run_stdin(&["check-metrics"], VALID)), 0);
    assert_eq!(code(&run_stdin(&["check-metrics", "-"], VALID)), 0);
}

#[test]
fn parse_error_exits_1_with_line_and_column() {
    let text = "# HELP a_total A\n# TYPE a_total counter\na_total{x=\"1\" 3\n";
    let (output, path) = run_file(&[], text);
    assert_eq!(code(&output), 1);
    let message = stderr(&output);
    let prefix = format!("{}:3:", path.display());
    assert!(message.starts_with(&prefix), "{message}");
    // `<file>:<line>:<column>: <reason>`
    let rest = &message[prefix.len()..];
    let (column, reason) = rest.split_once(": ").expect("column and reason");
    assert!(column.parse::<usize>().is_ok(), "{message}");
    assert!(!reason.trim().is_empty(), "{message}");
    assert_eq!(stdout(&output), "");
}

#[test]
fn parse_error_on_stdin_names_stdin() {
    let output = run_stdin(&["check-metrics"], "a 1\nb x\n");
    assert_eq!(code(&output), 1);
    assert!(
        stderr(&output).starts_with("<stdin>:2:3: "),
        "{}",
        stderr(&output)
    );
}

#[test]
fn lint_failure_exits_3() {
    let text = "\
# TYPE jobs counter
jobs 1
# HELP latency_ms Latency
# TYPE latency_ms gauge
latency_ms 4
# HELP h Histogram
# TYPE h histogram
h_bucket{le=\"1\"} 2
h_bucket{le=\"2\"} 1
h_sum 1
h_count 2
";
    // Read as a scraper reads it: the histogram's semantic errors are the lint's to
    // report (read strictly, they do not parse: see the next test).
    let (output, _) = run_file(&["--scrape"], text);
    assert_eq!(code(&output), 3, "stderr: {}", stderr(&output));
    let printed = stdout(&output);
    let lint = printed
        .lines()
        .filter(|l| !l.contains(".txt:"))
        .map(|l| format!("{l}\n"))
        .collect::<String>();
    assert_eq!(
        lint,
        "\
h histogram has no \"+Inf\" bucket
h histogram buckets are not cumulative
jobs counter metrics should have \"_total\" suffix
jobs no help text
latency_ms metric names should not contain abbreviated units
"
    );
    // What the scrape-mode parse tolerated is listed too, with its place.
    assert!(
        printed
            .lines()
            .any(|l| l.contains(".txt:") && l.contains("+Inf")),
        "{printed}"
    );
    assert_eq!(stderr(&output), "");

    // Read strictly (the default), the histogram breaks the specification: the
    // first error is the bucket that is not cumulative (line 9).
    let (output, _) = run_file(&[], text);
    assert_eq!(code(&output), 1, "stdout: {}", stdout(&output));
    assert!(
        stderr(&output)
            .contains(":9:1: bucket `le=\"2\"` counts 1, less than the bucket before it"),
        "{}",
        stderr(&output)
    );
}

/// A family whose samples are split by another (common without `# TYPE`): Prometheus
/// scrapes it, so `--scrape` accepts it with a finding; strictly it does not parse.
#[test]
fn a_non_contiguous_family_is_a_finding_in_scrape_mode_and_an_error_strictly() {
    let text = "x{a=\"1\"} 1\ny 1\nx{a=\"2\"} 2\n";
    let (output, _) = run_file(&["--scrape"], text);
    assert_eq!(code(&output), 3, "stderr: {}", stderr(&output));
    assert!(stdout(&output).contains(":3:"), "{}", stdout(&output));
    let (output, _) = run_file(&[], text);
    assert_eq!(code(&output), 1);
}

#[test]
fn usage_errors_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (&["scrape"], "unknown command `scrape`"),
        (&["check-metrics", "--strict"], "unknown option `--strict`"),
        (
            &["check-metrics", "--format", "json"],
            "unknown format `json`",
        ),
        (&["check-metrics", "--format"], "`--format` needs a value"),
        (&["check-metrics", "a", "b"], "unexpected argument `b`"),
    ];
    for (args, expected) in cases {
        let output = Command::new(BIN).args(*args).output().expect("run");
        assert_eq!(code(&output), 2, "{args:?}");
        let message = stderr(&output);
        assert!(message.contains(expected), "{args:?}: {message}");
        assert!(
            message.contains("usage: keviq-telemetry check-metrics"),
            "{message}"
        );
    }
}

/// Without a subcommand the binary runs the service; a bad configuration stops it
/// at once with a message naming the variable.
#[test]
fn bad_service_configuration_names_the_variable() {
    for (var, value, expected) in [
        (
            "SCRAPE_INTERVAL_SECONDS",
            "0",
            "SCRAPE_INTERVAL_SECONDS: must be at least 1 second",
        ),
        (
            "SCRAPE_TARGETS",
            "agent-runtime",
            "SCRAPE_TARGETS: `agent-runtime` has no port",
        ),
        (
            "TELEMETRY_RETENTION_HOURS",
            "soon",
            "TELEMETRY_RETENTION_HOURS: `soon` is not a whole number",
        ),
        (
            "TELEMETRY_DATABASE_URL",
            "mysql://db",
            "TELEMETRY_DATABASE_URL: `mysql://db` is neither",
        ),
    ] {
        let output = Command::new(BIN)
            .env(var, value)
            .env("KEVIQ_LISTEN", "127.0.0.1:0")
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(1), "{var}={value}");
        let message = stderr(&output);
        assert!(message.contains(expected), "{var}={value}: {message}");
    }
}

#[test]
fn unreadable_file_exits_2() {
    let missing = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("no-such-exposition.txt");
    let output = Command::new(BIN)
        .arg("check-metrics")
        .arg(&missing)
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
    let message = stderr(&output);
    assert!(
        message.contains(&format!("cannot read {}", missing.display())),
        "{message}"
    );
}

#[test]
fn help_exits_0() {
    let output = Command::new(BIN)
        .args(["check-metrics", "--help"])
        .output()
        .expect("run");
    assert_eq!(code(&output), 0);
    assert!(stdout(&output).starts_with("usage: "));
}

const OPENMETRICS: &str = "\
# TYPE jobs counter
# HELP jobs Jobs run
jobs_total 3
# TYPE latency_seconds histogram
# UNIT latency_seconds seconds
# HELP latency_seconds Latency
latency_seconds_bucket{le=\"0.5\"} 1
latency_seconds_bucket{le=\"+Inf\"} 2
latency_seconds_sum 0.75
latency_seconds_count 2
# EOF
";

#[test]
fn openmetrics_valid_exits_0() {
    let (output, _) = run_file(&["--format", "openmetrics"], OPENMETRICS);
    assert_eq!(code(&output), 0, "stderr: {}", stderr(&output));
    let output = run_stdin(&["check-metrics", "--format=openmetrics"], OPENMETRICS);
    assert_eq!(code(&output), 0, "stderr: {}", stderr(&output));
}

#[test]
fn openmetrics_without_eof_exits_1() {
    let text = OPENMETRICS.trim_end_matches("# EOF\n");
    let (output, path) = run_file(&["--format", "openmetrics"], text);
    assert_eq!(code(&output), 1);
    assert!(
        stderr(&output).starts_with(&format!("{}:", path.display())),
        "{}",
        stderr(&output)
    );
}

#[test]
fn openmetrics_text_read_as_prometheus_breaks_conventions() {
    // In 0.0.4 `# EOF` and `# UNIT` are plain comments, and `jobs_total` is a family
    // of its own, untyped and without help, next to an empty counter `jobs`.
    let (output, _) = run_file(&[], OPENMETRICS);
    assert_eq!(code(&output), 3, "stderr: {}", stderr(&output));
    let findings = stdout(&output);
    assert!(
        findings.starts_with(
            "jobs counter metrics should have \"_total\" suffix\n\
             jobs_total no help text\n\
             jobs_total non-counter metrics should not have \"_total\" suffix\n"
        ),
        "{findings}"
    );
}

static JOBS: Counter = Counter::new();
static JOBS_REG: Registration = Registration::new(
    Descriptor::new(
        "jobs_total",
        "Jobs run",
        MetricType::Counter,
        &[],
        Site {
            file: file!(),
            line: line!(),
        },
    ),
    &JOBS,
);
static QUEUE: Gauge = Gauge::new();
static QUEUE_REG: Registration = Registration::new(
    Descriptor::new(
        "queue_depth",
        "Jobs waiting",
        MetricType::Gauge,
        &[],
        Site {
            file: file!(),
            line: line!(),
        },
    ),
    &QUEUE,
);
static LATENCY: Histogram<3> = Histogram::new([0.01, 0.1, 1.0]);
static LATENCY_REG: Registration = Registration::new(
    Descriptor::new(
        "job_duration_seconds",
        "Time to run a job",
        MetricType::Histogram,
        &[],
        Site {
            file: file!(),
            line: line!(),
        },
    )
    .with_unit("seconds"),
    &LATENCY,
);

#[test]
fn registry_exposition_is_clean_in_both_formats() {
    JOBS.inc_by(3);
    QUEUE.set(2);
    for v in [0.005, 0.05, 0.5, 5.0] {
        LATENCY.observe(v);
    }
    let registry =
        Registry::from_registrations([&JOBS_REG, &QUEUE_REG, &LATENCY_REG]).expect("registry");

    let text = registry.render(Format::Prometheus);
    assert!(
        text.contains("job_duration_seconds_bucket{le=\"+Inf\"} 4"),
        "{text}"
    );
    let (output, _) = run_file(&[], &text);
    assert_eq!(
        code(&output),
        0,
        "{text}\nstdout: {}\nstderr: {}",
        stdout(&output),
        stderr(&output)
    );

    let text = registry.render(Format::OpenMetrics);
    let output = run_stdin(&["check-metrics", "--format", "openmetrics"], &text);
    assert_eq!(
        code(&output),
        0,
        "{text}\nstdout: {}\nstderr: {}",
        stdout(&output),
        stderr(&output)
    );
}
