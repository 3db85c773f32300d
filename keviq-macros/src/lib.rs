//! Procedural macros of [keviq](https://docs.rs/keviq). Use them through the `keviq`
//! crate: the generated code refers to `::keviq::__private` (or to
//! `<path>::__private` with `#[metric(crate = path)]`, as keviq's runtime does for
//! its own metrics).
//!
//! Each entry point delegates to a module that parses, validates and expands. The
//! Prometheus rules the macros check are `keviq_model`'s, the same functions the
//! runtime and the exposition parser call.

mod errors;
mod label;
mod metric;
mod service;

use proc_macro::TokenStream;

/// Declares metrics: typed statics that register themselves, or structs of metrics
/// that each owner registers in a registry of its own.
///
/// Every declaration is checked when it compiles: the metric name against the
/// Prometheus naming rules, the labels, the options. A static needs no register
/// call: it is in every exposition of the binary (`keviq::Registry::global()`, a
/// service's `/metrics`) from the first scrape, at zero.
///
/// ```
/// use keviq::{Format, HttpMethod, Registry};
///
/// keviq::metric! {
///     /// Domain metrics of the job runner.
///     pub static JOBS: JobMetrics {
///         /// Jobs started
///         started: Counter = "doc_jobs_started_total",
///         /// Jobs waiting, by queue
///         waiting: Gauge(queue: &str) = "doc_jobs_waiting",
///         /// Time per job
///         #[metric(buckets = [10, 100, 1000], unit = "ms")]
///         duration: Histogram(queue: &str) = "doc_job_duration_ms",
///     }
///
///     /// Requests by method and status
///     pub static REQUESTS: Counter(method: HttpMethod, status: u16) = "doc_requests_total";
/// }
///
/// JOBS.started.inc();
/// JOBS.waiting.labels("default").set(3);
/// // `labels(..)` returns the series: keep it to skip the lookup next time.
/// let default_queue = JOBS.duration.labels("default");
/// default_queue.observe(42.0);
/// REQUESTS.labels(HttpMethod::Get, 200).inc();
///
/// let text = Registry::global().unwrap().render(Format::Prometheus);
/// assert!(text.contains("# HELP doc_jobs_started_total Jobs started\n"));
/// assert!(text.contains("doc_jobs_started_total 1\n"));
/// assert!(text.contains("doc_jobs_waiting{queue=\"default\"} 3\n"));
/// assert!(text.contains("doc_job_duration_ms_bucket{queue=\"default\",le=\"100.0\"} 1\n"));
/// assert!(text.contains("doc_requests_total{method=\"GET\",status=\"200\"} 1\n"));
/// ```
///
/// # Grammar
///
/// ```text
/// metric! { item* }
///
/// item   = attr* vis "static" NAME ":" Struct "{" field,* "}" ";"?   (a group static)
///        | attr* vis "struct" Struct "{" field,* "}" ";"?            (a group type alone)
///        | attr* vis "static" NAME ":" metric ";"                    (a single metric)
/// field  = attr* vis? ident ":" metric
/// metric = Kind ( "(" label,* ")" )? "=" "metric_name"
/// Kind   = "Counter" | "Gauge" | "FloatGauge" | "Histogram"
/// label  = label_name ":" Type
/// ```
///
/// `attr` is a doc comment, one `#[metric(..)]` (see [Options](#options)), or any
/// other attribute (`#[cfg(..)]`, `#[allow(..)]`), which stays on the generated
/// item. A block holds any number of items, of any form.
///
/// # The forms
///
/// - **Group static**, `static NAME: Struct { field, .. }`: generates the struct
///   `Struct`, one typed field per metric, and the static `NAME` of it, whose
///   metrics are registered. The static's doc comment and `#[cfg]` also go on the
///   struct.
/// - **Single static**, `static NAME: Kind = "name";`: one registered metric; the
///   static's own doc comment is its help text.
/// - **Group type alone**, `struct Struct { field, .. }`: the struct and nothing
///   else, no static and no registration, for a set that each owner makes with
///   `Struct::new()` and renders in a registry of its own (keviq does this for each
///   service's HTTP metrics). Every attribute goes on the struct; with
///   `#[derive(Debug)]` among them, `metric!` does not implement `Debug` itself.
///
/// Every generated struct has `const fn new() -> Self` (a set at zero, registered
/// nowhere) and `fn registrations(&'static self) -> Vec<Registration>` (one per
/// metric, for `keviq::Registry::from_registrations`), and implements `Debug`.
/// Fields take the visibility of their item unless they state their own
/// (`pub(crate) started: Counter = ..`).
///
/// ```
/// use keviq::{Format, Registry};
///
/// keviq::metric! {
///     /// The metrics of one connection pool: each pool makes its own set.
///     pub struct PoolMetrics {
///         /// Connections open
///         pub open: Gauge = "doc_pool_connections_open",
///         /// Connections refused, by reason
///         pub refused: Counter(reason: &str) = "doc_pool_refused_total",
///     }
/// }
///
/// static PRIMARY: PoolMetrics = PoolMetrics::new();
/// PRIMARY.open.set(4);
/// PRIMARY.refused.labels("timeout").inc();
///
/// let primary = Registry::from_registrations(&PRIMARY.registrations()).unwrap();
/// assert!(primary.render(Format::Prometheus).contains("doc_pool_connections_open 4\n"));
/// // A struct alone registers nothing globally.
/// let global = Registry::global().unwrap().render(Format::Prometheus);
/// assert!(!global.contains("doc_pool_connections_open"));
/// ```
///
/// # Kinds
///
/// The type of each kind's static or field, in parentheses what `labels(..)`
/// returns when it has labels, and what they record with:
///
/// - `Counter`: a `keviq::Counter` (with labels, a `&keviq::LabeledCounter`):
///   `inc()`, `inc_by(u64)`, `inc_with_exemplar(..)`, `get()`. `# TYPE counter`.
/// - `Gauge`: a `keviq::Gauge`, an `i64` (with labels, a `&keviq::Gauge`):
///   `set(i64)`, `inc()`, `dec()`, `add(i64)`, `get()`. `# TYPE gauge`.
/// - `FloatGauge`: a `keviq::FloatGauge`, an `f64` (with labels, a
///   `&keviq::FloatGauge`): `set(f64)`, `add(f64)`, `get()`. `# TYPE gauge`.
/// - `Histogram`: a `keviq::Histogram<N>`, `N` the number of bucket bounds (with
///   labels, a `keviq::LabeledHistogram<'_, N>`): `observe(f64)`,
///   `observe_with_exemplar(..)`. `# TYPE histogram`: `_bucket` series (with `le`,
///   `+Inf` included), `_sum` and `_count`.
///
/// A metric with labels has a field of a generated type whose only method is
/// `labels(..)`: it takes one typed argument per label, in the declared order, and
/// returns the series of that label set, created at zero on first use.
///
/// Each metric needs a doc comment: it is the `# HELP` text, its lines trimmed
/// and joined with a space.
///
/// # Labels
///
/// `(name: Type, ..)` after the kind: at most 6 labels, each named once. The type
/// says what `labels(..)` takes and how the value renders:
///
/// | label type | `labels(..)` takes | renders as | cardinality |
/// |---|---|---|---|
/// | `&str` | a `&str` | the text, escaped | free-form |
/// | `String` | `impl AsRef<str>`: a `&str`, `&String` or `String` | the text, escaped | free-form |
/// | `u8`, `u16`, `u32`, `u64`, `i32`, `i64` | the integer | decimal: `200`, `-3` | free-form |
/// | `bool` | a `bool` | `true`, `false` | fixed: 2 |
/// | `keviq::HttpMethod` | an `HttpMethod` | `GET`, `HEAD`, `POST`, `PUT`, `DELETE`, `CONNECT`, `OPTIONS`, `TRACE`, `PATCH`, `OTHER` | fixed: 10 |
/// | `http::StatusCode` | a `StatusCode` | three digits: `404` | fixed: 900 |
/// | an enum with `#[derive(keviq::LabelValue)]` | the enum | the variant in snake case, or as `#[label(..)]` renames it (see the derive) | fixed: one per variant |
///
/// Any other type (`f64`, `usize`, `char`, an enum without the derive) is a
/// compile error on the type: `` `f64` cannot be used as a label value ``.
///
/// When every label has a fixed cardinality and their combinations number at most
/// 65,536, the series live in an array indexed by the values: no hashing, no cap.
/// Otherwise a label set is looked up in a lock-free index, and the family holds
/// at most `max_series` series (see [Options](#options)).
///
/// A label name follows the Prometheus grammar (`[a-zA-Z_][a-zA-Z0-9_]*`) in
/// snake case; it may not start with `__` (reserved for Prometheus), nor be `le`
/// (histogram buckets) or `quantile` (summary quantiles), on any kind. A Rust
/// keyword is a fine label name (`type: &str`); a raw identifier (`r#type`) loses
/// its `r#`.
///
/// ```
/// use keviq::{Format, HttpMethod, Registry};
///
/// #[derive(keviq::LabelValue)]
/// enum Outcome {
///     Ok,
///     TimedOut,
///     #[label(rename = "failed")]
///     Error,
/// }
///
/// keviq::metric! {
///     /// Calls made, by every kind of label
///     static CALLS: Counter(
///         method: HttpMethod,
///         route: &str,
///         status: u16,
///         retried: bool,
///         outcome: Outcome,
///         tenant: String,
///     ) = "doc_calls_total";
/// }
///
/// let tenant = String::from("acme");
/// CALLS.labels(HttpMethod::Post, "/v1/calls", 201, false, Outcome::TimedOut, tenant.clone()).inc();
/// CALLS.labels(HttpMethod::Get, "/v1/calls", 500, true, Outcome::Error, tenant).inc();
///
/// let text = Registry::global().unwrap().render(Format::Prometheus);
/// assert!(text.contains(
///     "doc_calls_total{method=\"POST\",route=\"/v1/calls\",status=\"201\",\
///      retried=\"false\",outcome=\"timed_out\",tenant=\"acme\"} 1\n"
/// ));
/// assert!(text.contains("retried=\"true\",outcome=\"failed\""));
/// ```
///
/// # Options
///
/// Options go in one `#[metric(..)]` above the metric, separated by commas, each
/// at most once.
///
/// | option | goes on | default |
/// |---|---|---|
/// | `buckets = [b, ..]` | a `Histogram` | `keviq::DEFAULT_MS_BUCKETS`: `0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000` |
/// | `unit = "unit"` | any metric | none: no `# UNIT` line |
/// | `max_series = N` | a metric with labels | `keviq::DEFAULT_MAX_SERIES`, 10,000 |
/// | `read = path` | a `Counter`, `Gauge` or `FloatGauge` without labels | none: the program records the values |
/// | `crate = path` | a `static` or `struct` item, not a field | `::keviq` |
///
/// - `buckets = [0.1, 0.5, 2.5]`: the histogram's upper bounds, as number
///   literals (integers or decimals, negative ones too): at least one, finite, in
///   increasing order, none twice. `+Inf` is always added. The metric's type is
///   `Histogram<N>`, `N` the number of bounds.
/// - `unit = "seconds"`: the OpenMetrics unit, which must be the last
///   `_`-separated word of the name, before a counter's `_total`: `"seconds"` fits
///   `rpc_duration_seconds` and `cpu_seconds_total`, `"ms"` fits
///   `request_duration_ms`. OpenMetrics expositions carry it as `# UNIT`.
/// - `max_series = 500`: the most series a family with free-form labels (`&str`,
///   `String`, integers) holds, a whole number of at least 1. Past it, new label
///   sets record into one series whose every label reads `__overflow__`
///   (`keviq::OVERFLOW_LABEL_VALUE`); the first overflow is logged and each is
///   counted in `keviq_series_overflow_total{metric}`. A family whose labels all
///   have a fixed cardinality never overflows, whatever `max_series` says.
/// - `read = queue_len`: a function `fn() -> Option<f64>` that the metric reads at
///   each render, for a value kept elsewhere (a queue's length, the process's CPU
///   time); `None` leaves the sample out and keeps the `# HELP` and `# TYPE`
///   lines. The static or field is then a `keviq::Observed`: `get()` calls the
///   function; there is nothing to `inc` or `set`. Not with `buckets` or
///   `max_series`.
/// - `crate = path` (or `crate = "path"`, as serde spells it): where keviq is when
///   it is not `::keviq`, such as a crate of yours that re-exports it. Generated
///   code refers to `path::__private`.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// use keviq::{Format, Registry};
///
/// static QUEUE: AtomicUsize = AtomicUsize::new(0);
///
/// fn queue_len() -> Option<f64> {
///     Some(QUEUE.load(Ordering::Relaxed) as f64)
/// }
///
/// mod sdk {
///     // A crate of your own, re-exporting keviq to the crates that depend on it.
///     pub use ::keviq;
/// }
///
/// keviq::metric! {
///     /// Time per upload
///     #[metric(buckets = [0.1, 0.5, 2.5], unit = "seconds")]
///     static UPLOAD_SECONDS: Histogram = "doc_upload_duration_seconds";
///
///     /// Uploads, by tenant
///     #[metric(max_series = 500)]
///     static UPLOADS: Counter(tenant: &str) = "doc_uploads_total";
///
///     /// Uploads waiting, read from the queue at each render
///     #[metric(read = queue_len)]
///     static WAITING: Gauge = "doc_uploads_waiting";
/// }
///
/// sdk::keviq::metric! {
///     /// Uploads retried
///     #[metric(crate = sdk::keviq)]
///     static RETRIED: Counter = "doc_uploads_retried_total";
/// }
///
/// UPLOAD_SECONDS.observe(0.3);
/// UPLOADS.labels("acme").inc();
/// QUEUE.store(2, Ordering::Relaxed);
/// RETRIED.inc();
/// assert_eq!(WAITING.get(), Some(2.0));
///
/// let text = Registry::global().unwrap().render(Format::OpenMetrics);
/// assert!(text.contains("# UNIT doc_upload_duration_seconds seconds\n"));
/// assert!(text.contains("doc_upload_duration_seconds_bucket{le=\"0.5\"} 1\n"));
/// assert!(text.contains("doc_uploads_waiting 2.0\n"));
/// assert!(text.contains("doc_uploads_retried_total 1\n"));
/// ```
///
/// # Names
///
/// A metric name is checked with the rules the runtime and the exposition parser
/// use (`keviq::model`):
///
/// - the Prometheus grammar, `[a-zA-Z_][a-zA-Z0-9_]*`: no leading digit, no `-`,
///   and no `:`, which Prometheus reserves for recording rules;
/// - snake case: no lower-case letter followed by an upper-case one
///   (`httpRequests_total`);
/// - no type word, as promlint flags it: `_counter`, `_gauge`, `_histogram` or
///   `_summary` as a whole `_`-separated word, in any case (`jobs_counter_total`;
///   `gauges_seen_total` is fine);
/// - a `Counter` ends in `_total`, and nothing else does;
/// - `_bucket`, `_sum` and `_count` end no declared name: keviq adds them to a
///   histogram's series, and only histograms and summaries own them;
/// - abbreviated units such as `_ms` are allowed.
///
/// Two metrics of one block may not render series of the same name: a counter
/// `x_total` takes `x`, `x_total` and `x_created`; a histogram `x` takes `x`,
/// `x_bucket`, `x_sum`, `x_count` and `x_created`. Across blocks and crates the
/// same check runs when a registry is built: `keviq::Registry::global()` returns a
/// `RegistryError` naming both declaration sites, and a service's `/metrics`
/// answers `500` with it.
///
/// # Compile errors
///
/// Every mistake of a block is reported in one build, on the token at fault, and
/// the rest of the block still expands: the statics you did not touch keep
/// compiling, and the editor keeps seeing them while you type. A metric with a
/// mistake is not registered.
///
/// ```compile_fail
/// keviq::metric! {
///     /// Turns completed
///     static TURNS: Counter = "doc_turns";
///     // error: counter `doc_turns` should end in `_total`: rename it to `doc_turns_total`
/// }
/// ```
///
/// Syntax: each message says what was expected, with an example.
/// - `` expected `static` or `struct`, as in .. ``; the static's or the struct's
///   name; `` expected `:` and the metric kind after `JOBS` ``
/// - `` expected `=` and the metric name ``; `expected the metric name as a string
///   literal`; `` expected `;` after the metric name ``; unexpected tokens after it
/// - `` expected a label, as in `method: keviq::HttpMethod` ``; `` expected `:` and
///   the label's type ``
/// - `` unknown metric kind `Summary`; expected one of `Counter`, `Gauge`,
///   `FloatGauge`, `Histogram` ``
///
/// Names:
/// - `` counter `mona_agent_turns` should end in `_total`: rename it to
///   `mona_agent_turns_total` ``
/// - `` gauge `in_flight_total` ends in `_total`, which only counters may: rename it, or
///   declare it as a `Counter` `` (a histogram likewise)
/// - `` invalid metric name `jobs_sum`: only histograms and summaries end in `_sum`,
///   `_count` or `_bucket`; .. `` (on a gauge), or `` ..: a histogram's name cannot end
///   in `_bucket`, `_sum` or `_count`: keviq adds those suffixes `` (on a histogram)
/// - `` invalid metric name `mona-agent_total`: `-` is not allowed; a metric name may
///   only hold ASCII letters, digits, `_` and `:` ``; `a name cannot start with a digit`;
///   `a metric name cannot be empty`
/// - `` invalid metric name `job:requests:rate5m`: `:` is reserved for recording rules;
///   write `job_requests_rate5m` ``
/// - `` invalid metric name `httpRequests_total`: metric names are written in snake_case,
///   not camelCase; .. ``
/// - `` metric name `jobs_counter_total` includes the type `counter`, which `# TYPE`
///   already states (promlint flags it): drop `_counter` from the name ``
/// - `` metric name `x_total` is already declared in this block; .. ``, and `` metric
///   `jobs_created` and metric `jobs_total` would both render series named
///   `jobs_created`; rename one of them ``
///
/// Fields and labels:
/// - `` metric `invocations` needs a doc comment: it becomes the `# HELP` text; .. ``
/// - `` duplicate field `invocations`; each field needs its own name ``
/// - `` invalid label name `le`: `le` is reserved for histogram buckets and `quantile`
///   for summary quantiles; .. `` (`quantile` likewise), `` invalid label name `__name`:
///   label names starting with `__` are reserved for Prometheus ``, `` invalid label name
///   `método`: `é` is not allowed; .. ``, and camelCase label names
/// - `` duplicate label `path`; each label of a metric needs its own name ``
/// - `a metric takes at most 6 labels; fold some into one label, or split the metric`
///
/// Options:
/// - `` unknown option `bukets`; expected one of `buckets`, `unit`, `max_series`, `read`,
///   `crate` ``
/// - `` duplicate option `unit`; give it once ``; `` merge the options into one
///   `#[metric(...)]` attribute ``
/// - a value of the wrong shape: `` expected `=` and a value after `unit` ``, the unit as
///   a string literal, `max_series` as a whole number, bucket bounds as number literals
///   in brackets, `read` and `crate` as paths
/// - `` `unit` applies to one metric; put it in a `#[metric(...)]` above the field it is
///   for `` (an option other than `crate` on a group static or struct), and `` `crate`
///   applies to a whole declaration; .. `` (on a field)
/// - `` `buckets` applies only to a `Histogram`; remove it ``; `a histogram needs at
///   least one bucket bound, ..`; `invalid histogram buckets: ..` (not finite, not
///   increasing, or given twice)
/// - `` unit `seconds` does not fit metric `request_duration_ms`: the unit must be the
///   last part of the name (before `_total`) ``
/// - `` `max_series` applies only to a metric with labels; remove it ``; `` `max_series`
///   must be a whole number of at least 1 ``
/// - `` `read` applies only to a `Counter`, `Gauge` or `FloatGauge`: .. ``, `` `read`
///   applies only to a metric without labels: .. ``, and `` `buckets` cannot go with
///   `read` `` / `` `max_series` cannot go with `read` ``
///
/// From rustc, at the use or on the type:
/// - a label type that is not a label value: `` `f64` cannot be used as a label value ``
/// - a label value of the wrong type: `` mismatched types: expected `HttpMethod`, found
///   `&str` ``
/// - a wrong number of label values: `this method takes 3 arguments but 2 arguments were
///   supplied`
/// - `labels(..)` on a metric without labels: `` no method named `labels` found for
///   struct `keviq::Counter` ``
/// - a misspelled field: `` no field `invocatons` on type `AgentMetrics` ``
/// - `inc()` or `set(..)` on a `read` metric: `` no method named `inc` found for struct
///   `Observed` ``
/// - a `read` function of another signature: `` expected fn pointer `fn() -> Option<f64>`
///   ``
/// - a struct alone used as a static: `` cannot find value `HTTP` in this scope ``
#[proc_macro]
pub fn metric(input: TokenStream) -> TokenStream {
    metric::metric(input.into()).into()
}

