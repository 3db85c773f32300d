//! Rules for `#[keviq::service]`: one value per argument, a DNS-label name, an
//! absolute metrics path, and a function that returns something.

use keviq_model::check_service_name;
use syn::{ItemFn, LitStr, ReturnType};

use super::parse::Args;
use crate::errors::Errors;

/// The checked arguments, with defaults filled in.
pub(crate) struct Service {
    pub(crate) name: String,
    pub(crate) metrics_path: String,
    pub(crate) owned: Vec<syn::Path>,
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
    Service {
        name,
        metrics_path,
        owned,
    }
}
