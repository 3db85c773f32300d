//! Exemplars in the exposition: the exact OpenMetrics text of counters and
//! histograms with exemplars (unlabeled and labeled), the Prometheus text unchanged
//! by them, and recording while rendering never tears one.

use std::time::{SystemTime, UNIX_EPOCH};

use keviq::{ExemplarError, ExemplarLabels, Format, Registry};

keviq::metric! {
    /// A set with every kind that takes exemplars; each test renders its own.
    struct ExemplarMetrics {
        /// Jobs that failed
        failures: Counter = "golden_ex_failures_total",
        /// Requests by path
        requests: Counter(path: &str) = "golden_ex_requests_total",
        /// Time waiting for a worker
        #[metric(buckets = [1, 10], unit = "ms")]
        wait: Histogram = "golden_ex_wait_ms",
        /// Job duration by queue
        #[metric(buckets = [1, 10], unit = "ms")]
        job: Histogram(queue: &str) = "golden_ex_job_ms",
    }
}

fn registry(set: &'static ExemplarMetrics) -> Registry {
    Registry::from_registrations(&set.registrations()).expect("no clash")
}

/// Now, to the millisecond, as exemplars are stamped.
fn now() -> f64 {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis();
    ms as f64 / 1e3
}

fn labels<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> ExemplarLabels {
    ExemplarLabels::new(pairs).expect("within budget")
}

