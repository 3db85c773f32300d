//! Turns a checked declaration into structs, statics, typed wrappers and
//! registrations.
//!
//! Generated code reaches the runtime only through one hidden module,
//! `::keviq::__private` (or `<path>::__private` with `#[metric(crate = path)]`), so a
//! user crate needs nothing but `keviq` in its dependencies.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, Ident, Path, Visibility};

use super::labeled::{self, Labeled};
use super::parse::{Field, Input, Item, Shape};

pub(crate) fn expand(input: &Input, registrable: &[Vec<bool>]) -> TokenStream {
    input
        .items
        .iter()
        .zip(registrable)
        .map(|(item, ok)| expand_item(item, ok))
        .collect()
}

/// The runtime type behind one metric.
pub(crate) enum Repr<'a> {
    Counter,
    Gauge,
    FloatGauge,
    /// Bucket count and bounds.
    Histogram {
        n: TokenStream,
        bounds: TokenStream,
    },
    /// `read = path`: read by `path` at each render.
    Observed(&'a Path),
}

impl<'a> Repr<'a> {
    fn of(rt: &TokenStream, field: &'a Field) -> Self {
        // `read` on a histogram or a labeled metric is an error (see `valid`); the
        // metric then keeps the type its uses expect.
        if let Some(read) = &field.options.read
            && !field.metric_type.has_buckets()
            && field.labels.is_empty()
        {
            return Repr::Observed(&read.value);
        }
        if field.metric_type.has_buckets() {
            let (n, bounds) = buckets(rt, field);
            Repr::Histogram { n, bounds }
        } else if field.metric_type == keviq_model::MetricType::Counter {
            Repr::Counter
        } else if field.float {
            Repr::FloatGauge
        } else {
            Repr::Gauge
        }
    }
}

