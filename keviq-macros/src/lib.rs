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

/// Makes a fieldless enum a fixed-cardinality label type: each variant is one label
/// value, and a label of this type indexes a dense array (see the `keviq::LabelValue`
/// trait).
///
/// ```ignore
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

/// Instruments the function that builds a service's `axum::Router`. See
/// `keviq::service`.
#[proc_macro_attribute]
pub fn service(args: TokenStream, item: TokenStream) -> TokenStream {
    service::service(args.into(), item.into()).into()
}
