//! The reference tools the tests hold keviq's output against: `promtool` and
//! Python's `prometheus_client`.

use crate::process::run_with_stdin;

/// Names whose promtool finding the product keeps on purpose (ARCHITECTURE.md, "Fixed
/// names"): `_ms` is an abbreviated unit, but dashboards and alerts depend on these
/// names byte for byte.
pub const FIXED_MS_NAMES: &[&str] = &["mona_http_request_duration_ms"];

/// Checks an exposition with `promtool check metrics`: it must parse, and its only
/// lint findings may be the `_ms` names the product keeps ([`FIXED_MS_NAMES`]).
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
        let forced = FIXED_MS_NAMES
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
