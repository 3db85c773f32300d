//! `#[metric(crate = path)]` names where the runtime is; `crate = ::keviq` is the
//! default spelled out (keviq's runtime declares its own metrics with
//! `crate = crate`).

keviq::metric! {
    /// Jobs run
    #[metric(crate = ::keviq)]
    static JOBS: Counter = "crate_path_jobs_total";

    /// Domain metrics of the agent runtime.
    #[metric(crate = ::keviq)]
    static AGENT: AgentMetrics {
        /// Requests by route
        requests: Counter(path: &str) = "crate_path_requests_total",
    }

    /// HTTP metrics of one service.
    #[metric(crate = "::keviq")]
    struct HttpMetrics {
        /// Requests served
        requests: Counter = "crate_path_http_requests_total",
    }
}

mod renamed {
    pub use ::keviq as metrics_runtime;
}

// The shape of keviq's own runtime: `crate::__private` is the runtime's hidden
// module, and its metrics say `crate = crate`.
#[doc(hidden)]
pub use ::keviq::__private;

keviq::metric! {
    /// Services running
    #[metric(crate = crate)]
    static SERVICES: Gauge = "crate_path_services";

    /// HTTP metrics of one service, as the runtime declares them.
    #[metric(crate = crate)]
    pub struct ServiceHttpMetrics {
        /// Requests served
        requests: Counter(method: keviq::HttpMethod, path: &str) = "crate_path_service_requests_total",
    }
}

keviq::metric! {
    /// Jobs waiting
    #[metric(crate = crate::renamed::metrics_runtime)]
    static QUEUED: Gauge(queue: &str) = "crate_path_jobs_queued";
}

fn main() {
    JOBS.inc();
    AGENT.requests.labels("/").inc();
    QUEUED.labels("default").set(2);
    static HTTP: HttpMetrics = HttpMetrics::new();
    HTTP.requests.inc();
    SERVICES.set(1);
    static SERVICE: ServiceHttpMetrics = ServiceHttpMetrics::new();
    SERVICE.requests.labels(keviq::HttpMethod::Get, "/").inc();
    let own = keviq::Registry::from_registrations(&SERVICE.registrations()).expect("no clash");
    assert!(
        own.render(keviq::Format::Prometheus)
            .contains("crate_path_service_requests_total{method=\"GET\",path=\"/\"} 1\n")
    );
    let text = keviq::Registry::global()
        .expect("no clash")
        .render(keviq::Format::Prometheus);
    assert!(text.contains("crate_path_jobs_total 1\n"), "{text}");
    assert!(
        text.contains("crate_path_requests_total{path=\"/\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("crate_path_jobs_queued{queue=\"default\"} 2\n"),
        "{text}"
    );
    assert!(!text.contains("crate_path_http_requests_total"), "{text}");
    assert!(text.contains("crate_path_services 1\n"), "{text}");
}
