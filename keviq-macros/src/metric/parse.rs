//! The syntax of `metric!`, parsed into plain data. No rule is checked here beyond
//! what the grammar needs; `valid.rs` checks the rest so that all errors of one
//! block are reported together.
//!
//! Parsing never gives up on the whole block: the input is cut into items, fields,
//! labels and options first (see `fallback.rs`), each is parsed on its own, and a
//! piece that cannot be read is reported and left out, or kept with a best-effort
//! type when its name is known, while every other piece is still expanded.

use keviq_model::MetricType;
use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Attribute, Ident, LitStr, Token, Type, Visibility};

use super::fallback::{guess_kind, known_kind, split_at_commas, split_items};
use super::options::{self, Options};
use crate::errors::Errors;

/// Everything inside `metric! { ... }`.
pub(crate) struct Input {
    pub(crate) items: Vec<Item>,
}

/// One `static` or `struct` of the block.
pub(crate) struct Item {
    /// Attributes other than `#[metric(...)]`: docs, `#[cfg]`, `#[allow]`...
    pub(crate) attrs: Vec<Attribute>,
    /// `#[metric(crate = path)]`: the runtime is `<path>::__private`.
    pub(crate) krate: Option<syn::Path>,
    /// Options given on a group static or a struct: only `crate` belongs there,
    /// which `valid` checks.
    pub(crate) options: Options,
    pub(crate) vis: Visibility,
    pub(crate) shape: Shape,
}

pub(crate) enum Shape {
    /// `static NAME: Struct { field, ... }`, or with no static,
    /// `struct Struct { field, ... }`.
    Group {
        static_ident: Option<Ident>,
        struct_ident: Ident,
        fields: Vec<Field>,
    },
    /// `static NAME: Kind(labels) = "name";`
    Single { ident: Ident, field: Box<Field> },
}

/// One metric: a field of a group, or a single static.
pub(crate) struct Field {
    pub(crate) docs: Vec<String>,
    /// The attributes the generated field keeps: docs and any other but
    /// `#[metric(...)]`.
    pub(crate) doc_attrs: Vec<Attribute>,
    pub(crate) options: Options,
    /// The field's own visibility; `None` inherits the item's.
    pub(crate) vis: Option<Visibility>,
    pub(crate) ident: Ident,
    /// What `# TYPE` says: counter, gauge or histogram.
    pub(crate) metric_type: MetricType,
    /// A `FloatGauge`: the gauge holds an `f64` rather than an `i64`.
    pub(crate) float: bool,
    pub(crate) labels: Vec<Label>,
    /// `None` when the name is missing or not a string literal.
    pub(crate) name: Option<LitStr>,
    /// Part of the declaration could not be parsed (the error is already
    /// reported): the metric is emitted so that its uses type-check, but never
    /// registered.
    pub(crate) broken: bool,
}

/// `name: Type`; `ty` is `None` when the label could not be parsed, in which
/// case `labels(..)` still takes an argument in its place.
pub(crate) struct Label {
    pub(crate) ident: Option<Ident>,
    pub(crate) ty: Option<Type>,
    /// The label as written, to underline all of it.
    pub(crate) tokens: TokenStream,
}

/// Parses the whole block, recording every syntax error in `errors`.
pub(crate) fn parse(tokens: TokenStream, errors: &mut Errors) -> Input {
    let items = split_items(tokens)
        .into_iter()
        .filter_map(|piece| {
            let parser = |input: ParseStream<'_>| Ok(parse_item(input, errors));
            parser.parse2(piece).ok().flatten()
        })
        .collect();
    Input { items }
}

