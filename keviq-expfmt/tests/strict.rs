//! Strict mode, rule by rule, from the specification texts: OpenMetrics 1.0
//! (`specification/OpenMetrics.md`) and the Prometheus text format 0.0.4
//! (`docs/instrumenting/exposition_formats.md`). Each rule has an input that breaks
//! it, with the error strict mode gives, and one that keeps it.
//!
//! What scrape mode does with the same inputs is in `scrape.rs`.

use keviq_expfmt::{Format, Mode, parse, parse_with};

const OM: Format = Format::OpenMetrics;
const PROM: Format = Format::Prometheus;

/// The error strict mode gives for `input`, displayed.
fn error(format: Format, input: &str) -> String {
    match parse(input, format) {
        Ok(e) => panic!("accepted: {input:?}\n{e:#?}"),
        Err(e) => e.to_string(),
    }
}

/// Checks that `bad` breaks a rule with error `want` in strict mode, and that
/// `good` keeps it (in both modes, with no finding).
fn rule(format: Format, bad: &str, want: &str, good: &str) {
    assert_eq!(error(format, bad), want, "{bad:?}");
    accepted(format, good);
}

/// Checks that both modes accept `good`, with no finding.
fn accepted(format: Format, good: &str) {
    for mode in [Mode::Strict, Mode::Scrape] {
        match parse_with(good, format, mode) {
            Ok(e) => assert!(e.findings.is_empty(), "{good:?}: {:?}", e.findings),
            Err(e) => panic!("{mode:?} rejects {good:?}: {e}"),
        }
    }
}

// --- OpenMetrics: overall structure ("Overall Structure", ABNF) ---

#[test]
fn om_exposition_ends_with_eof() {
    rule(
        OM,
        "a 1\n",
        "line 2, column 1: missing `# EOF` at the end of the exposition",
        "a 1\n# EOF\n",
    );
    rule(
        OM,
        "a 1\n# EOF\nb 1\n",
        "line 3, column 1: text after `# EOF`",
        "a 1\n# EOF",
    );
}

#[test]
fn om_lines_end_with_a_line_feed_and_no_carriage_return() {
    rule(
        OM,
        "a 1\r\n# EOF\n",
        "line 1, column 4: expected the end of the line, found a carriage return",
        "a 1\n# EOF\n",
    );
}

#[test]
fn om_has_no_blank_lines_or_comments() {
    rule(
        OM,
        "a 1\n\n# EOF\n",
        "line 2, column 1: empty line (OpenMetrics allows none)",
        "a 1\n# EOF\n",
    );
    rule(
        OM,
        "# just saying\n# EOF\n",
        "line 1, column 1: OpenMetrics allows no comments: `#` starts only `# TYPE`, `# HELP`, `# UNIT` and `# EOF` lines",
        "# HELP a just saying\n# EOF\n",
    );
}

#[test]
fn om_tokens_are_separated_by_one_space() {
    rule(
        OM,
        "a  1\n# EOF\n",
        "line 1, column 3: expected a number, found a space",
        "a 1\n# EOF\n",
    );
    rule(
        OM,
        "a 1 \n# EOF\n",
        "line 1, column 5: expected a number, found the end of the line",
        "a 1 2\n# EOF\n",
    );
}

// --- OpenMetrics: names and labels (ABNF `metricname`, `label-name`, "Label") ---

#[test]
fn om_names_follow_the_abnf() {
    rule(
        OM,
        "a.b 1\n# EOF\n",
        "line 1, column 2: expected a single space, found `.`",
        "a:b_c 1\n# EOF\n",
    );
    rule(
        OM,
        "a{1b=\"x\"} 1\n# EOF\n",
        "line 1, column 3: expected a label name, found `1`",
        "a{_b1=\"x\"} 1\n# EOF\n",
    );
}

