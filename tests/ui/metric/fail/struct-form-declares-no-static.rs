keviq::metric! {
    /// HTTP metrics of one service: each service makes and registers its own.
    pub struct HttpMetrics {
        /// Requests served
        requests: Counter = "struct_form_requests_total",
    }
}

fn main() {
    HTTP.requests.inc();
}