/// Bucket bounds to emit: the declared ones when valid, the defaults otherwise
/// (errors are reported separately; the fallback keeps the rest type-checking).
fn buckets(rt: &TokenStream, field: &Field) -> (TokenStream, TokenStream) {
    if let Some(given) = &field.options.buckets {
        let values: Vec<f64> = given.value.bounds.iter().map(|b| b.0).collect();
        if keviq_model::check_buckets(&values).is_ok() {
            let n = values.len();
            return (quote!(#n), quote!([#(#values),*]));
        }
    }
    (
        quote!({ #rt::DEFAULT_MS_BUCKETS.len() }),
        quote!(#rt::DEFAULT_MS_BUCKETS),
    )
}

/// What one field becomes: its type, its `const` initialiser, and for a labeled
/// metric the wrapper type.
struct Parts {
    ty: TokenStream,
    init: TokenStream,
    labeled: Option<Labeled>,
}

impl Parts {
    fn of(
        rt: &TokenStream,
        field: &Field,
        wrapper: &Ident,
        vis: &Visibility,
        with_registration: bool,
    ) -> Self {
        let repr = Repr::of(rt, field);
        if field.labels.is_empty() {
            let (ty, init) = match &repr {
                Repr::Counter => (quote!(#rt::Counter), quote!(#rt::Counter::new())),
                Repr::Gauge => (quote!(#rt::Gauge), quote!(#rt::Gauge::new())),
                Repr::FloatGauge => (quote!(#rt::FloatGauge), quote!(#rt::FloatGauge::new())),
                Repr::Histogram { n, bounds } => (
                    quote!(#rt::Histogram<#n>),
                    quote!(#rt::Histogram::new(#bounds)),
                ),
                // Coerced on its own line so that a function of another
                // signature is reported on the path, against the type it needs.
                Repr::Observed(read) => (
                    quote!(#rt::Observed),
                    quote_spanned! {read.span()=> {
                        let read: fn() -> ::core::option::Option<::core::primitive::f64> = #read;
                        #rt::Observed::new(read)
                    }},
                ),
            };
            return Self {
                ty,
                init,
                labeled: None,
            };
        }
        let labeled = labeled::wrapper(rt, field, &repr, wrapper, vis, with_registration);
        Self {
            ty: labeled.ty.clone(),
            init: labeled.init.clone(),
            labeled: Some(labeled),
        }
    }
}

fn runtime(item: &Item) -> TokenStream {
    match &item.krate {
        Some(path) => quote!(#path::__private),
        None => quote!(::keviq::__private),
    }
}

fn expand_item(item: &Item, ok: &[bool]) -> TokenStream {
    let rt = runtime(item);
    match &item.shape {
        Shape::Group {
            static_ident,
            struct_ident,
            fields,
        } => expand_group(&rt, item, static_ident.as_ref(), struct_ident, fields, ok),
        Shape::Single { ident, field } => {
            let vis = &item.vis;
            let wrapper = format_ident!("__keviq_{}", ident);
            let parts = Parts::of(&rt, field, &wrapper, vis, false);
            let attrs = &item.attrs;
            let (ty, init) = (&parts.ty, &parts.init);
            let wrapper_item = parts.labeled.as_ref().map(|l| &l.item);
            let registration = if ok.first().copied().unwrap_or(false) {
                static_registration(&rt, field, quote!(#ident), parts.labeled.as_ref())
            } else {
                TokenStream::new()
            };
            quote! {
                #(#attrs)*
                #vis static #ident: #ty = #init;
                #wrapper_item
                #registration
            }
        }
    }
}

fn expand_group(
    rt: &TokenStream,
    item: &Item,
    static_ident: Option<&Ident>,
    struct_ident: &Ident,
    fields: &[Field],
    ok: &[bool],
) -> TokenStream {
    let vis = &item.vis;
    let mut wrappers = TokenStream::new();
    let mut decls = Vec::new();
    let mut inits = Vec::new();
    let mut debug_fields = Vec::new();
    let mut registrations = Vec::new();
    let mut submits = TokenStream::new();
    let mut seen = std::collections::HashSet::new();
    for (field, ok) in fields.iter().zip(ok) {
        // A duplicate field is reported by `valid`; emitting it again would only add
        // rustc's own errors about the same mistake.
        if !seen.insert(field.ident.to_string()) {
            continue;
        }
        let wrapper = format_ident!("__keviq_{}_{}", struct_ident, field.ident);
        let parts = Parts::of(rt, field, &wrapper, vis, *ok);
        let (fident, fdocs, ty, init) = (&field.ident, &field.doc_attrs, &parts.ty, &parts.init);
        let fvis = field.vis.as_ref().unwrap_or(vis);
        decls.push(quote! { #(#fdocs)* #fvis #fident: #ty });
        inits.push(quote! { #fident: #init });
        let fname = fident.to_string();
        let fname = fname.trim_start_matches("r#");
        debug_fields.push(quote! { .field(#fname, &self.#fident) });
        if let Some(labeled) = &parts.labeled {
            wrappers.extend(labeled.item.clone());
        }
        if !*ok {
            continue;
        }
        let descriptor = descriptor(rt, field);
        registrations.push(match &parts.labeled {
            Some(_) => quote!(self.#fident.__keviq_registration(const { #descriptor })),
            None => quote!(#rt::Registration::new(const { #descriptor }, &self.#fident)),
        });
        if let Some(static_ident) = static_ident {
            submits.extend(static_registration(
                rt,
                field,
                quote!(#static_ident.#fident),
                parts.labeled.as_ref(),
            ));
        }
    }

    let name = struct_ident.to_string();
    let debug = (!derives_debug(&item.attrs)).then(|| {
        quote! {
            impl ::core::fmt::Debug for #struct_ident {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    f.debug_struct(#name) #(#debug_fields)* .finish()
                }
            }
        }
    });
    let (new_doc, registrations_doc) = method_docs(struct_ident, static_ident);
    let methods = quote! {
        impl #struct_ident {
            #[doc = #new_doc]
            #[must_use]
            #vis const fn new() -> Self {
                Self { #(#inits,)* }
            }

            #[doc = #registrations_doc]
            #vis fn registrations(&'static self) -> ::std::vec::Vec<#rt::Registration> {
                ::std::vec![#(#registrations),*]
            }
        }
    };
    let (struct_attrs, the_static) = match static_ident {
        // The struct takes the static's docs and `#[cfg]`; the static takes every
        // attribute.
        Some(ident) => {
            let attrs = &item.attrs;
            let struct_attrs: Vec<&Attribute> = attrs
                .iter()
                .filter(|a| a.path().is_ident("doc") || a.path().is_ident("cfg"))
                .collect();
            (
                struct_attrs,
                Some(quote! {
                    #(#attrs)*
                    #vis static #ident: #struct_ident = #struct_ident::new();
                }),
            )
        }
        None => (item.attrs.iter().collect(), None),
    };
    quote! {
        #(#struct_attrs)*
        #vis struct #struct_ident { #(#decls,)* }

        impl #rt::MetricGroup for #struct_ident {}
        #debug
        #methods
        #the_static
        #wrappers
        #submits
    }
}

/// Whether the user's attributes already derive `Debug` for the struct.
fn derives_debug(attrs: &[Attribute]) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("derive"))
        .any(|a| {
            let mut found = false;
            let _ = a.parse_nested_meta(|meta| {
                found |= meta
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "Debug");
                Ok(())
            });
            found
        })
}

fn method_docs(struct_ident: &Ident, static_ident: Option<&Ident>) -> (String, String) {
    let registered = match static_ident {
        Some(s) => format!("`{s}` is the set registered globally. "),
        None => String::new(),
    };
    let new = format!(
        "Returns a set of these metrics at zero, registered nowhere.\n\n\
         {registered}A set made here is rendered only by a registry built from its \
         [`registrations`](Self::registrations)."
    );
    let registrations = format!(
        "Returns one registration per metric of this set, with the name, help, labels \
         and declaration site of its declaration, for a registry of its own: \
         `static SET: {struct_ident} = {struct_ident}::new();` then \
         `Registry::from_registrations(&SET.registrations())`.\n\n\
         The set must live for the rest of the program: a `static`, or a leaked `Box`."
    );
    (new, registrations)
}

/// The descriptor of a registrable metric, a `const` expression: the same tokens
/// build the static's inventory registration and `registrations()`.
fn descriptor(rt: &TokenStream, field: &Field) -> TokenStream {
    let name = field
        .name
        .as_ref()
        .map_or_else(|| field.ident.to_string(), syn::LitStr::value);
    let help = field
        .docs
        .iter()
        .map(|d| d.trim())
        .filter(|d| !d.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    // `MetricType` is `keviq_model`'s, re-exported by the runtime: its variant
    // names are what `Debug` prints.
    let metric_type = Ident::new(&format!("{:?}", field.metric_type), Span::call_site());
    let label_names = field
        .labels
        .iter()
        .filter_map(|l| l.ident.as_ref())
        .map(|i| i.to_string().trim_start_matches("r#").to_owned());
    let unit = field.options.unit.as_ref().map(|u| {
        let u = &u.value;
        quote!(.with_unit(#u))
    });
    // `line!()` spanned on the name literal reports the line the metric is declared on.
    let span = field
        .name
        .as_ref()
        .map_or_else(|| field.ident.span(), syn::LitStr::span);
    let line = quote_spanned!(span=> ::core::line!());
    quote! {
        #rt::Descriptor::new(
            #name,
            #help,
            #rt::MetricType::#metric_type,
            &[#(#label_names),*],
            #rt::Site { file: ::core::file!(), line: #line },
        )#unit
    }
}

/// The inventory registration of the metric at `target` (a static, or a field of
/// one).
fn static_registration(
    rt: &TokenStream,
    field: &Field,
    target: TokenStream,
    labeled: Option<&Labeled>,
) -> TokenStream {
    let descriptor = descriptor(rt, field);
    match labeled {
        Some(labeled) => labeled::static_registration(rt, labeled, &target, &descriptor),
        None => quote! {
            const _: () = {
                #rt::inventory::submit! {
                    #rt::Registration::new(#descriptor, &#target)
                }
            };
        },
    }
}