#[test]
fn om_label_names_are_unique_and_not_reserved() {
    rule(
        OM,
        "a{x=\"1\",x=\"2\"} 1\n# EOF\n",
        "line 1, column 9: duplicate label name `x`",
        "a{x=\"1\",y=\"2\"} 1\n# EOF\n",
    );
    rule(
        OM,
        "a{__x=\"1\"} 1\n# EOF\n",
        "line 1, column 3: label name `__x` is reserved",
        "a{_x=\"1\"} 1\n# EOF\n",
    );
    rule(
        OM,
        "__a 1\n# EOF\n",
        "line 1, column 1: metric family name `__a` starts with `__`, which OpenMetrics reserves",
        "_a 1\n# EOF\n",
    );
}

#[test]
fn om_label_sets_have_no_trailing_comma() {
    rule(
        OM,
        "a{x=\"1\",} 1\n# EOF\n",
        "line 1, column 9: expected a label name, found `}`",
        "a{x=\"1\"} 1\n# EOF\n",
    );
}

#[test]
fn om_escapes_follow_the_abnf() {
    // `\` before any other character stands for itself; a bare `"` ends the value.
    rule(
        OM,
        "a{x=\"a\"b\"} 1\n# EOF\n",
        "line 1, column 8: expected `,` or `}`, found `b`",
        "a{x=\"\\q \\\" \\\\ \\n\"} 1\n# EOF\n",
    );
    // A bare `"` in a HELP text, as the official suite's `help_escaping` has it
    // (`# HELP a9 \\"`), and Prometheus and the Python reference parser read it.
    accepted(OM, "# HELP a say \"hi\" \\\\\"\n# EOF\n");
    rule(
        OM,
        "# HELP a say \\\n# EOF\n",
        "line 1, column 14: backslash at the end of the line in HELP text",
        "# HELP a say \\\\\n# EOF\n",
    );
}

#[test]
fn om_names_are_unquoted_in_1_0() {
    rule(
        OM,
        "{\"a.b\"} 1\n# EOF\n",
        "line 1, column 2: quoted name `\"a.b\"`: OpenMetrics 1.0 and Prometheus text 0.0.4 allow only unquoted names (quoted UTF-8 names are Prometheus 3 syntax, read in scrape mode)",
        "a_b 1\n# EOF\n",
    );
    rule(
        OM,
        "a{\"x.y\"=\"1\"} 1\n# EOF\n",
        "line 1, column 3: quoted name `\"x.y\"`: OpenMetrics 1.0 and Prometheus text 0.0.4 allow only unquoted names (quoted UTF-8 names are Prometheus 3 syntax, read in scrape mode)",
        "a{x_y=\"1\"} 1\n# EOF\n",
    );
}

// --- OpenMetrics: numbers and timestamps ("Numbers", "Timestamps") ---

#[test]
fn om_numbers_follow_the_abnf() {
    rule(
        OM,
        "a 0x1p-3\n# EOF\n",
        "line 1, column 3: invalid sample value `0x1p-3`",
        "a -Infinity\n# EOF\n",
    );
    rule(
        OM,
        "a 1_000\n# EOF\n",
        "line 1, column 3: invalid sample value `1_000`",
        "a 0001.5e-3\n# EOF\n",
    );
    rule(
        OM,
        "a 1 NaN\n# EOF\n",
        "line 1, column 5: invalid timestamp `NaN`",
        "a 1 -1.5e3\n# EOF\n",
    );
}

// --- OpenMetrics: metadata ("MetricFamily metadata") ---

#[test]
fn om_metadata_once_per_family_and_before_its_samples() {
    rule(
        OM,
        "# TYPE a gauge\n# TYPE a gauge\n# EOF\n",
        "line 2, column 8: second `# TYPE` line for metric family `a`",
        "# TYPE a gauge\n# HELP a x\n# UNIT a_b b\n# EOF\n",
    );
    rule(
        OM,
        "# TYPE a gauge\na 1\n# HELP a late\n# EOF\n",
        "line 3, column 8: `# HELP` line for metric family `a` after its samples",
        "# TYPE a gauge\n# HELP a early\na 1\n# EOF\n",
    );
}

#[test]
fn om_types_are_the_abnf_words() {
    rule(
        OM,
        "# TYPE a untyped\n# EOF\n",
        "line 1, column 10: unknown metric type `untyped`",
        "# TYPE a unknown\n# EOF\n",
    );
}

