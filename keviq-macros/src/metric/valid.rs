//! The rules a declaration must follow, checked all at once so that one build
//! reports every mistake of a block. Every rule about names, labels, units and
//! buckets is `keviq_model`'s; this file only words the errors and places them.

use std::collections::{HashMap, HashSet};

use keviq_model::{MetricType, RuleError};
use proc_macro2::Span;
use syn::Error;

use super::options::Options;
use super::parse::{Field, Input, Shape};
use crate::errors::Errors;

/// The most labels a metric takes: the runtime implements label schemas for
/// tuples of 1 to 6 label types.
pub(crate) const MAX_LABELS: usize = 6;

/// Checks every item; returns, per item and per field, whether that metric may be
/// registered (it parsed and broke no rule).
pub(crate) fn check(input: &Input, errors: &mut Errors) -> Vec<Vec<bool>> {
    let mut names: HashMap<String, (String, Span)> = HashMap::new();
    let mut ok = Vec::new();
    for item in &input.items {
        let fields: Vec<&Field> = match &item.shape {
            Shape::Group { fields, .. } => {
                check_group_options(&item.options, errors);
                fields.iter().collect()
            }
            Shape::Single { field, .. } => vec![&**field],
        };
        let single = matches!(item.shape, Shape::Single { .. });
        let mut idents = HashSet::new();
        let mut item_ok = Vec::new();
        for field in fields {
            let before = errors.len();
            if !idents.insert(field.ident.to_string()) {
                errors.push(Error::new(
                    field.ident.span(),
                    format!(
                        "duplicate field `{}`; each field needs its own name",
                        field.ident
                    ),
                ));
            }
            if !single && let Some(krate) = &field.options.krate {
                errors.push(Error::new(
                    krate.key.span(),
                    "`crate` applies to a whole declaration; put it in the `#[metric(...)]` above the `static` or `struct`",
                ));
            }
            check_field(field, errors);
            if let Some(name) = &field.name {
                let text = name.value();
                check_clash(&text, name.span(), field.metric_type, &mut names, errors);
            }
            item_ok.push(!field.broken && errors.len() == before);
        }
        ok.push(item_ok);
    }
    ok
}

/// Reports a metric whose name, or a name its series occupy in either format (a
/// counter `x_total` occupies `x`, `x_total` and `x_created`; a histogram its
/// `_bucket`, `_sum`, `_count` and `_created`), is taken by an earlier metric of
/// the block. The registry checks the same across the whole binary at run time.
fn check_clash(
    text: &str,
    span: Span,
    ty: MetricType,
    names: &mut HashMap<String, (String, Span)>,
    errors: &mut Errors,
) {
    let occupied = keviq_model::occupied_names(text, ty);
    let taken = occupied
        .iter()
        .find_map(|n| names.get(n).map(|(first, at)| (n, first, *at)));
    if let Some((shared, first, at)) = taken {
        let message = if first == text {
            format!(
                "metric name `{text}` is already declared in this block; give each metric its own name"
            )
        } else {
            format!(
                "metric `{text}` and metric `{first}` would both render series named `{shared}`; rename one of them"
            )
        };
        let mut e = Error::new(span, message);
        e.combine(Error::new(at, format!("`{first}` first declared here")));
        errors.push(e);
        return;
    }
    for n in occupied {
        names.insert(n, (text.to_owned(), span));
    }
}

/// A group static or struct takes `crate` only: the other options are per metric.
fn check_group_options(options: &Options, errors: &mut Errors) {
    for key in options.metric_keys() {
        errors.push(Error::new(
            key.span(),
            format!("`{key}` applies to one metric; put it in a `#[metric(...)]` above the field it is for"),
        ));
    }
}

