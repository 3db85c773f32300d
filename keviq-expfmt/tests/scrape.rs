//! Scrape mode: what Prometheus' scraper accepts is accepted, what strict mode
//! would reject is reported as a finding with the same reason, repeated points are
//! left out, and what Prometheus rejects fails here too.

use std::time::{Duration, Instant};

use keviq_expfmt::{Exposition, Format, Mode, parse, parse_with};

const OM: Format = Format::OpenMetrics;
const PROM: Format = Format::Prometheus;

fn scrape(format: Format, input: &str) -> Exposition<'_> {
    match parse_with(input, format, Mode::Scrape) {
        Ok(e) => e,
        Err(e) => panic!("scrape mode rejects {input:?}: {e}"),
    }
}

fn kinds(e: &Exposition<'_>) -> Vec<&'static str> {
    e.findings.iter().map(|f| f.kind()).collect()
}

/// Strict mode rejects `input`; scrape mode accepts it, and its first finding is
/// exactly strict mode's error.
fn tolerated<'i>(format: Format, input: &'i str, kind: &str) -> Exposition<'i> {
    let Err(error) = parse(input, format) else {
        panic!("strict mode accepts {input:?}");
    };
    let e = scrape(format, input);
    let Some(first) = e.findings.first() else {
        panic!("no finding for {input:?}");
    };
    assert_eq!(first.kind(), kind, "{input:?}: {first}");
    assert_eq!(first.to_string(), error.to_string(), "{input:?}");
    e
}

/// Both modes reject `input` with the same error.
fn rejected(format: Format, input: &str, want: &str) {
    for mode in [Mode::Strict, Mode::Scrape] {
        match parse_with(input, format, mode) {
            Ok(_) => panic!("{mode:?} accepts {input:?}"),
            Err(e) => assert_eq!(e.to_string(), want, "{mode:?} {input:?}"),
        }
    }
}

/// Scrape mode rejects `input` with `want`; strict mode rejects it too (for its
/// quoting, which it allows nowhere).
fn rejected_quoted(format: Format, input: &str, want: &str) {
    assert!(parse(input, format).is_err(), "{input:?}");
    match parse_with(input, format, Mode::Scrape) {
        Ok(_) => panic!("scrape mode accepts {input:?}"),
        Err(e) => assert_eq!(e.to_string(), want, "{input:?}"),
    }
}

fn names<'i>(e: &Exposition<'i>) -> Vec<&'i str> {
    e.samples.iter().map(|s| s.name).collect()
}

// --- What Prometheus' scraper accepts ---

#[test]
fn families_whose_lines_are_not_contiguous() {
    let input = "x{a=\"1\"} 1\nx_sum 1\nx_count 1\nx{a=\"2\"} 2\n";
    let e = tolerated(PROM, input, "interleaved_family");
    assert_eq!(e.findings[0].line, 4);
    // Samples are grouped by family, in input order within each.
    assert_eq!(names(&e), ["x", "x", "x_sum", "x_count"]);
    let x = e.family("x").expect("family x");
    let values: Vec<f64> = e.samples_of(x).iter().map(|s| s.value).collect();
    assert_eq!(values, [1.0, 2.0]);
    for (index, family) in e.families.iter().enumerate() {
        assert!(e.samples_of(family).iter().all(|s| s.family == index));
    }
    // OpenMetrics too.
    let e = tolerated(
        OM,
        "a{x=\"1\"} 1\nb 1\na{x=\"2\"} 2\n# EOF\n",
        "interleaved_family",
    );
    assert_eq!(names(&e), ["a", "a", "b"]);
}

#[test]
fn metadata_after_samples_and_repeated_metadata() {
    let e = tolerated(
        PROM,
        "a 1\n# TYPE a gauge\n# HELP a late\n",
        "metadata_after_samples",
    );
    let a = e.family("a").expect("family");
    assert_eq!(a.kind, keviq_expfmt::MetricType::Gauge);
    assert_eq!(a.help.as_deref(), Some("late"));
    // The first of two `# TYPE` lines counts.
    let e = tolerated(
        PROM,
        "# TYPE a gauge\n# TYPE a counter\na 1\n",
        "duplicate_metadata",
    );
    assert_eq!(e.families[0].kind, keviq_expfmt::MetricType::Gauge);
    let e = tolerated(
        OM,
        "# HELP a x\n# HELP b y\n# TYPE a gauge\n# EOF\n",
        "interleaved_family",
    );
    assert_eq!(
        e.family("a").map(|f| f.kind),
        Some(keviq_expfmt::MetricType::Gauge)
    );
}

