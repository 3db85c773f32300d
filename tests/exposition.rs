//! Golden tests: the exact exposition text, in both formats.

use keviq::{Format, HttpMethod, Registry};

keviq::metric! {
    /// Domain metrics of the agent runtime.
    pub static AGENT: AgentMetrics {
        /// Agent invocations started
        invocations: Counter = "mona_agent_invocations_total",
        /// Requests by "method", path \ status
        /// (second line)
        requests: Counter(method: HttpMethod, path: &str, status: u16) = "golden_requests_total",
        /// Request duration
        #[metric(buckets = [1, 2.5, 10], unit = "ms")]
        duration: Histogram(path: &str) = "golden_duration_ms",
    }

    /// Requests in flight
    pub static IN_FLIGHT: Gauge = "golden_in_flight";
    /// Load average
    pub static LOAD: FloatGauge = "golden_load";
    /// Time spent idle
    #[metric(unit = "seconds")]
    pub static IDLE: Counter = "golden_idle_seconds_total";
}

/// The exposition without the families whose values depend on the process, and
/// without the HTTP families the middleware records (pinned in `tests/service.rs`).
fn render(format: Format) -> String {
    let text = Registry::global().expect("no clash").render(format);
    let mut out = String::new();
    let mut skip = false;
    for line in text.lines() {
        if line == "# EOF" {
            skip = false;
        } else if line.starts_with("# HELP") || line.starts_with("# TYPE") {
            skip = line
                .split(' ')
                .nth(2)
                .is_some_and(|n| n.starts_with("process_") || n.starts_with("mona_http_"));
        }
        if !skip {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[test]
fn exposition_is_exact_in_both_formats() {
    AGENT.invocations.inc_by(3);
    AGENT
        .requests
        .labels(HttpMethod::Get, "/api/v1/tasks/{id}", 200)
        .inc();
    AGENT
        .requests
        .labels(HttpMethod::Post, "/weird \"path\"\\\nnewline é", 500)
        .inc_by(2);
    let d = AGENT.duration.labels("/api/v1/tasks/{id}");
    for v in [0.5, 2.0, 7.0, 50.0] {
        d.observe(v);
    }
    IN_FLIGHT.set(-2);
    LOAD.set(0.25);

    assert_eq!(
        render(Format::Prometheus),
        r#"# HELP golden_duration_ms Request duration
# TYPE golden_duration_ms histogram
golden_duration_ms_bucket{path="/api/v1/tasks/{id}",le="1.0"} 1
golden_duration_ms_bucket{path="/api/v1/tasks/{id}",le="2.5"} 2
golden_duration_ms_bucket{path="/api/v1/tasks/{id}",le="10.0"} 3
golden_duration_ms_bucket{path="/api/v1/tasks/{id}",le="+Inf"} 4
golden_duration_ms_sum{path="/api/v1/tasks/{id}"} 59.5
golden_duration_ms_count{path="/api/v1/tasks/{id}"} 4
# HELP golden_idle_seconds_total Time spent idle
# TYPE golden_idle_seconds_total counter
golden_idle_seconds_total 0
# HELP golden_in_flight Requests in flight
# TYPE golden_in_flight gauge
golden_in_flight -2
# HELP golden_load Load average
# TYPE golden_load gauge
golden_load 0.25
# HELP golden_requests_total Requests by "method", path \\ status (second line)
# TYPE golden_requests_total counter
golden_requests_total{method="GET",path="/api/v1/tasks/{id}",status="200"} 1
golden_requests_total{method="POST",path="/weird \"path\"\\\nnewline é",status="500"} 2
# HELP keviq_exemplars_truncated_total Request exemplars shortened to fit OpenMetrics' 128-character budget, by the label left out (trace_id) or truncated (request_id)
# TYPE keviq_exemplars_truncated_total counter
# HELP keviq_series_overflow_total Label sets recorded into a family's overflow series because the family reached its series cap
# TYPE keviq_series_overflow_total counter
# HELP mona_agent_invocations_total Agent invocations started
# TYPE mona_agent_invocations_total counter
mona_agent_invocations_total 3
"#
    );

    assert_eq!(
        render(Format::OpenMetrics),
        r#"# HELP golden_duration_ms Request duration
# TYPE golden_duration_ms histogram
# UNIT golden_duration_ms ms
golden_duration_ms_bucket{path="/api/v1/tasks/{id}",le="1.0"} 1
golden_duration_ms_bucket{path="/api/v1/tasks/{id}",le="2.5"} 2
golden_duration_ms_bucket{path="/api/v1/tasks/{id}",le="10.0"} 3
golden_duration_ms_bucket{path="/api/v1/tasks/{id}",le="+Inf"} 4
golden_duration_ms_sum{path="/api/v1/tasks/{id}"} 59.5
golden_duration_ms_count{path="/api/v1/tasks/{id}"} 4
# HELP golden_idle_seconds Time spent idle
# TYPE golden_idle_seconds counter
# UNIT golden_idle_seconds seconds
golden_idle_seconds_total 0
# HELP golden_in_flight Requests in flight
# TYPE golden_in_flight gauge
golden_in_flight -2
# HELP golden_load Load average
# TYPE golden_load gauge
golden_load 0.25
# HELP golden_requests Requests by \"method\", path \\ status (second line)
# TYPE golden_requests counter
golden_requests_total{method="GET",path="/api/v1/tasks/{id}",status="200"} 1
golden_requests_total{method="POST",path="/weird \"path\"\\\nnewline é",status="500"} 2
# HELP keviq_exemplars_truncated Request exemplars shortened to fit OpenMetrics' 128-character budget, by the label left out (trace_id) or truncated (request_id)
# TYPE keviq_exemplars_truncated counter
# HELP keviq_series_overflow Label sets recorded into a family's overflow series because the family reached its series cap
# TYPE keviq_series_overflow counter
# HELP mona_agent_invocations Agent invocations started
# TYPE mona_agent_invocations counter
mona_agent_invocations_total 3
# EOF
"#
    );

    // Free-form series keep the order of first use, so renders are stable.
    AGENT.requests.labels(HttpMethod::Delete, "/b", 204).inc();
    AGENT.requests.labels(HttpMethod::Delete, "/a", 204).inc();
    let first = render(Format::Prometheus);
    assert!(first.find("path=\"/b\"") < first.find("path=\"/a\""));
    assert_eq!(first, render(Format::Prometheus));
}
