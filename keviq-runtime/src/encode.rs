//! Renders metric families as Prometheus text 0.0.4 or OpenMetrics 1.0 text: the
//! [`Encoder`], and [`Collect`], what a metric type implements to be rendered.

use keviq_model::{Format, family_name};

use crate::descriptor::Descriptor;
use crate::exemplar::Exemplar;

/// Something that writes its current samples to an [`Encoder`]. Implemented by every
/// metric type; the registry calls it on each render, after opening the family.
pub trait Collect: Sync {
    /// Writes the samples of the family the encoder has just opened.
    fn collect(&self, enc: &mut Encoder<'_>);
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
        let family = match self.format {
            Format::OpenMetrics => family_name(desc.name, desc.kind),
            Format::Prometheus => desc.name,
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

    /// Writes a counter sample with the current labels and, in OpenMetrics, the
    /// exemplar `exemplar` returns (called only for OpenMetrics: the Prometheus
    /// text format has no exemplars).
    pub fn counter_with_exemplar(
        &mut self,
        value: u64,
        exemplar: impl FnOnce() -> Option<Exemplar>,
    ) {
        self.sample_start("", None);
        self.out.push_str(itoa::Buffer::new().format(value));
        if self.format == Format::OpenMetrics
            && let Some(e) = exemplar()
        {
            write_exemplar(self.out, &e);
        }
        self.out.push('\n');
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
        self.histogram_with_exemplars(bounds, counts, sum, |_| None);
    }

    /// Writes one histogram series like [`histogram`](Self::histogram) and, in
    /// OpenMetrics, on each bucket `i` the exemplar `exemplar(i)` returns (called
    /// only for OpenMetrics).
    pub fn histogram_with_exemplars(
        &mut self,
        bounds: &[f64],
        counts: &[u64],
        sum: f64,
        mut exemplar: impl FnMut(usize) -> Option<Exemplar>,
    ) {
        let exemplars = self.format == Format::OpenMetrics;
        let mut cumulative = 0u64;
        for (i, &c) in counts.iter().enumerate() {
            cumulative = cumulative.wrapping_add(c);
            self.sample_start(
                "_bucket",
                Some(bounds.get(i).copied().unwrap_or(f64::INFINITY)),
            );
            self.out.push_str(itoa::Buffer::new().format(cumulative));
            if exemplars && let Some(e) = exemplar(i) {
                write_exemplar(self.out, &e);
            }
            self.out.push('\n');
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
pub fn write_f64(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else {
        out.push_str(ryu::Buffer::new().format_finite(v));
    }
}

/// ` # {a="x"} value timestamp`: an OpenMetrics exemplar, after a sample's value.
fn write_exemplar(out: &mut String, e: &Exemplar) {
    out.push_str(" # {");
    for (i, (name, value)) in e.labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(name);
        out.push_str("=\"");
        escape_label_value(out, value);
        out.push('"');
    }
    out.push_str("} ");
    write_f64(out, e.value);
    if let Some(t) = e.timestamp {
        out.push(' ');
        write_f64(out, t);
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
