//! `#[metric(...)]`: the options of a metric, a static or a struct.
//!
//! Each option is parsed on its own (the attribute is cut at its top-level commas
//! first), so a syntax error in one is reported and the others still apply. Where
//! an option may go is checked in `valid.rs`, which knows what it is attached to.

use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Attribute, Ident, LitInt, LitStr, Path, Token};

use super::fallback::split_at_commas;
use crate::errors::Errors;

/// An option as written: its keyword (for errors about where it goes) and value.
pub(crate) struct Given<T> {
    pub(crate) key: Ident,
    pub(crate) value: T,
}

/// `buckets = [..]`: the bounds with their literals' spans, and the brackets' span.
pub(crate) struct Buckets {
    pub(crate) span: Span,
    pub(crate) bounds: Vec<(f64, Span)>,
}

/// The options of one `#[metric(...)]` attribute (or of none: all `None`).
#[derive(Default)]
pub(crate) struct Options {
    pub(crate) buckets: Option<Given<Buckets>>,
    pub(crate) unit: Option<Given<LitStr>>,
    pub(crate) max_series: Option<Given<LitInt>>,
    /// `read = path`: a function `fn() -> Option<f64>` read at each render.
    pub(crate) read: Option<Given<Path>>,
    /// `crate = path`: where the runtime is, for code inside keviq itself.
    pub(crate) krate: Option<Given<Path>>,
}

impl Options {
    /// The keywords of the options given, other than `crate`, in a fixed order.
    pub(crate) fn metric_keys(&self) -> Vec<&Ident> {
        [
            self.buckets.as_ref().map(|g| &g.key),
            self.unit.as_ref().map(|g| &g.key),
            self.max_series.as_ref().map(|g| &g.key),
            self.read.as_ref().map(|g| &g.key),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

const EXPECTED: &str = "expected one of `buckets`, `unit`, `max_series`, `read`, `crate`";

/// Reads every `#[metric(...)]` among `attrs`. Returns the options and whether any
/// of them could not be read (the metric is then emitted but not registered).
pub(crate) fn parse(attrs: &[Attribute], errors: &mut Errors) -> (Options, bool) {
    let mut options = Options::default();
    let before = errors.len();
    let mut seen = false;
    for attr in attrs.iter().filter(|a| a.path().is_ident("metric")) {
        if seen {
            errors.push(syn::Error::new_spanned(
                attr,
                "merge the options into one `#[metric(...)]` attribute",
            ));
        }
        seen = true;
        let syn::Meta::List(list) = &attr.meta else {
            errors.push(syn::Error::new_spanned(
                attr,
                "expected options in parentheses, as in `#[metric(unit = \"ms\")]`",
            ));
            continue;
        };
        for piece in split_at_commas(list.tokens.clone()) {
            let parser = |input: ParseStream<'_>| parse_option(input, &piece, &mut options, errors);
            if let Err(e) = parser.parse2(piece.clone()) {
                errors.push(e);
            }
        }
    }
    (options, errors.len() > before)
}

fn parse_option(
    input: ParseStream<'_>,
    piece: &TokenStream,
    options: &mut Options,
    errors: &mut Errors,
) -> syn::Result<()> {
    // `crate` is a keyword: read any identifier.
    let key = input.call(Ident::parse_any)?;
    match key.to_string().as_str() {
        "buckets" => {
            value_of(input, &key, "buckets = [5, 10, 25]")?;
            let value = parse_buckets(input)?;
            set_once(&mut options.buckets, key, value, piece, errors);
        }
        "unit" => {
            value_of(input, &key, "unit = \"ms\"")?;
            let value: LitStr = input.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected the unit as a string literal, as in `unit = \"ms\"`",
                )
            })?;
            set_once(&mut options.unit, key, value, piece, errors);
        }
        "max_series" => {
            value_of(input, &key, "max_series = 1000")?;
            let value: LitInt = input.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected a whole number, as in `max_series = 1000`",
                )
            })?;
            set_once(&mut options.max_series, key, value, piece, errors);
        }
        "read" => {
            value_of(input, &key, "read = process::cpu_seconds")?;
            let value = parse_read(input)?;
            set_once(&mut options.read, key, value, piece, errors);
        }
        "crate" => {
            value_of(input, &key, "crate = ::keviq")?;
            let value = parse_crate(input)?;
            set_once(&mut options.krate, key, value, piece, errors);
        }
        other => {
            errors.push(syn::Error::new(
                key.span(),
                format!("unknown option `{other}`; {EXPECTED}"),
            ));
            // The value belongs to the unknown option: nothing more to report.
            input.parse::<TokenStream>()?;
        }
    }
    if !input.is_empty() {
        let rest: TokenStream = input.parse()?;
        return Err(syn::Error::new_spanned(
            rest,
            "unexpected tokens after this option; separate options with `,`",
        ));
    }
    Ok(())
}

