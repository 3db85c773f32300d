//! The syntax of `metric!`, parsed into plain data. No rule is checked here beyond
//! what the grammar needs; `valid.rs` checks the rest so that all errors of one
//! block are reported together.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Attribute, Ident, LitStr, Token, Type, Visibility, bracketed, parenthesized};

mod kw {
    syn::custom_keyword!(Counter);
    syn::custom_keyword!(Gauge);
    syn::custom_keyword!(FloatGauge);
    syn::custom_keyword!(Histogram);
    syn::custom_keyword!(buckets);
    syn::custom_keyword!(unit);
    syn::custom_keyword!(max_series);
}

/// Everything inside `metric! { ... }`: one or more statics.
pub(crate) struct Input {
    pub(crate) items: Vec<Item>,
}

/// `$vis static NAME: ...`
pub(crate) struct Item {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) ident: Ident,
    pub(crate) body: Body,
}

pub(crate) enum Body {
    /// `static NAME: Struct { field, ... }`
    Group {
        struct_ident: Ident,
        fields: Vec<Field>,
    },
    /// `static NAME: Kind(labels) = "name";`
    Single(Box<Field>),
}

/// One metric: a field of a group, or a single static.
pub(crate) struct Field {
    pub(crate) docs: Vec<String>,
    pub(crate) doc_attrs: Vec<Attribute>,
    pub(crate) options: Options,
    /// The field's own visibility; `None` inherits the static's.
    pub(crate) vis: Option<Visibility>,
    pub(crate) ident: Ident,
    pub(crate) kind: Kind,
    pub(crate) labels: Vec<Label>,
    pub(crate) name: LitStr,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    FloatGauge,
    Histogram,
}

pub(crate) struct Label {
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
}

/// `#[metric(buckets = [...], unit = "...", max_series = N)]`
#[derive(Default)]
pub(crate) struct Options {
    pub(crate) buckets: Option<(Span, Vec<(f64, Span)>)>,
    pub(crate) unit: Option<LitStr>,
    pub(crate) max_series: Option<syn::LitInt>,
    /// Errors found while reading options: reported with the others.
    pub(crate) errors: Vec<syn::Error>,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut items = Vec::new();
        while !input.is_empty() {
            items.push(input.parse()?);
        }
        Ok(Self { items })
    }
}

impl Parse for Item {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        input.parse::<Token![static]>()?;
        let ident: Ident = input.parse()?;
        input.parse::<Token![:]>()?;
        let body = if input.peek(Ident) && input.peek2(syn::token::Brace) {
            let struct_ident: Ident = input.parse()?;
            let content;
            syn::braced!(content in input);
            let fields = Punctuated::<Field, Token![,]>::parse_terminated(&content)?;
            Body::Group {
                struct_ident,
                fields: fields.into_iter().collect(),
            }
        } else {
            let (kind, labels) = parse_kind_and_labels(input)?;
            input.parse::<Token![=]>()?;
            let name = parse_name(input)?;
            input.parse::<Token![;]>()?;
            // The static's own attributes carry its doc comment and options.
            let (docs, doc_attrs, options) = split_attrs(&attrs)?;
            Body::Single(Box::new(Field {
                docs,
                doc_attrs,
                options,
                vis: None,
                ident: ident.clone(),
                kind,
                labels,
                name,
            }))
        };
        Ok(Self {
            attrs,
            vis,
            ident,
            body,
        })
    }
}

impl Parse for Field {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let (docs, doc_attrs, options) = split_attrs(&attrs)?;
        let vis = match input.parse::<Visibility>()? {
            Visibility::Inherited => None,
            vis => Some(vis),
        };
        let ident: Ident = input.parse()?;
        input.parse::<Token![:]>()?;
        let (kind, labels) = parse_kind_and_labels(input)?;
        input.parse::<Token![=]>()?;
        let name = parse_name(input)?;
        Ok(Self {
            docs,
            doc_attrs,
            options,
            vis,
            ident,
            kind,
            labels,
            name,
        })
    }
}

fn parse_name(input: ParseStream<'_>) -> syn::Result<LitStr> {
    input.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            "expected the metric name as a string literal, as in `= \"my_requests_total\"`",
        )
    })
}

fn parse_kind_and_labels(input: ParseStream<'_>) -> syn::Result<(Kind, Vec<Label>)> {
    let lookahead = input.lookahead1();
    let kind = if lookahead.peek(kw::Counter) {
        input.parse::<kw::Counter>()?;
        Kind::Counter
    } else if lookahead.peek(kw::Gauge) {
        input.parse::<kw::Gauge>()?;
        Kind::Gauge
    } else if lookahead.peek(kw::FloatGauge) {
        input.parse::<kw::FloatGauge>()?;
        Kind::FloatGauge
    } else if lookahead.peek(kw::Histogram) {
        input.parse::<kw::Histogram>()?;
        Kind::Histogram
    } else {
        return Err(lookahead.error());
    };
    let mut labels = Vec::new();
    if input.peek(syn::token::Paren) {
        let content;
        parenthesized!(content in input);
        let parsed = Punctuated::<Label, Token![,]>::parse_terminated(&content)?;
        labels = parsed.into_iter().collect();
    }
    Ok((kind, labels))
}

