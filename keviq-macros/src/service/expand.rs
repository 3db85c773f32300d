//! Wraps the user's function: its body still builds the router, and the returned
//! router gets keviq's layers and `/metrics`. The function keeps its name,
//! signature and attributes, so it stays callable (and testable) on its own.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, ReturnType};

use super::valid::Service;

pub(crate) fn expand(func: &ItemFn, service: &Service) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = func;
    let ReturnType::Type(_, ret) = &sig.output else {
        return quote!(#func);
    };
    let rt = quote!(::keviq::__private);
    let (name, path) = (&service.name, &service.metrics_path);
    // `return` in the user's body returns from this closure (or async block), which
    // is what it meant: the router it builds.
    let build = if sig.asyncness.is_some() {
        quote!(async move #block.await)
    } else {
        quote!((move || #block)())
    };
    // Spanned on the return type, so "not an `axum::Router`" underlines it.
    // Each spanned on its path, so "not a metric static" underlines the one at fault.
    let owned = service
        .owned
        .iter()
        .map(|path| quote_spanned!(path.span()=> &#path as &'static dyn #rt::MetricGroup));
    let instrument =
        quote_spanned!(ret.span()=> <#ret as ::keviq::__private::ServiceRouter>::instrument);
    // Written out here (no `const` string concatenation in Rust), checked again by
    // the runtime's `HttpNames::new` in the `static`.
    let prefix = service
        .prefix
        .as_ref()
        .map(|(prefix, names)| quote!(.with_prefix(#prefix, [#(#names),*])));
    quote! {
        #(#attrs)*
        #vis #sig {
            static __KEVIQ_SERVICE: #rt::ServiceInfo = #rt::ServiceInfo::new(
                #name,
                #path,
                #rt::Site { file: ::core::file!(), line: ::core::line!() },
            )
            .owning(&[#(#owned),*])
            #prefix;
            #rt::inventory::submit! { #rt::ServiceRegistration(&__KEVIQ_SERVICE) }
            let __keviq_router: #ret = #build;
            #instrument(__keviq_router, &__KEVIQ_SERVICE)
        }
    }
}
