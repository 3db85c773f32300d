//! What `#[keviq::service]` adds to a router, and the registry of services.

use std::any::Any;
use std::cell::Cell;
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use tower_http::catch_panic::{CatchPanicLayer, ResponseForPanic};
use tower_http::compression::CompressionLayer;

use super::exposition::{metrics_handler, render_response};
use super::metrics::{HTTP, HttpMetrics, MetricsLayer};
use super::names::HttpNames;
use super::request_id::RequestIdLayer;
use crate::{MetricGroup, Registration, Registry, RegistryError, Site};

/// A service declared with `#[keviq::service]`.
///
/// Besides its name, a service has its own [`HttpMetrics`] and the metric statics it
/// owns (`metrics = [..]` in the attribute), so several services can share a
/// process and each serve only their own traffic. See [`ServiceInfo::registry`].
/// Its HTTP families are named with its prefix (`prefix = ".."` in the attribute,
/// `mona_` by default): see [`ServiceInfo::http_names`].
pub struct ServiceInfo {
    /// The service's name, a DNS label (`agent-runtime`).
    pub name: &'static str,
    /// Where it serves its metrics (`/metrics`).
    pub metrics_path: &'static str,
    /// Where it was declared.
    pub site: Site,
    owned: &'static [&'static dyn MetricGroup],
    names: HttpNames,
    http: HttpMetrics,
    own: ServiceMetrics,
    view: OnceLock<Result<Registry, RegistryError>>,
}

impl ServiceInfo {
    /// A service description, owning no metric statics.
    pub const fn new(name: &'static str, metrics_path: &'static str, site: Site) -> Self {
        Self {
            name,
            metrics_path,
            site,
            owned: &[],
            names: HttpNames::DEFAULT,
            http: HttpMetrics::new(),
            own: ServiceMetrics::new(),
            view: OnceLock::new(),
        }
    }

    /// The same service, owning `metrics`: only this service's registry renders them.
    pub const fn owning(mut self, metrics: &'static [&'static dyn MetricGroup]) -> Self {
        self.owned = metrics;
        self
    }

    /// The same service, naming its HTTP families with `prefix`:
    /// `#[keviq::service(prefix = "shop_")]` builds this. `names` are the four
    /// names written out, in the order of [`HttpNames::new`], which checks them.
    ///
    /// # Panics
    /// As [`HttpNames::new`]: in the `static` the attribute declares, a compile error.
    #[track_caller]
    pub const fn with_prefix(mut self, prefix: &'static str, names: [&'static str; 4]) -> Self {
        self.names = HttpNames::new(prefix, names);
        self
    }

    /// The HTTP families this service's [`MetricsLayer`] records into.
    pub fn http(&self) -> &HttpMetrics {
        &self.http
    }

    /// The names its `/metrics` gives those families: [`HttpNames::DEFAULT`]
    /// (`mona_http_requests_total`, ..) unless the attribute sets a `prefix`.
    pub fn http_names(&self) -> &HttpNames {
        &self.names
    }

    /// The metric statics this service owns.
    pub fn owned(&self) -> &'static [&'static dyn MetricGroup] {
        self.owned
    }

    /// What this service's `/metrics` renders, built on first use:
    ///
    /// - its own HTTP families, in place of the process-wide [`HTTP`] ones, named
    ///   with its prefix ([`ServiceInfo::http_names`]);
    /// - `keviq_service_info{service="<name>"} 1`, which names the service to a
    ///   scraper that reaches it by address;
    /// - the metric statics it owns, and every metric no service owns (process
    ///   metrics, statics not listed in any `metrics = [..]`); not the statics
    ///   another service of the process owns.
    ///
    /// # Errors
    /// The global registry's clash ([`Registry::global`]), or a metric declared with
    /// a name the view adds (`keviq_service_info`).
    pub fn registry(&'static self) -> Result<&'static Registry, &'static RegistryError> {
        let global = Registry::global()?;
        self.view
            .get_or_init(|| {
                let others: Vec<&dyn MetricGroup> = services()
                    .iter()
                    .filter(|s| !std::ptr::eq(**s, self))
                    .flat_map(|s| s.owned)
                    .copied()
                    .collect();
                // A static two services both list is shown by both.
                let owned = |r: &Registration, groups: &[&dyn MetricGroup]| {
                    groups.iter().any(|g| g.contains(r.metric()))
                };
                let foreign = |r: &Registration| {
                    HTTP.contains(r.metric()) || (owned(r, &others) && !owned(r, self.owned))
                };
                let mut entries: Vec<Registration> = global
                    .registrations()
                    .filter(|r| !foreign(r))
                    .copied()
                    .collect();
                entries.extend(
                    self.http
                        .registrations()
                        .into_iter()
                        .map(|r| self.renamed(r)),
                );
                self.own.info.labels(self.name).set(1);
                entries.extend(self.own.registrations());
                Registry::from_registrations(&entries)
            })
            .as_ref()
    }

    /// An HTTP family's registration under this service's name for it.
    fn renamed(&self, registration: Registration) -> Registration {
        let mut descriptor = *registration.descriptor();
        descriptor.name = self.names.rename(descriptor.name);
        Registration::new(descriptor, registration.metric())
    }
}