/// Runs `f` on what is left of `input` and records its error, if any; the rest of
/// `input` is then skipped. Returns `None` on error.
fn recover<T>(
    input: ParseStream<'_>,
    errors: &mut Errors,
    f: impl FnOnce(ParseStream<'_>) -> syn::Result<T>,
) -> Option<T> {
    match f(input) {
        Ok(value) => Some(value),
        Err(e) => {
            errors.push(e);
            skip_rest(input);
            None
        }
    }
}

fn skip_rest(input: ParseStream<'_>) {
    let _ = input.parse::<TokenStream>();
}

/// The error for tokens left after a complete piece, spanned on them.
fn leftover(input: ParseStream<'_>, what: &str) -> Option<syn::Error> {
    if input.is_empty() {
        return None;
    }
    let rest: TokenStream = input.parse().unwrap_or_default();
    Some(syn::Error::new_spanned(rest, what))
}

fn parse_item(input: ParseStream<'_>, errors: &mut Errors) -> Option<Item> {
    let attrs = recover(input, errors, Attribute::parse_outer)?;
    let vis: Visibility = recover(input, errors, |input| input.parse())?;
    let (mut options, options_broken) = options::parse(&attrs, errors);
    let krate = options.krate.take().map(|given| given.value);
    let other_attrs: Vec<Attribute> = attrs
        .iter()
        .filter(|a| !a.path().is_ident("metric"))
        .cloned()
        .collect();
    if input.peek(Token![struct]) {
        input.parse::<Token![struct]>().ok()?;
        let struct_ident = recover(input, errors, |input| {
            input.parse::<Ident>().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected the struct's name, as in `struct HttpMetrics { .. }`",
                )
            })
        })?;
        let fields = parse_group_body(input, errors, &struct_ident);
        return Some(Item {
            attrs: other_attrs,
            krate,
            options,
            vis,
            shape: Shape::Group {
                static_ident: None,
                struct_ident,
                fields,
            },
        });
    }
    if !input.peek(Token![static]) {
        let found: TokenStream = input.parse().unwrap_or_default();
        let message = "expected `static` or `struct`, as in `pub static HTTP: HttpMetrics { .. }` \
                       or `pub static JOBS: Counter = \"jobs_total\";`";
        errors.push(if found.is_empty() {
            syn::Error::new(Span::call_site(), message)
        } else {
            syn::Error::new_spanned(found, message)
        });
        return None;
    }
    input.parse::<Token![static]>().ok()?;
    let ident = recover(input, errors, |input| {
        input.parse::<Ident>().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected the static's name, as in `static JOBS: Counter = \"jobs_total\";`",
            )
        })
    })?;
    let colon_missing = !input.peek(Token![:]);
    if colon_missing {
        errors.push(syn::Error::new(
            if input.is_empty() { ident.span() } else { input.span() },
            format!("expected `:` and the metric kind after `{ident}`, as in `static {ident}: Counter = \"..._total\";`"),
        ));
    } else {
        input.parse::<Token![:]>().ok()?;
    }
    if input.peek(syn::token::Brace) || (input.peek(Ident) && input.peek2(syn::token::Brace)) {
        let struct_ident = if input.peek(Ident) {
            input.parse::<Ident>().ok()?
        } else {
            errors.push(syn::Error::new(
                input.span(),
                format!("expected the name of the struct to generate before `{{`, as in `static {ident}: Metrics {{ .. }}`"),
            ));
            // A stand-in, so the static and its fields still exist.
            quote::format_ident!("__Keviq{}", ident)
        };
        let fields = parse_group_body(input, errors, &struct_ident);
        return Some(Item {
            attrs: other_attrs,
            krate,
            options,
            vis,
            shape: Shape::Group {
                static_ident: Some(ident),
                struct_ident,
                fields,
            },
        });
    }
    // A single metric: the static's own attributes carry its docs and options.
    let (docs, doc_attrs) = split_docs(&attrs);
    let before = errors.len();
    let mut field = parse_metric(
        input,
        errors,
        ident.clone(),
        (docs, doc_attrs),
        true,
        colon_missing,
    );
    field.options = std::mem::take(&mut options);
    field.broken |= options_broken || errors.len() > before;
    Some(Item {
        attrs: other_attrs,
        krate,
        options: Options::default(),
        vis,
        shape: Shape::Single {
            ident,
            field: Box::new(field),
        },
    })
}

/// `{ field, ... }` with an optional `;` after it.
fn parse_group_body(
    input: ParseStream<'_>,
    errors: &mut Errors,
    struct_ident: &Ident,
) -> Vec<Field> {
    let body = recover(input, errors, |input| {
        let content;
        syn::braced!(content in input);
        content.parse::<TokenStream>()
    });
    let Some(body) = body else {
        return Vec::new();
    };
    let _ = input.parse::<Option<Token![;]>>();
    if let Some(e) = leftover(
        input,
        &format!("unexpected tokens after the fields of `{struct_ident}`"),
    ) {
        errors.push(e);
    }
    split_at_commas(body)
        .into_iter()
        .filter_map(|piece| {
            let parser = |input: ParseStream<'_>| Ok(parse_field(input, errors));
            parser.parse2(piece).ok().flatten()
        })
        .collect()
}

/// `/// docs #[metric(..)] vis ident: Kind(labels) = "name"`
fn parse_field(input: ParseStream<'_>, errors: &mut Errors) -> Option<Field> {
    let before = errors.len();
    let attrs = recover(input, errors, Attribute::parse_outer)?;
    let vis = match recover(input, errors, |input| input.parse::<Visibility>())? {
        Visibility::Inherited => None,
        vis => Some(vis),
    };
    let ident = recover(input, errors, |input| {
        input.parse::<Ident>().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected a metric field, as in `requests: Counter = \"requests_total\"` under a doc comment",
            )
        })
    })?;
    let colon_missing = !input.peek(Token![:]);
    if colon_missing {
        errors.push(syn::Error::new(
            if input.is_empty() { ident.span() } else { input.span() },
            format!("expected `:` and the metric kind after `{ident}`, as in `{ident}: Counter = \"..._total\"`"),
        ));
    } else {
        input.parse::<Token![:]>().ok()?;
    }
    let (options, options_broken) = options::parse(&attrs, errors);
    let (docs, doc_attrs) = split_docs(&attrs);
    let mut field = parse_metric(
        input,
        errors,
        ident,
        (docs, doc_attrs),
        false,
        colon_missing,
    );
    field.vis = vis;
    field.options = options;
    field.broken |= options_broken || errors.len() > before;
    Some(field)
}

