//! The OpenMetrics 1.0 text format: single spaces, no blank lines or comments,
//! `# TYPE`, `# HELP` and `# UNIT` metadata, exemplars, and `# EOF` at the end.

use keviq_model::{Format, MetricType, check_family_unit, unit_allowed};

use crate::error::{ErrorReason, Expected, Keyword, NumberField, ParseError, excerpt};
use crate::exposition::{Exemplar, Sample, Timestamp};
use crate::parser::{ParsedLabels, Parser};
use crate::scan::{scan_metric_name, scan_token};

/// The most characters of label names and values an exemplar may carry.
const MAX_EXEMPLAR_CHARS: usize = 128;

impl<'a> Parser<'a> {
    pub(crate) fn run_openmetrics(&mut self) -> Result<(), ParseError> {
        let b = self.b;
        let mut i = 0;
        loop {
            i = match b.get(i) {
                None => return Err(self.err(i, ErrorReason::MissingEof)),
                Some(b'\n') => return Err(self.err(i, ErrorReason::EmptyLine)),
                Some(b'#') => match self.om_descriptor(i)? {
                    Some(next) => next,
                    None => return Ok(()),
                },
                Some(_) => self.om_sample(i)?,
            };
        }
    }

    /// A line starting with `#` at `hash`; `None` for the final `# EOF`.
    fn om_descriptor(&mut self, hash: usize) -> Result<Option<usize>, ParseError> {
        let b = self.b;
        let line = b.get(hash..).unwrap_or(&[]);
        let keyword = if line.starts_with(b"# TYPE ") {
            Keyword::Type
        } else if line.starts_with(b"# HELP ") {
            Keyword::Help
        } else if line.starts_with(b"# UNIT ") {
            Keyword::Unit
        } else if line.starts_with(b"# EOF") {
            let after = hash + 5;
            return match b.get(after) {
                None => Ok(None),
                Some(b'\n') if after + 1 == b.len() => Ok(None),
                Some(b'\n') => Err(self.err(after + 1, ErrorReason::TextAfterEof)),
                Some(_) => Err(self.err(after, ErrorReason::TextAfterEof)),
            };
        } else {
            return Err(self.err(hash, ErrorReason::InvalidComment));
        };

        let name_pos = hash + 7;
        let (name, name_end) = if b.get(name_pos) == Some(&b'"') {
            let labels = self.labels_name(name_pos)?;
            match labels {
                Some(end) => (self.text(name_pos + 1, end), end + 1),
                None => return self.skip_line(name_pos).map(Some),
            }
        } else {
            let end = scan_metric_name(b, name_pos);
            if end == name_pos {
                return Err(self.expected(name_pos, Expected::MetricName));
            }
            (self.text(name_pos, end), end)
        };
        if b.get(name_end) != Some(&b' ') {
            return Err(self.expected(name_end, Expected::Space));
        }
        let text = name_end + 1;
        let family = self.metadata_family(keyword, name, name_pos)?;
        let end = match keyword {
            Keyword::Type => {
                let type_end = scan_token(b, text);
                let word = self.text(text, type_end);
                let Some(kind) = MetricType::from_keyword(word, Format::OpenMetrics) else {
                    let line_end = b
                        .get(text..)
                        .and_then(|rest| rest.iter().position(|&c| c == b'\n'))
                        .map_or(b.len(), |offset| text + offset);
                    let unknown = ErrorReason::UnknownType(excerpt(self.text(text, line_end)));
                    return Err(self.err(text, unknown));
                };
                self.expect_line_end(type_end)?;
                if let Some(f) = family.and_then(|f| self.families.get_mut(f)) {
                    let has_unit = f.unit.is_some();
                    f.kind = kind;
                    if !unit_allowed(kind) && has_unit {
                        self.tolerate(text, ErrorReason::UnitNotAllowed(kind))?;
                    }
                }
                type_end
            }
            Keyword::Help => {
                let (help, end) = self.help_text(text)?;
                if let Some(f) = family.and_then(|f| self.families.get_mut(f)) {
                    f.help = Some(help).filter(|h| !h.is_empty());
                }
                end
            }
            Keyword::Unit => {
                // `*metricname-char`: a metric name, or digits first.
                let mut unit_end = text;
                while matches!(b.get(unit_end), Some(c) if c.is_ascii_alphanumeric() || *c == b'_' || *c == b':')
                {
                    unit_end += 1;
                }
                self.expect_line_end(unit_end)?;
                let unit = self.text(text, unit_end);
                if !unit.is_empty() {
                    if check_family_unit(name, unit).is_err() {
                        let unit = excerpt(unit);
                        let family = excerpt(name);
                        return Err(self.err(text, ErrorReason::UnitNotSuffix { unit, family }));
                    }
                    if let Some(f) = family.and_then(|f| self.families.get_mut(f)) {
                        let kind = f.kind;
                        f.unit = Some(unit);
                        if !unit_allowed(kind) {
                            self.tolerate(text, ErrorReason::UnitNotAllowed(kind))?;
                        }
                    }
                }
                unit_end
            }
        };
        if let Some(meta) = family.and_then(|f| self.meta.get_mut(f)) {
            meta.set(keyword);
        }
        Ok(Some(end + 1))
    }

    /// The quoted metric name of a metadata line, its `"` at `open`: the index of its
    /// closing `"`, or `None` when scrape mode leaves the line out.
    fn labels_name(&mut self, open: usize) -> Result<Option<usize>, ParseError> {
        let (end, escaped) = self.quoted(open)?;
        self.quoted_metadata_name(open, end)?;
        if escaped {
            self.escaped_name(open)?;
            return Ok(None);
        }
        Ok(Some(end))
    }

