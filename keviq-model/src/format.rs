//! The two exposition formats, and how HTTP negotiates between them.

/// An exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// Prometheus text format 0.0.4.
    #[default]
    Prometheus,
    /// OpenMetrics 1.0 text format.
    OpenMetrics,
}

impl Format {
    /// The `Content-Type` a `/metrics` response in this format carries.
    pub const fn content_type(self) -> &'static str {
        match self {
            Self::Prometheus => "text/plain; version=0.0.4; charset=utf-8",
            Self::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }

    /// The format a scraper asks for in its `Accept` header: OpenMetrics when it
    /// lists `application/openmetrics-text` with a `q` above that of any text
    /// alternative, as Prometheus does; the Prometheus text format otherwise
    /// (including for a missing or unparsable header).
    ///
    /// ```
    /// use keviq_model::Format;
    /// let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    /// assert_eq!(Format::from_accept(prometheus), Format::OpenMetrics);
    /// assert_eq!(Format::from_accept("text/plain"), Format::Prometheus);
    /// assert_eq!(Format::from_accept("*/*"), Format::Prometheus);
    /// ```
    pub fn from_accept(accept: &str) -> Self {
        let mut best_om: f32 = 0.0;
        let mut best_text: f32 = 0.0;
        for range in accept.split(',') {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or("").to_ascii_lowercase();
            let mut q = 1.0f32;
            let mut version_ok = true;
            for param in parts {
                let (k, v) = param.split_once('=').unwrap_or((param, ""));
                match k.trim().to_ascii_lowercase().as_str() {
                    "q" => q = v.trim().parse().unwrap_or(0.0),
                    // We speak OpenMetrics 1.0.0 only.
                    "version" if media == "application/openmetrics-text" => {
                        version_ok = v.trim().starts_with("1.")
                    }
                    _ => {}
                }
            }
            match media.as_str() {
                "application/openmetrics-text" if version_ok => best_om = best_om.max(q),
                "text/plain" | "text/*" | "*/*" => best_text = best_text.max(q),
                _ => {}
            }
        }
        if best_om > 0.0 && best_om >= best_text {
            Self::OpenMetrics
        } else {
            Self::Prometheus
        }
    }

    /// The format a response's `Content-Type` announces: OpenMetrics for the media
    /// type `application/openmetrics-text` (whatever its parameters), the Prometheus
    /// text format otherwise, as Prometheus falls back to it.
    ///
    /// ```
    /// use keviq_model::Format;
    /// assert_eq!(
    ///     Format::from_content_type("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    ///     Format::OpenMetrics,
    /// );
    /// assert_eq!(Format::from_content_type("text/plain; version=0.0.4"), Format::Prometheus);
    /// assert_eq!(Format::from_content_type(""), Format::Prometheus);
    /// ```
    pub fn from_content_type(content_type: &str) -> Self {
        let media = content_type.split(';').next().unwrap_or("").trim();
        if media.eq_ignore_ascii_case("application/openmetrics-text") {
            Self::OpenMetrics
        } else {
            Self::Prometheus
        }
    }
}