impl fmt::Debug for ServiceInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceInfo")
            .field("name", &self.name)
            .field("metrics_path", &self.metrics_path)
            .field("prefix", &self.names.prefix)
            .field("site", &self.site)
            .field("owned", &self.owned.len())
            .finish_non_exhaustive()
    }
}

keviq_macros::metric! {
    /// What only a service's own `/metrics` serves: a struct, not a registered
    /// static, since each service has its own.
    #[metric(crate = crate)]
    struct ServiceMetrics {
        /// The keviq service serving these metrics; always 1
        info: Gauge(service: &str) = "keviq_service_info",
    }
}

/// A service submitted to the service registry. `#[keviq::service]` builds these.
#[derive(Debug)]
pub struct ServiceRegistration(pub &'static ServiceInfo);

inventory::collect!(ServiceRegistration);

/// Every service declared in this binary, sorted by name: what the telemetry
/// service and the generated Prometheus configuration read.
pub fn services() -> &'static [&'static ServiceInfo] {
    static SERVICES: OnceLock<Vec<&'static ServiceInfo>> = OnceLock::new();
    SERVICES.get_or_init(|| {
        let mut all: Vec<_> = inventory::iter::<ServiceRegistration>
            .into_iter()
            .map(|r| r.0)
            .collect();
        all.sort_by_key(|s| (s.name, s.site.file, s.site.line));
        all
    })
}

/// Adds the metrics route to a router, rendering the global registry.
///
/// The route renders with [`metrics_handler`], answers `HEAD` (axum strips the body),
/// and gzips when `Accept-Encoding` allows it.
pub fn metrics_router<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    path: &str,
) -> Router<S> {
    router.route(path, get(metrics_handler).layer(CompressionLayer::new()))
}

/// Adds a service's metrics route: like [`metrics_router`], rendering
/// [`ServiceInfo::registry`].
///
/// # Panics
/// When the router already serves `GET` (or `HEAD`) at the metrics path, or axum
/// refuses the route for another reason: a message naming the path, the service
/// and `#[keviq::service(metrics_path = "..")]`.
#[track_caller]
fn service_metrics_router<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    service: &'static ServiceInfo,
) -> Router<S> {
    let handler =
        move |headers: HeaderMap| async move { render_response(service.registry(), &headers) };
    let endpoint = get(handler).layer(CompressionLayer::new());
    // axum only tells whether a router already serves a path by trying: `Router`
    // has no lookup of its routes, a probe request would need the router's state
    // (which `instrument` does not have), and `route` reports an overlap by
    // panicking ("Overlapping method route"). So the route is added inside
    // `catch_unwind`, and a refusal becomes a panic that says what to do.
    // `AssertUnwindSafe` holds: the router is moved in and, on a panic, dropped;
    // nothing observes it half-built. keviq's panic hook (`logging::init`) stays
    // quiet meanwhile, so axum's panic is not logged besides ours (with `panic =
    // "abort"` there is no unwinding, and it logs axum's as any panic).
    ADDING_METRICS_ROUTE.set(true);
    let added = std::panic::catch_unwind(AssertUnwindSafe(move || {
        router.route(service.metrics_path, endpoint)
    }));
    ADDING_METRICS_ROUTE.set(false);
    match added {
        Ok(router) => router,
        Err(payload) => panic!("{}", route_refused(service, panic_text(&*payload))),
    }
}