#[test]
fn a_missing_final_line_feed_in_prometheus_text() {
    let e = tolerated(PROM, "a 1\nb 2", "missing_newline");
    assert_eq!(e.samples.len(), 2);
    let e = tolerated(PROM, "a 1\n  ", "missing_newline");
    assert_eq!(e.samples.len(), 1);
    let e = tolerated(PROM, "# HELP a text", "missing_newline");
    assert_eq!(e.families[0].help.as_deref(), Some("text"));
    // OpenMetrics has `# EOF`: no tolerance there.
    rejected(
        OM,
        "a 1",
        "line 1, column 4: the last line does not end with a line feed",
    );
}

#[test]
fn any_escape_in_prometheus_text_kept_as_written() {
    let e = tolerated(PROM, "a{x=\"C:\\temp\\new\"} 1\n", "invalid_escape");
    // `\t` stays a backslash and a `t`; `\n` is a line feed.
    assert_eq!(
        e.samples[0].labels.get("x").as_deref(),
        Some("C:\\temp\new")
    );
    // In a HELP text, `\"` is no escape either: kept as written, as Prometheus
    // keeps it.
    let e = tolerated(PROM, "# HELP a say \\\"hi\\\" \\\\\n", "invalid_escape");
    assert_eq!(e.families[0].help.as_deref(), Some("say \\\"hi\\\" \\"));
    // A backslash ending the line is no escape in either mode.
    rejected(
        PROM,
        "a{x=\"\\\n\"} 1\n",
        "line 1, column 6: backslash at the end of the line in label value",
    );
}

#[test]
fn line_feeds_in_label_values_and_missing_commas_in_prometheus_text() {
    // Prometheus reads a quoted value on to its closing quote.
    let e = tolerated(
        PROM,
        "a{x=\"1\n2\",y=\"3\"} 1\nb 2\n",
        "line_feed_in_quotes",
    );
    assert_eq!((e.findings[0].line, e.findings[0].column), (1, 7));
    assert_eq!(names(&e), ["a", "b"]);
    assert_eq!(e.samples[0].labels.get("x").as_deref(), Some("1\n2"));
    assert_eq!(e.samples[0].labels.get("y").as_deref(), Some("3"));
    // Findings after it count the line feed as a line.
    let e = scrape(PROM, "a{x=\"1\n\n2\"} 1\nb{y=\"3\nz\"} 2\n");
    assert_eq!(kinds(&e), ["line_feed_in_quotes", "line_feed_in_quotes"]);
    assert_eq!(e.findings[1].line, 4);
    assert_eq!(e.samples[1].labels.len(), 1);
    // A value never closed fails in both modes.
    rejected(
        PROM,
        "a{x=\"1\n2} 1\n",
        "line 1, column 5: label value is not closed by `\"` before the end of the line",
    );
    // Labels without a comma between them.
    let e = tolerated(PROM, "a{x=\"1\"y=\"2\" z=\"3\"} 1\n", "missing_comma");
    assert_eq!(kinds(&e), ["missing_comma", "missing_comma"]);
    assert_eq!(e.samples[0].labels.len(), 3);
    assert_eq!(e.samples[0].labels.get("z").as_deref(), Some("3"));
    // Prometheus' OpenMetrics parser takes neither.
    rejected(
        OM,
        "a{x=\"1\"y=\"2\"} 1\n# EOF\n",
        "line 1, column 8: expected `,` or `}`, found `y`",
    );
    rejected(
        OM,
        "a{x=\"1\n2\"} 1\n# EOF\n",
        "line 1, column 5: label value is not closed by `\"` before the end of the line",
    );
}

