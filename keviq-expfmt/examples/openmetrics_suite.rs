//! The official OpenMetrics parser test suite, run against both modes.
//!
//! The suite is not vendored: pass a checkout's `tests/testdata/parsers`
//! (github.com/prometheus/OpenMetrics) and run
//!
//! ```text
//! cargo run -p keviq-expfmt --example openmetrics_suite -- /path/to/OpenMetrics/tests/testdata/parsers
//! ```
//!
//! Each case is a folder with `metrics` and a `test.json` saying whether it should
//! parse. Strict mode must agree with every case; scrape mode must accept every
//! valid case (and may accept invalid ones, with findings).

use std::path::Path;

use keviq_expfmt::{Format, Mode, parse_with};

struct Case {
    name: String,
    should_parse: bool,
    /// `None`: not UTF-8, which no mode accepts.
    text: Option<String>,
}

fn cases(dir: &Path) -> Vec<Case> {
    let mut cases = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        panic!("cannot read {}", dir.display());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(spec) = std::fs::read_to_string(path.join("test.json")) else {
            continue;
        };
        let spec: String = spec.split_whitespace().collect();
        let should_parse = spec.contains("\"shouldParse\":true");
        assert!(
            should_parse || spec.contains("\"shouldParse\":false"),
            "{spec}"
        );
        assert!(spec.contains("\"type\":\"text\""), "{spec}");
        let bytes = std::fs::read(path.join("metrics")).unwrap_or_default();
        cases.push(Case {
            name: entry.file_name().to_string_lossy().into_owned(),
            should_parse,
            text: String::from_utf8(bytes).ok(),
        });
    }
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

fn accepts(case: &Case, mode: Mode) -> Result<(), String> {
    match &case.text {
        None => Err("not UTF-8".to_owned()),
        Some(text) => parse_with(text, Format::OpenMetrics, mode)
            .map(|_| ())
            .map_err(|e| e.to_string()),
    }
}

fn main() {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: openmetrics_suite <OpenMetrics checkout>/tests/testdata/parsers");
        std::process::exit(2);
    };
    let cases = cases(Path::new(&dir));
    assert!(!cases.is_empty());
    let mut strict_agree = 0;
    let mut unexpected = Vec::new();
    let mut scrape_accepts_bad = Vec::new();
    for case in &cases {
        let strict = accepts(case, Mode::Strict);
        if strict.is_ok() == case.should_parse {
            strict_agree += 1;
        } else {
            unexpected.push(format!("strict {}: {strict:?}", case.name));
        }
        let scrape = accepts(case, Mode::Scrape);
        match (case.should_parse, scrape) {
            (true, Err(e)) => unexpected.push(format!("scrape rejects {}: {e}", case.name)),
            (false, Ok(())) => scrape_accepts_bad.push(case.name.as_str()),
            _ => {}
        }
    }
    println!(
        "strict mode agrees with {strict_agree} of {} cases",
        cases.len()
    );
    println!(
        "scrape mode accepts {} invalid cases (with findings): {}",
        scrape_accepts_bad.len(),
        scrape_accepts_bad.join(" ")
    );
    assert!(unexpected.is_empty(), "{unexpected:#?}");
    assert_eq!(strict_agree, cases.len());
}