/// Makes a fieldless enum a fixed-cardinality label type: each variant is one label
/// value, and a label of this type indexes a dense array (see the `keviq::LabelValue`
/// trait).
///
/// ```
/// #[derive(keviq::LabelValue)]
/// enum Transport { HTTP, Http2, GRPCStream, WebSocket, #[label(rename = "ws-v2")] V2Api }
/// // renders `http`, `http2`, `grpc_stream`, `web_socket`, `ws-v2`
/// ```
///
/// # Values
///
/// A variant renders as its name in snake case, the rule serde calls
/// `rename_all = "snake_case"`, with the word boundaries of the `heck` crate (serde
/// itself puts a `_` before every capital): a run of capitals is one word, a capital
/// followed by a lower-case letter starts a word, and a digit stays in the word it
/// follows. A raw name renders without its `r#`.
///
/// | variant | value |
/// |---|---|
/// | `ToolCall` | `tool_call` |
/// | `HTTP` | `http` |
/// | `GRPCStream` | `grpc_stream` |
/// | `WebSocket` | `web_socket` |
/// | `V2Api` | `v2_api` |
/// | `Http2` | `http2` |
///
/// Earlier builds put a `_` before every capital (`HTTP` rendered as `h_t_t_p`,
/// `GRPCStream` as `g_r_p_c_stream`); to keep such a value, and its series, write
/// it out with `#[label(rename = "h_t_t_p")]`.
///
/// # Options
///
/// On the enum, `#[label(rename_all = "...")]` picks another rule, with serde's
/// names. `lowercase` and `UPPERCASE` change the case of the name as written; the
/// others split it into the words above:
///
/// | `rename_all` | `GRPCStream` | `WebSocket` | `V2Api` |
/// |---|---|---|---|
/// | `lowercase` | `grpcstream` | `websocket` | `v2api` |
/// | `UPPERCASE` | `GRPCSTREAM` | `WEBSOCKET` | `V2API` |
/// | `snake_case` (the default) | `grpc_stream` | `web_socket` | `v2_api` |
/// | `kebab-case` | `grpc-stream` | `web-socket` | `v2-api` |
/// | `SCREAMING_SNAKE_CASE` | `GRPC_STREAM` | `WEB_SOCKET` | `V2_API` |
/// | `SCREAMING-KEBAB-CASE` | `GRPC-STREAM` | `WEB-SOCKET` | `V2-API` |
/// | `camelCase` | `grpcStream` | `webSocket` | `v2Api` |
/// | `PascalCase` | `GrpcStream` | `WebSocket` | `V2Api` |
///
/// On a variant, `#[label(rename = "...")]` sets its value as written, whatever the
/// rule. `rename_all` is the only enum option and `rename` the only variant option.
///
/// # Compile errors
///
/// - the derive on a struct or union, on an enum with no variant or with generic
///   parameters, or on a variant with fields
/// - two variants that render the same value (`Http` and `HTTP` both render as
///   `http`): their series would merge; `rename` one of them
/// - a variant whose name renders as an empty value (`__`)
/// - an unknown `label` option on the enum or on a variant, `rename_all` on a
///   variant, `rename` on the enum, or one option given twice
/// - a `rename_all` value that is not one of the rules above; the names are
///   serde's, exactly (`"snake_case"`, not `"Snake_Case"` or `"snake-case"`)
#[proc_macro_derive(LabelValue, attributes(label))]
pub fn derive_label_value(input: TokenStream) -> TokenStream {
    label::derive(input.into()).into()
}