#[test]
fn metadata_lines_without_a_name_or_type_as_prometheus_reads_them() {
    // Prometheus rejects a `# TYPE` line without a type, and a `# HELP` or
    // `# TYPE` keyword followed by blanks only.
    let type_message = "`# TYPE` line for metric family `a` without a type: `# TYPE` is followed by a metric name and its type";
    rejected(
        PROM,
        "# TYPE a\na 1\n",
        &format!("line 1, column 9: {type_message}"),
    );
    rejected(
        PROM,
        "# TYPE a  \na 1\n",
        &format!("line 1, column 11: {type_message}"),
    );
    rejected(
        PROM,
        "# HELP \t\na 1\n",
        "line 1, column 9: `# HELP` line without a metric name: `# HELP` is followed by a metric name and its docstring",
    );
    rejected_quoted(
        PROM,
        "# TYPE \"a.b\"\n",
        "line 1, column 13: `# TYPE` line for metric family `a.b` without a type: `# TYPE` is followed by a metric name and its type",
    );
    // The keyword alone is a comment to Prometheus.
    let e = tolerated(PROM, "# HELP\n# TYPE\na 1\n", "missing_metadata_name");
    assert_eq!(
        kinds(&e),
        ["missing_metadata_name", "missing_metadata_name"]
    );
    assert_eq!(e.families.len(), 1);
    // A name without text: a HELP line, with no help text.
    let e = scrape(PROM, "# HELP a\na 1\n");
    assert!(e.findings.is_empty(), "{:?}", e.findings);
    assert_eq!(
        (e.families[0].name, e.families[0].help.as_deref()),
        ("a", None)
    );
}

#[test]
fn openmetrics_leniencies_of_prometheus() {
    let e = tolerated(OM, "a{x=\"1\",} 1\n# EOF\n", "syntax");
    assert_eq!(e.samples[0].labels.len(), 1);
    let e = tolerated(OM, "# TYPE a counter\na 1\n# EOF\n", "invalid_sample_name");
    assert_eq!(e.samples[0].family, 0);
    let e = tolerated(
        OM,
        "# TYPE a_u info\n# UNIT a_u u\n# EOF\n",
        "unit_not_allowed",
    );
    assert_eq!(e.families[0].unit, Some("u"));
    tolerated(OM, "a{__x=\"1\"} 1\n# EOF\n", "reserved_label");
    tolerated(OM, "__a 1\n# EOF\n", "reserved_name");
}

#[test]
fn exemplars_prometheus_keeps_or_drops() {
    // On another sample: kept.
    let e = tolerated(
        OM,
        "# TYPE g gauge\ng 1 # {a=\"b\"} 1\n# EOF\n",
        "exemplar_not_allowed",
    );
    assert!(e.samples[0].exemplar.is_some());
    // Too long: the exemplar is left out, the sample kept.
    let long = "x".repeat(200);
    let input = format!("# TYPE c counter\nc_total 1 # {{a=\"{long}\"}} 1\n# EOF\n");
    let e = tolerated(OM, &input, "exemplar_too_long");
    assert_eq!(e.samples.len(), 1);
    assert!(e.samples[0].exemplar.is_none());
}

#[test]
fn buckets_and_quantiles_that_do_not_read() {
    let e = tolerated(PROM, "# TYPE h histogram\nh_bucket 1\n", "missing_le");
    assert_eq!(e.samples.len(), 1);
    let e = tolerated(
        PROM,
        "# TYPE h histogram\nh_bucket{le=\"x\"} 1\nh_bucket{le=\"+Inf\"} 1\n",
        "invalid_number",
    );
    assert_eq!(e.samples[0].labels.get("le").as_deref(), Some("x"));
    tolerated(
        OM,
        "# TYPE s summary\ns{quantile=\"high\"} 1\n# EOF\n",
        "invalid_number",
    );
}