impl Parse for Label {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let ident = input.call(syn::ext::IdentExt::parse_any)?;
        input.parse::<Token![:]>().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected `:` and the label's type, as in `method: keviq::HttpMethod`",
            )
        })?;
        Ok(Self {
            ident,
            ty: input.parse()?,
        })
    }
}

/// Splits attributes into doc text, the doc attributes themselves, and options.
fn split_attrs(attrs: &[Attribute]) -> syn::Result<(Vec<String>, Vec<Attribute>, Options)> {
    let mut docs = Vec::new();
    let mut doc_attrs = Vec::new();
    let mut options = Options::default();
    let mut seen_metric = false;
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
            doc_attrs.push(attr.clone());
        } else if attr.path().is_ident("metric") {
            if seen_metric {
                options.errors.push(syn::Error::new_spanned(
                    attr,
                    "merge the options into one `#[metric(...)]` attribute",
                ));
            }
            seen_metric = true;
            attr.parse_nested_meta(|meta| parse_option(&meta, &mut options))?;
        } else {
            // Attributes on the static itself (`#[allow]`, `#[cfg]`...) stay with the
            // item; on fields only docs and options make sense.
            doc_attrs.push(attr.clone());
        }
    }
    Ok((docs, doc_attrs, options))
}

const OPTIONS: &str = "expected one of `buckets`, `unit`, `max_series`";

fn duplicate(meta: &syn::meta::ParseNestedMeta<'_>, name: &str) -> syn::Error {
    meta.error(format!("duplicate option `{name}`; give it once"))
}

fn parse_option(meta: &syn::meta::ParseNestedMeta<'_>, options: &mut Options) -> syn::Result<()> {
    let name = meta
        .path
        .get_ident()
        .map(Ident::to_string)
        .unwrap_or_default();
    match name.as_str() {
        "buckets" => {
            let value = meta.value()?;
            let content;
            let bracket = bracketed!(content in value);
            let mut bounds = Vec::new();
            while !content.is_empty() {
                let neg = content.parse::<Option<Token![-]>>()?.is_some();
                let lit: syn::Lit = content.parse()?;
                let (v, span) = match &lit {
                    syn::Lit::Float(f) => (f.base10_parse::<f64>()?, f.span()),
                    syn::Lit::Int(i) => (i.base10_parse::<f64>()?, i.span()),
                    other => {
                        return Err(syn::Error::new(
                            other.span(),
                            "bucket bounds must be number literals, as in `[5, 10, 25.5]`",
                        ));
                    }
                };
                bounds.push((if neg { -v } else { v }, span));
                if content.is_empty() {
                    break;
                }
                content.parse::<Token![,]>()?;
            }
            if options.buckets.is_some() {
                options.errors.push(duplicate(meta, "buckets"));
            }
            options.buckets = Some((bracket.span.join(), bounds));
        }
        "unit" => {
            let lit: LitStr = meta.value()?.parse()?;
            if options.unit.is_some() {
                options.errors.push(duplicate(meta, "unit"));
            }
            options.unit = Some(lit);
        }
        "max_series" => {
            let lit: syn::LitInt = meta.value()?.parse()?;
            if options.max_series.is_some() {
                options.errors.push(duplicate(meta, "max_series"));
            }
            options.max_series = Some(lit);
        }
        _ => {
            let shown = if name.is_empty() {
                "this".to_owned()
            } else {
                format!("`{name}`")
            };
            options
                .errors
                .push(meta.error(format!("unknown option {shown}; {OPTIONS}")));
            // Skip its value so the remaining options are still read.
            if meta.input.peek(Token![=]) {
                let _ = meta.value()?.parse::<syn::Expr>()?;
            } else if meta.input.peek(syn::token::Paren) {
                let _content;
                parenthesized!(_content in meta.input);
            }
        }
    }
    Ok(())
}

impl Kind {
    pub(crate) fn runtime_kind(self) -> keviq_runtime::MetricKind {
        match self {
            Kind::Counter => keviq_runtime::MetricKind::Counter,
            Kind::Gauge | Kind::FloatGauge => keviq_runtime::MetricKind::Gauge,
            Kind::Histogram => keviq_runtime::MetricKind::Histogram,
        }
    }
}
