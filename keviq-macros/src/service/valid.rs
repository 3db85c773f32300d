//! Rules for `#[keviq::service]`: one value per argument, a DNS-label name, an
//! absolute metrics path, a prefix that makes valid HTTP family names, and a
//! function that returns something.

use keviq_model::{MetricType, check_metric_name, check_service_name};
use syn::{ItemFn, LitStr, ReturnType};

use super::parse::Args;
use crate::errors::Errors;

/// The checked arguments, with defaults filled in.
pub(crate) struct Service {
    pub(crate) name: String,
    pub(crate) metrics_path: String,
    pub(crate) owned: Vec<syn::Path>,
    /// `prefix = ".."` and the four HTTP family names it makes; `None` keeps the
    /// runtime's default (`mona_`).
    pub(crate) prefix: Option<(String, [String; 4])>,
}

/// What follows the prefix in each HTTP family's name, and its type: the runtime's
/// `keviq::axum::names::HTTP_FAMILIES`, in its order. This crate cannot depend on
/// the runtime; `HttpNames::new` checks, when the generated `static` is compiled,
/// that the names built here are that join, so the two lists cannot drift apart.
const HTTP_FAMILIES: [(&str, MetricType); 4] = [
    ("http_requests_total", MetricType::Counter),
    ("http_request_duration_ms", MetricType::Histogram),
    ("http_request_errors_total", MetricType::Counter),
    ("http_requests_in_flight", MetricType::Gauge),
];

/// The HTTP family names `prefix` makes, or why it cannot be one: it ends in `_`
/// (or is empty), and every name it makes passes the naming rules.
fn prefixed_names(prefix: &str) -> Result<[String; 4], String> {
    if !prefix.is_empty() && !prefix.ends_with('_') {
        return Err(format!(
            "prefix `{prefix}` should end in `_`: it is joined to `http_requests_total` as it is; \
             write `prefix = \"{prefix}_\"`"
        ));
    }
    let names = HTTP_FAMILIES.map(|(part, _)| format!("{prefix}{part}"));
    for (name, (_, kind)) in names.iter().zip(HTTP_FAMILIES) {
        if let Err(e) = check_metric_name(name, kind) {
            return Err(format!(
                "prefix `{prefix}` makes the invalid metric name `{name}`: {}",
                e.message()
            ));
        }
    }
    Ok(names)
}

fn once<'a>(values: &'a [LitStr], arg: &str, errors: &mut Errors) -> Option<&'a LitStr> {
    for extra in values.iter().skip(1) {
        errors.push(syn::Error::new(
            extra.span(),
            format!("duplicate argument `{arg}`; give it once"),
        ));
    }
    values.first()
}

pub(crate) fn check(args: &Args, func: &ItemFn, errors: &mut Errors) -> Service {
    let name = match once(&args.name, "name", errors) {
        Some(lit) => {
            let name = lit.value();
            if check_service_name(&name).is_err() {
                errors.push(syn::Error::new(
                    lit.span(),
                    format!(
                        "service name `{name}` is not a DNS label: use 1 to 63 lowercase letters, digits and `-`, \
                         starting and ending with a letter or digit (the fleet reaches it at `<name>:8000`)"
                    ),
                ));
            }
            name
        }
        // Proc macros run inside rustc, which cargo gives the package's name.
        None => {
            let name = std::env::var("CARGO_PKG_NAME").unwrap_or_default();
            if check_service_name(&name).is_err() {
                errors.push(syn::Error::new(
                    proc_macro2::Span::call_site(),
                    format!("the package name `{name}` is not a DNS label; name the service: `#[keviq::service(name = \"my-service\")]`"),
                ));
            }
            name
        }
    };
    let metrics_path = match once(&args.metrics_path, "metrics_path", errors) {
        Some(lit) => {
            let path = lit.value();
            if !path.starts_with('/') || path.contains(['{', '}', '*', ' ']) {
                errors.push(syn::Error::new(
                    lit.span(),
                    format!(
                        "metrics path `{path}` must be a fixed absolute path such as `/metrics`"
                    ),
                ));
            } else if path.split('/').any(|segment| segment.starts_with(':')) {
                // axum refuses it when the route is added, which would stop the
                // service at start-up.
                errors.push(syn::Error::new(
                    lit.span(),
                    format!(
                        "metrics path `{path}` has a segment starting with `:`, which axum refuses \
                         (it was axum 0.7's capture syntax); use a fixed absolute path such as `/metrics`"
                    ),
                ));
            }
            path
        }
        None => "/metrics".to_owned(),
    };
    if let ReturnType::Default = func.sig.output {
        errors.push(syn::Error::new_spanned(
            &func.sig,
            format!("`#[keviq::service]` needs `{}` to return the service's router: add `-> axum::Router`", func.sig.ident),
        ));
    }
    for extra in args.metrics.iter().skip(1) {
        errors.push(syn::Error::new(
            extra.keyword.span,
            "duplicate argument `metrics`; list every static once: `metrics = [A, B]`",
        ));
    }
    let owned = args
        .metrics
        .first()
        .map(|m| m.statics.clone())
        .unwrap_or_default();
    let prefix = once(&args.prefix, "prefix", errors).and_then(|lit| {
        let prefix = lit.value();
        match prefixed_names(&prefix) {
            Ok(names) => Some((prefix, names)),
            Err(message) => {
                errors.push(syn::Error::new(lit.span(), message));
                None
            }
        }
    });
    Service {
        name,
        metrics_path,
        owned,
        prefix,
    }
}
