//! `#[derive(LabelValue)]` for fieldless enums: a fixed-cardinality label type.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields, LitStr};

use crate::errors::Errors;

pub(crate) fn derive(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    let ident = &input.ident;
    let Data::Enum(data) = &input.data else {
        return syn::Error::new(
            ident.span(),
            "`LabelValue` can only be derived for an enum whose variants have no fields; use `&str` for free-form values",
        )
        .to_compile_error();
    };
    if data.variants.is_empty() {
        return syn::Error::new(
            ident.span(),
            "`LabelValue` needs at least one variant: an empty enum has no value to record",
        )
        .to_compile_error();
    }
    if !input.generics.params.is_empty() {
        return syn::Error::new_spanned(
            &input.generics,
            "`LabelValue` cannot be derived for a generic enum: a label type has one fixed set of values; remove the parameters",
        )
        .to_compile_error();
    }
    let mut errors = Errors::default();
    let mut names = Vec::new();
    let mut arms = Vec::new();
    for (i, variant) in data.variants.iter().enumerate() {
        if !matches!(variant.fields, Fields::Unit) {
            errors.push(syn::Error::new_spanned(
                &variant.fields,
                format!(
                    "variant `{}` has fields; a label value must be a plain variant: remove its fields, or use `&str` for free-form values",
                    variant.ident
                ),
            ));
        }
        let mut name = snake_case(&variant.ident.to_string());
        for attr in variant.attrs.iter().filter(|a| a.path().is_ident("label")) {
            let parsed = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    name = meta.value()?.parse::<LitStr>()?.value();
                    Ok(())
                } else {
                    let shown = meta
                        .path
                        .get_ident()
                        .map_or_else(|| "this".to_owned(), |i| format!("`{i}`"));
                    Err(meta.error(format!(
                        "unknown option {shown}; expected `rename = \"...\"`"
                    )))
                }
            });
            if let Err(e) = parsed {
                errors.push(e);
            }
        }
        let v = &variant.ident;
        arms.push(quote!(#ident::#v { .. } => #i));
        if let Some(first) = names.iter().position(|n: &String| *n == name) {
            let first: &syn::Variant = &data.variants[first];
            errors.push(syn::Error::new_spanned(
                v,
                format!(
                    "variants `{}` and `{v}` both render as `{name}`, which would merge their series into one; give one of them `#[label(rename = \"...\")]` with a text of its own",
                    first.ident
                ),
            ));
        }
        names.push(name);
    }
    let n = names.len();
    let errors = errors.to_compile_errors();
    quote! {
        impl ::keviq::__private::LabelValue for #ident {
            const CARDINALITY: ::core::option::Option<::core::primitive::usize> =
                ::core::option::Option::Some(#n);
            type Arg<'a> = #ident;
            #[inline(always)]
            fn index(arg: &#ident) -> ::core::primitive::usize {
                match arg { #(#arms,)* }
            }
            fn name(index: ::core::primitive::usize) -> &'static ::core::primitive::str {
                const NAMES: [&::core::primitive::str; #n] = [#(#names),*];
                match NAMES.get(index) {
                    ::core::option::Option::Some(name) => name,
                    ::core::option::Option::None => "",
                }
            }
        }
        #errors
    }
}

/// `ToolCall` → `tool_call`.
fn snake_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for (i, c) in s.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn snake_case() {
        assert_eq!(super::snake_case("ToolCall"), "tool_call");
        assert_eq!(super::snake_case("Get"), "get");
    }
}
