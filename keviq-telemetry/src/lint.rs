//! Conventions an exposition can break while still parsing, after
//! [promlint](https://github.com/prometheus/client_golang/tree/main/prometheus/testutil/promlint),
//! the linter behind `promtool check metrics`, plus the histogram and uniqueness rules
//! the parser leaves out.
//!
//! Each rule is a plain function from an [`Exposition`] to its [`Finding`]s; [`lint`]
//! runs them all. A finding displays as `<metric> <problem>`, the way promtool prints
//! them, with `<metric>` the family name. The problems, word for word (the first five
//! are promlint's own wording, so that output compares line for line):
//!
//! | rule | problem text |
//! |---|---|
//! | [`counter_total`] | `counter metrics should have "_total" suffix` |
//! | [`help`] | `no help text` |
//! | [`non_counter_total`] | `non-counter metrics should not have "_total" suffix` |
//! | [`abbreviated_units`] | `metric names should not contain abbreviated units` |
//! | [`base_units`] | `use base unit "seconds" instead of "milliseconds"` |
//! | [`histogram_buckets`] | `histogram has no "+Inf" bucket` |
//! | [`histogram_buckets`] | `histogram buckets are not cumulative` |
//! | [`duplicate_series`] | `duplicate series foo_bucket{le="1",path="/"}` |
//! | [`names`] | `metric names should not contain ':'` |
//! | [`names`] | `metric names should be written in 'snake_case' not 'camelCase'` |
//! | [`names`] | `label names should be written in 'snake_case' not 'camelCase'` |
//! | [`names`] | `metric name should not include type 'counter'` |
//! | [`names`] | `non-histogram and non-summary metrics should not have "_sum" suffix` |
//! | [`names`] | `non-histogram metrics should not have "le" label` |
//! | [`names`] | `non-summary metrics should not have "quantile" label` |
//!
//! The [`names`] rules are `keviq-model`'s ([`keviq::model::name_problems`]): the
//! same verdict the `metric!` macro gives a declaration at compile time.
//!
//! The two histogram problems name the series when it has labels besides `le`:
//! `histogram has no "+Inf" bucket in series {path="/"}`.
//!
//! Deliberate differences from promlint: a family is reported once per problem
//! (promlint repeats "abbreviated units" for each abbreviation a name holds), and
//! the counter rule only applies to Prometheus 0.0.4, as OpenMetrics family names
//! leave `_total` out and the parser already requires it on counter samples.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use keviq::Format;
use keviq::model::{BUCKET_LABEL, QUANTILE_LABEL, RuleError};
use keviq_expfmt::{ErrorReason, Exposition, LabelSet, MetricFamily as Family, MetricType, Mode};

use keviq::model::parse_bucket_bound;

/// One convention broken by one metric family.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The family name (for OpenMetrics counters, without `_total`).
    pub metric: String,
    /// What is wrong with it.
    pub problem: Problem,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.metric, self.problem)
    }
}

