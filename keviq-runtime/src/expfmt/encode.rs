//! Renders metric families as Prometheus text 0.0.4 or OpenMetrics 1.0 text.

use crate::MetricKind;
use crate::registry::Descriptor;

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
    /// use keviq_runtime::Format;
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
}

/// Writes families into a `String`. The registry opens each family with
/// [`Encoder::family`]; metric types then write their samples.
#[derive(Debug)]
pub struct Encoder<'a> {
    out: &'a mut String,
    format: Format,
    name: &'static str,
    label_names: &'static [&'static str],
    /// The current series' labels, rendered and escaped: `a="x",b="y"`.
    labels: String,
    /// `,name="` for each label of the current family, back to back.
    prefixes: String,
    /// End of each label's prefix in `prefixes`.
    prefix_ends: Vec<usize>,
}

impl<'a> Encoder<'a> {
    /// An encoder appending to `out`.
    pub fn new(out: &'a mut String, format: Format) -> Self {
        Self {
            out,
            format,
            name: "",
            label_names: &[],
            labels: String::with_capacity(128),
            prefixes: String::new(),
            prefix_ends: Vec::new(),
        }
    }

    /// The format being written.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Opens a family: writes its `# HELP`, `# TYPE` and (OpenMetrics) `# UNIT` lines.
    pub fn family(&mut self, desc: &Descriptor) {
        self.name = desc.name;
        self.label_names = desc.labels;
        self.prefixes.clear();
        self.prefix_ends.clear();
        for name in desc.labels {
            self.prefixes.push(',');
            self.prefixes.push_str(name);
            self.prefixes.push_str("=\"");
            self.prefix_ends.push(self.prefixes.len());
        }
        let family = match (self.format, desc.kind) {
            (Format::OpenMetrics, MetricKind::Counter) => {
                desc.name.strip_suffix("_total").unwrap_or(desc.name)
            }
            _ => desc.name,
        };
        let out = &mut *self.out;
        if !desc.help.is_empty() {
            out.push_str("# HELP ");
            out.push_str(family);
            out.push(' ');
            escape(out, desc.help, self.format == Format::OpenMetrics);
            out.push('\n');
        }
        out.push_str("# TYPE ");
        out.push_str(family);
        out.push(' ');
        out.push_str(desc.kind.as_str());
        out.push('\n');
        if let (Format::OpenMetrics, Some(unit)) = (self.format, desc.unit) {
            out.push_str("# UNIT ");
            out.push_str(family);
            out.push(' ');
            out.push_str(unit);
            out.push('\n');
        }
    }

    /// Forgets the labels of the previous series.
    #[inline]
    pub fn clear_labels(&mut self) {
        self.labels.clear();
    }

    /// Adds a label by position in the family's declared label names.
    #[inline]
    pub fn label_at(&mut self, index: usize, value: &str) {
        let end = self.prefix_ends.get(index).copied().unwrap_or(0);
        let start = if index == 0 {
            0
        } else {
            self.prefix_ends.get(index - 1).copied().unwrap_or(0)
        };
        match self.prefixes.get(start..end) {
            Some(prefix) if !prefix.is_empty() => {
                // The first label of a series has no comma before it.
                self.labels.push_str(if self.labels.is_empty() {
                    &prefix[1..]
                } else {
                    prefix
                });
                escape_label_value(&mut self.labels, value);
                self.labels.push('"');
            }
            _ => {
                let name = self.label_names.get(index).copied().unwrap_or("label");
                self.label(name, value);
            }
        }
    }

    /// Adds a label to the current series. The value is escaped here.
    #[inline]
    pub fn label(&mut self, name: &str, value: &str) {
        if !self.labels.is_empty() {
            self.labels.push(',');
        }
        self.labels.push_str(name);
        self.labels.push_str("=\"");
        escape_label_value(&mut self.labels, value);
        self.labels.push('"');
    }

