use std::borrow::Cow;

use super::*;
use keviq_runtime::encode::{Encoder, write_f64};
use keviq_runtime::{
    Descriptor, Family as RuntimeFamily, Histogram, LabeledCounter, Registration, Registry, Site,
    Str,
};

fn prom(input: &str) -> Exposition<'_> {
    match parse(input, Format::Prometheus) {
        Ok(e) => e,
        Err(e) => panic!("{e}\n--- input ---\n{input}"),
    }
}

fn om(input: &str) -> Exposition<'_> {
    match parse(input, Format::OpenMetrics) {
        Ok(e) => e,
        Err(e) => panic!("{e}\n--- input ---\n{input}"),
    }
}

/// The error `input` gives, displayed.
fn error(input: &str, format: Format) -> String {
    match parse(input, format) {
        Ok(e) => panic!("accepted: {input:?}\n{e:#?}"),
        Err(e) => e.to_string(),
    }
}

fn labels(sample: &Sample<'_>) -> Vec<(String, String)> {
    sample
        .labels
        .iter()
        .map(|(n, v)| (n.to_owned(), v.into_owned()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

fn same_value(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

// --- Prometheus text 0.0.4 ---

#[test]
fn prometheus_documented_example() {
    let input = r#"# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# Escaping in label values:
msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9

# Minimalistic line:
metric_without_timestamp_and_labels 12.47

# A weird metric from before the epoch:
something_weird{problem="division by zero"} +Inf -3982045

# A histogram, which has a pretty complex representation in the text format:
# HELP http_request_duration_seconds A histogram of the request duration.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="0.1"} 33444
http_request_duration_seconds_bucket{le="0.2"} 100392
http_request_duration_seconds_bucket{le="0.5"} 129389
http_request_duration_seconds_bucket{le="1"} 133988
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320

# Finally a summary, which has a complex representation, too:
# HELP telemetry_requests_metrics_latency_microseconds A summary of the response latency.
# TYPE telemetry_requests_metrics_latency_microseconds summary
telemetry_requests_metrics_latency_microseconds{quantile="0.01"} 3102
telemetry_requests_metrics_latency_microseconds{quantile="0.05"} 3272
telemetry_requests_metrics_latency_microseconds{quantile="0.5"} 4773
telemetry_requests_metrics_latency_microseconds{quantile="0.9"} 9001
telemetry_requests_metrics_latency_microseconds{quantile="0.99"} 76656
telemetry_requests_metrics_latency_microseconds_sum 1.7560473e+07
telemetry_requests_metrics_latency_microseconds_count 2693
"#;
    let e = prom(input);
    let summary: Vec<(&str, MetricType, usize)> = e
        .families
        .iter()
        .map(|f| (f.name, f.kind, f.samples.len()))
        .collect();
    assert_eq!(
        summary,
        [
            ("http_requests_total", MetricType::Counter, 2),
            ("msdos_file_access_time_seconds", MetricType::Untyped, 1),
            (
                "metric_without_timestamp_and_labels",
                MetricType::Untyped,
                1
            ),
            ("something_weird", MetricType::Untyped, 1),
            ("http_request_duration_seconds", MetricType::Histogram, 8),
            (
                "telemetry_requests_metrics_latency_microseconds",
                MetricType::Summary,
                7
            ),
        ]
    );
    assert_eq!(
        e.families[0].help.as_deref(),
        Some("The total number of HTTP requests.")
    );
    let first = &e.samples[0];
    assert_eq!(first.name, "http_requests_total");
    assert_eq!(labels(first), pairs(&[("method", "post"), ("code", "200")]));
    assert_eq!(first.value, 1027.0);
    assert_eq!(first.timestamp, Some(Timestamp::Millis(1395066363000)));
    assert_eq!(e.samples[1].value, 3.0);

    let msdos = &e.samples[2];
    assert_eq!(
        labels(msdos),
        pairs(&[
            ("path", "C:\\DIR\\FILE.TXT"),
            ("error", "Cannot find file:\n\"FILE.TXT\"")
        ])
    );
    assert_eq!(msdos.value, 1.458255915e9);
    assert_eq!(msdos.timestamp, None);

    let weird = &e.samples[4];
    assert_eq!(weird.value, f64::INFINITY);
    assert_eq!(weird.timestamp, Some(Timestamp::Millis(-3982045)));

    let histogram = e.family("http_request_duration_seconds").expect("family");
    let samples = e.samples_of(histogram);
    assert_eq!(samples[5].labels.get("le").as_deref(), Some("+Inf"));
    assert_eq!(samples[6].name, "http_request_duration_seconds_sum");
    assert_eq!(samples[7].value, 144320.0);
    assert_eq!(e.family_of(&samples[0]), Some(histogram));

    let last = e.samples.last().expect("samples");
    assert_eq!(
        last.name,
        "telemetry_requests_metrics_latency_microseconds_count"
    );
    assert_eq!(e.samples[e.samples.len() - 2].value, 1.7560473e+07);
}

#[test]
fn prometheus_whitespace_comments_and_oddities() {
    let input = concat!(
        "   # a comment with leading blanks\n",
        "#\n",
        "# HELPER is no HELP line\n",
        "#\tTYPEWRITER\n",
        "# help in lower case is a comment\n",
        "#HELP foo \t docstring with \"quotes\" and \\\\ and \\n and trailing blanks  \n",
        "# TYPE foo gauge\t \n",
        "\n",
        " \t foo { a = \"1\" , b=\"2\", } \t 1.5 \t 123 \t\n",
        "foo{}3\n",
        "foo{a=\"x\",}-2\n",
        // (`foo` alone would repeat the series `foo{}`.)
        "foo{c=\"d\"}+Inf\n",
        "\t\n",
        "bar_total 0x\n",
    );
    let err = error(input, Format::Prometheus);
    assert_eq!(err, "line 14, column 11: invalid sample value `0x`");

    let input = input.replace("bar_total 0x\n", "bar_total 1e3 -5\n");
    let e = prom(&input);
    assert_eq!(e.families.len(), 2);
    let foo = &e.families[0];
    assert_eq!(foo.name, "foo");
    assert_eq!(foo.kind, MetricType::Gauge);
    assert_eq!(
        foo.help.as_deref(),
        Some("docstring with \"quotes\" and \\ and \n and trailing blanks  ")
    );
    let values: Vec<f64> = e.samples.iter().map(|s| s.value).collect();
    assert_eq!(values, [1.5, 3.0, -2.0, f64::INFINITY, 1000.0]);
    assert_eq!(labels(&e.samples[0]), pairs(&[("a", "1"), ("b", "2")]));
    assert_eq!(e.samples[0].timestamp, Some(Timestamp::Millis(123)));
    assert!(e.samples[1].labels.is_empty());
    assert_eq!(labels(&e.samples[2]), pairs(&[("a", "x")]));
    assert_eq!(e.samples[4].timestamp, Some(Timestamp::Millis(-5)));
    assert_eq!(e.families[1].kind, MetricType::Untyped);
    assert_eq!(e.families[1].samples, 4..5);
}

#[test]
fn prometheus_empty_and_comment_only() {
    assert_eq!(prom(""), Exposition::default());
    assert_eq!(prom("\n\n# just a comment\n"), Exposition::default());
    // `# EOF` is just a comment in the Prometheus format.
    assert_eq!(prom("# EOF\n"), Exposition::default());
    let e = prom("# TYPE a untyped\na 1\n");
    assert_eq!(e.families[0].kind, MetricType::Untyped);
    assert_eq!(e.samples[0].family, 0);
    // A family declared without samples is kept, as the encoder writes it.
    let e = prom("# HELP idle_total Nothing yet\n# TYPE idle_total counter\n");
    assert_eq!(e.families.len(), 1);
    assert_eq!(e.families[0].samples, 0..0);
    assert_eq!(e.families[0].help.as_deref(), Some("Nothing yet"));
}

#[test]
fn prometheus_rejections() {
    let cases: &[(&str, &str)] = &[
        (
            "# HELP h x\n# TYPE h gauge\nhttp_request{a=\"\\q\"} 1\n",
            "line 3, column 17: invalid escape sequence \\q in label value: Prometheus text allows only the escapes `\\\\`, `\\\"` and `\\n` there",
        ),
        (
            "a 1\nb{c=\"é\\x\"} 1\n",
            "line 2, column 7: invalid escape sequence \\x in label value: Prometheus text allows only the escapes `\\\\`, `\\\"` and `\\n` there",
        ),
        (
            "a{b=\"x\\\ny\"} 1\n",
            "line 1, column 7: backslash at the end of the line in label value",
        ),
        (
            "a{b=\"1\",b=\"2\"} 1\n",
            "line 1, column 9: duplicate label name `b`",
        ),
        (
            "a{__name__=\"x\"} 1\n",
            "line 1, column 3: label name `__name__` is reserved",
        ),
        (
            "1a 1\n",
            "line 1, column 1: expected a metric name, found `1`",
        ),
        (
            "{a=\"b\"} 1\n",
            "line 1, column 1: expected a metric name, found `{`",
        ),
        (
            "a{1=\"x\"} 1\n",
            "line 1, column 3: expected a label name, found `1`",
        ),
        (
            "a{,} 1\n",
            "line 1, column 3: expected a label name, found `,`",
        ),
        (
            "a{b=\"c\",,} 1\n",
            "line 1, column 9: expected a label name, found `,`",
        ),
        (
            "a{b:c=\"x\"} 1\n",
            "line 1, column 4: expected `=`, found `:`",
        ),
        (
            "a{b=x} 1\n",
            "line 1, column 5: expected `\"` opening the label value, found `x`",
        ),
        (
            "a{b=\"x\" c=\"y\"} 1\n",
            "line 1, column 9: missing `,` between labels: the labels of a set are separated by commas",
        ),
        (
            "a{b=\"x\"c=\"y\"} 1\n",
            "line 1, column 8: missing `,` between labels: the labels of a set are separated by commas",
        ),
        (
            "a{b=\"x\"=\"y\"} 1\n",
            "line 1, column 8: expected `,` or `}`, found `=`",
        ),
        (
            "a{b=\"x\ny\"} 1\n",
            "line 1, column 7: line feed inside a quoted label value or name: it must be written `\\n`",
        ),
        (
            "a{b=\"x\n",
            "line 1, column 5: label value is not closed by `\"` before the end of the line",
        ),
        ("a\n", "line 1, column 2: missing sample value"),
        ("a{b=\"c\"}  \n", "line 1, column 11: missing sample value"),
        (
            "a 1.2.3\n",
            "line 1, column 3: invalid sample value `1.2.3`",
        ),
        ("a NaNx\n", "line 1, column 3: invalid sample value `NaNx`"),
        (
            "a 1e999\n",
            "line 1, column 3: sample value `1e999` is out of range",
        ),
        (
            "a 1 2 3\n",
            "line 1, column 7: expected the end of the line, found `3`",
        ),
        ("a 1 1.5\n", "line 1, column 5: invalid timestamp `1.5`"),
        ("a 1 # no\n", "line 1, column 5: invalid timestamp `#`"),
        (
            "a 1 99999999999999999999\n",
            "line 1, column 5: timestamp `99999999999999999999` is out of range",
        ),
        (
            "a 1\r\n",
            "line 1, column 4: expected the end of the line, found a carriage return",
        ),
        (
            "a 1",
            "line 1, column 4: the last line does not end with a line feed",
        ),
        (
            "a 1\n  ",
            "line 2, column 3: the last line does not end with a line feed",
        ),
        (
            "# comment",
            "line 1, column 10: the last line does not end with a line feed",
        ),
        (
            "# TYPE a gauge\n# TYPE a counter\n",
            "line 2, column 8: second `# TYPE` line for metric family `a`",
        ),
        (
            "# HELP a x\n# HELP a y\n",
            "line 2, column 8: second `# HELP` line for metric family `a`",
        ),
        (
            "a 1\n# TYPE a gauge\n",
            "line 2, column 8: `# TYPE` line for metric family `a` after its samples",
        ),
        (
            "# TYPE a gauge\na 1\n# HELP a late\n",
            "line 3, column 8: `# HELP` line for metric family `a` after its samples",
        ),
        (
            "a 1\nb 1\na 2\n",
            "line 3, column 1: metric family `a` appears again after another family: its lines must form one group",
        ),
        (
            "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nx 1\nh_count 1\n",
            "line 4, column 1: metric family `h` appears again after another family: its lines must form one group",
        ),
        (
            "# HELP a x\n# HELP b y\n# TYPE a gauge\n",
            "line 3, column 8: metric family `a` appears again after another family: its lines must form one group",
        ),
        (
            "# TYPE h histogram\nh 1\n",
            "line 2, column 1: sample name `h` does not fit histogram family `h`: expected `h_bucket`, `h_sum` or `h_count`",
        ),
        (
            "# TYPE h histogram\nh_bucket 1\n",
            "line 2, column 1: histogram bucket sample without an `le` label",
        ),
        (
            "# TYPE h histogram\nh_bucket{le=\"x\"} 1\n",
            "line 2, column 14: invalid `le` label value `x`",
        ),
        (
            "# TYPE h histogram\nh_bucket{le=\"NaN\"} 1\n",
            "line 2, column 14: invalid `le` label value `NaN`",
        ),
        (
            "# TYPE s summary\ns{quantile=\"high\"} 1\n",
            "line 2, column 13: invalid `quantile` label value `high`",
        ),
        (
            "# TYPE a gauge_histogram\n",
            "line 1, column 10: unknown metric type `gauge_histogram`",
        ),
        (
            "# TYPE a Counter\n",
            "line 1, column 10: unknown metric type `Counter`",
        ),
        (
            "# TYPE a info\n",
            "line 1, column 10: unknown metric type `info`",
        ),
        (
            "# TYPE a gauge extra\n",
            "line 1, column 16: expected the end of the line, found `e`",
        ),
        (
            "# TYPE a gauge\r\n",
            "line 1, column 15: expected the end of the line, found a carriage return",
        ),
        (
            "# HELP a bad \\t escape\n",
            "line 1, column 14: invalid escape sequence \\t in HELP text: Prometheus text allows only the escapes `\\\\` and `\\n` there",
        ),
        (
            "# HELP a ends in a backslash\\\n",
            "line 1, column 29: backslash at the end of the line in HELP text",
        ),
        (
            "# HELP a-b x\n",
            "line 1, column 9: expected a space or tab after the metric name, found `-`",
        ),
        (
            "# HELP 1a x\n",
            "line 1, column 8: expected a metric name, found `1`",
        ),
        (
            "# HELP a \\\"quoted\\\"\n",
            "line 1, column 10: invalid escape sequence \\\" in HELP text: Prometheus text allows only the escapes `\\\\` and `\\n` there",
        ),
        (
            "# TYPE a\n",
            "line 1, column 9: `# TYPE` line for metric family `a` without a type: `# TYPE` is followed by a metric name and its type",
        ),
        (
            "# TYPE a \t \n",
            "line 1, column 12: `# TYPE` line for metric family `a` without a type: `# TYPE` is followed by a metric name and its type",
        ),
        (
            "# TYPE\n",
            "line 1, column 7: `# TYPE` line without a metric name: `# TYPE` is followed by a metric name and its type",
        ),
        (
            "# HELP\n",
            "line 1, column 7: `# HELP` line without a metric name: `# HELP` is followed by a metric name and its docstring",
        ),
        (
            "# HELP   \n",
            "line 1, column 10: `# HELP` line without a metric name: `# HELP` is followed by a metric name and its docstring",
        ),
        (
            "# HELP a\n# HELP a x\n",
            "line 2, column 8: second `# HELP` line for metric family `a`",
        ),
        (
            "# TYPE a counter\na -1\n",
            "line 2, column 1: sample `a` has value `-1`: a counter cannot be negative",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(&error(input, Format::Prometheus), want, "{input:?}");
    }
}

#[test]
fn error_fields() {
    let Err(e) = parse("a 1\nb{c=\"\\q\"} 1\n", Format::Prometheus) else {
        panic!("accepted");
    };
    assert_eq!((e.line, e.column), (2, 6));
    assert_eq!(
        e.reason,
        ErrorReason::InvalidEscape {
            escape: 'q',
            place: Place::LabelValue
        }
    );
    let Err(e) = parse("a{b=\"c\"} 1 2 x\n", Format::Prometheus) else {
        panic!("accepted");
    };
    assert_eq!(
        e.reason,
        ErrorReason::Expected {
            expected: Expected::LineEnd,
            found: Found::Char('x')
        }
    );
}

// --- OpenMetrics 1.0 ---

#[test]
fn openmetrics_specification_examples() {
    let input = r#"# TYPE acme_http_router_request_seconds summary
# UNIT acme_http_router_request_seconds seconds
# HELP acme_http_router_request_seconds Latency though all of ACME's HTTP request router.
acme_http_router_request_seconds_sum{path="/api/v1",method="GET"} 9036.32
acme_http_router_request_seconds_count{path="/api/v1",method="GET"} 807283.0
acme_http_router_request_seconds_created{path="/api/v1",method="GET"} 1605281325.0
acme_http_router_request_seconds_sum{path="/api/v2",method="POST"} 479.3
acme_http_router_request_seconds_count{path="/api/v2",method="POST"} 34.0
acme_http_router_request_seconds_created{path="/api/v2",method="POST"} 1605281325.0
# TYPE go_goroutines gauge
# HELP go_goroutines Number of goroutines that currently exist.
go_goroutines 69
# TYPE process_cpu_seconds counter
# UNIT process_cpu_seconds seconds
# HELP process_cpu_seconds Total user and system CPU time spent in seconds.
process_cpu_seconds_total 4.20072246e+06
# TYPE foo histogram
foo_bucket{le="0.01"} 0
foo_bucket{le="0.1"} 8 # {} 0.054
foo_bucket{le="1"} 11 # {trace_id="KOO5S4vxi0o"} 0.67
foo_bucket{le="10"} 17 # {trace_id="oHg5SJYRHA0"} 9.8 1520879607.789
foo_bucket{le="+Inf"} 17
foo_count 17
foo_sum 324789.3
foo_created 1520430000.123
# TYPE bar counter
bar_total 17.0 1520879607.789
bar_created 1520430000.123 1520879607.789
# TYPE gh gaugehistogram
gh_bucket{le="0.01"} 20.0
gh_bucket{le="+Inf"} 42.0
gh_gcount 42.0
gh_gsum 3289.3
# TYPE st stateset
st{entity="controller",st="a"} 1.0
st{entity="controller",st="bb"} 0.0
# TYPE inf info
inf_info{name="pretty name",version="8.2.7"} 1
# TYPE q summary
q{quantile="0.95"} 123.7
q{quantile="0.99"} 150.0
# TYPE empty gauge
# TYPE unk unknown
unk 42.23
bar_seconds_count{} 0
# EOF
"#;
    let e = om(input);
    let summary: Vec<(&str, MetricType, Option<&str>, usize)> = e
        .families
        .iter()
        .map(|f| (f.name, f.kind, f.unit, f.samples.len()))
        .collect();
    assert_eq!(
        summary,
        [
            (
                "acme_http_router_request_seconds",
                MetricType::Summary,
                Some("seconds"),
                6
            ),
            ("go_goroutines", MetricType::Gauge, None, 1),
            (
                "process_cpu_seconds",
                MetricType::Counter,
                Some("seconds"),
                1
            ),
            ("foo", MetricType::Histogram, None, 8),
            ("bar", MetricType::Counter, None, 2),
            ("gh", MetricType::GaugeHistogram, None, 4),
            ("st", MetricType::StateSet, None, 2),
            ("inf", MetricType::Info, None, 1),
            ("q", MetricType::Summary, None, 2),
            ("empty", MetricType::Gauge, None, 0),
            ("unk", MetricType::Unknown, None, 1),
            ("bar_seconds_count", MetricType::Unknown, None, 1),
        ]
    );
    assert_eq!(
        e.families[0].help.as_deref(),
        Some("Latency though all of ACME's HTTP request router.")
    );
    let cpu = e.family("process_cpu_seconds").expect("family");
    assert_eq!(e.samples_of(cpu)[0].name, "process_cpu_seconds_total");
    assert_eq!(e.samples_of(cpu)[0].value, 4.20072246e+06);

    let foo = e.samples_of(e.family("foo").expect("family"));
    assert!(foo[0].exemplar.is_none());
    let empty_exemplar = foo[1].exemplar.as_deref().expect("exemplar");
    assert!(empty_exemplar.labels.is_empty());
    assert_eq!(empty_exemplar.value, 0.054);
    let traced = foo[3].exemplar.as_deref().expect("exemplar");
    assert_eq!(
        traced.labels.get("trace_id").as_deref(),
        Some("oHg5SJYRHA0")
    );
    assert_eq!(traced.value, 9.8);
    assert_eq!(traced.timestamp, Some(1520879607.789));

    let bar = e.samples_of(e.family("bar").expect("family"));
    assert_eq!(bar[0].timestamp, Some(Timestamp::Seconds(1520879607.789)));
    assert_eq!(bar[1].name, "bar_created");
    assert_eq!(bar[1].value, 1520430000.123);
}

#[test]
fn openmetrics_details() {
    // `# EOF` without a final line feed, empty HELP and UNIT, `\` before other
    // characters, NUL and carriage return inside a label value.
    let input =
        "# HELP a \n# UNIT a \n# TYPE a gauge\na{v=\"\\q\\\\\\\"\\n\0\r\"} -0.0 -1.5e3\n# EOF";
    let e = om(input);
    let a = &e.families[0];
    assert_eq!((a.help.as_deref(), a.unit), (None, None));
    let sample = &e.samples[0];
    assert_eq!(labels(sample), pairs(&[("v", "\\q\\\"\n\0\r")]));
    assert!(sample.value == 0.0 && sample.value.is_sign_negative());
    assert_eq!(sample.timestamp, Some(Timestamp::Seconds(-1500.0)));
    assert_eq!(om("# EOF\n"), Exposition::default());
    assert_eq!(om("# EOF"), Exposition::default());
    // HELP escapes, including one OpenMetrics keeps as is, and a bare `"` (the
    // official suite's `help_escaping`).
    let e = om("# HELP a x\\\"y\\\\z\\nw\\tv\n# EOF\n");
    assert_eq!(e.families[0].help.as_deref(), Some("x\"y\\z\nw\\tv"));
    let e = om("# HELP a say \"hi\" \\\\\"\n# EOF\n");
    assert_eq!(e.families[0].help.as_deref(), Some("say \"hi\" \\\""));
}

#[test]
fn openmetrics_rejections() {
    let long = "x".repeat(121);
    let too_long = format!("# TYPE c counter\nc_total 1 # {{trace_id=\"{long}\"}} 1\n# EOF\n");
    let cases: Vec<(&str, &str)> = vec![
        (
            "foo 1\n",
            "line 2, column 1: missing `# EOF` at the end of the exposition",
        ),
        (
            "",
            "line 1, column 1: missing `# EOF` at the end of the exposition",
        ),
        ("# EOF\nfoo 1\n", "line 2, column 1: text after `# EOF`"),
        ("# EOF\n\n", "line 2, column 1: text after `# EOF`"),
        ("# EOF ", "line 1, column 6: text after `# EOF`"),
        (
            "foo 1\n\n# EOF\n",
            "line 2, column 1: empty line (OpenMetrics allows none)",
        ),
        (
            "# a comment\n# EOF\n",
            "line 1, column 1: OpenMetrics allows no comments: `#` starts only `# TYPE`, `# HELP`, `# UNIT` and `# EOF` lines",
        ),
        (
            "#TYPE foo gauge\n# EOF\n",
            "line 1, column 1: OpenMetrics allows no comments: `#` starts only `# TYPE`, `# HELP`, `# UNIT` and `# EOF` lines",
        ),
        (
            "# TYPE foo gauge\n# TYPE foo gauge\n# EOF\n",
            "line 2, column 8: second `# TYPE` line for metric family `foo`",
        ),
        (
            "# HELP foo a\n# TYPE foo gauge\n# HELP foo b\n# EOF\n",
            "line 3, column 8: second `# HELP` line for metric family `foo`",
        ),
        (
            "# UNIT foo_s s\n# UNIT foo_s s\n# EOF\n",
            "line 2, column 8: second `# UNIT` line for metric family `foo_s`",
        ),
        (
            "# TYPE foo gauge\nfoo 1\n# HELP foo x\n# EOF\n",
            "line 3, column 8: `# HELP` line for metric family `foo` after its samples",
        ),
        (
            "foo 1\n# TYPE foo gauge\n# EOF\n",
            "line 2, column 8: `# TYPE` line for metric family `foo` after its samples",
        ),
        (
            "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n# EOF\n",
            "line 5, column 1: metric family `a` appears again after another family: its lines must form one group",
        ),
        (
            "# TYPE a gauge\n# TYPE b gauge\n# TYPE a gauge\n# EOF\n",
            "line 3, column 8: second `# TYPE` line for metric family `a`",
        ),
        (
            "# TYPE foo counter\nfoo_total 1\nbar 1\nfoo_created 1\n# EOF\n",
            "line 4, column 1: metric family `foo` appears again after another family: its lines must form one group",
        ),
        (
            "# TYPE foo counter\nfoo 1\n# EOF\n",
            "line 2, column 1: sample name `foo` does not fit counter family `foo`: expected `foo_total` or `foo_created`",
        ),
        (
            "# TYPE foo info\nfoo 1\n# EOF\n",
            "line 2, column 1: sample name `foo` does not fit info family `foo`: expected `foo_info`",
        ),
        (
            "foo  1\n# EOF\n",
            "line 1, column 5: expected a number, found a space",
        ),
        (
            "foo 1 \n# EOF\n",
            "line 1, column 7: expected a number, found the end of the line",
        ),
        (
            "foo\t1\n# EOF\n",
            "line 1, column 4: expected a single space, found a tab",
        ),
        (
            " foo 1\n# EOF\n",
            "line 1, column 1: expected a metric name, found a space",
        ),
        (
            "foo 1\r\n# EOF\n",
            "line 1, column 6: expected the end of the line, found a carriage return",
        ),
        ("foo 1\n# EOF\r\n", "line 2, column 6: text after `# EOF`"),
        ("foo\n# EOF\n", "line 1, column 4: missing sample value"),
        (
            "foo{a=\"b\",} 1\n# EOF\n",
            "line 1, column 11: expected a label name, found `}`",
        ),
        (
            "foo{a=\"b\", c=\"d\"} 1\n# EOF\n",
            "line 1, column 11: expected a label name, found a space",
        ),
        (
            "foo{a = \"b\"} 1\n# EOF\n",
            "line 1, column 6: expected `=`, found a space",
        ),
        (
            "foo{a=\"b\"}1\n# EOF\n",
            "line 1, column 11: expected a single space, found `1`",
        ),
        (
            "foo{a=\"b\",a=\"c\"} 1\n# EOF\n",
            "line 1, column 11: duplicate label name `a`",
        ),
        (
            "foo{a=\"\\\n\"} 1\n# EOF\n",
            "line 1, column 8: backslash at the end of the line in label value",
        ),
        (
            "# HELP foo\n# EOF\n",
            "line 1, column 11: expected a single space, found the end of the line",
        ),
        (
            "# HELP  foo x\n# EOF\n",
            "line 1, column 8: expected a metric name, found a space",
        ),
        (
            "# UNIT foo seconds\n# EOF\n",
            "line 1, column 12: unit `seconds` is not a suffix of metric family name `foo`",
        ),
        (
            "# UNIT seconds seconds\n# EOF\n",
            "line 1, column 16: unit `seconds` is not a suffix of metric family name `seconds`",
        ),
        (
            "# UNIT foo_seconds sec-onds\n# EOF\n",
            "line 1, column 23: expected the end of the line, found `-`",
        ),
        (
            "# TYPE foo_seconds info\n# UNIT foo_seconds seconds\n# EOF\n",
            "line 2, column 20: info families cannot have a unit",
        ),
        (
            "# UNIT foo_seconds seconds\n# TYPE foo_seconds stateset\n# EOF\n",
            "line 2, column 20: stateset families cannot have a unit",
        ),
        (
            "# TYPE foo unknownx\n# EOF\n",
            "line 1, column 12: unknown metric type `unknownx`",
        ),
        (
            "# TYPE foo untyped\n# EOF\n",
            "line 1, column 12: unknown metric type `untyped`",
        ),
        (
            "# TYPE foo gauge x\n# EOF\n",
            "line 1, column 17: expected the end of the line, found a space",
        ),
        (
            "# TYPE foo gauge\nfoo 1 # {a=\"b\"} 1\n# EOF\n",
            "line 2, column 7: exemplars are only allowed on counter `_total` and histogram `_bucket` samples",
        ),
        (
            "foo_total 1 # {a=\"b\"} 1\n# EOF\n",
            "line 1, column 13: exemplars are only allowed on counter `_total` and histogram `_bucket` samples",
        ),
        (
            "# TYPE c counter\nc_total 1 #{a=\"b\"} 1\n# EOF\n",
            "line 2, column 12: expected a single space, found `{`",
        ),
        (
            "# TYPE c counter\nc_total 1 # a 1\n# EOF\n",
            "line 2, column 13: expected `# {` starting an exemplar, found `a`",
        ),
        (
            "# TYPE c counter\nc_total 1 # {a=\"b\"}\n# EOF\n",
            "line 2, column 20: expected a single space, found the end of the line",
        ),
        (
            "# TYPE c counter\nc_total 1 # {a=\"b\"} x\n# EOF\n",
            "line 2, column 21: invalid exemplar value `x`",
        ),
        (
            "# TYPE c counter\nc_total 1 # {a=\"b\"} 1 NaN\n# EOF\n",
            "line 2, column 23: invalid exemplar timestamp `NaN`",
        ),
        (
            too_long.as_str(),
            "line 2, column 13: exemplar labels are 129 characters long, more than the 128 allowed",
        ),
        (
            "foo 1 2 3\n# EOF\n",
            "line 1, column 9: expected `# {` starting an exemplar, found `3`",
        ),
        (
            "foo 1 Inf\n# EOF\n",
            "line 1, column 7: invalid timestamp `Inf`",
        ),
        (
            "# TYPE h histogram\nh_bucket{le=\"NaN\"} 1\n# EOF\n",
            "line 2, column 14: invalid `le` label value `NaN`",
        ),
        (
            "# TYPE h gaugehistogram\nh_bucket 1\n# EOF\n",
            "line 2, column 1: histogram bucket sample without an `le` label",
        ),
        (
            "foo 1\n# EO",
            "line 2, column 1: OpenMetrics allows no comments: `#` starts only `# TYPE`, `# HELP`, `# UNIT` and `# EOF` lines",
        ),
        (
            "foo 1",
            "line 1, column 6: the last line does not end with a line feed",
        ),
    ];
    for (input, want) in &cases {
        assert_eq!(&error(input, Format::OpenMetrics), want, "{input:?}");
    }
}

#[test]
fn exemplar_length_limit_is_inclusive() {
    // 8 + 120 = 128 characters: allowed.
    let long = "é".repeat(120);
    let ok = format!("# TYPE c counter\nc_total 1 # {{trace_id=\"{long}\"}} 1\n# EOF\n");
    let e = om(&ok);
    let exemplar = e.samples[0].exemplar.as_deref().expect("exemplar");
    assert_eq!(
        exemplar.labels.get("trace_id").as_deref(),
        Some(long.as_str())
    );
}

// --- API ---

#[test]
fn content_types() {
    for (ct, format) in [
        (
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Format::OpenMetrics,
        ),
        ("application/openmetrics-text", Format::OpenMetrics),
        (
            " Application/OpenMetrics-Text ;version=0.0.1",
            Format::OpenMetrics,
        ),
        (
            "text/plain; version=0.0.4; charset=utf-8",
            Format::Prometheus,
        ),
        ("text/plain", Format::Prometheus),
        ("application/json", Format::Prometheus),
        ("", Format::Prometheus),
    ] {
        assert_eq!(Format::from_content_type(ct), format, "{ct}");
    }
    for format in [Format::Prometheus, Format::OpenMetrics] {
        assert_eq!(Format::from_content_type(format.content_type()), format);
    }
}

#[test]
fn borrows_unless_unescaping() {
    let input = "# HELP a plain\n# HELP b esc\\\\aped\na{x=\"plain\",y=\"esc\\\"aped\"} 1\n";
    let e = parse(input, Format::Prometheus);
    // `a` has only HELP; `b` starts after it, then the sample starts family `a` again.
    assert!(e.is_err());
    let input = "# HELP a esc\\\\aped\na{x=\"plain\",y=\"esc\\\"aped\"} 1\n# HELP b plain\n";
    let e = prom(input);
    assert!(matches!(e.families[0].help, Some(Cow::Owned(_))));
    assert!(matches!(e.families[1].help, Some(Cow::Borrowed("plain"))));
    let values: Vec<Cow<'_, str>> = e.samples[0].labels.iter().map(|(_, v)| v).collect();
    assert!(matches!(values[0], Cow::Borrowed("plain")));
    assert!(matches!(&values[1], Cow::Owned(v) if v == "esc\"aped"));
}

#[test]
fn label_set_api() {
    let p = prom("a{ x = \"1\" ,y=\"a\\\\b\", } 1\n");
    let o = om("a{x=\"1\",y=\"a\\\\b\"} 1\n# EOF\n");
    let (ps, os) = (&p.samples[0].labels, &o.samples[0].labels);
    assert_eq!(ps, os);
    assert_eq!(ps.len(), 2);
    assert!(!ps.is_empty());
    assert_eq!(ps.get("y").as_deref(), Some("a\\b"));
    assert_eq!(ps.get("z"), None);
    assert_eq!(os.as_raw(), "x=\"1\",y=\"a\\\\b\"");
    assert_eq!(
        os.to_vec(),
        [
            ("x", Cow::Borrowed("1")),
            ("y", Cow::Owned("a\\b".to_owned()))
        ]
    );
    assert_eq!(format!("{os:?}"), r#"{"x": "1", "y": "a\\b"}"#);
    let collected: Vec<_> = os.into_iter().map(|(n, _)| n).collect();
    assert_eq!(collected, ["x", "y"]);
    assert_ne!(*ps, LabelSet::default());
    assert_eq!(Timestamp::Millis(1500).as_seconds(), 1.5);
    assert_eq!(MetricType::Histogram, MetricType::Histogram);
    assert_eq!(MetricType::GaugeHistogram.to_string(), "gaugehistogram");
}

// --- Round trips through the encoder ---

fn site() -> Site {
    Site {
        file: file!(),
        line: line!(),
    }
}

/// A sample as the test expects to read it back: name, labels, value.
type ExpectSample = (String, Vec<(String, String)>, f64);

/// A family to render: its descriptor, the label values of each series, and a value
/// per series.
type FamilySpec<'s> = (Descriptor, Vec<Vec<&'s str>>, Vec<f64>);

/// A family as the test expects to read it back.
struct Expect {
    name: String,
    kind: MetricType,
    help: Option<String>,
    unit: Option<&'static str>,
    samples: Vec<ExpectSample>,
}

fn check(text: &str, format: Format, expected: &[Expect]) {
    let e = match parse(text, format) {
        Ok(e) => e,
        Err(err) => panic!("{err}\n--- {format:?} ---\n{text}"),
    };
    assert_eq!(e.families.len(), expected.len(), "{text}");
    for (family, want) in e.families.iter().zip(expected) {
        assert_eq!(family.name, want.name, "{text}");
        assert_eq!(family.kind, want.kind, "{text}");
        assert_eq!(family.help.as_deref(), want.help.as_deref(), "{text}");
        assert_eq!(family.unit, want.unit, "{text}");
        let samples = e.samples_of(family);
        assert_eq!(samples.len(), want.samples.len(), "{text}");
        for (got, (name, labels_want, value)) in samples.iter().zip(&want.samples) {
            assert_eq!(got.name, name, "{text}");
            assert_eq!(&labels(got), labels_want, "{text}");
            assert!(
                same_value(got.value, *value),
                "{} != {value}\n{text}",
                got.value
            );
        }
    }
}

fn family_name(desc: &Descriptor, format: Format) -> String {
    match (format, desc.kind) {
        (Format::OpenMetrics, MetricType::Counter) => desc
            .name
            .strip_suffix("_total")
            .unwrap_or(desc.name)
            .to_owned(),
        _ => desc.name.to_owned(),
    }
}

fn expect(desc: &Descriptor, format: Format) -> Expect {
    Expect {
        name: family_name(desc, format),
        kind: desc.kind,
        help: Some(desc.help.to_owned()).filter(|h| !h.is_empty()),
        unit: desc.unit.filter(|_| format == Format::OpenMetrics),
        samples: Vec::new(),
    }
}

fn series_labels(names: &[&str], values: &[&str]) -> Vec<(String, String)> {
    names
        .iter()
        .zip(values)
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

fn le_text(bound: f64) -> String {
    let mut s = String::new();
    write_f64(&mut s, bound);
    s
}

/// Renders families through the encoder, recording what the parser must read.
fn render(format: Format, families: &[FamilySpec<'_>]) -> (String, Vec<Expect>) {
    let mut out = String::new();
    let mut expected = Vec::new();
    let mut enc = Encoder::new(&mut out, format);
    for (desc, series, values) in families {
        enc.family(desc);
        let mut want = expect(desc, format);
        for (i, label_values) in series.iter().enumerate() {
            enc.clear_labels();
            for (j, v) in label_values.iter().enumerate() {
                enc.label_at(j, v);
            }
            let base = series_labels(desc.labels, label_values);
            let v = values.get(i).copied().unwrap_or(0.0);
            match desc.kind {
                MetricType::Counter => {
                    let n = v.abs() as u64;
                    enc.counter(n);
                    want.samples.push((desc.name.to_owned(), base, n as f64));
                }
                MetricType::Gauge => {
                    enc.gauge_f64(v);
                    want.samples.push((desc.name.to_owned(), base, v));
                }
                MetricType::Histogram => {
                    let bounds = [0.005, 0.1, 1.0, 2.5e3, 1e21];
                    let counts = [1, 0, 7, (v.abs() as u64) % 1000, 3, 2];
                    enc.histogram(&bounds, &counts, v);
                    let mut cumulative = 0u64;
                    for (k, c) in counts.iter().enumerate() {
                        cumulative += c;
                        let mut l = base.clone();
                        let bound = bounds.get(k).copied().unwrap_or(f64::INFINITY);
                        l.push(("le".to_owned(), le_text(bound)));
                        let name = format!("{}_bucket", desc.name);
                        want.samples.push((name, l, cumulative as f64));
                    }
                    let sum = format!("{}_sum", desc.name);
                    want.samples.push((sum, base.clone(), v));
                    let count = format!("{}_count", desc.name);
                    want.samples.push((count, base, cumulative as f64));
                }
                other => unreachable!("the round trip declares no {other} family"),
            }
        }
        expected.push(want);
    }
    enc.finish();
    (out, expected)
}

const TRICKY: [&str; 8] = [
    "back\\slash",
    "double \"quote\"",
    "new\nline",
    "ünïcødé ✓ 日本 🦀",
    "tab\tand\rcarriage",
    "",
    "\\n not a newline, \\\" not a quote\\",
    "} { , = # \0",
];

#[test]
fn round_trips_tricky_text_in_both_formats() {
    let families = vec![
        (
            Descriptor::new(
                "http_requests_total",
                "Requests, \"quoted\", \\backslashed\\, with a\nnewline and ünïcødé",
                MetricType::Counter,
                &["method", "path"],
                site(),
            ),
            TRICKY.iter().map(|t| vec!["GET", *t]).collect(),
            vec![1.0, 2.0, 3.0, 18446744073709551615.0, 0.0, 5.0, 6.0, 7.0],
        ),
        (
            Descriptor::new(
                "idle_seconds_total",
                "No series yet",
                MetricType::Counter,
                &["x"],
                site(),
            )
            .with_unit("seconds"),
            vec![],
            vec![],
        ),
        (
            Descriptor::new(
                "room_temperature_celsius",
                "",
                MetricType::Gauge,
                &["room"],
                site(),
            )
            .with_unit("celsius"),
            TRICKY.iter().map(|t| vec![*t]).collect(),
            vec![
                -0.0,
                f64::NAN,
                f64::INFINITY,
                f64::NEG_INFINITY,
                1e-300,
                0.1,
                -123456.789,
                f64::MAX,
            ],
        ),
        (
            Descriptor::new(
                "latency_seconds",
                "Latency \\ histogram",
                MetricType::Histogram,
                &["route"],
                site(),
            )
            .with_unit("seconds"),
            vec![vec!["/a"], vec!["/b\"\n"]],
            vec![12.5, 0.25],
        ),
        (
            Descriptor::new("up", "Unlabeled", MetricType::Gauge, &[], site()),
            vec![vec![]],
            vec![1.0],
        ),
    ];
    for format in [Format::Prometheus, Format::OpenMetrics] {
        let (text, expected) = render(format, &families);
        check(&text, format, &expected);
    }
}

#[test]
fn round_trips_a_registry() {
    static REQUESTS: RuntimeFamily<(Str, Str), LabeledCounter> =
        RuntimeFamily::new("app_requests_total", (), 100);
    static REQUESTS_REG: Registration = Registration::new(
        Descriptor::new(
            "app_requests_total",
            "Requests by \"route\"",
            MetricType::Counter,
            &["method", "route"],
            Site {
                file: file!(),
                line: line!(),
            },
        ),
        &REQUESTS,
    );
    static LATENCY: Histogram<3> = Histogram::new([0.1, 1.0, 10.0]);
    static LATENCY_REG: Registration = Registration::new(
        Descriptor::new(
            "app_latency_seconds",
            "Latency",
            MetricType::Histogram,
            &[],
            Site {
                file: file!(),
                line: line!(),
            },
        )
        .with_unit("seconds"),
        &LATENCY,
    );
    REQUESTS.get(("GET", "/users/{id}")).inc();
    REQUESTS.get(("POST", "C:\\new\nline \"é\"")).inc_by(41);
    LATENCY.observe(0.5);
    LATENCY.observe(20.0);
    let registry = Registry::from_registrations([&REQUESTS_REG, &LATENCY_REG]).expect("registry");
    for format in [Format::Prometheus, Format::OpenMetrics] {
        let text = registry.render(format);
        let e = match parse(&text, format) {
            Ok(e) => e,
            Err(err) => panic!("{err}\n{text}"),
        };
        assert_eq!(e.families.len(), 2);
        let latency = e.samples_of(&e.families[0]);
        assert_eq!(latency.len(), 6);
        assert_eq!(latency[4].name, "app_latency_seconds_sum");
        assert_eq!(latency[4].value, 20.5);
        assert_eq!(latency[5].value, 2.0);
        let requests = &e.families[1];
        assert_eq!(requests.help.as_deref(), Some("Requests by \"route\""));
        let mut got: Vec<(String, String, f64)> = e
            .samples_of(requests)
            .iter()
            .map(|s| {
                let get = |n| s.labels.get(n).map(Cow::into_owned).unwrap_or_default();
                (get("method"), get("route"), s.value)
            })
            .collect();
        got.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            got,
            [
                ("GET".to_owned(), "/users/{id}".to_owned(), 1.0),
                ("POST".to_owned(), "C:\\new\nline \"é\"".to_owned(), 41.0),
            ]
        );
    }
}

/// xorshift64*: deterministic randomness without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'t, T>(&mut self, items: &'t [T]) -> &'t T {
        &items[self.below(items.len())]
    }

    fn text(&mut self, alphabet: &[char], max: usize) -> String {
        (0..self.below(max + 1))
            .map(|_| *self.pick(alphabet))
            .collect()
    }

    fn value(&mut self) -> f64 {
        match self.below(6) {
            0 => f64::from_bits(self.next()),
            1 => self.below(1000) as f64,
            2 => (self.next() >> 11) as f64 / 1e9,
            3 => *self.pick(&[f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0]),
            4 => -(self.below(100_000) as f64) / 7.0,
            _ => (self.next() as i64) as f64,
        }
    }
}

const ALPHABET: [char; 22] = [
    'a', 'Z', '0', ' ', '\\', '"', '\n', 'n', '{', '}', ',', '=', '#', '\t', '\r', 'é', '✓', '🦀',
    '\0', 'q', '_', ':',
];

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

#[test]
fn random_round_trips() {
    let mut rng = Rng(0x1234_5678_9ABC_DEF1);
    let label_names = ["a", "b_c", "Method", "_x", "le2", "quantile_"];
    for round in 0..300 {
        let mut families = Vec::new();
        for f in 0..1 + rng.below(5) {
            let kind = *rng.pick(&[
                MetricType::Counter,
                MetricType::Gauge,
                MetricType::Histogram,
            ]);
            let name = match kind {
                MetricType::Counter => format!("r{round}_f{f}_bytes_total"),
                // `:` is the grammar's, but keviq refuses it in declared names
                // (recording rules own it); the parser's own tests cover it.
                _ => format!("r{round}_f{f}_bytes"),
            };
            let mut help = rng.text(&ALPHABET, 12);
            if rng.below(2) == 0 {
                // Prometheus' HELP cannot start with blanks: they separate tokens.
                help = help.trim_start_matches([' ', '\t']).to_owned();
            }
            let count = rng.below(4);
            let names: Vec<&'static str> = label_names[..count].to_vec();
            let names: &'static [&'static str] = Box::leak(names.into_boxed_slice());
            let mut desc = Descriptor::new(leak(name), leak(help), kind, names, site());
            if rng.below(2) == 0 {
                desc = desc.with_unit("bytes");
            }
            let mut series: Vec<Vec<&str>> = (0..rng.below(4))
                .map(|_| {
                    (0..count)
                        .map(|_| leak(rng.text(&ALPHABET, 10)))
                        .collect::<Vec<&str>>()
                })
                .collect();
            // One series once: a repeated series is an error in both formats.
            let mut seen = std::collections::HashSet::new();
            series.retain(|s| seen.insert(s.clone()));
            let values = (0..series.len())
                .map(|_| match kind {
                    // An OpenMetrics histogram's sum is a non-negative number.
                    MetricType::Histogram => match rng.value().abs() {
                        v if v.is_finite() => v,
                        _ => 0.5,
                    },
                    _ => rng.value(),
                })
                .collect();
            families.push((desc, series, values));
        }
        for format in [Format::Prometheus, Format::OpenMetrics] {
            let (text, mut expected) = render(format, &families);
            if format == Format::Prometheus {
                for e in &mut expected {
                    e.help = e
                        .help
                        .take()
                        .map(|h| h.trim_start_matches([' ', '\t']).to_owned())
                        .filter(|h| !h.is_empty());
                }
            }
            check(&text, format, &expected);
        }
    }
}

/// Parses `input` and, when it is accepted, reads everything back.
fn parse_fully(input: &str, format: Format) -> bool {
    match parse(input, format) {
        Ok(e) => {
            for s in &e.samples {
                let n = s.labels.iter().count();
                assert_eq!(n, s.labels.len(), "{input:?}");
                if let Some(x) = &s.exemplar {
                    assert_eq!(x.labels.iter().count(), x.labels.len(), "{input:?}");
                }
                assert!(e.family_of(s).is_some());
            }
            for f in &e.families {
                let _ = e.samples_of(f);
            }
            true
        }
        Err(err) => {
            assert!(err.line >= 1 && err.column >= 1);
            let _ = err.to_string();
            false
        }
    }
}

#[test]
fn never_panics_on_truncated_or_mutated_input() {
    let families = vec![
        (
            Descriptor::new(
                "t_total",
                "Help \"x\" \\ y\nz",
                MetricType::Counter,
                &["a", "b"],
                site(),
            ),
            vec![vec!["x\\y", "é\"\n"], vec!["", "z"]],
            vec![3.0, 4.0],
        ),
        (
            Descriptor::new("h_seconds", "H", MetricType::Histogram, &["r"], site())
                .with_unit("seconds"),
            vec![vec!["/"]],
            vec![1.5],
        ),
    ];
    let mut rng = Rng(0xDEAD_BEEF_CAFE_F00D);
    for format in [Format::Prometheus, Format::OpenMetrics] {
        let (mut text, _) = render(format, &families);
        if format == Format::OpenMetrics {
            text = text.replace(
                "t_total{a=\"\",b=\"z\"} 4\n",
                "t_total{a=\"\",b=\"z\"} 4 1.5 # {id=\"q\"} 2 3\n",
            );
        }
        assert!(parse_fully(&text, format), "{text}");
        // Every prefix.
        for end in 0..text.len() {
            if let Some(prefix) = text.get(..end) {
                parse_fully(prefix, format);
            }
        }
        // Random edits with grammar-relevant characters.
        for _ in 0..20_000 {
            let mut chars: Vec<char> = text.chars().collect();
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(chars.len());
                match rng.below(3) {
                    0 => chars[at] = *rng.pick(&ALPHABET),
                    1 => chars.insert(at, *rng.pick(&ALPHABET)),
                    _ => {
                        chars.remove(at);
                    }
                }
            }
            let mutated: String = chars.into_iter().collect();
            parse_fully(&mutated, format);
        }
    }
}

#[test]
fn never_panics_on_random_input() {
    let mut rng = Rng(0x0BAD_5EED_0BAD_5EED);
    let pieces = [
        "# TYPE ",
        "# HELP ",
        "# UNIT ",
        "# EOF",
        "\n",
        " ",
        "\t",
        "\r",
        "{",
        "}",
        "=",
        ",",
        "\"",
        "\\",
        "#",
        "a",
        "a_total",
        "a_bucket",
        "le",
        "quantile",
        "__name__",
        "counter",
        "histogram",
        "summary",
        "gauge",
        "info",
        "stateset",
        "1",
        "1.5e3",
        "+Inf",
        "NaN",
        "-",
        ".",
        "é",
        "\0",
    ];
    for _ in 0..50_000 {
        let input: String = (0..rng.below(40)).map(|_| *rng.pick(&pieces)).collect();
        for format in [Format::Prometheus, Format::OpenMetrics] {
            parse_fully(&input, format);
        }
    }
    // Arbitrary bytes, made valid UTF-8.
    for _ in 0..5_000 {
        let bytes: Vec<u8> = (0..rng.below(200)).map(|_| rng.next() as u8).collect();
        let input = String::from_utf8_lossy(&bytes);
        for format in [Format::Prometheus, Format::OpenMetrics] {
            parse_fully(&input, format);
        }
    }
}

#[test]
fn sample_values_parse_exactly() {
    let mut rng = Rng(0x5EED_0FF1_0A7A_7A7A);
    let mut texts: Vec<String> = [
        "0",
        "-0",
        "007",
        "5.",
        ".5",
        "-.5",
        "+5",
        "1e3",
        "1.5E-3",
        "-1.7976931348623157e308",
        "18446744073709551615",
        "9999999999999999999",
        "99999999999999999999",
        "0.1",
        "-123456789.123456789",
        "1234567890123456789.5",
        "4.9406564584124654e-324",
    ]
    .iter()
    .map(|t| (*t).to_owned())
    .collect();
    for _ in 0..20_000 {
        let v = rng.value();
        if v.is_finite() {
            texts.push(ryu::Buffer::new().format_finite(v).to_owned());
            texts.push(format!("{v}"));
            texts.push(format!("{:.*}", rng.below(12), v));
        }
    }
    for text in &texts {
        let want: f64 = text.parse().unwrap_or(f64::NAN);
        for format in [Format::Prometheus, Format::OpenMetrics] {
            let line = match format {
                Format::Prometheus => format!("a {text}\n"),
                Format::OpenMetrics => format!("a {text}\n# EOF\n"),
            };
            let e = match parse(&line, format) {
                Ok(e) => e,
                Err(err) => panic!("{err}: {text}"),
            };
            assert_eq!(e.samples[0].value.to_bits(), want.to_bits(), "{text}");
        }
    }
}

#[test]
fn large_label_sets_are_checked_for_duplicates() {
    let many: Vec<String> = (0..100).map(|i| format!("l{i}=\"{i}\"")).collect();
    let ok = format!("a{{{}}} 1\n", many.join(","));
    assert_eq!(prom(&ok).samples[0].labels.len(), 100);
    let dup = format!("a{{{},l50=\"x\"}} 1\n", many.join(","));
    let err = error(&dup, Format::Prometheus);
    assert!(err.ends_with("duplicate label name `l50`"), "{err}");
}

#[test]
fn sizes_the_memory_figures_rest_on() {
    // `tests/memory.rs` and the crate docs count on these.
    assert_eq!(std::mem::size_of::<Sample<'_>>(), 80);
    assert_eq!(std::mem::size_of::<MetricFamily<'_>>(), 80);
    assert_eq!(std::mem::size_of::<LabelSet<'_>>(), 24);
}
