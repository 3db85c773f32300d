//! A variant's `#[label(rename = "...")]` is its text as written, whatever the
//! enum's `rename_all` rule; the options may share one attribute list or be split
//! across several.

#[derive(keviq::LabelValue)]
#[label(rename_all = "kebab-case")]
enum Outcome {
    ToolCall,
    #[label(rename = "failed")]
    Error,
    #[label(rename = "Timed_Out")]
    TimedOut,
}

#[derive(keviq::LabelValue)]
#[label()]
#[label(rename_all = "SCREAMING_SNAKE_CASE")]
enum Level {
    LowWater,
    #[label(rename = "high")]
    HighWater,
}

keviq::metric! {
    /// Jobs finished, by outcome
    static JOBS: Counter(outcome: Outcome, level: Level) = "label_value_rule_jobs_total";
}

fn main() {
    JOBS.labels(Outcome::ToolCall, Level::LowWater).inc();
    JOBS.labels(Outcome::Error, Level::HighWater).inc();
    JOBS.labels(Outcome::TimedOut, Level::LowWater).inc();
    let text = keviq::Registry::global()
        .expect("no clash")
        .render(keviq::Format::Prometheus);
    for (outcome, level) in [
        ("tool-call", "LOW_WATER"),
        ("failed", "high"),
        ("Timed_Out", "LOW_WATER"),
    ] {
        let line =
            format!("label_value_rule_jobs_total{{outcome=\"{outcome}\",level=\"{level}\"}} 1\n");
        assert!(text.contains(&line), "{text}");
    }
}