    fn sample_start(&mut self, suffix: &str, le: Option<f64>) {
        let out = &mut *self.out;
        out.push_str(self.name);
        out.push_str(suffix);
        if !self.labels.is_empty() || le.is_some() {
            out.push('{');
            out.push_str(&self.labels);
            if let Some(le) = le {
                if !self.labels.is_empty() {
                    out.push(',');
                }
                out.push_str("le=\"");
                write_f64(out, le);
                out.push('"');
            }
            out.push('}');
        }
        out.push(' ');
    }

    fn write_u64(&mut self, v: u64) {
        self.out.push_str(itoa::Buffer::new().format(v));
        self.out.push('\n');
    }

    /// Writes a counter sample with the current labels.
    pub fn counter(&mut self, value: u64) {
        self.sample_start("", None);
        self.write_u64(value);
    }

    /// Writes an integer gauge sample with the current labels.
    pub fn gauge_i64(&mut self, value: i64) {
        self.sample_start("", None);
        self.out.push_str(itoa::Buffer::new().format(value));
        self.out.push('\n');
    }

    /// Writes a float gauge sample with the current labels.
    pub fn gauge_f64(&mut self, value: f64) {
        self.sample_start("", None);
        write_f64(self.out, value);
        self.out.push('\n');
    }

    /// Writes one histogram series: `counts[i]` observations fell in bucket `i`
    /// (not cumulative); `counts[bounds.len()]` is the `+Inf` bucket.
    pub fn histogram(&mut self, bounds: &[f64], counts: &[u64], sum: f64) {
        let mut cumulative = 0u64;
        for (i, &c) in counts.iter().enumerate() {
            cumulative = cumulative.wrapping_add(c);
            self.sample_start(
                "_bucket",
                Some(bounds.get(i).copied().unwrap_or(f64::INFINITY)),
            );
            self.write_u64(cumulative);
        }
        self.sample_start("_sum", None);
        write_f64(self.out, sum);
        self.out.push('\n');
        self.sample_start("_count", None);
        self.write_u64(cumulative);
    }

    /// Ends the exposition (`# EOF` in OpenMetrics).
    pub fn finish(self) {
        if self.format == Format::OpenMetrics {
            self.out.push_str("# EOF\n");
        }
    }
}

/// Writes a float the way both formats read it back exactly: shortest round-trip
/// digits, `+Inf`, `-Inf`, `NaN`.
pub(crate) fn write_f64(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else {
        out.push_str(ryu::Buffer::new().format_finite(v));
    }
}

#[inline]
fn escape_label_value(out: &mut String, value: &str) {
    if !value.bytes().any(|b| matches!(b, b'\\' | b'"' | b'\n')) {
        out.push_str(value);
        return;
    }
    escape(out, value, true);
}

/// Escapes `\` and line feeds, and `"` when `quote` (label values in both formats;
/// HELP text in OpenMetrics, but not in Prometheus 0.0.4, which keeps `"` as is).
fn escape(out: &mut String, text: &str, quote: bool) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quote => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_per_format() {
        let mut s = String::new();
        escape(&mut s, "a\\b\"c\nd é", false);
        assert_eq!(s, "a\\\\b\"c\\nd é");
        s.clear();
        escape(&mut s, "a\\b\"c\nd é", true);
        assert_eq!(s, "a\\\\b\\\"c\\nd é");
    }

    #[test]
    fn floats() {
        let mut s = String::new();
        for v in [
            0.0,
            2.5,
            1e21,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            -0.1,
        ] {
            write_f64(&mut s, v);
            s.push(' ');
        }
        assert_eq!(s, "0.0 2.5 1e21 +Inf -Inf NaN -0.1 ");
    }

    #[test]
    fn accept_negotiation() {
        assert_eq!(Format::from_accept(""), Format::Prometheus);
        assert_eq!(
            Format::from_accept("application/openmetrics-text"),
            Format::OpenMetrics
        );
        assert_eq!(
            Format::from_accept("application/openmetrics-text; version=0.0.1"),
            Format::Prometheus
        );
        assert_eq!(
            Format::from_accept("text/plain;q=0.9, application/openmetrics-text;q=0.5"),
            Format::Prometheus
        );
        assert_eq!(
            Format::from_accept("application/openmetrics-text;q=bogus"),
            Format::Prometheus
        );
    }
}
