//! The wrapper type of a labeled metric: a `Family` with a `labels(..)` method
//! whose arguments are the declared label types.
//!
//! # One error for a label type that is not a `LabelValue`
//!
//! The macro cannot know which types implement `LabelValue`. Used directly, a
//! `Family<(f64,), _>` fails in every place that needs its label types (the
//! lookup in `labels(..)`, the registration, `registrations()`), each error naming
//! runtime internals at the macro's first line. So the only place that states
//! the requirement is one check per label, spanned on the user's type:
//! `<f64 as LabelValue>::CARDINALITY`. Every other use goes through a probe: an
//! inherent item of `__KeviqProbe<Family<..>>`, bounded by `LabelValue` on each
//! label type, which path resolution picks when the bounds hold; otherwise it
//! falls back to the same-named trait item, which only type-checks (the crate does
//! not build anyway, because of the check). The runtime's `Family` itself puts no
//! bound on its label types until they are used.
//!
//! # `String` labels borrow
//!
//! A label declared `String` is looked up as text: its schema type is the runtime's
//! `Str`, like `&str`'s, and its parameter is `impl AsRef<str>`, so `labels(..)`
//! takes `&str`, `&String` (`&order.currency`, without moving the field) or
//! `String`, and finding a series that exists allocates nothing. The type is
//! recognised by its last path segment (`String`, `std::string::String`), as `&str`
//! is; an alias of `String` keeps the owned parameter of `String`'s `LabelValue`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Type};

use super::expand::Repr;
use super::parse::{Field, Label};
use super::valid::MAX_LABELS;

/// What a labeled field expands to.
pub(crate) struct Labeled {
    /// The wrapper's name, the field's type.
    pub(crate) ty: TokenStream,
    /// `const` initialiser of the wrapper.
    pub(crate) init: TokenStream,
    /// The wrapper and its impls.
    pub(crate) item: TokenStream,
    /// `Family<(..), Series>`: the type of the wrapper's `.0`.
    pub(crate) family: TokenStream,
    /// The label types as the family's schema names them.
    pub(crate) schema: Vec<TokenStream>,
    /// The series type of the family.
    pub(crate) series: TokenStream,
}

