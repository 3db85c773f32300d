//! The arguments of `#[keviq::service(...)]` and the function it goes on.

use syn::parse::{Parse, ParseStream};
use syn::{ItemFn, LitStr, Token};

mod kw {
    syn::custom_keyword!(name);
    syn::custom_keyword!(metrics_path);
    syn::custom_keyword!(metrics);
    syn::custom_keyword!(prefix);
}

/// `name = "...", metrics_path = "...", metrics = [A, B], prefix = "..."`, each at
/// most once (checked in `valid`).
#[derive(Default)]
pub(crate) struct Args {
    pub(crate) name: Vec<LitStr>,
    pub(crate) metrics_path: Vec<LitStr>,
    pub(crate) metrics: Vec<Owned>,
    pub(crate) prefix: Vec<LitStr>,
}

/// `metrics = [A, B]`: the metric statics the service owns.
pub(crate) struct Owned {
    pub(crate) keyword: kw::metrics,
    pub(crate) statics: Vec<syn::Path>,
}

impl Parse for Owned {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let keyword = input.parse::<kw::metrics>()?;
        input.parse::<Token![=]>()?;
        let content;
        syn::bracketed!(content in input);
        let statics = content
            .parse_terminated(syn::Path::parse_mod_style, Token![,])
            .map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected the paths of metric statics, as in `metrics = [AGENT, crate::db::QUERIES]`",
                )
            })?;
        Ok(Self {
            keyword,
            statics: statics.into_iter().collect(),
        })
    }
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = Args::default();
        while !input.is_empty() {
            let lookahead = input.lookahead1();
            if lookahead.peek(kw::name) {
                input.parse::<kw::name>()?;
                input.parse::<Token![=]>()?;
                args.name.push(input.parse()?);
            } else if lookahead.peek(kw::metrics_path) {
                input.parse::<kw::metrics_path>()?;
                input.parse::<Token![=]>()?;
                args.metrics_path.push(input.parse()?);
            } else if lookahead.peek(kw::metrics) {
                args.metrics.push(input.parse()?);
            } else if lookahead.peek(kw::prefix) {
                input.parse::<kw::prefix>()?;
                input.parse::<Token![=]>()?;
                args.prefix.push(input.parse()?);
            } else if input.peek(syn::Ident) {
                let unknown: syn::Ident = input.parse()?;
                return Err(syn::Error::new(
                    unknown.span(),
                    format!(
                        "unknown argument `{unknown}`; expected one of `name`, `metrics_path`, `metrics`, `prefix`"
                    ),
                ));
            } else {
                return Err(lookahead.error());
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(args)
    }
}

/// The item must be a function; anything else is reported with its own span.
pub(crate) fn item(tokens: proc_macro2::TokenStream) -> syn::Result<ItemFn> {
    match syn::parse2::<syn::Item>(tokens)? {
        syn::Item::Fn(f) => Ok(f),
        other => Err(syn::Error::new_spanned(
            item_head(&other),
            "`#[keviq::service]` goes on a function that returns the service's `axum::Router`, \
             as in `#[keviq::service(name = \"my-service\")] fn app() -> axum::Router { .. }`",
        )),
    }
}

/// The keyword and name of an item, to underline just that.
fn item_head(item: &syn::Item) -> proc_macro2::TokenStream {
    use quote::quote;
    match item {
        syn::Item::Struct(s) => {
            let (k, i) = (&s.struct_token, &s.ident);
            quote!(#k #i)
        }
        syn::Item::Enum(e) => {
            let (k, i) = (&e.enum_token, &e.ident);
            quote!(#k #i)
        }
        syn::Item::Static(s) => {
            let (k, i) = (&s.static_token, &s.ident);
            quote!(#k #i)
        }
        syn::Item::Const(c) => {
            let (k, i) = (&c.const_token, &c.ident);
            quote!(#k #i)
        }
        syn::Item::Mod(m) => {
            let (k, i) = (&m.mod_token, &m.ident);
            quote!(#k #i)
        }
        other => quote!(#other),
    }
}