/// What a [`Finding`] reports; its `Display` is the documented problem text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Problem {
    /// A Prometheus 0.0.4 counter family whose name does not end in `_total`.
    CounterWithoutTotal,
    /// A family without `# HELP`, or with an empty one.
    NoHelp,
    /// A family of another type whose name ends in `_total`.
    TotalOnNonCounter,
    /// A name with `_ms`, `_sec`, `_kb`, ... as a part.
    AbbreviatedUnit,
    /// A name with a prefixed or non-base unit as a part (`milliseconds`, `minutes`).
    NonBaseUnit {
        /// The unit in the name.
        unit: String,
        /// The base unit to use instead.
        base: &'static str,
    },
    /// A histogram series without a `+Inf` bucket.
    NoInfBucket {
        /// The series' labels other than `le`, rendered as `{a="b"}`; empty for none.
        series: String,
    },
    /// A histogram series whose bucket counts decrease as `le` grows.
    NonCumulativeBuckets {
        /// The series' labels other than `le`, rendered as `{a="b"}`; empty for none.
        series: String,
    },
    /// A sample name and label set that appear more than once.
    DuplicateSeries {
        /// The sample name and its labels, sorted by name: `foo{a="b"}`.
        series: String,
    },
    /// A name with `:`, which recording rules own.
    ColonInName,
    /// A camelCase metric name.
    CamelCaseName,
    /// A camelCase label name.
    CamelCaseLabel,
    /// A name that includes a type (`_counter`, ...).
    TypeInName(&'static str),
    /// A counter's or gauge's name ending in a suffix histograms and summaries own.
    ReservedSuffix(&'static str),
    /// `le` on a non-histogram or `quantile` on a non-summary.
    ReservedLabel(&'static str),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CounterWithoutTotal => {
                f.write_str("counter metrics should have \"_total\" suffix")
            }
            Self::NoHelp => f.write_str("no help text"),
            Self::TotalOnNonCounter => {
                f.write_str("non-counter metrics should not have \"_total\" suffix")
            }
            Self::AbbreviatedUnit => {
                f.write_str("metric names should not contain abbreviated units")
            }
            Self::NonBaseUnit { unit, base } => {
                write!(f, "use base unit \"{base}\" instead of \"{unit}\"")
            }
            Self::NoInfBucket { series } => {
                f.write_str("histogram has no \"+Inf\" bucket")?;
                in_series(f, series)
            }
            Self::NonCumulativeBuckets { series } => {
                f.write_str("histogram buckets are not cumulative")?;
                in_series(f, series)
            }
            Self::DuplicateSeries { series } => write!(f, "duplicate series {series}"),
            Self::ColonInName => f.write_str("metric names should not contain ':'"),
            Self::CamelCaseName => {
                f.write_str("metric names should be written in 'snake_case' not 'camelCase'")
            }
            Self::CamelCaseLabel => {
                f.write_str("label names should be written in 'snake_case' not 'camelCase'")
            }
            Self::TypeInName(t) => write!(f, "metric name should not include type '{t}'"),
            Self::ReservedSuffix(suffix) => write!(
                f,
                "non-histogram and non-summary metrics should not have \"{suffix}\" suffix"
            ),
            Self::ReservedLabel(label) if *label == BUCKET_LABEL => {
                f.write_str("non-histogram metrics should not have \"le\" label")
            }
            Self::ReservedLabel(label) => {
                write!(f, "non-summary metrics should not have \"{label}\" label")
            }
        }
    }
}

fn in_series(f: &mut fmt::Formatter<'_>, series: &str) -> fmt::Result {
    if series.is_empty() {
        Ok(())
    } else {
        write!(f, " in series {series}")
    }
}

