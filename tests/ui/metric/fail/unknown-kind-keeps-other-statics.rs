// An unknown kind is the only error: the static keeps a best-effort type (a
// `Summary` observes, like a histogram), so its uses and the other statics of
// the block still compile.
keviq::metric! {
    /// Request duration
    pub static DURATION: Summary = "request_duration_ms";

    /// Requests
    pub static REQUESTS: Counter(path: &str) = "requests_total";
}

fn main() {
    DURATION.observe(1.0);
    REQUESTS.labels("/").inc();
}
