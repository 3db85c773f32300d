//! The rules a declaration must follow, checked all at once so that one build
//! reports every mistake of a block.

use std::collections::HashMap;

use keviq_runtime::rules::{self, RuleError};
use syn::Error;

use super::parse::{Body, Field, Input, Kind};
use crate::errors::Errors;

/// Checks every item; returns the fields that may be registered (those without
/// errors) by `(item index, field index)`.
pub(crate) fn check(input: &Input, errors: &mut Errors) -> Vec<Vec<bool>> {
    let mut names: HashMap<String, proc_macro2::Span> = HashMap::new();
    let mut ok = Vec::new();
    for item in &input.items {
        let fields: Vec<&Field> = match &item.body {
            Body::Group { fields, .. } => fields.iter().collect(),
            Body::Single(f) => vec![&**f],
        };
        let mut idents: HashMap<String, ()> = HashMap::new();
        let mut item_ok = Vec::new();
        for field in fields {
            let before = errors.len();
            if idents.insert(field.ident.to_string(), ()).is_some() {
                errors.push(Error::new(
                    field.ident.span(),
                    format!(
                        "duplicate field `{}`; each field needs its own name",
                        field.ident
                    ),
                ));
            }
            check_field(field, errors);
            let name = field.name.value();
            if let Some(first) = names.get(&name) {
                let mut e = Error::new(
                    field.name.span(),
                    format!(
                        "metric name `{name}` is already declared in this block; give each metric its own name"
                    ),
                );
                e.combine(Error::new(*first, format!("`{name}` first declared here")));
                errors.push(e);
            } else {
                names.insert(name, field.name.span());
            }
            item_ok.push(errors.len() == before);
        }
        ok.push(item_ok);
    }
    ok
}

fn rule(errors: &mut Errors, span: proc_macro2::Span, what: &str, result: Result<(), RuleError>) {
    if let Err(e) = result {
        errors.push(Error::new(span, format!("{what}: {}", e.message())));
    }
}

/// Names the first character a name may not hold, for the invalid-character errors.
fn first_bad_char(name: &str, colon_ok: bool) -> String {
    name.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || (colon_ok && *c == ':')))
        .map_or_else(String::new, |c| format!("`{c}` is not allowed; "))
}

fn check_field(field: &Field, errors: &mut Errors) {
    let kind = field.kind.runtime_kind();
    let name = field.name.value();
    let span = field.name.span();
    match rules::check_metric_name(&name, kind) {
        Err(RuleError::CounterWithoutTotal) => errors.push(Error::new(
            span,
            format!("counter `{name}` should end in `_total`: rename it to `{name}_total`"),
        )),
        Err(RuleError::TotalOnNonCounter) => errors.push(Error::new(
            span,
            format!(
                "{} `{name}` ends in `_total`, which only counters may: rename it, or declare it as a `Counter`",
                kind.as_str()
            ),
        )),
        Err(RuleError::InvalidChar) => errors.push(Error::new(
            span,
            format!("invalid metric name `{name}`: {}{}", first_bad_char(&name, true), RuleError::InvalidChar.message()),
        )),
        other => rule(errors, span, &format!("invalid metric name `{name}`"), other),
    }

    if field.docs.iter().all(|d| d.trim().is_empty()) {
        errors.push(Error::new(
            field.ident.span(),
            format!(
                "metric `{}` needs a doc comment: it becomes the `# HELP` text; add `/// what it counts` above it",
                field.ident
            ),
        ));
    }

    let mut labels: HashMap<String, ()> = HashMap::new();
    for label in &field.labels {
        let label_name = label.ident.to_string();
        let label_name = label_name.trim_start_matches("r#");
        let what = match rules::check_label_name(label_name, kind) {
            Err(RuleError::InvalidLabelChar) => {
                format!(
                    "invalid label name `{label_name}`: {}",
                    first_bad_char(label_name, false)
                )
            }
            _ => format!("invalid label name `{label_name}`: "),
        };
        if let Err(e) = rules::check_label_name(label_name, kind) {
            errors.push(Error::new(
                label.ident.span(),
                format!("{what}{}", e.message()),
            ));
        }
        if labels.insert(label_name.to_owned(), ()).is_some() {
            errors.push(Error::new(
                label.ident.span(),
                format!(
                    "duplicate label `{label_name}`; each label of a metric needs its own name"
                ),
            ));
        }
    }

    let options = &field.options;
    errors.extend(options.errors.iter().cloned());
    if let Some((bracket, bounds)) = &options.buckets {
        if field.kind != Kind::Histogram {
            errors.push(Error::new(
                *bracket,
                "`buckets` applies only to a `Histogram`; remove it",
            ));
        } else {
            let values: Vec<f64> = bounds.iter().map(|(v, _)| *v).collect();
            match rules::check_buckets(&values) {
                Ok(()) => {}
                Err(RuleError::EmptyBuckets) => errors.push(Error::new(
                    *bracket,
                    "a histogram needs at least one bucket bound, as in `buckets = [5, 10, 25]`; or remove `buckets` for the default millisecond buckets",
                )),
                Err(e) => {
                    let at = bad_bound(&values, e).map_or(*bracket, |i| bounds[i].1);
                    errors.push(Error::new(at, format!("invalid histogram buckets: {}", e.message())));
                }
            }
        }
    }
    if let Some(unit) = &options.unit {
        rule(
            errors,
            unit.span(),
            &format!("unit `{}` does not fit metric `{name}`", unit.value()),
            rules::check_unit(&name, &unit.value(), kind),
        );
    }
    if let Some(max) = &options.max_series {
        if field.labels.is_empty() {
            errors.push(Error::new(
                max.span(),
                "`max_series` applies only to a metric with labels; remove it",
            ));
        } else if max.base10_parse::<usize>().map_or(true, |n| n == 0) {
            errors.push(Error::new(
                max.span(),
                "`max_series` must be a whole number of at least 1",
            ));
        }
    }
}

/// The index of the bound a bucket error is about, to underline that literal.
fn bad_bound(values: &[f64], e: RuleError) -> Option<usize> {
    match e {
        RuleError::NonFiniteBucket => values.iter().position(|v| !v.is_finite()),
        RuleError::DuplicateBucket => values.windows(2).position(|w| w[0] == w[1]).map(|i| i + 1),
        RuleError::UnsortedBuckets => values.windows(2).position(|w| w[1] < w[0]).map(|i| i + 1),
        _ => None,
    }
}