/// The `=` after an option's keyword.
fn value_of(input: ParseStream<'_>, key: &Ident, example: &str) -> syn::Result<()> {
    if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        Ok(())
    } else {
        Err(syn::Error::new(
            if input.is_empty() {
                key.span()
            } else {
                input.span()
            },
            format!("expected `=` and a value after `{key}`, as in `{example}`"),
        ))
    }
}

/// The "duplicate option" check, written once: the first value stays.
fn set_once<T>(
    slot: &mut Option<Given<T>>,
    key: Ident,
    value: T,
    piece: &TokenStream,
    errors: &mut Errors,
) {
    if slot.is_some() {
        errors.push(syn::Error::new_spanned(
            piece,
            format!("duplicate option `{key}`; give it once"),
        ));
    } else {
        *slot = Some(Given { key, value });
    }
}

fn parse_buckets(input: ParseStream<'_>) -> syn::Result<Buckets> {
    let not_a_number = |span| {
        syn::Error::new(
            span,
            "bucket bounds must be number literals separated by `,`, as in `[5, 10, 25.5]`",
        )
    };
    if !input.peek(syn::token::Bracket) {
        return Err(syn::Error::new(
            input.span(),
            "expected the bounds in brackets, as in `buckets = [5, 10, 25]`",
        ));
    }
    let content;
    let bracket = syn::bracketed!(content in input);
    let mut bounds = Vec::new();
    while !content.is_empty() {
        let neg = content.parse::<Option<Token![-]>>()?.is_some();
        let lit: syn::Lit = content.parse().map_err(|e| not_a_number(e.span()))?;
        let (v, span) = match &lit {
            syn::Lit::Float(f) => (f.base10_parse::<f64>()?, f.span()),
            syn::Lit::Int(i) => (i.base10_parse::<f64>()?, i.span()),
            other => return Err(not_a_number(other.span())),
        };
        bounds.push((if neg { -v } else { v }, span));
        if content.is_empty() {
            break;
        }
        content
            .parse::<Token![,]>()
            .map_err(|e| not_a_number(e.span()))?;
    }
    Ok(Buckets {
        span: bracket.span.join(),
        bounds,
    })
}

/// `read = path::to::function`.
fn parse_read(input: ParseStream<'_>) -> syn::Result<Path> {
    let expr: syn::Expr = input.parse()?;
    match expr {
        syn::Expr::Path(p) if p.qself.is_none() && p.attrs.is_empty() => Ok(p.path),
        other => Err(syn::Error::new_spanned(
            other,
            "expected the path of a function `fn() -> Option<f64>`, as in `read = process::cpu_seconds`",
        )),
    }
}

/// `crate = path`, or `crate = "path"` as serde spells it.
fn parse_crate(input: ParseStream<'_>) -> syn::Result<Path> {
    let not_a_path = |span| {
        syn::Error::new(
            span,
            "expected the path of the crate that re-exports keviq's runtime, as in `crate = ::keviq`",
        )
    };
    if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        return lit
            .parse_with(Path::parse_mod_style)
            .map_err(|_| not_a_path(lit.span()));
    }
    input
        .call(Path::parse_mod_style)
        .map_err(|e| not_a_path(e.span()))
}
