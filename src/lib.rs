//! keviq turns Prometheus instrumentation into compiled code.
//!
//! Declare metrics once with [`metric!`]; use them as typed fields. A misspelled
//! field, a wrong label, an invalid name or a counter without `_total` is a compile
//! error. Every declared metric registers itself (through `inventory`, which your
//! crate does not need to depend on) and shows up in the exposition from the first
//! scrape, at zero.
//!
//! ```
//! use keviq::{HttpMethod, Format, Registry};
//!
//! keviq::metric! {
//!     /// Domain metrics of the agent runtime.
//!     pub static AGENT: AgentMetrics {
//!         /// Agent invocations started
//!         invocations: Counter = "mona_agent_invocations_total",
//!         /// Tool calls executed across all invocations
//!         tool_calls: Counter = "mona_agent_tool_calls_total",
//!         /// Requests by method, route template and status
//!         requests: Counter(method: HttpMethod, path: &str, status: u16) = "demo_requests_total",
//!         /// Time spent per request
//!         #[metric(buckets = [1, 5, 25, 100], unit = "ms")]
//!         latency: Histogram(path: &str) = "demo_latency_ms",
//!     }
//! }
//!
//! AGENT.invocations.inc();
//! AGENT.requests.labels(HttpMethod::Post, "/api/v1/invocations", 200).inc();
//! // Keep a handle to skip the lookup next time.
//! let latency = AGENT.latency.labels("/api/v1/invocations");
//! latency.observe(3.2);
//!
//! let text = Registry::global().unwrap().render(Format::Prometheus);
//! assert!(text.contains("# HELP mona_agent_invocations_total Agent invocations started\n"));
//! assert!(text.contains("mona_agent_invocations_total 1\n"));
//! assert!(text.contains("mona_agent_tool_calls_total 0\n"));
//! assert!(text.contains(
//!     "demo_requests_total{method=\"POST\",path=\"/api/v1/invocations\",status=\"200\"} 1\n"
//! ));
//! assert!(text.contains("demo_latency_ms_bucket{path=\"/api/v1/invocations\",le=\"5.0\"} 1\n"));
//! ```
//!
//! Mistakes are compile errors that say how to fix them:
//!
//! ```compile_fail
//! keviq::metric! {
//!     /// Turns completed
//!     pub static TURNS: Counter = "mona_agent_turns";
//!     // error: counter `mona_agent_turns` should end in `_total`: rename it to `mona_agent_turns_total`
//! }
//! ```
//!
//! ```compile_fail
//! keviq::metric! {
//!     /// Requests
//!     pub static REQUESTS: Counter(method: keviq::HttpMethod) = "requests_total";
//! }
//! REQUESTS.labels("GET").inc(); // error: expected `HttpMethod`, found `&str`
//! ```
//!
//! # Declaring metrics
//!
//! This is the overview; [`metric!`]'s page is the reference: the grammar, every
//! option with its default, the label types, the naming rules and the compile
//! errors.
//!
//! `metric!` takes items of three shapes:
//! - a group, `static NAME: Struct { field: Kind = "name", ... }`, which generates
//!   `Struct` with one typed field per metric and a registered static of it;
//! - a single metric, `static NAME: Kind = "name";`;
//! - a group type alone, `struct Struct { ... }`, with no static and no
//!   registration: for sets that each owner instantiates with `Struct::new()` and
//!   renders through a registry of its own (`Registry::from_registrations(&set.registrations())`),
//!   as keviq does for each service's HTTP metrics.
//!
//! `Kind` is `Counter`, `Gauge`, `FloatGauge` or `Histogram`, optionally followed by
//! labels in parentheses, `(method: HttpMethod, path: &str)`, which become the typed
//! arguments of the generated `labels(..)` method. Each metric needs a doc comment: it
//! is the `# HELP` text. Every group struct has `const fn new()` and
//! `registrations()`.
//!
//! Options go in `#[metric(...)]` above the metric:
//! - `buckets = [..]`: histogram bounds (default: [`DEFAULT_MS_BUCKETS`]);
//! - `unit = ".."`: the OpenMetrics unit, which must end the name;
//! - `max_series = N`: the series cap of a family with free-form labels (default
//!   [`DEFAULT_MAX_SERIES`]); label sets past it fold into one series labeled
//!   `__overflow__`, counted in `keviq_series_overflow_total`;
//! - `read = path`: an unlabeled counter or gauge whose value the function
//!   `fn() -> Option<f64>` reads at each render ([`Observed`]), for values kept
//!   elsewhere (a queue's length, the process's CPU time).
//!
//! On a static or struct, `#[metric(crate = path)]` names where keviq is when it is
//! not `::keviq` (a re-export, or keviq's own runtime with `crate = crate`), like
//! serde's `#[serde(crate = "..")]`.
//!
//! A mistake in one metric or option is reported on its token, and the rest of the
//! block still expands, so the editor keeps every other static while you type.
//!
//! # Labels
//!
//! Fixed-cardinality label types ([`HttpMethod`], `bool`, `http::StatusCode`, and
//! enums with `#[derive(keviq::LabelValue)]`) index a dense array. Free-form labels
//! (`&str`, `String`, integers) go through a lock-free index. Both return a handle
//! that can be kept.
//!
//! ```
//! #[derive(keviq::LabelValue)]
//! enum Outcome { Ok, #[label(rename = "failed")] Error }
//!
//! keviq::metric! {
//!     /// Jobs finished, by outcome
//!     static JOBS: Counter(outcome: Outcome) = "jobs_total";
//! }
//! JOBS.labels(Outcome::Error).inc();
//! assert_eq!(JOBS.labels(Outcome::Error).get(), 1);
//! ```
//!
//! How each variant renders, and how to rename it, is on the derive's page,
//! [`derive(LabelValue)`](derive@LabelValue).
//!
//! # Services
//!
//! [`#[keviq::service]`](macro@service) goes on the function that builds a
//! service's axum `Router`. It adds request IDs, W3C trace context, the HTTP metric
//! families and `/metrics`, and lists the service in [`axum::services`]. Its page
//! lists the arguments, the function shapes it accepts and its compile errors.
//!
//! # Rendering
//!
//! [`Registry::global`] gathers every metric of the binary and reports two
//! declarations of one name, with both sites, as a [`RegistryError`].
//!
//! # Exemplars
//!
//! Counters and histograms also record with an exemplar, an
//! [`ExemplarLabels`] set checked once against OpenMetrics' 128-character budget,
//! which OpenMetrics scrapes show on the `_total` sample or on the observation's
//! bucket ([`exemplar`] says what it costs: nothing for `inc` and `observe`):
//!
//! ```
//! use keviq::{ExemplarLabels, Format, Registry};
//!
//! keviq::metric! {
//!     /// Time spent per job
//!     #[metric(buckets = [10, 100])]
//!     static JOB_MS: Histogram(queue: &str) = "exemplar_demo_job_ms";
//! }
//!
//! let labels = ExemplarLabels::new([("request_id", "abc-123")]).expect("within budget");
//! JOB_MS.labels("default").observe_with_exemplar(42.0, &labels);
//!
//! let text = Registry::global().unwrap().render(Format::OpenMetrics);
//! assert!(text.contains(
//!     "exemplar_demo_job_ms_bucket{queue=\"default\",le=\"100.0\"} 1 # {request_id=\"abc-123\"} 42.0 "
//! ));
//! ```
//!
//! The HTTP metrics of `#[keviq::service]` carry each request's ID (and W3C trace
//! ID) this way on their latency buckets and error counter.
//!
//! # Where things are
//!
//! - At the root: [`metric!`], the metric types ([`Counter`], [`Gauge`],
//!   [`FloatGauge`], [`Histogram`]), labels ([`LabelValue`], [`HttpMethod`]), the
//!   [`Registry`] and the [`Format`]s it renders;
//! - [`model`]: the Prometheus naming rules, one verdict for one name;
//! - [`registry`]: descriptors and registrations built by hand;
//! - [`encode`]: the encoder, for metric types of your own;
//! - [`axum`] (feature `service`): `#[keviq::service]`'s runtime, the layers,
//!   `/metrics`, the registry of services and `serve`;
//! - [`exemplar`]: exemplar label sets and what recording one costs;
//! - [`request_id`], [`trace_context`] and [`logging`] (feature `service`):
//!   correlation IDs, W3C trace context and JSON logs.
#![deny(missing_docs)]