/// `with_registration`: also give the wrapper a private
/// `__keviq_registration(&'static self, Descriptor)`, for `registrations()`.
pub(crate) fn wrapper(
    rt: &TokenStream,
    field: &Field,
    repr: &Repr,
    wrapper: &Ident,
    vis: &syn::Visibility,
    with_registration: bool,
) -> Labeled {
    let (series, config) = series_and_config(rt, repr);
    let handle = |lifetime: TokenStream| match repr {
        Repr::Histogram { n, .. } => quote!(#rt::LabeledHistogram<#lifetime, #n>),
        _ => quote!(&#lifetime #series),
    };
    let (handle_a, handle_elided) = (handle(quote!('a)), handle(quote!('_)));
    // Labels that parsed make the schema; one that did not still takes an argument,
    // so calls keep compiling while the declaration is fixed.
    let complete: Vec<(&Ident, &Type)> = field
        .labels
        .iter()
        .filter_map(|l| Some((l.ident.as_ref()?, l.ty.as_ref()?)))
        .collect();
    let schema: Vec<TokenStream> = complete.iter().map(|(_, ty)| schema_type(rt, ty)).collect();
    let family = quote!(#rt::Family<(#(#schema,)*), #series>);

    // Duplicate labels are reported by `valid`; give repeats a fresh parameter name
    // so rustc does not report them a second time.
    let mut seen = std::collections::HashSet::new();
    let mut params = Vec::new();
    let mut args: Vec<TokenStream> = Vec::new();
    for (i, label) in field.labels.iter().enumerate() {
        let Label {
            ident: Some(ident),
            ty: Some(ty),
            ..
        } = label
        else {
            let placeholder = format_ident!("__keviq_label_{}", i);
            params.push(
                quote_spanned!(label.tokens.span()=> #placeholder: impl ::core::marker::Sized),
            );
            continue;
        };
        // A label may be named by a keyword (`type` is a fine label name), which
        // cannot name a parameter.
        let keyword = syn::parse_str::<Ident>(&ident.to_string()).is_err();
        let arg = if seen.insert(ident.to_string()) && !keyword {
            ident.clone()
        } else {
            format_ident!("__keviq_label_{}", i)
        };
        if is_string(ty) {
            // Looked up as `&str` (see the module docs).
            params.push(quote_spanned! {ty.span()=>
                #arg: impl ::core::convert::AsRef<::core::primitive::str>
            });
            args.push(quote! {
                ::core::convert::AsRef::<::core::primitive::str>::as_ref(&#arg)
            });
        } else {
            params.push(quote!(#arg: #ty));
            args.push(quote!(#arg));
        }
    }

    let name = field
        .name
        .as_ref()
        .map_or_else(|| field.ident.to_string(), syn::LitStr::value);
    let max = match &field.options.max_series {
        Some(m) if m.value.base10_parse::<usize>().is_ok_and(|n| n > 0) => {
            let m = &m.value;
            quote!(#m)
        }
        _ => quote!(#rt::DEFAULT_MAX_SERIES),
    };
    let checks = complete.iter().zip(&schema).map(|((_, ty), schema)| {
        quote_spanned! {ty.span()=>
            let _ = <#schema as #rt::LabelValue>::CARDINALITY;
        }
    });
    let generics: Vec<Ident> = (0..schema.len())
        .map(|i| format_ident!("__KeviqL{}", i))
        .collect();
    let generic_family = quote!(#rt::Family<(#(#generics,)*), #series>);
    let register = with_registration.then(|| {
        quote! {
            fn register(
                family: &'static #generic_family,
                descriptor: #rt::Descriptor,
            ) -> #rt::Registration {
                #rt::Registration::new(descriptor, family)
            }
        }
    });
    let register_fallback = with_registration.then(|| {
        quote! {
            fn register(_: &'static F, _: #rt::Descriptor) -> #rt::Registration {
                ::core::unreachable!()
            }
        }
    });
    let registration_method = with_registration.then(|| {
        quote! {
            fn __keviq_registration(
                &'static self,
                descriptor: #rt::Descriptor,
            ) -> #rt::Registration {
                <__KeviqProbe<#family>>::register(&self.0, descriptor)
            }
        }
    });
    // The runtime implements label schemas for 1 to `MAX_LABELS` labels; past that
    // (an error `valid` reports) only the fallback is emitted.
    let probe = (1..=MAX_LABELS).contains(&generics.len()).then(|| {
        quote! {
            impl<#(#generics: #rt::LabelValue),*> __KeviqProbe<#generic_family> {
                #[inline(always)]
                fn get<'a, 'v>(
                    family: &'a #generic_family,
                    values: (#(<#generics as #rt::LabelValue>::Arg<'v>,)*),
                ) -> #handle_a {
                    family.get(values)
                }
                #register
            }
        }
    });
    let help = format!(
        "The series of `{name}` for one set of label values, created at zero on first use.\n\n\
         Keep the returned handle to skip the lookup on later calls."
    );
    let item = quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #wrapper(#family);

        // A field's wrapper is part of its group: never suggest it on its own.
        #[diagnostic::do_not_recommend]
        impl #rt::MetricGroup for #wrapper {}

        impl ::core::fmt::Debug for #wrapper {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct("Family").field("name", &#name).finish_non_exhaustive()
            }
        }

        const _: () = {
            // The one check of the label types (see `keviq-macros/src/metric/labeled.rs`).
            #(#checks)*

            #[allow(dead_code)]
            struct __KeviqProbe<F>(::core::marker::PhantomData<F>);
            #probe
            // Picked only when a label type is not a `LabelValue`.
            #[allow(dead_code)]
            trait __KeviqNotALabelValue<F> {
                fn get<'a, V>(_: &'a F, _: V) -> #handle_a {
                    ::core::unreachable!()
                }
                #register_fallback
            }
            impl<F> __KeviqNotALabelValue<F> for __KeviqProbe<F> {}

            impl #wrapper {
                #[doc = #help]
                #[inline]
                #vis fn labels(&self, #(#params),*) -> #handle_elided {
                    <__KeviqProbe<#family>>::get(&self.0, (#(#args,)*))
                }
                #registration_method
            }
        };
    };
    Labeled {
        ty: quote!(#wrapper),
        init: quote!(#wrapper(#rt::Family::new(#name, #config, #max))),
        item,
        family,
        schema,
        series,
    }
}

/// The registration of a labeled static's family, in const context (for
/// `inventory::submit!`), by the same probe: a trait gives the probe generic access
/// to the static, and the fallback registers a placeholder that is never built.
pub(crate) fn static_registration(
    rt: &TokenStream,
    labeled: &Labeled,
    target: &TokenStream,
    descriptor: &TokenStream,
) -> TokenStream {
    let Labeled {
        family,
        schema,
        series,
        ..
    } = labeled;
    let generics: Vec<Ident> = (0..schema.len())
        .map(|i| format_ident!("__KeviqL{}", i))
        .collect();
    let probe = (1..=MAX_LABELS).contains(&generics.len()).then(|| {
        quote! {
            impl<
                #(#generics: #rt::LabelValue,)*
                __KeviqT: __KeviqStaticFamily<Family = #rt::Family<(#(#generics,)*), #series>>,
            > __KeviqProbe<__KeviqT> {
                const REGISTRATION: #rt::Registration =
                    #rt::Registration::new(#descriptor, __KeviqT::FAMILY);
            }
        }
    });
    quote! {
        const _: () = {
            #[allow(dead_code)]
            struct __KeviqStatic;
            trait __KeviqStaticFamily {
                type Family: 'static;
                const FAMILY: &'static Self::Family;
            }
            impl __KeviqStaticFamily for __KeviqStatic {
                type Family = #family;
                const FAMILY: &'static #family = &#target.0;
            }
            #[allow(dead_code)]
            struct __KeviqProbe<T>(::core::marker::PhantomData<T>);
            #probe
            // Picked only when a label type is not a `LabelValue`.
            #[allow(dead_code)]
            trait __KeviqNotALabelValue {
                const REGISTRATION: #rt::Registration =
                    #rt::Registration::new(#descriptor, &__KEVIQ_NEVER_BUILT);
            }
            impl<T> __KeviqNotALabelValue for __KeviqProbe<T> {}
            #[allow(dead_code)]
            static __KEVIQ_NEVER_BUILT: #rt::Counter = #rt::Counter::new();
            #rt::inventory::submit! { <__KeviqProbe<__KeviqStatic>>::REGISTRATION }
        };
    }
}

/// The series type of a labeled family, and its shared configuration.
fn series_and_config(rt: &TokenStream, repr: &Repr) -> (TokenStream, TokenStream) {
    match repr {
        Repr::Counter | Repr::Observed(_) => (quote!(#rt::LabeledCounter), quote!(())),
        Repr::Gauge => (quote!(#rt::Gauge), quote!(())),
        Repr::FloatGauge => (quote!(#rt::FloatGauge), quote!(())),
        Repr::Histogram { n, bounds } => (quote!(#rt::HistogramCell<#n>), bounds.clone()),
    }
}

/// The type a label has in the family's schema: `&str` and `String` become the
/// runtime's `Str` marker (both are looked up as text); every other type stands for
/// itself.
fn schema_type(rt: &TokenStream, ty: &Type) -> TokenStream {
    if let Type::Reference(r) = ty
        && let Type::Path(p) = &*r.elem
        && p.path.segments.last().is_some_and(|s| s.ident == "str")
    {
        return quote_spanned!(ty.span()=> #rt::Str);
    }
    if is_string(ty) {
        return quote_spanned!(ty.span()=> #rt::Str);
    }
    quote!(#ty)
}

/// Whether a label type is `String` (`std::string::String`, ...): by its last path
/// segment, without generic arguments.
fn is_string(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.qself.is_none()
        && p.path.segments.last().is_some_and(|s| s.ident == "String" && s.arguments.is_none()))
}
