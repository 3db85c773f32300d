//! The rendered exposition is accepted by the reference tools: `promtool check
//! metrics` (Debian's `prometheus`) and Python's `prometheus_client` parsers, in both
//! formats. `.ci/run` installs both; a missing tool fails the test.

use keviq_testkit as support;

use keviq::{Format, HttpMethod, Registry};

use agent_runtime::AGENT;

keviq::metric! {
    /// Labeled families shaped like the HTTP ones the middleware records (those are
    /// registered by the runtime itself; declaring them again would be a clash).
    pub static HTTP: HttpMetrics {
        /// Total requests
        requests: Counter(method: HttpMethod, path: &str, status: u16) = "acceptance_requests_total",
        /// Request duration
        #[metric(unit = "seconds", buckets = [0.005, 5, 2000])]
        duration: Histogram(method: HttpMethod, path: &str) = "acceptance_request_duration_seconds",
        /// Requests answered with status >= 500
        errors: Counter(method: HttpMethod, path: &str) = "acceptance_request_errors_total",
        /// Load, with a "quoted" word and a back\slash in its help
        load: FloatGauge = "acceptance_load",
    }
}

fn record() {
    AGENT.invocations.inc();
    AGENT.turns.inc_by(3);
    for (path, status, ms) in [
        ("/api/v1/tasks/{id}", 200, 3.5),
        ("/api/v1/invocations", 500, 1200.0),
    ] {
        HTTP.requests.labels(HttpMethod::Post, path, status).inc();
        HTTP.duration.labels(HttpMethod::Post, path).observe(ms);
        if status >= 500 {
            HTTP.errors.labels(HttpMethod::Post, path).inc();
        }
    }
    HTTP.requests
        .labels(HttpMethod::Get, "/odd \"quote\" \\ back\nslash é", 404)
        .inc();
    HTTP.load.set(f64::NAN);
}

fn sample_lines(text: &str) -> usize {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .count()
}

#[test]
#[cfg_attr(
    not(feature = "system-tests"),
    ignore = "needs promtool and prometheus_client: run with `--features system-tests` (scripts/test does)"
)]
fn promtool_and_prometheus_client_accept_both_formats() {
    record();
    let registry = Registry::global().expect("no clash");
    let prometheus = registry.render(Format::Prometheus);
    let openmetrics = registry.render(Format::OpenMetrics);

    support::assert_promtool_accepts(&prometheus);

    let parsed = support::python_samples(&prometheus, false);
    assert_eq!(parsed.len(), sample_lines(&prometheus), "{parsed:#?}");
    for expected in [
        "mona_agent_invocations_total{} 1.0",
        "mona_agent_turns_total{} 3.0",
        "mona_agent_budget_exhausted_total{} 0.0",
        r#"acceptance_requests_total{method="GET",path="/odd \"quote\" \\ back\nslash é",status="404"} 1.0"#,
        r#"acceptance_request_duration_seconds_bucket{le="5.0",method="POST",path="/api/v1/tasks/{id}"} 1.0"#,
        r#"acceptance_request_duration_seconds_sum{method="POST",path="/api/v1/invocations"} 1200.0"#,
        r#"acceptance_request_errors_total{method="POST",path="/api/v1/invocations"} 1.0"#,
        "acceptance_load{} nan",
    ] {
        assert!(
            parsed.iter().any(|l| l == expected),
            "missing {expected} in {parsed:#?}"
        );
    }

    let parsed_om = support::python_samples(&openmetrics, true);
    assert_eq!(
        parsed_om.len(),
        sample_lines(&openmetrics),
        "{parsed_om:#?}"
    );
    assert!(
        parsed_om
            .iter()
            .any(|l| l == "mona_agent_invocations_total{} 1.0"),
        "{parsed_om:#?}"
    );
}