/// Why `#[keviq::service]` could not add `service`'s metrics route, and the fix.
fn route_refused(service: &ServiceInfo, axum: &str) -> String {
    let path = service.metrics_path;
    format!(
        "`#[keviq::service(name = \"{name}\")]` (at {site}) cannot add keviq's metrics route \
         `GET {path}`: the router already serves `{path}` ({axum}). Serve keviq's metrics \
         at another path with `#[keviq::service(metrics_path = \"/keviq/metrics\")]`, \
         or remove the router's own `{path}` route",
        name = service.name,
        site = service.site,
    )
}

/// The text of a panic's payload (`panic!` gives a `&str` or a `String`).
fn panic_text(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message")
}

thread_local! {
    /// Set while [`service_metrics_router`] tries to add the route: a panic then is
    /// axum refusing it, which the panic that follows reports.
    static ADDING_METRICS_ROUTE: Cell<bool> = const { Cell::new(false) };
}

/// Whether this thread is adding a service's metrics route (see
/// [`service_metrics_router`]): `logging`'s panic hook does not log a panic then.
pub(crate) fn adding_metrics_route() -> bool {
    ADDING_METRICS_ROUTE.get()
}

/// Set once `logging`'s panic hook is installed: panics are then logged where they
/// happen, with the request's IDs, and [`PanicResponse`] does not log them again.
pub(crate) static PANICS_LOGGED: AtomicBool = AtomicBool::new(false);

/// tower-http's `CatchPanicLayer` answer to a handler that panicked: `500` with
/// `Service panicked`, as tower-http's default. The default also logs the panic's
/// message; with keviq's panic hook (`keviq::logging::init`) the hook has already
/// logged it, with its location, backtrace and the request's IDs, so this logs only
/// without the hook.
#[derive(Debug, Clone, Copy, Default)]
struct PanicResponse;

impl ResponseForPanic for PanicResponse {
    type ResponseBody = Body;

    fn response_for_panic(&mut self, err: Box<dyn Any + Send + 'static>) -> Response<Body> {
        if !PANICS_LOGGED.load(Ordering::Acquire) {
            tracing::error!("Service panicked: {}", panic_text(&*err));
        }
        let mut response = Response::new(Body::from("Service panicked"));
        *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        response
    }
}

/// Instruments a service's router, in this order from the outside in:
/// [`RequestIdLayer`], [`MetricsLayer`] (recording into the service's own
/// [`HttpMetrics`]), tower-http's `CatchPanicLayer` (so a panicking handler becomes a
/// counted `500`), then the routes, with `GET /metrics` rendering
/// [`ServiceInfo::registry`].
///
/// All three layers are added with `Router::layer`, so the metrics layer sees the
/// route template, and requests that match no route (the fallback) are counted and
/// get a request ID too.
///
/// # Panics
/// When `router` already serves the service's metrics path (`GET /metrics` unless
/// `metrics_path` says otherwise): the message names the path and the fix,
/// `#[keviq::service(metrics_path = "..")]`. The attribute calls this when the
/// service's router is built, so the service stops at start-up.
#[track_caller]
pub fn instrument<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    service: &'static ServiceInfo,
) -> Router<S> {
    // One `Router::layer` call with the three layers stacked: each call wraps every
    // route again (a boxed future and a request move per call), so three separate
    // calls cost about 0.2 µs more per request.
    let stack = tower::ServiceBuilder::new()
        .layer(RequestIdLayer::new().service(service.name))
        .layer(MetricsLayer::recording_into(&service.http))
        .layer(CatchPanicLayer::custom(PanicResponse));
    service_metrics_router(router, service).layer(stack)
}