/// Doc text, and the attributes a generated item keeps (all but `#[metric]`).
fn split_docs(attrs: &[Attribute]) -> (Vec<String>, Vec<Attribute>) {
    let mut docs = Vec::new();
    let mut kept = Vec::new();
    for attr in attrs {
        if attr.path().is_ident("doc") {
            if let syn::Meta::NameValue(nv) = &attr.meta
                && let syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) = &nv.value
            {
                docs.push(s.value());
            }
            kept.push(attr.clone());
        } else if !attr.path().is_ident("metric") {
            kept.push(attr.clone());
        }
    }
    (docs, kept)
}

const KIND_EXPECTED: &str =
    "expected the metric kind: one of `Counter`, `Gauge`, `FloatGauge`, `Histogram`";

/// `Kind(labels) = "name"`, and `;` for a single static. Never fails: what cannot
/// be read is reported and replaced by a best guess.
fn parse_metric(
    input: ParseStream<'_>,
    errors: &mut Errors,
    ident: Ident,
    (docs, doc_attrs): (Vec<String>, Vec<Attribute>),
    single: bool,
    colon_missing: bool,
) -> Field {
    let before = errors.len();
    let kind_word: Option<Ident> = if input.peek(Ident) {
        input.parse().ok()
    } else {
        None
    };
    let kind = kind_word.as_ref().and_then(|w| known_kind(&w.to_string()));
    match (&kind_word, kind) {
        (_, Some(_)) => {}
        (Some(word), None) => errors.push(syn::Error::new(
            word.span(),
            format!("unknown metric kind `{word}`; expected one of `Counter`, `Gauge`, `FloatGauge`, `Histogram`"),
        )),
        (None, None) => {
            // A missing `:` is already reported, and is most likely all that is wrong.
            if !colon_missing {
                let at = if input.is_empty() {
                    ident.span()
                } else {
                    input.span()
                };
                errors.push(syn::Error::new(at, KIND_EXPECTED));
            }
            // Whatever follows cannot be read without a kind: one error is enough.
            skip_rest(input);
        }
    }
    let mut labels = Vec::new();
    if input.peek(syn::token::Paren)
        && let Some(content) = recover(input, errors, |input| {
            let content;
            syn::parenthesized!(content in input);
            content.parse::<TokenStream>()
        })
    {
        labels = split_at_commas(content)
            .into_iter()
            .map(|piece| parse_label(piece, errors))
            .collect();
    }
    let name = kind_word.as_ref().and_then(|_| {
        recover(input, errors, |input| {
            if !input.peek(Token![=]) {
                return Err(syn::Error::new(
                    if input.is_empty() {
                        ident.span()
                    } else {
                        input.span()
                    },
                    "expected `=` and the metric name, as in `= \"my_requests_total\"`",
                ));
            }
            input.parse::<Token![=]>()?;
            input.parse::<LitStr>().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected the metric name as a string literal, as in `= \"my_requests_total\"`",
                )
            })
        })
    });
    if single && name.is_some() {
        if input.peek(Token![;]) {
            let _ = input.parse::<Token![;]>();
        } else if input.is_empty() {
            let at = name.as_ref().map_or(ident.span(), LitStr::span);
            errors.push(syn::Error::new(at, "expected `;` after the metric name"));
        }
    }
    if let Some(e) = leftover(
        input,
        if single {
            "unexpected tokens after the metric name; end the static with `;`"
        } else {
            "unexpected tokens after the metric name; separate fields with `,`"
        },
    ) {
        errors.push(e);
    }
    let (metric_type, float) = kind.unwrap_or_else(|| {
        guess_kind(
            kind_word.as_ref().map(ToString::to_string).as_deref(),
            name.as_ref().map(LitStr::value).as_deref(),
        )
    });
    Field {
        docs,
        doc_attrs,
        options: Options::default(),
        vis: None,
        ident,
        metric_type,
        float,
        labels,
        name,
        broken: errors.len() > before,
    }
}

/// `name: Type`. A label that cannot be read is kept as a placeholder, so that
/// `labels(..)` keeps its number of arguments.
fn parse_label(piece: TokenStream, errors: &mut Errors) -> Label {
    let tokens = piece.clone();
    let parser = |input: ParseStream<'_>| {
        let ident = input.call(Ident::parse_any).map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected a label, as in `method: keviq::HttpMethod`",
            )
        })?;
        input.parse::<Token![:]>().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected `:` and the label's type, as in `method: keviq::HttpMethod`",
            )
        })?;
        let ty: Type = input.parse()?;
        if let Some(e) = leftover(
            input,
            "unexpected tokens after the label's type; separate labels with `,`",
        ) {
            return Err(e);
        }
        Ok((ident, ty))
    };
    match parser.parse2(piece) {
        Ok((ident, ty)) => Label {
            ident: Some(ident),
            ty: Some(ty),
            tokens,
        },
        Err(e) => {
            errors.push(e);
            Label {
                ident: None,
                ty: None,
                tokens,
            }
        }
    }
}