#[test]
fn om_units_are_a_suffix_and_absent_on_info_and_stateset() {
    rule(
        OM,
        "# TYPE a counter\n# UNIT a seconds\n# EOF\n",
        "line 2, column 10: unit `seconds` is not a suffix of metric family name `a`",
        "# TYPE a_seconds counter\n# UNIT a_seconds seconds\n# EOF\n",
    );
    rule(
        OM,
        "# TYPE a_u info\n# UNIT a_u u\n# EOF\n",
        "line 2, column 12: info families cannot have a unit",
        "# TYPE a_u gauge\n# UNIT a_u u\n# EOF\n",
    );
}

// --- OpenMetrics: families and metrics ("MetricFamily", "Metric", "MetricPoint") ---

#[test]
fn om_families_are_not_interleaved() {
    rule(
        OM,
        "a 1\nb 1\na 2\n# EOF\n",
        "line 3, column 1: metric family `a` appears again after another family: its lines must form one group",
        "a 1\nb 1\n# EOF\n",
    );
}

#[test]
fn om_family_names_do_not_clash() {
    // "a gauge called foo_created as a counter called foo could create a foo_created"
    rule(
        OM,
        "# TYPE a_created gauge\n# TYPE a counter\n# EOF\n",
        "line 1, column 8: metric family `a_created` clashes with the sample names of counter family `a`",
        "# TYPE a_created gauge\n# TYPE a gauge\n# EOF\n",
    );
}

#[test]
fn om_metrics_are_not_interleaved() {
    rule(
        OM,
        "# TYPE a gauge\na{x=\"1\"} 1 1\na{x=\"2\"} 1 1\na{x=\"1\"} 2 2\n# EOF\n",
        "line 4, column 1: metric family `a`: the samples of one label set appear again after another's (a metric's lines must form one group)",
        "# TYPE a gauge\na{x=\"1\"} 1 1\na{x=\"1\"} 2 2\na{x=\"2\"} 1 1\n# EOF\n",
    );
    rule(
        OM,
        "# TYPE h histogram\nh_bucket{x=\"1\",le=\"+Inf\"} 0\nh_bucket{x=\"2\",le=\"+Inf\"} 0\nh_count{x=\"1\"} 0\n# EOF\n",
        "line 4, column 1: metric family `h`: the samples of one label set appear again after another's (a metric's lines must form one group)",
        "# TYPE h histogram\nh_bucket{x=\"1\",le=\"+Inf\"} 0\nh_bucket{x=\"2\",le=\"+Inf\"} 0\n# EOF\n",
    );
}

#[test]
fn om_series_are_unique_or_timestamped_in_order() {
    rule(
        OM,
        "a{x=\"1\",y=\"2\"} 1\na{y=\"2\",x=\"1\"} 2\n# EOF\n",
        "line 2, column 1: series `a{y=\"2\",x=\"1\"}` appears twice",
        "a{x=\"1\",y=\"2\"} 1\na{x=\"1\",y=\"3\"} 2\n# EOF\n",
    );
    // An empty label value counts as no label.
    rule(
        OM,
        "a{x=\"\"} 1\na 2\n# EOF\n",
        "line 2, column 1: series `a` appears twice",
        "a{x=\"1\"} 1\na 2\n# EOF\n",
    );
    rule(
        OM,
        "a 1 2\na 1 1\n# EOF\n",
        "line 2, column 1: series `a` goes back in time: its timestamps must increase",
        "a 1 1\na 1 2\n# EOF\n",
    );
    // The same time again is allowed (the official suite's `duplicate_timestamps_1`).
    assert!(parse("a 1 1\na 2 1\n# EOF\n", OM).is_ok());
    rule(
        OM,
        "a 1\na 1 1\n# EOF\n",
        "line 2, column 1: series `a` has samples with and without a timestamp",
        "a 1 1\na 2 2\n# EOF\n",
    );
    // Points of a metric, not only of a series, go forward in time.
    rule(
        OM,
        "# TYPE s summary\ns_count 0 2\ns_sum 0 1\n# EOF\n",
        "line 3, column 1: series `s_sum` goes back in time: its timestamps must increase",
        "# TYPE s summary\ns_count 0 1\ns_sum 0 1\ns_count 0 2\ns_sum 0 2\n# EOF\n",
    );
}