/// A router `#[keviq::service]` can instrument.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an `axum::Router`",
    label = "`#[keviq::service]` needs the function to return `axum::Router`",
    note = "build the routes and return them: `fn app() -> axum::Router {{ axum::Router::new().route(..) }}`"
)]
pub trait ServiceRouter: Sized {
    /// Adds keviq's layers and routes.
    ///
    /// # Panics
    /// As [`instrument`]: a router that already serves the metrics path.
    #[track_caller]
    fn instrument(self, service: &'static ServiceInfo) -> Self;
}

impl<S: Clone + Send + Sync + 'static> ServiceRouter for Router<S> {
    #[track_caller]
    fn instrument(self, service: &'static ServiceInfo) -> Self {
        instrument(self, service)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::axum::names;
    use crate::metric::Gauge;
    use crate::{Descriptor, MetricType};

    const HERE: Site = Site {
        file: file!(),
        line: line!(),
    };

    // A user's metric with the name every service's view adds.
    static USERS_INFO: Gauge = Gauge::new();
    inventory::submit! {
        Registration::new(
            Descriptor::new("keviq_service_info", "A user's gauge", MetricType::Gauge, &[], HERE),
            &USERS_INFO,
        )
    }

    static SERVICE: ServiceInfo = ServiceInfo::new("svc", "/metrics", HERE);

    #[test]
    fn a_metric_named_like_the_service_info_is_reported_not_rendered_twice() {
        assert!(Registry::global().is_ok());
        let err = SERVICE.registry().unwrap_err();
        assert!(
            err.to_string()
                .contains("metric name `keviq_service_info` is declared twice"),
            "{err}"
        );
    }

    static PREFIXED: ServiceInfo = ServiceInfo::new("prefixed", "/metrics", HERE).with_prefix(
        "shop_",
        [
            "shop_http_requests_total",
            "shop_http_request_duration_ms",
            "shop_http_request_errors_total",
            "shop_http_requests_in_flight",
        ],
    );

    #[test]
    fn a_prefix_renames_the_http_families_of_the_service_only() {
        assert_eq!(SERVICE.http_names(), &HttpNames::DEFAULT);
        assert_eq!(PREFIXED.http_names().prefix, "shop_");
        let renamed: Vec<&str> = PREFIXED
            .http
            .registrations()
            .into_iter()
            .map(|r| PREFIXED.renamed(r).descriptor().name)
            .collect();
        assert_eq!(
            renamed,
            [
                "shop_http_requests_total",
                "shop_http_request_duration_ms",
                "shop_http_request_errors_total",
                "shop_http_requests_in_flight",
            ]
        );
        let kept: Vec<&str> = SERVICE
            .http
            .registrations()
            .into_iter()
            .map(|r| SERVICE.renamed(r).descriptor().name)
            .collect();
        assert_eq!(
            kept,
            [
                names::HTTP_REQUESTS_TOTAL,
                names::HTTP_REQUEST_DURATION_MS,
                names::HTTP_REQUEST_ERRORS_TOTAL,
                names::HTTP_REQUESTS_IN_FLIGHT,
            ]
        );
    }

    #[test]
    fn a_refused_metrics_route_names_the_path_and_the_fix() {
        static MINE: ServiceInfo = ServiceInfo::new("mine", "/metrics", HERE);
        let router: Router = Router::new().route("/metrics", get(|| async { "mine" }));
        let payload = std::panic::catch_unwind(AssertUnwindSafe(|| instrument(router, &MINE)))
            .expect_err("a second GET /metrics is refused");
        let message = panic_text(&*payload);
        for part in [
            "`GET /metrics`",
            "`#[keviq::service(name = \"mine\")]`",
            "metrics_path = ",
            "Overlapping method route",
        ] {
            assert!(message.contains(part), "{part} in {message}");
        }
        assert!(!adding_metrics_route());
        // Another method at the path merges with keviq's `GET`.
        let router: Router = Router::new().route("/metrics", axum::routing::post(|| async {}));
        let _ = instrument(router, &MINE);
    }

    #[test]
    fn the_service_info_name_the_readers_import_is_the_declared_one() {
        static OWN: ServiceMetrics = ServiceMetrics::new();
        let registrations = OWN.registrations();
        let descriptor = registrations[0].descriptor();
        assert_eq!(descriptor.name, names::SERVICE_INFO);
        assert_eq!(descriptor.labels, [names::SERVICE_LABEL]);
    }
}
