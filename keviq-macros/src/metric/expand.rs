//! Turns a checked declaration into statics, typed wrappers and registrations.
//!
//! Generated code reaches the runtime only through `::keviq::__private`, so a user
//! crate needs nothing but `keviq` in its dependencies.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::{Ident, Type};

use super::parse::{Body, Field, Input, Item, Kind, Label};

pub(crate) fn expand(input: &Input, registrable: &[Vec<bool>]) -> TokenStream {
    input
        .items
        .iter()
        .zip(registrable)
        .map(|(item, ok)| expand_item(item, ok))
        .collect()
}

fn expand_item(item: &Item, ok: &[bool]) -> TokenStream {
    let Item {
        attrs,
        vis,
        ident,
        body,
    } = item;
    match body {
        Body::Group {
            struct_ident,
            fields,
        } => {
            let docs: Vec<_> = attrs.iter().filter(|a| a.path().is_ident("doc")).collect();
            let mut wrappers = TokenStream::new();
            let mut decls = Vec::new();
            let mut inits = Vec::new();
            let mut registrations = TokenStream::new();
            let mut seen = std::collections::HashSet::new();
            for (field, ok) in fields.iter().zip(ok) {
                // A duplicate field is reported by `valid`; emitting it again would
                // only add rustc's own errors about the same mistake.
                if !seen.insert(field.ident.to_string()) {
                    continue;
                }
                let wrapper = format_ident!("__keviq_{}_{}", struct_ident, field.ident);
                let parts = Parts::of(field, &wrapper, vis);
                let (fident, fdocs, ty, init) =
                    (&field.ident, &field.doc_attrs, &parts.ty, &parts.init);
                wrappers.extend(parts.wrapper);
                let fvis = field.vis.as_ref().unwrap_or(vis);
                decls.push(quote! { #(#fdocs)* #fvis #fident: #ty });
                inits.push(quote! { #fident: #init });
                if *ok {
                    registrations.extend(registration(
                        field,
                        quote!(#ident.#fident),
                        parts.labeled,
                    ));
                }
            }
            quote! {
                #(#docs)*
                #vis struct #struct_ident { #(#decls,)* }

                impl ::keviq::__private::MetricGroup for #struct_ident {}

                #(#attrs)*
                #vis static #ident: #struct_ident = #struct_ident { #(#inits,)* };

                #wrappers
                const _: () = { #registrations };
            }
        }
        Body::Single(field) => {
            let wrapper = format_ident!("__keviq_{}", ident);
            let parts = Parts::of(field, &wrapper, vis);
            let other_attrs = attrs.iter().filter(|a| !a.path().is_ident("metric"));
            let (ty, init, wrapper_item) = (&parts.ty, &parts.init, &parts.wrapper);
            let registration = if ok.first().copied().unwrap_or(false) {
                registration(field, quote!(#ident), parts.labeled)
            } else {
                TokenStream::new()
            };
            quote! {
                #(#other_attrs)*
                #vis static #ident: #ty = #init;
                #wrapper_item
                const _: () = { #registration };
            }
        }
    }
}

/// The type, initialiser and (for labeled metrics) wrapper type of one field.
struct Parts {
    ty: TokenStream,
    init: TokenStream,
    wrapper: TokenStream,
    labeled: bool,
}

/// Bucket bounds to emit: the declared ones when valid, the defaults otherwise
/// (errors are reported separately; the fallback keeps the rest type-checking).
fn buckets(field: &Field) -> (TokenStream, TokenStream) {
    match &field.options.buckets {
        Some((_, bounds))
            if !bounds.is_empty()
                && keviq_runtime::rules::check_buckets(
                    &bounds.iter().map(|b| b.0).collect::<Vec<_>>(),
                )
                .is_ok() =>
        {
            let n = bounds.len();
            let values = bounds.iter().map(|(v, _)| quote!(#v));
            (quote!(#n), quote!([#(#values),*]))
        }
        _ => (
            quote!({ ::keviq::__private::DEFAULT_MS_BUCKETS.len() }),
            quote!(::keviq::__private::DEFAULT_MS_BUCKETS),
        ),
    }
}

impl Parts {
    fn of(field: &Field, wrapper: &Ident, vis: &syn::Visibility) -> Self {
        let rt = quote!(::keviq::__private);
        let (n, bounds) = buckets(field);
        if field.labels.is_empty() {
            let (ty, init) = match field.kind {
                Kind::Counter => (quote!(#rt::Counter), quote!(#rt::Counter::new())),
                Kind::Gauge => (quote!(#rt::Gauge), quote!(#rt::Gauge::new())),
                Kind::FloatGauge => (quote!(#rt::FloatGauge), quote!(#rt::FloatGauge::new())),
                Kind::Histogram => (
                    quote!(#rt::Histogram<#n>),
                    quote!(#rt::Histogram::new(#bounds)),
                ),
            };
            return Self {
                ty,
                init,
                wrapper: TokenStream::new(),
                labeled: false,
            };
        }
        let (series, config, handle) = match field.kind {
            Kind::Counter => (
                quote!(#rt::LabeledCounter),
                quote!(()),
                quote!(&#rt::LabeledCounter),
            ),
            Kind::Gauge => (quote!(#rt::Gauge), quote!(()), quote!(&#rt::Gauge)),
            Kind::FloatGauge => (
                quote!(#rt::FloatGauge),
                quote!(()),
                quote!(&#rt::FloatGauge),
            ),
            Kind::Histogram => (
                quote!(#rt::HistogramCell<#n>),
                bounds,
                quote!(#rt::LabeledHistogram<'_, #n>),
            ),
        };
        let schema: Vec<TokenStream> = field.labels.iter().map(schema_type).collect();
        // Duplicate labels are reported by `valid`; give repeats a fresh parameter name
        // so rustc does not report them a second time.
        let mut seen = std::collections::HashSet::new();
        let args: Vec<Ident> = field
            .labels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                if seen.insert(l.ident.to_string()) {
                    l.ident.clone()
                } else {
                    format_ident!("__keviq_label_{}", i)
                }
            })
            .collect();
        let params = args
            .iter()
            .zip(&field.labels)
            .map(|(ident, Label { ty, .. })| quote!(#ident: #ty));
        let name = &field.name;
        let max = match &field.options.max_series {
            Some(m) if m.base10_parse::<usize>().is_ok_and(|n| n > 0) => quote!(#m),
            _ => quote!(#rt::DEFAULT_MAX_SERIES),
        };
        let asserts = field.labels.iter().zip(&schema).map(|(label, schema)| {
            quote_spanned! {label.ty_span()=>
                let _ = __keviq_assert_label::<#schema>;
            }
        });
        let help = format!(
            "The series of `{}` for one set of label values, created at zero on first use.\n\n\
             Keep the returned handle to skip the lookup on later calls.",
            name.value()
        );
        let wrapper_item = quote! {
            #[doc(hidden)]
            #[allow(non_camel_case_types)]
            #vis struct #wrapper(#rt::Family<(#(#schema,)*), #series>);

            impl #rt::MetricGroup for #wrapper {}

            impl #wrapper {
                #[doc = #help]
                #[inline]
                #vis fn labels(&self, #(#params),*) -> #handle {
                    self.0.get((#(#args,)*))
                }
            }

            const _: () = {
                fn __keviq_assert_label<T: #rt::LabelValue>() {}
                #(#asserts)*
            };
        };
        Self {
            ty: quote!(#wrapper),
            init: quote!(#wrapper(#rt::Family::new(#name, #config, #max))),
            wrapper: wrapper_item,
            labeled: true,
        }
    }
}

impl Label {
    fn ty_span(&self) -> Span {
        syn::spanned::Spanned::span(&self.ty)
    }
}

/// The type a label has in the family's schema: `&str` becomes the runtime's `Str`
/// marker; every other type stands for itself.
fn schema_type(label: &Label) -> TokenStream {
    if let Type::Reference(r) = &label.ty
        && let Type::Path(p) = &*r.elem
        && p.path.segments.last().is_some_and(|s| s.ident == "str")
    {
        return quote_spanned!(label.ty_span()=> ::keviq::__private::Str);
    }
    let ty = &label.ty;
    quote!(#ty)
}

fn registration(field: &Field, target: TokenStream, labeled: bool) -> TokenStream {
    let rt = quote!(::keviq::__private);
    let name = &field.name;
    let help = field
        .docs
        .iter()
        .map(|d| d.trim())
        .filter(|d| !d.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let kind = match field.kind.runtime_kind() {
        keviq_runtime::MetricKind::Counter => quote!(Counter),
        keviq_runtime::MetricKind::Gauge => quote!(Gauge),
        keviq_runtime::MetricKind::Histogram => quote!(Histogram),
    };
    let label_names = field
        .labels
        .iter()
        .map(|l| l.ident.to_string().trim_start_matches("r#").to_owned());
    let unit = field.options.unit.as_ref().map(|u| quote!(.with_unit(#u)));
    let metric = if labeled {
        quote!(&#target.0)
    } else {
        quote!(&#target)
    };
    // `line!()` spanned on the name literal reports the line the metric is declared on.
    let line = quote_spanned!(field.name.span()=> ::core::line!());
    quote! {
        #rt::inventory::submit! {
            #rt::Registration::new(
                #rt::Descriptor::new(
                    #name,
                    #help,
                    #rt::MetricKind::#kind,
                    &[#(#label_names),*],
                    #rt::Site { file: ::core::file!(), line: #line },
                )#unit,
                #metric,
            )
        }
    }
}