#[test]
fn every_semantic_rule_is_a_finding() {
    let cases: &[(Format, &str, &str)] = &[
        (OM, "# TYPE a counter\na_total -1\n# EOF\n", "invalid_value"),
        (
            OM,
            "# TYPE h histogram\nh_bucket{le=\"1\"} 0\n# EOF\n",
            "missing_inf_bucket",
        ),
        (
            OM,
            "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 0\nh_count 1\nh_sum 0\n# EOF\n",
            "count_mismatch",
        ),
        (
            OM,
            "# TYPE h histogram\nh_bucket{le=\"2\"} 0\nh_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 0\n# EOF\n",
            "unsorted",
        ),
        (
            OM,
            "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n# EOF\n",
            "non_cumulative",
        ),
        (
            OM,
            "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 0\nh_sum 0\n# EOF\n",
            "unpaired_sum_count",
        ),
        (
            OM,
            "# TYPE h histogram\nh_bucket{le=\"-1\"} 0\nh_bucket{le=\"+Inf\"} 0\nh_count 0\nh_sum 0\n# EOF\n",
            "sum_with_negative_buckets",
        ),
        (
            OM,
            "# TYPE h histogram\nh_bucket{le=\"+INF\"} 0\n# EOF\n",
            "non_canonical_inf",
        ),
        (OM, "# TYPE s summary\ns 1\n# EOF\n", "missing_quantile"),
        (
            OM,
            "# TYPE s summary\ns{quantile=\"2\"} 1\n# EOF\n",
            "quantile_out_of_range",
        ),
        (
            OM,
            "# TYPE s stateset\ns{t=\"a\"} 1\n# EOF\n",
            "missing_state_label",
        ),
        (
            OM,
            "# TYPE h histogram\nh_bucket{le=\"1\"} 1 # {} 5\nh_bucket{le=\"+Inf\"} 1\n# EOF\n",
            "exemplar_out_of_bucket",
        ),
        (OM, "a 1\na 1 1\n# EOF\n", "mixed_timestamps"),
        (OM, "a 1 2\na 1 1\n# EOF\n", "timestamp_backwards"),
        (
            OM,
            "a{x=\"1\"} 1 1\na{x=\"2\"} 1 1\na{x=\"1\"} 1 2\n# EOF\n",
            "interleaved_metric",
        ),
        (
            OM,
            "# TYPE a_created gauge\n# TYPE a counter\n# EOF\n",
            "name_clash",
        ),
        (
            PROM,
            "# TYPE s summary\ns{quantile=\"0.9\"} 1\ns{quantile=\"0.1\"} 1\n",
            "unsorted",
        ),
        (
            PROM,
            "# TYPE s summary\ns{quantile=\"1.5\"} 1\n",
            "quantile_out_of_range",
        ),
        (PROM, "# TYPE a counter\na -1\n", "invalid_value"),
        (
            PROM,
            "# TYPE h histogram\nh_bucket{le=\"+Inf\"} -1\n",
            "invalid_value",
        ),
        (
            PROM,
            "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n",
            "non_cumulative",
        ),
        (
            OM,
            "# TYPE a counter\na_created 1\n# EOF\n",
            "created_without_total",
        ),
    ];
    for (format, input, kind) in cases {
        let e = tolerated(*format, input, kind);
        // Nothing is left out for a semantic finding.
        assert_eq!(
            e.samples.len(),
            input.lines().filter(|l| !l.starts_with('#')).count()
        );
    }
}

// --- Repeated series ---

#[test]
fn a_repeated_series_is_left_out() {
    let e = tolerated(
        PROM,
        "a{x=\"1\",y=\"2\"} 1\na{y=\"2\",x=\"1\"} 2\nb 1\n",
        "duplicate_series",
    );
    assert_eq!(e.samples.len(), 2);
    assert_eq!(e.samples[0].value, 1.0);
    let e = tolerated(PROM, "a 1\na 2\na 3\nb 1\n", "duplicate_series");
    assert_eq!(names(&e), ["a", "b"]);
    assert_eq!(e.findings.len(), 2);
    assert_eq!(e.family("b").map(|f| f.samples.clone()), Some(1..2));
    // With another timestamp, it is another point: kept.
    let e = tolerated(PROM, "a 1 1000\na 2 2000\n", "duplicate_series");
    assert_eq!(e.samples.len(), 2);
    // OpenMetrics: a point again at the same time is valid, but stored once.
    assert!(parse("a 1 5\na 2 5\n# EOF\n", OM).is_ok());
    let e = scrape(OM, "a 1 5\na 2 5\n# EOF\n");
    assert_eq!(e.samples.len(), 1);
    assert_eq!(kinds(&e), ["duplicate_series"]);
}

