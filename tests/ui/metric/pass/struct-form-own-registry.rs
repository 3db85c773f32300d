//! `metric! { struct .. }` declares a set of metrics without a static and without
//! registering it: each owner makes one with `new()` and renders it in a registry of
//! its own from `registrations()`. A group static's struct has both methods too.

use keviq::{Format, HttpMethod, Registry};

keviq::metric! {
    /// HTTP metrics of one service.
    pub struct HttpMetrics {
        /// Requests served
        pub requests: Counter(method: HttpMethod, path: &str) = "struct_form_requests_total",
        /// Time per request
        #[metric(buckets = [5, 50], unit = "ms")]
        pub duration: Histogram(path: &str) = "struct_form_duration_ms",
        /// Requests in flight
        pub in_flight: Gauge = "struct_form_in_flight",
    }

    /// A struct's own attributes stay with it; `metric!` implements `Debug` only
    /// when they do not derive it.
    #[derive(Debug)]
    pub struct QueueMetrics {
        /// Jobs waiting
        pub queued: Gauge(queue: &str) = "struct_form_queued",
    }

    /// Domain metrics of the agent runtime.
    pub static AGENT: AgentMetrics {
        /// Agent invocations started
        invocations: Counter = "struct_form_invocations_total",
    }
}

static API: HttpMetrics = HttpMetrics::new();
static AUTH: HttpMetrics = HttpMetrics::new();

fn main() {
    API.requests.labels(HttpMethod::Get, "/a").inc();
    API.duration.labels("/a").observe(7.0);
    AUTH.in_flight.set(2);

    // Two instances, two registries: no clash, no global registration.
    let api = Registry::from_registrations(&API.registrations()).expect("no clash");
    let auth = Registry::from_registrations(&AUTH.registrations()).expect("no clash");
    assert_eq!(
        api.render(Format::Prometheus),
        "# HELP struct_form_duration_ms Time per request\n\
         # TYPE struct_form_duration_ms histogram\n\
         struct_form_duration_ms_bucket{path=\"/a\",le=\"5.0\"} 0\n\
         struct_form_duration_ms_bucket{path=\"/a\",le=\"50.0\"} 1\n\
         struct_form_duration_ms_bucket{path=\"/a\",le=\"+Inf\"} 1\n\
         struct_form_duration_ms_sum{path=\"/a\"} 7.0\n\
         struct_form_duration_ms_count{path=\"/a\"} 1\n\
         # HELP struct_form_in_flight Requests in flight\n\
         # TYPE struct_form_in_flight gauge\n\
         struct_form_in_flight 0\n\
         # HELP struct_form_requests_total Requests served\n\
         # TYPE struct_form_requests_total counter\n\
         struct_form_requests_total{method=\"GET\",path=\"/a\"} 1\n",
    );
    assert!(
        auth.render(Format::Prometheus)
            .contains("struct_form_in_flight 2\n")
    );
    let global = Registry::global()
        .expect("no clash")
        .render(Format::Prometheus);
    assert!(!global.contains("struct_form_requests_total"), "{global}");
    assert!(
        global.contains("struct_form_invocations_total 0\n"),
        "{global}"
    );

    // The static's struct makes unregistered sets too.
    static SPARE: AgentMetrics = AgentMetrics::new();
    SPARE.invocations.inc();
    let spare = Registry::from_registrations(&SPARE.registrations()).expect("no clash");
    assert!(
        spare
            .render(Format::Prometheus)
            .contains("struct_form_invocations_total 1\n")
    );
    assert_eq!(AGENT.invocations.get(), 0);

    // A registration carries the declaration's descriptor.
    let registrations = API.registrations();
    let requests = registrations
        .iter()
        .map(|r| r.descriptor())
        .find(|d| d.name == "struct_form_requests_total")
        .expect("registered");
    assert_eq!(requests.labels, ["method", "path"]);
    assert_eq!(requests.help, "Requests served");
    assert!(requests.site.file.ends_with("struct-form-own-registry.rs"));
    let _ = format!("{API:?} {:?}", QueueMetrics::new());
}