// --- OpenMetrics: types ---

#[test]
fn om_sample_names_fit_the_family_type() {
    rule(
        OM,
        "# TYPE a counter\na 1\n# EOF\n",
        "line 2, column 1: sample name `a` does not fit counter family `a`: expected `a_total` or `a_created`",
        "# TYPE a counter\na_total 1\na_created 1\n# EOF\n",
    );
    rule(
        OM,
        "# TYPE a info\na 1\n# EOF\n",
        "line 2, column 1: sample name `a` does not fit info family `a`: expected `a_info`",
        "# TYPE a info\na_info 1\n# EOF\n",
    );
}

#[test]
fn om_counter_totals_are_not_nan_or_negative() {
    rule(
        OM,
        "# TYPE a counter\na_total NaN\n# EOF\n",
        "line 2, column 1: sample `a_total` has value `NaN`: a counter total cannot be NaN",
        "# TYPE a counter\na_total 0\n# EOF\n",
    );
    rule(
        OM,
        "# TYPE a counter\na_total -1\n# EOF\n",
        "line 2, column 1: sample `a_total` has value `-1`: a counter total cannot be negative",
        "# TYPE a counter\na_total 18446744073709551616\n# EOF\n",
    );
}

#[test]
fn om_histograms_have_an_inf_bucket_equal_to_the_count() {
    rule(
        OM,
        "# TYPE h histogram\nh_bucket{le=\"1\"} 0\n# EOF\n",
        "line 2, column 1: histogram `h` has a metric point without a `le=\"+Inf\"` bucket",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 0\n# EOF\n",
    );
    rule(
        OM,
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 0\nh_count 1\nh_sum 0\n# EOF\n",
        "line 3, column 1: `h_count` is 1 but its `+Inf` bucket is 0: they must be equal",
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\nh_sum 0\n# EOF\n",
    );
    rule(
        OM,
        "# TYPE h histogram\nh_bucket{le=\"+INF\"} 0\n# EOF\n",
        "line 2, column 1: `le=\"+INF\"`: OpenMetrics writes the infinite bucket as `+Inf`",
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 0\n# EOF\n",
    );
}

#[test]
fn om_histogram_buckets_are_sorted_and_cumulative_counts() {
    rule(
        OM,
        "# TYPE h histogram\nh_bucket{le=\"2\"} 0\nh_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 0\n# EOF\n",
        "line 3, column 1: `le=\"1\"` comes after `le=\"2\"`: they must be in increasing order",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 0\nh_bucket{le=\"2\"} 0\nh_bucket{le=\"+Inf\"} 0\n# EOF\n",
    );
    rule(
        OM,
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n# EOF\n",
        "line 3, column 1: bucket `le=\"+Inf\"` counts 1, less than the bucket before it (2): buckets are cumulative",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n# EOF\n",
    );
    rule(
        OM,
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1.5\n# EOF\n",
        "line 2, column 1: sample `h_bucket` has value `1.5`: a bucket count is an integer",
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2.0\n# EOF\n",
    );
    rule(
        OM,
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} -1\n# EOF\n",
        "line 2, column 1: sample `h_bucket` has value `-1`: a bucket count cannot be negative",
        "# TYPE h histogram\nh_bucket{le=\"-1\"} 0\nh_bucket{le=\"+Inf\"} 0\n# EOF\n",
    );
}

#[test]
fn om_histogram_sum_and_count_come_together() {
    rule(
        OM,
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 0\nh_sum 0\n# EOF\n",
        "line 3, column 1: `h_sum` without `h_count`: a histogram has both or neither",
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n# EOF\n",
    );
    rule(
        OM,
        "# TYPE g gaugehistogram\ng_bucket{le=\"+Inf\"} 0\ng_gcount 0\n# EOF\n",
        "line 3, column 1: `g_gcount` without `g_gsum`: a histogram has both or neither",
        "# TYPE g gaugehistogram\ng_bucket{le=\"+Inf\"} 0\ng_gcount 0\ng_gsum 0\n# EOF\n",
    );
}

