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
/// that each owner registers in a registry of its own. See `keviq::metric!`.
#[proc_macro]
pub fn metric(input: TokenStream) -> TokenStream {
    metric::metric(input.into()).into()
}

/// Makes a fieldless enum a fixed-cardinality label type. See `keviq::LabelValue`.
#[proc_macro_derive(LabelValue, attributes(label))]
pub fn derive_label_value(input: TokenStream) -> TokenStream {
    label::derive(input.into()).into()
}

/// Instruments the function that builds a service's `axum::Router`. See
/// `keviq::service`.
#[proc_macro_attribute]
pub fn service(args: TokenStream, item: TokenStream) -> TokenStream {
    service::service(args.into(), item.into()).into()
}
