//! A fieldless enum is a label type; `#[label(rename = "..")]` sets a value's text,
//! and the others are their names in snake case.

#[derive(keviq::LabelValue)]
enum Outcome {
    Ok,
    ToolCall,
    #[label(rename = "failed")]
    Error,
}

keviq::metric! {
    /// Jobs finished, by outcome
    static JOBS: Counter(outcome: Outcome) = "label_value_jobs_total";
}

fn main() {
    JOBS.labels(Outcome::Ok).inc();
    JOBS.labels(Outcome::ToolCall).inc();
    JOBS.labels(Outcome::Error).inc();
    let text = keviq::Registry::global()
        .expect("no clash")
        .render(keviq::Format::Prometheus);
    for value in ["ok", "tool_call", "failed"] {
        let line = format!("label_value_jobs_total{{outcome=\"{value}\"}} 1\n");
        assert!(text.contains(&line), "{text}");
    }
}