#[test]
fn om_histogram_sums_are_counters_unless_buckets_go_negative() {
    rule(
        OM,
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\nh_sum -1\n# EOF\n",
        "line 4, column 1: sample `h_sum` has value `-1`: a histogram sum cannot be negative without negative buckets",
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\nh_sum 1\n# EOF\n",
    );
    rule(
        OM,
        "# TYPE h histogram\nh_bucket{le=\"-1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_count 1\nh_sum -3\n# EOF\n",
        "line 5, column 1: `h_sum` next to a bucket with a negative `le`: such a histogram has no sum",
        "# TYPE h histogram\nh_bucket{le=\"-1\"} 1\nh_bucket{le=\"+Inf\"} 1\n# EOF\n",
    );
    rule(
        OM,
        "# TYPE g gaugehistogram\ng_bucket{le=\"+Inf\"} 1\ng_gcount 1\ng_gsum -1\n# EOF\n",
        "line 4, column 1: sample `g_gsum` has value `-1`: a histogram sum cannot be negative without negative buckets",
        "# TYPE g gaugehistogram\ng_bucket{le=\"-1\"} 1\ng_bucket{le=\"+Inf\"} 1\ng_gcount 1\ng_gsum -1\n# EOF\n",
    );
    rule(
        OM,
        "# TYPE h histogram\nh_sum NaN\n# EOF\n",
        "line 2, column 1: sample `h_sum` has value `NaN`: a histogram sum cannot be NaN",
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 0\n# EOF\n",
    );
}

#[test]
fn om_histogram_buckets_have_a_numeric_le() {
    rule(
        OM,
        "# TYPE h histogram\nh_bucket 0\n# EOF\n",
        "line 2, column 1: histogram bucket sample without an `le` label",
        "# TYPE h histogram\nh_bucket{le=\"0.5e1\"} 0\nh_bucket{le=\"+Inf\"} 0\n# EOF\n",
    );
    rule(
        OM,
        "# TYPE h histogram\nh_bucket{le=\"NaN\"} 0\n# EOF\n",
        "line 2, column 14: invalid `le` label value `NaN`",
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 0\n# EOF\n",
    );
}

#[test]
fn om_exemplars_on_counters_and_buckets_within_limits() {
    rule(
        OM,
        "# TYPE g gauge\ng 1 # {a=\"b\"} 1\n# EOF\n",
        "line 2, column 5: exemplars are only allowed on counter `_total` and histogram `_bucket` samples",
        "# TYPE c counter\nc_total 1 # {a=\"b\"} 1\n# EOF\n",
    );
    let long = "x".repeat(128);
    let bad = format!("# TYPE c counter\nc_total 1 # {{a=\"{long}\"}} 1\n# EOF\n");
    let good = format!(
        "# TYPE c counter\nc_total 1 # {{a=\"{}\"}} 1\n# EOF\n",
        &long[1..]
    );
    rule(
        OM,
        &bad,
        "line 2, column 13: exemplar labels are 129 characters long, more than the 128 allowed",
        &good,
    );
    rule(
        OM,
        "# TYPE h histogram\nh_bucket{le=\"1\"} 1 # {} 2\nh_bucket{le=\"+Inf\"} 1\n# EOF\n",
        "line 2, column 1: exemplar value 2 is above its bucket's `le=\"1\"`",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 1 # {} 0.5\nh_bucket{le=\"+Inf\"} 1\n# EOF\n",
    );
}