    /// A sample line starting at `start`.
    #[inline]
    fn om_sample(&mut self, start: usize) -> Result<usize, ParseError> {
        let b = self.b;
        let mut labels = ParsedLabels::default();
        let (name, family, suffix, mut i) = if b.get(start) == Some(&b'{') {
            // `{"name", labels}`: the name first in the braces.
            labels = self.labels(start, true)?;
            let Some((name_start, name_end)) = labels.name else {
                return Err(self.expected(start, Expected::MetricName));
            };
            if let Some(at) = labels.escaped_name {
                self.escaped_name(at)?;
                return self.skip_line(labels.end);
            }
            let name = self.text(name_start, name_end);
            let (family, suffix) = self.sample_family(name, name_start)?;
            (name, family, suffix, labels.end)
        } else {
            let name_end = scan_metric_name(b, start);
            if name_end == start {
                return Err(self.expected(start, Expected::MetricName));
            }
            let name = self.text(start, name_end);
            let (family, suffix) = self.sample_family(name, start)?;
            let mut i = name_end;
            if b.get(i) == Some(&b'{') {
                labels = self.labels(i, false)?;
                i = labels.end;
                if let Some(at) = labels.escaped_name {
                    self.escaped_name(at)?;
                    return self.skip_line(i);
                }
            }
            (name, family, suffix, i)
        };
        let name_pos = labels.name.map_or(start, |(s, _)| s);
        match b.get(i) {
            Some(b' ') => i += 1,
            Some(b'\n') | None => return Err(self.err(i, ErrorReason::MissingValue)),
            Some(_) => return Err(self.expected(i, Expected::Space)),
        }
        if self.at_token_end(i) {
            return Err(match b.get(i) {
                Some(b'\n') | None => self.err(i, ErrorReason::MissingValue),
                Some(_) => self.expected(i, Expected::Number),
            });
        }
        let (value, value_end) = self.number_token(i, NumberField::Value, true)?;
        i = value_end;

        let mut timestamp = None;
        let mut exemplar = None;
        if b.get(i) == Some(&b' ') {
            i += 1;
            if b.get(i) != Some(&b'#') {
                let end = scan_token(b, i);
                if end == i {
                    return Err(self.expected(i, Expected::Number));
                }
                let seconds = self.number(i, end, NumberField::Timestamp, false)?;
                timestamp = Some(Timestamp::Seconds(seconds));
                i = end;
                if b.get(i) == Some(&b' ') {
                    i += 1;
                    if b.get(i) != Some(&b'#') {
                        return Err(self.expected(i, Expected::Exemplar));
                    }
                }
            }
            if b.get(i) == Some(&b'#') {
                let (parsed, end) = self.om_exemplar(i, family, suffix)?;
                exemplar = parsed.map(Box::new);
                i = end;
            }
        }
        self.expect_line_end(i)?;
        self.check_special_labels(family, suffix, &labels, name_pos)?;
        self.note_point(family, &labels);

        self.push_sample(
            Sample {
                name,
                labels: labels.set,
                value,
                timestamp,
                exemplar,
                family,
            },
            start,
        );
        Ok(i + 1)
    }

    /// The exemplar whose `#` is at `hash`; returns it (`None` when scrape mode
    /// leaves it out) and the index just past it.
    fn om_exemplar(
        &mut self,
        hash: usize,
        family: usize,
        suffix: &str,
    ) -> Result<(Option<Exemplar<'a>>, usize), ParseError> {
        let b = self.b;
        if b.get(hash + 1) != Some(&b' ') {
            return Err(self.expected(hash + 1, Expected::Space));
        }
        if b.get(hash + 2) != Some(&b'{') {
            return Err(self.expected(hash + 2, Expected::Exemplar));
        }
        let allowed = match self.families.get(family).map(|f| f.kind) {
            Some(MetricType::Counter) => suffix == "_total",
            Some(MetricType::Histogram | MetricType::GaugeHistogram) => suffix == "_bucket",
            _ => false,
        };
        if !allowed {
            // Prometheus keeps exemplars on any sample.
            self.tolerate(hash, ErrorReason::ExemplarNotAllowed)?;
        }
        let labels = self.labels(hash + 2, false)?;
        let mut keep = true;
        if let Some(at) = labels.escaped_name {
            self.escaped_name(at)?;
            keep = false;
        }
        let chars: usize = labels
            .set
            .iter()
            .map(|(name, value)| name.chars().count() + value.chars().count())
            .sum();
        if chars > MAX_EXEMPLAR_CHARS {
            // Prometheus drops such an exemplar and keeps the sample.
            self.tolerate(hash + 2, ErrorReason::ExemplarTooLong(chars))?;
            keep = false;
        }
        let mut i = labels.end;
        if b.get(i) != Some(&b' ') {
            return Err(self.expected(i, Expected::Space));
        }
        i += 1;
        let value_end = scan_token(b, i);
        if value_end == i {
            return Err(self.expected(i, Expected::Number));
        }
        let value = self.number(i, value_end, NumberField::ExemplarValue, true)?;
        i = value_end;
        let mut timestamp = None;
        if b.get(i) == Some(&b' ') {
            i += 1;
            let end = scan_token(b, i);
            if end == i {
                return Err(self.expected(i, Expected::Number));
            }
            timestamp = Some(self.number(i, end, NumberField::ExemplarTimestamp, false)?);
            i = end;
        }
        let exemplar = keep.then_some(Exemplar {
            labels: labels.set,
            value,
            timestamp,
        });
        Ok((exemplar, i))
    }
}