// The macros' reference docs are on their definitions in keviq-macros: rustdoc
// shows them on these pages, and editors show them on hover, where a re-export's
// own docs would be left out. Their examples run as keviq-macros' doctests.
#[cfg(feature = "service")]
pub use keviq_macros::service;
pub use keviq_macros::{LabelValue, metric};

// The modules' own docs say what each holds: a doc comment here would be shown
// above them, repeating their first sentence.
#[cfg(feature = "service")]
pub use keviq_runtime::axum;
#[cfg(feature = "service")]
pub use keviq_runtime::axum::request_id;
#[cfg(feature = "service")]
pub use keviq_runtime::axum::trace_context;
#[cfg(feature = "service")]
pub use keviq_runtime::logging;
pub use keviq_runtime::{
    Counter, DEFAULT_MAX_SERIES, DEFAULT_MS_BUCKETS, Exemplar, ExemplarError, ExemplarLabels,
    Family, FloatGauge, Format, Gauge, Histogram, HttpMethod, LabelValue, LabeledCounter,
    LabeledHistogram, MetricType, OVERFLOW_LABEL_VALUE, Observed, Registry, RegistryError, Str,
    encode, exemplar,
};
// `model` is keviq-model's crate root: rustdoc links a re-exported crate to that
// crate's own docs unless told to inline it here.
#[doc(inline)]
pub use keviq_runtime::model;

/// Registrations by hand: the descriptor of a family, where it was declared, and
/// what [`Registry::from_registrations`] takes. `metric!` builds all of these.
pub mod registry {
    pub use keviq_runtime::{Clash, Descriptor, MetricGroup, Registration, Site};
}

/// Snapshots of metric values and their deltas, for assertions in tests that run
/// in parallel (feature `testing`).
#[cfg(feature = "testing")]
pub use keviq_runtime::testing;

// Not public API. Used by generated code.
#[doc(hidden)]
pub use keviq_runtime::__private;