fn rule(errors: &mut Errors, span: Span, what: &str, result: Result<(), RuleError>) {
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
    let ty = field.metric_type;
    if let Some(name) = &field.name {
        check_name(&name.value(), name.span(), ty, errors);
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

    if field.labels.len() > MAX_LABELS {
        let extra = &field.labels[MAX_LABELS];
        errors.push(Error::new_spanned(
            &extra.tokens,
            format!(
                "a metric takes at most {MAX_LABELS} labels; fold some into one label, or split the metric"
            ),
        ));
    }
    let mut labels = HashSet::new();
    for ident in field.labels.iter().filter_map(|l| l.ident.as_ref()) {
        let label = ident.to_string();
        let label = label.trim_start_matches("r#");
        if let Err(e) = keviq_model::check_label_name(label, ty) {
            let detail = match e {
                RuleError::InvalidLabelChar => first_bad_char(label, false),
                _ => String::new(),
            };
            errors.push(Error::new(
                ident.span(),
                format!("invalid label name `{label}`: {detail}{}", e.message()),
            ));
        }
        if !labels.insert(label.to_owned()) {
            errors.push(Error::new(
                ident.span(),
                format!("duplicate label `{label}`; each label of a metric needs its own name"),
            ));
        }
    }

    let options = &field.options;
    let read = options.read.as_ref();
    if let Some(read) = read {
        if ty.has_buckets() {
            errors.push(Error::new(
                read.key.span(),
                "`read` applies only to a `Counter`, `Gauge` or `FloatGauge`: a histogram records observations; remove `read` and call `observe`",
            ));
        } else if !field.labels.is_empty() {
            errors.push(Error::new(
                read.key.span(),
                "`read` applies only to a metric without labels: the function gives one value; remove the labels, or `read` and record through `labels(..)`",
            ));
        }
    }
    // With `read` on a histogram or a labeled metric, `read` is the mistake
    // reported; otherwise `buckets` and `max_series` cannot go with it.
    let read_alone = read.is_some() && !ty.has_buckets() && field.labels.is_empty();
    if let Some(buckets) = &options.buckets {
        if read_alone {
            errors.push(Error::new(
                buckets.key.span(),
                "`buckets` cannot go with `read`: a metric read from a function has no buckets; remove `buckets`",
            ));
        } else if !ty.has_buckets() {
            errors.push(Error::new(
                buckets.value.span,
                "`buckets` applies only to a `Histogram`; remove it",
            ));
        } else {
            check_buckets(&buckets.value.bounds, buckets.value.span, errors);
        }
    }
    if let (Some(unit), Some(name)) = (&options.unit, &field.name) {
        let (unit, name) = (&unit.value, name.value());
        rule(
            errors,
            unit.span(),
            &format!("unit `{}` does not fit metric `{name}`", unit.value()),
            keviq_model::check_unit(&name, &unit.value(), ty),
        );
    }
    if let Some(max) = &options.max_series {
        if read_alone {
            errors.push(Error::new(
                max.key.span(),
                "`max_series` cannot go with `read`: a metric read from a function has one series; remove `max_series`",
            ));
        } else if field.labels.is_empty() {
            errors.push(Error::new(
                max.value.span(),
                "`max_series` applies only to a metric with labels; remove it",
            ));
        } else if max.value.base10_parse::<usize>().map_or(true, |n| n == 0) {
            errors.push(Error::new(
                max.value.span(),
                "`max_series` must be a whole number of at least 1",
            ));
        }
    }
}

fn check_name(name: &str, span: Span, ty: MetricType, errors: &mut Errors) {
    match keviq_model::check_metric_name(name, ty) {
        Ok(()) => {}
        Err(RuleError::CounterWithoutTotal) => errors.push(Error::new(
            span,
            format!("counter `{name}` should end in `_total`: rename it to `{name}_total`"),
        )),
        Err(RuleError::TotalOnNonCounter) => errors.push(Error::new(
            span,
            format!(
                "{ty} `{name}` ends in `_total`, which only counters may: rename it, or declare it as a `Counter`"
            ),
        )),
        Err(RuleError::InvalidChar) => errors.push(Error::new(
            span,
            format!(
                "invalid metric name `{name}`: {}{}",
                first_bad_char(name, true),
                RuleError::InvalidChar.message()
            ),
        )),
        Err(RuleError::TypeInName) => {
            let word = keviq_model::type_in_name(name).unwrap_or("counter");
            errors.push(Error::new(
                span,
                format!(
                    "metric name `{name}` includes the type `{word}`, which `# TYPE` already states (promlint flags it): drop `_{word}` from the name"
                ),
            ));
        }
        Err(RuleError::ColonInName) => errors.push(Error::new(
            span,
            format!(
                "invalid metric name `{name}`: `:` is reserved for recording rules; write `{}`",
                name.replace(':', "_")
            ),
        )),
        Err(e) => rule(errors, span, &format!("invalid metric name `{name}`"), Err(e)),
    }
}

fn check_buckets(bounds: &[(f64, Span)], bracket: Span, errors: &mut Errors) {
    let values: Vec<f64> = bounds.iter().map(|(v, _)| *v).collect();
    match keviq_model::check_buckets(&values) {
        Ok(()) => {}
        Err(RuleError::EmptyBuckets) => errors.push(Error::new(
            bracket,
            "a histogram needs at least one bucket bound, as in `buckets = [5, 10, 25]`; or remove `buckets` for the default millisecond buckets",
        )),
        Err(e) => {
            let at = bad_bound(&values, e).map_or(bracket, |i| bounds[i].1);
            errors.push(Error::new(
                at,
                format!("invalid histogram buckets: {}", e.message()),
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
