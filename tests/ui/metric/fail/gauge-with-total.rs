keviq::metric! {
    /// Requests in flight
    pub static IN_FLIGHT: Gauge = "mona_http_in_flight_total";
}

fn main() {}