#[test]
fn om_summaries() {
    rule(
        OM,
        "# TYPE s summary\ns 1\n# EOF\n",
        "line 2, column 1: summary quantile sample without a `quantile` label",
        "# TYPE s summary\ns{quantile=\"0.5\"} 1\n# EOF\n",
    );
    rule(
        OM,
        "# TYPE s summary\ns{quantile=\"1.5\"} 1\n# EOF\n",
        "line 2, column 1: `quantile=\"1.5\"` is outside [0, 1], where quantiles lie",
        "# TYPE s summary\ns{quantile=\"1\"} NaN\n# EOF\n",
    );
    rule(
        OM,
        "# TYPE s summary\ns{quantile=\"0.5\"} -1\n# EOF\n",
        "line 2, column 1: sample `s` has value `-1`: a quantile value cannot be negative",
        "# TYPE s summary\ns{quantile=\"0.5\"} 0\n# EOF\n",
    );
    rule(
        OM,
        "# TYPE s summary\ns_count 1.5\n# EOF\n",
        "line 2, column 1: sample `s_count` has value `1.5`: a count is an integer",
        "# TYPE s summary\ns_count 2\ns_sum 1.5\n# EOF\n",
    );
    rule(
        OM,
        "# TYPE s summary\ns_sum NaN\n# EOF\n",
        "line 2, column 1: sample `s_sum` has value `NaN`: a summary sum cannot be NaN",
        "# TYPE s summary\ns_sum 0\n# EOF\n",
    );
}

#[test]
fn om_counter_metrics_have_a_total() {
    // "A MetricPoint in a Metric with the type Counter MUST have one value called
    // Total"; a `_created` sample does not make one.
    rule(
        OM,
        "# TYPE a counter\na_created 1\n# EOF\n",
        "line 2, column 1: `a_created` without `a_total`: every counter metric has a total",
        "# TYPE a counter\na_total 1\na_created 1\n# EOF\n",
    );
    rule(
        OM,
        "# TYPE a counter\na_total{x=\"1\"} 1\na_created{x=\"2\"} 1\n# EOF\n",
        "line 3, column 1: `a_created{x=\"2\"}` without `a_total`: every counter metric has a total",
        "# TYPE a counter\na_total{x=\"1\"} 1\na_created{x=\"1\"} 1\na_total{x=\"2\"} 1\n# EOF\n",
    );
}

#[test]
fn om_info_and_stateset_values() {
    rule(
        OM,
        "# TYPE i info\ni_info{v=\"1\"} 2\n# EOF\n",
        "line 2, column 1: sample `i_info` has value `2`: an info sample's value is always 1",
        "# TYPE i info\ni_info{v=\"1\"} 1.0\n# EOF\n",
    );
    rule(
        OM,
        "# TYPE s stateset\ns{s=\"a\"} 2\n# EOF\n",
        "line 2, column 1: sample `s` has value `2`: a state's value is 0 (false) or 1 (true)",
        "# TYPE s stateset\ns{s=\"a\"} 1\ns{s=\"b\"} 0\n# EOF\n",
    );
    rule(
        OM,
        "# TYPE s stateset\ns{t=\"a\"} 1\n# EOF\n",
        "line 2, column 1: stateset sample without its state label `s`",
        "# TYPE s stateset\ns{t=\"a\",s=\"on\"} 1\n# EOF\n",
    );
}

// --- Prometheus text 0.0.4 ---

#[test]
fn prom_last_line_ends_with_a_line_feed() {
    rule(
        PROM,
        "a 1",
        "line 1, column 4: the last line does not end with a line feed",
        "a 1\n",
    );
}

#[test]
fn prom_escapes_are_backslash_quote_and_newline() {
    rule(
        PROM,
        "a{x=\"\\t\"} 1\n",
        "line 1, column 6: invalid escape sequence \\t in label value: Prometheus text allows only the escapes `\\\\`, `\\\"` and `\\n` there",
        "a{x=\"\\\\ \\\" \\n\"} 1\n",
    );
    // "HELP lines may contain any sequence of UTF-8 characters (after the metric
    // name), but the backslash and the line feed characters have to be escaped as
    // \\ and \n": `\"` is no escape there.
    rule(
        PROM,
        "# HELP a say \\\"hi\\\"\n",
        "line 1, column 14: invalid escape sequence \\\" in HELP text: Prometheus text allows only the escapes `\\\\` and `\\n` there",
        "# HELP a say \"hi\" \\\\ \\n\n",
    );
}