/// Instruments the function that builds a service's `axum::Router`: the router it
/// returns gets request IDs, W3C trace context, the HTTP metric families and the
/// metrics route, and the service is listed by name in `keviq::axum::services()`.
///
/// ```
/// use axum::Router;
/// use axum::body::Body;
/// use axum::http::Request;
/// use axum::routing::get;
/// use tower::ServiceExt; // `oneshot`: one request, without a server
///
/// #[keviq::service(name = "invoice-service")]
/// fn app() -> Router {
///     Router::new().route("/invoices/{id}", get(|| async { "invoice" }))
/// }
///
/// #[tokio::main(flavor = "current_thread")]
/// async fn main() {
///     // A binary serves it with `keviq::axum::serve(app()).await`.
///     let router = app();
///     let request = |uri: &'static str| Request::get(uri).body(Body::empty()).unwrap();
///
///     let response = router.clone().oneshot(request("/invoices/7")).await.unwrap();
///     assert_eq!(response.status(), 200);
///     assert!(response.headers().contains_key("x-request-id"));
///
///     let response = router.oneshot(request("/metrics")).await.unwrap();
///     let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
///     let text = String::from_utf8(body.to_vec()).unwrap();
///     assert!(text.contains(
///         "mona_http_requests_total{method=\"GET\",path=\"/invoices/{id}\",status=\"200\"} 1\n"
///     ));
///     assert!(text.contains("keviq_service_info{service=\"invoice-service\"} 1\n"));
/// }
/// ```
///
/// # Arguments
///
/// `#[keviq::service(name = "...", metrics_path = "...", metrics = [..], prefix = "...")]`:
/// every argument is optional, given at most once, in any order.
///
/// | argument | default | example |
/// |---|---|---|
/// | `name = "..."` | the package's name (`CARGO_PKG_NAME`) | `name = "agent-runtime"` |
/// | `metrics_path = "..."` | `"/metrics"` | `metrics_path = "/internal/metrics"` |
/// | `metrics = [STATIC, ..]` | none: the service owns no static | `metrics = [AGENT, crate::db::QUERIES]` |
/// | `prefix = "..."` | `"mona_"` | `prefix = "acme_"` |
///
/// - `name`: the service's name, a DNS label (1 to 63 lower-case letters, digits
///   and `-`, starting and ending with a letter or digit), since a fleet reaches
///   each service at `<name>:8000`. It is the `service` label of
///   `keviq_service_info`, the `service` field of its request logs, and the `job`
///   of the Prometheus configuration `keviq::axum::prometheus_config` generates.
///   Without `name`, the package's name, which must then be a DNS label too.
/// - `metrics_path`: where the router serves the exposition: a fixed absolute
///   path, starting with `/`, without `{`, `}`, `*`, spaces or a segment starting
///   with `:`. A router that already serves that path fails at start-up: the
///   function panics when it builds it, with a message naming `metrics_path`; move
///   the router's own route, or serve keviq's at another path.
/// - `metrics`: the metric statics the service owns, as paths: statics declared
///   with `keviq::metric!`, group or single, with labels or not. Only this
///   service's `/metrics` renders them; without `metrics`, they are in every
///   service's exposition, which is what one service per process wants. When
///   several services share a process, give each its own statics.
/// - `prefix`: the prefix of the HTTP families, default `mona_`: `prefix = "acme_"`
///   serves `acme_http_requests_total` and its siblings. It ends in `_`, or is
///   empty.
///
/// ```
/// keviq::metric! {
///     /// Domain metrics of the mailer.
///     pub static MAIL: MailMetrics {
///         /// Mails sent
///         sent: Counter = "doc_mail_sent_total",
///     }
/// }
///
/// #[keviq::service(name = "mailer", metrics_path = "/internal/metrics", metrics = [MAIL])]
/// fn mailer() -> axum::Router {
///     axum::Router::new()
/// }
///
/// #[keviq::service(name = "billing")]
/// fn billing() -> axum::Router {
///     axum::Router::new()
/// }
///
/// fn exposition(name: &str) -> String {
///     let service = keviq::axum::services().iter().find(|s| s.name == name).unwrap();
///     service.registry().unwrap().render(keviq::Format::Prometheus)
/// }
///
/// let (_mailer, _billing) = (mailer(), billing());
/// assert!(exposition("mailer").contains("doc_mail_sent_total 0\n"));
/// assert!(!exposition("billing").contains("doc_mail_sent_total"));
///
/// let mailer = keviq::axum::services().iter().find(|s| s.name == "mailer").unwrap();
/// assert_eq!(mailer.metrics_path, "/internal/metrics");
/// ```
///
/// ```should_panic
/// #[keviq::service(name = "status-page")]
/// fn app() -> axum::Router {
///     // The router serves `/metrics` itself: building it panics.
///     axum::Router::new().route("/metrics", axum::routing::get(|| async { "mine" }))
/// }
///
/// let _router = app();
/// ```
///
/// # The function
///
/// The attribute goes on a function (public or not, generic or not, with any
/// parameters) whose body builds the routes:
///
/// - sync or `async`; an `async fn`'s future yields the instrumented router;
/// - returning `axum::Router` or `axum::Router<S>` for any state `S: Clone + Send +
///   Sync + 'static`, written out (a type alias of one is fine). A function that
///   takes its state as a parameter and applies it returns `Router`; one that
///   returns `Router<S>` leaves the state to the caller's `with_state`;
/// - its body is kept as written: a `return` returns the router it builds.
///
/// The function keeps its name, signature and attributes, so it stays callable and
/// testable on its own.
///
/// ```
/// use axum::Router;
/// use axum::extract::State;
/// use axum::routing::get;
///
/// #[derive(Clone)]
/// struct Db {
///     url: &'static str,
/// }
///
/// async fn url(State(db): State<Db>) -> &'static str {
///     db.url
/// }
///
/// // Async, taking its state, and applying it.
/// #[keviq::service(name = "ledger-service")]
/// async fn ledger(db: Db) -> Router {
///     Router::new().route("/db", get(url)).with_state(db)
/// }
///
/// // Returning `Router<Db>`: the caller applies the state.
/// #[keviq::service(name = "audit-service")]
/// fn audit() -> Router<Db> {
///     Router::new().route("/db", get(url))
/// }
///
/// #[tokio::main(flavor = "current_thread")]
/// async fn main() {
///     let db = Db { url: "postgres://localhost/ledger" };
///     let _ledger: Router = ledger(db.clone()).await;
///     let _audit: Router = audit().with_state(db);
/// }
/// ```
///
/// # What the router gets
///
/// Each call runs the body, then adds, from the outside in:
///
/// - request IDs: a well-formed incoming `X-Request-ID` is kept, otherwise one is
///   generated; it is on the response, on the request's log lines, and on outgoing
///   calls made with `keviq::axum::ForwardRequestIdLayer`; a valid W3C
///   `traceparent` is kept and forwarded likewise (`keviq::trace_context`);
/// - the HTTP families (named with `prefix`, `mona_` by default), recorded for
///   every request, those that match no route included (`path="unmatched"`):
///   `mona_http_requests_total{method,path,status}`,
///   `mona_http_request_duration_ms{method,path}` (a histogram),
///   `mona_http_request_errors_total{method,path}` (status 500 and above) and
///   `mona_http_requests_in_flight`. `path` is the route template
///   (`/invoices/{id}`), never the raw URI;
/// - a guard that turns a panicking handler into a counted `500`;
/// - `GET` (and `HEAD`) at `metrics_path`, gzipped when the client accepts it,
///   rendering Prometheus text 0.0.4, or OpenMetrics 1.0 when `Accept` asks for it:
///   this service's HTTP families, `keviq_service_info{service="<name>"} 1`, the
///   statics it owns, and every static no service owns (process metrics included),
///   but not the statics another service of the process owns. A clash of metric
///   names answers `500`, naming both declarations.
///
/// Every router the function builds records into the same families: the service
/// is one per function. It is listed in `keviq::axum::services()` (sorted by name)
/// from the start of the program, whether the function has run or not.
///
/// # Compile errors
///
/// ```compile_fail
/// #[keviq::service(name = "Billing_Service")]
/// fn app() -> axum::Router {
///     axum::Router::new()
/// }
/// // error: service name `Billing_Service` is not a DNS label: use 1 to 63 lowercase
/// // letters, digits and `-`, starting and ending with a letter or digit (..)
/// ```
///
/// - on anything but a function: `` `#[keviq::service]` goes on a function
///   that returns the service's `axum::Router`, as in .. ``
/// - a function without a return type: `` `#[keviq::service]` needs `app` to return
///   the service's router: add `-> axum::Router` ``
/// - a return type that is not a router: `` `String` is not an `axum::Router` ``
///   (from rustc, on the type)
/// - `` unknown argument `port`; expected one of `name`, `metrics_path`, .. ``
/// - `` duplicate argument `name`; give it once `` (`metrics_path` and `prefix`
///   likewise), and
///   `` duplicate argument `metrics`; list every static once: `metrics = [A, B]` ``
/// - `` service name `Agent_Runtime` is not a DNS label: .. ``; without `name`,
///   `` the package name `..` is not a DNS label; name the service: .. ``
/// - `` metrics path `metrics` must be a fixed absolute path such as `/metrics` ``,
///   and `` metrics path `/:metrics` has a segment starting with `:`, which axum
///   refuses .. ``
/// - `` prefix `acme` should end in `_`: .. ``, and `` prefix `9x_` makes the
///   invalid metric name `9x_http_requests_total`: .. ``
/// - `` expected the paths of metric statics, as in `metrics = [AGENT,
///   crate::db::QUERIES]` `` (a `metrics` value that is not a list of paths)
/// - `` `u64` is not a metric static `` (from rustc, on the path): list statics
///   declared with `keviq::metric!`
/// - a value that is not a string literal where one is expected: `expected string
///   literal`
#[proc_macro_attribute]
pub fn service(args: TokenStream, item: TokenStream) -> TokenStream {
    service::service(args.into(), item.into()).into()
}