/// `text` with each exemplar timestamp checked to lie in `[from, to]` and replaced
/// by `<ts>`.
fn stamp_free(text: &str, from: f64, to: f64) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.contains(" # {") {
            let (rest, ts) = line.rsplit_once(' ').expect("a timestamp");
            let decimals = ts.split_once('.').map_or(0, |(_, d)| d.len());
            assert!(decimals <= 3, "milliseconds at most: {line}");
            let ts: f64 = ts.parse().expect("a float timestamp");
            assert!(from <= ts && ts <= to, "{ts} not in [{from}, {to}]: {line}");
            out.push_str(rest);
            out.push_str(" <ts>");
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// Records the same values into `set`, with exemplars when `with`.
fn record(set: &ExemplarMetrics, with: bool) {
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    if with {
        set.failures
            .inc_with_exemplar(&labels([("request_id", "r-1")]));
    } else {
        set.failures.inc();
    }
    set.failures.inc_by(2);
    let a = set.requests.labels("/a");
    if with {
        a.inc_by_with_exemplar(5, &labels([("request_id", "r-2"), ("trace_id", trace)]));
    } else {
        a.inc_by(5);
    }
    set.requests.labels("/b").inc();
    for (v, id) in [(0.5, "r-3"), (50.0, "r-4")] {
        if with {
            set.wait
                .observe_with_exemplar(v, &labels([("request_id", id)]));
        } else {
            set.wait.observe(v);
        }
    }
    set.wait.observe(5.0);
    let job = set.job.labels("q");
    if with {
        job.observe_with_exemplar(7.0, &labels([("request_id", "a\"b\\c\nd é")]));
        job.observe_with_exemplar(8.0, &labels([("request_id", "latest")]));
        // NaN is ignored, exemplar included.
        job.observe_with_exemplar(f64::NAN, &labels([("request_id", "nan")]));
    } else {
        job.observe(7.0);
        job.observe(8.0);
    }
}

#[test]
fn openmetrics_renders_exemplars_exactly() {
    static SET: ExemplarMetrics = ExemplarMetrics::new();
    let from = now();
    record(&SET, true);
    let to = now();
    let text = registry(&SET).render(Format::OpenMetrics);
    assert_eq!(
        stamp_free(&text, from, to),
        r#"# HELP golden_ex_failures Jobs that failed
# TYPE golden_ex_failures counter
golden_ex_failures_total 3 # {request_id="r-1"} 1.0 <ts>
# HELP golden_ex_job_ms Job duration by queue
# TYPE golden_ex_job_ms histogram
# UNIT golden_ex_job_ms ms
golden_ex_job_ms_bucket{queue="q",le="1.0"} 0
golden_ex_job_ms_bucket{queue="q",le="10.0"} 2 # {request_id="latest"} 8.0 <ts>
golden_ex_job_ms_bucket{queue="q",le="+Inf"} 2
golden_ex_job_ms_sum{queue="q"} 15.0
golden_ex_job_ms_count{queue="q"} 2
# HELP golden_ex_requests Requests by path
# TYPE golden_ex_requests counter
golden_ex_requests_total{path="/a"} 5 # {request_id="r-2",trace_id="4bf92f3577b34da6a3ce929d0e0e4736"} 5.0 <ts>
golden_ex_requests_total{path="/b"} 1
# HELP golden_ex_wait_ms Time waiting for a worker
# TYPE golden_ex_wait_ms histogram
# UNIT golden_ex_wait_ms ms
golden_ex_wait_ms_bucket{le="1.0"} 1 # {request_id="r-3"} 0.5 <ts>
golden_ex_wait_ms_bucket{le="10.0"} 2
golden_ex_wait_ms_bucket{le="+Inf"} 3 # {request_id="r-4"} 50.0 <ts>
golden_ex_wait_ms_sum 55.5
golden_ex_wait_ms_count 3
# EOF
"#
    );

    // The readers' view of the same exemplars.
    let kept = SET.job.labels("q").exemplar(1).expect("an exemplar");
    assert_eq!(kept.labels.get("request_id"), Some("latest"));
    assert_eq!(kept.value, 8.0);
    assert!(kept.timestamp.is_some_and(|t| from <= t && t <= to));
    assert_eq!(SET.wait.exemplar(1), None);
    assert_eq!(SET.failures.exemplar().map(|e| e.value), Some(1.0));
}

#[test]
fn escaping_in_exemplar_labels_matches_series_labels() {
    static SET: ExemplarMetrics = ExemplarMetrics::new();
    SET.job
        .labels("q")
        .observe_with_exemplar(7.0, &labels([("request_id", "a\"b\\c\nd é")]));
    let text = registry(&SET).render(Format::OpenMetrics);
    assert!(
        text.contains(
            "golden_ex_job_ms_bucket{queue=\"q\",le=\"10.0\"} 1 # {request_id=\"a\\\"b\\\\c\\nd é\"} 7.0 "
        ),
        "{text}"
    );
}

#[test]
fn prometheus_text_is_unchanged_by_exemplars() {
    static WITH: ExemplarMetrics = ExemplarMetrics::new();
    static WITHOUT: ExemplarMetrics = ExemplarMetrics::new();
    record(&WITH, true);
    record(&WITHOUT, false);
    let (with, without) = (registry(&WITH), registry(&WITHOUT));
    let prometheus = with.render(Format::Prometheus);
    assert_eq!(prometheus, without.render(Format::Prometheus));
    assert!(!prometheus.contains(" # {"));
    assert!(prometheus.contains("golden_ex_failures_total 3\n"));

    // And OpenMetrics differs only by the exemplars after the values.
    let stripped: String = with
        .render(Format::OpenMetrics)
        .lines()
        .map(|l| l.split(" # {").next().unwrap_or(l).to_owned() + "\n")
        .collect();
    assert_eq!(stripped, without.render(Format::OpenMetrics));
}

#[test]
fn the_label_budget_is_openmetrics_128_characters() {
    // 10 + 118 = 128: the most a `request_id` label can hold.
    let id = "r".repeat(118);
    let set = labels([("request_id", id.as_str())]);
    assert_eq!(set.chars(), ExemplarLabels::MAX_CHARS);

    let id = "r".repeat(119);
    let err = ExemplarLabels::new([("request_id", id.as_str())]).unwrap_err();
    assert_eq!(
        err,
        ExemplarError::TooLong {
            bytes: 129,
            chars: 129
        }
    );
    assert_eq!(
        err.to_string(),
        "exemplar labels take 129 bytes (129 characters) of names and values; at most 128 \
         fit (OpenMetrics allows 128 characters, keviq stores 128 bytes)"
    );
    // Names count too.
    let value = "v".repeat(100);
    assert!(ExemplarLabels::new([("a_rather_long_label_name_here", value.as_str())]).is_err());
}

/// Parses ` # {k="..",pad=".."} value ts` at the end of an exposition line.
fn exemplar_of(line: &str) -> Option<(u64, usize, f64)> {
    let (_, exemplar) = line.split_once(" # {")?;
    let (labels, rest) = exemplar.split_once("} ")?;
    let mut k = None;
    let mut pad = None;
    for pair in labels.split(',') {
        let (name, value) = pair.split_once('=')?;
        let value = value.trim_matches('"');
        match name {
            "k" => k = value.parse::<u64>().ok(),
            "pad" => pad = Some(value.len()),
            _ => return None,
        }
    }
    let value: f64 = rest.split(' ').next()?.parse().ok()?;
    Some((k?, pad?, value))
}

#[test]
fn recording_while_rendering_never_tears_an_exemplar() {
    static SET: ExemplarMetrics = ExemplarMetrics::new();
    let registry = registry(&SET);
    const WRITERS: u64 = 4;
    const ROUNDS: u64 = 20_000;
    let done = std::sync::atomic::AtomicU64::new(0);
    let mut checked = 0usize;
    std::thread::scope(|s| {
        for w in 0..WRITERS {
            let done = &done;
            s.spawn(move || {
                let job = SET.job.labels("q");
                let requests = SET.requests.labels("/a");
                for i in 0..ROUNDS {
                    let k = w * ROUNDS + i;
                    // The label set and the value both follow from `k`, in
                    // lengths that vary, so a torn copy would show.
                    let pad = "x".repeat((k % 97) as usize);
                    let key = k.to_string();
                    let labels = labels([("k", key.as_str()), ("pad", pad.as_str())]);
                    job.observe_with_exemplar((k % 20) as f64, &labels);
                    SET.wait.observe_with_exemplar((k % 20) as f64, &labels);
                    requests.inc_by_with_exemplar(k, &labels);
                    SET.failures.inc_by_with_exemplar(k, &labels);
                }
                done.fetch_add(1, std::sync::atomic::Ordering::Release);
            });
        }
        // Renders while the writers run; bounded, and at least a few times.
        for round in 0..100_000 {
            let finished = done.load(std::sync::atomic::Ordering::Acquire) == WRITERS;
            if finished && round > 10 {
                break;
            }
            let text = registry.render(Format::OpenMetrics);
            for line in text.lines().filter(|l| l.contains(" # {")) {
                let (k, pad, value) =
                    exemplar_of(line).unwrap_or_else(|| panic!("unreadable exemplar: {line}"));
                assert_eq!(pad, (k % 97) as usize, "torn: {line}");
                let expected = if line.contains("_total") {
                    k as f64
                } else {
                    (k % 20) as f64
                };
                assert_eq!(value, expected, "torn: {line}");
                if line.contains("le=\"1.0\"") {
                    assert!(value <= 1.0, "{line}");
                } else if line.contains("le=\"10.0\"") {
                    assert!(1.0 < value && value <= 10.0, "{line}");
                } else if line.contains("le=\"+Inf\"") {
                    assert!(10.0 < value, "{line}");
                }
                checked += 1;
            }
        }
    });
    assert!(checked > 0);
    assert_eq!(SET.failures.get(), (0..WRITERS * ROUNDS).sum::<u64>());
    assert_eq!(SET.wait.count(), WRITERS * ROUNDS);
}