#[test]
fn prom_label_values_hold_no_line_feed_and_labels_are_separated_by_commas() {
    rule(
        PROM,
        "a{x=\"1\n2\"} 1\n",
        "line 1, column 7: line feed inside a quoted label value or name: it must be written `\\n`",
        "a{x=\"1\\n2\"} 1\n",
    );
    rule(
        PROM,
        "a{x=\"1\"y=\"2\"} 1\n",
        "line 1, column 8: missing `,` between labels: the labels of a set are separated by commas",
        "a{x=\"1\", y=\"2\"} 1\n",
    );
}

#[test]
fn prom_metadata_lines_name_a_metric_and_a_type() {
    // "If the token is TYPE, exactly two more tokens are expected. The first is the
    // metric name, and the second is either counter, gauge, histogram, summary, or
    // untyped"; "If the token is HELP, at least one more token is expected, which
    // is the metric name."
    rule(
        PROM,
        "# TYPE a\na 1\n",
        "line 1, column 9: `# TYPE` line for metric family `a` without a type: `# TYPE` is followed by a metric name and its type",
        "# TYPE a untyped\na 1\n",
    );
    rule(
        PROM,
        "# HELP \na 1\n",
        "line 1, column 8: `# HELP` line without a metric name: `# HELP` is followed by a metric name and its docstring",
        "# HELP a\na 1\n",
    );
    rule(
        PROM,
        "# TYPE\n",
        "line 1, column 7: `# TYPE` line without a metric name: `# TYPE` is followed by a metric name and its type",
        "# TYPEWRITER\n",
    );
    // A HELP line without text is one all the same: the family's only one.
    rule(
        PROM,
        "# HELP a\n# HELP a text\n",
        "line 2, column 8: second `# HELP` line for metric family `a`",
        "# HELP a\n# TYPE a gauge\n",
    );
}

#[test]
fn prom_counters_are_not_negative() {
    rule(
        PROM,
        "# TYPE a_total counter\na_total -1\n",
        "line 2, column 1: sample `a_total` has value `-1`: a counter cannot be negative",
        "# TYPE a_total counter\na_total 0\n",
    );
    rule(
        PROM,
        "# TYPE a counter\na{x=\"y\"} -Inf\n",
        "line 2, column 1: sample `a` has value `-inf`: a counter cannot be negative",
        "# TYPE a counter\na{x=\"y\"} +Inf\n",
    );
}

#[test]
fn prom_metadata_once_and_before_samples() {
    rule(
        PROM,
        "# TYPE a gauge\n# TYPE a counter\n",
        "line 2, column 8: second `# TYPE` line for metric family `a`",
        "# HELP a x\n# TYPE a gauge\n",
    );
    rule(
        PROM,
        "a 1\n# TYPE a gauge\n",
        "line 2, column 8: `# TYPE` line for metric family `a` after its samples",
        "# TYPE a gauge\na 1\n",
    );
}

#[test]
fn prom_lines_of_a_metric_form_one_group() {
    rule(
        PROM,
        "x{a=\"1\"} 1\nx_sum 1\nx_count 1\nx{a=\"2\"} 2\n",
        "line 4, column 1: metric family `x` appears again after another family: its lines must form one group",
        "x{a=\"1\"} 1\nx{a=\"2\"} 2\nx_sum 1\nx_count 1\n",
    );
}

#[test]
fn prom_lines_are_unique() {
    // "Each line must have a unique combination of a metric name and labels."
    rule(
        PROM,
        "a{x=\"1\"} 1 1000\na{x=\"1\"} 2 2000\n",
        "line 2, column 1: series `a{x=\"1\"}` appears twice",
        "a{x=\"1\"} 1 1000\na{x=\"2\"} 2 2000\n",
    );
}