#[test]
fn a_repeated_histogram_series_is_left_out() {
    let input = "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"1\"} 1\n\
                 h_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_sum 3\nh_count 2\n";
    let e = tolerated(PROM, input, "unsorted");
    assert_eq!(
        kinds(&e),
        ["unsorted", "duplicate_series", "duplicate_series"]
    );
    assert_eq!(names(&e), ["h_bucket", "h_bucket", "h_sum", "h_count"]);
    // Written once each: nothing left out.
    let input = "# TYPE h histogram\nh_bucket{a=\"x\",le=\"1\"} 1\nh_bucket{a=\"x\",le=\"+Inf\"} 2\n\
                 h_sum{a=\"x\"} 3\nh_count{a=\"x\"} 2\nh_bucket{a=\"y\",le=\"+Inf\"} 0\n";
    let e = scrape(PROM, input);
    assert!(e.findings.is_empty(), "{:?}", e.findings);
    assert_eq!(e.samples.len(), 5);
}

// --- Quoted UTF-8 names (Prometheus 3, OpenMetrics 2.0 draft) ---

#[test]
fn quoted_names_in_prometheus_text() {
    let input = "# HELP \"my.metric\" Dotted\n# TYPE \"my.metric\" gauge\n\
                 {\"my.metric\", \"label.x\"=\"v\", plain=\"p\"} 1\n\
                 { \"my.metric\" , \"label.x\" = \"w\" , } 2 1000\n\
                 other{\"ü.ber\"=\"1\"} 3\n";
    let e = tolerated(PROM, input, "quoted_name");
    // One finding says it for the exposition.
    assert_eq!(kinds(&e), ["quoted_name"]);
    let family = e.family("my.metric").expect("family");
    assert_eq!(family.kind, keviq_expfmt::MetricType::Gauge);
    assert_eq!(family.help.as_deref(), Some("Dotted"));
    let samples = e.samples_of(family);
    assert_eq!(samples.len(), 2);
    assert_eq!(samples[0].name, "my.metric");
    let labels: Vec<(&str, String)> = samples[0]
        .labels
        .iter()
        .map(|(n, v)| (n, v.into_owned()))
        .collect();
    assert_eq!(
        labels,
        [("label.x", "v".to_owned()), ("plain", "p".to_owned())]
    );
    assert_eq!(samples[1].labels.get("label.x").as_deref(), Some("w"));
    assert_eq!(e.samples[2].labels.get("ü.ber").as_deref(), Some("1"));
    // The name alone.
    let e = scrape(PROM, "{\"a.b\"} 1\n");
    assert_eq!((e.samples[0].name, e.samples[0].labels.len()), ("a.b", 0));
}

#[test]
fn quoted_names_in_openmetrics() {
    // After the OpenMetrics 2.0 draft's example, with a counter total, and a unit
    // that is a suffix: OpenMetrics 2.0 only recommends that, but Prometheus 3
    // still requires it, dotted names included.
    let input = "# TYPE \"process.cpu_seconds\" counter\n\
                 # UNIT \"process.cpu_seconds\" seconds\n\
                 # HELP \"process.cpu_seconds\" Total user and system CPU time spent in seconds.\n\
                 {\"process.cpu_seconds_total\",\"node.name\"=\"my_node\"} 4.20072246e+06\n\
                 # TYPE \"quoting_example\" gauge\n\
                 {\"quoting_example\",\"foo\"=\"bar\"} 4.5 # {\"trace.id\"=\"x\"} 1\n\
                 # EOF\n";
    let e = tolerated(OM, input, "quoted_name");
    let cpu = e.family("process.cpu_seconds").expect("family");
    assert_eq!(cpu.kind, keviq_expfmt::MetricType::Counter);
    assert_eq!(cpu.unit, Some("seconds"));
    let total = &e.samples_of(cpu)[0];
    assert_eq!(total.name, "process.cpu_seconds_total");
    assert_eq!(total.labels.get("node.name").as_deref(), Some("my_node"));
    let example = &e.samples[1];
    assert_eq!(example.name, "quoting_example");
    let exemplar = example.exemplar.as_deref().expect("exemplar");
    assert_eq!(exemplar.labels.get("trace.id").as_deref(), Some("x"));
}

