//! `#[derive(LabelValue)]` for fieldless enums: a fixed-cardinality label type.
//!
//! A variant's value is `#[label(rename = "...")]` when it has one, otherwise its
//! name renamed by the enum's `#[label(rename_all = "...")]` rule (`snake_case` by
//! default). The rules are `keviq_model::RenameRule`'s; this file parses the
//! options, words the errors and places them.

use keviq_model::RenameRule;
use proc_macro2::{TokenStream, TokenTree};
use quote::quote;
use syn::ext::IdentExt as _;
use syn::meta::ParseNestedMeta;
use syn::{Attribute, Data, DeriveInput, Fields, LitStr};

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
    let given = enum_options(&input.attrs, &mut errors);
    let rule = given.unwrap_or_default();
    let mut names = Vec::new();
    let mut arms = Vec::new();
    for (i, variant) in data.variants.iter().enumerate() {
        let v = &variant.ident;
        if !matches!(variant.fields, Fields::Unit) {
            errors.push(syn::Error::new_spanned(
                &variant.fields,
                format!(
                    "variant `{v}` has fields; a label value must be a plain variant: remove its fields, or use `&str` for free-form values",
                ),
            ));
        }
        let name = match variant_options(&variant.attrs, &mut errors) {
            Some(rename) => rename,
            None => {
                let name = rule.apply(&v.unraw().to_string());
                if name.is_empty() {
                    let under = match given {
                        Some(rule) => format!("`rename_all = \"{}\"`", rule.name()),
                        None => "the default `snake_case` rule".to_owned(),
                    };
                    errors.push(syn::Error::new_spanned(
                        v,
                        format!(
                            "variant `{v}` renders as an empty label value under {under}, and an empty value reads as no label at all; give it `#[label(rename = \"...\")]`",
                        ),
                    ));
                }
                name
            }
        };
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

/// The enum's `#[label(..)]` options: its `rename_all` rule, if it names a valid
/// one.
fn enum_options(attrs: &[Attribute], errors: &mut Errors) -> Option<RenameRule> {
    let mut rule = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("label")) {
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename_all") {
                let value: LitStr = meta.value()?.parse()?;
                match RenameRule::from_name(&value.value()) {
                    Some(_) if rule.is_some() => errors.push(meta.error(
                        "`rename_all` is given twice; keep the one rule the variants should follow",
                    )),
                    Some(found) => rule = Some(found),
                    None => errors.push(syn::Error::new(
                        value.span(),
                        unknown_rule(&value.value()),
                    )),
                }
            } else if meta.path.is_ident("rename") {
                errors.push(meta.error(
                    "`rename` sets the value of one variant, so it goes on that variant; on the enum, use `rename_all = \"...\"`",
                ));
                skip_value(&meta)?;
            } else {
                errors.push(unknown_option(&meta, "an enum", "`rename_all = \"...\"`"));
                skip_value(&meta)?;
            }
            Ok(())
        });
        if let Err(e) = parsed {
            errors.push(e);
        }
    }
    rule
}

/// A variant's `#[label(..)]` options: its `rename`, if any.
fn variant_options(attrs: &[Attribute], errors: &mut Errors) -> Option<String> {
    let mut rename = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("label")) {
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                let value: LitStr = meta.value()?.parse()?;
                if rename.is_some() {
                    errors.push(meta.error(
                        "`rename` is given twice for this variant; keep the one text it should render as",
                    ));
                } else {
                    rename = Some(value.value());
                }
            } else if meta.path.is_ident("rename_all") {
                errors.push(meta.error(
                    "`rename_all` sets the rule for every variant, so it goes on the enum; on a variant, use `rename = \"...\"`",
                ));
                skip_value(&meta)?;
            } else {
                errors.push(unknown_option(&meta, "a variant", "`rename = \"...\"`"));
                skip_value(&meta)?;
            }
            Ok(())
        });
        if let Err(e) = parsed {
            errors.push(e);
        }
    }
    rename
}

fn unknown_option(meta: &ParseNestedMeta<'_>, on: &str, expected: &str) -> syn::Error {
    let path = meta
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::");
    meta.error(format!(
        "unknown `label` option `{path}` on {on}; expected {expected}"
    ))
}

/// The error for `rename_all = "<value>"` with no such rule: every rule, and the
/// one meant when `value` only differs from it in case or separators.
fn unknown_rule(value: &str) -> String {
    let all = RenameRule::ALL
        .iter()
        .map(|rule| format!("`{}`", rule.name()))
        .collect::<Vec<_>>()
        .join(", ");
    let mut message = format!("unknown `rename_all` value `{value}`; expected one of {all}");
    if let Some(meant) = meant_rule(value) {
        message.push_str(&format!(" (for this rule, write `{}`)", meant.name()));
    }
    message
}

/// The rule `value` means when it is a rule's name in another case or with other
/// separators (`Snake_Case`, `kebab_case`), or heck's name for it
/// (`SHOUTY_SNAKE_CASE`, `UpperCamelCase`).
fn meant_rule(value: &str) -> Option<RenameRule> {
    fn squash(s: &str) -> String {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect::<String>()
            .replace("shouty", "screaming")
            .replace("lowercamel", "camel")
            .replace("uppercamel", "pascal")
    }
    let value = squash(value);
    RenameRule::ALL
        .into_iter()
        .find(|rule| squash(rule.name()) == value)
}

/// Steps past the value of an option that was reported (`= 42`, `(..)`), up to the
/// next `,`, so the options after it are still read.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    meta.input.step(|cursor| {
        let mut rest = *cursor;
        while let Some((tt, next)) = rest.token_tree() {
            if matches!(&tt, TokenTree::Punct(p) if p.as_char() == ',') {
                break;
            }
            rest = next;
        }
        Ok(((), rest))
    })
}

#[cfg(test)]
mod tests {
    use keviq_model::RenameRule;

    #[test]
    fn meant_rule() {
        use super::meant_rule;
        assert_eq!(meant_rule("Snake_Case"), Some(RenameRule::SnakeCase));
        assert_eq!(meant_rule("kebab_case"), Some(RenameRule::KebabCase));
        assert_eq!(
            meant_rule("SHOUTY_SNAKE_CASE"),
            Some(RenameRule::ScreamingSnakeCase)
        );
        assert_eq!(
            meant_rule("shouty-kebab-case"),
            Some(RenameRule::ScreamingKebabCase)
        );
        assert_eq!(meant_rule("lowerCamelCase"), Some(RenameRule::CamelCase));
        assert_eq!(meant_rule("UpperCamelCase"), Some(RenameRule::PascalCase));
        assert_eq!(meant_rule("Lowercase"), Some(RenameRule::LowerCase));
        assert_eq!(meant_rule("title case"), None);
        assert_eq!(meant_rule(""), None);
    }

    #[test]
    fn unknown_rule_lists_every_rule() {
        let message = super::unknown_rule("Snake_Case");
        for rule in RenameRule::ALL {
            assert!(message.contains(&format!("`{}`", rule.name())), "{message}");
        }
        assert!(
            message.ends_with("`PascalCase` (for this rule, write `snake_case`)"),
            "{message}"
        );
        assert!(super::unknown_rule("title").ends_with("`PascalCase`"));
    }
}