/// Runs every rule. Findings are sorted by metric name (as promtool sorts them),
/// then in the order of the rules in the table above.
pub fn lint(exposition: &Exposition<'_>, format: Format) -> Vec<Finding> {
    let rules: [fn(&Exposition<'_>, Format) -> Vec<Finding>; 8] = [
        counter_total,
        help,
        non_counter_total,
        abbreviated_units,
        base_units,
        histogram_buckets,
        duplicate_series,
        names,
    ];
    let mut findings: Vec<Finding> = rules
        .iter()
        .flat_map(|rule| rule(exposition, format))
        .collect();
    findings.sort_by(|a, b| (&a.metric, &a.problem).cmp(&(&b.metric, &b.problem)));
    findings
}

/// One finding per family `check` returns a problem for.
fn per_family(
    exposition: &Exposition<'_>,
    mut check: impl FnMut(&Family<'_>) -> Option<Problem>,
) -> Vec<Finding> {
    exposition
        .families
        .iter()
        .filter_map(|family| {
            check(family).map(|problem| Finding {
                metric: family.name.to_owned(),
                problem,
            })
        })
        .collect()
}

/// Prometheus 0.0.4 counters must end in `_total`: `counter metrics should have
/// "_total" suffix`. (OpenMetrics counter names leave it out; the parser checks their
/// samples carry it.)
pub fn counter_total(exposition: &Exposition<'_>, format: Format) -> Vec<Finding> {
    if format != Format::Prometheus {
        return Vec::new();
    }
    per_family(exposition, |family| {
        (family.kind == MetricType::Counter && !family.name.ends_with("_total"))
            .then_some(Problem::CounterWithoutTotal)
    })
}

/// Every family needs a non-empty `# HELP`: `no help text`.
pub fn help(exposition: &Exposition<'_>, _format: Format) -> Vec<Finding> {
    per_family(exposition, |family| {
        family.help.is_none().then_some(Problem::NoHelp)
    })
}

/// Only counters end in `_total`: `non-counter metrics should not have "_total"
/// suffix`. Untyped families count as non-counters, as in promlint.
pub fn non_counter_total(exposition: &Exposition<'_>, _format: Format) -> Vec<Finding> {
    per_family(exposition, |family| {
        (family.kind != MetricType::Counter && family.name.ends_with("_total"))
            .then_some(Problem::TotalOnNonCounter)
    })
}

/// The abbreviations promlint rejects as a `_`-separated part of a name (any case).
pub const UNIT_ABBREVIATIONS: &[&str] = &[
    "s", "ms", "us", "ns", "sec", "b", "kb", "mb", "gb", "tb", "pb", "m", "h", "d",
];

/// `true` when `name` has an abbreviated unit ([`UNIT_ABBREVIATIONS`]) as a part
/// after the first: `request_duration_ms`, `size_kb_total`.
pub fn has_abbreviated_unit(name: &str) -> bool {
    name.split('_').skip(1).any(|part| {
        UNIT_ABBREVIATIONS
            .iter()
            .any(|abbr| part.eq_ignore_ascii_case(abbr))
    })
}

/// Names spell units out: `metric names should not contain abbreviated units`.
pub fn abbreviated_units(exposition: &Exposition<'_>, _format: Format) -> Vec<Finding> {
    per_family(exposition, |family| {
        has_abbreviated_unit(family.name).then_some(Problem::AbbreviatedUnit)
    })
}

/// Units promlint knows, with the base unit to use for each.
const UNITS: &[(&str, &str)] = &[
    // Base units.
    ("amperes", "amperes"),
    ("bytes", "bytes"),
    ("celsius", "celsius"),
    ("grams", "grams"),
    ("joules", "joules"),
    ("kelvin", "kelvin"),
    ("meters", "meters"),
    ("metres", "metres"),
    ("seconds", "seconds"),
    ("volts", "volts"),
    // Non-base units.
    ("minutes", "seconds"),
    ("hours", "seconds"),
    ("days", "seconds"),
    ("weeks", "seconds"),
    ("kelvins", "kelvin"),
    ("fahrenheit", "celsius"),
    ("rankine", "celsius"),
    ("inches", "meters"),
    ("yards", "meters"),
    ("miles", "meters"),
    ("bits", "bytes"),
    ("calories", "joules"),
    ("pounds", "grams"),
    ("ounces", "grams"),
];

/// Prefixes that turn a unit into a non-base one (`milliseconds`, `kilobytes`).
const UNIT_PREFIXES: &[&str] = &[
    "pico", "nano", "micro", "milli", "centi", "deci", "deca", "hecto", "kilo", "kibi", "mega",
    "mibi", "giga", "gibi", "tera", "tebi", "peta", "pebi",
];

/// The first unit among the `_`-separated parts of `name` and its base unit, as
/// promlint finds them: `http_latency_milliseconds` gives
/// `("milliseconds", "seconds")`, `uptime_seconds` gives `("seconds", "seconds")`.
pub fn unit_of(name: &str) -> Option<(&str, &'static str)> {
    let base_of = |unit: &str| UNITS.iter().find(|(u, _)| *u == unit).map(|(_, b)| *b);
    name.split('_').find_map(|part| {
        if let Some(base) = base_of(part) {
            return Some((part, base));
        }
        UNIT_PREFIXES.iter().find_map(|prefix| {
            part.strip_prefix(prefix)
                .and_then(base_of)
                .map(|base| (part, base))
        })
    })
}

/// Names use base units: `use base unit "seconds" instead of "milliseconds"`.
pub fn base_units(exposition: &Exposition<'_>, _format: Format) -> Vec<Finding> {
    per_family(exposition, |family| {
        let (unit, base) = unit_of(family.name)?;
        (unit != base).then(|| Problem::NonBaseUnit {
            unit: unit.to_owned(),
            base,
        })
    })
}

/// Each series of a histogram (or OpenMetrics gauge histogram) has a `+Inf` bucket
/// (`histogram has no "+Inf" bucket`), and its counts never decrease as `le` grows
/// (`histogram buckets are not cumulative`). Buckets are compared in `le` order,
/// whatever order they are written in.
pub fn histogram_buckets(exposition: &Exposition<'_>, _format: Format) -> Vec<Finding> {
    let mut findings = Vec::new();
    for family in &exposition.families {
        if !matches!(
            family.kind,
            MetricType::Histogram | MetricType::GaugeHistogram
        ) {
            continue;
        }
        let bucket_name = format!("{}_bucket", family.name);
        // Series (labels without `le`, sorted) with their (le, count) pairs, in
        // order of first appearance.
        let mut series: Vec<(SortedLabels<'_>, Vec<(f64, f64)>)> = Vec::new();
        for sample in exposition.samples_of(family) {
            if sample.name != bucket_name {
                continue;
            }
            let Some(le) = sample
                .labels
                .get("le")
                .and_then(|le| parse_bucket_bound(&le))
            else {
                continue;
            };
            let mut key: Vec<_> = sample.labels.iter().filter(|(n, _)| *n != "le").collect();
            key.sort();
            match series.iter_mut().find(|(k, _)| *k == key) {
                Some((_, buckets)) => buckets.push((le, sample.value)),
                None => series.push((key, vec![(le, sample.value)])),
            }
        }
        for (key, mut buckets) in series {
            let labels = if key.is_empty() {
                String::new()
            } else {
                render_labels(&key)
            };
            if !buckets.iter().any(|(le, _)| *le == f64::INFINITY) {
                findings.push(Finding {
                    metric: family.name.to_owned(),
                    problem: Problem::NoInfBucket {
                        series: labels.clone(),
                    },
                });
            }
            buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
            if buckets.windows(2).any(|w| w[1].1 < w[0].1) {
                findings.push(Finding {
                    metric: family.name.to_owned(),
                    problem: Problem::NonCumulativeBuckets { series: labels },
                });
            }
        }
    }
    findings
}

/// A sample name with a label set seen before: `duplicate series
/// foo_bucket{le="1",path="/"}`. The parser finds repeats (in any label order): in
/// strict mode they do not parse, in scrape mode the repeat is left out and
/// reported as a finding, which this rule turns into promtool's wording. Each
/// repeated series is reported once.
pub fn duplicate_series(exposition: &Exposition<'_>, _format: Format) -> Vec<Finding> {
    let mut reported = HashSet::new();
    let mut findings = Vec::new();
    for finding in &exposition.findings {
        let ErrorReason::DuplicateSeries(written) = &finding.reason else {
            continue;
        };
        // The finding quotes the repeat as written; name it with sorted labels, so
        // one series is one line whatever order its repeats used.
        let series = canonical_series(written);
        if !reported.insert(series.clone()) {
            continue;
        }
        let name = series.split('{').next().unwrap_or(&series);
        let metric = exposition
            .samples
            .iter()
            .find(|s| s.name == name)
            .and_then(|s| exposition.family_of(s))
            .map_or(name, |f| f.name);
        findings.push(Finding {
            metric: metric.to_owned(),
            problem: Problem::DuplicateSeries { series },
        });
    }
    findings
}

/// `name{a="1",b="2"}` with its labels sorted by name, read back with the parser;
/// the text as it is when it does not read as a series.
fn canonical_series(written: &str) -> String {
    let line = format!("{written} 0\n");
    let Ok(exposition) = keviq_expfmt::parse_with(&line, Format::Prometheus, Mode::Scrape) else {
        return written.to_owned();
    };
    let Some(sample) = exposition.samples.first() else {
        return written.to_owned();
    };
    let labels = sorted(&sample.labels);
    let mut series = sample.name.to_owned();
    if !labels.is_empty() {
        series.push_str(&render_labels(&labels));
    }
    series
}

/// promlint's name rules, as `keviq-model` decides them for declarations: no `:`,
/// snake_case metric and label names, no type word in a name, `_sum`/`_count`/
/// `_bucket` only on histograms and summaries, `le` only on histograms and
/// `quantile` only on summaries. (`_total` has rules of its own above.)
pub fn names(exposition: &Exposition<'_>, _format: Format) -> Vec<Finding> {
    let mut findings = Vec::new();
    for family in &exposition.families {
        let mut problems: Vec<Problem> = keviq::model::name_problems(family.name, family.kind)
            .into_iter()
            .filter_map(|rule| match rule {
                RuleError::ColonInName => Some(Problem::ColonInName),
                RuleError::CamelCaseName => Some(Problem::CamelCaseName),
                RuleError::TypeInName => {
                    keviq::model::type_in_name(family.name).map(Problem::TypeInName)
                }
                RuleError::ReservedSuffix => ["_sum", "_count", "_bucket"]
                    .into_iter()
                    .find(|s| family.name.ends_with(s))
                    .map(Problem::ReservedSuffix),
                _ => None,
            })
            .collect();
        let mut labels: Vec<&str> = exposition
            .samples_of(family)
            .iter()
            .flat_map(|s| s.labels.iter().map(|(name, _)| name))
            .collect();
        labels.sort_unstable();
        labels.dedup();
        for label in labels {
            match keviq::model::check_label_name(label, family.kind) {
                Err(RuleError::CamelCaseLabel) => problems.push(Problem::CamelCaseLabel),
                Err(RuleError::ReservedLabel)
                    if label == BUCKET_LABEL && !family.kind.has_buckets() =>
                {
                    problems.push(Problem::ReservedLabel(BUCKET_LABEL));
                }
                Err(RuleError::ReservedLabel)
                    if label == QUANTILE_LABEL && family.kind != MetricType::Summary =>
                {
                    problems.push(Problem::ReservedLabel(QUANTILE_LABEL));
                }
                _ => {}
            }
        }
        problems.sort();
        problems.dedup();
        findings.extend(problems.into_iter().map(|problem| Finding {
            metric: family.name.to_owned(),
            problem,
        }));
    }
    findings
}

/// Label pairs sorted by name, to compare label sets whatever their written order.
type SortedLabels<'a> = Vec<(&'a str, Cow<'a, str>)>;

fn sorted<'a>(labels: &LabelSet<'a>) -> SortedLabels<'a> {
    let mut labels = labels.to_vec();
    labels.sort();
    labels
}

/// `{a="b",c="d\"e"}`, values escaped as in the text format.
fn render_labels(labels: &[(&str, Cow<'_, str>)]) -> String {
    let mut out = String::from("{");
    for (i, (name, value)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(name);
        out.push_str("=\"");
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use keviq_expfmt::{Mode, parse_with};

    /// The rules run on what scrape mode accepts (strict mode refuses some of
    /// what they find).
    fn parse(text: &str, format: Format) -> Result<Exposition<'_>, keviq_expfmt::ParseError> {
        parse_with(text, format, Mode::Scrape)
    }

    fn run(rule: fn(&Exposition<'_>, Format) -> Vec<Finding>, text: &str) -> Vec<String> {
        run_in(rule, text, Format::Prometheus)
    }

    fn run_in(
        rule: fn(&Exposition<'_>, Format) -> Vec<Finding>,
        text: &str,
        format: Format,
    ) -> Vec<String> {
        let exposition = parse(text, format).expect("test input parses");
        rule(&exposition, format)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn counter_needs_total() {
        let text = "# TYPE jobs counter\njobs 1\n# TYPE runs_total counter\nruns_total 1\n";
        assert_eq!(
            run(counter_total, text),
            ["jobs counter metrics should have \"_total\" suffix"]
        );
    }

    #[test]
    fn counter_total_skips_openmetrics_names() {
        let text = "# TYPE jobs counter\njobs_total 1\n# EOF\n";
        assert!(run_in(counter_total, text, Format::OpenMetrics).is_empty());
    }

    #[test]
    fn missing_or_empty_help() {
        let text = "# HELP a_total A\n# TYPE a_total counter\na_total 1\n\
                    # TYPE b gauge\nb 1\n# HELP c \n# TYPE c gauge\nc 1\n";
        assert_eq!(run(help, text), ["b no help text", "c no help text"]);
    }

    #[test]
    fn total_on_non_counter() {
        let text =
            "# TYPE a_total gauge\na_total 1\nb_total 2\n# TYPE c_total counter\nc_total 3\n";
        assert_eq!(
            run(non_counter_total, text),
            [
                "a_total non-counter metrics should not have \"_total\" suffix",
                "b_total non-counter metrics should not have \"_total\" suffix",
            ]
        );
    }

    #[test]
    fn abbreviated_unit_names() {
        assert!(has_abbreviated_unit("http_request_duration_ms"));
        assert!(has_abbreviated_unit("latency_us_bucket"));
        assert!(has_abbreviated_unit("payload_KB"));
        assert!(has_abbreviated_unit("wait_ns"));
        assert!(!has_abbreviated_unit("http_request_duration_seconds"));
        assert!(!has_abbreviated_unit("items_msg"));
        assert!(!has_abbreviated_unit("ms"), "the first part is not a unit");
        let text = "# HELP mona_http_request_duration_ms D\n\
                    # TYPE mona_http_request_duration_ms gauge\nmona_http_request_duration_ms 1\n";
        assert_eq!(
            run(abbreviated_units, text),
            ["mona_http_request_duration_ms metric names should not contain abbreviated units"]
        );
    }

    #[test]
    fn base_unit_names() {
        assert_eq!(
            unit_of("latency_milliseconds"),
            Some(("milliseconds", "seconds"))
        );
        assert_eq!(
            unit_of("uptime_minutes_total"),
            Some(("minutes", "seconds"))
        );
        assert_eq!(unit_of("size_kilobytes"), Some(("kilobytes", "bytes")));
        assert_eq!(unit_of("uptime_seconds"), Some(("seconds", "seconds")));
        assert_eq!(unit_of("jobs_total"), None);
        let text = "a_milliseconds 1\nb_seconds 2\nc_hours 3\n";
        assert_eq!(
            run(base_units, text),
            [
                "a_milliseconds use base unit \"seconds\" instead of \"milliseconds\"",
                "c_hours use base unit \"seconds\" instead of \"hours\"",
            ]
        );
    }

    const GOOD_HISTOGRAM: &str = "# TYPE h histogram\n\
        h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n";

    #[test]
    fn histogram_good() {
        assert!(run(histogram_buckets, GOOD_HISTOGRAM).is_empty());
    }

    #[test]
    fn histogram_without_inf() {
        let text = "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 3\nh_count 1\n\
                    # TYPE g histogram\ng_bucket{path=\"/\",le=\"1\"} 1\n\
                    g_bucket{path=\"/x\",le=\"1\"} 1\ng_bucket{path=\"/x\",le=\"+Inf\"} 1\n";
        assert_eq!(
            run(histogram_buckets, text),
            [
                "h histogram has no \"+Inf\" bucket",
                "g histogram has no \"+Inf\" bucket in series {path=\"/\"}",
            ]
        );
    }

    #[test]
    fn histogram_not_cumulative() {
        // Written out of order but cumulative: fine. Decreasing: reported.
        let text = "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 5\nh_bucket{le=\"1\"} 2\n\
                    # TYPE g histogram\ng_bucket{le=\"1\"} 3\ng_bucket{le=\"2\"} 1\n\
                    g_bucket{le=\"+Inf\"} 3\n";
        assert_eq!(
            run(histogram_buckets, text),
            ["g histogram buckets are not cumulative"]
        );
    }

    #[test]
    fn openmetrics_histogram() {
        let text = "# TYPE h_seconds histogram\nh_seconds_bucket{le=\"1.0\"} 2\n\
                    h_seconds_bucket{le=\"+Inf\"} 1\nh_seconds_count 1\n# EOF\n";
        assert_eq!(
            run_in(histogram_buckets, text, Format::OpenMetrics),
            ["h_seconds histogram buckets are not cumulative"]
        );
    }

    #[test]
    fn duplicates() {
        let text = "a{x=\"1\",y=\"2\"} 1\na{y=\"2\",x=\"1\"} 2\na{x=\"1\"} 3\na{x=\"1\",y=\"2\"} 4\n\
                    b 1\nb 2\n";
        assert_eq!(
            run(duplicate_series, text),
            [
                "a duplicate series a{x=\"1\",y=\"2\"}",
                "b duplicate series b",
            ]
        );
        assert!(run(duplicate_series, GOOD_HISTOGRAM).is_empty());
    }

    #[test]
    fn name_rules_are_keviq_models() {
        let text = "# TYPE job:httpRequests_counter gauge\njob:httpRequests_counter 1\n\
                    # TYPE wait_sum gauge\nwait_sum{statusCode=\"1\",le=\"2\",quantile=\"3\"} 1\n\
                    # TYPE ok_seconds histogram\nok_seconds_bucket{le=\"+Inf\"} 1\nok_seconds_sum 1\nok_seconds_count 1\n";
        assert_eq!(
            run(names, text),
            [
                "job:httpRequests_counter metric names should not contain ':'",
                "job:httpRequests_counter metric names should be written in 'snake_case' not 'camelCase'",
                "job:httpRequests_counter metric name should not include type 'counter'",
                "wait_sum label names should be written in 'snake_case' not 'camelCase'",
                "wait_sum non-histogram and non-summary metrics should not have \"_sum\" suffix",
                "wait_sum non-histogram metrics should not have \"le\" label",
                "wait_sum non-summary metrics should not have \"quantile\" label",
            ]
        );
    }

    #[test]
    fn all_rules_sorted() {
        let text = "# TYPE z counter\nz 1\n# TYPE a_ms gauge\na_ms 1\n";
        let exposition = parse(text, Format::Prometheus).expect("parses");
        let lines: Vec<String> = lint(&exposition, Format::Prometheus)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            lines,
            [
                "a_ms no help text",
                "a_ms metric names should not contain abbreviated units",
                "z counter metrics should have \"_total\" suffix",
                "z no help text",
            ]
        );
    }

    #[test]
    fn label_rendering_escapes() {
        let labels = [("a", Cow::Borrowed("x\"y\\z\nw"))];
        assert_eq!(render_labels(&labels), "{a=\"x\\\"y\\\\z\\nw\"}");
    }
}