#[test]
fn quoted_names_the_parser_cannot_borrow_are_left_out() {
    let input = "a 1\n{\"we\\\"ird\"} 2\nb{\"x\\ny\"=\"1\"} 3\nc 4\n";
    let e = scrape(PROM, input);
    assert_eq!(names(&e), ["a", "c"]);
    assert_eq!(kinds(&e), ["quoted_name", "escaped_name", "escaped_name"]);
    assert_eq!(e.findings[1].line, 2);
}

#[test]
fn quoted_name_mistakes_fail_in_both_modes() {
    rejected(
        PROM,
        "{a=\"1\"} 1\n",
        "line 1, column 1: expected a metric name, found `{`",
    );
    rejected_quoted(
        PROM,
        "{\"\"} 1\n",
        "line 1, column 3: expected a label name, found `\\\"`",
    );
    // The name comes first (Prometheus' own parser takes it anywhere; its
    // documentation, OpenMetrics 2.0 and this parser first only).
    rejected_quoted(
        PROM,
        "{a=\"1\", \"name\"} 1\n",
        "line 1, column 15: expected `=`, found `}`",
    );
    rejected_quoted(
        PROM,
        "x{\"name\"} 1\n",
        "line 1, column 9: expected `=`, found `}`",
    );
    rejected_quoted(
        OM,
        "a{\"x\"=\"1\",x=\"2\"} 1\n# EOF\n",
        "line 1, column 11: duplicate label name `x`",
    );
}

// --- What fails in both modes, as it fails Prometheus' scrape ---

#[test]
fn grammar_errors_fail_in_both_modes() {
    rejected(
        OM,
        "a 1\n\n# EOF\n",
        "line 2, column 1: empty line (OpenMetrics allows none)",
    );
    rejected(
        OM,
        "a 1\n",
        "line 2, column 1: missing `# EOF` at the end of the exposition",
    );
    rejected(
        OM,
        "# TYPE a untyped\n# EOF\n",
        "line 1, column 10: unknown metric type `untyped`",
    );
    rejected(
        OM,
        "# UNIT a seconds\n# EOF\n",
        "line 1, column 10: unit `seconds` is not a suffix of metric family name `a`",
    );
    rejected(
        OM,
        "a 1 NaN\n# EOF\n",
        "line 1, column 5: invalid timestamp `NaN`",
    );
    rejected(
        PROM,
        "a 0x1p-3\n",
        "line 1, column 3: invalid sample value `0x1p-3`",
    );
    rejected(
        PROM,
        "# TYPE a info\n",
        "line 1, column 10: unknown metric type `info`",
    );
    rejected(
        PROM,
        "a{x=\"1\",x=\"2\"} 1\n",
        "line 1, column 9: duplicate label name `x`",
    );
}

// --- Limits ---

#[test]
fn findings_are_capped_and_counted() {
    let mut input = String::new();
    for i in 0..1000 {
        input.push_str(&format!("a{{i=\"{i}\"}} 1\nb{{i=\"{i}\"}} 1\n"));
    }
    let e = scrape(PROM, &input);
    assert_eq!(e.samples.len(), 2000);
    // 1998 interleavings: 10 kept, the rest counted.
    assert_eq!(e.findings.len(), 10);
    assert_eq!(e.findings_omitted, 1988);
    assert!(kinds(&e).iter().all(|k| *k == "interleaved_family"));
    assert!(e.findings.windows(2).all(|w| w[0].line < w[1].line));
}