#[test]
fn prom_histograms() {
    rule(
        PROM,
        "# TYPE h histogram\nh_bucket{le=\"1\"} 0\nh_sum 0\nh_count 0\n",
        "line 2, column 1: histogram `h` has a metric point without a `le=\"+Inf\"` bucket",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n",
    );
    rule(
        PROM,
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 3\nh_count 2\n",
        "line 3, column 1: `h_count` is 2 but its `+Inf` bucket is 3: they must be equal",
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 3\nh_count 3\n",
    );
    rule(
        PROM,
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 3\nh_bucket{le=\"1\"} 2\n",
        "line 3, column 1: `le=\"1\"` comes after `le=\"+Inf\"`: they must be in increasing order",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 3\n",
    );
    rule(
        PROM,
        "# TYPE h histogram\nh 1\n",
        "line 2, column 1: sample name `h` does not fit histogram family `h`: expected `h_bucket`, `h_sum` or `h_count`",
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1.5\n",
    );
    // Bucket counts are cumulative counts: never negative, never decreasing.
    rule(
        PROM,
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} -1.5\n",
        "line 2, column 1: sample `h_bucket` has value `-1.5`: a bucket count cannot be negative",
        "# TYPE h histogram\nh_bucket{le=\"-1\"} 0\nh_bucket{le=\"+Inf\"} 0\n",
    );
    rule(
        PROM,
        "# TYPE h histogram\nh_bucket{le=\"1\"} 3\nh_bucket{le=\"+Inf\"} 2\nh_count 2\n",
        "line 3, column 1: bucket `le=\"+Inf\"` counts 2, less than the bucket before it (3): buckets are cumulative",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 2\nh_count 2\n",
    );
}

#[test]
fn prom_summaries() {
    rule(
        PROM,
        "# TYPE s summary\ns{quantile=\"0.9\"} 1\ns{quantile=\"0.5\"} 1\n",
        "line 3, column 1: `quantile=\"0.5\"` comes after `quantile=\"0.9\"`: they must be in increasing order",
        "# TYPE s summary\ns{quantile=\"0.5\"} 1\ns{quantile=\"0.9\"} 1\ns_sum 2\ns_count 2\n",
    );
    rule(
        PROM,
        "# TYPE s summary\ns 1\n",
        "line 2, column 1: summary quantile sample without a `quantile` label",
        "# TYPE s summary\ns_sum 1\n",
    );
    rule(
        PROM,
        "# TYPE s summary\ns{quantile=\"-0.5\"} 1\n",
        "line 2, column 1: `quantile=\"-0.5\"` is outside [0, 1], where quantiles lie",
        "# TYPE s summary\ns{quantile=\"0\"} 1\ns{quantile=\"1\"} 1\n",
    );
}

#[test]
fn prom_family_names_do_not_clash() {
    rule(
        PROM,
        "# TYPE x summary\nx_sum 1\n# TYPE x_count gauge\nx_count 1\n",
        "line 3, column 8: metric family `x_count` clashes with the sample names of summary family `x`",
        "# TYPE x summary\nx_sum 1\nx_count 1\n",
    );
}

#[test]
fn prom_names_are_unquoted_in_0_0_4() {
    rule(
        PROM,
        "{\"a.b\", c=\"d\"} 1\n",
        "line 1, column 2: quoted name `\"a.b\"`: OpenMetrics 1.0 and Prometheus text 0.0.4 allow only unquoted names (quoted UTF-8 names are Prometheus 3 syntax, read in scrape mode)",
        "a_b{c=\"d\"} 1\n",
    );
}

// --- Error messages ---

#[test]
fn errors_quote_a_short_excerpt_of_huge_tokens() {
    let huge = "9".repeat(10 << 20);
    let input = format!("a 1{huge}x\n");
    let message = error(PROM, &input);
    assert!(message.len() < 120, "{} bytes", message.len());
    assert!(
        message.starts_with("line 1, column 3: invalid sample value `19999"),
        "{message}"
    );
    assert!(message.ends_with("…`"), "{message}");

    let name = "n".repeat(1 << 20);
    let input = format!("# TYPE {name} gauge\n# TYPE {name} gauge\n");
    let message = error(PROM, &input);
    assert!(message.len() < 150, "{message}");

    // Numbers the checks quote are short too.
    let message = error(OM, "# TYPE a counter\na_total -1e300\n# EOF\n");
    assert_eq!(
        message,
        "line 2, column 1: sample `a_total` has value `-1e300`: a counter total cannot be negative"
    );

    // Control characters in an excerpt are escaped.
    let message = error(OM, "# TYPE a \u{7}bell\n# EOF\n");
    assert_eq!(
        message,
        "line 1, column 10: unknown metric type `\\u{7}bell`"
    );
}