#[test]
fn hostile_inputs_stay_linear() {
    let start = Instant::now();
    // 100,000 labels, then the same set in reverse order: one repeated series.
    let labels: Vec<String> = (0..100_000).map(|i| format!("l{i}=\"{i}\"")).collect();
    let mut reversed = labels.clone();
    reversed.reverse();
    let input = format!(
        "a{{{}}} 1\na{{{}}} 2\n",
        labels.join(","),
        reversed.join(",")
    );
    let e = scrape(PROM, &input);
    assert_eq!((e.samples.len(), kinds(&e)), (1, vec!["duplicate_series"]));
    // A 10 MB label value, and a 10 MB quoted name.
    let big = "v".repeat(10 << 20);
    let input = format!("a{{x=\"{big}\"}} 1\n{{\"{big}\"}} 1\n");
    let e = scrape(PROM, &input);
    assert_eq!(e.samples.len(), 2);
    assert!(e.findings[0].to_string().len() < 300);
    // A label value holding a million line feeds: one finding, one pass.
    let input = format!("a{{x=\"{}\"}} 1\n", "v\n".repeat(1 << 20));
    let e = scrape(PROM, &input);
    assert_eq!(
        (e.samples.len(), kinds(&e)),
        (1, vec!["line_feed_in_quotes"])
    );
    // 200,000 lines alternating between two families, and two metrics of one.
    let mut input = String::new();
    for i in 0..100_000 {
        input.push_str(&format!("a{{i=\"{}\"}} 1\nb 1 {i}\n", i));
    }
    let e = scrape(PROM, &input);
    assert_eq!(e.samples.len(), 200_000);
    let mut input = String::from("# TYPE h histogram\n");
    for i in 0..50_000 {
        let x = i % 2;
        input.push_str(&format!("h_bucket{{x=\"{x}\",le=\"{}\"}} {i}\n", i / 2));
    }
    input.push_str("h_bucket{x=\"0\",le=\"+Inf\"} 50000\nh_bucket{x=\"1\",le=\"+Inf\"} 50000\n");
    let e = scrape(PROM, &input);
    assert_eq!(e.samples.len(), 50_002);
    assert!(
        start.elapsed() < Duration::from_secs(if cfg!(debug_assertions) { 60 } else { 5 }),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn never_panics_on_mutated_input_in_either_mode() {
    let seeds = [
        "# HELP \"a.b\" x\n# TYPE \"a.b\" histogram\n{\"a.b_bucket\",\"l.x\"=\"1\",le=\"1\"} 1\n{\"a.b_bucket\",\"l.x\"=\"1\",le=\"+Inf\"} 2\n{\"a.b_count\",\"l.x\"=\"1\"} 2\n{\"a.b_sum\",\"l.x\"=\"1\"} 0.5\n",
        "# TYPE c counter\nc_total{a=\"\\\"q\\\"\"} 1 1.5 # {t=\"x\"} 2 3\nc_created 1\n# TYPE s stateset\ns{s=\"a\"} 1\n# TYPE i info\ni_info{v=\"1\"} 1\n# EOF\n",
    ];
    let alphabet = [
        '"', '{', '}', ',', '=', '\\', '\n', ' ', '#', 'a', '1', '_', '.', 'é', '\t', '+',
    ];
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for seed in seeds {
        for format in [PROM, OM] {
            for _ in 0..3000 {
                let mut chars: Vec<char> = seed.chars().collect();
                for _ in 0..1 + next() % 3 {
                    let at = (next() % chars.len() as u64) as usize;
                    let c = alphabet[(next() % alphabet.len() as u64) as usize];
                    match next() % 3 {
                        0 => chars[at] = c,
                        1 => chars.insert(at, c),
                        _ => {
                            chars.remove(at);
                        }
                    }
                }
                let input: String = chars.into_iter().collect();
                for mode in [Mode::Strict, Mode::Scrape] {
                    if let Ok(e) = parse_with(&input, format, mode) {
                        for family in &e.families {
                            for sample in e.samples_of(family) {
                                assert_eq!(sample.labels.iter().count(), sample.labels.len());
                            }
                        }
                        assert_eq!(
                            e.families.iter().map(|f| f.samples.len()).sum::<usize>(),
                            e.samples.len(),
                            "{input:?}"
                        );
                    }
                }
            }
        }
    }
}
